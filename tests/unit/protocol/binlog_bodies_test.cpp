#include "protocol/binlog_bodies.h"

#include <gtest/gtest.h>

#include "binlog_fixtures.h"
#include "binlog_test_util.h"
#include "codec_test_util.h"

namespace replproxy::protocol::binlog {
namespace {

using protocol::test::cat;
using protocol::test::check_codec;
using protocol::test::expect_error;
using protocol::test::Fixture;
using protocol::test::FixtureName;
using protocol::test::hex;
using protocol::test::kWholeMessage;
using protocol::test::text;
using protocol::test::to_hex;

struct FailureCase {
  std::string name;
  Bytes bytes;
  CodecErrc expected;
};

template <class Decode>
void check_failures(std::initializer_list<FailureCase> cases, Decode decode) {
  for (const FailureCase& c : cases) {
    SCOPED_TRACE(c.name);
    expect_error(decode(ByteView(c.bytes)), c.expected);
  }
}

// --- FORMAT_DESCRIPTION_EVENT

// The post-header lengths of MariaDB 10.11 (types 1..171), as its FDEs list them.
const Bytes kMariaDb1011PostHeaders = cat(
    {hex("38 0d 00 08 00 12 00 04 04 04 04 12 00 00 e4 00 04 1a 08 00 00 00 08 08 08 02 00 00 00"
         "0a 0a 0a 00 00 00 00 00 00 0a 0a 0a"),
     Bytes(160 - 41, 0), hex("04 13 04 00 0d 08 08 08 0a 0a 0a")});
const std::string kMariaDbVersion = "10.11.19-MariaDB-0+deb12u1-log";

FormatDescription captured_fde(ChecksumAlg alg) {
  return FormatDescription{4, kMariaDbVersion, 0, 19, kMariaDb1011PostHeaders, alg};
}

TEST(FormatDescription, CapturedWithCrc32) {
  const Bytes file = hex(test::kCrcFile);
  const ByteView whole = ByteView(file).subspan(4, 252);
  auto fde = decode_format_description(whole);
  ASSERT_TRUE(fde.has_value()) << fde.error().message();
  EXPECT_EQ(*fde, captured_fde(ChecksumAlg::crc32));
  EXPECT_TRUE(fde->events_have_checksum());
  EXPECT_EQ(fde->post_header_lengths.size(), 171u);
  EXPECT_EQ(fde->post_header_length(type_byte(EventType::query)), 13);
  EXPECT_EQ(fde->post_header_length(type_byte(EventType::rotate)), 8);
  EXPECT_EQ(fde->post_header_length(type_byte(EventType::gtid_mariadb)), 19);
  EXPECT_EQ(fde->post_header_length(type_byte(EventType::gtid_list)), 4);
  EXPECT_EQ(fde->post_header_length(0), 0);
  EXPECT_EQ(fde->post_header_length(200), 0);

  // The body (without the CRC) re-encodes to the captured bytes, and the event to the event.
  auto view = split_event(whole, true);
  Bytes body;
  encode_format_description(*fde, body);
  EXPECT_EQ(to_hex(body), to_hex(view->body));
  Bytes event;
  encode_event(view->header, body, true, event);
  EXPECT_EQ(to_hex(event), to_hex(whole));

  protocol::test::expect_prefixes_incomplete(
      whole, kWholeMessage, [](ByteView b) { return decode_format_description(b); });
}

// With binlog_checksum=NONE the FDE says "off" for the events after it but still ends with
// its own CRC32.
TEST(FormatDescription, CapturedWithChecksumOff) {
  const Bytes file = hex(test::kNoChecksumFile);
  const ByteView whole = ByteView(file).subspan(4, 252);
  auto fde = decode_format_description(whole);
  ASSERT_TRUE(fde.has_value()) << fde.error().message();
  EXPECT_EQ(*fde, captured_fde(ChecksumAlg::off));
  EXPECT_FALSE(fde->events_have_checksum());
  EXPECT_TRUE(checksum_matches(whole));
}

class FormatDescriptionBodyTest : public ::testing::TestWithParam<Fixture<FormatDescription>> {};

TEST_P(FormatDescriptionBodyTest, Fixture) {
  check_codec(
      GetParam(), [](ByteView b) { return decode_format_description_body(b); },
      [](const FormatDescription& m, Bytes& out) { encode_format_description(m, out); });
}

Bytes version_field(std::string_view version) {
  Bytes out = text(version);
  out.resize(kServerVersionSize, 0);
  return out;
}

// A body decodes once it has the fixed fields and the checksum_alg byte (58 bytes); what comes
// before the last byte is taken as post-header lengths.
INSTANTIATE_TEST_SUITE_P(
    Fixtures, FormatDescriptionBodyTest,
    ::testing::Values(
        Fixture<FormatDescription>{"MariaDbCrc32", captured_fde(ChecksumAlg::crc32), 0,
                                   cat({hex("04 00"), version_field(kMariaDbVersion),
                                        hex("00 00 00 00 13"), kMariaDb1011PostHeaders, hex("01")}),
                                   58},
        // MySQL 5.5 wrote no checksum_alg byte (constructed after the MySQL docs' layout).
        Fixture<FormatDescription>{
            "MySql55WithoutAlg",
            {4, "5.5.62-log", 0x5a000000, 19, {0x38, 0x0d, 0x00, 0x08}, ChecksumAlg::undefined},
            0,
            cat({hex("04 00"), version_field("5.5.62-log"), hex("00 00 00 5a 13 38 0d 00 08")}),
            57},
        Fixture<FormatDescription>{
            "MySql80Crc32",
            {4, "8.0.36", 0, 19, {0x38, 0x0d}, ChecksumAlg::crc32},
            0,
            cat({hex("04 00"), version_field("8.0.36"), hex("00 00 00 00 13 38 0d 01")}),
            58},
        Fixture<FormatDescription>{
            "MariaDb53HasAlg",
            {4, "5.3.12-MariaDB-log", 0, 19, {0x38}, ChecksumAlg::off},
            0,
            cat({hex("04 00"), version_field("5.3.12-MariaDB-log"), hex("00 00 00 00 13 38 00")}),
            58}),
    FixtureName());

// Found by fuzz_binlog: an alg byte of 255 from a server that writes the byte still comes with
// the FDE's own CRC32, so the whole event re-encodes and decodes to the same value.
TEST(FormatDescription, UndefinedAlgFromAChecksumServerKeepsItsCrc) {
  FormatDescription fde = captured_fde(ChecksumAlg::undefined);
  EXPECT_TRUE(fde.own_checksum());
  Bytes body;
  encode_format_description(fde, body);
  EXPECT_EQ(body.back(), 0xff);
  Bytes event;
  encode_event(EventHeader{1, type_byte(EventType::format_description), 1, 0, 0, 0}, body,
               fde.own_checksum(), event);
  auto decoded = decode_format_description(event);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message();
  EXPECT_EQ(*decoded, fde);
  const FormatDescription mysql55{4, "5.5.62-log", 0, 19, {}, ChecksumAlg::undefined};
  EXPECT_FALSE(mysql55.own_checksum());
}

TEST(FormatDescription, ChecksumAlgDependsOnTheVersion) {
  EXPECT_TRUE(server_version_has_checksum_alg("10.11.19-MariaDB-0+deb12u1-log"));
  EXPECT_TRUE(server_version_has_checksum_alg("5.6.1"));
  EXPECT_TRUE(server_version_has_checksum_alg("8.0.36"));
  EXPECT_TRUE(server_version_has_checksum_alg("5.5.5-10.1.48-MariaDB"));
  EXPECT_FALSE(server_version_has_checksum_alg("5.6.0-m4"));
  EXPECT_FALSE(server_version_has_checksum_alg("5.5.62-log"));
  EXPECT_FALSE(server_version_has_checksum_alg("5.2.14-MariaDB"));
  EXPECT_FALSE(server_version_has_checksum_alg(""));
}

TEST(FormatDescription, Failures) {
  const Bytes file = hex(test::kCrcFile);
  Bytes whole(file.begin() + 4, file.begin() + 256);
  Bytes not_fde = whole;
  not_fde[kTypeOffset] = type_byte(EventType::query);
  Bytes short_header = whole;
  short_header[19 + 56] = 18;
  check_failures({{"another type", not_fde, CodecErrc::invalid_input},
                  {"header_length below 19", short_header, CodecErrc::invalid_input},
                  {"event_size too small for the fixed fields",
                   hex("00 00 00 00 0f 01 00 00 00 17 00 00 00 00 00 00 00 00 00 04 00 00 00"),
                   CodecErrc::invalid_input}},
                 [](ByteView b) { return decode_format_description(b); });
}

// --- ROTATE_EVENT

class RotateTest : public ::testing::TestWithParam<Fixture<Rotate>> {};

// Values are built by functions: g++ 12 warns about brace-initialized strings and vectors inside
// the fixture tables (-Wmaybe-uninitialized, a false positive).
Rotate rotate(uint64_t position, std::string next_file) {
  return Rotate{position, std::move(next_file)};
}

TEST_P(RotateTest, Fixture) { check_codec(GetParam(), decode_rotate, encode_rotate); }

INSTANTIATE_TEST_SUITE_P(
    Fixtures, RotateTest,
    ::testing::Values(
        // The body of the docs' example (rotate_event page).
        Fixture<Rotate>{"Docs", rotate(4, "mysql-bin.000019"), 0,
                        cat({hex("04 00 00 00 00 00 00 00"), text("mysql-bin.000019")}), 8},
        // The last event of the captured file.
        Fixture<Rotate>{
            "Captured", rotate(4, "mysql-bin.000003"), 0,
            hex("04 00 00 00 00 00 00 00 6d 79 73 71 6c 2d 62 69 6e 2e 30 30 30 30 30 33"), 8},
        Fixture<Rotate>{"LargePosition", rotate(0x123456789a, "b.1"), 0,
                        hex("9a 78 56 34 12 00 00 00 62 2e 31"), 8}),
    FixtureName());

// --- GTID_EVENT (MariaDB)

class MariaGtidTest : public ::testing::TestWithParam<Fixture<MariaGtid>> {};

TEST_P(MariaGtidTest, Fixture) { check_codec(GetParam(), decode_maria_gtid, encode_maria_gtid); }

MariaGtid maria(uint64_t seq, uint8_t flags) { return MariaGtid{seq, 0, flags, {}, {}, {}}; }

MariaGtid xa(uint64_t seq, uint8_t flags, Bytes extra) {
  MariaGtid g = maria(seq, flags);
  g.xa = XaXid{1, 3, 0, "xa1"};
  g.extra = std::move(extra);
  return g;
}

MariaGtid group_commit(uint64_t seq, uint64_t commit_id) {
  MariaGtid g{seq, 2, FL_GROUP_COMMIT_ID | FL_TRANSACTIONAL | FL_ALLOW_PARALLEL, commit_id, {}, {}};
  return g;
}

// Bodies decode from 19 bytes on; what follows the known fields is kept as `extra`.
INSTANTIATE_TEST_SUITE_P(
    Fixtures, MariaGtidTest,
    ::testing::Values(
        // Captured: CREATE DATABASE (0-1-16, standalone DDL, allow parallel).
        Fixture<MariaGtid>{"CapturedDdl", maria(16, FL_STANDALONE | FL_ALLOW_PARALLEL | FL_DDL), 0,
                           hex("10 00 00 00 00 00 00 00 00 00 00 00 29 00 00 00 00 00 00"), 19},
        // Captured: BEGIN; INSERT; UPDATE; COMMIT on InnoDB (0-1-18).
        Fixture<MariaGtid>{"CapturedTransaction", maria(18, FL_TRANSACTIONAL | FL_ALLOW_PARALLEL),
                           0, hex("12 00 00 00 00 00 00 00 00 00 00 00 0c 00 00 00 00 00 00"), 19},
        // Captured: XA PREPARE 'xa1' (0-1-22): the XID, then flags_extra 01 and its byte.
        Fixture<MariaGtid>{
            "CapturedXaPrepare",
            xa(22, FL_PREPARED_XA | FL_TRANSACTIONAL | FL_ALLOW_PARALLEL, hex("01 ff")), 0,
            hex("16 00 00 00 00 00 00 00 00 00 00 00 4c 01 00 00 00 03 00 78 61 31"
                "01 ff"),
            19},
        // Captured: XA COMMIT 'xa1' (0-1-23).
        Fixture<MariaGtid>{
            "CapturedXaCommit",
            xa(23, FL_COMPLETED_XA | FL_TRANSACTIONAL | FL_ALLOW_PARALLEL | FL_STANDALONE, {}), 0,
            hex("17 00 00 00 00 00 00 00 00 00 00 00 8d 01 00 00 00 03 00 78 61 31"), 19},
        // Group commit (constructed after the docs' layout): domain 2, commit_id 0x1234.
        Fixture<MariaGtid>{"GroupCommitId", group_commit(0x0102030405, 0x1234), 0,
                           hex("05 04 03 02 01 00 00 00 02 00 00 00 0e 34 12 00 00 00 00 00 00"),
                           19},
        // A 19-byte body whose padding is not zero keeps it, so it re-encodes as it came.
        Fixture<MariaGtid>{"NonZeroPadding",
                           MariaGtid{1, 0, FL_TRANSACTIONAL, {}, {}, hex("00 00 00 00 00 07")}, 0,
                           hex("01 00 00 00 00 00 00 00 00 00 00 00 04 00 00 00 00 00 07"), 19}),
    FixtureName());

TEST(MariaGtid, GtidTakesTheServerIdFromTheHeader) {
  auto g = decode_maria_gtid(hex("10 00 00 00 00 00 00 00 03 00 00 00 29 00 00 00 00 00 00"));
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->gtid(7), (Gtid{3, 7, 16}));
  EXPECT_TRUE(g->standalone());
}

TEST(MariaGtid, Failures) {
  check_failures(
      {{"gtrid longer than 64",
        hex("01 00 00 00 00 00 00 00 00 00 00 00 40 01 00 00 00 41 00 00 00 00 00 00"),
        CodecErrc::invalid_input},
       {"bqual longer than 64",
        hex("01 00 00 00 00 00 00 00 00 00 00 00 80 01 00 00 00 00 41 00 00 00 00 00"),
        CodecErrc::invalid_input},
       {"xid data cut short",
        hex("01 00 00 00 00 00 00 00 00 00 00 00 40 01 00 00 00 10 10 00 00 00 00 00"),
        CodecErrc::not_enough_input},
       {"commit id cut short", hex("01 00 00 00 00 00 00 00 00 00 00 00 02 01 00 00 00 00 00 00"),
        CodecErrc::not_enough_input}},
      decode_maria_gtid);
}

// --- GTID_LOG_EVENT (MySQL)

class MySqlGtidTest : public ::testing::TestWithParam<Fixture<MySqlGtid>> {};

TEST_P(MySqlGtidTest, Fixture) { check_codec(GetParam(), decode_mysql_gtid, encode_mysql_gtid); }

// 3E11FA47-71CA-11E1-9E33-C80AA9429562, the server UUID of the MySQL manual's GTID examples.
constexpr std::array<uint8_t, 16> kSid = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                          0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};
const std::string kSidHex = "3e 11 fa 47 71 ca 11 e1 9e 33 c8 0a a9 42 95 62";

