// BackendConnection's login against a scripted fake server (fake_mysql_server.h): the
// HandshakeResponse41 it sends, auth switches, every way a login fails, and what happens after.
// Each test ends with quit()/close(), on_backend_closed and uv_loop_close() == 0.

#include "proxy/backend_connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "backend_test_util.h"
#include "fake_mysql_server.h"
#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/handshake.h"
#include "uv_test_util.h"

namespace replproxy::proxy {
namespace {

namespace cap = protocol::cap;
using protocol::Bytes;
using test::FakeConnection;
using test::FakeMysqlServer;
using test::kNonce;
using test::kPassword;
using test::Owner;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

// kClientCapabilities ∩ kServerCapabilities, without what the proxy never negotiates
// (compression, MariaDB's extended capabilities).
constexpr uint64_t kNegotiated =
    cap::kLongFlag | cap::kConnectWithDb | cap::kProtocol41 | cap::kTransactions |
    cap::kSecureConnection | cap::kMultiStatements | cap::kMultiResults | cap::kPluginAuth |
    cap::kConnectAttrs | cap::kPluginAuthLenencClientData | cap::kDeprecateEof;

std::string expected_response(std::string_view nonce) {
  return protocol::native_password_response(protocol::native_password_stage1(kPassword), nonce);
}

// What a scripted server saw of a login.
struct Seen {
  std::optional<FakeConnection::Packet> response;  // the HandshakeResponse41 frame
  std::optional<FakeConnection::Packet> quit;      // the frame after the OK
  std::optional<Bytes> rest;                       // everything until the client closed

  std::optional<protocol::HandshakeResponse> decoded() const {
    if (!response) {
      return std::nullopt;
    }
    auto decoded = protocol::decode_handshake_response(response->payload);
    EXPECT_TRUE(decoded.has_value()) << "the HandshakeResponse41 does not decode";
    return decoded ? std::optional(*decoded) : std::nullopt;
  }
};

// Greets, reads the HandshakeResponse41, sends OK, reads COM_QUIT and waits for the close.
FakeMysqlServer::Script greet_and_accept(Seen& seen) {
  return [&seen](FakeConnection& c) {
    ASSERT_TRUE(c.send_packet(test::greeting(std::string(kNonce)), 0));
    seen.response = c.read_packet();
    ASSERT_TRUE(seen.response);
    ASSERT_TRUE(c.send_packet(test::ok_payload(), 2));
    seen.quit = c.read_packet();
    seen.rest = c.read_until_closed();
  };
}

// Sends `payload` as the greeting and waits for the client to go away.
FakeMysqlServer::Script greet_with(Bytes payload, Seen& seen) {
  return [payload = std::move(payload), &seen](FakeConnection& c) {
    ASSERT_TRUE(c.send_packet(payload, 0));
    seen.rest = c.read_until_closed();
  };
}

// Greets, reads the HandshakeResponse41, answers with `reply` and waits for the close.
FakeMysqlServer::Script reply_to_login(Bytes reply, Seen& seen) {
  return [reply = std::move(reply), &seen](FakeConnection& c) {
    ASSERT_TRUE(c.send_packet(test::greeting(std::string(kNonce)), 0));
    seen.response = c.read_packet();
    ASSERT_TRUE(seen.response);
    ASSERT_TRUE(c.send_packet(reply, 2));
    seen.rest = c.read_until_closed();
  };
}

class BackendConnectionTest : public test::BackendLoopTest {};

TEST_F(BackendConnectionTest, LogsInWithNativePasswordAndTheNegotiatedCapabilities) {
  Seen seen;
  FakeMysqlServer server(greet_and_accept(seen));
  const BackendLogin login = test::make_login();
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, login);
  run(owner);
  server.join();

  ASSERT_EQ(owner.count.ready, 1);
  EXPECT_EQ(owner.ok, test::ok_payload());
  EXPECT_EQ(owner.capabilities, kNegotiated);
  EXPECT_EQ(owner.server_version, "5.5.5-10.11.6-MariaDB-fake");
  EXPECT_EQ(owner.server_thread_id, 77u);
  EXPECT_FALSE(owner.tls);
  EXPECT_EQ(owner.count.failed, 0);
  EXPECT_EQ(owner.count.lost, 0);
  EXPECT_EQ(owner.count.data, 0);

