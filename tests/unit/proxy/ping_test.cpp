// `replproxy --ping` against a scripted fake server (fake_mysql_server.h): what a greeting, an
// ERR, a malformed or missing greeting and a refused connection each give, and the command's one
// line of output.

#include "proxy/ping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <sstream>
#include <string>

#include "fake_mysql_server.h"
#include "protocol/constants.h"
#include "protocol/packet.h"

namespace replproxy::proxy {
namespace {

using protocol::Bytes;
using test::FakeConnection;
using test::FakeMysqlServer;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::StartsWith;

constexpr std::string_view kNonce = "abcdefghijklmnopqrst";
// Long enough for a loopback server to answer, short enough that a timeout test stays quick.
constexpr std::chrono::milliseconds kShortTimeout{300};

config::Address loopback(uint16_t port) { return {"127.0.0.1", port}; }

// A port nothing listens on: bound, then closed.
uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(PingTest, AGreetingGivesTheServerVersionAndConnectionIdAndNothingIsSent) {
  std::optional<Bytes> after_greeting;
  FakeMysqlServer server([&](FakeConnection& conn) {
    conn.send_packet(test::greeting(std::string(kNonce)), 0);
    after_greeting = conn.read_until_closed();
  });
  auto reply = ping(loopback(server.port()), kPingTimeout);
  server.join();
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ(reply->server_version, "5.5.5-10.11.6-MariaDB-fake");
  EXPECT_EQ(reply->connection_id, 77u);
  // No login is attempted: the server sees the client close right after its greeting.
  EXPECT_THAT(after_greeting, Optional(Bytes{}));
}

TEST(PingTest, AGreetingArrivingOneByteAtATimeIsReassembled) {
  FakeMysqlServer server([&](FakeConnection& conn) {
    Bytes framed;
    protocol::encode_packet(test::greeting(std::string(kNonce)), 0, framed);
    for (uint8_t byte : framed) {
      conn.send_raw(Bytes{byte});
    }
    conn.read_until_closed();
  });
  auto reply = ping(loopback(server.port()), kPingTimeout);
  server.join();
  ASSERT_TRUE(reply) << reply.error();
  EXPECT_EQ(reply->connection_id, 77u);
}

TEST(PingTest, AnErrInsteadOfAGreetingIsAFailureWithItsCodeAndMessage) {
  FakeMysqlServer server([&](FakeConnection& conn) {
    conn.send_packet(test::err_payload(protocol::errc::kConCount, "08004", "Too many connections"),
                     0);
  });
  auto reply = ping(loopback(server.port()), kPingTimeout);
  server.join();
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), "server refused the connection: ERROR 1040: Too many connections");
}

TEST(PingTest, AnErrWithoutSqlStateMarkerIsReadToo) {
  FakeMysqlServer server([&](FakeConnection& conn) {
    conn.send_packet(test::err_payload(1130, "", "Host is not allowed to connect", 0), 0);
  });
  auto reply = ping(loopback(server.port()), kPingTimeout);
  server.join();
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(),
            "server refused the connection: ERROR 1130: Host is not allowed to connect");
}

struct MalformedCase {
  const char* name;
  Bytes framed;  // what the server sends, frame header included
  const char* reason_prefix;
};

void PrintTo(const MalformedCase& c, std::ostream* os) { *os << c.name; }

class PingMalformedTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(PingMalformedTest, FailsWithTheReason) {
  FakeMysqlServer server([&](FakeConnection& conn) { conn.send_raw(GetParam().framed); });
  auto reply = ping(loopback(server.port()), kPingTimeout);
  server.join();
  ASSERT_FALSE(reply);
  EXPECT_THAT(reply.error(), StartsWith(GetParam().reason_prefix));
}

Bytes framed(Bytes payload, uint8_t sequence_id) {
  Bytes out;
  protocol::encode_packet(payload, sequence_id, out);
  return out;
}

Bytes protocol_9_greeting() {
  Bytes payload = test::greeting(std::string(kNonce));
  payload[0] = 9;
  return payload;
}

INSTANTIATE_TEST_SUITE_P(
    Greetings, PingMalformedTest,
    ::testing::Values(MalformedCase{"ProtocolVersion9", framed(protocol_9_greeting(), 0),
                                    "not a MySQL protocol 10 greeting"},
                      MalformedCase{"TruncatedPayload", framed(Bytes{10, '5', '.', '5', 0}, 0),
                                    "not a MySQL protocol 10 greeting"},
                      MalformedCase{"SequenceIdNot0",
                                    framed(test::greeting(std::string(kNonce)), 1),
                                    "malformed packet instead of a greeting"},
                      MalformedCase{"HugeFrame", Bytes{0xff, 0xff, 0xff, 0x00, 10},
                                    "a 16777215-byte packet instead of a greeting"},
                      MalformedCase{"ClosedInsideTheFrameHeader", Bytes{0x4a, 0x00},
                                    "connection closed before the greeting"},
                      MalformedCase{"ClosedInsideThePayload",
                                    Bytes{0x4a, 0x00, 0x00, 0x00, 10, '5'},
                                    "connection closed before the greeting"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(PingTest, AServerThatAcceptsButNeverGreetsTimesOut) {
  std::optional<Bytes> seen;
  FakeMysqlServer server([&](FakeConnection& conn) { seen = conn.read_until_closed(); });
  const auto start = std::chrono::steady_clock::now();
  auto reply = ping(loopback(server.port()), kShortTimeout);
  const auto took = std::chrono::steady_clock::now() - start;
  server.join();
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), "no greeting before the timeout");
  EXPECT_GE(took, kShortTimeout);
  EXPECT_THAT(seen, Optional(Bytes{}));
}

TEST(PingTest, NothingListeningIsConnectionRefused) {
  auto reply = ping(loopback(closed_port()), kShortTimeout);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), "connect: Connection refused");
}

TEST(PingCommandTest, PrintsOkWithTheVersionAndExits0) {
  FakeMysqlServer server([&](FakeConnection& conn) {
    conn.send_packet(test::greeting(std::string(kNonce)), 0);
    conn.read_until_closed();
  });
  const std::string target = "127.0.0.1:" + std::to_string(server.port());
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(ping_command(target, kPingTimeout, out, err), 0);
  server.join();
  EXPECT_EQ(out.str(),
            target + ": ok (server version 5.5.5-10.11.6-MariaDB-fake, connection id 77)\n");
  EXPECT_EQ(err.str(), "");
}

TEST(PingCommandTest, PrintsTheReasonOnStderrAndExits1) {
  const std::string target = "127.0.0.1:" + std::to_string(closed_port());
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(ping_command(target, kShortTimeout, out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), target + ": connect: Connection refused\n");
}

TEST(PingCommandTest, ABadAddressIsReportedWithoutConnecting) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(ping_command("127.0.0.1", kShortTimeout, out, err), 1);
  EXPECT_EQ(err.str(), "127.0.0.1: expected HOST:PORT\n");
  EXPECT_EQ(ping_command("localhost:0", kShortTimeout, out, err), 1);
  EXPECT_THAT(err.str(), HasSubstr("localhost:0: port 0 is out of range 1..65535\n"));
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace replproxy::proxy
