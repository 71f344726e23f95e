#pragma once
// The topology as the health checker last saw it: an immutable value, computed by a pure
// function from probe results (health/topology.h) and published whole to every worker loop
// (std::shared_ptr<const Snapshot>). Routing reads roles and fitness from it; the admin
// interface shows all of it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "health/probe.h"

namespace replproxy::health {

// Why a backend does or does not serve. `fit` is the only state that serves reads (replicas) or
// writes (the primary).
enum class BackendState : uint8_t {
  fit,          // answers, replicates from the current primary, lag within the limit
  lagging,      // lag above max_replication_lag_ms, or lag unknown (replication stopped)
  recovering,   // was unfit; good probes so far < recover_probes
  down,         // does not answer the probe
  maintenance,  // set by the operator (admin SET BACKEND ... MAINTENANCE)
  errant,       // has GTIDs the primary does not have (exclude_errant = true)
  stray,        // replicates from something that is not the current primary, or is writable
                // while another backend is the primary
  unknown,      // not probed yet
};

enum class LagSource : uint8_t { none, heartbeat, seconds_behind };

struct BackendHealth {
  std::string name;              // as in the config, same index as config.backends
  config::BackendRole role = config::BackendRole::replica;  // the live role
  BackendState state = BackendState::unknown;
  std::string reason;            // why this state, for logs and the admin view
  std::optional<int64_t> lag_ms;  // replicas: measured lag; nullopt when unknown
  LagSource lag_source = LagSource::none;
  uint32_t good_probes = 0;       // consecutive good probes (for hysteresis)
  std::string errant_gtids;       // the GTIDs only this backend has, when errant
  ProbeResult last_probe;         // what the last probe found

  // Reads may go here (replicas, and a fit primary for read_fallback).
  bool fit() const { return state == BackendState::fit; }
};

struct Snapshot {
  uint64_t generation = 0;  // increases with every published snapshot
  int64_t computed_at_us = 0;
  std::vector<BackendHealth> backends;  // same order as config.backends
  // The backend that takes writes now; nullopt when there is none the proxy can trust (all
  // down, or split brain with no safe choice): writes are then refused with ERR 1290.
  std::optional<size_t> primary;
  std::string primary_reason;  // how the primary was chosen, or why there is none
  // Said once in the log and always in the admin view when the heartbeat cannot be used.
  std::string heartbeat_note;
  std::vector<std::string> warnings;  // e.g. auto_increment settings that let writers collide

  // The backend named `name`, or null. By name, since a reloaded config may have moved a backend
  // to another index or added one the snapshot does not know yet; `hint` is the index to try
  // first (the usual case: same order as the config).
  const BackendHealth* find(std::string_view name, size_t hint = SIZE_MAX) const;
  // The current primary's name; null when there is none.
  const std::string* primary_name() const;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

std::string_view to_string(BackendState state);
std::string_view to_string(LagSource source);

}  // namespace replproxy::health
