// decide_topology rules shared by every mode: first snapshot, lag limits, replication threads,
// hysteresis, down/unknown, maintenance, the startup fallback and the change lines.

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

TEST(Topology, FirstSnapshotServesAtOnce) {
  Cluster cluster;
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(snapshot.generation, 1u);
  EXPECT_EQ(snapshot.computed_at_us, 1'700'000'000'500'000);
  EXPECT_EQ(snapshot.primary, 0u);
  EXPECT_EQ(snapshot.primary_reason,
            "db1 is the only writable backend that replicates from no other backend");
  EXPECT_EQ(states(snapshot), (std::vector{fit, fit, fit}));
  EXPECT_EQ(cluster.backend(0).role, config::BackendRole::primary);
  EXPECT_EQ(cluster.backend(1).role, config::BackendRole::replica);
  EXPECT_EQ(cluster.backend(0).lag_ms, std::nullopt);
  EXPECT_EQ(cluster.backend(0).lag_source, LagSource::none);
  EXPECT_EQ(cluster.backend(1).name, "db2");
  EXPECT_EQ(cluster.backend(1).lag_ms, 10);
  EXPECT_EQ(cluster.backend(1).lag_source, LagSource::heartbeat);
  EXPECT_EQ(cluster.backend(1).good_probes, 1u);
  EXPECT_EQ(cluster.backend(1).reason, "replicates from db1, lag 10 ms (heartbeat)");
  EXPECT_EQ(cluster.backend(1).last_probe.server_id, 2u);
  EXPECT_TRUE(snapshot.heartbeat_note.empty());
  EXPECT_TRUE(snapshot.warnings.empty());
}

TEST(Topology, FirstChangesDescribeEverythingThenNothingRepeats) {
  Cluster cluster;
  cluster.decide();
  EXPECT_EQ(cluster.changes,
            (Lines{"primary is db1: db1 is the only writable backend that replicates from no "
                   "other backend",
                   "db1: primary, fit (db1 is the only writable backend that replicates from no "
                   "other backend)",
                   "db2: replica, fit (replicates from db1, lag 10 ms (heartbeat))",
                   "db3: replica, fit (replicates from db1, lag 10 ms (heartbeat))"}));
  cluster.probes[1].heartbeat_lag_ms = 20;  // a new lag value is not a change
  const Snapshot& second = cluster.decide();
  EXPECT_EQ(second.generation, 2u);
  EXPECT_EQ(cluster.changes, Lines{});
  EXPECT_EQ(cluster.backend(1).lag_ms, 20);
  EXPECT_EQ(cluster.backend(1).good_probes, 2u);
  cluster.decide();
  EXPECT_EQ(cluster.changes, Lines{});
}

TEST(Topology, LagAgainstTheLimit) {
  Cluster cluster;
  cluster.probes[1].heartbeat_lag_ms = 1000;
  cluster.probes[2].heartbeat_lag_ms = 1001;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.state(2), lagging);
  EXPECT_EQ(cluster.backend(2).reason, "lag 1001 ms (heartbeat) above the limit of 1000 ms");
  EXPECT_EQ(cluster.backend(2).lag_ms, 1001);
  EXPECT_EQ(cluster.backend(2).good_probes, 0u);
}

TEST(Topology, PerBackendLagLimit) {
  Cluster cluster;
  cluster.config.backends[1].max_replication_lag_ms = 5000;
  cluster.config.backends[2].max_replication_lag_ms = 0;
  cluster.probes[1].heartbeat_lag_ms = 3000;
  cluster.probes[2].heartbeat_lag_ms = 1;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.state(2), lagging);
  EXPECT_EQ(cluster.backend(2).reason, "lag 1 ms (heartbeat) above the limit of 0 ms");
  cluster.probes[2].heartbeat_lag_ms = 0;
  cluster.config.health.recover_probes = 1;
  cluster.decide();
  EXPECT_EQ(cluster.state(2), fit);
}

