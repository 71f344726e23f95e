#include "protocol/handshake.h"

#include <gtest/gtest.h>

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

// The Protocol::HandshakeV10 examples of the MySQL protocol docs.
const Bytes kMysql552Greeting =
    hex("0a 35 2e 35 2e 32 2d 6d 32 00 0b 00 00 00 64 76 48 40 49 2d 43 4a 00 ff f7 08 02 00"
        "00 00 00 00 00 00 00 00 00 00 00 00 00 2a 34 64 7c 63 5a 77 6b 34 5e 5d 3a 00");
const Bytes kMysql564Greeting =
    hex("0a 35 2e 36 2e 34 2d 6d 37 2d 6c 6f 67 00 56 0a 00 00 52 42 33 76 7a 26 47 72 00 ff"
        "ff 08 02 00 0f c0 15 00 00 00 00 00 00 00 00 00 00 2b 79 44 26 2f 5a 5a 33 30 35 5a"
        "47 00 6d 79 73 71 6c 5f 6e 61 74 69 76 65 5f 70 61 73 73 77 6f 72 64 00");

// A MariaDB 10.11 greeting, assembled field by field after the MariaDB protocol docs (not
// captured): CLIENT_MYSQL is unset, so the last 4 reserved bytes carry the extended capabilities.
const Bytes kMariadbGreeting = cat({
    hex("0a"),
    nul("5.5.5-10.11.19-MariaDB-0+deb12u1"),
    hex("2a 00 00 00"),        // connection id 42
    nul("2g<>Wd+z"),           // nonce part 1, then the filler
    hex("fe f7"),              // capabilities, bits 0-15 (CLIENT_MYSQL unset)
    hex("2d"),                 // utf8mb4_general_ci
    hex("02 00"),              // SERVER_STATUS_AUTOCOMMIT
    hex("ff 81"),              // capabilities, bits 16-31
    hex("15"),                 // auth_plugin_data_len: 20 + NUL
    hex("00 00 00 00 00 00"),  // reserved
    hex("1d 00 00 00"),        // progress, bulk, extended metadata, cache metadata
    nul("NsUf4p;Kq0Rh"),       // nonce part 2 and its NUL
    nul("mysql_native_password"),
});
constexpr uint64_t kMariadbServerCaps = 0x0000001d81fff7feULL;

class InitialHandshakeTest : public ::testing::TestWithParam<Fixture<InitialHandshake>> {};

TEST_P(InitialHandshakeTest, Fixture) {
  test::check_codec(GetParam(), decode_initial_handshake, encode_initial_handshake);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, InitialHandshakeTest,
    ::testing::Values(
        // No CLIENT_PLUGIN_AUTH: no plugin name, auth_plugin_data_len 0, part 2 still 13 bytes.
        Fixture<InitialHandshake>{"MysqlDocs552",
                                  {"5.5.2-m2", 11, "dvH@I-CJ*4d|cZwk4^]:", 0xf7ff, 8, 2, ""},
                                  0,
                                  kMysql552Greeting},
        Fixture<InitialHandshake>{"MysqlDocs564",
                                  {"5.6.4-m7-log", 0x0a56, "RB3vz&Gr+yD&/ZZ305ZG", 0xc00fffff, 8, 2,
                                   "mysql_native_password"},
                                  0,
                                  kMysql564Greeting},
        Fixture<InitialHandshake>{"Mariadb1011",
                                  {"5.5.5-10.11.19-MariaDB-0+deb12u1", 42, "2g<>Wd+zNsUf4p;Kq0Rh",
                                   kMariadbServerCaps, 45, 2, "mysql_native_password"},
                                  0,
                                  kMariadbGreeting}),
    test::FixtureName());

TEST(InitialHandshake, MariadbCapabilitiesAreIgnoredWhenClientMysqlIsSet) {
  Bytes bytes = kMysql564Greeting;
  bytes[41] = 0x1d;  // the first extended-capability byte, set although CLIENT_MYSQL is set
  auto msg = decode_initial_handshake(bytes);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->capabilities, 0xc00fffffULL);

  InitialHandshake mysql = *msg;
  mysql.capabilities |= cap::kMariadbProgress;  // not representable with CLIENT_MYSQL set
  Bytes out;
  encode_initial_handshake(mysql, out);
  EXPECT_EQ(out, kMysql564Greeting) << "the extended capabilities are written as zeros";
}

TEST(InitialHandshake, LongerNonceFollowsAuthPluginDataLen) {
  InitialHandshake msg{"x",
                       1,
                       std::string(30, 'n'),
                       cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth,
                       8,
                       0,
                       "p"};
  Bytes out;
  encode_initial_handshake(msg, out);
  EXPECT_EQ(out[23], 31) << "auth_plugin_data_len counts the NUL";
  EXPECT_EQ(decode_initial_handshake(out).value(), msg);
}

