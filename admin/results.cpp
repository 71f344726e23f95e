#include "admin/results.h"

#include <algorithm>
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

std::string state_name(const health::BackendHealth& health, const BackendTraffic& traffic) {
  if (health.state == health::BackendState::maintenance && traffic.connections > 0) {
    return "draining";
  }
  return std::string(health::to_string(health.state));
}

void add_traffic(protocol::TextRow& row, const BackendTraffic& traffic) {
  row.push_back(std::to_string(traffic.connections));
  row.push_back(std::to_string(traffic.queries));
  row.push_back(std::to_string(traffic.errors));
}

protocol::TextRow probed_row(const config::Backend& backend, const health::BackendHealth& health,
                             const BackendTraffic& traffic) {
  const health::ProbeResult& probe = health.last_probe;
  const auto& replica = probe.replica;
  protocol::TextRow row{
          backend.name,
          backend.address.to_string(),
          std::string(role_name(health.role)),
          state_name(health, traffic),
          health.reason,
          health.lag_ms ? std::optional(std::to_string(*health.lag_ms)) : std::nullopt,
          std::string(health::to_string(health.lag_source)),
          gtid_of(probe),
          yes_no(health, replica && replica->io_running),
          yes_no(health, replica && replica->sql_running),
          probe.probed_at_us > 0 ? std::optional(iso_time(probe.probed_at_us)) : std::nullopt};
  add_traffic(row, traffic);
  return row;
}

protocol::TextRow unprobed_row(const config::Backend& backend, std::string reason,
                               const BackendTraffic& traffic) {
  protocol::TextRow row{backend.name,
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
  add_traffic(row, traffic);
  return row;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    out.append(out.empty() ? "" : ",").append(name);
  }
  return out;
}

}  // namespace

Table backends_table(const config::Config& config, const health::Snapshot* snapshot,
                     const std::vector<BackendTraffic>& traffic) {
  Table table{{"name", "address", "role", "state", "reason", "lag_ms", "lag_source", "gtid",
               "io_thread", "sql_thread", "last_probe", "connections", "queries", "errors"},
              {}};
  for (size_t i = 0; i < config.backends.size(); ++i) {
    const config::Backend& backend = config.backends[i];
    const BackendTraffic seen = i < traffic.size() ? traffic[i] : BackendTraffic{};
    const health::BackendHealth* health =
        snapshot != nullptr ? snapshot->find(backend.name, i) : nullptr;
    if (health != nullptr) {
      table.rows.push_back(probed_row(backend, *health, seen));
    } else if (config.health.enabled) {
      table.rows.push_back(unprobed_row(backend, "not probed yet", seen));
    } else {
      table.rows.push_back(
          unprobed_row(backend, "no [health] table: the configured role is used", seen));
    }
  }
  return table;
}

Table tunnels_table(const std::vector<TunnelStatus>& tunnels) {
  Table table{{"name", "mode", "protocol", "listen", "connect", "connections_active",
               "connections_total", "connections_failed", "bytes_to_server", "bytes_to_client",
               "tls_failures"},
              {}};
  for (const TunnelStatus& t : tunnels) {
    table.rows.push_back(
        {t.name, t.mode, t.protocol, t.listen, t.connect, std::to_string(t.connections_active),
         std::to_string(t.connections_total), std::to_string(t.connections_failed()),
         std::to_string(t.bytes_to_server), std::to_string(t.bytes_to_client),
         std::to_string(t.failures[static_cast<size_t>(TunnelFailure::tls)])});
  }
  return table;
}

