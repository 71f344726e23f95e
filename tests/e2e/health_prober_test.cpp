// health::Prober against the real sandbox: it finds the primary and the fit replicas, writes a
// heartbeat that replicates, notices a stopped SQL thread, keeps probing the others at pace when
// a backend does not answer, and falls back to Seconds_Behind_Master when the health account
// may not use the heartbeat table. The pure helpers (lag formula, SQL text, variable parsing)
// are checked first, without servers.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>

#include "health/heartbeat.h"
#include "health/prober.h"
#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

using health::BackendState;
using health::LagSource;
using health::SnapshotPtr;

// ---------------------------------------------------------------------------------------------
// Pure helpers

TEST(HealthProberPure, HeartbeatLagIsReadTimeMinusRowTime) {
  const health::HeartbeatStatus writer{.last_write_us = 10'000'000, .note = ""};
  EXPECT_EQ(health::heartbeat_lag_ms(writer, 9'800'000, 10'100'000, 250, 1000), 300);
  // A row from the future (clock step back) is no lag, not a negative one.
  EXPECT_EQ(health::heartbeat_lag_ms(writer, 10'200'000, 10'100'000, 250, 1000), 0);
  // A replica far behind a current writer.
  EXPECT_EQ(health::heartbeat_lag_ms(writer, 5'000'000, 10'100'000, 250, 1000), 5100);
}

