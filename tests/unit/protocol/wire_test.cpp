#include "protocol/wire.h"

#include <gtest/gtest.h>

#include <string>

#include "codec_test_util.h"

namespace replproxy::protocol {
namespace {

using test::hex;

struct LenencCase {
  std::string name;
  uint64_t value;
  Bytes bytes;
};

class LenencIntTest : public ::testing::TestWithParam<LenencCase> {};

TEST_P(LenencIntTest, EncodesToExactBytes) {
  Bytes out;
  Writer(out).lenenc_int(GetParam().value);
  EXPECT_EQ(test::to_hex(out), test::to_hex(GetParam().bytes));
  EXPECT_EQ(lenenc_int_size(GetParam().value), GetParam().bytes.size());
}

TEST_P(LenencIntTest, DecodesAndConsumesAll) {
  Reader r(GetParam().bytes);
  auto v = r.lenenc_int();
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(*v, GetParam().value);
  EXPECT_TRUE(r.empty());
}

TEST_P(LenencIntTest, EveryStrictPrefixIsIncompleteAndConsumesNothing) {
  const Bytes& bytes = GetParam().bytes;
  for (size_t n = 0; n < bytes.size(); ++n) {
    Reader r(ByteView(bytes).first(n));
    test::expect_error(r.lenenc_int(), CodecErrc::not_enough_input);
    EXPECT_EQ(r.consumed(), 0u) << "prefix of " << n;
  }
}

// The boundaries where the encoding changes width.
INSTANTIATE_TEST_SUITE_P(
    Boundaries, LenencIntTest,
    ::testing::Values(LenencCase{"zero", 0, hex("00")}, LenencCase{"v250", 250, hex("fa")},
                      LenencCase{"v251", 251, hex("fc fb 00")},
                      LenencCase{"v0xffff", 0xffff, hex("fc ff ff")},
                      LenencCase{"v0x10000", 0x10000, hex("fd 00 00 01")},
                      LenencCase{"v0xffffff", 0xffffff, hex("fd ff ff ff")},
                      LenencCase{"v0x1000000", 0x1000000, hex("fe 00 00 00 01 00 00 00 00")},
                      LenencCase{"max", UINT64_MAX, hex("fe ff ff ff ff ff ff ff ff")}),
    [](const auto& info) { return info.param.name; });

TEST(LenencInt, NullAndErrMarkersAreNotIntegers) {
  // 0xfb is NULL in a text row and 0xff starts an ERR packet: neither is an integer.
  for (const Bytes& bytes : {hex("fb"), hex("ff"), hex("fb 01 02")}) {
    Reader r(bytes);
    test::expect_error(r.lenenc_int(), CodecErrc::invalid_input);
  }
}

TEST(LenencString, Fixtures) {
  const std::string long_string(251, 'x');
  const struct {
    std::string value;
    Bytes bytes;
  } cases[] = {
      {"", hex("00")},
      {"abc", hex("03 61 62 63")},
      {long_string, test::cat({hex("fc fb 00"), test::text(long_string)})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value.size());
    Bytes out;
    Writer(out).lenenc_string(c.value);
    EXPECT_EQ(out, c.bytes);
    Reader r(c.bytes);
    auto s = r.lenenc_string();
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, c.value);
    EXPECT_TRUE(r.empty());
    for (size_t n = 0; n < c.bytes.size(); ++n) {
      Reader prefix(ByteView(c.bytes).first(n));
      test::expect_error(prefix.lenenc_string(), CodecErrc::not_enough_input);
      EXPECT_EQ(prefix.consumed(), 0u) << "a caller must be able to retry with more bytes";
    }
  }
}

TEST(NulString, ReadsUpToTheNulAndNeedsIt) {
  const Bytes bytes = hex("61 62 63 00 64");
  Reader r(bytes);
  auto s = r.nul_string();
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, "abc");
  EXPECT_EQ(r.consumed(), 4u);
  test::expect_error(r.nul_string(), CodecErrc::not_enough_input);
  EXPECT_EQ(r.rest_string(), "d");

  Bytes out;
  Writer(out).nul_string("abc");
  EXPECT_EQ(out, hex("61 62 63 00"));
}

TEST(FixedIntegers, AreLittleEndian) {
  Bytes out;
  Writer(out)
      .u8(0x01)
      .u16(0x0302)
      .u24(0x060504)
      .u32(0x0a090807)
      .u48(0x100f0e0d0c0bULL)
      .u64(0x1817161514131211ULL);
  ASSERT_EQ(out, hex("01 0203 040506 0708090a 0b0c0d0e0f10 1112131415161718"));

  Reader r(out);
  EXPECT_EQ(r.u8().value(), 0x01);
  EXPECT_EQ(r.u16().value(), 0x0302);
  EXPECT_EQ(r.u24().value(), 0x060504u);
  EXPECT_EQ(r.u32().value(), 0x0a090807u);
  EXPECT_EQ(r.u48().value(), 0x100f0e0d0c0bULL);
  EXPECT_EQ(r.u64().value(), 0x1817161514131211ULL);
  EXPECT_TRUE(r.empty());
}

TEST(FixedIntegers, ShortInputIsIncompleteAndConsumesNothing) {
  const Bytes bytes = hex("01 02 03");
  Reader r(bytes);
  test::expect_error(r.u32(), CodecErrc::not_enough_input);
  EXPECT_EQ(r.consumed(), 0u);
  test::expect_error(r.u64(), CodecErrc::not_enough_input);
  EXPECT_EQ(r.u24().value(), 0x030201u);
  test::expect_error(r.u8(), CodecErrc::not_enough_input);
}

TEST(Reader, FixedStringBytesAndSkip) {
  const Bytes bytes = hex("61 62 63 64 65");
  Reader r(bytes);
  EXPECT_EQ(r.fixed_string(2).value(), "ab");
  ASSERT_TRUE(r.skip(1));
  auto b = r.bytes(2);
  ASSERT_TRUE(b);
  EXPECT_EQ(as_chars(*b), "de");
  test::expect_error(r.fixed_string(1), CodecErrc::not_enough_input);
  test::expect_error(r.skip(1), CodecErrc::not_enough_input);
  EXPECT_TRUE(r.rest().empty());
}

TEST(Writer, RawAndZeros) {
  Bytes out = hex("ff");
  Writer(out).raw(std::string_view("ab")).raw(ByteView(hex("01 02"))).zeros(3);
  EXPECT_EQ(out, hex("ff 61 62 01 02 00 00 00"));
}

}  // namespace
}  // namespace replproxy::protocol
