#pragma once
// A small cluster for decide_topology tests: a config, one probe per backend that each test
// edits, and the previous snapshot carried from round to round as the prober does.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "health/topology.h"

namespace replproxy::health::testing {

inline constexpr uint16_t kBasePort = 3301;  // db1 listens on 3301, db2 on 3302, ...

// Backends db1 (role = "primary"), db2, db3... (role = "replica") on 127.0.0.1.
inline config::Config make_config(size_t backends, config::TopologyMode mode) {
  config::Config config;
  for (size_t i = 0; i < backends; ++i) {
    config::Backend backend;
    backend.name = "db" + std::to_string(i + 1);
    backend.address = {"127.0.0.1", static_cast<uint16_t>(kBasePort + i)};
    backend.role = i == 0 ? config::BackendRole::primary : config::BackendRole::replica;
    config.backends.push_back(backend);
  }
  config.health.enabled = true;
  config.health.user = "monitor";
  config.health.topology = mode;
  return config;
}

// A server that answered: read-only, not replicating, server id = index + 1.
inline ProbeResult answering(size_t index) {
  ProbeResult probe;
  probe.reachable = true;
  probe.probed_at_us = 1;
  probe.version = "10.11.6-MariaDB";
  probe.server_id = static_cast<uint32_t>(index + 1);
  probe.read_only = true;
  probe.gtid_binlog_state = "0-1-100";
  return probe;
}

inline ProbeResult writable(size_t index) {
  ProbeResult probe = answering(index);
  probe.read_only = false;
  return probe;
}

// A read-only replica of backend `source`, caught up, with a 10 ms heartbeat lag.
inline ProbeResult replica_of(size_t index, size_t source) {
  ProbeResult probe = answering(index);
  probe.replica = ReplicaStatus{.source_host = "127.0.0.1",
                                .source_port = static_cast<uint16_t>(kBasePort + source),
                                .source_server_id = static_cast<uint32_t>(source + 1),
                                .io_running = true,
                                .sql_running = true,
                                .seconds_behind = 0};
  probe.heartbeat_lag_ms = 10;
  return probe;
}

inline ProbeResult unreachable() {
  ProbeResult probe;
  probe.probed_at_us = 1;
  probe.error = "Can't connect to server on '127.0.0.1' (111)";
  return probe;
}

class Cluster {
 public:
  explicit Cluster(size_t backends = 3,
                   config::TopologyMode mode = config::TopologyMode::replication)
      : config(make_config(backends, mode)) {
    probes.push_back(writable(0));
    for (size_t i = 1; i < backends; ++i) {
      probes.push_back(replica_of(i, 0));
    }
  }

  // One round: decides from the probes and the previous snapshot, which it then replaces.
  const Snapshot& decide() {
    now_us_ += 500'000;
    const TopologyInput input{
        .config = &config,
        .probes = probes,
        .previous = last ? &*last : nullptr,
        .maintenance = std::span<const bool>(maintenance.data(), config.backends.size()),
        .now_us = now_us_};
    TopologyDecision decision = decide_topology(input);
    changes = std::move(decision.changes);
    last = std::move(decision.snapshot);
    return *last;
  }

  // `rounds` rounds with the same probes; the changes of the last one are kept.
  const Snapshot& decide(int rounds) {
    for (int i = 1; i < rounds; ++i) {
      decide();
    }
    return decide();
  }

  const BackendHealth& backend(size_t i) const { return last->backends.at(i); }
  BackendState state(size_t i) const { return backend(i).state; }
  std::optional<size_t> primary() const { return last->primary; }

  config::Config config;
  std::vector<ProbeResult> probes;
  std::array<bool, 8> maintenance{};
  std::optional<Snapshot> last;
  std::vector<std::string> changes;

 private:
  int64_t now_us_ = 1'700'000'000'000'000;
};

inline bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Every state, in backend order, for compact expectations.
inline std::vector<BackendState> states(const Snapshot& snapshot) {
  std::vector<BackendState> out;
  for (const BackendHealth& backend : snapshot.backends) {
    out.push_back(backend.state);
  }
  return out;
}

}  // namespace replproxy::health::testing

namespace replproxy::health {
// Readable states in gtest messages.
inline void PrintTo(BackendState state, std::ostream* out) { *out << to_string(state); }
}  // namespace replproxy::health
