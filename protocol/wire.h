#pragma once

// Primitive MySQL wire types: fixed-width little-endian integers, length-encoded integers and
// strings, NUL-terminated strings. A Reader borrows the bytes it reads; a Writer appends to a
// buffer its caller owns.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.h"

namespace replproxy::protocol {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Reads from a borrowed span. Running past the end gives not_enough_input, so decoders built on it
// satisfy "every strict prefix of a valid message is incomplete"; a caller that knows its payload
// is complete turns that into invalid_input.
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}

  Result<uint8_t> u8();
  Result<uint16_t> u16();
  Result<uint32_t> u24();
  Result<uint32_t> u32();
  Result<uint64_t> u48();
  Result<uint64_t> u64();
  // Length-encoded integer: < 0xfb is one byte, 0xfc + 2, 0xfd + 3, 0xfe + 8 bytes. 0xfb (NULL)
  // and 0xff are not integers and give invalid_input.
  Result<uint64_t> lenenc_int();
  Result<std::string_view> lenenc_string();
  Result<std::string_view> nul_string();
  Result<std::string_view> fixed_string(size_t n);
  Result<ByteView> bytes(size_t n);
  Result<void> skip(size_t n);
  // Whatever is left (string<EOF>).
  std::string_view rest_string();
  ByteView rest();

  std::optional<uint8_t> peek() const {
    return pos_ < data_.size() ? std::optional<uint8_t>(data_[pos_]) : std::nullopt;
  }
  size_t remaining() const { return data_.size() - pos_; }
  size_t consumed() const { return pos_; }
  bool empty() const { return pos_ == data_.size(); }

 private:
  Result<uint64_t> fixed(size_t width);

  ByteView data_;
  size_t pos_ = 0;
};

// Appends to a caller-owned buffer.
class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  Writer& u8(uint8_t v);
  Writer& u16(uint16_t v);
  Writer& u24(uint32_t v);
  Writer& u32(uint32_t v);
  Writer& u48(uint64_t v);
  Writer& u64(uint64_t v);
  Writer& lenenc_int(uint64_t v);
  Writer& lenenc_string(std::string_view s);
  Writer& nul_string(std::string_view s);
  Writer& raw(std::string_view s);
  Writer& raw(ByteView b);
  Writer& zeros(size_t n);

  Bytes& buffer() { return out_; }

 private:
  Writer& fixed(uint64_t v, size_t width);

  Bytes& out_;
};

// Size of a length-encoded integer on the wire.
size_t lenenc_int_size(uint64_t v);

}  // namespace replproxy::protocol
