// probe_server: the queries of one probe and how their answers fill a ProbeResult.
//
// Three round trips at most: the variables and status counters together (a multi-statement,
// both need no privilege and work on MariaDB and MySQL alike, and `SHOW ... WHERE Variable_name
// IN (...)` simply leaves out the variables a server does not have, such as super_read_only on
// MariaDB or the wsrep_* ones without Galera), the replica status, and the heartbeat row on
// servers that are not writing it. A part that fails for lack of privilege (SHOW REPLICA STATUS
// needs SLAVE MONITOR / REPLICA MONITOR) is recorded in `error` while the server stays
// reachable; only a lost session or a failing core query makes it unreachable.

#include <mysqld_error.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <utility>

#include "health/heartbeat.h"
#include "health/prober.h"
#include "health/replica_status.h"

namespace replproxy::health {
namespace {

constexpr std::string_view kCoreSql =
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'server_id', 'read_only', "
    "'super_read_only', 'auto_increment_increment', 'auto_increment_offset', "
    "'gtid_current_pos', 'gtid_binlog_pos', 'gtid_binlog_state', 'gtid_executed', "
    "'server_uuid', 'wsrep_on', 'wsrep_desync');"
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status', "
    "'Rpl_semi_sync_source_status', 'Rpl_semi_sync_master_clients', "
    "'Rpl_semi_sync_source_clients', 'wsrep_local_state', 'wsrep_cluster_status', "
    "'wsrep_ready')";

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Name -> value from the rows of SHOW VARIABLES / SHOW STATUS, names in lower case.
std::map<std::string, std::string, std::less<>> name_values(const ResultSet& set) {
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& row : set.rows) {
    if (row.size() >= 2 && row[0]) {
      out[lower(*row[0])] = row[1].value_or("");
    }
  }
  return out;
}

bool is_on(std::string_view v) {
  const std::string l = lower(v);
  return l == "on" || l == "1" || l == "yes" || l == "true";
}

template <typename T>
std::optional<T> to_number(std::string_view v) {
  T out{};
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size()) {
    return std::nullopt;
  }
  return out;
}

ProbeOutcome unreachable(std::string error) {
  ProbeOutcome out;
  out.result.reachable = false;
  out.result.error = std::move(error);
  out.result.probed_at_us = wall_now_us();
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += out.empty() ? "" : "; ";
    out += p;
  }
  return out;
}

// SHOW REPLICA STATUS, or SHOW SLAVE STATUS on servers that do not know the first (MariaDB
// before 10.5, MySQL before 8.0.22). MySQL with several channels gives one row each; only the
// default channel (empty Channel_Name) matters, as MariaDB's default connection does.
std::expected<std::optional<ResultSet>, ServerError> query_replica_status(ServerConnection& conn) {
  auto sets = conn.query("SHOW REPLICA STATUS");
  if (!sets && sets.error().code == ER_PARSE_ERROR) {
    sets = conn.query("SHOW SLAVE STATUS");
  }
  if (!sets) {
    return std::unexpected(sets.error());
  }
  if (sets->empty()) {
    return std::nullopt;
  }
  return std::move(sets->front());
}

const std::vector<std::optional<std::string>>* default_channel_row(const ResultSet& set) {
  const auto channel = std::ranges::find_if(
      set.columns, [](const std::string& c) { return lower(c) == "channel_name"; });
  for (const auto& row : set.rows) {
    const size_t i = static_cast<size_t>(channel - set.columns.begin());
    if (channel == set.columns.end() || (i < row.size() && row[i].value_or("").empty())) {
      return &row;
    }
  }
  return nullptr;
}

void read_heartbeat(ServerConnection& conn, const ProbeRequest& request, ProbeOutcome& out) {
  auto sets = conn.query(heartbeat_read_sql(request.heartbeat_schema, request.heartbeat_table));
  out.heartbeat_read_at_us = wall_now_us();
  if (!sets) {
    out.heartbeat_error = sets.error();
    return;
  }
  const ResultSet* set = sets->empty() ? nullptr : &sets->front();
  if (set == nullptr || set->rows.empty() || set->rows[0].empty() || !set->rows[0][0]) {
    out.heartbeat_error = ServerError{0, "no heartbeat row yet"};
    return;
  }
  out.heartbeat_ts_us = to_number<int64_t>(*set->rows[0][0]);
  if (!out.heartbeat_ts_us) {
    out.heartbeat_error = ServerError{0, "heartbeat ts is not a number: " + *set->rows[0][0]};
  }
}

