// The admin SQL interface ([admin]) driven with the mariadb CLI, as an operator would: every
// command's rows, maintenance draining a replica, KILL SESSION, RELOAD CONFIG and SIGHUP
// changing the backends under connected clients, a broken file refused, the credentials kept
// apart from the client port's, and the Prometheus endpoint scraped with curl.

#include <algorithm>
#include <csignal>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

constexpr int kIntervalMs = 200;

using AdminRow = BatchRow;

struct Topology {
  bool replica2 = true;
  std::string more_toml;
  bool tls = false;  // [proxy] tls_cert/tls_key from the sandbox: both ports offer TLS
};

// A proxy over the sandbox with [health], [admin] and [metrics] on free ports.
class AdminProxy {
 public:
  AdminProxy(const Sandbox& sb, const Topology& topology)
      : sb_(sb), admin_port_(free_port()), metrics_port_(free_port()), port_(free_port()) {
    proxy_ = std::make_unique<ProxyProcess>(render(topology), port_);
  }

  std::string render(const Topology& topology) const {
    ProxyOptions options;
    options.port = port_;
    options.backends = {{"primary", sb_.port("primary"), "primary"},
                        {"replica1", sb_.port("replica1"), "replica"}};
    if (topology.replica2) {
      options.backends.push_back({"replica2", sb_.port("replica2"), "replica"});
    }
    options.connect_timeout_ms = 2000;
    if (topology.tls) {
      options.tls_cert = sb_.tls_dir() + "/server-cert.pem";
      options.tls_key = sb_.tls_dir() + "/server-key.pem";
    }
    options.extra_toml = "[health]\nuser = \"monitor\"\npassword = \"monitor\"\ninterval_ms = " +
                         std::to_string(kIntervalMs) + "\n\n[admin]\nlisten = \"127.0.0.1:" +
                         std::to_string(admin_port_) +
                         "\"\nuser = \"admin\"\npassword = \"s3cret\"\n\n[metrics]\nlisten = "
                         "\"127.0.0.1:" +
                         std::to_string(metrics_port_) + "\"\n" + topology.more_toml;
    return render_config(options);
  }

  ::testing::AssertionResult start() {
    auto started = proxy_->start();
    if (!started) {
      return started;
    }
    if (!wait_until([&] { return port_accepts(admin_port_); }, 10s)) {
      return ::testing::AssertionFailure() << "the admin port does not accept connections";
    }
    return ::testing::AssertionSuccess();
  }

  // Runs SQL through the mariadb CLI on the admin port.
  RunResult admin(const std::string& sql, const std::string& user = "admin",
                  const std::string& password = "s3cret") const {
    return run(mariadb_cli(admin_port_, "", "-e " + shell_quote(sql), user, password), 30s);
  }
  std::vector<AdminRow> rows(const std::string& sql) const {
    const RunResult r = admin(sql);
    EXPECT_EQ(r.status, 0) << sql << ": " << r.output;
    return parse_batch(r.output);
  }
  AdminRow backend(const std::string& name) const {
    for (AdminRow& row : rows("SHOW BACKENDS")) {
      if (row["name"] == name) {
        return row;
      }
    }
    return {};
  }
  uint64_t stat(const std::string& name) const {
    for (AdminRow& row : rows("SHOW STATS LIKE '" + name + "'")) {
      return std::stoull(row["value"]);
    }
    ADD_FAILURE() << "no stat " << name;
    return 0;
  }
  std::string metrics() const {
    return run("curl -sS --max-time 10 http://127.0.0.1:" + std::to_string(metrics_port_) +
               "/metrics")
        .output;
  }

  ProxyProcess& process() { return *proxy_; }
  int port() const { return port_; }
  int admin_port() const { return admin_port_; }

 private:
  const Sandbox& sb_;
  int admin_port_;
  int metrics_port_;
  int port_;
  std::unique_ptr<ProxyProcess> proxy_;
};

