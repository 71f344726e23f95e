// The [admin] table: the admin SQL listener and its account.

#include "config/sections.h"

namespace replproxy::config::internal {

void read_admin_section(TableReader& top, AdminSection& out) {
  const toml::table* table = top.read_table("admin");
  if (table == nullptr) {
    return;
  }
  out.enabled = true;
  TableReader reader(*table, "[admin]", top.diagnostics());
  reader.read("listen", out.listen, HostKind::ip_literal);
  if (reader.require("user")) {
    reader.read_non_empty("user", out.user.name);
  }
  read_password(reader, out.user);
  reader.report_unknown_keys();
}

}  // namespace replproxy::config::internal
