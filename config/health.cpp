// The [health] table, and the checks that tie it to [[backends]].

#include <algorithm>
#include <cctype>

#include "config/sections.h"

namespace replproxy::config::internal {
namespace {

constexpr EnumName<TopologyMode> kTopologies[] = {
    {"replication", TopologyMode::replication},
    {"master-master", TopologyMode::master_master},
    {"galera", TopologyMode::galera},
};

// Probing faster than this would load the servers for no benefit; the heartbeat interval is
// also the finest lag the heartbeat can show.
constexpr int64_t kMinIntervalMs = 50;
constexpr int64_t kMinHeartbeatIntervalMs = 10;
// MySQL and MariaDB identifiers are at most 64 characters long.
constexpr size_t kMaxIdentifierLength = 64;

// The heartbeat schema and table names are written into SQL statements, so only plain
// identifiers are accepted: nothing in them can need quoting or escaping.
void read_identifier(TableReader& reader, std::string_view key, std::string& out) {
  std::string text;
  if (!reader.read(key, text)) {
    return;
  }
  const bool plain = std::ranges::all_of(
      text, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
  if (text.empty() || text.size() > kMaxIdentifierLength || !plain) {
    reader.error_at(key, quoted(key) +
                             " must be a plain identifier (1 to 64 letters, digits or "
                             "'_'); got " +
                             quoted(text));
    return;
  }
  out = std::move(text);
}

}  // namespace

void read_health_section(TableReader& top, HealthSection& out) {
  const toml::table* table = top.read_table("health");
  if (table == nullptr) {
    return;
  }
  out.enabled = true;
  TableReader reader(*table, "[health]", top.diagnostics());
  if (reader.require("user")) {
    reader.read_non_empty("user", out.user);
  }
  reader.read("password", out.password);
  reader.read("interval_ms", out.interval_ms, kMinIntervalMs, kU32Max);
  reader.read("probe_timeout_ms", out.probe_timeout_ms, 1, kU32Max);
  reader.read("max_replication_lag_ms", out.max_replication_lag_ms, 0, kU32Max);
  reader.read("recover_probes", out.recover_probes, 1, kU32Max);
  reader.read("heartbeat", out.heartbeat);
  reader.read("heartbeat_interval_ms", out.heartbeat_interval_ms, kMinHeartbeatIntervalMs, kU32Max);
  read_identifier(reader, "heartbeat_schema", out.heartbeat_schema);
  read_identifier(reader, "heartbeat_table", out.heartbeat_table);
  reader.read("exclude_errant", out.exclude_errant);
  read_enum(reader, "topology", kTopologies, out.topology);
  reader.report_unknown_keys();
}

void check_health_topology(TableReader& top, const HealthSection& health,
                           const std::vector<Backend>& backends) {
  if (!health.enabled || health.topology != TopologyMode::master_master || backends.empty() ||
      backends.size() == 2) {
    return;
  }
  const toml::table* table = top.read_table("health");
  if (table == nullptr) {
    return;
  }
  TableReader reader(*table, "[health]", top.diagnostics());
  reader.error_at("topology", "'topology = \"master-master\"' needs exactly 2 [[backends]], got " +
                                  std::to_string(backends.size()));
}

}  // namespace replproxy::config::internal
