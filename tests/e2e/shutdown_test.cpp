// Graceful shutdown on SIGTERM: the listener closes at once, idle sessions close, a running query
// finishes and its session closes afterwards, and the process exits 0. A query that outlives
// shutdown_grace_ms is cut off.

#include <errmsg.h>
#include <signal.h>

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

class Shutdown : public E2eTest {};

struct QueryOutcome {
  int rc = -1;
  Rows rows;
  DbError error;
  std::chrono::steady_clock::time_point finished;
};

// Runs SQL on C in a thread; the outcome is complete once the thread is joined.
std::thread start_query(Connection& c, std::string sql, QueryOutcome& out) {
  return std::thread([&c, sql = std::move(sql), &out] {
    out.rc = mysql_query(c.get(), sql.c_str());
    if (out.rc == 0) {
      if (MYSQL_RES* res = mysql_store_result(c.get())) {
        out.rows = fetch_all(res);
        mysql_free_result(res);
      } else {
        out.rc = -1;
      }
    }
    out.error = c.error();
    out.finished = std::chrono::steady_clock::now();
  });
}

// True when a session's connection is gone: a query fails with "server gone" or "lost".
bool session_closed(Connection& c) {
  if (mysql_query(c.get(), "SELECT 1") == 0) {
    if (MYSQL_RES* res = mysql_store_result(c.get())) {
      mysql_free_result(res);
    }
    return false;
  }
  const unsigned code = mysql_errno(c.get());
  return code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST;
}

// Connecting to PORT is refused outright (nothing listens).
bool refused(int port) { return !port_accepts(port); }

TEST_F(Shutdown, SigtermLetsTheRunningQueryFinish) {
  ProxyOptions options;
  options.shutdown_grace_ms = 10000;
  ProxyProcess proxy(sandbox(), options);
  ASSERT_TRUE(proxy.start());
  auto busy = must_connect({.port = proxy.port()});
  auto idle = must_connect({.port = proxy.port()});
  ASSERT_TRUE(busy && idle);
  EXPECT_EQ(idle->scalar("SELECT 'idle'"), "idle");

  QueryOutcome outcome;
  const auto started = std::chrono::steady_clock::now();
  std::thread query = start_query(*busy, "SELECT SLEEP(2), 'finished'", outcome);
  std::this_thread::sleep_for(500ms);
  proxy.signal(SIGTERM);
  const auto term_at = std::chrono::steady_clock::now();
  const bool listener_closed = wait_until([&] { return refused(proxy.port()); }, 1s);
  query.join();

  EXPECT_TRUE(listener_closed) << "new connections still accepted 1 s after SIGTERM";
  EXPECT_EQ(outcome.rc, 0) << "the running query failed: " << outcome.error;
  EXPECT_EQ(outcome.rows, (Rows{{"0", "finished"}}));
  EXPECT_GE(outcome.finished - started, 1900ms);

  EXPECT_TRUE(session_closed(*busy)) << "the session stayed open after its query finished";
  EXPECT_TRUE(session_closed(*idle)) << "an idle session stayed open during shutdown";

  auto status = proxy.wait_exit(10s);
  ASSERT_TRUE(status) << "replproxy did not exit within the 10 s grace period";
  EXPECT_EQ(*status, 0);
  const auto exit_after = std::chrono::steady_clock::now() - term_at;
  EXPECT_LT(exit_after, 5s)
      << "exit took " << std::chrono::duration_cast<std::chrono::milliseconds>(exit_after).count()
      << " ms after SIGTERM although the last query ended after ~1.5 s";
  EXPECT_NE(proxy.log().find("SIGTERM"), std::string::npos);
}

TEST_F(Shutdown, GracePeriodCutsOffLongQueries) {
  ProxyOptions options;
  options.shutdown_grace_ms = 1000;
  ProxyProcess proxy(sandbox(), options);
  ASSERT_TRUE(proxy.start());
  auto busy = must_connect({.port = proxy.port()});
  ASSERT_TRUE(busy);

  QueryOutcome outcome;
  std::thread query = start_query(*busy, "SELECT SLEEP(8)", outcome);
  std::this_thread::sleep_for(500ms);
  proxy.signal(SIGTERM);
  const auto term_at = std::chrono::steady_clock::now();
  auto status = proxy.wait_exit(6s);
  query.join();

  ASSERT_TRUE(status) << "replproxy still runs 6 s after SIGTERM with a 1 s grace period";
  EXPECT_EQ(*status, 0);
  EXPECT_NE(outcome.rc, 0) << "SLEEP(8) completed although the grace period was 1 s";
  EXPECT_LT(outcome.finished - term_at, 4s) << "the client learned of the shutdown late";
}

}  // namespace
}  // namespace replproxy::e2e
