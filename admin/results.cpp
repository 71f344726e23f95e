#include "admin/results.h"

#include <cstdio>
#include <ctime>

#include "admin/command.h"

namespace replproxy::admin {
namespace {

std::string_view role_name(config::BackendRole role) {
  return role == config::BackendRole::primary ? "primary" : "replica";
}

std::optional<std::string> yes_no(const health::BackendHealth& backend, bool running) {
  if (!backend.last_probe.replica) {
    return std::nullopt;
  }
  return running ? "Yes" : "No";
}

std::optional<std::string> gtid_of(const health::ProbeResult& probe) {
  if (!probe.gtid_current_pos.empty()) {
    return probe.gtid_current_pos;
  }
  if (!probe.gtid_executed.empty()) {
    return probe.gtid_executed;
  }
  return std::nullopt;
}

protocol::TextRow probed_row(const config::Backend& backend, const health::BackendHealth& health) {
  const health::ProbeResult& probe = health.last_probe;
  const auto& replica = probe.replica;
  return {backend.name,
          backend.address.to_string(),
          std::string(role_name(health.role)),
          std::string(health::to_string(health.state)),
          health.reason,
          health.lag_ms ? std::optional(std::to_string(*health.lag_ms)) : std::nullopt,
          std::string(health::to_string(health.lag_source)),
          gtid_of(probe),
          yes_no(health, replica && replica->io_running),
          yes_no(health, replica && replica->sql_running),
          probe.probed_at_us > 0 ? std::optional(iso_time(probe.probed_at_us)) : std::nullopt};
}

protocol::TextRow unprobed_row(const config::Backend& backend, std::string reason) {
  return {backend.name,
          backend.address.to_string(),
          std::string(role_name(backend.role)),
          "unknown",
          std::move(reason),
          std::nullopt,
          "none",
          std::nullopt,
          std::nullopt,
          std::nullopt,
          std::nullopt};
}

}  // namespace

Table backends_table(const config::Config& config, const health::Snapshot* snapshot) {
  Table table{{"name", "address", "role", "state", "reason", "lag_ms", "lag_source", "gtid",
               "io_thread", "sql_thread", "last_probe"},
              {}};
  for (size_t i = 0; i < config.backends.size(); ++i) {
    const config::Backend& backend = config.backends[i];
    if (snapshot != nullptr && i < snapshot->backends.size()) {
      table.rows.push_back(probed_row(backend, snapshot->backends[i]));
    } else if (config.health.enabled) {
      table.rows.push_back(unprobed_row(backend, "not probed yet"));
    } else {
      table.rows.push_back(unprobed_row(backend, "no [health] table: the configured role is used"));
    }
  }
  return table;
}

Table stats_table(const std::vector<Stat>& stats, std::string_view pattern) {
  Table table{{"name", "value"}, {}};
  for (const Stat& stat : stats) {
    if (pattern.empty() || like_match(stat.name, pattern)) {
      table.rows.push_back({stat.name, std::to_string(stat.value)});
    }
  }
  return table;
}

Table version_table(std::string_view version) {
  return Table{{"version"}, {{std::string(version)}}};
}

Table version_comment_table(std::string_view version) {
  return Table{{"@@version_comment"}, {{"replproxy " + std::string(version) + " admin"}}};
}

std::string iso_time(int64_t epoch_us) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>((epoch_us % 1'000'000) / 1000));
  return text;
}

}  // namespace replproxy::admin