TEST(Topology, NegativeHeartbeatLagCountsAsZero) {
  Cluster cluster;
  cluster.probes[1].heartbeat_lag_ms = -40;  // the replica's clock is ahead
  cluster.decide();
  EXPECT_EQ(cluster.backend(1).lag_ms, 0);
}

TEST(Topology, SecondsBehindWhenNoHeartbeat) {
  Cluster cluster;
  cluster.probes[1].heartbeat_lag_ms.reset();
  cluster.probes[1].replica->seconds_behind = 1;
  cluster.probes[2].heartbeat_lag_ms.reset();
  cluster.probes[2].replica->seconds_behind = 2;
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.backend(1).lag_ms, 1000);
  EXPECT_EQ(cluster.backend(1).lag_source, LagSource::seconds_behind);
  EXPECT_EQ(cluster.backend(1).reason, "replicates from db1, lag 1000 ms (Seconds_Behind_Master)");
  EXPECT_EQ(cluster.state(2), lagging);
  EXPECT_EQ(snapshot.heartbeat_note,
            "heartbeat unavailable on db2 and db3: lag from Seconds_Behind_Master (whole seconds)");
  EXPECT_EQ(cluster.changes.back(), snapshot.heartbeat_note);
  cluster.decide();
  EXPECT_EQ(cluster.changes, Lines{});  // noted once
  cluster.probes[1].heartbeat_lag_ms = 5;
  cluster.probes[2].heartbeat_lag_ms = 5;
  cluster.decide();
  EXPECT_EQ(cluster.last->heartbeat_note, "");
  EXPECT_EQ(cluster.changes.back(), "heartbeat lag available again on every replica");
}

TEST(Topology, NoHeartbeatNoteWhenHeartbeatIsOff) {
  Cluster cluster;
  cluster.config.health.heartbeat = false;
  for (size_t i : {1, 2}) {
    cluster.probes[i].heartbeat_lag_ms.reset();
  }
  cluster.decide();
  EXPECT_EQ(cluster.backend(1).lag_source, LagSource::seconds_behind);
  EXPECT_EQ(cluster.last->heartbeat_note, "");
}

TEST(Topology, StoppedReplicationMeansLagUnknown) {
  Cluster cluster;
  cluster.probes[1].replica->sql_running = false;
  cluster.probes[1].replica->seconds_behind.reset();
  cluster.probes[1].replica->last_sql_error = "Could not execute Write_rows_v1 event";
  cluster.probes[2].replica->io_running = false;  // the heartbeat lag does not help then
  cluster.decide();
  EXPECT_EQ(cluster.state(1), lagging);
  EXPECT_EQ(cluster.backend(1).reason,
            "replication stopped: SQL thread not running (Could not execute Write_rows_v1 event)");
  EXPECT_EQ(cluster.backend(1).lag_ms, std::nullopt);
  EXPECT_EQ(cluster.state(2), lagging);
  EXPECT_EQ(cluster.backend(2).reason, "replication stopped: IO thread not running");
}

TEST(Topology, NullSecondsBehindWithoutHeartbeatIsUnknown) {
  Cluster cluster;
  cluster.probes[1].heartbeat_lag_ms.reset();
  cluster.probes[1].replica->seconds_behind.reset();
  cluster.decide();
  EXPECT_EQ(cluster.state(1), lagging);
  EXPECT_EQ(cluster.backend(1).reason,
            "lag unknown: Seconds_Behind_Master is NULL and no heartbeat");
}

