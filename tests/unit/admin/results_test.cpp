#include "admin/results.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace replproxy::admin {
namespace {

using Row = protocol::TextRow;

config::Config three_backends(bool health) {
  config::Config config;
  config.backends = {
      {.name = "db1", .address = {"127.0.0.1", 3307}, .role = config::BackendRole::primary},
      {.name = "db2", .address = {"127.0.0.1", 3308}, .role = config::BackendRole::replica},
      {.name = "db3", .address = {"127.0.0.1", 3309}, .role = config::BackendRole::replica},
  };
  config.health.enabled = health;
  return config;
}

TEST(BackendsTable, WithoutHealthShowsConfiguredRoles) {
  const Table table = backends_table(three_backends(false), nullptr);
  ASSERT_EQ(table.columns.size(), 14u);
  EXPECT_EQ(table.columns[5], "lag_ms");
  ASSERT_EQ(table.rows.size(), 3u);
  const std::string reason = "no [health] table: the configured role is used";
  EXPECT_EQ(table.rows[0], (Row{"db1", "127.0.0.1:3307", "primary", "unknown", reason,
                                std::nullopt, "none", std::nullopt, std::nullopt, std::nullopt,
                                std::nullopt, "0", "0", "0"}));
  EXPECT_EQ(table.rows[1][2], "replica");
}

TEST(BackendsTable, BeforeTheFirstProbe) {
  const Table table = backends_table(three_backends(true), nullptr);
  EXPECT_EQ(table.rows[2][4], "not probed yet");
}

TEST(BackendsTable, FromSnapshot) {
  health::Snapshot snapshot;
  health::BackendHealth primary{.name = "db1", .role = config::BackendRole::primary,
                                .state = health::BackendState::fit};
  primary.last_probe.gtid_current_pos = "0-1-42";
  primary.last_probe.probed_at_us = 1'700'000'000'123'456;
  health::BackendHealth lagging{.name = "db2",
                                .role = config::BackendRole::replica,
                                .state = health::BackendState::lagging,
                                .reason = "lag 2500 ms > 1000 ms",
                                .lag_ms = 2500,
                                .lag_source = health::LagSource::heartbeat};
  lagging.last_probe.replica = health::ReplicaStatus{.io_running = true, .sql_running = false};
  lagging.last_probe.gtid_executed = "uuid:1-5";
  health::BackendHealth maintenance{.name = "db3", .state = health::BackendState::maintenance};
  snapshot.backends = {primary, lagging, maintenance};

  const std::vector<BackendTraffic> traffic = {{.connections = 2, .queries = 10, .errors = 1}};
  const Table table = backends_table(three_backends(true), &snapshot, traffic);
  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_EQ(table.rows[0], (Row{"db1", "127.0.0.1:3307", "primary", "fit", "", std::nullopt,
                                "none", "0-1-42", std::nullopt, std::nullopt,
                                "2023-11-14T22:13:20.123Z", "2", "10", "1"}));
  EXPECT_EQ(table.rows[1], (Row{"db2", "127.0.0.1:3308", "replica", "lagging",
                                "lag 2500 ms > 1000 ms", "2500", "heartbeat", "uuid:1-5", "Yes",
                                "No", std::nullopt, "0", "0", "0"}));
  EXPECT_EQ(table.rows[2][3], "maintenance");

  // In maintenance with connections still open: its sessions are draining.
  const std::vector<BackendTraffic> open = {{}, {}, {.connections = 1}};
  EXPECT_EQ(backends_table(three_backends(true), &snapshot, open).rows[2][3], "draining");
}

TEST(BackendsTable, MatchesTheSnapshotByName) {
  // A snapshot from before a reload that inserted db0 first: rows follow the config's order and
  // take each backend's health by name; the new one is not probed yet.
  health::Snapshot snapshot;
  snapshot.backends = {{.name = "db1", .role = config::BackendRole::primary,
                        .state = health::BackendState::fit},
                       {.name = "db2", .state = health::BackendState::down}};
  config::Config config = three_backends(true);
  config.backends.insert(config.backends.begin(),
                         config::Backend{.name = "db0", .address = {"127.0.0.1", 3306}});
  const Table table = backends_table(config, &snapshot);
  ASSERT_EQ(table.rows.size(), 4u);
  EXPECT_EQ(table.rows[0][4], "not probed yet");
  EXPECT_EQ(table.rows[1][3], "fit");
  EXPECT_EQ(table.rows[2][3], "down");
  EXPECT_EQ(table.rows[3][4], "not probed yet");
}

TEST(SessionsTable, OrderedByIdWithNullsForWhatIsNotThere) {
  std::vector<SessionInfo> sessions = {
      {.id = 9, .user = "app", .client = "127.0.0.1:5000", .schema = "shop", .state = "forwarding",
       .in_transaction = true, .backends = {"db1", "db2"}, .statement = "SELECT 1",
       .statement_ms = 12},
      {.id = 3, .user = "app", .client = "127.0.0.1:5001", .state = "idle",
       .pinned = "temporary tables"},
  };
  const Table table = sessions_table(sessions);
  EXPECT_EQ(table.columns,
            (std::vector<std::string>{"id", "user", "client", "schema", "state", "in_transaction",
                                      "backends", "pinned", "statement", "statement_ms"}));
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0], (Row{"3", "app", "127.0.0.1:5001", std::nullopt, "idle", "no", "",
                                "temporary tables", std::nullopt, std::nullopt}));
  EXPECT_EQ(table.rows[1], (Row{"9", "app", "127.0.0.1:5000", "shop", "forwarding", "yes",
                                "db1,db2", std::nullopt, "SELECT 1", "12"}));
}

