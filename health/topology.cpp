// decide_topology: probe results in, Snapshot out. The rules, in the order they apply:
//
// Every mode, per backend
// | state       | when                                                                      |
// |-------------|---------------------------------------------------------------------------|
// | maintenance | the operator's flag. Wins over every other state, down included: planned  |
// |             | work must not log down/up noise. The reason still tells what the probe    |
// |             | found, and good probes keep counting, so a healthy backend serves again   |
// |             | at once when the flag is cleared (with recover_probes good probes by then) |
// | unknown     | never probed (probed_at_us == 0)                                          |
// | down        | the probe failed                                                          |
// | (the rest)  | by the mode's rules below, then hysteresis                                |
//
// Hysteresis (readers; the writer is fit as soon as it is chosen)
// | good probe, fit / unknown / absent before | fit at once (startup does not wait)           |
// | good probe, unfit before                  | recovering until recover_probes good probes   |
// |                                           | in a row, then fit                            |
// | bad probe                                 | unfit at once                                 |
//
// topology = "replication"
// | candidate | reachable, writable (read_only = 0 and super_read_only = 0) and replicating   |
// |           | from no configured backend (no replica status, a source that is no           |
// |           | configured backend, or both replication threads stopped)                     |
// | primary   | the only candidate. Several (split brain, warned once): the previous primary |
// |           | if among them, else the configured role = "primary" one if among them, else  |
// |           | none. No candidate: none. The chosen one in maintenance: none.               |
// | stray     | a candidate that is not the primary; a read-only backend replicating from    |
// |           | no one, or from an address that is no configured backend (matched by        |
// |           | address, else by Master_Server_Id), or whose chain of sources does not end   |
// |           | at the primary                                                               |
// | errant    | has GTIDs the primary lacks (health/gtid.h) and exclude_errant = true; while |
// |           | the primary is not reachable, errant GTIDs found before are kept             |
// | lagging   | a replication thread stopped, lag unknown, or lag above the backend's limit. |
// |           | Lag: the heartbeat's, else Seconds_Behind_Master, summed along a chain       |
// | fit       | otherwise: a replica, or a replica of a replica, of the primary              |
// Without a primary, replicas are judged against the previous primary (else the configured one),
// so that a moment without a writable primary (a switchover) does not make them all stray. A
// writable replica that replicates from the primary is a replica (its reason says read_only is
// OFF): only writers that replicate from no one count towards split brain.
//
// topology = "master-master"
// | writer  | the role = "primary" server while reachable, writable and not in maintenance;  |
// |         | else the other one if it is. A preferred server coming back takes the writes   |
// |         | back only once it was a fit reader (caught up). Both writable is normal.       |
// | reader  | the other server, as a replica of the writer: source, threads and lag (no      |
// |         | errant check, since both take writes over time)                                |
// | warning | auto_increment_increment < 2, or equal auto_increment_offset (checked while    |
// |         | both answer; otherwise the last finding stands)                                |
//
// topology = "galera"
// | stray   | no wsrep status, or wsrep_cluster_status is not "Primary"                      |
// | lagging | wsrep_ready OFF, wsrep_local_state not 4 (Synced), or wsrep_desync ON          |
// | writer  | the previous writer while it stays fit; else the configured primary if fit;    |
// |         | else the fit node with the lowest name. Maintenance keeps a node from writing. |
//
// Startup: until any backend has answered a probe, the configured primary keeps the writes, as
// without [health]: a monitoring account that cannot log in, or servers starting after the proxy,
// must not block startup. Once something has answered, a round where nothing answers has no
// primary.
//
// `changes` lists what differs from the previous snapshot (everything the first time): the
// primary, each backend's role and state with the reason, warnings that appear or go (split
// brain, auto_increment) and the heartbeat note. A round that changes nothing gives no lines.

#include "health/topology.h"

#include <algorithm>

#include "health/topology_internal.h"

