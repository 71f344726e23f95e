#include "protocol/commands.h"

#include <gtest/gtest.h>

#include <functional>

#include "codec_test_util.h"
#include "protocol/constants.h"

namespace replproxy::protocol {
namespace {

using test::cat;
using test::Fixture;
using test::hex;
using test::lenenc;
using test::nul;
using test::text;

// Most fixtures are the command examples of the MySQL protocol docs. Commands whose last field
// is string<EOF> decode from the end of their fixed part on, hence complete_from.

TEST(Commands, ComQuery) {
  test::check_codec(
      Fixture<ComQuery>{"docs",
                        {"select @@version_comment limit 1"},
                        0,
                        hex("03 73 65 6c 65 63 74 20 40 40 76 65 72 73 69 6f 6e 5f 63 6f 6d 6d"
                            "65 6e 74 20 6c 69 6d 69 74 20 31"),
                        1},
      decode_com_query, [](const ComQuery& m, Bytes& out) { encode_com_query(m.query, out); });
  test::check_codec(Fixture<ComQuery>{"empty", {""}, 0, hex("03"), 1}, decode_com_query,
                    [](const ComQuery& m, Bytes& out) { encode_com_query(m.query, out); });
}

TEST(Commands, ComInitDb) {
  test::check_codec(Fixture<ComInitDb>{"docs", {"test"}, 0, hex("02 74 65 73 74"), 1},
                    decode_com_init_db,
                    [](const ComInitDb& m, Bytes& out) { encode_com_init_db(m.schema, out); });
}

TEST(Commands, ComFieldList) {
  test::check_codec(Fixture<ComFieldList>{"docs", {"test", ""}, 0, hex("04 74 65 73 74 00"), 6},
                    decode_com_field_list, encode_com_field_list);
  test::check_codec(Fixture<ComFieldList>{"wildcard", {"t1", "%"}, 0, hex("04 74 31 00 25"), 4},
                    decode_com_field_list, encode_com_field_list);
}

TEST(Commands, ComSetOption) {
  const auto encode = [](const ComSetOption& m, Bytes& out) {
    encode_com_set_option(m.option, out);
  };
  test::check_codec(Fixture<ComSetOption>{"on", {0}, 0, hex("1b 00 00")}, decode_com_set_option,
                    encode);
  test::check_codec(Fixture<ComSetOption>{"off", {1}, 0, hex("1b 01 00")}, decode_com_set_option,
                    encode);
}

TEST(Commands, ComStmtPrepare) {
  test::check_codec(
      Fixture<ComStmtPrepare>{"docs",
                              {"SELECT CONCAT(?, ?) AS col1"},
                              0,
                              hex("16 53 45 4c 45 43 54 20 43 4f 4e 43 41 54 28 3f 2c 20 3f 29 20"
                                  "41 53 20 63 6f 6c 31"),
                              1},
      decode_com_stmt_prepare,
      [](const ComStmtPrepare& m, Bytes& out) { encode_com_stmt_prepare(m.query, out); });
}

TEST(Commands, ComStmtExecute) {
  // One VARCHAR parameter "foo": null bitmap, new-params-bound flag, type, value.
  const Bytes parameters = hex("00 01 0f 00 03 66 6f 6f");
  test::check_codec(Fixture<ComStmtExecute>{"docs",
                                            {1, 0, 1, parameters},
                                            0,
                                            cat({hex("17 01 00 00 00 00 01 00 00 00"), parameters}),
                                            10},
                    decode_com_stmt_execute, encode_com_stmt_execute);
  test::check_codec(
      Fixture<ComStmtExecute>{
          "cursor", {0x01020304, 1, 1, {}}, 0, hex("17 04 03 02 01 01 01 00 00 00"), 10},
      decode_com_stmt_execute, encode_com_stmt_execute);
}

TEST(Commands, ComStmtCloseAndReset) {
  test::check_codec(
      Fixture<ComStmtId>{"close", {1}, 0, hex("19 01 00 00 00")}, decode_com_stmt_close,
      [](const ComStmtId& m, Bytes& out) { encode_com_stmt_close(m.statement_id, out); });
  test::check_codec(
      Fixture<ComStmtId>{"reset", {1}, 0, hex("1a 01 00 00 00")}, decode_com_stmt_reset,
      [](const ComStmtId& m, Bytes& out) { encode_com_stmt_reset(m.statement_id, out); });
}

TEST(Commands, ComStmtFetch) {
  test::check_codec(
      Fixture<ComStmtFetch>{"ten rows", {1, 10}, 0, hex("1c 01 00 00 00 0a 00 00 00")},
      decode_com_stmt_fetch, encode_com_stmt_fetch);
}

TEST(Commands, ComStmtSendLongData) {
  const Bytes data = text("abc");
  test::check_codec(
      Fixture<ComStmtSendLongData>{
          "docs", {1, 2, data}, 0, cat({hex("18 01 00 00 00 02 00"), data}), 7},
      decode_com_stmt_send_long_data, encode_com_stmt_send_long_data);
}

constexpr uint64_t kChangeUserCaps =
    cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth | cap::kConnectAttrs;
const Bytes kAuth = hex("56 02 a3 89 c4 2b a0 2e ef 3a ea cd 0c b7 0d 3b d7 9b 9a 7f");

// A MariaDB client's COM_CHANGE_USER, assembled after the MariaDB protocol docs (not captured).
const Bytes kMariadbChangeUser = cat({
    hex("11"),  // COM_CHANGE_USER
    nul("app"),
    lenenc(kAuth),  // a one-byte length under CLIENT_SECURE_CONNECTION
    nul("shop"),
    hex("2d 00"),  // utf8mb4_general_ci
    nul("mysql_native_password"),
    hex("18"),  // attributes block, 24 bytes
    lenenc("_client_name"),
    lenenc("libmariadb"),
});

void check_change_user(const Fixture<ComChangeUser>& f) {
  const uint64_t caps = f.capabilities;
  test::check_codec(
      f, [caps](ByteView b) { return decode_com_change_user(b, caps); },
      [caps](const ComChangeUser& m, Bytes& out) { encode_com_change_user(m, caps, out); });
}

TEST(Commands, ComChangeUser) {
  // Every field after the schema is "present only if bytes remain", so prefixes from the end
  // of the schema on may decode.
  check_change_user({"mariadb",
                     {"app",
                      std::string(as_chars(kAuth)),
                      "shop",
                      45,
                      "mysql_native_password",
                      {{"_client_name", "libmariadb"}}},
                     kChangeUserCaps,
                     kMariadbChangeUser,
                     31});
  // Without CLIENT_SECURE_CONNECTION the auth response is NUL-terminated.
  check_change_user({"nul terminated auth",
                     {"u", "x", "", 8, "", {}},
                     cap::kProtocol41,
                     hex("11 75 00 78 00 00 08 00"),
                     6});
}

TEST(Commands, ComChangeUserFromAnOldClientEndsAfterTheSchema) {
  auto msg = decode_com_change_user(hex("11 75 00 00 64 62 00"), kChangeUserCaps);
  ASSERT_TRUE(msg) << msg.error().message();
  EXPECT_EQ(msg->username, "u");
  EXPECT_EQ(msg->schema, "db");
  EXPECT_EQ(msg->character_set, 0);
  EXPECT_EQ(msg->auth_plugin_name, "");
}

TEST(Commands, ComChangeUserFailures) {
  Bytes bad_attributes = kMariadbChangeUser;
  bad_attributes[bad_attributes.size() - 25] = 0x03;  // the block length, now too short
  bad_attributes.resize(bad_attributes.size() - 21);
  test::expect_error(decode_com_change_user(bad_attributes, kChangeUserCaps),
                     CodecErrc::invalid_input);

  // Without CLIENT_PLUGIN_AUTH nothing may follow the character set.
  test::expect_error(
      decode_com_change_user(hex("11 75 00 00 00 2d 00 61 00"), cap::kSecureConnection),
      CodecErrc::invalid_input);
}

template <class R>
std::error_code error_of(const R& result) {
  return result ? std::error_code() : result.error();
}

// Each decoder checks its command byte.
TEST(Commands, WrongCommandByteIsInvalid) {
  const std::vector<std::pair<std::string, std::function<std::error_code(ByteView)>>> decoders = {
      {"query", [](ByteView b) { return error_of(decode_com_query(b)); }},
      {"init_db", [](ByteView b) { return error_of(decode_com_init_db(b)); }},
      {"field_list", [](ByteView b) { return error_of(decode_com_field_list(b)); }},
      {"set_option", [](ByteView b) { return error_of(decode_com_set_option(b)); }},
      {"stmt_prepare", [](ByteView b) { return error_of(decode_com_stmt_prepare(b)); }},
      {"stmt_execute", [](ByteView b) { return error_of(decode_com_stmt_execute(b)); }},
      {"stmt_close", [](ByteView b) { return error_of(decode_com_stmt_close(b)); }},
      {"stmt_reset", [](ByteView b) { return error_of(decode_com_stmt_reset(b)); }},
      {"stmt_fetch", [](ByteView b) { return error_of(decode_com_stmt_fetch(b)); }},
      {"stmt_send_long_data",
       [](ByteView b) { return error_of(decode_com_stmt_send_long_data(b)); }},
      {"change_user", [](ByteView b) { return error_of(decode_com_change_user(b, 0)); }},
  };
  // Long enough for every fixed part, and a NUL for every string<NUL>, so only the byte is wrong.
  const Bytes wrong = hex("ff 00 00 00 00 00 00 00 00 00 00 00");
  const Bytes empty;
  for (const auto& [name, decode] : decoders) {
    SCOPED_TRACE(name);
    EXPECT_EQ(decode(wrong), make_error_code(CodecErrc::invalid_input));
    EXPECT_EQ(decode(empty), make_error_code(CodecErrc::not_enough_input));
  }
}

TEST(Commands, FixedLengthFailures) {
  test::expect_error(decode_com_set_option(hex("1b 00")), CodecErrc::not_enough_input);
  test::expect_error(decode_com_stmt_fetch(hex("1c 01 00 00 00 0a 00 00")),
                     CodecErrc::not_enough_input);
  test::expect_error(decode_com_stmt_execute(hex("17 01 00 00 00 00 01 00 00")),
                     CodecErrc::not_enough_input);
}

TEST(Commands, CommandNames) {
  EXPECT_EQ(command_name(0x03), "COM_QUERY");
  EXPECT_EQ(command_name(0x00), "COM_SLEEP");
  EXPECT_EQ(command_name(static_cast<uint8_t>(Command::binlog_dump_gtid)), "COM_BINLOG_DUMP_GTID");
  EXPECT_EQ(command_name(0x1f), "COM_RESET_CONNECTION");
  EXPECT_EQ(command_name(0x20), "COM_UNKNOWN");
  EXPECT_EQ(command_name(0xfa), "COM_STMT_BULK_EXECUTE");
  EXPECT_EQ(command_name(0xfe), "COM_MULTI");
  EXPECT_EQ(command_name(0xff), "COM_UNKNOWN");
}

}  // namespace
}  // namespace replproxy::protocol