MySqlGtid mysql(uint8_t flags, int64_t gno, std::optional<MySqlLogicalTimestamps> lt,
                Bytes rest = {}) {
  return MySqlGtid{flags, kSid, gno, lt, std::move(rest)};
}

// Constructed after the layout of MySQL's source documentation (Gtid_event): 5.6 ends after the
// GNO, 5.7 adds the logical timestamps, 8.0 commit timestamps and more (kept opaque). Any body
// decodes from the 25 bytes of 5.6 on.
INSTANTIATE_TEST_SUITE_P(
    Fixtures, MySqlGtidTest,
    ::testing::Values(
        Fixture<MySqlGtid>{"MySql56", mysql(1, 23, std::nullopt), 0,
                           hex("01" + kSidHex + "17 00 00 00 00 00 00 00"), 25},
        Fixture<MySqlGtid>{"MySql57", mysql(0, 23, MySqlLogicalTimestamps{5, 6}), 0,
                           hex("00" + kSidHex +
                               "17 00 00 00 00 00 00 00 02 05 00 00 00 00 00 00 00 06 00 00 00 00"
                               "00 00 00"),
                           25},
        // 8.0: immediate_commit_timestamp (7 bytes), transaction_length (packed), server
        // versions (4 + 4).
        Fixture<MySqlGtid>{
            "MySql80",
            mysql(0, 1, MySqlLogicalTimestamps{0, 1},
                  hex("b2 6d 5f 8d 14 06 86 fc 3a 01 00 9c 38 01 00 9c 38 01 00")),
            0,
            hex("00" + kSidHex +
                "01 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00"
                "b2 6d 5f 8d 14 06 86 fc 3a 01 00 9c 38 01 00 9c 38 01 00"),
            25},
        // ANONYMOUS_GTID_LOG_EVENT: all-zero SID, GNO 0.
        Fixture<MySqlGtid>{"Anonymous", MySqlGtid{1, {}, 0, MySqlLogicalTimestamps{3, 4}, {}}, 0,
                           hex("01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                               "00 00 00 00 00 00 00 00 02 03 00 00 00 00 00 00 00 04 00 00 00 00"
                               "00 00 00"),
                           25}),
    FixtureName());

