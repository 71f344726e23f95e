#include "health/snapshot.h"

namespace replproxy::health {

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
