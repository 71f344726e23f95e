#include "config/sections.h"

namespace replproxy::config::internal {
namespace {

// More would be a configuration mistake rather than a machine; each worker is a thread and a loop.
constexpr int64_t kMaxWorkers = 256;

constexpr EnumName<LogLevel> kLogLevels[] = {
    {"trace", LogLevel::trace}, {"debug", LogLevel::debug}, {"info", LogLevel::info},
    {"warn", LogLevel::warn},   {"error", LogLevel::error},
};

// The certificate and key only make sense as a pair, and require_tls without them would refuse
// every client.
void check_proxy_tls(TableReader& reader, const ProxySection& proxy) {
  const bool has_cert = reader.has("tls_cert");
  const bool has_key = reader.has("tls_key");
  if (has_cert && !has_key) {
    reader.error_at("tls_cert", "'tls_cert' is set but 'tls_key' is not: give both or neither");
  }
  if (has_key && !has_cert) {
    reader.error_at("tls_key", "'tls_key' is set but 'tls_cert' is not: give both or neither");
  }
  if (proxy.require_tls && !(has_cert && has_key)) {
    reader.error_at("require_tls", "'require_tls = true' needs 'tls_cert' and 'tls_key'");
  }
}

// The version is sent as a NUL-terminated string in the handshake.
void check_server_version(TableReader& reader, const std::string& version) {
  if (version.find('\0') != std::string::npos) {
    reader.error_at("server_version", "'server_version' must not contain NUL characters");
  }
}

}  // namespace

void read_proxy_section(TableReader& top, ProxySection& out) {
  const toml::table* table = top.read_table("proxy");
  if (table == nullptr) {
    return;
  }
  TableReader reader(*table, "[proxy]", top.diagnostics());
  reader.read("listen", out.listen, HostKind::ip_literal);
  reader.read("workers", out.workers, 0, kMaxWorkers);
  reader.read_non_empty("tls_cert", out.tls_cert);
  reader.read_non_empty("tls_key", out.tls_key);
  reader.read("require_tls", out.require_tls);
  reader.read("max_connections", out.max_connections, 1, kU32Max);
  reader.read("connect_timeout_ms", out.connect_timeout_ms, 1, kU32Max);
  reader.read("shutdown_grace_ms", out.shutdown_grace_ms, 0, kU32Max);
  if (reader.read_non_empty("server_version", out.server_version)) {
    check_server_version(reader, out.server_version);
  }
  check_proxy_tls(reader, out);
  reader.report_unknown_keys();
}

void read_log_section(TableReader& top, LogSection& out) {
  const toml::table* table = top.read_table("log");
  if (table == nullptr) {
    return;
  }
  TableReader reader(*table, "[log]", top.diagnostics());
  read_enum(reader, "level", kLogLevels, out.level);
  reader.report_unknown_keys();
}

}  // namespace replproxy::config::internal
