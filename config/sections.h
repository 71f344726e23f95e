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
void read_backends(TableReader& top, std::vector<Backend>& out);
// Rules naming a backend are checked against `backends`, so those are read first.
void read_routing_section(TableReader& top, const std::vector<Backend>& backends,
                          RoutingSection& out);

}  // namespace replproxy::config::internal
