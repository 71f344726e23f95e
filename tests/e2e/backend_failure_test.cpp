// A backend killed (kill -9) in the middle of a query: the client gets an error at once instead
// of hanging, new sessions get a clear error naming the backend while it is down, and sessions
// work again once it is back.

#include "tests/e2e/harness.h"
#include "tests/e2e/private_sandbox.h"

namespace replproxy::e2e {
namespace {

class BackendFailure : public E2eTest {};

// Kills a sandbox server and makes sure it runs again when the test ends, pass or fail.
class KilledServer {
 public:
  KilledServer(const Sandbox& sandbox, std::string name) : sandbox_(sandbox), name_(name) {}
  ~KilledServer() {
    if (killed_) {
      RunResult r = restart();
      if (r.status != 0) {
        std::cerr << "[harness] could not restart " << name_ << ": " << r.output << "\n";
      }
    }
  }
  RunResult kill() {
    killed_ = true;
    return run(sandbox_script() + " kill " + name_ + " --dir " + shell_quote(sandbox_.dir()), 30s);
  }
  RunResult restart() {
    RunResult r =
        run(sandbox_script() + " restart-server " + name_ + " --dir " + shell_quote(sandbox_.dir()),
            90s);
    if (r.status == 0) {
      killed_ = false;
    }
    return r;
  }

 private:
  const Sandbox& sandbox_;
  std::string name_;
  bool killed_ = false;
};

struct QueryOutcome {
  int rc = -1;
  DbError error;
  std::chrono::steady_clock::time_point finished;
};

TEST_F(BackendFailure, BackendKilledMidQuery) {
  const int replica_port = sandbox().port("replica2");
  if (replica_port == 0) {
    GTEST_SKIP() << "needs a sandbox with two replicas (scripts/sandbox start --replicas 2)";
  }
  ProxyOptions options;
  options.backends = {{"replica2", replica_port, "primary"}};
  options.connect_timeout_ms = 3000;
  ProxyProcess proxy(sandbox(), options);
  ASSERT_TRUE(proxy.start());

  auto c = must_connect({.port = proxy.port(), .timeout_s = 30});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scalar("SELECT @@server_id"), sandbox().get("SANDBOX_REPLICA2_SERVER_ID"));

  KilledServer server(sandbox(), "replica2");
  QueryOutcome outcome;
  std::thread query([&] {
    outcome.rc = mysql_query(c->get(), "SELECT SLEEP(10)");
    if (outcome.rc == 0) {
      if (MYSQL_RES* res = mysql_store_result(c->get())) {
        mysql_free_result(res);
      }
    }
    outcome.error = c->error();
    outcome.finished = std::chrono::steady_clock::now();
  });
  std::this_thread::sleep_for(1s);
  const auto killed_at = std::chrono::steady_clock::now();
  RunResult killed = server.kill();
  query.join();
  ASSERT_EQ(killed.status, 0) << killed.output;

  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(outcome.finished - killed_at);
  EXPECT_NE(outcome.rc, 0) << "SELECT SLEEP(10) succeeded on a killed server";
  EXPECT_NE(outcome.error.code, 0u);
  EXPECT_LT(took.count(), 4000) << "the client waited " << took.count()
                                << " ms after the kill for its error: " << outcome.error;
  std::cerr << "[info] the running query got: " << outcome.error << " after " << took.count()
            << " ms\n";

  // While the server is down: a prompt, clear error for new sessions.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto t0 = std::chrono::steady_clock::now();
    auto down = Connection::open({.port = proxy.port()});
    const auto waited = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(down) << "connected through the proxy while its only backend is down";
    // Any code will do as long as the client sees it with its message. (libmariadb replaces an
    // ERR carrying client-range codes such as 2003 or 2013 during login by 2027 "Received
    // malformed packet", so the message would never reach the user.)
    EXPECT_NE(down.error().code, 0u) << down.error();
    EXPECT_NE(down.error().message.find("replica2"), std::string::npos)
        << "the error does not name the backend: " << down.error();
    EXPECT_LT(waited, 4s) << "refusing a session took too long";
  }
  RunResult cli_down = run(mariadb_cli(proxy.port(), "", "-e 'SELECT 1'"));
  EXPECT_EQ(cli_down.status, 1) << cli_down.output;
  EXPECT_NE(cli_down.output.find("replica2"), std::string::npos) << cli_down.output;
  EXPECT_TRUE(proxy.alive());

