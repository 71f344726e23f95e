// The [metrics] table: the Prometheus endpoint.

#include "config/sections.h"

namespace replproxy::config::internal {

void read_metrics_section(TableReader& top, MetricsSection& out) {
  const toml::table* table = top.read_table("metrics");
  if (table == nullptr) {
    return;
  }
  out.enabled = true;
  TableReader reader(*table, "[metrics]", top.diagnostics());
  reader.read("listen", out.listen, HostKind::ip_literal);
  reader.report_unknown_keys();
}

}  // namespace replproxy::config::internal