// The value of the sample NAME{LABELS} in a Prometheus exposition, or -1.
double sample(const std::string& text, const std::string& name_and_labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name_and_labels + " ", 0) == 0) {
      return std::stod(line.substr(name_and_labels.size() + 1));
    }
  }
  return -1;
}

bool all_fit(const AdminProxy& proxy, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (proxy.backend(name)["state"] != "fit") {
      return false;
    }
  }
  return true;
}

class AdminInterface : public E2eTest {};

TEST_F(AdminInterface, ShowCommandsReturnRealResultSets) {
  AdminProxy proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  // On a fresh sandbox this proxy is the first to create the heartbeat table, so the
  // replicas report Seconds_Behind_Master until its first row has replicated to them.
  ASSERT_TRUE(wait_until(
      [&] {
        return all_fit(proxy, {"primary", "replica1", "replica2"}) &&
               proxy.backend("replica1")["lag_source"] == "heartbeat" &&
               proxy.backend("replica2")["lag_source"] == "heartbeat";
      },
      10s))
      << proxy.admin("SHOW BACKENDS").output;

  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  for (int i = 0; i < 10; ++i) {
    c->must("SELECT @@server_id");
  }
  const std::vector<AdminRow> backends = proxy.rows("SHOW BACKENDS");
  ASSERT_EQ(backends.size(), 3u);
  AdminRow primary = backends[0];
  EXPECT_EQ(primary["name"], "primary");
  EXPECT_EQ(primary["role"], "primary");
  EXPECT_EQ(primary["state"], "fit");
  EXPECT_EQ(primary["address"], "127.0.0.1:" + std::to_string(sandbox().port("primary")));
  EXPECT_NE(primary["gtid"], "NULL");
  AdminRow replica1 = backends[1];
  EXPECT_EQ(replica1["role"], "replica");
  EXPECT_EQ(replica1["lag_source"], "heartbeat");
  EXPECT_NE(replica1["lag_ms"], "NULL");
  EXPECT_EQ(replica1["io_thread"], "Yes");
  EXPECT_EQ(replica1["sql_thread"], "Yes");
  EXPECT_EQ(replica1["connections"], "1");  // the session's connection to it
  EXPECT_EQ(std::stoi(replica1["queries"]) + std::stoi(backends[2].at("queries")), 10);

  EXPECT_EQ(proxy.stat("queries_replica"), 10u);
  EXPECT_GE(proxy.stat("connections_accepted"), 1u);
  const std::vector<AdminRow> stats = proxy.rows("SHOW STATS");
  EXPECT_GT(stats.size(), 20u);

  EXPECT_EQ(proxy.rows("SHOW VERSION").at(0)["version"], "0.1.0");
  bool masked = false;
  for (AdminRow& row : proxy.rows("SHOW CONFIG")) {
    EXPECT_EQ(row["value"].find("s3cret"), std::string::npos) << row["key"];
    masked |= row["key"] == "admin.password" && row["value"] == "****";
  }
  EXPECT_TRUE(masked);

  const RunResult bad = proxy.admin("SHOW TABLES");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.output.find("ERROR 1064"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("unknown or malformed admin command: SHOW TABLES"), std::string::npos)
      << bad.output;
  EXPECT_NE(bad.output.find("SHOW BACKENDS"), std::string::npos) << bad.output;
  // Any driver works, and a bad command leaves its session usable.
  auto driver = must_connect({.port = proxy.admin_port(), .user = "admin", .password = "s3cret"});
  ASSERT_TRUE(driver);
  const auto refused = driver->query("FROBNICATE");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, 1064u);
  EXPECT_EQ(driver->scalar("SHOW VERSION"), "0.1.0");
  // HELP through a driver (the mariadb CLI answers `help` itself).
  const Rows help = driver->must("HELP");
  EXPECT_EQ(help.size(), 14u);
  EXPECT_TRUE(std::ranges::any_of(help, [](const auto& row) {
    return !row.empty() && row[0] && row[0]->starts_with("SHOW TUNNELS");
  }));
  EXPECT_EQ(driver->must("SHOW BACKENDS").size(), 3u);
}

