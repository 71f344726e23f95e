#include "health/snapshot.h"

namespace replproxy::health {

const BackendHealth* Snapshot::find(std::string_view name, size_t hint) const {
  if (hint < backends.size() && backends[hint].name == name) {
    return &backends[hint];
  }
  for (const BackendHealth& b : backends) {
    if (b.name == name) {
      return &b;
    }
  }
  return nullptr;
}

const std::string* Snapshot::primary_name() const {
  return primary && *primary < backends.size() ? &backends[*primary].name : nullptr;
}

std::string_view to_string(BackendState state) {
  switch (state) {
    case BackendState::fit:
      return "fit";
    case BackendState::lagging:
      return "lagging";
    case BackendState::recovering:
      return "recovering";
    case BackendState::down:
      return "down";
    case BackendState::maintenance:
      return "maintenance";
    case BackendState::errant:
      return "errant";
    case BackendState::stray:
      return "stray";
    case BackendState::unknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view to_string(LagSource source) {
  switch (source) {
    case LagSource::none:
      return "none";
    case LagSource::heartbeat:
      return "heartbeat";
    case LagSource::seconds_behind:
      return "seconds_behind";
  }
  return "none";
}

}  // namespace replproxy::health