TEST(InitialHandshake, Failures) {
  Bytes version9 = kMysql564Greeting;
  version9[0] = 9;
  test::expect_error(decode_initial_handshake(version9), CodecErrc::invalid_input);

  // An ERR instead of a greeting ("Host is not allowed to connect") is not a greeting.
  test::expect_error(decode_initial_handshake(hex("ff 6a 04 48 6f 73 74")),
                     CodecErrc::invalid_input);

  Bytes no_nul = kMysql564Greeting;
  no_nul[57] = 0x01;  // the NUL that ends auth_plugin_data_part_2
  test::expect_error(decode_initial_handshake(no_nul), CodecErrc::invalid_input);

  test::expect_error(decode_initial_handshake({}), CodecErrc::not_enough_input);
}

// HandshakeResponse41 example of the MySQL protocol docs: CLIENT_MYSQL is set, the auth response
// has a one-byte length (CLIENT_SECURE_CONNECTION without the lenenc capability).
const Bytes kMysqlDocsResponse =
    hex("8d a6 0f 00 00 00 00 01 08 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
        "00 00 00 00 70 61 6d 00 14 ab 09 ee f6 bc b1 32 3e 61 14 38 65 c0 99 1d 95 7d 75 d4"
        "47 74 65 73 74 00 6d 79 73 71 6c 5f 6e 61 74 69 76 65 5f 70 61 73 73 77 6f 72 64 00");

