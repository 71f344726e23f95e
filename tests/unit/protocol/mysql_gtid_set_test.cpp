#include "protocol/mysql_gtid_set.h"

#include <gtest/gtest.h>

#include "codec_test_util.h"

namespace replproxy::protocol {
namespace {

using test::cat;
using test::Fixture;
using test::hex;

// The example set of the MySQL manual's GTID chapter, upper case as it prints it there.
constexpr std::string_view kDocsText =
    "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7-9,"
    "2174b383-5441-11e8-b90a-c80aa9429562:1-3";

const MySqlGtidSid kDocsSid1{{0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8,
                              0x0a, 0xa9, 0x42, 0x95, 0x62},
                             {{1, 6}, {7, 10}}};
const MySqlGtidSid kDocsSid2{{0x21, 0x74, 0xb3, 0x83, 0x54, 0x41, 0x11, 0xe8, 0xb9, 0x0a, 0xc8,
                              0x0a, 0xa9, 0x42, 0x95, 0x62},
                             {{1, 4}}};
const MySqlGtidSet kDocsSet{{kDocsSid1, kDocsSid2}};

// Gtid_set::encode's layout: n_sids 8, then per sid uuid 16, n_intervals 8, {start 8, end 8}.
const Bytes kDocsBinary = cat({
    hex("02 00 00 00 00 00 00 00"),
    hex("3e 11 fa 47 71 ca 11 e1 9e 33 c8 0a a9 42 95 62"),
    hex("02 00 00 00 00 00 00 00"),
    hex("01 00 00 00 00 00 00 00  06 00 00 00 00 00 00 00"),
    hex("07 00 00 00 00 00 00 00  0a 00 00 00 00 00 00 00"),
    hex("21 74 b3 83 54 41 11 e8 b9 0a c8 0a a9 42 95 62"),
    hex("01 00 00 00 00 00 00 00"),
    hex("01 00 00 00 00 00 00 00  04 00 00 00 00 00 00 00"),
});

void check_binary(const Fixture<MySqlGtidSet>& f) {
  test::check_codec(f, decode_mysql_gtid_set, encode_mysql_gtid_set);
}

TEST(MySqlGtidSet, Binary) {
  check_binary({"docs", kDocsSet, 0, kDocsBinary});
  check_binary({"empty", {}, 0, hex("00 00 00 00 00 00 00 00")});
  // The largest interval the signed wire form holds.
  check_binary(
      {"largest",
       {{{kDocsSid2.uuid, {{0x7ffffffffffffffe, 0x7fffffffffffffff}}}}},
       0,
       cat({hex("01 00 00 00 00 00 00 00"), hex("21 74 b3 83 54 41 11 e8 b9 0a c8 0a a9 42 95 62"),
            hex("01 00 00 00 00 00 00 00"),
            hex("fe ff ff ff ff ff ff 7f  ff ff ff ff ff ff ff 7f")})});
}

// Replaces the 8 bytes at `at` of the docs fixture with `value`.
Bytes docs_with(size_t at, uint64_t value) {
  Bytes b = kDocsBinary;
  for (size_t i = 0; i < 8; ++i) {
    b[at + i] = static_cast<uint8_t>(value >> (8 * i));
  }
  return b;
}

TEST(MySqlGtidSet, BinaryFailures) {
  // Offsets into kDocsBinary: first sid's first interval at 32 (start) and 40 (end), its second
  // at 48 and 56.
  const struct {
    std::string name;
    Bytes bytes;
    CodecErrc error;
  } cases[] = {
      {"start 0", docs_with(32, 0), CodecErrc::invalid_input},
      {"negative start", docs_with(32, ~uint64_t{0}), CodecErrc::invalid_input},
      {"empty interval", docs_with(40, 1), CodecErrc::invalid_input},
      {"end before start", docs_with(40, 0), CodecErrc::invalid_input},
      {"overlapping intervals", docs_with(48, 5), CodecErrc::invalid_input},
      {"descending intervals", docs_with(48, 1), CodecErrc::invalid_input},
      {"sid without intervals",
       cat({hex("01 00 00 00 00 00 00 00"), Bytes(16, 0xaa), hex("00 00 00 00 00 00 00 00")}),
       CodecErrc::invalid_input},
      {"duplicate sid",
       cat({hex("02 00 00 00 00 00 00 00"), Bytes(16, 0xaa), hex("01 00 00 00 00 00 00 00"),
            hex("01 00 00 00 00 00 00 00  02 00 00 00 00 00 00 00"), Bytes(16, 0xaa),
            hex("01 00 00 00 00 00 00 00"),
            hex("05 00 00 00 00 00 00 00  06 00 00 00 00 00 00 00")}),
       CodecErrc::invalid_input},
      // A count far beyond the input allocates nothing up front and waits for bytes.
      {"huge sid count", hex("ff ff ff ff ff ff ff ff"), CodecErrc::not_enough_input},
      {"huge interval count", docs_with(24, ~uint64_t{0}), CodecErrc::not_enough_input},
      {"one sid too many", docs_with(0, 3), CodecErrc::not_enough_input},
      {"one sid too few", docs_with(0, 1), CodecErrc::invalid_input},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test::expect_error(decode_mysql_gtid_set(c.bytes), c.error);
  }
}

TEST(MySqlGtidSet, ParseAndFormat) {
  auto set = parse_mysql_gtid_set(kDocsText);
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(*set, kDocsSet);
  EXPECT_EQ(
      format_mysql_gtid_set(*set),
      "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,2174b383-5441-11e8-b90a-c80aa9429562:1-3");
  EXPECT_EQ(parse_mysql_gtid_set(format_mysql_gtid_set(*set)), set);
}

TEST(MySqlGtidSet, ParseForms) {
  const std::string uuid = "2174b383-5441-11e8-b90a-c80aa9429562";
  const struct {
    std::string text;
    MySqlGtidSet value;
    std::string formatted;
  } cases[] = {
      {"", {}, ""},
      {" \n", {}, ""},
      {uuid + ":7", {{{kDocsSid2.uuid, {{7, 8}}}}}, uuid + ":7"},
      {uuid + ":1-1:2-3", {{{kDocsSid2.uuid, {{1, 2}, {2, 4}}}}}, uuid + ":1:2-3"},
      {uuid + ":9223372036854775806",
       {{{kDocsSid2.uuid, {{0x7ffffffffffffffe, 0x7fffffffffffffff}}}}},
       uuid + ":9223372036854775806"},
      // MySQL prints ",\n" between sids; leading zeros are plain decimal.
      {"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,\n" + uuid + ":01-3 ", kDocsSet,
       "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9," + uuid + ":1-3"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto set = parse_mysql_gtid_set(c.text);
    ASSERT_TRUE(set) << set.error().message();
    EXPECT_EQ(*set, c.value);
    EXPECT_EQ(format_mysql_gtid_set(*set), c.formatted);
  }
}

TEST(MySqlGtidSet, ParseFailures) {
  const std::string uuid = "2174b383-5441-11e8-b90a-c80aa9429562";
  const struct {
    std::string text;
    CodecErrc error;
  } cases[] = {
      {uuid, CodecErrc::invalid_input},
      {uuid + ":", CodecErrc::invalid_input},
      {uuid + ":1:", CodecErrc::invalid_input},
      {uuid + "::1", CodecErrc::invalid_input},
      {uuid + ":0", CodecErrc::invalid_input},
      {uuid + ":0-3", CodecErrc::invalid_input},
      {uuid + ":5-3", CodecErrc::invalid_input},
      {uuid + ":1-", CodecErrc::invalid_input},
      {uuid + ":-5", CodecErrc::invalid_input},
      {uuid + ":+5", CodecErrc::invalid_input},
      {uuid + ":1-2-3", CodecErrc::invalid_input},
      {uuid + ":1 -3", CodecErrc::invalid_input},
      {uuid + ":9223372036854775807", CodecErrc::invalid_input},
      {uuid + ":1-99999999999999999999", CodecErrc::invalid_input},
      {uuid + ":1-5:3-9", CodecErrc::invalid_input},
      {uuid + ":7-9:1-5", CodecErrc::invalid_input},
      {uuid + ":1," + uuid + ":5", CodecErrc::invalid_input},
      {uuid + ":1,", CodecErrc::invalid_input},
      {"," + uuid + ":1", CodecErrc::invalid_input},
      {"2174b383-5441-11e8-b90a-c80aa942956:1", CodecErrc::invalid_input},
      {"2174b383-5441-11e8-b90a-c80aa942956g:1", CodecErrc::invalid_input},
      {"2174b383554411e8-b90a-c80aa9429562-:1", CodecErrc::invalid_input},
      {"2174b383544111e8b90ac80aa9429562:1", CodecErrc::invalid_input},
      {uuid + ":tag:1-5", CodecErrc::unsupported},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    test::expect_error(parse_mysql_gtid_set(c.text), c.error);
  }
}

TEST(MySqlGtidSet, Validity) {
  EXPECT_TRUE(is_valid_mysql_gtid_set(kDocsSet));
  EXPECT_TRUE(is_valid_mysql_gtid_set({}));
  MySqlGtidSet adjacent{{{kDocsSid1.uuid, {{1, 3}, {3, 5}}}}};
  EXPECT_TRUE(is_valid_mysql_gtid_set(adjacent));
  MySqlGtidSet overlapping{{{kDocsSid1.uuid, {{1, 4}, {3, 5}}}}};
  EXPECT_FALSE(is_valid_mysql_gtid_set(overlapping));
}

}  // namespace
}  // namespace replproxy::protocol
