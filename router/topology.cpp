#include "router/topology.h"

namespace replproxy::router {

std::optional<size_t> TopologyView::primary() const {
  for (size_t i = 0; i < backends.size(); ++i) {
    if (backends[i].role == config::BackendRole::primary) {
      return i;
    }
  }
  return std::nullopt;
}

std::optional<size_t> TopologyView::find(std::string_view name) const {
  for (size_t i = 0; i < backends.size(); ++i) {
    if (backends[i].name == name) {
      return i;
    }
  }
  return std::nullopt;
}

std::optional<size_t> ReplicaBalancer::pick(const TopologyView& topology) {
  if (current_.size() != topology.backends.size()) {
    current_.assign(topology.backends.size(), 0);
  }
  std::optional<size_t> best;
  int64_t total = 0;
  for (size_t i = 0; i < topology.backends.size(); ++i) {
    const BackendView& backend = topology.backends[i];
    if (backend.role != config::BackendRole::replica || !backend.usable || backend.weight == 0) {
      current_[i] = 0;
      continue;
    }
    current_[i] += backend.weight;
    total += backend.weight;
    if (!best || current_[i] > current_[*best]) {
      best = i;
    }
  }
  if (best) {
    current_[*best] -= total;
  }
  return best;
}

}  // namespace replproxy::router
