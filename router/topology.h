#pragma once

// What routing needs to know about the backends: a view of the configured backends (later of
// the health snapshot), indexed the same way as the configuration's [[backends]].

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace replproxy::router {

struct BackendView {
  std::string_view name;
  config::BackendRole role = config::BackendRole::replica;
  uint32_t weight = 1;  // 0 takes no reads
  bool usable = true;   // reachable and fit to serve (until the health issue: connectable)
};

struct TopologyView {
  std::span<const BackendView> backends;

  // The first backend whose role is primary, usable or not.
  std::optional<size_t> primary() const;
  std::optional<size_t> find(std::string_view name) const;
  bool usable(size_t index) const { return index < backends.size() && backends[index].usable; }
  bool is_replica(size_t index) const {
    return index < backends.size() && backends[index].role == config::BackendRole::replica;
  }
};

// Smooth weighted round-robin (as in nginx) over the usable replicas, one per session, so that
// consecutive reads of a session spread over every replica in proportion to its weight: with
// weights 3 and 1, four reads go a, a, b, a. A replica that becomes unusable restarts from zero
// when it comes back.
class ReplicaBalancer {
 public:
  std::optional<size_t> pick(const TopologyView& topology);

 private:
  std::vector<int64_t> current_;  // per backend index
};

}  // namespace replproxy::router
