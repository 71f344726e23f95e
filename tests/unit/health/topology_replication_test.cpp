// topology = "replication": choosing the primary, split brain, promotion, chains, stray
// replicas, source matching and errant GTIDs.

#include <gtest/gtest.h>

#include "tests/unit/health/topology_fixture.h"

namespace replproxy::health {
namespace {

using testing::answering;
using testing::Cluster;
using testing::contains;
using testing::replica_of;
using testing::states;
using testing::unreachable;
using testing::writable;
using enum BackendState;
using Lines = std::vector<std::string>;

constexpr std::string_view kUuid1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
constexpr std::string_view kUuid2 = "4f2a7c88-0b1d-11ee-8a6b-0242ac120002";

TEST(Replication, PromotionAndTheOldPrimaryComingBackAsReplica) {
  Cluster cluster;
  cluster.decide();
  // db1 dies; db2 is promoted (RESET SLAVE ALL, read_only off); db3 now follows db2.
  cluster.probes[0] = unreachable();
  cluster.probes[1] = writable(1);
  cluster.probes[2] = replica_of(2, 1);
  const Snapshot& promoted = cluster.decide();
  EXPECT_EQ(promoted.primary, 1u);
  EXPECT_EQ(states(promoted), (std::vector{down, fit, fit}));
  EXPECT_EQ(cluster.backend(1).role, config::BackendRole::primary);
  EXPECT_EQ(cluster.backend(2).reason, "replicates from db2, lag 10 ms (heartbeat)");
  EXPECT_EQ(cluster.changes[0],
            "primary changed from db1 to db2: db2 is the only writable backend that replicates "
            "from no other backend");
  // db1 comes back read-only, replicating from db2: a replica, recovering first.
  cluster.probes[0] = replica_of(0, 1);
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 1u);
  EXPECT_EQ(cluster.state(0), recovering);
  EXPECT_EQ(cluster.backend(0).role, config::BackendRole::replica);
  EXPECT_EQ(cluster.changes.size(), 1u);
  cluster.decide(2);
  EXPECT_EQ(cluster.state(0), fit);
}

TEST(Replication, SwitchoverWithoutAWritableMomentKeepsReplicas) {
  Cluster cluster;
  cluster.decide();
  // The switchover sets db1 read-only before db2 is writable: no primary for a moment, but the
  // replicas still follow db1 and stay fit.
  cluster.probes[0].read_only = true;
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(snapshot.primary, std::nullopt);
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.state(2), fit);
  EXPECT_EQ(cluster.state(0), stray);
  EXPECT_EQ(cluster.backend(0).reason, "read-only and replicates from no one");
}

TEST(Replication, SplitBrainKeepsThePreviousPrimary) {
  Cluster cluster;
  cluster.decide();
  cluster.probes[2] = writable(2);  // db3 stopped replicating and took writes
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(snapshot.primary, 0u);
  EXPECT_EQ(snapshot.primary_reason, "split brain: keeping db1, the primary before");
  EXPECT_EQ(cluster.state(2), stray);
  EXPECT_EQ(cluster.backend(2).reason,
            "writable and replicates from no other backend while db1 is the primary");
  const std::string warning =
      "split brain: db1 and db3 are all writable and replicate from no other backend";
  EXPECT_EQ(snapshot.warnings, Lines{warning});
  EXPECT_EQ(cluster.changes,
            (Lines{"db3: replica, fit -> stray (writable and replicates from no other backend "
                   "while db1 is the primary)",
                   "warning: " + warning}));
  cluster.decide();
  EXPECT_EQ(cluster.changes, Lines{});
  cluster.probes[2] = replica_of(2, 0);
  cluster.decide();
  EXPECT_EQ(cluster.last->warnings, Lines{});
  EXPECT_EQ(cluster.changes.back(), "resolved: " + warning);
}

TEST(Replication, SplitBrainAfterFailoverKeepsTheNewPrimary) {
  Cluster cluster;
  cluster.probes[0] = unreachable();
  cluster.probes[1] = writable(1);
  cluster.probes[2] = replica_of(2, 1);
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 1u);
  // The old primary comes back writable: the configured role must not win over the running one.
  cluster.probes[0] = writable(0);
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 1u);
  EXPECT_EQ(cluster.state(0), stray);
}