TEST(MySqlGtid, UnknownTimestampTypeIsInvalid) {
  expect_error(decode_mysql_gtid(hex("00" + kSidHex + "17 00 00 00 00 00 00 00 03")),
               CodecErrc::invalid_input);
}

// --- GTID_LIST_EVENT

class GtidListTest : public ::testing::TestWithParam<Fixture<GtidList>> {};

GtidList gtid_list(uint8_t flags, std::vector<Gtid> gtids) {
  return GtidList{flags, std::move(gtids)};
}

TEST_P(GtidListTest, Fixture) { check_codec(GetParam(), decode_gtid_list, encode_gtid_list); }

INSTANTIATE_TEST_SUITE_P(
    Fixtures, GtidListTest,
    ::testing::Values(
        // The body of the docs' example (gtid_list_event page).
        Fixture<GtidList>{"Docs", gtid_list(0, {{0, 10124, 3584}}), 0,
                          hex("01 00 00 00 00 00 00 00 8c 27 00 00 00 0e 00 00 00 00 00 00")},
        // Captured at the start of the CRC32 file: [0-1-15].
        Fixture<GtidList>{"Captured", gtid_list(0, {{0, 1, 15}}), 0,
                          hex("01 00 00 00 00 00 00 00 01 00 00 00 0f 00 00 00 00 00 00 00")},
        Fixture<GtidList>{"Empty", gtid_list(0, {}), 0, hex("00 00 00 00")},
        Fixture<GtidList>{"TwoDomainsAndFlags", gtid_list(0x3, {{0, 1, 5}, {1, 2, 0x100000000}}), 0,
                          hex("02 00 00 30 00 00 00 00 01 00 00 00 05 00 00 00 00 00 00 00"
                              "01 00 00 00 02 00 00 00 00 00 00 00 01 00 00 00")}),
    FixtureName());