TEST(RulesTable, EveryRuleWithItsHits) {
  config::Config config = three_backends(false);
  config.routing.rules = {
      {.match = "^SELECT .* FROM reports", .target = config::RuleTarget::replica},
      {.user = "batch", .target = config::RuleTarget::backend, .backend = "db3"},
  };
  const Table table = rules_table(config, {5});
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0], (Row{"0", std::nullopt, std::nullopt, "^SELECT .* FROM reports",
                                "replica", "5"}));
  EXPECT_EQ(table.rows[1],
            (Row{"1", "batch", std::nullopt, std::nullopt, "backend:db3", "0"}));
}

TEST(StatsTable, FiltersWithLike) {
  const std::vector<Stat> stats = {{"queries", 7}, {"reads_rerouted", 1}, {"reads_retried", 0}};
  EXPECT_EQ(stats_table(stats, "").rows.size(), 3u);
  const Table reads = stats_table(stats, "reads%");
  EXPECT_EQ(reads.columns, (std::vector<std::string>{"name", "value"}));
  EXPECT_EQ(reads.rows, (std::vector<Row>{{"reads_rerouted", "1"}, {"reads_retried", "0"}}));
  EXPECT_TRUE(stats_table(stats, "nothing%").rows.empty());
}

TEST(ConfigTable, MasksEveryPassword) {
  config::Config config = three_backends(true);
  config.users = {{.name = "app", .password = "app-secret"}};
  config.health.user = "mon";
  config.health.password = "mon-secret";
  config.admin = {.enabled = true, .user = {.name = "admin", .password = "admin-secret"}};
  const Table table = config_table(config);
  bool saw_admin_password = false;
  for (const Row& row : table.rows) {
    ASSERT_EQ(row.size(), 2u);
    const std::string& value = row[1].value_or("");
    EXPECT_EQ(value.find("secret"), std::string::npos) << *row[0];
    saw_admin_password |= row[0] == "admin.password" && value == "****";
  }
  EXPECT_TRUE(saw_admin_password);
  EXPECT_NE(std::ranges::find(table.rows, Row{"users.app.password", "****"}), table.rows.end());
  EXPECT_NE(std::ranges::find(table.rows, Row{"backends.db2.role", "replica"}), table.rows.end());
  EXPECT_NE(std::ranges::find(table.rows, Row{"health.password", "****"}), table.rows.end());
}

TEST(ConfigTable, MetricsListen) {
  config::Config config = three_backends(false);
  config.metrics = {.enabled = true, .listen = {"::1", 9100}};
  const Table table = config_table(config);
  EXPECT_NE(std::ranges::find(table.rows, Row{"metrics.listen", "[::1]:9100"}), table.rows.end());
}

