#pragma once

// Readers of the top-level sections (internal to config/). Each reads its part of the top-level
// table into `out` and reports every problem to the reader's diagnostics.

#include <vector>

#include "config/config.h"
#include "config/table_reader.h"

namespace replproxy::config::internal {

void read_proxy_section(TableReader& top, ProxySection& out);
void read_log_section(TableReader& top, LogSection& out);
void read_users(TableReader& top, std::vector<User>& out);
// `health` is read first: a backend's max_replication_lag_ms needs a [health] table.
void read_backends(TableReader& top, const HealthSection& health, std::vector<Backend>& out);
// Rules naming a backend are checked against `backends`, so those are read first.
void read_routing_section(TableReader& top, const std::vector<Backend>& backends,
                          RoutingSection& out);
void read_health_section(TableReader& top, HealthSection& out);
void read_admin_section(TableReader& top, AdminSection& out);
void read_metrics_section(TableReader& top, MetricsSection& out);
// [[relay.users]] names are their own namespace; `backends` resolves source = "backend:NAME".
void read_relay_section(TableReader& top, const std::vector<Backend>& backends, RelaySection& out);
// [[tunnels]] (optional); their listen addresses are checked against the proxy's other
// listeners in `config`, so those sections are read first.
void read_tunnels(TableReader& top, const Config& config, std::vector<Tunnel>& out);
// Exactly one of `password` (plaintext) and `password_hash` ("*" + hex(SHA1(SHA1(password)))),
// in a [[users]] entry or in [admin].
void read_password(TableReader& reader, User& user);
// Checks of [health] that depend on the backends (master-master needs exactly two).
void check_health_topology(TableReader& top, const HealthSection& health,
                           const std::vector<Backend>& backends);

}  // namespace replproxy::config::internal
