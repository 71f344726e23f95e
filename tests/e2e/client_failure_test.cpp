// Misbehaving clients affect only themselves: one killed in the middle of a large result, one
// sending malformed frames (before and after login), and commands the proxy refuses (1047).

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/e2e/harness.h"
#include "tests/e2e/raw_protocol.h"

namespace replproxy::e2e {
namespace {

class ClientFailure : public E2eTest {};

// A simple query on a session that must stay healthy.
void expect_healthy(Connection& c, int round) {
  const std::string expected = std::to_string(round * 1000 + 500500);
  EXPECT_EQ(
      c.scalar("SELECT SUM(seq) + " + std::to_string(round * 1000) + " FROM mysql.seq_1_to_1000"),
      expected);
}

// ---------------------------------------------------------------------------------------------

TEST_F(ClientFailure, ClientKilledMidResultDisturbsNoOne) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  auto other = must_connect({.port = proxy.port()});
  ASSERT_TRUE(other);
  expect_healthy(*other, 0);
  auto direct = connect_direct(sandbox());
  ASSERT_TRUE(direct);

  const std::string marker = unique_name("killed");
  const std::string big_query =
      "SELECT seq, REPEAT('x', 200), '" + marker + "' FROM mysql.seq_1_to_50000000";
  Subprocess client("exec " +
                    mariadb_cli(proxy.port(), "", "--quick -e " + shell_quote(big_query)));
  const std::string in_processlist =
      "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '%" + marker +
      "%' AND info NOT LIKE '%processlist%'";
  ASSERT_TRUE(wait_until([&] { return direct->scalar(in_processlist) == "1"; }, 10s))
      << "the large SELECT never started on the primary";
  std::this_thread::sleep_for(300ms);
  for (int round = 1; round <= 3; ++round) {
    expect_healthy(*other, round);  // while the big result streams
  }
  ASSERT_TRUE(client.running()) << "the streaming client finished too early to be killed";
  client.kill(SIGKILL);
  EXPECT_EQ(client.wait(5s), 128 + SIGKILL);

  for (int round = 4; round <= 20; ++round) {
    expect_healthy(*other, round);
  }
  auto fresh = must_connect({.port = proxy.port()});
  ASSERT_TRUE(fresh);
  expect_healthy(*fresh, 21);
  RunResult cli = run(mariadb_cli(proxy.port(), "", "-N -e 'SELECT 7'"));
  EXPECT_EQ(cli.output, "7\n");

  // The proxy gave up the killed client's backend session, so the server stops the query.
  EXPECT_TRUE(wait_until([&] { return direct->scalar(in_processlist) == "0"; }, 15s))
      << "the killed client's query still runs on the primary";
  EXPECT_TRUE(proxy.alive());
}

TEST_F(ClientFailure, MalformedPacketsCloseOnlyThatClient) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  auto other = must_connect({.port = proxy.port()});
  ASSERT_TRUE(other);
  expect_healthy(*other, 0);

  // 1. Garbage instead of a handshake response: a frame with a 3-byte payload.
  {
    const int fd = connect_raw(proxy.port());
    ASSERT_GE(fd, 0);
    Packet greeting;
    ASSERT_EQ(read_packet(fd, greeting), ReadStatus::ok);
    ASSERT_FALSE(greeting.payload.empty());
    EXPECT_EQ(greeting.payload[0], 10) << "not a protocol-10 greeting";
    ASSERT_TRUE(send_all(fd, frame(1, "\xff\xff\xff")));
    EXPECT_EQ(expect_closed(fd), "") << "after a 3-byte handshake response";
    ::close(fd);
  }
  expect_healthy(*other, 1);

  // 2. A frame announcing 100 bytes, 10 sent, then the client disappears.
  {
    const int fd = connect_raw(proxy.port());
    ASSERT_GE(fd, 0);
    Packet greeting;
    ASSERT_EQ(read_packet(fd, greeting), ReadStatus::ok);
    ASSERT_TRUE(send_all(fd, std::string("\x64\x00\x00\x01", 4) + std::string(10, 'g')));
    ::close(fd);
  }
  expect_healthy(*other, 2);

  // 3. After a proper login: a command with sequence id 3, and an empty command frame.
  for (const std::string& bad : {frame(3, "\x0e"), frame(0, "")}) {
    SCOPED_TRACE("bad command frame of " + std::to_string(bad.size()) + " bytes");
    auto victim = must_connect({.port = proxy.port()});
    ASSERT_TRUE(victim);
    EXPECT_EQ(victim->scalar("SELECT 'logged in'"), "logged in");
    const int fd = mysql_get_socket(victim->get());
    ASSERT_TRUE(send_all(fd, bad));
    EXPECT_EQ(expect_closed(fd), "");
    expect_healthy(*other, 3);
  }

  // 4. Garbage bytes that are not even a frame header, then a half-close.
  {
    const int fd = connect_raw(proxy.port());
    ASSERT_GE(fd, 0);
    Packet greeting;
    ASSERT_EQ(read_packet(fd, greeting), ReadStatus::ok);
    ASSERT_TRUE(send_all(fd, "\x01\x02"));
    ::shutdown(fd, SHUT_WR);
    EXPECT_EQ(expect_closed(fd), "") << "after a truncated header and EOF";
    ::close(fd);
  }

  expect_healthy(*other, 4);
  auto fresh = must_connect({.port = proxy.port()});
  ASSERT_TRUE(fresh);
  expect_healthy(*fresh, 5);
  EXPECT_TRUE(proxy.alive());
}

TEST_F(ClientFailure, UnknownCommandsGetError1047) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  const int fd = mysql_get_socket(c->get());

  // COM_BINLOG_DUMP (position 4, no flags, server id 99, no file name), an unassigned command
  // byte and the highest one.
  const std::string binlog_dump("\x12\x04\x00\x00\x00\x00\x00\x63\x00\x00\x00", 11);
  for (const std::string& command : {binlog_dump, std::string("\x40"), std::string("\xff")}) {
    SCOPED_TRACE("command 0x" + std::to_string(static_cast<uint8_t>(command[0])));
    ASSERT_TRUE(send_all(fd, frame(0, command)));
    Packet reply;
    ASSERT_EQ(read_packet(fd, reply), ReadStatus::ok);
    EXPECT_EQ(reply.sequence_id, 1);
    EXPECT_EQ(err_code(reply), 1047) << "reply payload of " << reply.payload.size() << " bytes";
    EXPECT_NE(reply.payload.find("#08S01"), std::string::npos);
    // The session stays usable: the C API's next command starts a fresh sequence.
    EXPECT_EQ(c->scalar("SELECT 'usable'"), "usable");
  }

  // The server answers an unknown command the same way.
  auto direct = must_connect({.port = sandbox().primary_port()});
  ASSERT_TRUE(direct);
  const int dfd = mysql_get_socket(direct->get());
  ASSERT_TRUE(send_all(dfd, frame(0, "\x40")));
  Packet reply;
  ASSERT_EQ(read_packet(dfd, reply), ReadStatus::ok);
  EXPECT_EQ(err_code(reply), 1047);
}

}  // namespace
}  // namespace replproxy::e2e
