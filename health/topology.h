#pragma once
// The pure decision: probe results in, Snapshot out. No I/O, no clock, no logging; the prober
// calls it after every probe round and logs `changes`. Unit-tested without servers.

#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "health/probe.h"
#include "health/snapshot.h"

namespace replproxy::health {

struct TopologyInput {
  const config::Config* config = nullptr;  // backends and [health]
  std::span<const ProbeResult> probes;     // one per config->backends, same order
  const Snapshot* previous = nullptr;      // the last snapshot; nullptr the first time
  std::span<const bool> maintenance;       // operator flags, one per backend (may be empty)
  int64_t now_us = 0;
};

struct TopologyDecision {
  Snapshot snapshot;
  // One line per change since `previous` (a role change, a backend leaving or rejoining the
  // read set, a new primary, split brain...), each with its reason: logged once, not per probe.
  std::vector<std::string> changes;
};

TopologyDecision decide_topology(const TopologyInput& input);

}  // namespace replproxy::health