TEST(Topology, HysteresisLeavesAtOnceAndReturnsAfterRecoverProbes) {
  Cluster cluster;
  cluster.decide();
  cluster.probes[1].heartbeat_lag_ms = 5000;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), lagging);
  EXPECT_EQ(cluster.changes,
            Lines{"db2: replica, fit -> lagging (lag 5000 ms (heartbeat) above the limit of 1000 "
                  "ms)"});
  cluster.probes[1].heartbeat_lag_ms = 10;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), recovering);
  EXPECT_EQ(cluster.backend(1).good_probes, 1u);
  EXPECT_EQ(cluster.backend(1).reason,
            "recovering: 1 of 3 good probes; replicates from db1, lag 10 ms (heartbeat)");
  EXPECT_EQ(cluster.changes.size(), 1u);
  EXPECT_TRUE(contains(cluster.changes[0], "db2: replica, lagging -> recovering"))
      << cluster.changes[0];
  cluster.decide();
  EXPECT_EQ(cluster.state(1), recovering);
  EXPECT_EQ(cluster.backend(1).good_probes, 2u);
  EXPECT_EQ(cluster.changes, Lines{});
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.backend(1).good_probes, 3u);
  EXPECT_EQ(cluster.changes,
            Lines{"db2: replica, recovering -> fit (replicates from db1, lag 10 ms (heartbeat))"});
}

TEST(Topology, BadProbeWhileRecoveringStartsOver) {
  Cluster cluster;
  cluster.probes[1] = unreachable();
  cluster.decide();
  cluster.probes[1] = replica_of(1, 0);
  cluster.decide(2);
  EXPECT_EQ(cluster.backend(1).good_probes, 2u);
  cluster.probes[1].heartbeat_lag_ms = 2000;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), lagging);
  cluster.probes[1].heartbeat_lag_ms = 1;
  cluster.decide(2);
  EXPECT_EQ(cluster.state(1), recovering);
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
}

TEST(Topology, RecoverProbesOfOneReturnsAtOnce) {
  Cluster cluster;
  cluster.config.health.recover_probes = 1;
  cluster.probes[1].heartbeat_lag_ms = 5000;
  cluster.decide();
  cluster.probes[1].heartbeat_lag_ms = 10;
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
}

TEST(Topology, DownAndUnknown) {
  Cluster cluster;
  cluster.probes[1] = unreachable();
  cluster.probes[2] = ProbeResult{};  // not probed yet
  cluster.decide();
  EXPECT_EQ(cluster.state(1), down);
  EXPECT_EQ(cluster.backend(1).reason,
            "not reachable: Can't connect to server on '127.0.0.1' (111)");
  EXPECT_EQ(cluster.state(2), unknown);
  EXPECT_EQ(cluster.backend(2).reason, "not probed yet");
  // Coming back after being down takes recover_probes; after "unknown" it is at once.
  cluster.probes[1] = replica_of(1, 0);
  cluster.probes[2] = replica_of(2, 0);
  cluster.decide();
  EXPECT_EQ(cluster.state(1), recovering);
  EXPECT_EQ(cluster.state(2), fit);
}

TEST(Topology, MissingProbesCountAsNotProbed) {
  Cluster cluster;
  cluster.probes.resize(1);
  cluster.decide();
  EXPECT_EQ(states(*cluster.last), (std::vector{fit, unknown, unknown}));
}

TEST(Topology, MaintenanceWinsAndKeepsCountingGoodProbes) {
  Cluster cluster;
  cluster.decide();
  cluster.maintenance[1] = true;
  cluster.maintenance[2] = true;
  cluster.probes[2] = unreachable();
  cluster.decide();
  EXPECT_EQ(cluster.state(1), maintenance);
  EXPECT_EQ(cluster.backend(1).reason,
            "in maintenance (probe: fit, replicates from db1, lag 10 ms (heartbeat))");
  EXPECT_EQ(cluster.state(2), maintenance);
  EXPECT_TRUE(contains(cluster.backend(2).reason, "probe: down, not reachable"))
      << cluster.backend(2).reason;
  EXPECT_EQ(cluster.changes.size(), 2u);
  cluster.decide(2);
  EXPECT_EQ(cluster.changes, Lines{});
  EXPECT_EQ(cluster.backend(1).good_probes, 4u);
  // Cleared: healthy long enough, so fit at once; the one that was down must recover.
  cluster.maintenance = {};
  cluster.probes[2] = replica_of(2, 0);
  cluster.decide();
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.state(2), recovering);
}