// The core query, on a session that may have died since the last probe: a reused session that
// turns out to be gone is reconnected once, so a server restart or a killed session costs no
// false "down".
std::expected<std::vector<ResultSet>, std::string> core_query(ServerConnection& conn) {
  const bool reused = conn.connected();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!conn.connected()) {
      if (auto c = conn.connect(); !c) {
        return std::unexpected("cannot connect: " + c.error().to_string());
      }
    }
    auto sets = conn.query(kCoreSql);
    if (sets && sets->size() == 2) {
      return std::move(*sets);
    }
    if (sets) {
      return std::unexpected("unexpected answer to the variables query");
    }
    if (!(reused && attempt == 0 && sets.error().connection_lost())) {
      return std::unexpected("variables query failed: " + sets.error().to_string());
    }
  }
  return std::unexpected("unreachable");
}

}  // namespace

void apply_server_variables(const ResultSet& variables, const ResultSet& status, ProbeResult& r) {
  const auto vars = name_values(variables);
  const auto stat = name_values(status);
  const auto var = [&](std::string_view name) -> const std::string* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : &it->second;
  };
  const auto st = [&](std::string_view name) -> const std::string* {
    const auto it = stat.find(name);
    return it == stat.end() ? nullptr : &it->second;
  };
  const auto text = [&](std::string_view name) { return var(name) ? *var(name) : std::string(); };

  r.version = text("version");
  r.is_mariadb = lower(r.version).find("mariadb") != std::string::npos;
  r.server_id = to_number<uint32_t>(text("server_id")).value_or(0);
  r.read_only = is_on(text("read_only"));
  r.super_read_only = var("super_read_only") != nullptr && is_on(*var("super_read_only"));
  r.auto_increment_increment = to_number<uint32_t>(text("auto_increment_increment")).value_or(1);
  r.auto_increment_offset = to_number<uint32_t>(text("auto_increment_offset")).value_or(1);
  r.gtid_current_pos = text("gtid_current_pos");
  r.gtid_binlog_pos = text("gtid_binlog_pos");
  r.gtid_binlog_state = text("gtid_binlog_state");
  r.gtid_executed = text("gtid_executed");
  r.server_uuid = text("server_uuid");

  // MySQL 8.0.26+ names them "source"; MariaDB and older MySQL "master". Absent without the
  // semi-sync plugin.
  const std::string* semi = st("rpl_semi_sync_source_status");
  semi = semi != nullptr ? semi : st("rpl_semi_sync_master_status");
  r.semi_sync_primary_on = semi ? std::optional<bool>(is_on(*semi)) : std::nullopt;
  const std::string* clients = st("rpl_semi_sync_source_clients");
  clients = clients != nullptr ? clients : st("rpl_semi_sync_master_clients");
  r.semi_sync_clients = clients ? to_number<uint32_t>(*clients) : std::nullopt;

  // MariaDB has the wsrep_* variables even without Galera (wsrep_on = OFF); MySQL lacks them.
  if (var("wsrep_on") != nullptr && is_on(*var("wsrep_on"))) {
    GaleraStatus g;
    g.local_state =
        to_number<uint32_t>(st("wsrep_local_state") ? *st("wsrep_local_state") : "").value_or(0);
    g.cluster_status = st("wsrep_cluster_status") ? *st("wsrep_cluster_status") : "";
    g.ready = st("wsrep_ready") != nullptr && is_on(*st("wsrep_ready"));
    g.desync = var("wsrep_desync") != nullptr && is_on(*var("wsrep_desync"));
    r.galera = std::move(g);
  } else {
    r.galera.reset();
  }
}

ProbeOutcome probe_server(ServerConnection& conn, const ProbeRequest& request) {
  auto core = core_query(conn);
  if (!core) {
    return unreachable(std::move(core.error()));
  }
  ProbeOutcome out;
  ProbeResult& r = out.result;
  apply_server_variables((*core)[0], (*core)[1], r);

  std::vector<std::string> problems;
  auto replica = query_replica_status(conn);
  if (!replica) {
    if (replica.error().connection_lost()) {
      return unreachable("replica status query failed: " + replica.error().to_string());
    }
    // Most likely a missing SLAVE MONITOR privilege: the rest of the probe still counts.
    problems.push_back("replica status unknown: " + replica.error().to_string());
  } else if (*replica) {
    if (const auto* row = default_channel_row(**replica)) {
      const std::vector<std::string_view> names((*replica)->columns.begin(),
                                                (*replica)->columns.end());
      std::vector<std::optional<std::string_view>> values;
      for (const auto& v : *row) {
        values.push_back(v ? std::optional<std::string_view>(*v) : std::nullopt);
      }
      r.replica = parse_replica_status(names, values);
    }
  }

  if (request.read_heartbeat) {
    read_heartbeat(conn, request, out);
    if (out.heartbeat_error && out.heartbeat_error->connection_lost()) {
      return unreachable("heartbeat query failed: " + out.heartbeat_error->to_string());
    }
    if (out.heartbeat_error && out.heartbeat_error->code != 0) {
      problems.push_back("heartbeat unreadable: " + out.heartbeat_error->to_string());
    }
  }

  r.reachable = true;
  r.error = join(problems);
  r.probed_at_us = wall_now_us();
  return out;
}

}  // namespace replproxy::health
