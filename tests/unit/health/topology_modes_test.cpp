// topology = "master-master" and topology = "galera".

#include <gtest/gtest.h>

#include "tests/unit/health/topology_fixture.h"

namespace replproxy::health {
namespace {

using testing::answering;
using testing::Cluster;
using testing::replica_of;
using testing::states;
using testing::unreachable;
using enum BackendState;
using Lines = std::vector<std::string>;
using config::TopologyMode;

// Two writable servers replicating from each other, with safe auto_increment settings.
ProbeResult master(size_t index, size_t other) {
  ProbeResult probe = replica_of(index, other);
  probe.read_only = false;
  probe.auto_increment_increment = 2;
  probe.auto_increment_offset = static_cast<uint32_t>(index + 1);
  return probe;
}

Cluster master_master() {
  Cluster cluster(2, TopologyMode::master_master);
  cluster.probes = {master(0, 1), master(1, 0)};
  return cluster;
}

TEST(MasterMaster, PreferredServerWritesTheOtherReads) {
  Cluster cluster = master_master();
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(snapshot.primary, 0u);
  EXPECT_EQ(snapshot.primary_reason, "db1 is the preferred writer (role = \"primary\")");
  EXPECT_EQ(states(snapshot), (std::vector{fit, fit}));
  EXPECT_EQ(cluster.backend(1).reason, "replicates from db1, lag 10 ms (heartbeat)");
  EXPECT_EQ(cluster.backend(1).role, config::BackendRole::replica);
  // Both writable is normal here.
  EXPECT_TRUE(snapshot.warnings.empty());
}

TEST(MasterMaster, FailoverThenFailbackOnceCaughtUp) {
  Cluster cluster = master_master();
  cluster.decide();
  cluster.probes[0] = unreachable();
  cluster.probes[1].replica->io_running = false;
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 1u);
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.changes[0],
            "primary changed from db1 to db2: db1 is not reachable: db2 takes the writes");
  // db1 is back: it reads (after recover_probes) before it takes the writes back.
  cluster.probes[0] = master(0, 1);
  cluster.probes[1] = master(1, 0);
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 1u);
  EXPECT_EQ(cluster.last->primary_reason,
            "db1 is back but has not caught up yet: db2 keeps the writes");
  EXPECT_EQ(cluster.state(0), recovering);
  cluster.decide(2);
  EXPECT_EQ(cluster.primary(), 1u);
  EXPECT_EQ(cluster.state(0), fit);
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 0u);
  EXPECT_EQ(states(*cluster.last), (std::vector{fit, fit}));
  EXPECT_EQ(cluster.changes[0],
            "primary changed from db2 to db1: db1 is the preferred writer (role = \"primary\")");
}

TEST(MasterMaster, ReadOnlyPreferredServerHandsOver) {
  Cluster cluster = master_master();
  cluster.probes[0].read_only = true;
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 1u);
  EXPECT_EQ(cluster.last->primary_reason, "db1 is read-only: db2 takes the writes");
  EXPECT_EQ(cluster.state(0), fit);
  EXPECT_EQ(cluster.backend(0).reason, "replicates from db2, lag 10 ms (heartbeat)");
}

TEST(MasterMaster, MaintenanceHandsOver) {
  Cluster cluster = master_master();
  cluster.maintenance[0] = true;
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 1u);
  EXPECT_EQ(cluster.last->primary_reason, "db1 is in maintenance: db2 takes the writes");
  EXPECT_EQ(cluster.state(0), maintenance);
}

TEST(MasterMaster, NoWriter) {
  Cluster cluster = master_master();
  cluster.probes[0].read_only = true;
  cluster.probes[1] = unreachable();
  cluster.decide();
  EXPECT_EQ(cluster.primary(), std::nullopt);
  EXPECT_EQ(cluster.last->primary_reason,
            "no backend is reachable, writable and out of maintenance: writes are refused (db1 "
            "is read-only)");
}

TEST(MasterMaster, ReaderMustReplicateFromTheWriter) {
  Cluster cluster = master_master();
  cluster.probes[1].replica->source_host = "10.0.0.9";
  cluster.probes[1].replica->source_server_id = 0;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), stray);
  EXPECT_EQ(cluster.backend(1).reason, "replicates from 10.0.0.9:3301, not from the writer db1");
  cluster.probes[1].replica.reset();
  cluster.decide();
  EXPECT_EQ(cluster.state(1), stray);
  EXPECT_EQ(cluster.backend(1).reason, "replicates from no one");
}

TEST(MasterMaster, ReaderLag) {
  Cluster cluster = master_master();
  cluster.probes[1].heartbeat_lag_ms = 1500;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), lagging);
  cluster.config.backends[1].max_replication_lag_ms = 2000;
  cluster.config.health.recover_probes = 1;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
}

