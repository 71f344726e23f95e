#pragma once

#include <expected>
#include <system_error>

namespace replproxy::protocol {

// Errors of the wire codec. Incomplete input is not malformed input: a decoder that runs out of
// bytes says not_enough_input (the caller waits for more), one that sees bytes that cannot be a
// valid message says invalid_input (the caller closes that connection and counts it).
enum class CodecErrc {
  not_enough_input = 1,
  invalid_input,
  sequence_mismatch,
  unsupported,
};

const std::error_category& codec_category() noexcept;

inline std::error_code make_error_code(CodecErrc e) noexcept {
  return {static_cast<int>(e), codec_category()};
}

template <class T>
using Result = std::expected<T, std::error_code>;

inline std::unexpected<std::error_code> fail(CodecErrc e) {
  return std::unexpected(make_error_code(e));
}

}  // namespace replproxy::protocol

template <>
struct std::is_error_code_enum<replproxy::protocol::CodecErrc> : std::true_type {};