TEST(Topology, MaintenanceOfThePrimaryRefusesWrites) {
  Cluster cluster;
  cluster.decide();
  cluster.maintenance[0] = true;
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(snapshot.primary, std::nullopt);
  EXPECT_EQ(snapshot.primary_reason,
            "db1 would be the primary but is in maintenance: writes are refused");
  EXPECT_EQ(cluster.state(0), maintenance);
  // The replicas keep following it.
  EXPECT_EQ(cluster.state(1), fit);
  EXPECT_EQ(cluster.changes[0],
            "primary changed from db1 to none: db1 would be the primary but is in maintenance: "
            "writes are refused");
  cluster.maintenance = {};
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 0u);
  EXPECT_EQ(cluster.state(0), fit);
}

TEST(Topology, StartupFallsBackToTheConfiguredPrimaryUntilSomethingAnswers) {
  Cluster cluster;
  for (ProbeResult& probe : cluster.probes) {
    probe = unreachable();
  }
  const Snapshot& first = cluster.decide();
  EXPECT_EQ(first.primary, 0u);
  EXPECT_EQ(first.primary_reason,
            "no backend has answered a probe yet: using the configured primary db1");
  EXPECT_EQ(cluster.state(0), down);
  EXPECT_EQ(cluster.backend(0).role, config::BackendRole::primary);
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 0u);
  EXPECT_EQ(cluster.changes, Lines{});
  // Once a backend has answered, a round where nothing answers has no primary.
  cluster.probes[0] = writable(0);
  cluster.decide();
  EXPECT_EQ(cluster.primary(), 0u);
  EXPECT_EQ(cluster.changes, Lines{"db1: primary, down -> fit (db1 is the only writable backend "
                                   "that replicates from no other backend)"});
  cluster.probes[0] = unreachable();
  cluster.decide();
  EXPECT_EQ(cluster.primary(), std::nullopt);
  EXPECT_EQ(cluster.last->primary_reason,
            "no reachable backend is writable and replicates from no other backend: writes are "
            "refused");
}

TEST(Topology, PrimaryDownMeansNoPrimary) {
  Cluster cluster;
  cluster.decide();
  cluster.probes[0] = unreachable();
  // The replicas lose their IO thread soon after.
  cluster.probes[1].replica->io_running = false;
  cluster.probes[1].replica->last_io_error = "error reconnecting to master";
  const Snapshot& snapshot = cluster.decide();
  EXPECT_EQ(snapshot.primary, std::nullopt);
  EXPECT_EQ(states(snapshot), (std::vector{down, lagging, fit}));
  EXPECT_EQ(cluster.backend(0).role, config::BackendRole::replica);
  EXPECT_EQ(cluster.changes[0],
            "primary changed from db1 to none: no reachable backend is writable and replicates "
            "from no other backend: writes are refused");
  EXPECT_EQ(cluster.changes[1],
            "db1: primary -> replica, fit -> down (not reachable: Can't connect to server on "
            "'127.0.0.1' (111))");
}

TEST(Topology, GenerationFollowsThePreviousSnapshot) {
  Cluster cluster;
  Snapshot previous;
  previous.generation = 41;
  cluster.last = previous;
  EXPECT_EQ(cluster.decide().generation, 42u);
}

// A reload may reorder backends: the previous snapshot is matched by name.
TEST(Topology, PreviousSnapshotMatchedByName) {
  Cluster cluster;
  cluster.probes[2].heartbeat_lag_ms = 5000;
  cluster.decide();
  std::swap(cluster.config.backends[1], cluster.config.backends[2]);
  std::swap(cluster.probes[1], cluster.probes[2]);
  cluster.decide();
  EXPECT_EQ(cluster.backend(1).name, "db3");
  EXPECT_EQ(cluster.state(1), lagging);
  EXPECT_EQ(cluster.backend(2).good_probes, 2u);
  EXPECT_EQ(cluster.changes, Lines{});
}

}  // namespace
}  // namespace replproxy::health