TEST(Replication, SplitBrainAtStartupPrefersTheConfiguredPrimary) {
  Cluster cluster;
  cluster.probes[2] = writable(2);
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(snapshot.primary, 0u);
  EXPECT_EQ(snapshot.primary_reason, "split brain: using db1, the configured primary");
  EXPECT_EQ(cluster.state(2), stray);
}

TEST(Replication, SplitBrainWithNoSafeChoiceRefusesWrites) {
  Cluster cluster;
  cluster.probes[0] = unreachable();
  cluster.probes[1] = writable(1);
  cluster.probes[2] = writable(2);
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(snapshot.primary, std::nullopt);
  EXPECT_EQ(snapshot.primary_reason,
            "split brain: none of db2 and db3 was the primary before or is configured as "
            "primary: writes are refused");
  EXPECT_EQ(states(snapshot), (std::vector{down, stray, stray}));
  EXPECT_EQ(cluster.backend(1).reason,
            "writable and replicates from no other backend while there is no primary");
  EXPECT_EQ(cluster.changes.front(), "no primary: " + snapshot.primary_reason);
}

TEST(Replication, StoppedReplicationMakesAWritableServerACandidate) {
  Cluster cluster;
  cluster.decide();
  // STOP SLAVE and read_only off on db2, without RESET SLAVE ALL: a second writer.
  cluster.probes[1].read_only = false;
  cluster.probes[1].replica->io_running = false;
  cluster.probes[1].replica->sql_running = false;
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 0u);
  EXPECT_EQ(cluster.state(1), stray);
  EXPECT_EQ(cluster.last->warnings.size(), 1u);
}

TEST(Replication, WritableReplicaThatReplicatesIsStillAReplica) {
  Cluster cluster;
  cluster.probes[1].read_only = false;
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 0u);
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.backend(1).reason,
            "replicates from db1, lag 10 ms (heartbeat); read_only is OFF");
  EXPECT_TRUE(cluster.last->warnings.empty());
}

TEST(Replication, SuperReadOnlyIsNotWritable) {
  Cluster cluster;
  cluster.probes[2] = writable(2);
  cluster.probes[2].super_read_only = true;
  cluster.decide();
  EXPECT_EQ(cluster.state(2), stray);
  EXPECT_EQ(cluster.backend(2).reason, "read-only and replicates from no one");
  EXPECT_TRUE(cluster.last->warnings.empty());
}

TEST(Replication, NobodyWritable) {
  Cluster cluster;
  cluster.probes[0].read_only = true;
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(snapshot.primary, std::nullopt);
  // The replicas are judged against the configured primary.
  EXPECT_EQ(states(snapshot), (std::vector{stray, fit, fit}));
}

TEST(Replication, ChainOfReplicas) {
  Cluster cluster(4);
  cluster.probes[3] = replica_of(3, 1);  // db4 replicates from db2, a replica of db1
  cluster.decide();
  EXPECT_EQ(states(*cluster.last), (std::vector{fit, fit, fit, fit}));
  EXPECT_EQ(cluster.backend(3).reason, "replicates from db2, lag 10 ms (heartbeat)");
  // Its lag check applies as usual.
  cluster.probes[3].heartbeat_lag_ms = 1500;
  cluster.decide();
  EXPECT_EQ(cluster.state(3), lagging);
}

