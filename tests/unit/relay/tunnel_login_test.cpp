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

TEST(TunnelLogin, SslRequestFrame) {
  // A server offering every low capability: the request keeps the usual client set plus
  // CLIENT_SSL (0x01bfaa07), 16 MiB packets, the server's character set, no extended bits.
  const Bytes frame = ssl_request_frame(greeting(0xffffffff));
  Bytes expected = {0x20, 0x00, 0x00, 0x01, 0x07, 0xaa, 0xbf, 0x01,
                    0x00, 0x00, 0x00, 0x01, 0x2d};
  expected.resize(4 + 32, 0x00);
  EXPECT_EQ(frame, expected);
}

TEST(TunnelLogin, SslRequestOnlyAsksWhatTheServerOffers) {
  const uint64_t offered = cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth |
                           cap::kSsl | cap::kCompress | cap::kMariadbProgress;
  EXPECT_EQ(ssl_request_capabilities(greeting(offered)),
            cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth | cap::kSsl);
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