  ASSERT_TRUE(seen.response);
  EXPECT_EQ(seen.response->sequence_id, 1);
  const auto response = seen.decoded();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->username, "app");
  EXPECT_EQ(response->auth_response, expected_response(kNonce));
  EXPECT_EQ(response->auth_plugin_name, protocol::kNativePasswordPlugin);
  EXPECT_EQ(response->database, "shop");
  EXPECT_EQ(response->character_set, 33);
  EXPECT_EQ(response->capabilities, kNegotiated);
  EXPECT_FALSE(response->capabilities & cap::kCompress);
  EXPECT_EQ(response->attributes, login.attributes);

  ASSERT_TRUE(seen.quit) << "no COM_QUIT before the close";
  EXPECT_EQ(seen.quit->sequence_id, 0);
  EXPECT_EQ(seen.quit->payload, Bytes{0x01});
  EXPECT_THAT(seen.rest, Optional(IsEmpty()));
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, WithoutADatabaseConnectWithDbIsNotSent) {
  Seen seen;
  FakeMysqlServer server(greet_and_accept(seen));
  BackendLogin login = test::make_login();
  login.database.clear();  // the client had CLIENT_CONNECT_WITH_DB, but no database
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, login);
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.ready, 1);
  const auto response = seen.decoded();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->capabilities, kNegotiated & ~cap::kConnectWithDb);
  EXPECT_EQ(response->database, "");
  EXPECT_EQ(response->auth_response, expected_response(kNonce));
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, EmptyPasswordSendsAnEmptyAuthResponse) {
  Seen seen;
  FakeMysqlServer server(greet_and_accept(seen));
  BackendLogin login = test::make_login();
  login.stage1 = protocol::native_password_stage1("");
  login.empty_password = true;
  login.password.reset();
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, login);
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.ready, 1);
  const auto response = seen.decoded();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->auth_response, "");
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, ServerGreetingWithErrFailsWithThatError) {
  Seen seen;
  // Before the handshake a server knows no client capabilities, so its ERR has no SQL state.
  FakeMysqlServer server(greet_with(test::err_payload(1040, "", "Too many connections", 0), seen));
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, test::make_login());
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.failed, 1);
  EXPECT_EQ(owner.err.error_code, 1040);
  EXPECT_EQ(owner.err.message, "Too many connections");
  EXPECT_EQ(owner.count.ready, 0);
  EXPECT_THAT(seen.rest, Optional(IsEmpty()));  // no login after an ERR
  expect_closed_cleanly(owner);
}

struct MalformedGreeting {
  const char* name;
  Bytes payload;
};

class BackendMalformedGreetingTest : public test::BackendLoopTest,
                                     public ::testing::WithParamInterface<MalformedGreeting> {};

TEST_P(BackendMalformedGreetingTest, FailsWithAHandshakeError) {
  Seen seen;
  FakeMysqlServer server(greet_with(GetParam().payload, seen));
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, test::make_login());
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.failed, 1);
  EXPECT_EQ(owner.err.error_code, protocol::errc::kHandshake);
  EXPECT_EQ(owner.err.sql_state, "08S01");
  EXPECT_THAT(owner.err.message, HasSubstr("malformed greeting"));
  EXPECT_THAT(owner.err.message, HasSubstr("db1"));
  EXPECT_EQ(owner.count.ready, 0);
  EXPECT_THAT(seen.rest, Optional(IsEmpty()));
  expect_closed_cleanly(owner);
}

Bytes truncated_greeting() {
  Bytes g = test::greeting(std::string(kNonce));
  g.resize(g.size() / 2);
  return g;
}

Bytes greeting_with_protocol_version(uint8_t version) {
  Bytes g = test::greeting(std::string(kNonce));
  g[0] = version;
  return g;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BackendMalformedGreetingTest,
    ::testing::Values(MalformedGreeting{"Empty", {}},
                      MalformedGreeting{"Truncated", truncated_greeting()},
                      MalformedGreeting{"ProtocolVersion9", greeting_with_protocol_version(9)},
                      MalformedGreeting{"NotAGreeting", {'H', 'T', 'T', 'P', '/', '1'}}),
    [](const ::testing::TestParamInfo<MalformedGreeting>& info) { return info.param.name; });