TEST(Replication, ChainLagFromSecondsBehindAddsUp) {
  Cluster cluster(4);
  cluster.probes[3] = replica_of(3, 1);
  for (size_t i : {1, 3}) {
    cluster.probes[i].heartbeat_lag_ms.reset();
    cluster.probes[i].replica->seconds_behind = 1;
  }
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.state(3), lagging);
  EXPECT_EQ(cluster.backend(3).lag_ms, 2000);
  // An upstream replica whose replication stopped: the lag of its replicas is unknown.
  cluster.probes[1].replica->sql_running = false;
  cluster.decide();
  EXPECT_EQ(cluster.state(3), lagging);
  EXPECT_EQ(cluster.backend(3).reason,
            "lag unknown: upstream db2: replication stopped: SQL thread not running");
  // A heartbeat upstream is already the distance to the primary.
  cluster.probes[1].replica->sql_running = true;
  cluster.probes[1].heartbeat_lag_ms = 200;
  cluster.probes[3].replica->seconds_behind = 0;
  cluster.config.health.recover_probes = 1;
  cluster.decide();
  EXPECT_EQ(cluster.state(3), fit);
  EXPECT_EQ(cluster.backend(3).lag_ms, 200);
}

TEST(Replication, ChainThroughAnUnreachableReplica) {
  Cluster cluster(4);
  cluster.probes[3] = replica_of(3, 1);
  cluster.probes[1] = unreachable();
  cluster.decide();
  EXPECT_EQ(cluster.state(3), fit);  // its heartbeat lag still measures the distance
  cluster.probes[3].heartbeat_lag_ms.reset();
  cluster.decide();
  EXPECT_EQ(cluster.state(3), lagging);
  EXPECT_EQ(cluster.backend(3).reason, "lag unknown: upstream db2 is not reachable");
}

TEST(Replication, ReplicaOfAnOutsideServerIsStray) {
  Cluster cluster;
  cluster.probes[2].replica->source_host = "10.0.0.9";
  cluster.probes[2].replica->source_port = 3306;
  cluster.probes[2].replica->source_server_id = 77;
  cluster.decide();
  EXPECT_EQ(states(*cluster.last), (std::vector{fit, fit, stray}));
  EXPECT_EQ(cluster.backend(2).reason,
            "replicates from 10.0.0.9:3306, which is not a configured backend");
}

TEST(Replication, ReplicaOfANonPrimaryIsStray) {
  Cluster cluster(4);
  cluster.probes[1] = answering(1);  // read-only, replicating from no one
  cluster.probes[2] = replica_of(2, 1);
  cluster.probes[3] = replica_of(3, 2);
  cluster.decide();
  EXPECT_EQ(states(*cluster.last), (std::vector{fit, stray, stray, stray}));
  EXPECT_EQ(cluster.backend(2).reason, "replicates from db2, not from the primary db1");
  EXPECT_EQ(cluster.backend(3).reason,
            "replicates from db3, whose chain of sources ends at db2, not at the primary db1");
}

TEST(Replication, CircularReplicasAreStray) {
  Cluster cluster;
  cluster.probes[1] = replica_of(1, 2);
  cluster.probes[2] = replica_of(2, 1);
  cluster.decide();
  EXPECT_EQ(states(*cluster.last), (std::vector{fit, stray, stray}));
  EXPECT_EQ(cluster.backend(1).reason,
            "replicates from db3, in a circle of sources that never reaches the primary");
}

TEST(Replication, CircularWritersSuggestMasterMaster) {
  Cluster cluster(2);
  cluster.probes[0] = replica_of(0, 1);
  cluster.probes[0].read_only = false;
  cluster.probes[1] = replica_of(1, 0);
  cluster.probes[1].read_only = false;
  cluster.decide();
  EXPECT_EQ(cluster.primary(), std::nullopt);
  EXPECT_EQ(cluster.last->primary_reason,
            "no reachable backend is writable and replicates from no other backend: writes are "
            "refused (backends replicate from each other: use topology = \"master-master\")");
}

TEST(Replication, SourceMatching) {
  Cluster cluster(4);
  cluster.probes[1].replica->source_host = "localhost";  // same host as 127.0.0.1
  // A host name the config does not use: matched by Master_Server_Id.
  cluster.probes[2].replica->source_host = "db1.internal";
  cluster.probes[2].replica->source_port = 3306;
  // Same name, different port and no server id: not db1.
  cluster.probes[3].replica->source_host = "127.0.0.1";
  cluster.probes[3].replica->source_port = 3399;
  cluster.probes[3].replica->source_server_id = 0;
  cluster.decide();
  EXPECT_EQ(states(*cluster.last), (std::vector{fit, fit, fit, stray}));
  EXPECT_EQ(cluster.backend(2).reason, "replicates from db1, lag 10 ms (heartbeat)");
}