namespace replproxy::health {
namespace internal {

Round::Round(const TopologyInput& input) : config_(*input.config), previous_(input.previous) {
  const size_t n = config_.backends.size();
  probes_.assign(input.probes.begin(), input.probes.begin() + std::min(n, input.probes.size()));
  probes_.resize(n);
  maintenance_.assign(n, false);
  for (size_t i = 0; i < std::min(n, input.maintenance.size()); ++i) {
    maintenance_[i] = input.maintenance[i];
  }
  previous_by_backend_.assign(n, nullptr);
  if (previous_ == nullptr) {
    return;
  }
  // By name: a config reload may have added, removed or reordered backends.
  for (size_t i = 0; i < n; ++i) {
    const auto it = std::ranges::find(previous_->backends, name(i), &BackendHealth::name);
    if (it != previous_->backends.end()) {
      previous_by_backend_[i] = &*it;
      if (previous_->primary && &*it == &previous_->backends[*previous_->primary]) {
        previous_primary_ = i;
      }
    }
  }
}

uint32_t Round::max_lag_ms(size_t i) const {
  return backend(i).max_replication_lag_ms.value_or(health().max_replication_lag_ms);
}

std::optional<size_t> Round::configured_primary() const {
  for (size_t i = 0; i < size(); ++i) {
    if (backend(i).role == config::BackendRole::primary) {
      return i;
    }
  }
  return std::nullopt;
}

BackendState Round::previous_state(size_t i) const {
  const BackendHealth* before = previous(i);
  return before == nullptr ? BackendState::unknown : before->state;
}

}  // namespace internal

namespace {

using internal::ModeDecision;
using internal::Round;
using internal::Verdict;

ModeDecision decide_mode(const Round& round) {
  switch (round.health().topology) {
    case config::TopologyMode::master_master:
      return internal::decide_master_master(round);
    case config::TopologyMode::galera:
      return internal::decide_galera(round);
    case config::TopologyMode::replication:
      break;
  }
  return internal::decide_replication(round);
}

// Only the startup fallback ever makes an unreachable backend the primary, so a previous
// snapshot with an unreachable primary means that nothing had answered before it either.
bool nothing_answered_yet(const Round& round) {
  for (size_t i = 0; i < round.size(); ++i) {
    if (round.reachable(i)) {
      return false;
    }
  }
  const Snapshot* before = round.previous();
  if (before == nullptr) {
    return true;
  }
  return before->primary && *before->primary < before->backends.size() &&
         !before->backends[*before->primary].last_probe.reachable;
}

void apply_startup_fallback(const Round& round, ModeDecision& decision) {
  const std::optional<size_t> configured = round.configured_primary();
  if (decision.primary || !configured || round.maintenance(*configured) ||
      !nothing_answered_yet(round)) {
    return;
  }
  decision.primary = configured;
  decision.primary_reason = "no backend has answered a probe yet: using the configured primary " +
                            round.name(*configured);
}

// A good probe makes a backend fit at once when it was fit (or new); after being unfit it needs
// recover_probes good probes in a row. The writer is fit as soon as it is chosen.
void apply_hysteresis(const Round& round, size_t i, Verdict verdict, BackendHealth& health) {
  const BackendHealth* before = round.previous(i);
  const bool good = verdict.state == BackendState::fit;
  health.good_probes = good ? (before != nullptr ? before->good_probes : 0) + 1 : 0;
  health.lag_ms = verdict.lag_ms;
  health.lag_source = verdict.lag_source;
  health.errant_gtids = std::move(verdict.errant_gtids);
  health.reason = std::move(verdict.reason);
  health.state = verdict.state;
  const BackendState was = round.previous_state(i);
  const uint32_t needed = round.health().recover_probes;
  if (!good || verdict.writer || was == BackendState::fit || was == BackendState::unknown ||
      health.good_probes >= needed) {
    return;
  }
  health.state = BackendState::recovering;
  health.reason = "recovering: " + std::to_string(health.good_probes) + " of " +
                  std::to_string(needed) + " good probes; " + health.reason;
}

BackendHealth assemble(const Round& round, size_t i, Verdict verdict, bool primary) {
  BackendHealth health;
  health.name = round.name(i);
  health.role = primary ? config::BackendRole::primary : config::BackendRole::replica;
  health.last_probe = round.probe(i);
  if (round.reachable(i)) {
    apply_hysteresis(round, i, std::move(verdict), health);
  } else if (health.last_probe.probed_at_us == 0) {
    health.state = BackendState::unknown;
    health.reason = "not probed yet";
  } else {
    health.state = BackendState::down;
    const std::string& error = health.last_probe.error;
    health.reason = error.empty() ? "not reachable" : "not reachable: " + error;
  }
  if (round.maintenance(i)) {
    health.reason = "in maintenance (probe: " + std::string(to_string(health.state)) + ", " +
                    health.reason + ")";
    health.state = BackendState::maintenance;
  }
  return health;
}

std::string heartbeat_note(const Round& round, const ModeDecision& decision) {
  std::vector<size_t> missing;
  for (size_t i = 0; i < round.size(); ++i) {
    if (round.reachable(i) && i != decision.primary && decision.verdicts[i].heartbeat_missing) {
      missing.push_back(i);
    }
  }
  if (missing.empty()) {
    return "";
  }
  return "heartbeat unavailable on " + internal::name_list(round, missing) +
         ": lag from Seconds_Behind_Master (whole seconds)";
}

}  // namespace

TopologyDecision decide_topology(const TopologyInput& input) {
  const Round round(input);
  ModeDecision decision = decide_mode(round);
  apply_startup_fallback(round, decision);
  TopologyDecision out;
  Snapshot& snapshot = out.snapshot;
  snapshot.generation = input.previous != nullptr ? input.previous->generation + 1 : 1;
  snapshot.computed_at_us = input.now_us;
  snapshot.primary = decision.primary;
  snapshot.primary_reason = decision.primary_reason;
  snapshot.heartbeat_note = heartbeat_note(round, decision);
  snapshot.warnings = std::move(decision.warnings);
  for (size_t i = 0; i < round.size(); ++i) {
    snapshot.backends.push_back(
        assemble(round, i, std::move(decision.verdicts[i]), i == decision.primary));
  }
  out.changes = internal::describe_changes(input.previous, snapshot);
  return out;
}

}  // namespace replproxy::health
