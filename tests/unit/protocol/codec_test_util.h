#pragma once

// Helpers shared by the protocol codec tests: hex fixtures, error expectations and the
// "every strict prefix is incomplete" check.

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>

#include "protocol/error.h"
#include "protocol/wire.h"

namespace replproxy::protocol::test {

// Parses hex digits, ignoring whitespace, so fixtures can be laid out like the protocol docs'
// dumps ("0a 35 2e 35 ..."). A malformed fixture is a bug in the test, so it aborts.
inline Bytes hex(std::string_view text) {
  Bytes out;
  int high = -1;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      continue;
    }
    const int v = std::isdigit(static_cast<unsigned char>(c))
                      ? c - '0'
                      : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    if (v < 0 || v > 15) {
      ADD_FAILURE() << "bad hex digit '" << c << "' in fixture";
      return {};
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  if (high >= 0) {
    ADD_FAILURE() << "odd number of hex digits in fixture";
  }
  return out;
}

// Concatenates byte sequences, for fixtures assembled field by field.
inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

inline Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

// A short string<lenenc> field (one length byte, so under 251 bytes).
inline Bytes lenenc(ByteView b) {
  Bytes out{static_cast<uint8_t>(b.size())};
  out.insert(out.end(), b.begin(), b.end());
  return out;
}
inline Bytes lenenc(std::string_view s) { return lenenc(as_bytes(s)); }

// A string<NUL> field.
inline Bytes nul(std::string_view s) {
  Bytes out = text(s);
  out.push_back(0);
  return out;
}

inline std::string to_hex(ByteView bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : bytes) {
    if (!s.empty()) {
      s.push_back(' ');
    }
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 0x0f]);
  }
  return s;
}

inline constexpr size_t kWholeMessage = std::numeric_limits<size_t>::max();

// One row of a codec fixture table: `bytes` is the exact payload for `value` under
// `capabilities`. Prefixes shorter than `complete_from` must be not_enough_input; longer ones
// may decode (a string<EOF> tail, or a field that is "present only if bytes remain"), so they
// are only required not to be invalid_input. kWholeMessage means every strict prefix is
// incomplete.
template <class T>
struct Fixture {
  std::string name;
  T value;
  uint64_t capabilities = 0;
  Bytes bytes;
  size_t complete_from = kWholeMessage;
};

// gtest names parameterized cases after the fixture.
struct FixtureName {
  template <class P>
  std::string operator()(const ::testing::TestParamInfo<P>& info) const {
    return info.param.name;
  }
};

template <class T>
void PrintTo(const Fixture<T>& f, std::ostream* os) {
  *os << f.name << " [" << to_hex(f.bytes) << "]";
}

template <class R>
void expect_error(const R& result, CodecErrc expected) {
  ASSERT_FALSE(result.has_value())
      << "decoded although " << make_error_code(expected).message() << " was expected";
  EXPECT_EQ(result.error(), make_error_code(expected)) << result.error().message();
}

// Runs `decode` on every strict prefix of `bytes`.
template <class Decode>
void expect_prefixes_incomplete(ByteView bytes, size_t complete_from, Decode decode) {
  for (size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE("prefix of " + std::to_string(n) + " bytes");
    auto result = decode(bytes.first(n));
    if (n < complete_from) {
      expect_error(result, CodecErrc::not_enough_input);
    } else if (!result) {
      EXPECT_NE(result.error(), make_error_code(CodecErrc::invalid_input));
    }
  }
}

// The standard checks for one fixture row: encode gives exactly the fixture's bytes, decode gives
// the value, prefixes behave as `complete_from` says, and for a message whose every field is
// delimited one byte more is invalid_input (the decoder consumed everything and nothing else).
template <class T, class Decode, class Encode>
void check_codec(const Fixture<T>& f, Decode decode, Encode encode) {
  Bytes out;
  encode(f.value, out);
  EXPECT_EQ(to_hex(out), to_hex(f.bytes)) << "encode";

  auto decoded = decode(ByteView(f.bytes));
  ASSERT_TRUE(decoded.has_value()) << "decode: " << decoded.error().message();
  EXPECT_TRUE(*decoded == f.value) << "decode gave another value";

  expect_prefixes_incomplete(f.bytes, f.complete_from, decode);

  if (f.complete_from == kWholeMessage) {
    Bytes longer = f.bytes;
    longer.push_back(0);
    expect_error(decode(ByteView(longer)), CodecErrc::invalid_input);
  }
}

}  // namespace replproxy::protocol::test