TEST(Replication, HostNamesMatchIgnoringCase) {
  Cluster cluster;
  cluster.config.backends[0].address.host = "DB1.example.com";
  cluster.probes[1].replica->source_host = "db1.EXAMPLE.com";
  cluster.probes[1].replica->source_server_id = 0;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
}

TEST(Replication, ErrantMariadb) {
  Cluster cluster;
  cluster.probes[0].gtid_binlog_state = "0-1-100";
  cluster.probes[1].gtid_binlog_state = "0-1-100,0-2-101";  // a write on db2 itself
  cluster.probes[2].gtid_binlog_state = "0-1-104";          // newer than db1's (older) probe
  cluster.decide();
  EXPECT_EQ(cluster.state(1), errant);
  EXPECT_EQ(cluster.backend(1).errant_gtids, "0-2-101");
  EXPECT_EQ(cluster.backend(1).reason,
            "errant GTIDs 0-2-101: transactions the primary does not have; replicates from db1, "
            "lag 10 ms (heartbeat)");
  EXPECT_EQ(cluster.state(2), fit);
  EXPECT_EQ(cluster.backend(2).errant_gtids, "");
}

TEST(Replication, ErrantOnlyReportedWhenNotExcluded) {
  Cluster cluster;
  cluster.config.health.exclude_errant = false;
  cluster.probes[1].gtid_binlog_state = "0-1-100,0-2-101";
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.backend(1).errant_gtids, "0-2-101");
  EXPECT_EQ(cluster.backend(1).reason,
            "replicates from db1, lag 10 ms (heartbeat); errant GTIDs 0-2-101 (exclude_errant = "
            "false)");
}

TEST(Replication, ErrantKeptWhileThePrimaryIsUnreachable) {
  Cluster cluster;
  cluster.probes[1].gtid_binlog_state = "0-1-100,0-2-101";
  cluster.decide();
  cluster.probes[0] = unreachable();
  cluster.decide();
  EXPECT_EQ(cluster.state(1), errant);
  EXPECT_EQ(cluster.backend(1).errant_gtids, "0-2-101");
  EXPECT_TRUE(contains(cluster.backend(1).reason, "not rechecked: the primary is not reachable"))
      << cluster.backend(1).reason;
  EXPECT_EQ(cluster.state(2), fit);
}

TEST(Replication, ErrantMysql) {
  Cluster cluster;
  for (size_t i = 0; i < 3; ++i) {
    cluster.probes[i].is_mariadb = false;
    cluster.probes[i].gtid_binlog_state.clear();
    cluster.probes[i].server_uuid = std::string(i == 0 ? kUuid1 : kUuid2);
    cluster.probes[i].gtid_executed = std::string(kUuid1) + ":1-50";
  }
  cluster.probes[1].gtid_executed = std::string(kUuid1) + ":1-60,\n" + std::string(kUuid2) + ":1-2";
  cluster.decide();
  EXPECT_EQ(cluster.state(1), errant);
  EXPECT_EQ(cluster.backend(1).errant_gtids, std::string(kUuid2) + ":1-2");
  EXPECT_EQ(cluster.state(2), fit);
}

TEST(Replication, UnreadableGtidsAreReportedNotErrant) {
  Cluster cluster;
  cluster.probes[1].gtid_binlog_state = "garbage";
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.backend(1).reason,
            "replicates from db1, lag 10 ms (heartbeat); GTIDs not compared: replica: bad "
            "MariaDB GTID 'garbage': expected DOMAIN-SERVER_ID-SEQUENCE");
}

TEST(Replication, ErrantWinsOverLagging) {
  Cluster cluster;
  cluster.probes[1].gtid_binlog_state = "0-1-100,0-2-101";
  cluster.probes[1].replica->sql_running = false;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), errant);
}

}  // namespace
}  // namespace replproxy::health
