// The MySQL login rewrites of protocol = "mysql" tunnels, as byte fixtures.

#include "relay/tunnel_login.h"

#include <gtest/gtest.h>

#include "protocol/constants.h"
#include "protocol/handshake.h"

namespace replproxy::relay {
namespace {

namespace cap = protocol::cap;
using protocol::Bytes;

protocol::InitialHandshake greeting(uint64_t capabilities) {
  return {.server_version = "10.11.6-MariaDB",
          .connection_id = 7,
          .auth_plugin_data = "abcdefghijklmnopqrst",
          .capabilities = capabilities,
          .character_set = 0x2d,
          .status_flags = 2,
          .auth_plugin_name = "mysql_native_password"};
}

// The SSLRequest is the client's own response's first 32 bytes with CLIENT_SSL added: MariaDB
// parses the response that follows with these capabilities.
TEST(TunnelLogin, SslRequestFromTheClientsResponse) {
  protocol::HandshakeResponse response{
      .capabilities = cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth |
                      cap::kConnectWithDb | cap::kMariadbProgress,
      .max_packet_size = 0x01000000,
      .character_set = 0x2d,
      .username = "app",
      .auth_response = std::string(20, 'x'),
      .database = "db",
      .auth_plugin_name = "mysql_native_password"};
  Bytes payload;
  protocol::encode_handshake_response(response, payload);
  const auto frame = ssl_request_frame(payload);
  ASSERT_TRUE(frame.has_value());
  // 0x00088208 + CLIENT_SSL 0x800, 16 MiB, charset, 19 zeros, extended capabilities 0x00000001.
  const Bytes expected = {0x20, 0x00, 0x00, 0x01, 0x08, 0x8a, 0x08, 0x00, 0x00, 0x00, 0x00, 0x01,
                          0x2d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(*frame, expected);
  EXPECT_TRUE(protocol::is_ssl_request(protocol::ByteView(*frame).subspan(4)));
}

TEST(TunnelLogin, SslRequestNeedsAProtocol41Response) {
  Bytes short_payload(32, 0x00);
  short_payload[1] = 0x02;  // CLIENT_PROTOCOL_41, but nothing after the fixed part
  EXPECT_FALSE(ssl_request_frame(short_payload).has_value());
  Bytes old_client(40, 0x00);  // no CLIENT_PROTOCOL_41
  EXPECT_FALSE(ssl_request_frame(old_client).has_value());
}

TEST(TunnelLogin, GreetingSslBitFlipsInPlace) {
  const uint64_t caps = cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth | cap::kSsl;
  Bytes with_ssl;
  protocol::encode_initial_handshake(greeting(caps), with_ssl);
  Bytes without_ssl;
  protocol::encode_initial_handshake(greeting(caps & ~cap::kSsl), without_ssl);

  Bytes payload = with_ssl;
  ASSERT_TRUE(set_greeting_ssl(payload, false));
  EXPECT_EQ(payload, without_ssl);
  ASSERT_TRUE(set_greeting_ssl(payload, true));
  EXPECT_EQ(payload, with_ssl);
  ASSERT_TRUE(set_greeting_ssl(payload, true));  // idempotent
  EXPECT_EQ(payload, with_ssl);
}

TEST(TunnelLogin, GreetingTooShortOrNotV10) {
  Bytes full;
  protocol::encode_initial_handshake(greeting(cap::kSsl), full);
  Bytes empty;
  EXPECT_FALSE(set_greeting_ssl(empty, true));
  Bytes wrong_version = full;
  wrong_version[0] = 9;
  EXPECT_FALSE(set_greeting_ssl(wrong_version, true));
  Bytes no_nul = {10, 'a', 'b'};
  EXPECT_FALSE(set_greeting_ssl(no_nul, true));
  // Cut just before the second capability byte: version, NUL, id 4, scramble 8, filler, 1 byte.
  const size_t caps = 1 + std::string("10.11.6-MariaDB").size() + 1 + 4 + 8 + 1;
  Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(caps + 1));
  EXPECT_FALSE(set_greeting_ssl(cut, true));
}

TEST(TunnelLogin, ResponseSslBit) {
  Bytes payload = {0x05, 0xa2, 0x3e, 0x00, 0xff};
  ASSERT_TRUE(set_response_ssl(payload, true));
  EXPECT_EQ(payload, (Bytes{0x05, 0xaa, 0x3e, 0x00, 0xff}));
  ASSERT_TRUE(set_response_ssl(payload, false));
  EXPECT_EQ(payload, (Bytes{0x05, 0xa2, 0x3e, 0x00, 0xff}));
  Bytes short_payload = {0x05, 0xaa, 0x3e};
  EXPECT_FALSE(set_response_ssl(short_payload, false));
}

TEST(TunnelLogin, EndsLogin) {
  EXPECT_TRUE(ends_login(Bytes{0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}));  // OK
  EXPECT_TRUE(ends_login(Bytes{0xff, 0x15, 0x04, '#', '2', '8', '0', '0', '0', 'x'}));  // ERR
  EXPECT_FALSE(ends_login(Bytes{0xfe, 'm', 'y', 0x00}));  // AuthSwitchRequest
  EXPECT_FALSE(ends_login(Bytes{0x01, 0x03}));            // AuthMoreData: fast auth
  EXPECT_FALSE(ends_login(Bytes{}));
}

TEST(TunnelLogin, ErrorFrame) {
  const Bytes frame = tunnel_error_frame(2, kErrTlsRequired, "in", "TLS only");
  const std::string message = "replproxy tunnel in: TLS only";
  Bytes expected = {static_cast<uint8_t>(9 + message.size()), 0x00, 0x00, 0x02, 0xff, 0x57,
                    0x0c, '#', 'H', 'Y', '0', '0', '0'};
  expected.insert(expected.end(), message.begin(), message.end());
  EXPECT_EQ(frame, expected);
}

}  // namespace
}  // namespace replproxy::relay