TEST(GtidList, HugeCountWithFewBytesIsIncomplete) {
  expect_error(decode_gtid_list(hex("ff ff ff 0f 00 00 00 00")), CodecErrc::not_enough_input);
}

// --- BINLOG_CHECKPOINT_EVENT

class BinlogCheckpointTest : public ::testing::TestWithParam<Fixture<BinlogCheckpoint>> {};

TEST_P(BinlogCheckpointTest, Fixture) {
  check_codec(GetParam(), decode_binlog_checkpoint, encode_binlog_checkpoint);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, BinlogCheckpointTest,
    ::testing::Values(
        Fixture<BinlogCheckpoint>{
            "Captured",
            {"mysql-bin.000001"},
            0,
            hex("10 00 00 00 6d 79 73 71 6c 2d 62 69 6e 2e 30 30 30 30 30 31")},
        Fixture<BinlogCheckpoint>{"Empty", {""}, 0, hex("00 00 00 00")}),
    FixtureName());

// --- XID_EVENT

class XidTest : public ::testing::TestWithParam<Fixture<Xid>> {};

TEST_P(XidTest, Fixture) { check_codec(GetParam(), decode_xid, encode_xid); }

INSTANTIATE_TEST_SUITE_P(
    Fixtures, XidTest,
    ::testing::Values(Fixture<Xid>{"Docs", {102}, 0, hex("66 00 00 00 00 00 00 00")},
                      Fixture<Xid>{"Captured", {0x21}, 0, hex("21 00 00 00 00 00 00 00")},
                      Fixture<Xid>{"Max", {~uint64_t{0}}, 0, hex("ff ff ff ff ff ff ff ff")}),
    FixtureName());