TEST_F(AdminInterface, CredentialsAreKeptApartFromTheClientPort) {
  AdminProxy proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  const RunResult wrong = proxy.admin("SHOW VERSION", "admin", "wrong");
  EXPECT_NE(wrong.status, 0);
  EXPECT_NE(wrong.output.find("ERROR 1045"), std::string::npos) << wrong.output;
  const RunResult app = proxy.admin("SHOW VERSION", "app", "app");
  EXPECT_NE(app.status, 0);
  EXPECT_NE(app.output.find("ERROR 1045"), std::string::npos) << app.output;
  const RunResult admin_on_client_port =
      run(mariadb_cli(proxy.port(), "", "-e 'SELECT 1'", "admin", "s3cret"));
  EXPECT_NE(admin_on_client_port.status, 0);
  EXPECT_NE(admin_on_client_port.output.find("ERROR 1045"), std::string::npos)
      << admin_on_client_port.output;
  EXPECT_EQ(proxy.admin("SHOW VERSION").status, 0);
}

TEST_F(AdminInterface, TlsLikeTheClientPort) {
  AdminProxy proxy(sandbox(), {.tls = true});
  ASSERT_TRUE(proxy.start());
  auto c = must_connect({.port = proxy.admin_port(),
                         .user = "admin",
                         .password = "s3cret",
                         .ssl_ca = sandbox().ca(),
                         .verify_server_cert = true});
  ASSERT_TRUE(c);
  const char* cipher = mysql_get_ssl_cipher(c->get());
  ASSERT_NE(cipher, nullptr) << "the admin session is not encrypted";
  EXPECT_GT(std::string(cipher).size(), 0u);
  EXPECT_EQ(c->scalar("SHOW VERSION"), "0.1.0");
}

TEST_F(AdminInterface, LaggingReplicaShowsLaggingWithItsLag) {
  AdminProxy proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ASSERT_TRUE(wait_until([&] { return all_fit(proxy, {"replica1", "replica2"}); }, 10s));
  const ScopedReplicaDelay delay(sandbox(), "replica1", 4);
  AdminRow row;
  ASSERT_TRUE(wait_until(
      [&] {
        row = proxy.backend("replica1");
        return row["state"] == "lagging" && row["lag_ms"] != "NULL" &&
               std::stoll(row["lag_ms"]) > 1000;
      },
      20s))
      << proxy.admin("SHOW BACKENDS").output;
  EXPECT_NE(row["reason"].find("lag"), std::string::npos) << row["reason"];
  const std::string metrics = proxy.metrics();
  EXPECT_GT(sample(metrics, "replproxy_backend_lag_seconds{backend=\"replica1\"}"), 1.0)
      << metrics;
}

TEST_F(AdminInterface, MaintenanceDrainsAReplicaAndOnlineBringsItBack) {
  AdminProxy proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ASSERT_TRUE(wait_until([&] { return all_fit(proxy, {"replica1", "replica2"}); }, 10s));
  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  const std::string r1 = sandbox().get("SANDBOX_REPLICA1_SERVER_ID");
  const std::string r2 = sandbox().get("SANDBOX_REPLICA2_SERVER_ID");
  ASSERT_EQ(tally(*c, "SELECT @@server_id", 10), (Tally{{r1, 5}, {r2, 5}}));

  const RunResult set = proxy.admin("SET BACKEND 'replica1' MAINTENANCE");
  ASSERT_EQ(set.status, 0) << set.output;
  EXPECT_EQ(proxy.backend("replica1")["state"], "maintenance");
  EXPECT_EQ(proxy.backend("replica1")["connections"], "0");  // the idle session let go of it
  const Tally during = tally(*c, "SELECT @@server_id", 40);
  EXPECT_EQ(during, (Tally{{r2, 40}})) << to_string(during);

  const RunResult unknown = proxy.admin("SET BACKEND 'nope' MAINTENANCE");
  EXPECT_NE(unknown.status, 0);
  EXPECT_NE(unknown.output.find("no backend named 'nope'"), std::string::npos) << unknown.output;

  ASSERT_EQ(proxy.admin("SET BACKEND 'replica1' ONLINE").status, 0);
  ASSERT_TRUE(wait_until([&] { return tally(*c, "SELECT @@server_id", 10).contains(r1); }, 10s));
  EXPECT_EQ(proxy.backend("replica1")["state"], "fit");
}