Table relay_status_table(const RelayStatus* status) {
  Table table{{"state", "source", "address", "gtid_position", "current_file", "current_position",
               "files", "bytes_stored", "events_received", "bytes_received", "checksum_errors",
               "stream_errors", "connects", "sync", "semi_sync", "semi_sync_active",
               "acks_requested", "acks_sent", "ack_latency_p50_us", "ack_latency_p99_us", "fsyncs",
               "files_purged", "replicas", "events_sent", "last_error"},
              {}};
  RelayStatus disabled;
  disabled.state = "disabled";
  const RelayStatus& s = status != nullptr ? *status : disabled;
  const auto yes_no = [](bool b) { return std::string(b ? "yes" : "no"); };
  const auto opt = [](const std::string& v) {
    return v.empty() ? std::nullopt : std::optional<std::string>(v);
  };
  table.rows.push_back({s.state, opt(s.source), opt(s.address), s.gtid_position, opt(s.current_file),
                        std::to_string(s.current_position), std::to_string(s.files),
                        std::to_string(s.bytes_stored), std::to_string(s.events_received),
                        std::to_string(s.bytes_received), std::to_string(s.checksum_errors),
                        std::to_string(s.stream_errors), std::to_string(s.connects), s.sync,
                        yes_no(s.semi_sync_enabled), yes_no(s.semi_sync_active),
                        std::to_string(s.acks_requested), std::to_string(s.acks_sent),
                        std::to_string(s.ack_p50_us), std::to_string(s.ack_p99_us),
                        std::to_string(s.fsyncs), std::to_string(s.files_purged),
                        std::to_string(s.replicas), std::to_string(s.events_sent),
                        opt(s.last_error)});
  return table;
}

Table relay_replicas_table(const std::vector<RelayReplicaStatus>& replicas) {
  Table table{{"id", "server_id", "address", "user", "gtid_state", "file", "position",
               "last_gtid", "lag_seconds", "semi_sync", "acks", "events", "connected_seconds"},
              {}};
  for (const RelayReplicaStatus& r : replicas) {
    table.rows.push_back({std::to_string(r.id), std::to_string(r.server_id), r.address, r.user,
                          r.gtid_state, r.file, std::to_string(r.position), r.last_gtid,
                          std::to_string(r.lag_seconds), std::string(r.semi_sync ? "yes" : "no"),
                          std::to_string(r.acks), std::to_string(r.events),
                          std::to_string(r.connected_seconds)});
  }
  return table;
}

Table sessions_table(std::vector<SessionInfo> sessions) {
  std::sort(sessions.begin(), sessions.end(),
            [](const SessionInfo& a, const SessionInfo& b) { return a.id < b.id; });
  Table table{{"id", "user", "client", "schema", "state", "in_transaction", "backends", "pinned",
               "statement", "statement_ms"},
              {}};
  for (SessionInfo& s : sessions) {
    table.rows.push_back(
        {std::to_string(s.id), std::move(s.user), std::move(s.client),
         s.schema.empty() ? std::nullopt : std::optional(std::move(s.schema)), std::move(s.state),
         std::string(s.in_transaction ? "yes" : "no"), join(s.backends),
         s.pinned.empty() ? std::nullopt : std::optional(std::move(s.pinned)),
         s.statement.empty() ? std::nullopt : std::optional(std::move(s.statement)),
         s.statement_ms < 0 ? std::nullopt : std::optional(std::to_string(s.statement_ms))});
  }
  return table;
}

Table rules_table(const config::Config& config, const std::vector<uint64_t>& hits) {
  Table table{{"rule", "user", "schema", "match", "target", "hits"}, {}};
  const auto& rules = config.routing.rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    const config::RoutingRule& rule = rules[i];
    table.rows.push_back({std::to_string(i), rule.user, rule.schema, rule.match,
                          rule_target_text(rule),
                          std::to_string(i < hits.size() ? hits[i] : 0)});
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

Table help_table() {
  Table table{{"command", "description"}, {}};
  std::string_view text = help_text();
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    // "  COMMAND<two or more spaces>DESCRIPTION"; the heading line has no such gap.
    const size_t start = line.find_first_not_of(' ');
    const size_t gap = line.find("  ", start == std::string_view::npos ? 0 : start);
    if (start == std::string_view::npos || gap == std::string_view::npos) {
      continue;
    }
    const size_t description = line.find_first_not_of(' ', gap);
    table.rows.push_back({std::string(line.substr(start, gap - start)),
                          std::string(line.substr(description))});
  }
  return table;
}

Table version_table(std::string_view version) {
  return Table{{"version"}, {{std::string(version)}}};
}

Table version_comment_table(std::string_view version) {
  return Table{{"@@version_comment"}, {{"replproxy " + std::string(version) + " admin"}}};
}

std::string rule_target_text(const config::RoutingRule& rule) {
  switch (rule.target) {
    case config::RuleTarget::primary:
      return "primary";
    case config::RuleTarget::replica:
      return "replica";
    case config::RuleTarget::backend:
      return "backend:" + rule.backend;
  }
  return "primary";
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
