// The change lines of a topology decision: logged once by the prober, so a round that changes
// nothing must give none.

#include <algorithm>

#include "health/topology_internal.h"

namespace replproxy::health::internal {
namespace {

std::string_view role_name(config::BackendRole role) {
  return role == config::BackendRole::primary ? "primary" : "replica";
}

// "replica, fit" for a new backend; "replica, lagging -> fit" or "primary -> replica, fit ->
// recovering" for a changed one.
std::string transition(const BackendHealth* was, const BackendHealth& now) {
  std::string role(role_name(now.role));
  if (was != nullptr && was->role != now.role) {
    role = std::string(role_name(was->role)) + " -> " + role;
  }
  std::string state(to_string(now.state));
  if (was != nullptr && was->state != now.state) {
    state = std::string(to_string(was->state)) + " -> " + state;
  }
  return role + ", " + state;
}

std::string primary_name(const Snapshot& snapshot) {
  return snapshot.primary ? snapshot.backends[*snapshot.primary].name : std::string("none");
}

std::optional<std::string> primary_change(const Snapshot* before, const Snapshot& after) {
  const std::string now = primary_name(after);
  if (before == nullptr) {
    return (after.primary ? "primary is " + now : std::string("no primary")) + ": " +
           after.primary_reason;
  }
  const std::string was = primary_name(*before);
  if (was == now) {
    return std::nullopt;
  }
  return "primary changed from " + was + " to " + now + ": " + after.primary_reason;
}

void backend_changes(const Snapshot* before, const Snapshot& after, std::vector<std::string>& out) {
  for (const BackendHealth& health : after.backends) {
    const BackendHealth* was = nullptr;
    if (before != nullptr) {
      const auto it = std::ranges::find(before->backends, health.name, &BackendHealth::name);
      was = it == before->backends.end() ? nullptr : &*it;
    }
    if (was == nullptr || was->state != health.state || was->role != health.role) {
      out.push_back(health.name + ": " + transition(was, health) + " (" + health.reason + ")");
    }
  }
}

void warning_changes(const Snapshot* before, const Snapshot& after, std::vector<std::string>& out) {
  const std::vector<std::string> none;
  const std::vector<std::string>& old = before != nullptr ? before->warnings : none;
  for (const std::string& warning : after.warnings) {
    if (std::ranges::find(old, warning) == old.end()) {
      out.push_back("warning: " + warning);
    }
  }
  for (const std::string& warning : old) {
    if (std::ranges::find(after.warnings, warning) == after.warnings.end()) {
      out.push_back("resolved: " + warning);
    }
  }
}

}  // namespace

std::vector<std::string> describe_changes(const Snapshot* before, const Snapshot& after) {
  std::vector<std::string> out;
  if (auto line = primary_change(before, after)) {
    out.push_back(std::move(*line));
  }
  backend_changes(before, after, out);
  warning_changes(before, after, out);
  const std::string old_note = before != nullptr ? before->heartbeat_note : "";
  if (after.heartbeat_note != old_note) {
    out.push_back(after.heartbeat_note.empty() ? "heartbeat lag available again on every replica"
                                               : after.heartbeat_note);
  }
  return out;
}

}  // namespace replproxy::health::internal