// --- QUERY_EVENT

// The status variables MariaDB 10.11 wrote for the captured statements.
const Bytes kStatusVars =
    hex("00 00 00 00 01 01 00 00 20 54 00 00 00 00 06 03 73 74 64 04 21 00 21 00 2d 00");
const Bytes kStatusVarsWithXid =
    hex("00 00 00 00 01 01 00 00 20 54 00 00 00 00 06 03 73 74 64 04 21 00 21 00 2d 00 81 39 00 00"
        "00 00 00 00 00");

class QueryTest : public ::testing::TestWithParam<Fixture<Query>> {};

TEST_P(QueryTest, Fixture) { check_codec(GetParam(), decode_query, encode_query); }

const Bytes kQueryPostHeader = hex("0c 00 00 00 00 00 00 00");

// A query decodes from the NUL after the schema on (the text is string<EOF>).
INSTANTIATE_TEST_SUITE_P(
    Fixtures, QueryTest,
    ::testing::Values(
        // Captured: CREATE DATABASE IF NOT EXISTS codec, run with default schema "codec".
        Fixture<Query>{"CapturedDdl",
                       {12, 0, 0, kStatusVars, "codec", "CREATE DATABASE IF NOT EXISTS codec"},
                       0,
                       cat({kQueryPostHeader, hex("05 00 00 1a 00"), kStatusVars, text("codec"),
                            hex("00"), text("CREATE DATABASE IF NOT EXISTS codec")}),
                       13 + 26 + 5 + 1},
        // Captured: the COMMIT that ends the MyISAM insert, no default schema.
        Fixture<Query>{
            "CapturedCommit",
            {12, 0, 0, kStatusVars, "", "COMMIT"},
            0,
            cat({kQueryPostHeader, hex("00 00 00 1a 00"), kStatusVars, hex("00"), text("COMMIT")}),
            13 + 26 + 1},
        // Captured (checksum off): ALTER TABLE with its Q_XID status variable.
        Fixture<Query>{
            "CapturedAlter",
            {14, 0, 0, kStatusVarsWithXid, "", "ALTER TABLE codec.t ADD COLUMN w INT NULL"},
            0,
            cat({hex("0e 00 00 00 00 00 00 00 00 00 00 23 00"), kStatusVarsWithXid, hex("00"),
                 text("ALTER TABLE codec.t ADD COLUMN w INT NULL")}),
            13 + 35 + 1},
        Fixture<Query>{"ErrorCodeAndExecTime",
                       {1, 2, 1062, {}, "db", "INSERT"},
                       0,
                       cat({hex("01 00 00 00 02 00 00 00 02 26 04 00 00"), text("db"), hex("00"),
                            text("INSERT")}),
                       13 + 2 + 1}),
    FixtureName());

TEST(Query, Failures) {
  check_failures(
      {{"no NUL after the schema", cat({kQueryPostHeader, hex("02 00 00 00 00 64 62 01")}),
        CodecErrc::invalid_input},
       {"status vars cut short", cat({kQueryPostHeader, hex("00 00 00 10 00 01 02")}),
        CodecErrc::not_enough_input}},
      decode_query);
}

// --- HEARTBEAT_LOG_EVENT

class HeartbeatTest : public ::testing::TestWithParam<Fixture<Heartbeat>> {};

TEST_P(HeartbeatTest, Fixture) { check_codec(GetParam(), decode_heartbeat, encode_heartbeat); }

INSTANTIATE_TEST_SUITE_P(Fixtures, HeartbeatTest,
                         ::testing::Values(Fixture<Heartbeat>{
                             "FileName", {"mysql-bin.000006"}, 0, text("mysql-bin.000006"), 0}),
                         FixtureName());

}  // namespace
}  // namespace replproxy::protocol::binlog