TEST(TunnelsTable, OneRowPerTunnel) {
  TunnelStatus t{.name = "to-dc2",
                 .mode = "plain-to-tls",
                 .protocol = "mysql",
                 .listen = "127.0.0.1:13306",
                 .connect = "10.0.0.5:3306",
                 .connections_active = 1,
                 .connections_total = 9,
                 .bytes_to_server = 10,
                 .bytes_to_client = 20};
  t.failures = {1, 2, 3};
  const Table table = tunnels_table({t});
  EXPECT_EQ(table.columns,
            (std::vector<std::string>{"name", "mode", "protocol", "listen", "connect",
                                      "connections_active", "connections_total",
                                      "connections_failed", "bytes_to_server", "bytes_to_client",
                                      "tls_failures"}));
  EXPECT_EQ(table.rows, (std::vector<Row>{{"to-dc2", "plain-to-tls", "mysql", "127.0.0.1:13306",
                                           "10.0.0.5:3306", "1", "9", "6", "10", "20", "2"}}));
  EXPECT_TRUE(tunnels_table({}).rows.empty());
}

TEST(HelpTable, OneRowPerCommand) {
  const Table table = help_table();
  EXPECT_EQ(table.columns, (std::vector<std::string>{"command", "description"}));
  ASSERT_EQ(table.rows.size(), 14u);
  EXPECT_EQ(table.rows[0][0], "SHOW BACKENDS");
  EXPECT_NE(std::ranges::find(table.rows, Row{"KILL SESSION n",
                                              "close client session n (its id in SHOW SESSIONS)"}),
            table.rows.end());
}

TEST(VersionTables, OneRow) {
  EXPECT_EQ(version_table("0.1.0").rows, (std::vector<Row>{{"0.1.0"}}));
  EXPECT_EQ(version_comment_table("0.1.0").rows, (std::vector<Row>{{"replproxy 0.1.0 admin"}}));
}

TEST(IsoTime, Utc) {
  EXPECT_EQ(iso_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso_time(1'700'000'000'999'999), "2023-11-14T22:13:20.999Z");
}

}  // namespace
}  // namespace replproxy::admin

namespace replproxy::admin {
namespace {

TEST(RelayTables, StatusIsOneRowAndDisabledWithoutARelay) {
  RelayStatus s;
  s.state = "streaming";
  s.source = "db1";
  s.address = "127.0.0.1:3306";
  s.gtid_position = "0-1-42";
  s.current_file = "replproxy-bin.000002";
  s.current_position = 1234;
  s.files = 2;
  s.checksum_errors = 1;
  s.sync = "group";
  s.semi_sync_enabled = true;
  s.semi_sync_active = true;
  s.acks_sent = 40;
  s.ack_p50_us = 512;
  const Table table = relay_status_table(&s);
  ASSERT_EQ(table.rows.size(), 1u);
  ASSERT_EQ(table.rows[0].size(), table.columns.size());
  const auto value = [&](std::string_view column) {
    const auto it = std::ranges::find(table.columns, column);
    EXPECT_NE(it, table.columns.end()) << column;
    return table.rows[0][static_cast<size_t>(it - table.columns.begin())];
  };
  EXPECT_EQ(value("state"), "streaming");
  EXPECT_EQ(value("source"), "db1");
  EXPECT_EQ(value("gtid_position"), "0-1-42");
  EXPECT_EQ(value("current_file"), "replproxy-bin.000002");
  EXPECT_EQ(value("current_position"), "1234");
  EXPECT_EQ(value("checksum_errors"), "1");
  EXPECT_EQ(value("semi_sync"), "yes");
  EXPECT_EQ(value("acks_sent"), "40");
  EXPECT_EQ(value("ack_latency_p50_us"), "512");
  EXPECT_EQ(value("last_error"), std::nullopt);

  const Table off = relay_status_table(nullptr);
  ASSERT_EQ(off.rows.size(), 1u);
  EXPECT_EQ(off.rows[0][0], "disabled");
}

TEST(RelayTables, OneRowPerReplica) {
  RelayReplicaStatus r;
  r.id = 3;
  r.server_id = 2;
  r.address = "127.0.0.1:50000";
  r.user = "repl";
  r.gtid_state = "0-1-10";
  r.file = "replproxy-bin.000001";
  r.position = 900;
  r.last_gtid = "0-1-12";
  r.lag_seconds = 4;
  r.semi_sync = true;
  const Table table = relay_replicas_table({r});
  ASSERT_EQ(table.rows.size(), 1u);
  EXPECT_EQ(table.rows[0][0], "3");
  EXPECT_EQ(table.rows[0][1], "2");
  EXPECT_EQ(table.rows[0][8], "4");
  EXPECT_EQ(table.rows[0][9], "yes");
  EXPECT_TRUE(relay_replicas_table({}).rows.empty());
}

}  // namespace
}  // namespace replproxy::admin
