// SHOW CONFIG: the effective configuration as key/value rows, secrets masked.

#include "admin/results.h"

namespace replproxy::admin {
namespace {

constexpr std::string_view kMasked = "****";

class Rows {
 public:
  explicit Rows(Table& table) : table_(table) {}

  void add(std::string key, std::string value) {
    table_.rows.push_back({std::move(key), std::move(value)});
  }
  void add(std::string key, uint32_t value) { add(std::move(key), std::to_string(value)); }
  void add(std::string key, bool value) { add(std::move(key), std::string(value ? "true" : "false")); }
  void add(std::string key, const char* value) { add(std::move(key), std::string(value)); }

 private:
  Table& table_;
};

std::string_view level_name(config::LogLevel level) {
  constexpr std::string_view kNames[] = {"trace", "debug", "info", "warn", "error"};
  return kNames[static_cast<size_t>(level)];
}

std::string_view topology_name(config::TopologyMode mode) {
  constexpr std::string_view kNames[] = {"replication", "master-master", "galera"};
  return kNames[static_cast<size_t>(mode)];
}

std::string_view consistency_name(config::Consistency consistency) {
  constexpr std::string_view kNames[] = {"read_your_writes", "eventual", "primary"};
  return kNames[static_cast<size_t>(consistency)];
}

void add_proxy(Rows& rows, const config::Config& c) {
  rows.add("proxy.listen", c.proxy.listen.to_string());
  rows.add("proxy.workers", c.proxy.workers);
  rows.add("proxy.tls_cert", c.proxy.tls_cert);
  rows.add("proxy.tls_key", c.proxy.tls_key);
  rows.add("proxy.require_tls", c.proxy.require_tls);
  rows.add("proxy.max_connections", c.proxy.max_connections);
  rows.add("proxy.connect_timeout_ms", c.proxy.connect_timeout_ms);
  rows.add("proxy.shutdown_grace_ms", c.proxy.shutdown_grace_ms);
  rows.add("proxy.server_version", c.proxy.server_version);
  rows.add("log.level", std::string(level_name(c.log.level)));
}

void add_users_and_backends(Rows& rows, const config::Config& c) {
  for (const config::User& user : c.users) {
    rows.add("users." + user.name + ".password", std::string(kMasked));
  }
  for (const config::Backend& b : c.backends) {
    const std::string key = "backends." + b.name + ".";
    rows.add(key + "address", b.address.to_string());
    rows.add(key + "role", b.role == config::BackendRole::primary ? "primary" : "replica");
    rows.add(key + "weight", b.weight);
    rows.add(key + "tls", b.tls);
    if (b.max_replication_lag_ms) {
      rows.add(key + "max_replication_lag_ms", *b.max_replication_lag_ms);
    }
  }
}

void add_routing(Rows& rows, const config::RoutingSection& r) {
  rows.add("routing.read_fallback", r.read_fallback == config::ReadFallback::primary ? "primary"
                                                                                      : "error");
  rows.add("routing.retry_reads", r.retry_reads);
  rows.add("routing.consistency", std::string(consistency_name(r.consistency)));
  rows.add("routing.causal_read_timeout_ms", r.causal_read_timeout_ms);
  rows.add("routing.max_session_history", r.max_session_history);
  rows.add("routing.rules", static_cast<uint32_t>(r.rules.size()));
}

void add_health(Rows& rows, const config::HealthSection& h) {
  rows.add("health.enabled", h.enabled);
  if (!h.enabled) {
    return;
  }
  rows.add("health.user", h.user);
  rows.add("health.password", std::string(kMasked));
  rows.add("health.interval_ms", h.interval_ms);
  rows.add("health.probe_timeout_ms", h.probe_timeout_ms);
  rows.add("health.max_replication_lag_ms", h.max_replication_lag_ms);
  rows.add("health.recover_probes", h.recover_probes);
  rows.add("health.heartbeat", h.heartbeat);
  rows.add("health.heartbeat_interval_ms", h.heartbeat_interval_ms);
  rows.add("health.heartbeat_schema", h.heartbeat_schema);
  rows.add("health.heartbeat_table", h.heartbeat_table);
  rows.add("health.exclude_errant", h.exclude_errant);
  rows.add("health.topology", std::string(topology_name(h.topology)));
}

std::string_view sync_name(config::RelaySync sync) {
  constexpr std::string_view kNames[] = {"every_event", "group", "none"};
  return kNames[static_cast<size_t>(sync)];
}

void add_relay(Rows& rows, const config::RelaySection& r) {
  rows.add("relay.enabled", r.enabled);
  if (!r.enabled) {
    return;
  }
  rows.add("relay.listen", r.listen.to_string());
  rows.add("relay.server_id", r.server_id);
  rows.add("relay.datadir", r.datadir);
  rows.add("relay.source", r.follow_primary ? "primary" : "backend:" + r.source_backend);
  rows.add("relay.upstream_user", r.upstream_user);
  rows.add("relay.upstream_password", std::string(kMasked));
  rows.add("relay.upstream_tls", r.upstream_tls);
  rows.add("relay.semi_sync", r.semi_sync);
  rows.add("relay.sync", std::string(sync_name(r.sync)));
  rows.add("relay.group_sync_us", r.group_sync_us);
  rows.add("relay.max_file_size", std::to_string(r.max_file_size));
  rows.add("relay.expire_logs_days", std::to_string(r.expire_logs_days));
  rows.add("relay.max_total_size", std::to_string(r.max_total_size));
  rows.add("relay.tls_cert", r.tls_cert);
  for (const config::User& user : r.users) {
    rows.add("relay.users." + user.name + ".password", std::string(kMasked));
  }
}

}  // namespace

Table config_table(const config::Config& config) {
  Table table{{"key", "value"}, {}};
  Rows rows(table);
  rows.add("source", config.source_path);
  add_proxy(rows, config);
  add_users_and_backends(rows, config);
  add_routing(rows, config.routing);
  add_health(rows, config.health);
  rows.add("admin.listen", config.admin.listen.to_string());
  rows.add("admin.user", config.admin.user.name);
  rows.add("admin.password", std::string(kMasked));
  rows.add("metrics.listen", config.metrics.listen.to_string());
  add_relay(rows, config.relay);
  return table;
}

}  // namespace replproxy::admin