TEST_F(AdminInterface, ShowSessionsAndKillSession) {
  AdminProxy proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  auto c = must_connect({.port = proxy.port(), .db = "mysql"});
  ASSERT_TRUE(c);
  const std::string id = std::to_string(mysql_thread_id(c->get()));
  std::thread sleeper([&] { (void)c->query("SELECT SLEEP(2), 'marker'"); });
  AdminRow mine;
  const bool seen = wait_until(
      [&] {
        for (AdminRow& row : proxy.rows("SHOW PROCESSLIST")) {
          if (row["id"] == id && row["statement"].find("marker") != std::string::npos) {
            mine = row;
            return true;
          }
        }
        return false;
      },
      5s);
  sleeper.join();
  ASSERT_TRUE(seen) << proxy.admin("SHOW SESSIONS").output;
  EXPECT_EQ(mine["user"], "app");
  EXPECT_EQ(mine["schema"], "mysql");
  EXPECT_EQ(mine["state"], "forwarding");
  EXPECT_EQ(mine["in_transaction"], "no");
  EXPECT_NE(mine["backends"], "");
  EXPECT_NE(mine["statement_ms"], "NULL");

  auto other = must_connect({.port = proxy.port()});
  ASSERT_TRUE(other);
  const RunResult killed = proxy.admin("KILL SESSION " + id);
  ASSERT_EQ(killed.status, 0) << killed.output;
  EXPECT_FALSE(c->query("SELECT 1").has_value());  // the killed session is gone
  EXPECT_EQ(other->scalar("SELECT 1"), "1");        // the other one is not
  for (AdminRow& row : proxy.rows("SHOW SESSIONS")) {
    EXPECT_NE(row["id"], id);
  }
  const RunResult unknown = proxy.admin("KILL SESSION 999999");
  EXPECT_NE(unknown.status, 0);
  EXPECT_NE(unknown.output.find("ERROR 1094"), std::string::npos) << unknown.output;
  EXPECT_EQ(proxy.stat("sessions_killed"), 1u);
}

TEST_F(AdminInterface, ShowRulesCountsHits) {
  AdminProxy proxy(sandbox(), {.more_toml = "\n[[routing.rules]]\nmatch = '^SELECT 42'\n"
                                            "target = \"primary\"\n"});
  ASSERT_TRUE(proxy.start());
  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(c->scalar("SELECT 42"), "42");
  }
  const std::vector<AdminRow> rules = proxy.rows("SHOW RULES");
  ASSERT_EQ(rules.size(), 1u);
  AdminRow rule = rules[0];
  EXPECT_EQ(rule["match"], "^SELECT 42");
  EXPECT_EQ(rule["target"], "primary");
  EXPECT_EQ(rule["hits"], "3");
  EXPECT_EQ(sample(proxy.metrics(), "replproxy_rule_hits_total{rule=\"0\",target=\"primary\"}"),
            3);
}

