#include "protocol/generic.h"

#include <gtest/gtest.h>

#include "codec_test_util.h"
#include "protocol/constants.h"

namespace replproxy::protocol {
namespace {

using test::cat;
using test::Fixture;
using test::hex;
using test::text;

constexpr uint64_t kCaps41 = cap::kProtocol41 | cap::kTransactions;
constexpr uint64_t kCapsTrack = kCaps41 | cap::kSessionTrack;
constexpr uint16_t kStateChanged = status::kAutocommit | status::kSessionStateChanged;

struct FailureCase {
  std::string name;
  Bytes bytes;
  uint64_t capabilities;
  CodecErrc expected;
};

// The data of a session-state entry: its fields as lenenc strings (all short here).
std::string entry(std::initializer_list<std::string_view> fields) {
  std::string data;
  for (std::string_view f : fields) {
    data.push_back(static_cast<char>(f.size()));
    data.append(f);
  }
  return data;
}

// An OK under CLIENT_SESSION_TRACK that reports state changes, otherwise empty.
OkPacket tracked_ok(uint64_t affected_rows, std::vector<SessionStateChange> changes) {
  return OkPacket{0x00, affected_rows, 0, kStateChanged, 0, "", std::move(changes)};
}

class OkTest : public ::testing::TestWithParam<Fixture<OkPacket>> {};

TEST_P(OkTest, Fixture) {
  const uint64_t caps = GetParam().capabilities;
  test::check_codec(
      GetParam(), [caps](ByteView b) { return decode_ok(b, caps); },
      [caps](const OkPacket& m, Bytes& out) { encode_ok(m, caps, out); });
}

const std::string kInfo = "Rows matched: 1  Changed: 1  Warnings: 0";

// Every OK decodes from its first 7 bytes on (3 without status flags): the info is a lenenc
// string present only if bytes remain, with or without CLIENT_SESSION_TRACK. (MySQL's docs say
// string<EOF> without it, but MariaDB's docs, both servers and both client libraries use lenenc:
// libmariadb reports "malformed packet" for an EOF-string info.)
INSTANTIATE_TEST_SUITE_P(
    Fixtures, OkTest,
    ::testing::Values(
        // The OK example of the MySQL protocol docs.
        Fixture<OkPacket>{"MysqlDocs",
                          {0x00, 0, 0, status::kAutocommit, 0, "", {}},
                          kCaps41,
                          hex("00 00 00 02 00 00 00"),
                          7},
        // The session-state examples of the MySQL protocol docs: SET autocommit=OFF, USE test,
        // and a tracked state change.
        Fixture<OkPacket>{"SysVarAutocommit", tracked_ok(0, {{0, entry({"autocommit", "OFF"})}}),
                          kCapsTrack,
                          hex("00 00 00 02 40 00 00 00 11 00 0f 0a 61 75 74 6f 63 6f 6d 6d 69 74"
                              "03 4f 46 46"),
                          7},
        Fixture<OkPacket>{"Schema", tracked_ok(0, {{1, entry({"test"})}}), kCapsTrack,
                          hex("00 00 00 02 40 00 00 00 07 01 05 04 74 65 73 74"), 7},
        Fixture<OkPacket>{"StateChange", tracked_ok(0, {{2, entry({"1"})}}), kCapsTrack,
                          hex("00 00 00 02 40 00 00 00 04 02 02 01 31"), 7},
        // The server's answer to "USE employees", as captured from a MySQL server.
        Fixture<OkPacket>{"UseEmployeesCaptured", tracked_ok(0, {{1, entry({"employees"})}}),
                          kCapsTrack,
                          cat({hex("00 00 00 02 40 00 00 00 0c 01 0a 09"), text("employees")}), 7},
        // MariaDB with session_track_system_variables=last_gtid after an INSERT (constructed).
        Fixture<OkPacket>{"LastGtid", tracked_ok(1, {{0, entry({"last_gtid", "0-1-42"})}}),
                          kCapsTrack,
                          cat({hex("00 01 00 02 40 00 00 00 13 00 11 09"), text("last_gtid"),
                               hex("06"), text("0-1-42")}),
                          7},
        Fixture<OkPacket>{"InfoAsLenencWithoutSessionTrack",
                          {0x00, 1, 0, status::kAutocommit, 0, kInfo, {}},
                          kCaps41,
                          cat({hex("00 01 00 02 00 00 00 28"), text(kInfo)}),
                          7},
        Fixture<OkPacket>{"InfoAsLenencUnderSessionTrack",
                          {0x00, 1, 0, status::kAutocommit, 0, kInfo, {}},
                          kCapsTrack,
                          cat({hex("00 01 00 02 00 00 00 28"), text(kInfo)}),
                          7},
        Fixture<OkPacket>{"WideLenencCounts",
                          {0x00, 251, 0x10000, 0x0003, 2, "", {}},
                          kCaps41,
                          hex("00 fc fb 00 fd 00 00 01 03 00 02 00"),
                          12},
        // The OK that ends a result set under CLIENT_DEPRECATE_EOF.
        Fixture<OkPacket>{"OkFe",
                          {0xfe, 0, 0, status::kAutocommit, 0, "", {}},
                          kCaps41 | cap::kDeprecateEof,
                          hex("fe 00 00 02 00 00 00"),
                          7},
        Fixture<OkPacket>{"TransactionsOnly",
                          {0x00, 1, 2, 0x0003, 0, "", {}},
                          cap::kTransactions,
                          hex("00 01 02 03 00"),
                          5},
        Fixture<OkPacket>{"NoCapabilities", {0x00, 0, 0, 0, 0, "", {}}, 0, hex("00 00 00"), 3}),
    test::FixtureName());

TEST(Ok, Failures) {
  const FailureCase cases[] = {
      {"wrong header", hex("01 00 00 02 00 00 00"), kCaps41, CodecErrc::invalid_input},
      {"NULL affected rows", hex("00 fb 00 02 00 00 00"), kCaps41, CodecErrc::invalid_input},
      {"truncated lenenc", hex("00 fc 01"), kCaps41, CodecErrc::not_enough_input},
      {"state entry overflows its block", hex("00 00 00 02 40 00 00 00 03 01 05 04"), kCapsTrack,
       CodecErrc::invalid_input},
      {"bytes after the state block", hex("00 00 00 02 40 00 00 00 04 02 02 01 31 00"), kCapsTrack,
       CodecErrc::invalid_input},
      {"bytes after the info", hex("00 00 00 02 00 00 00 01 61 00"), kCapsTrack,
       CodecErrc::invalid_input},
      {"bytes after the info, no session track", hex("00 00 00 02 00 00 00 01 61 00"), kCaps41,
       CodecErrc::invalid_input},
      {"info longer than the packet", hex("00 00 00 02 00 00 00 05 61"), kCaps41,
       CodecErrc::not_enough_input},
      {"state flag but no state block", hex("00 00 00 02 40 00 00 00"), kCapsTrack,
       CodecErrc::not_enough_input},
      {"empty", {}, kCaps41, CodecErrc::not_enough_input},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test::expect_error(decode_ok(c.bytes, c.capabilities), c.expected);
  }
}

TEST(Ok, StateFlagWithoutInfoIsAccepted) {
  // Nothing after the warnings: no info and no state, whatever the status flags say.
  auto ok = decode_ok(hex("00 00 00 02 40 00 00"), kCapsTrack);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status_flags, kStateChanged);
  EXPECT_TRUE(ok->session_state_changes.empty());
}

TEST(Ok, EncoderAnnouncesStateChanges) {
  OkPacket ok{0x00, 0, 0, status::kAutocommit, 0, "", {{1, entry({"test"})}}};
  Bytes out;
  encode_ok(ok, kCapsTrack, out);
  EXPECT_EQ(out, hex("00 00 00 02 40 00 00 00 07 01 05 04 74 65 73 74"));
}

class ErrTest : public ::testing::TestWithParam<Fixture<ErrPacket>> {};

TEST_P(ErrTest, Fixture) {
  const uint64_t caps = GetParam().capabilities;
  test::check_codec(
      GetParam(), [caps](ByteView b) { return decode_err(b, caps); },
      [caps](const ErrPacket& m, Bytes& out) { encode_err(m, caps, out); });
}

const std::string kHostDenied = "Host '10.0.0.1' is not allowed to connect to this MariaDB server";

// The message is string<EOF>, so every prefix from the error code on decodes.
INSTANTIATE_TEST_SUITE_P(
    Fixtures, ErrTest,
    ::testing::Values(
        // The ERR example of the MySQL protocol docs.
        Fixture<ErrPacket>{"MysqlDocs",
                           {1096, "HY000", "No tables used"},
                           kCaps41,
                           hex("ff 48 04 23 48 59 30 30 30 4e 6f 20 74 61 62 6c 65 73 20 75 73 65"
                               "64"),
                           3},
        // Sent before capabilities are negotiated, so without the SQL state marker.
        Fixture<ErrPacket>{"NoStateMarker",
                           {1130, "", kHostDenied},
                           kCaps41,
                           cat({hex("ff 6a 04"), text(kHostDenied)}),
                           3},
        Fixture<ErrPacket>{"Pre41",
                           {1045, "", "Access denied"},
                           0,
                           cat({hex("ff 15 04"), text("Access denied")}),
                           3}),
    test::FixtureName());

TEST(Err, Failures) {
  const FailureCase cases[] = {
      {"wrong header", hex("00 48 04"), kCaps41, CodecErrc::invalid_input},
      {"short error code", hex("ff 48"), kCaps41, CodecErrc::not_enough_input},
      {"short SQL state", hex("ff 48 04 23 48 59"), kCaps41, CodecErrc::not_enough_input},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test::expect_error(decode_err(c.bytes, c.capabilities), c.expected);
  }
}

TEST(Err, MarkerIsMessageTextBefore41) {
  auto err = decode_err(hex("ff 48 04 23 48 59 30 30 30 78"), 0);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->sql_state, "");
  EXPECT_EQ(err->message, "#HY000x");
}