TEST(HealthProberPure, HeartbeatRowOlderThanThisWriterCountsFromItsFirstWrite) {
  // A row an earlier run left an hour ago, read 50 ms after this writer's first heartbeat: the
  // replica is 50 ms from having it, not an hour behind.
  const health::HeartbeatStatus writer{
      .first_write_us = 3'600'000'000, .last_write_us = 3'600'000'000, .attempts = 1, .note = ""};
  EXPECT_EQ(health::heartbeat_lag_ms(writer, 1'000'000, 3'600'050'000, 250, 1000), 50);
  // Still without our row 1.2 s later: lagging by at least that much.
  const health::HeartbeatStatus later{
      .first_write_us = 3'600'000'000, .last_write_us = 3'601'000'000, .attempts = 5, .note = ""};
  EXPECT_EQ(health::heartbeat_lag_ms(later, 1'000'000, 3'601'200'000, 250, 1000), 1200);
}

TEST(HealthProberPure, HeartbeatLagNeedsACurrentWriter) {
  // Never written: nothing to compare with.
  EXPECT_FALSE(health::heartbeat_lag_ms({}, 1'000'000, 2'000'000, 250, 1000));
  // Last write 1.5 s before the read, beyond 2 x 250 + 1000 ms: the writer is stuck.
  const health::HeartbeatStatus stale{.last_write_us = 10'000'000, .note = ""};
  EXPECT_FALSE(health::heartbeat_lag_ms(stale, 10'000'000, 11'500'001, 250, 1000));
  EXPECT_TRUE(health::heartbeat_lag_ms(stale, 10'000'000, 11'500'000, 250, 1000));
}

TEST(HealthProberPure, HeartbeatSql) {
  EXPECT_EQ(health::quote_identifier("a`b"), "`a``b`");
  EXPECT_EQ(health::heartbeat_create_schema_sql("replproxy"),
            "CREATE DATABASE IF NOT EXISTS `replproxy`");
  EXPECT_EQ(health::heartbeat_create_table_sql("replproxy", "heartbeat"),
            "CREATE TABLE IF NOT EXISTS `replproxy`.`heartbeat` (id INT PRIMARY KEY, ts BIGINT "
            "NOT NULL, server_id INT UNSIGNED)");
  EXPECT_EQ(health::heartbeat_write_sql("replproxy", "heartbeat", 1234567, 7),
            "INSERT INTO `replproxy`.`heartbeat` (id, ts, server_id) VALUES (1, 1234567, 7) "
            "ON DUPLICATE KEY UPDATE ts = VALUES(ts), server_id = VALUES(server_id)");
  EXPECT_EQ(health::heartbeat_read_sql("r", "h"), "SELECT ts FROM `r`.`h` WHERE id = 1");
}

health::ResultSet pairs(std::vector<std::pair<std::string, std::string>> rows) {
  health::ResultSet set{.columns = {"Variable_name", "Value"}, .rows = {}};
  for (auto& [name, value] : rows) {
    set.rows.push_back({name, value});
  }
  return set;
}

TEST(HealthProberPure, MariadbVariables) {
  health::ProbeResult r;
  health::apply_server_variables(pairs({{"version", "10.11.19-MariaDB-0+deb12u1-log"},
                                        {"server_id", "2"},
                                        {"read_only", "ON"},
                                        {"auto_increment_increment", "2"},
                                        {"auto_increment_offset", "1"},
                                        {"gtid_current_pos", "0-1-15"},
                                        {"gtid_binlog_pos", "0-1-14"},
                                        {"gtid_binlog_state", "0-1-14"},
                                        {"wsrep_on", "OFF"},
                                        {"wsrep_desync", "OFF"}}),
                                 pairs({{"Rpl_semi_sync_master_status", "ON"},
                                        {"Rpl_semi_sync_master_clients", "2"},
                                        {"wsrep_ready", "OFF"}}),
                                 r);
  EXPECT_TRUE(r.is_mariadb);
  EXPECT_EQ(r.server_id, 2u);
  EXPECT_TRUE(r.read_only);
  EXPECT_FALSE(r.super_read_only);
  EXPECT_EQ(r.auto_increment_increment, 2u);
  EXPECT_EQ(r.gtid_current_pos, "0-1-15");
  EXPECT_EQ(r.gtid_binlog_pos, "0-1-14");
  EXPECT_EQ(r.gtid_binlog_state, "0-1-14");
  EXPECT_EQ(r.semi_sync_primary_on, true);
  EXPECT_EQ(r.semi_sync_clients, 2u);
  EXPECT_FALSE(r.galera);  // wsrep_on = OFF
}

TEST(HealthProberPure, MysqlAndGaleraVariables) {
  health::ProbeResult r;
  health::apply_server_variables(pairs({{"version", "8.0.36"},
                                        {"server_id", "11"},
                                        {"read_only", "OFF"},
                                        {"super_read_only", "ON"},
                                        {"gtid_executed", "uuid:1-5"},
                                        {"server_uuid", "uuid"}}),
                                 pairs({{"Rpl_semi_sync_source_status", "OFF"}}), r);
  EXPECT_FALSE(r.is_mariadb);
  EXPECT_FALSE(r.read_only);
  EXPECT_TRUE(r.super_read_only);
  EXPECT_EQ(r.gtid_executed, "uuid:1-5");
  EXPECT_EQ(r.server_uuid, "uuid");
  EXPECT_EQ(r.semi_sync_primary_on, false);
  EXPECT_FALSE(r.semi_sync_clients);

  health::ProbeResult g;
  health::apply_server_variables(
      pairs({{"version", "10.11.19-MariaDB"}, {"wsrep_on", "ON"}, {"wsrep_desync", "ON"}}),
      pairs(
          {{"wsrep_local_state", "4"}, {"wsrep_cluster_status", "Primary"}, {"wsrep_ready", "ON"}}),
      g);
  ASSERT_TRUE(g.galera);
  EXPECT_EQ(g.galera->local_state, 4u);
  EXPECT_EQ(g.galera->cluster_status, "Primary");
  EXPECT_TRUE(g.galera->ready);
  EXPECT_TRUE(g.galera->desync);
}

// ---------------------------------------------------------------------------------------------
// Against the sandbox

constexpr uint32_t kIntervalMs = 250;
constexpr uint32_t kTimeoutMs = 1000;

class HealthProber : public E2eTest {
 protected:
  // primary, replica1, replica2 of the sandbox, as configured roles, with the monitor account.
  std::shared_ptr<config::Config> sandbox_config() {
    auto c = std::make_shared<config::Config>();
    for (const std::string name : {"primary", "replica1", "replica2"}) {
      config::Backend b;
      b.name = name;
      b.address = {"127.0.0.1", static_cast<uint16_t>(sandbox().port(name))};
      b.role = name == "primary" ? config::BackendRole::primary : config::BackendRole::replica;
      c->backends.push_back(b);
    }
    c->health.enabled = true;
    c->health.user = sandbox().get("SANDBOX_MONITOR_USER");
    c->health.password = sandbox().get("SANDBOX_MONITOR_PASSWORD");
    c->health.interval_ms = kIntervalMs;
    c->health.probe_timeout_ms = kTimeoutMs;
    c->health.heartbeat_interval_ms = 250;
    return c;
  }

  void SetUp() override {
    E2eTest::SetUp();
    if (!IsSkipped() && sandbox().port("replica2") == 0) {
      GTEST_SKIP() << "needs a sandbox with two replicas";
    }
  }

  // Starts a prober on CONFIG that records when each snapshot was published.
  std::unique_ptr<health::Prober> start_prober(std::shared_ptr<const config::Config> config) {
    auto prober = std::make_unique<health::Prober>(std::move(config), [this](SnapshotPtr s) {
      std::lock_guard lock(mutex_);
      published_.push_back({std::chrono::steady_clock::now(), s->generation});
    });
    prober->start();
    return prober;
  }

  // Polls PROBER's latest snapshot until PRED holds; the last snapshot seen either way.
  template <typename Pred>
  SnapshotPtr wait_snapshot(const health::Prober& prober, Pred pred,
                            std::chrono::milliseconds timeout = 10s) {
    SnapshotPtr s;
    wait_until(
        [&] {
          s = prober.latest();
          return s && pred(*s);
        },
        timeout);
    return s;
  }

  static std::string describe(const SnapshotPtr& s) {
    if (!s) {
      return "no snapshot";
    }
    std::string out = "generation " + std::to_string(s->generation) + ", primary " +
                      (s->primary ? s->backends[*s->primary].name : "none") + ", note '" +
                      s->heartbeat_note + "'";
    for (const auto& b : s->backends) {
      out += "\n  " + b.name + ": " + std::string(health::to_string(b.state)) + " (" + b.reason +
             ") lag " + (b.lag_ms ? std::to_string(*b.lag_ms) : "?") + " ms from " +
             std::string(health::to_string(b.lag_source)) + "; probe error '" + b.last_probe.error +
             "'";
    }
    return out;
  }

  static bool healthy(const health::Snapshot& s, LagSource source) {
    return s.backends.size() >= 3 && s.primary == 0u && s.backends[0].fit() &&
           s.backends[1].fit() && s.backends[2].fit() && s.backends[1].lag_source == source &&
           s.backends[2].lag_source == source;
  }

  // The longest time between two consecutive snapshots published since FROM.
  std::chrono::milliseconds longest_gap_since(std::chrono::steady_clock::time_point from) {
    std::lock_guard lock(mutex_);
    std::chrono::milliseconds longest{0};
    for (size_t i = 1; i < published_.size(); ++i) {
      if (published_[i - 1].first >= from) {
        longest = std::max(longest, std::chrono::duration_cast<std::chrono::milliseconds>(
                                        published_[i].first - published_[i - 1].first));
      }
    }
    return longest;
  }

  size_t published_count() {
    std::lock_guard lock(mutex_);
    return published_.size();
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, uint64_t>> published_;
};

TEST_F(HealthProber, FindsPrimaryAndFitReplicasWithHeartbeatLag) {
  auto prober = start_prober(sandbox_config());
  const auto started = std::chrono::steady_clock::now();
  const SnapshotPtr s =
      wait_snapshot(*prober, [](const auto& s) { return healthy(s, LagSource::heartbeat); });
  ASSERT_TRUE(s && healthy(*s, LagSource::heartbeat)) << describe(s);
  std::cerr << "[health] healthy after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count()
            << " ms\n"
            << describe(s) << "\n";
  EXPECT_EQ(s->backends[0].role, config::BackendRole::primary);
  EXPECT_EQ(s->backends[1].role, config::BackendRole::replica);
  EXPECT_TRUE(s->heartbeat_note.empty()) << s->heartbeat_note;
  EXPECT_TRUE(prober->heartbeat_problem().empty()) << prober->heartbeat_problem();
  for (size_t i : {1u, 2u}) {
    ASSERT_TRUE(s->backends[i].lag_ms);
    EXPECT_LT(*s->backends[i].lag_ms, 1000) << describe(s);
    EXPECT_EQ(s->backends[i].last_probe.server_id, static_cast<uint32_t>(i + 1));
    EXPECT_TRUE(s->backends[i].last_probe.replica);
    EXPECT_TRUE(s->backends[i].last_probe.read_only);
  }
  EXPECT_FALSE(s->backends[0].last_probe.read_only);
  EXPECT_FALSE(s->backends[0].last_probe.replica);
  EXPECT_TRUE(s->backends[0].last_probe.is_mariadb);
  EXPECT_FALSE(s->backends[0].last_probe.gtid_binlog_pos.empty());
  EXPECT_EQ(s->backends[0].last_probe.semi_sync_primary_on.has_value(), true);
  EXPECT_GT(published_count(), 0u);

  // The heartbeat row is on the primary, written by server 1, and has reached both replicas.
  auto primary = connect_direct(sandbox(), "primary");
  ASSERT_TRUE(primary);
  EXPECT_EQ(primary->scalar("SELECT server_id FROM replproxy.heartbeat WHERE id = 1"), "1");
  for (const std::string name : {"replica1", "replica2"}) {
    auto replica = connect_direct(sandbox(), name);
    ASSERT_TRUE(replica);
    EXPECT_FALSE(replica->scalar("SELECT ts FROM replproxy.heartbeat WHERE id = 1").empty())
        << name;
  }
  prober->stop();
}

TEST_F(HealthProber, StoppedSqlThreadMakesTheReplicaUnfit) {
  auto prober = start_prober(sandbox_config());
  SnapshotPtr s =
      wait_snapshot(*prober, [](const auto& s) { return healthy(s, LagSource::heartbeat); });
  ASSERT_TRUE(s && healthy(*s, LagSource::heartbeat)) << describe(s);

  auto replica = connect_direct(sandbox(), "replica2");
  ASSERT_TRUE(replica);
  replica->must("STOP SLAVE SQL_THREAD");
  struct Restart {
    Connection& c;
    ~Restart() { c.query("START SLAVE SQL_THREAD"); }
  } restart{*replica};

  const auto stopped = std::chrono::steady_clock::now();
  s = wait_snapshot(*prober, [](const auto& s) { return !s.backends[2].fit(); });
  ASSERT_TRUE(s && !s->backends[2].fit()) << describe(s);
  std::cerr << "[health] unfit after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - stopped)
                   .count()
            << " ms\n"
            << describe(s) << "\n";
  ASSERT_TRUE(s->backends[2].last_probe.replica);
  EXPECT_FALSE(s->backends[2].last_probe.replica->sql_running);
  EXPECT_TRUE(s->backends[1].fit()) << describe(s);

  replica->must("START SLAVE SQL_THREAD");
  s = wait_snapshot(*prober, [](const auto& s) { return healthy(s, LagSource::heartbeat); });
  EXPECT_TRUE(s && healthy(*s, LagSource::heartbeat)) << describe(s);
}

// Something that accepts TCP connections and never says a word: a probe of it hangs until its
// timeout, the worst case for a prober.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen";
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST_F(HealthProber, DeadBackendsDoNotHoldUpTheOthers) {
  auto config = sandbox_config();
  SilentListener silent;
  config::Backend refused{.name = "refused",
                          .address = {"127.0.0.1", static_cast<uint16_t>(free_port())},
                          .role = config::BackendRole::replica};
  config::Backend hung{.name = "hung",
                       .address = {"127.0.0.1", silent.port()},
                       .role = config::BackendRole::replica};
  config->backends.push_back(refused);
  config->backends.push_back(hung);
  auto prober = start_prober(config);

  const auto all_seen = [](const health::Snapshot& s) {
    return healthy(s, LagSource::heartbeat) && s.backends[3].state == BackendState::down &&
           s.backends[4].state == BackendState::down;
  };
  SnapshotPtr s = wait_snapshot(*prober, all_seen);
  ASSERT_TRUE(s && all_seen(*s)) << describe(s);
  std::cerr << describe(s) << "\n";
  EXPECT_FALSE(s->backends[3].last_probe.reachable);
  EXPECT_FALSE(s->backends[3].last_probe.error.empty());

  // Rounds keep their pace: after the first timeout the hung backend is not waited for, and it
  // never delays a round by more than probe_timeout_ms.
  const auto from = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(3s);
  const auto gap = longest_gap_since(from);
  std::cerr << "[health] longest gap between snapshots: " << gap.count() << " ms\n";
  EXPECT_LT(gap, std::chrono::milliseconds(kIntervalMs + kTimeoutMs + 500));
  s = prober->latest();
  EXPECT_TRUE(s && all_seen(*s)) << describe(s);

  // stop() returns once the blocked probe of the hung backend gives up (its timeout, rounded up
  // to whole seconds).
  const auto stopping = std::chrono::steady_clock::now();
  prober->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 3s);
}

TEST_F(HealthProber, MaintenanceFlagTakesTheBackendOut) {
  auto prober = start_prober(sandbox_config());
  SnapshotPtr s =
      wait_snapshot(*prober, [](const auto& s) { return healthy(s, LagSource::heartbeat); });
  ASSERT_TRUE(s && healthy(*s, LagSource::heartbeat)) << describe(s);
  EXPECT_FALSE(prober->set_maintenance("nosuch", true));
  ASSERT_TRUE(prober->set_maintenance("replica1", true));
  s = wait_snapshot(*prober,
                    [](const auto& s) { return s.backends[1].state == BackendState::maintenance; });
  EXPECT_TRUE(s && s->backends[1].state == BackendState::maintenance) << describe(s);
  ASSERT_TRUE(prober->set_maintenance("replica1", false));
  s = wait_snapshot(*prober, [](const auto& s) { return healthy(s, LagSource::heartbeat); });
  EXPECT_TRUE(s && healthy(*s, LagSource::heartbeat)) << describe(s);
}

TEST_F(HealthProber, SetConfigAddsAndRemovesBackends) {
  auto config = sandbox_config();
  auto prober = start_prober(config);
  SnapshotPtr s =
      wait_snapshot(*prober, [](const auto& s) { return healthy(s, LagSource::heartbeat); });
  ASSERT_TRUE(s && healthy(*s, LagSource::heartbeat)) << describe(s);

  // A reload that puts a dead backend first: the others keep their names, sessions and states.
  auto reloaded = std::make_shared<config::Config>(*config);
  reloaded->backends.insert(
      reloaded->backends.begin(),
      config::Backend{.name = "gone",
                      .address = {"127.0.0.1", static_cast<uint16_t>(free_port())},
                      .role = config::BackendRole::replica});
  prober->set_config(reloaded);
  const auto moved = [](const health::Snapshot& s) {
    return s.backends.size() == 4 && s.backends[0].name == "gone" &&
           s.backends[0].state == BackendState::down && s.primary == 1u && s.backends[2].fit() &&
           s.backends[3].fit();
  };
  s = wait_snapshot(*prober, moved);
  ASSERT_TRUE(s && moved(*s)) << describe(s);
  EXPECT_TRUE(prober->set_maintenance("gone", true));

  prober->set_config(config);
  s = wait_snapshot(*prober, [](const auto& s) {
    return s.backends.size() == 3 && healthy(s, LagSource::heartbeat);
  });
  EXPECT_TRUE(s && s->backends.size() == 3 && healthy(*s, LagSource::heartbeat)) << describe(s);
  EXPECT_FALSE(prober->set_maintenance("gone", true));
}

TEST_F(HealthProber, TlsBackendsAreVerified) {
  auto config = sandbox_config();
  for (auto& b : config->backends) {
    b.tls = true;
    b.tls_ca = sandbox().ca();
  }
  // A CA file that did not sign the servers' certificates.
  config->backends[2].tls_ca = sandbox().tls_dir() + "/client-cert.pem";
  auto prober = start_prober(config);
  const auto seen = [](const health::Snapshot& s) {
    return s.primary == 0u && s.backends[0].fit() && s.backends[1].fit() &&
           s.backends[2].state == BackendState::down;
  };
  SnapshotPtr s = wait_snapshot(*prober, seen);
  ASSERT_TRUE(s && seen(*s)) << describe(s);
  std::cerr << describe(s) << "\n";
  EXPECT_NE(s->backends[2].last_probe.error.find("cannot connect"), std::string::npos);
}

// A health account with SLAVE MONITOR but no rights on the heartbeat schema, created on the
// primary (it replicates) and dropped at the end.
class ScopedMonitorUser {
 public:
  explicit ScopedMonitorUser(const Sandbox& sandbox) : sandbox_(sandbox) {
    name_ = "h2_noprivs_" + std::to_string(getpid());
    auto root = connect_direct(sandbox_, "primary");
    if (!root) {
      return;
    }
    root->must("CREATE USER '" + name_ + "'@'%' IDENTIFIED BY 'pw'");
    root->must("GRANT REPLICATION CLIENT, SLAVE MONITOR ON *.* TO '" + name_ + "'@'%'");
  }
  ~ScopedMonitorUser() {
    if (auto root = connect_direct(sandbox_, "primary")) {
      root->query("DROP USER IF EXISTS '" + name_ + "'@'%'");
    }
  }
  const std::string& name() const { return name_; }

 private:
  const Sandbox& sandbox_;
  std::string name_;
};

TEST_F(HealthProber, HeartbeatWithoutPrivilegesFallsBackToSecondsBehind) {
  ScopedMonitorUser user(sandbox());
  // The account reaches the replicas through replication.
  for (const std::string name : {"replica1", "replica2"}) {
    auto replica = connect_direct(sandbox(), name);
    ASSERT_TRUE(replica);
    ASSERT_TRUE(wait_until(
        [&] {
          return replica->scalar("SELECT COUNT(*) FROM mysql.user WHERE user = '" + user.name() +
                                 "'") == "1";
        },
        10s))
        << name;
  }
  auto config = sandbox_config();
  config->health.user = user.name();
  config->health.password = "pw";
  auto prober = start_prober(config);
  const auto fallback = [](const health::Snapshot& s) {
    return healthy(s, LagSource::seconds_behind) && !s.heartbeat_note.empty();
  };
  SnapshotPtr s = wait_snapshot(*prober, fallback);
  ASSERT_TRUE(s && fallback(*s)) << describe(s);
  std::cerr << describe(s) << "\n";
  // The snapshot says which replicas fell back; the prober says why (logged once).
  EXPECT_NE(prober->heartbeat_problem().find("denied"), std::string::npos)
      << prober->heartbeat_problem();
  for (size_t i : {1u, 2u}) {
    EXPECT_FALSE(s->backends[i].last_probe.heartbeat_lag_ms);
    EXPECT_EQ(s->backends[i].lag_ms, 0);
  }
  prober->stop();
}

}  // namespace
}  // namespace replproxy::e2e