TEST_F(BackendConnectionTest, AuthSwitchToNativePasswordAnswersTheNewNonce) {
  const std::string new_nonce = "ZYXWVUTSRQ9876543210";
  Seen seen;
  std::optional<FakeConnection::Packet> switch_answer;
  FakeMysqlServer server([&](FakeConnection& c) {
    ASSERT_TRUE(c.send_packet(test::greeting(std::string(kNonce)), 0));
    seen.response = c.read_packet();
    ASSERT_TRUE(seen.response);
    ASSERT_TRUE(c.send_packet(test::auth_switch_payload("mysql_native_password", new_nonce), 2));
    switch_answer = c.read_packet();
    ASSERT_TRUE(switch_answer);
    ASSERT_TRUE(c.send_packet(test::ok_payload(), 4));
    seen.quit = c.read_packet();
    seen.rest = c.read_until_closed();
  });
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, test::make_login());
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.ready, 1);
  EXPECT_EQ(owner.count.failed, 0);
  ASSERT_TRUE(switch_answer);
  EXPECT_EQ(switch_answer->sequence_id, 3);
  EXPECT_EQ(protocol::as_chars(switch_answer->payload), expected_response(new_nonce));
  EXPECT_NE(expected_response(new_nonce), expected_response(kNonce));
  ASSERT_TRUE(seen.quit);
  EXPECT_EQ(seen.quit->payload, Bytes{0x01});
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, AuthSwitchToAnUnsupportedPluginFailsNamingIt) {
  Seen seen;
  FakeMysqlServer server(
      reply_to_login(test::auth_switch_payload("client_ed25519", std::string(32, 'n')), seen));
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, test::make_login());
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.failed, 1);
  EXPECT_EQ(owner.err.error_code, protocol::errc::kAccessDenied);
  EXPECT_THAT(owner.err.message, HasSubstr("'client_ed25519'"));
  EXPECT_THAT(owner.err.message, HasSubstr("'app'"));
  EXPECT_EQ(owner.count.ready, 0);
  EXPECT_THAT(seen.rest, Optional(IsEmpty()));
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, ClearPasswordIsNeverSentWithoutTls) {
  Seen seen;
  FakeMysqlServer server(
      reply_to_login(test::auth_switch_payload("mysql_clear_password", ""), seen));
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, test::make_login());
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.failed, 1);
  EXPECT_THAT(owner.err.message, HasSubstr("'mysql_clear_password'"));
  EXPECT_THAT(seen.rest, Optional(IsEmpty())) << "the password went out in the clear";
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, LoginErrFailsWithTheServersError) {
  const std::string message = "Access denied for user 'app'@'127.0.0.1' (using password: YES)";
  Seen seen;
  FakeMysqlServer server(reply_to_login(test::err_payload(1045, "28000", message), seen));
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, test::make_login());
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.failed, 1);
  EXPECT_EQ(owner.err, (protocol::ErrPacket{1045, "28000", message}));
  EXPECT_EQ(owner.count.ready, 0);
  EXPECT_THAT(seen.rest, Optional(IsEmpty()));
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, ConnectionRefusedFailsWith2003) {
  test::RefusingPort refusing;
  Owner owner(&loop_, test::backend_at(refusing.port()), nullptr, test::make_login());
  run(owner);

  EXPECT_EQ(owner.count.failed, 1);
  EXPECT_EQ(owner.err.error_code, 2003);
  EXPECT_THAT(owner.err.message, HasSubstr("connection refused"));
  EXPECT_THAT(owner.err.message, HasSubstr("127.0.0.1:" + std::to_string(refusing.port())));
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, SilentServerTimesOutWith2013) {
  Seen seen;
  FakeMysqlServer server([&](FakeConnection& c) { seen.rest = c.read_until_closed(); });
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, test::make_login());
  run(owner, 200);
  server.join();

  EXPECT_TRUE(server.accepted());
  EXPECT_EQ(owner.count.failed, 1);
  EXPECT_EQ(owner.err.error_code, 2013);
  EXPECT_THAT(owner.err.message, HasSubstr("timed out"));
  EXPECT_THAT(seen.rest, Optional(IsEmpty()));
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, ServerDroppingTheConnectionAfterLoginIsLost) {
  Seen seen;
  FakeMysqlServer server([&](FakeConnection& c) {
    ASSERT_TRUE(c.send_packet(test::greeting(std::string(kNonce)), 0));
    seen.response = c.read_packet();
    ASSERT_TRUE(c.send_packet(test::ok_payload(), 2));
  });  // the socket closes here
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, test::make_login());
  owner.after_login = Owner::AfterLogin::stay;
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.ready, 1);
  EXPECT_EQ(owner.count.lost, 1);
  EXPECT_EQ(owner.lost_why, "connection closed by peer");
  EXPECT_EQ(owner.count.failed, 0);
  EXPECT_EQ(owner.count.data, 0);
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, BytesBehindTheOkGoToTheOwner) {
  const Bytes extra = {0x05, 0x00, 0x00, 0x01, 0xfe, 0x00, 0x00, 0x02, 0x00};
  Seen seen;
  FakeMysqlServer server([&](FakeConnection& c) {
    ASSERT_TRUE(c.send_packet(test::greeting(std::string(kNonce)), 0));
    seen.response = c.read_packet();
    Bytes ok_and_more;
    protocol::encode_packet(test::ok_payload(), 2, ok_and_more);
    ok_and_more.insert(ok_and_more.end(), extra.begin(), extra.end());
    ASSERT_TRUE(c.send_raw(ok_and_more));  // one write: the client reads both at once
    seen.quit = c.read_packet();
    seen.rest = c.read_until_closed();
  });
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, test::make_login());
  owner.after_login = Owner::AfterLogin::stay;  // quits from on_backend_data
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.ready, 1);
  EXPECT_EQ(owner.ok, test::ok_payload());
  EXPECT_GE(owner.count.data, 1);
  EXPECT_EQ(owner.data, extra);
  ASSERT_TRUE(seen.quit);
  EXPECT_EQ(seen.quit->payload, Bytes{0x01});
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, CloseWhileResolvingReleasesEverything) {
  config::Backend backend = test::backend_at(9);
  backend.address.host = "localhost";  // a name: start() resolves it on the thread pool
  Owner owner(&loop_, backend, nullptr, test::make_login());
  owner.conn().start(15'000);
  EXPECT_EQ(owner.conn().stage(), BackendConnection::Stage::resolving);
  owner.conn().close();
  test::run_loop(&loop_, [&owner] { owner.close(); });

  EXPECT_EQ(owner.count.failed, 0);
  EXPECT_EQ(owner.count.ready, 0);
  expect_closed_cleanly(owner);
}

TEST_F(BackendConnectionTest, CloseBeforeStartReleasesEverything) {
  Owner owner(&loop_, test::backend_at(9), nullptr, test::make_login());
  owner.conn().quit();  // not logged in: the same as close()
  test::run_loop(&loop_, [&owner] { owner.close(); });

  EXPECT_EQ(owner.count.failed, 0);
  expect_closed_cleanly(owner);
}

// An owner that closes a failed connection on a later loop iteration instead of inside
// on_backend_failed. Here the server's ERR greeting and a valid greeting arrive in one read.
//
// DISABLED: bug in BackendConnection::fail_login(). It reports the failure but leaves stage_ in
// greeting (or auth), so on_readable()'s loop goes on decoding: the greeting behind the ERR is
// answered with a HandshakeResponse41 (the password hash goes to a server that already refused),
// and any later event (the server's close, another packet) calls on_backend_failed again.
// ClientSession closes from inside on_backend_failed, so it does not hit this today.
TEST_F(BackendConnectionTest, FailureIsFinalWhenTheOwnerClosesLater) {
  Seen seen;
  FakeMysqlServer server([&](FakeConnection& c) {
    Bytes both;
    protocol::encode_packet(test::err_payload(1040, "", "Too many connections", 0), 0, both);
    protocol::encode_packet(test::greeting(std::string(kNonce)), 0, both);
    ASSERT_TRUE(c.send_raw(both));
    seen.rest = c.read_until_closed();
  });
  Owner owner(&loop_, test::backend_at(server.port()), nullptr, test::make_login());
  owner.on_failure = Owner::OnFailure::close_later;
  run(owner);
  server.join();

  EXPECT_EQ(owner.count.failed, 1);
  EXPECT_EQ(owner.err.error_code, 1040);
  EXPECT_THAT(seen.rest, Optional(IsEmpty())) << "it logged in after reporting the failure";
  expect_closed_cleanly(owner);
}

}  // namespace
}  // namespace replproxy::proxy