TEST(Err, EncoderWritesAFiveCharacterState) {
  Bytes out;
  encode_err({1, "HY", "m"}, kCaps41, out);
  EXPECT_EQ(out, hex("ff 01 00 23 48 59 30 30 30 6d"));
}

class EofTest : public ::testing::TestWithParam<Fixture<EofPacket>> {};

TEST_P(EofTest, Fixture) {
  const uint64_t caps = GetParam().capabilities;
  test::check_codec(
      GetParam(), [caps](ByteView b) { return decode_eof(b, caps); },
      [caps](const EofPacket& m, Bytes& out) { encode_eof(m, caps, out); });
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, EofTest,
    ::testing::Values(
        // The EOF example of the MySQL protocol docs.
        Fixture<EofPacket>{"MysqlDocs", {0, status::kAutocommit}, kCaps41, hex("fe 00 00 02 00")},
        Fixture<EofPacket>{"Pre41", {}, 0, hex("fe")}),
    test::FixtureName());

TEST(Eof, Failures) {
  const FailureCase cases[] = {
      {"wrong header", hex("00 00 00 02 00"), kCaps41, CodecErrc::invalid_input},
      {"too long", hex("fe 00 00 02 00 00"), kCaps41, CodecErrc::invalid_input},
      {"short", hex("fe 00"), kCaps41, CodecErrc::not_enough_input},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test::expect_error(decode_eof(c.bytes, c.capabilities), c.expected);
  }
}