TEST(MasterMaster, AutoIncrementWarningsOnce) {
  Cluster cluster = master_master();
  cluster.probes[0].auto_increment_increment = 1;
  cluster.probes[1].auto_increment_offset = 1;
  cluster.decide();
  const Lines warnings = {
      "auto_increment: db1 has auto_increment_increment = 1: both writers can generate the "
      "same keys (use 2)",
      "auto_increment: db1 and db2 have the same auto_increment_offset = 1: both writers can "
      "generate the same keys"};
  EXPECT_EQ(cluster.last->warnings, warnings);
  EXPECT_EQ(Lines(cluster.changes.end() - 2, cluster.changes.end()),
            (Lines{"warning: " + warnings[0], "warning: " + warnings[1]}));
  cluster.decide();
  EXPECT_EQ(cluster.changes, Lines{});
  // While one server does not answer, the last finding stands.
  cluster.probes[1] = unreachable();
  cluster.decide();
  EXPECT_EQ(cluster.last->warnings, warnings);
  EXPECT_EQ(cluster.changes, Lines{"db2: replica, fit -> down (not reachable: Can't connect to "
                                   "server on '127.0.0.1' (111))"});
  cluster.probes[0].auto_increment_increment = 2;
  cluster.probes[1] = master(1, 0);
  cluster.decide();
  EXPECT_TRUE(cluster.last->warnings.empty());
  EXPECT_EQ(Lines(cluster.changes.end() - 2, cluster.changes.end()),
            (Lines{"resolved: " + warnings[0], "resolved: " + warnings[1]}));
}

// A Galera node: writable, synced in the primary component, replicating from no one.
ProbeResult synced(size_t index) {
  ProbeResult probe = answering(index);
  probe.read_only = false;
  probe.galera = GaleraStatus{.local_state = 4, .cluster_status = "Primary", .ready = true};
  return probe;
}

Cluster galera(size_t nodes = 3) {
  Cluster cluster(nodes, TopologyMode::galera);
  cluster.probes.clear();
  for (size_t i = 0; i < nodes; ++i) {
    cluster.probes.push_back(synced(i));
  }
  return cluster;
}

TEST(Galera, ConfiguredPrimaryWritesOthersRead) {
  Cluster cluster = galera();
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(snapshot.primary, 0u);
  EXPECT_EQ(snapshot.primary_reason, "db1 is the configured primary and synced");
  EXPECT_EQ(states(snapshot), (std::vector{fit, fit, fit}));
  EXPECT_EQ(cluster.backend(1).reason, "synced in the primary component");
  EXPECT_EQ(cluster.backend(1).lag_source, LagSource::none);
  EXPECT_TRUE(snapshot.warnings.empty());
}

TEST(Galera, WriterMovesOnAndStays) {
  Cluster cluster = galera();
  cluster.decide();
  cluster.probes[0].galera->desync = true;
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 1u);
  EXPECT_EQ(cluster.last->primary_reason, "db2 has the lowest name of the synced nodes");
  EXPECT_EQ(cluster.state(0), lagging);
  EXPECT_EQ(cluster.backend(0).reason, "wsrep_desync is ON");
  EXPECT_EQ(cluster.changes[0],
            "primary changed from db1 to db2: db2 has the lowest name of the synced nodes");
  // db1 is synced again: db2 keeps the writes (no flapping), db1 reads after recovering.
  cluster.probes[0].galera->desync = false;
  cluster.decide(4);
  EXPECT_EQ(cluster.primary(), 1u);
  EXPECT_EQ(cluster.last->primary_reason, "db2 keeps the writes while it stays synced");
  EXPECT_EQ(cluster.state(0), fit);
}

TEST(Galera, NodesOutOfSyncOrOutOfThePrimaryComponent) {
  Cluster cluster = galera(6);
  cluster.probes[1].galera->local_state = 2;
  cluster.probes[2].galera->cluster_status = "non-Primary";
  cluster.probes[3].galera->ready = false;
  cluster.probes[4].galera.reset();
  cluster.probes[5].galera->local_state = 1;
  cluster.decide();
  EXPECT_EQ(states(*cluster.last), (std::vector{fit, lagging, stray, lagging, stray, lagging}));
  EXPECT_EQ(cluster.backend(1).reason, "wsrep_local_state is 2 (Donor/Desynced), not 4 (Synced)");
  EXPECT_EQ(cluster.backend(2).reason,
            "wsrep_cluster_status is 'non-Primary': not in the primary component");
  EXPECT_EQ(cluster.backend(3).reason, "wsrep_ready is OFF");
  EXPECT_EQ(cluster.backend(4).reason, "no wsrep status: not a Galera node");
  EXPECT_EQ(cluster.backend(5).reason, "wsrep_local_state is 1 (Joining), not 4 (Synced)");
}

TEST(Galera, LowestNameNotLowestIndex) {
  Cluster cluster = galera();
  cluster.config.backends[1].name = "zeta";
  cluster.config.backends[2].name = "alpha";
  cluster.probes[0] = unreachable();
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 2u);
  EXPECT_EQ(cluster.last->primary_reason, "alpha has the lowest name of the synced nodes");
}

TEST(Galera, ReadOnlyAndReplicationDoNotMatter) {
  Cluster cluster = galera();
  cluster.probes[1].read_only = true;
  cluster.probes[2].heartbeat_lag_ms = 99'999;
  cluster.decide();
  EXPECT_EQ(states(*cluster.last), (std::vector{fit, fit, fit}));
}

TEST(Galera, MaintenanceMovesTheWriter) {
  Cluster cluster = galera();
  cluster.decide();
  cluster.maintenance[0] = true;
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 1u);
  EXPECT_EQ(cluster.state(0), maintenance);
}

TEST(Galera, NoSyncedNode) {
  Cluster cluster = galera(2);
  cluster.probes[0].galera->cluster_status = "non-Primary";
  cluster.probes[1].galera->cluster_status = "non-Primary";
  cluster.decide();
  EXPECT_EQ(cluster.primary(), std::nullopt);
  EXPECT_EQ(cluster.last->primary_reason,
            "no Galera node is synced in the primary component and out of maintenance: writes "
            "are refused");
}

}  // namespace
}  // namespace replproxy::health
