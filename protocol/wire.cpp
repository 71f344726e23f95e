#include "protocol/wire.h"

namespace replproxy::protocol {
namespace {

// g++ 12's std::expected has no transform(); this narrows a successful fixed-width read.
template <class T>
Result<T> narrow(Result<uint64_t> r) {
  if (!r) {
    return std::unexpected(r.error());
  }
  return static_cast<T>(*r);
}

}  // namespace

Result<uint64_t> Reader::fixed(size_t width) {
  if (remaining() < width) {
    return fail(CodecErrc::not_enough_input);
  }
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) {
    v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
  }
  pos_ += width;
  return v;
}

Result<uint8_t> Reader::u8() {
  return narrow<uint8_t>(fixed(1));
}
Result<uint16_t> Reader::u16() {
  return narrow<uint16_t>(fixed(2));
}
Result<uint32_t> Reader::u24() {
  return narrow<uint32_t>(fixed(3));
}
Result<uint32_t> Reader::u32() {
  return narrow<uint32_t>(fixed(4));
}
Result<uint64_t> Reader::u48() { return fixed(6); }
Result<uint64_t> Reader::u64() { return fixed(8); }

Result<uint64_t> Reader::lenenc_int() {
  auto first = peek();
  if (!first) {
    return fail(CodecErrc::not_enough_input);
  }
  switch (*first) {
    case 0xfb:
    case 0xff:
      return fail(CodecErrc::invalid_input);
    case 0xfc: {
      if (remaining() < 3) return fail(CodecErrc::not_enough_input);
      ++pos_;
      return fixed(2);
    }
    case 0xfd: {
      if (remaining() < 4) return fail(CodecErrc::not_enough_input);
      ++pos_;
      return fixed(3);
    }
    case 0xfe: {
      if (remaining() < 9) return fail(CodecErrc::not_enough_input);
      ++pos_;
      return fixed(8);
    }
    default:
      ++pos_;
      return *first;
  }
}

Result<std::string_view> Reader::fixed_string(size_t n) {
  if (remaining() < n) {
    return fail(CodecErrc::not_enough_input);
  }
  std::string_view s(reinterpret_cast<const char*>(data_.data() + pos_), n);
  pos_ += n;
  return s;
}

Result<ByteView> Reader::bytes(size_t n) {
  if (remaining() < n) {
    return fail(CodecErrc::not_enough_input);
  }
  ByteView b = data_.subspan(pos_, n);
  pos_ += n;
  return b;
}

Result<std::string_view> Reader::lenenc_string() {
  const size_t start = pos_;
  auto len = lenenc_int();
  if (!len) {
    return std::unexpected(len.error());
  }
  if (*len > remaining()) {
    pos_ = start;
    return fail(CodecErrc::not_enough_input);
  }
  return fixed_string(static_cast<size_t>(*len));
}

Result<std::string_view> Reader::nul_string() {
  for (size_t i = pos_; i < data_.size(); ++i) {
    if (data_[i] == 0) {
      std::string_view s(reinterpret_cast<const char*>(data_.data() + pos_), i - pos_);
      pos_ = i + 1;
      return s;
    }
  }
  return fail(CodecErrc::not_enough_input);
}

Result<void> Reader::skip(size_t n) {
  if (remaining() < n) {
    return fail(CodecErrc::not_enough_input);
  }
  pos_ += n;
  return {};
}

std::string_view Reader::rest_string() { return as_chars(rest()); }

ByteView Reader::rest() {
  ByteView b = data_.subspan(pos_);
  pos_ = data_.size();
  return b;
}

Writer& Writer::fixed(uint64_t v, size_t width) {
  for (size_t i = 0; i < width; ++i) {
    out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  return *this;
}

Writer& Writer::u8(uint8_t v) { return fixed(v, 1); }
Writer& Writer::u16(uint16_t v) { return fixed(v, 2); }
Writer& Writer::u24(uint32_t v) { return fixed(v, 3); }
Writer& Writer::u32(uint32_t v) { return fixed(v, 4); }
Writer& Writer::u48(uint64_t v) { return fixed(v, 6); }
Writer& Writer::u64(uint64_t v) { return fixed(v, 8); }

Writer& Writer::lenenc_int(uint64_t v) {
  if (v < 0xfb) {
    return fixed(v, 1);
  }
  if (v <= 0xffff) {
    return u8(0xfc).fixed(v, 2);
  }
  if (v <= 0xffffff) {
    return u8(0xfd).fixed(v, 3);
  }
  return u8(0xfe).fixed(v, 8);
}

Writer& Writer::lenenc_string(std::string_view s) { return lenenc_int(s.size()).raw(s); }

Writer& Writer::nul_string(std::string_view s) { return raw(s).u8(0); }

Writer& Writer::raw(std::string_view s) { return raw(as_bytes(s)); }

Writer& Writer::raw(ByteView b) {
  out_.insert(out_.end(), b.begin(), b.end());
  return *this;
}

Writer& Writer::zeros(size_t n) {
  out_.insert(out_.end(), n, 0);
  return *this;
}

size_t lenenc_int_size(uint64_t v) {
  if (v < 0xfb) return 1;
  if (v <= 0xffff) return 3;
  if (v <= 0xffffff) return 4;
  return 9;
}

}  // namespace replproxy::protocol