// A MariaDB client's response, assembled after the MariaDB protocol docs (not captured).
constexpr uint64_t kMariadbClientCaps = 0x0000000d00bfa28cULL;
const Bytes kMariadbAuth = hex("56 02 a3 89 c4 2b a0 2e ef 3a ea cd 0c b7 0d 3b d7 9b 9a 7f");
const Bytes kMariadbResponse = cat({
    hex("8c a2 bf 00"),  // capabilities, bits 0-31: CLIENT_MYSQL unset, lenenc auth, attributes
    hex("00 00 00 01"),  // max_packet_size 16 MiB
    hex("2d"),           // utf8mb4_general_ci
    hex("00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),  // filler
    hex("0d 00 00 00"),  // extended: progress, bulk, extended metadata
    nul("app"),
    lenenc(kMariadbAuth),  // auth response, lenenc (CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA)
    nul("shop"),
    nul("mysql_native_password"),
    hex("22"),  // attributes block, 34 bytes
    lenenc("_client_name"),
    lenenc("libmariadb"),
    lenenc("_pid"),
    lenenc("4242"),
});

class HandshakeResponseTest : public ::testing::TestWithParam<Fixture<HandshakeResponse>> {};

TEST_P(HandshakeResponseTest, Fixture) {
  test::check_codec(GetParam(), decode_handshake_response, encode_handshake_response);
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, HandshakeResponseTest,
    ::testing::Values(
        Fixture<HandshakeResponse>{
            "MysqlDocs",
            {0x000fa68d,
             0x01000000,
             8,
             "pam",
             std::string(as_chars(ByteView(kMysqlDocsResponse).subspan(37, 20))),
             "test",
             "mysql_native_password",
             {}},
            0,
            kMysqlDocsResponse},
        Fixture<HandshakeResponse>{"Mariadb",
                                   {kMariadbClientCaps,
                                    0x01000000,
                                    45,
                                    "app",
                                    std::string(as_chars(kMariadbAuth)),
                                    "shop",
                                    "mysql_native_password",
                                    {{"_client_name", "libmariadb"}, {"_pid", "4242"}}},
                                   0,
                                   kMariadbResponse},
        // An empty password gives an empty auth response.
        Fixture<HandshakeResponse>{
            "EmptyPassword",
            {cap::kLongPassword | cap::kProtocol41 | cap::kSecureConnection,
             0,
             8,
             "u",
             "",
             "",
             "",
             {}},
            0,
            cat({hex("01 82 00 00 00 00 00 00 08"), Bytes(23, 0), hex("75 00 00")})},
        // Without CLIENT_SECURE_CONNECTION the auth response is NUL-terminated.
        Fixture<HandshakeResponse>{
            "NulTerminatedAuth",
            {cap::kLongPassword | cap::kProtocol41, 0, 8, "u", "x", "", "", {}},
            0,
            cat({hex("01 02 00 00 00 00 00 00 08"), Bytes(23, 0), hex("75 00 78 00")})}),
    test::FixtureName());

TEST(HandshakeResponse, Failures) {
  // HandshakeResponse320 (no CLIENT_PROTOCOL_41) is not supported.
  Bytes old = kMysqlDocsResponse;
  old[1] &= ~0x02;
  test::expect_error(decode_handshake_response(old), CodecErrc::invalid_input);

  // An attribute block whose pair runs past the announced length.
  Bytes bad_attributes = kMariadbResponse;
  bad_attributes[bad_attributes.size() - 35] = 0x05;  // the block length, now too short
  bad_attributes.resize(bad_attributes.size() - 29);
  test::expect_error(decode_handshake_response(bad_attributes), CodecErrc::invalid_input);

  // An SSLRequest is a prefix of a response: on its own it is incomplete, not malformed.
  test::expect_error(decode_handshake_response(ByteView(kMysqlDocsResponse).first(32)),
                     CodecErrc::not_enough_input);
}

// SSLRequest: the first 32 bytes of a response, with CLIENT_SSL.
const Bytes kMysqlSslRequest = cat({hex("8d ae 0f 00 00 00 00 01 08"), Bytes(23, 0)});
const Bytes kMariadbSslRequest =
    cat({hex("8c aa bf 00 00 00 00 01 2d"), Bytes(19, 0), hex("0d 00 00 00")});

class SslRequestTest : public ::testing::TestWithParam<Fixture<SslRequest>> {};

TEST_P(SslRequestTest, Fixture) {
  test::check_codec(GetParam(), decode_ssl_request, encode_ssl_request);
  EXPECT_TRUE(is_ssl_request(GetParam().bytes));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, SslRequestTest,
    ::testing::Values(
        Fixture<SslRequest>{"Mysql", {0x000fae8d, 0x01000000, 8}, 0, kMysqlSslRequest},
        Fixture<SslRequest>{
            "Mariadb", {kMariadbClientCaps | cap::kSsl, 0x01000000, 45}, 0, kMariadbSslRequest}),
    test::FixtureName());

TEST(SslRequest, Failures) {
  const ByteView no_ssl = ByteView(kMysqlDocsResponse).first(kSslRequestSize);
  EXPECT_FALSE(is_ssl_request(no_ssl));
  test::expect_error(decode_ssl_request(no_ssl), CodecErrc::invalid_input);

  Bytes no_protocol41 = kMysqlSslRequest;
  no_protocol41[1] &= ~0x02;
  test::expect_error(decode_ssl_request(no_protocol41), CodecErrc::invalid_input);

  EXPECT_FALSE(is_ssl_request(kMysqlDocsResponse)) << "a full response is longer than 32 bytes";
}

class AuthSwitchRequestTest : public ::testing::TestWithParam<Fixture<AuthSwitchRequest>> {};

TEST_P(AuthSwitchRequestTest, Fixture) {
  test::check_codec(GetParam(), decode_auth_switch_request, encode_auth_switch_request);
}

const Bytes kEd25519Nonce =
    hex("0b 30 55 7a 9f c4 e9 0e 33 58 7d a2 c7 ec 11 36 5b 80 a5 ca ef 14 39 5e 83 a8 cd f2 17 3c"
        "61 86");

// Prefixes longer than the plugin name decode: the data is string<EOF>.
INSTANTIATE_TEST_SUITE_P(
    Fixtures, AuthSwitchRequestTest,
    ::testing::Values(
        // The example of the MySQL protocol docs; the nonce's trailing NUL is not part of it.
        Fixture<AuthSwitchRequest>{
            "NativePassword",
            {"mysql_native_password", "zQg4i6oNy6=rHN/>-b)A"},
            0,
            hex("fe 6d 79 73 71 6c 5f 6e 61 74 69 76 65 5f 70 61 73 73 77 6f 72 64 00 7a 51 67 34"
                "69 36 6f 4e 79 36 3d 72 48 4e 2f 3e 2d 62 29 41 00"),
            23},
        // Other plugins' data is kept as it is, NUL or not.
        Fixture<AuthSwitchRequest>{"Ed25519",
                                   {"client_ed25519", std::string(as_chars(kEd25519Nonce))},
                                   0,
                                   cat({hex("fe"), nul("client_ed25519"), kEd25519Nonce}),
                                   16}),
    test::FixtureName());

TEST(AuthSwitchRequest, NativeDataWithoutNulIsKept) {
  const Bytes bytes = cat({hex("fe"), nul("mysql_native_password"), text("abc")});
  EXPECT_EQ(decode_auth_switch_request(bytes).value().plugin_data, "abc");
}

TEST(AuthSwitchRequest, Failures) {
  test::expect_error(decode_auth_switch_request(hex("01 61 00")), CodecErrc::invalid_input);
  // A bare 0xfe (the pre-4.1 "old password" switch) has no plugin name.
  test::expect_error(decode_auth_switch_request(hex("fe")), CodecErrc::not_enough_input);
}

class AuthMoreDataTest : public ::testing::TestWithParam<Fixture<AuthMoreData>> {};

TEST_P(AuthMoreDataTest, Fixture) {
  test::check_codec(GetParam(), decode_auth_more_data, encode_auth_more_data);
}

// caching_sha2_password's "fast auth succeeded" and "perform full authentication" bytes.
INSTANTIATE_TEST_SUITE_P(
    Fixtures, AuthMoreDataTest,
    ::testing::Values(Fixture<AuthMoreData>{"FastAuthOk", {"\x03"}, 0, hex("01 03"), 1},
                      Fixture<AuthMoreData>{"FullAuth", {"\x04"}, 0, hex("01 04"), 1},
                      Fixture<AuthMoreData>{"Empty", {""}, 0, hex("01"), 1}),
    test::FixtureName());

TEST(AuthMoreData, Failures) {
  test::expect_error(decode_auth_more_data(hex("02 04")), CodecErrc::invalid_input);
  test::expect_error(decode_auth_more_data({}), CodecErrc::not_enough_input);
}

}  // namespace
}  // namespace replproxy::protocol