  RunResult restarted = server.restart();
  ASSERT_EQ(restarted.status, 0) << restarted.output;
  std::optional<std::expected<Connection, DbError>> back;
  const bool recovered = wait_until(
      [&] {
        back = Connection::open({.port = proxy.port()});
        return back->has_value();
      },
      15s);
  ASSERT_TRUE(recovered) << "no session through the proxy after the backend came back: "
                         << back->error();
  Connection& again = **back;
  EXPECT_EQ(again.scalar("SELECT @@server_id"), sandbox().get("SANDBOX_REPLICA2_SERVER_ID"));
  EXPECT_EQ(again.scalar("SELECT SLEEP(0.2)"), "0");
  RunResult cli = run(mariadb_cli(proxy.port(), "", "-N -e 'SELECT 1'"));
  EXPECT_EQ(cli.output, "1\n");
  EXPECT_TRUE(proxy.alive());
}

// Runs `sql` on C in a thread, kills `victim` after `delay`, and returns what the query got.
QueryOutcome query_while_killing(Connection& c, const std::string& sql, KilledServer& victim,
                                 std::chrono::milliseconds delay, std::string* first_value) {
  QueryOutcome outcome;
  std::thread query([&] {
    outcome.rc = mysql_query(c.get(), sql.c_str());
    if (outcome.rc == 0) {
      if (MYSQL_RES* res = mysql_store_result(c.get())) {
        if (MYSQL_ROW row = mysql_fetch_row(res); row != nullptr && row[1] != nullptr) {
          *first_value = row[1];
        }
        mysql_free_result(res);
      }
    }
    outcome.error = c.error();
    outcome.finished = std::chrono::steady_clock::now();
  });
  std::this_thread::sleep_for(delay);
  RunResult killed = victim.kill();
  query.join();
  EXPECT_EQ(killed.status, 0) << killed.output;
  return outcome;
}

// An autocommit read whose replica dies before any byte of the result was sent is retried once
// elsewhere ([routing] retry_reads, default on): the client gets its result, not an error. With
// retry_reads = false it gets ERR 1927 at once.
TEST_F(BackendFailure, ReadRetriedWhenItsReplicaDiesBeforeAnswering) {
  const int replica_port = sandbox().port("replica2");
  if (replica_port == 0) {
    GTEST_SKIP() << "needs a sandbox with two replicas (scripts/sandbox start --replicas 2)";
  }
  const std::string primary_id = sandbox().get("SANDBOX_PRIMARY_SERVER_ID");
  const std::string replica_id = sandbox().get("SANDBOX_REPLICA2_SERVER_ID");
  ASSERT_FALSE(primary_id.empty());
  for (const bool retry : {true, false}) {
    SCOPED_TRACE(retry ? "retry_reads = true" : "retry_reads = false");
    ProxyOptions options;
    options.backends = {{"primary", sandbox().primary_port(), "primary"},
                        {"replica2", replica_port, "replica"}};
    options.connect_timeout_ms = 3000;
    options.extra_toml = retry ? "" : "[routing]\nretry_reads = false\n";
    ProxyProcess proxy(sandbox(), options);
    ASSERT_TRUE(proxy.start());
    auto c = must_connect({.port = proxy.port(), .timeout_s = 30});
    ASSERT_TRUE(c);
    ASSERT_EQ(c->scalar("SELECT @@server_id"), replica_id) << "the only replica serves reads";

    KilledServer server(sandbox(), "replica2");
    std::string served_by;
    const QueryOutcome outcome =
        query_while_killing(*c, "SELECT SLEEP(2), @@server_id", server, 700ms, &served_by);
    if (retry) {
      EXPECT_EQ(outcome.rc, 0) << "the read was not retried: " << outcome.error;
      EXPECT_EQ(served_by, primary_id) << "the retry runs where routing now says: the primary";
      EXPECT_NE(proxy.log().find("retrying the read"), std::string::npos);
    } else {
      EXPECT_NE(outcome.rc, 0);
      EXPECT_EQ(outcome.error.code, 1927u) << outcome.error;
    }
    // The session goes on, its reads on the primary while the replica is down.
    EXPECT_EQ(c->scalar("SELECT @@server_id"), primary_id);
    RunResult restarted = server.restart();
    ASSERT_EQ(restarted.status, 0) << restarted.output;
  }
}

}  // namespace
}  // namespace replproxy::e2e
