#pragma once

// Internal to protocol/: a Reader that remembers the first error, so a decoder reads its layout
// table top to bottom and checks once at the end instead of after every field. After an error,
// every read returns a default value and consumes nothing; the first error is the one reported,
// so running out of bytes before an impossible value is seen still says not_enough_input.

#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "protocol/wire.h"

namespace replproxy::protocol {

class FieldReader {
 public:
  explicit FieldReader(ByteView data) : r_(data) {}

  uint8_t u8() { return failed() ? 0 : take(r_.u8()); }
  uint16_t u16() { return failed() ? 0 : take(r_.u16()); }
  uint32_t u24() { return failed() ? 0 : take(r_.u24()); }
  uint32_t u32() { return failed() ? 0 : take(r_.u32()); }
  uint64_t u64() { return failed() ? 0 : take(r_.u64()); }
  uint64_t lenenc_int() { return failed() ? 0 : take(r_.lenenc_int()); }
  std::string_view lenenc_string() {
    return failed() ? std::string_view() : take(r_.lenenc_string());
  }
  std::string_view nul_string() { return failed() ? std::string_view() : take(r_.nul_string()); }
  std::string_view fixed_string(size_t n) {
    return failed() ? std::string_view() : take(r_.fixed_string(n));
  }
  ByteView bytes(size_t n) { return failed() ? ByteView() : take(r_.bytes(n)); }
  void skip(size_t n) {
    if (!failed()) {
      take_void(r_.skip(n));
    }
  }
  std::string_view rest_string() { return failed() ? std::string_view() : r_.rest_string(); }
  ByteView rest() { return failed() ? ByteView() : r_.rest(); }
  std::optional<uint8_t> peek() const { return failed() ? std::nullopt : r_.peek(); }

  // True when nothing is left to read (or reading has already failed).
  bool at_end() const { return failed() || r_.empty(); }

  // Merges the result of a nested decoder into this reader's error state.
  template <class T>
  T take(Result<T> result) {
    if (failed()) {
      return T{};
    }
    if (!result) {
      error_ = result.error();
      return T{};
    }
    return std::move(*result);
  }

  void fail(CodecErrc e) {
    if (!failed()) {
      error_ = make_error_code(e);
    }
  }
  // A complete message must use every byte; leftovers mean the layout was misread.
  void expect_end() {
    if (!r_.empty()) {
      fail(CodecErrc::invalid_input);
    }
  }

  bool failed() const { return static_cast<bool>(error_); }

  // The decoded message, or the first error.
  template <class T>
  Result<std::decay_t<T>> finish(T&& value) {
    if (failed()) {
      return std::unexpected(error_);
    }
    return std::forward<T>(value);
  }

 private:
  void take_void(Result<void> result) {
    if (!result) {
      error_ = result.error();
    }
  }

  Reader r_;
  std::error_code error_;
};

}  // namespace replproxy::protocol
