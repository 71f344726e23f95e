// The [[tunnels]] array: TCP links that gain TLS on one side (relay/tunnel.h runs them).

#include <algorithm>
#include <cctype>

#include "config/sections.h"

namespace replproxy::config::internal {
namespace {

constexpr EnumName<TunnelMode> kTunnelModes[] = {
    {"plain-to-tls", TunnelMode::plain_to_tls},
    {"tls-to-plain", TunnelMode::tls_to_plain},
};

constexpr EnumName<TunnelProtocol> kTunnelProtocols[] = {
    {"mysql", TunnelProtocol::mysql},
    {"tcp", TunnelProtocol::tcp},
};

// A listener already claimed, and by what, for the message about a second one.
struct Claimed {
  Address address;
  std::string owner;  // "[proxy] listen", "tunnel 'to-dc2' (line 12)"
};

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

// Two listeners collide on the same port when their hosts are equal or one is a wildcard (it
// binds every address of its family, so the other bind fails with EADDRINUSE).
bool collides(const Address& a, const Address& b) {
  return a.port == b.port && (a.host == b.host || is_wildcard(a.host) || is_wildcard(b.host));
}

std::vector<Claimed> proxy_listeners(const Config& config) {
  std::vector<Claimed> claimed{{config.proxy.listen, "[proxy] listen"}};
  if (config.admin.enabled) {
    claimed.push_back({config.admin.listen, "[admin] listen"});
  }
  if (config.metrics.enabled) {
    claimed.push_back({config.metrics.listen, "[metrics] listen"});
  }
  if (config.relay.enabled) {
    claimed.push_back({config.relay.listen, "[relay] listen"});
  }
  return claimed;
}

bool is_tunnel_name(std::string_view name) {
  return std::ranges::all_of(name, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
  });
}

void read_name(TableReader& reader, const std::vector<Tunnel>& earlier, Tunnel& tunnel) {
  if (!reader.require("name") || !reader.read_non_empty("name", tunnel.name)) {
    return;
  }
  if (!is_tunnel_name(tunnel.name)) {
    reader.error_at("name", "tunnel name " + quoted(tunnel.name) +
                                " is invalid: use only letters, digits, '_', '.' and '-'");
    return;
  }
  const auto it = std::ranges::find(earlier, tunnel.name, &Tunnel::name);
  if (it != earlier.end()) {
    reader.error_at("name", "duplicate tunnel name " + quoted(tunnel.name) +
                                " (first defined at line " + std::to_string(it->line) + ")");
  }
}

void check_listen(TableReader& reader, const Tunnel& tunnel, std::vector<Claimed>& claimed) {
  const auto it = std::ranges::find_if(
      claimed, [&](const Claimed& c) { return collides(c.address, tunnel.listen); });
  if (it != claimed.end()) {
    reader.error_at("listen", "'listen' " + quoted(tunnel.listen.to_string()) +
                                  " is already used by " + it->owner);
    return;
  }
  claimed.push_back({tunnel.listen, "tunnel " + quoted(tunnel.name) + " (line " +
                                        std::to_string(reader.line_of("listen")) + ")"});
}

// The certificate and key only make sense as a pair; tls-to-plain cannot terminate TLS without
// them, and cannot verify client certificates without a CA (there is no system store for them).
void check_tls(TableReader& reader, const Tunnel& tunnel, bool mode_valid) {
  const bool has_cert = reader.has("tls_cert");
  const bool has_key = reader.has("tls_key");
  if (has_cert && !has_key) {
    reader.error_at("tls_cert", "'tls_cert' is set but 'tls_key' is not: give both or neither");
  }
  if (has_key && !has_cert) {
    reader.error_at("tls_key", "'tls_key' is set but 'tls_cert' is not: give both or neither");
  }
  if (!mode_valid || tunnel.mode != TunnelMode::tls_to_plain) {
    return;
  }
  if (!has_cert && !has_key) {
    reader.error_at("mode",
                    "mode 'tls-to-plain' needs 'tls_cert' and 'tls_key': the certificate the "
                    "tunnel offers to its clients");
  }
  if (tunnel.tls_verify && !reader.has("tls_ca")) {
    reader.error_at(reader.has("tls_verify") ? "tls_verify" : "mode",
                    "mode 'tls-to-plain' with 'tls_verify = true' verifies client certificates "
                    "and needs 'tls_ca' (or set 'tls_verify = false')");
  }
}

void read_tunnel(TableReader& reader, const std::vector<Tunnel>& earlier, Tunnel& tunnel,
                 std::vector<Claimed>& claimed) {
  tunnel.line = reader.line();
  read_name(reader, earlier, tunnel);
  if (reader.require("listen") && reader.read("listen", tunnel.listen, HostKind::ip_literal)) {
    check_listen(reader, tunnel, claimed);
  }
  if (reader.require("connect")) {
    reader.read("connect", tunnel.connect, HostKind::name_or_ip);
  }
  const bool mode_valid =
      reader.require("mode") && read_enum(reader, "mode", kTunnelModes, tunnel.mode);
  read_enum(reader, "protocol", kTunnelProtocols, tunnel.protocol);
  reader.read_non_empty("tls_ca", tunnel.tls_ca);
  const bool verify_valid = reader.read("tls_verify", tunnel.tls_verify) || !reader.has("tls_verify");
  reader.read_non_empty("tls_cert", tunnel.tls_cert);
  reader.read_non_empty("tls_key", tunnel.tls_key);
  reader.read("connect_timeout_ms", tunnel.connect_timeout_ms, 1, kU32Max);
  if (verify_valid) {
    check_tls(reader, tunnel, mode_valid);
  }
}

}  // namespace

void read_tunnels(TableReader& top, const Config& config, std::vector<Tunnel>& out) {
  const toml::node* node = top.find("tunnels");
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    top.error_at("tunnels", "'tunnels' must be an array of tables, as in [[tunnels]]");
    return;
  }
  std::vector<Claimed> claimed = proxy_listeners(config);
  for (const toml::node& entry : *array) {
    const toml::table* table = entry.as_table();
    if (table == nullptr) {
      top.error(entry.source().begin.line, "each entry of 'tunnels' must be a table");
      continue;
    }
    TableReader reader(*table, "[[tunnels]]", top.diagnostics());
    Tunnel tunnel;
    read_tunnel(reader, out, tunnel, claimed);
    reader.report_unknown_keys();
    out.push_back(std::move(tunnel));
  }
}

}  // namespace replproxy::config::internal
