#pragma once
// Shared by the parts of decide_topology (internal to health/): the round's inputs, arranged for
// the rules, and what each topology mode decides before hysteresis and maintenance are applied.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "health/probe.h"
#include "health/snapshot.h"
#include "health/topology.h"

namespace replproxy::health::internal {

// One probe round as the rules see it; indices are those of config.backends.
class Round {
 public:
  explicit Round(const TopologyInput& input);

  size_t size() const { return config_.backends.size(); }
  const config::HealthSection& health() const { return config_.health; }
  const config::Backend& backend(size_t i) const { return config_.backends[i]; }
  const std::string& name(size_t i) const { return config_.backends[i].name; }
  const ProbeResult& probe(size_t i) const { return probes_[i]; }
  bool reachable(size_t i) const { return probes_[i].reachable; }
  bool writable(size_t i) const { return !probes_[i].read_only && !probes_[i].super_read_only; }
  bool maintenance(size_t i) const { return maintenance_[i]; }
  uint32_t max_lag_ms(size_t i) const;

  // The first backend configured with role = "primary".
  std::optional<size_t> configured_primary() const;
  // The previous snapshot: nullptr the first time.
  const Snapshot* previous() const { return previous_; }
  // This backend's entry in the previous snapshot (matched by name), or nullptr.
  const BackendHealth* previous(size_t i) const { return previous_by_backend_[i]; }
  BackendState previous_state(size_t i) const;
  // The previous snapshot's primary, as an index of this round.
  std::optional<size_t> previous_primary() const { return previous_primary_; }

 private:
  const config::Config& config_;
  std::vector<ProbeResult> probes_;  // one per backend; a missing probe counts as not probed
  std::vector<bool> maintenance_;
  const Snapshot* previous_;
  std::vector<const BackendHealth*> previous_by_backend_;
  std::optional<size_t> previous_primary_;
};

// What the rules found for one reachable backend in this round, before hysteresis and
// maintenance. `state == fit` means the probe was good.
struct Verdict {
  BackendState state = BackendState::fit;
  std::string reason;
  std::optional<int64_t> lag_ms;
  LagSource lag_source = LagSource::none;
  std::string errant_gtids;
  bool writer = false;             // takes the writes: fit at once, no hysteresis
  bool heartbeat_missing = false;  // lag from Seconds_Behind although the heartbeat is on
};

// What a topology mode decided. Verdicts of unreachable backends are ignored by the caller.
struct ModeDecision {
  std::optional<size_t> primary;
  std::string primary_reason;
  std::vector<Verdict> verdicts;  // one per backend
  std::vector<std::string> warnings;
};

ModeDecision decide_replication(const Round& round);
ModeDecision decide_master_master(const Round& round);
ModeDecision decide_galera(const Round& round);

// ---- The checks of one replica, shared by the replication and master-master modes.

// The configured backend (other than `self`) that `status` replicates from: by address, with host
// names compared case-insensitively and 127.0.0.1, localhost and ::1 taken as one host; failing
// that, the reachable backend whose @@server_id is the status' Master_Server_Id.
std::optional<size_t> find_source(const Round& round, size_t self, const ReplicaStatus& status);

// A replica's lag, or why it is unknown.
struct Lag {
  std::optional<int64_t> ms;
  LagSource source = LagSource::none;
  std::string unknown_reason;  // set when ms is nullopt
};

// The lag a reachable replica reports about itself: unknown when a replication thread is stopped;
// else the heartbeat's when there is one, else Seconds_Behind_Master.
Lag measure_lag(const ProbeResult& probe);
// Compares a lag with the backend's limit: fit or lagging, with the reason.
Verdict lag_verdict(const Round& round, size_t i, const Lag& lag, std::string_view source_name);

// The lines of TopologyDecision::changes: what differs between `before` (nullptr the first time:
// then everything is new) and `after`.
std::vector<std::string> describe_changes(const Snapshot* before, const Snapshot& after);

// "db1", "db1 and db2", "db1, db2 and db3".
std::string name_list(const Round& round, const std::vector<size_t>& backends);

}  // namespace replproxy::health::internal