TEST(Generic, PayloadKinds) {
  EXPECT_TRUE(is_ok_payload(hex("00 00 00 02 00 00 00")));
  EXPECT_FALSE(is_ok_payload({}));
  EXPECT_TRUE(is_err_payload(hex("ff 48 04")));
  EXPECT_TRUE(is_eof_payload(hex("fe 00 00 02 00")));
  EXPECT_TRUE(is_eof_payload(hex("fe 00 00 02 00 00 00 00")));
  // From 9 bytes on, 0xfe starts a row whose first column is a lenenc with an 8-byte length.
  EXPECT_FALSE(is_eof_payload(hex("fe 00 00 00 00 00 00 00 00")));
  EXPECT_FALSE(is_eof_payload(hex("00")));
}

TEST(SessionTrack, TrackedVariable) {
  auto v = decode_tracked_variable(entry({"autocommit", "OFF"}));
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, (TrackedVariable{"autocommit", "OFF"}));
  EXPECT_EQ(decode_tracked_variable(entry({"last_gtid", ""})).value(),
            (TrackedVariable{"last_gtid", ""}));

  // The entry arrived whole, so a short or long entry is malformed, never incomplete.
  test::expect_error(decode_tracked_variable(entry({"autocommit"})), CodecErrc::invalid_input);
  test::expect_error(decode_tracked_variable(entry({"autocommit", "OFF"}) + "x"),
                     CodecErrc::invalid_input);
  test::expect_error(decode_tracked_variable(""), CodecErrc::invalid_input);
}

TEST(SessionTrack, TrackedSchema) {
  EXPECT_EQ(decode_tracked_schema(entry({"test"})).value(), "test");
  EXPECT_EQ(decode_tracked_schema(entry({""})).value(), "") << "no default schema";
  test::expect_error(decode_tracked_schema("\x05test"), CodecErrc::invalid_input);
  test::expect_error(decode_tracked_schema(entry({"test"}) + "x"), CodecErrc::invalid_input);
}

}  // namespace
}  // namespace replproxy::protocol