// RELOAD CONFIG adds a replica under a connected client, which starts reading from it; a broken
// file is refused whole; SIGHUP applies a file like RELOAD CONFIG does.
TEST_F(AdminInterface, ReloadChangesBackendsWithoutReconnectingClients) {
  AdminProxy proxy(sandbox(), {.replica2 = false});
  ASSERT_TRUE(proxy.start());
  ASSERT_TRUE(wait_until([&] { return all_fit(proxy, {"replica1"}); }, 10s));
  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  const std::string r1 = sandbox().get("SANDBOX_REPLICA1_SERVER_ID");
  const std::string r2 = sandbox().get("SANDBOX_REPLICA2_SERVER_ID");
  ASSERT_EQ(tally(*c, "SELECT @@server_id", 10), (Tally{{r1, 10}}));
  const std::string id = std::to_string(mysql_thread_id(c->get()));

  write_file(proxy.process().config_path(), proxy.render({.replica2 = true}));
  const RunResult reload = proxy.admin("RELOAD CONFIG");
  ASSERT_EQ(reload.status, 0) << reload.output;
  ASSERT_TRUE(wait_until([&] { return tally(*c, "SELECT @@server_id", 10).contains(r2); }, 10s))
      << proxy.admin("SHOW BACKENDS").output;
  EXPECT_EQ(std::to_string(mysql_thread_id(c->get())), id);  // the same connection throughout
  EXPECT_EQ(proxy.rows("SHOW BACKENDS").size(), 3u);

  write_file(proxy.process().config_path(),
             proxy.render({.replica2 = false}) + "\n[proxy_typo]\nlisten = 1\n");
  const RunResult broken = proxy.admin("RELOAD CONFIG");
  EXPECT_NE(broken.status, 0);
  const std::string where = proxy.process().config_path() + ":";
  EXPECT_NE(broken.output.find(where), std::string::npos) << broken.output;
  EXPECT_NE(broken.output.find("proxy_typo"), std::string::npos) << broken.output;
  EXPECT_EQ(proxy.rows("SHOW BACKENDS").size(), 3u);  // the running config stays
  EXPECT_EQ(tally(*c, "SELECT @@server_id", 10), (Tally{{r1, 5}, {r2, 5}}));
  EXPECT_EQ(proxy.stat("config_reload_failures"), 1u);

  write_file(proxy.process().config_path(), proxy.render({.replica2 = false}));
  proxy.process().signal(SIGHUP);
  ASSERT_TRUE(wait_until([&] { return proxy.rows("SHOW BACKENDS").size() == 2; }, 10s));
  EXPECT_EQ(tally(*c, "SELECT @@server_id", 10), (Tally{{r1, 10}}));
  EXPECT_EQ(proxy.stat("config_reloads"), 2u);
}

TEST_F(AdminInterface, MetricsMoveWithTraffic) {
  AdminProxy proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ASSERT_TRUE(wait_until([&] { return all_fit(proxy, {"primary", "replica1", "replica2"}); }, 10s));
  const std::string before = proxy.metrics();
  ASSERT_NE(before.find("# TYPE replproxy_queries_total counter"), std::string::npos) << before;
  EXPECT_EQ(sample(before, "replproxy_backend_up{backend=\"primary\"}"), 1) << before;
  EXPECT_EQ(sample(before, "replproxy_queries_total{route=\"replica\",backend=\"replica1\"}"), 0)
      << before;
  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  for (int i = 0; i < 20; ++i) {
    c->must("SELECT @@server_id");
  }
  c->must("DO 1");
  const std::string after = proxy.metrics();
  EXPECT_EQ(sample(after, "replproxy_queries_total{route=\"replica\",backend=\"replica1\"}") +
                sample(after, "replproxy_queries_total{route=\"replica\",backend=\"replica2\"}"),
            20)
      << after;
  EXPECT_GE(sample(after, "replproxy_queries_total{route=\"primary\",backend=\"primary\"}"), 1)
      << after;
  EXPECT_GE(sample(after, "replproxy_query_duration_seconds_count"), 21) << after;
  EXPECT_EQ(sample(after, "replproxy_sessions"), 1) << after;
  EXPECT_GE(sample(after, "replproxy_backend_lag_seconds{backend=\"replica1\"}"), 0) << after;
  const RunResult missing = run("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" +
                                std::to_string(proxy.admin_port()) + "/metrics");
  EXPECT_NE(missing.output, "200");  // the admin port speaks MySQL, not HTTP
}

}  // namespace
}  // namespace replproxy::e2e
