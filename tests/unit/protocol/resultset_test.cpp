#include "protocol/resultset.h"

#include <gtest/gtest.h>

#include "codec_test_util.h"
#include "protocol/constants.h"

namespace replproxy::protocol {
namespace {

using test::hex;

constexpr uint64_t kCaps41 = cap::kProtocol41 | cap::kTransactions;

TEST(ColumnDefinitionEncoder, ExactBytes) {
  const ColumnDefinition column{.schema = "s",
                                .table = "t",
                                .org_table = "t",
                                .name = "name",
                                .org_name = "name",
                                .column_length = 256};
  Bytes out;
  encode_column_definition(column, out);
  EXPECT_EQ(out, hex("03 64 65 66  01 73  01 74  01 74  04 6e 61 6d 65  04 6e 61 6d 65"
                     "0c  2d 00  00 01 00 00  fd  00 00  00  00 00"));
}

TEST(ColumnDefinitionEncoder, UnsignedBigint) {
  const ColumnDefinition column{.name = "n",
                                .character_set = kCharsetBinary,
                                .column_length = 20,
                                .type = kTypeLongLong,
                                .flags = kColumnFlagNotNull | kColumnFlagUnsigned};
  Bytes out;
  encode_column_definition(column, out);
  EXPECT_EQ(out, hex("03 64 65 66  00  00  00  01 6e  00  0c  3f 00  14 00 00 00  08  21 00  00"
                     "00 00"));
}

TEST(TextRowEncoder, ValuesEmptyAndNull) {
  Bytes out;
  encode_text_row({"ab", std::nullopt, ""}, out);
  EXPECT_EQ(out, hex("02 61 62  fb  00"));
}

// A row from the real primary's answer to SHOW VARIABLES LIKE 'SERVER_ID'.
TEST(TextRowDecoder, ExactBytes) {
  const Bytes bytes = hex("09 73 65 72 76 65 72 5f 69 64  01 31");
  const auto row = decode_text_row(bytes, 2);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(*row, (TextRow{"server_id", "1"}));
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(decode_text_row(ByteView(bytes).first(n), 2).error(), CodecErrc::not_enough_input)
        << n;
  }
}

TEST(TextRowDecoder, NullEmptyAndFailures) {
  const auto row = decode_text_row(hex("fb 00 03 61 62 63"), 3);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(*row, (TextRow{std::nullopt, "", "abc"}));
  EXPECT_EQ(decode_text_row(hex("01 31 01 32"), 1).error(), CodecErrc::invalid_input);
  // Round trip through the encoder.
  Bytes out;
  encode_text_row(*row, out);
  EXPECT_EQ(decode_text_row(out, 3), row);
}

TEST(TextRowEncoder, LongValueUsesTwoByteLength) {
  Bytes out;
  encode_text_row({std::string(300, 'x')}, out);
  ASSERT_EQ(out.size(), 303u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 3), hex("fc 2c 01"));
}

const std::vector<ColumnDefinition> kOneColumn = {ColumnDefinition{.name = "a"}};
constexpr std::string_view kColumnPacket =
    "17 00 00 02  03 64 65 66 00 00 00 01 61 00 0c 2d 00 00 00 00 00 fd 00 00 00 00 00";

TEST(TextResultsetEncoder, WithEofPackets) {
  Bytes out;
  const uint8_t next =
      encode_text_resultset(kOneColumn, {{"1"}}, kCaps41, status::kAutocommit, 1, out);
  EXPECT_EQ(out, test::cat({hex("01 00 00 01  01"), hex(kColumnPacket),
                            hex("05 00 00 03  fe 00 00 02 00"), hex("02 00 00 04  01 31"),
                            hex("05 00 00 05  fe 00 00 02 00")}));
  EXPECT_EQ(next, 6);
}

TEST(TextResultsetEncoder, DeprecateEofEndsWithOkFe) {
  Bytes out;
  const uint8_t next = encode_text_resultset(kOneColumn, {{std::nullopt}},
                                             kCaps41 | cap::kDeprecateEof, status::kAutocommit,
                                             1, out);
  EXPECT_EQ(out, test::cat({hex("01 00 00 01  01"), hex(kColumnPacket), hex("01 00 00 03  fb"),
                            hex("07 00 00 04  fe 00 00 02 00 00 00")}));
  EXPECT_EQ(next, 5);
}

TEST(TextResultsetEncoder, NoRows) {
  Bytes out;
  encode_text_resultset(kOneColumn, {}, kCaps41, 0, 1, out);
  EXPECT_EQ(out, test::cat({hex("01 00 00 01  01"), hex(kColumnPacket),
                            hex("05 00 00 03  fe 00 00 00 00"),
                            hex("05 00 00 04  fe 00 00 00 00")}));
}

}  // namespace
}  // namespace replproxy::protocol
