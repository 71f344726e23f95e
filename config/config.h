#pragma once

// The validated, immutable configuration. config/ is the only module that reads TOML; every other
// module receives these plain structs. The TOML key names are part of the product's contract.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/auth.h"

namespace replproxy::config {

struct Address {
  std::string host;  // an IP literal for listeners; a host name or IP literal for backends
  uint16_t port = 0;

  std::string to_string() const;  // "host:port", IPv6 as "[::1]:port"
  bool operator==(const Address&) const = default;
};

// [proxy]
struct ProxySection {
  Address listen{"127.0.0.1", 6033};
  uint32_t workers = 0;  // 0: one per core
  std::string tls_cert;  // both set: clients may use TLS
  std::string tls_key;
  bool require_tls = false;
  uint32_t max_connections = 10000;  // beyond it clients get ERR 1040
  uint32_t connect_timeout_ms = 5000;  // backend TCP connect + login
  uint32_t shutdown_grace_ms = 10000;  // in-flight queries may finish for this long on SIGTERM
  // Version announced to clients before a backend was reached; afterwards the backend's own.
  std::string server_version = "5.5.5-10.11.0-MariaDB-replproxy";
};

enum class LogLevel { trace, debug, info, warn, error };

// [log]
struct LogSection {
  LogLevel level = LogLevel::info;
};

// [[users]]: one of `password` or `password_hash` ("*" + 40 hex digits, as in mysql.user).
struct User {
  std::string name;
  std::optional<std::string> password;  // plaintext when given
  protocol::Sha1Digest password_stage2{};  // SHA1(SHA1(password)), always set
};

enum class BackendRole { primary, replica };

// [[backends]]
struct Backend {
  std::string name;
  Address address;
  BackendRole role = BackendRole::primary;
  uint32_t weight = 1;
  bool tls = false;        // TLS to this backend, required (never a silent plaintext fallback)
  std::string tls_ca;      // CA file to verify the server certificate
  bool tls_verify = true;  // verify the certificate chain (and host name when it is not an IP)
  // Overrides [health] max_replication_lag_ms for this backend when set.
  std::optional<uint32_t> max_replication_lag_ms;
};

// What a read does when no replica is usable.
enum class ReadFallback {
  primary,  // run it on the primary
  error,    // refuse it with an ERR, keeping read load off the primary
};

// What a session reads after it wrote.
enum class Consistency {
  read_your_writes,  // a replica read first waits for the session's last write (by GTID)
  eventual,          // replicas serve reads at once, possibly before the write reached them
  primary,           // once a session has written, its reads go to the primary
};

enum class RuleTarget { primary, replica, backend };

// [[routing.rules]]: tried in order before the automatic classification; the first rule whose
// conditions all hold decides. At least one condition is present.
struct RoutingRule {
  std::optional<std::string> user;    // the session's user, exactly
  std::optional<std::string> schema;  // the session's current schema, exactly
  // An RE2 pattern searched (unanchored, case-insensitive) in the statement text; valid, since
  // it was compiled at load. router/ compiles it again with config::rule_pattern_options().
  std::optional<std::string> match;
  RuleTarget target = RuleTarget::primary;
  std::string backend;  // the backend's name when target is RuleTarget::backend; it exists
  uint32_t line = 0;    // where the rule is in the file, for logs
};

// [routing]
struct RoutingSection {
  ReadFallback read_fallback = ReadFallback::primary;
  // An autocommit read whose replica failed before any byte of the result reached the client is
  // retried once on another fit replica (or as read_fallback says).
  bool retry_reads = true;
  Consistency consistency = Consistency::read_your_writes;
  // With read_your_writes, how long a replica may take to catch up with the session's last write
  // before the read goes to the primary instead.
  uint32_t causal_read_timeout_ms = 1000;
  // Session state (USE, SET) statements remembered for replay on new backend connections, after
  // deduplication; beyond it the session is pinned to the primary.
  uint32_t max_session_history = 64;
  std::vector<RoutingRule> rules;
};

enum class TopologyMode {
  replication,    // one primary (writable, replicating from no configured backend) and replicas
  master_master,  // two servers replicating from each other; one writer at a time
  galera,         // a Galera cluster: one writer node, the other synced nodes serve reads
};

// [health]: present means the health checker runs; absent means the configured roles are used
// as they are (a backend that cannot be connected to is then skipped for a while).
struct HealthSection {
  bool enabled = false;  // the [health] table is present
  std::string user;      // the monitoring account (needs SLAVE MONITOR / REPLICA MONITOR, and
  std::string password;  // CREATE/INSERT/UPDATE on heartbeat_schema for the heartbeat)
  uint32_t interval_ms = 500;             // probe interval
  uint32_t probe_timeout_ms = 1000;       // connect/read/write timeout of one probe
  uint32_t max_replication_lag_ms = 1000;  // default; [[backends]] max_replication_lag_ms overrides
  uint32_t recover_probes = 3;            // good probes before an unfit replica serves again
  bool heartbeat = true;                  // measure lag in ms from a heartbeat table
  uint32_t heartbeat_interval_ms = 250;
  std::string heartbeat_schema = "replproxy";
  std::string heartbeat_table = "heartbeat";
  bool exclude_errant = true;  // keep replicas with errant GTIDs out of reads
  TopologyMode topology = TopologyMode::replication;
};

// [admin]: present means the admin SQL listener runs on its own loop. Its one account is separate
// from [[users]]: application users cannot log in there, and it cannot use the client port unless
// it is also listed in [[users]].
struct AdminSection {
  bool enabled = false;  // the [admin] table is present
  Address listen{"127.0.0.1", 6032};
  User user;  // `user` and one of `password` / `password_hash`
};

// [metrics]: present means the Prometheus endpoint (HTTP GET /metrics) runs. It has no account,
// so its default address is loopback like the admin listener's.
struct MetricsSection {
  bool enabled = false;  // the [metrics] table is present
  Address listen{"127.0.0.1", 9033};
};

// When the relay makes its binlog durable (fdatasync), which is also when it acknowledges semi-sync.
enum class RelaySync {
  every_event,  // after each event
  group,        // events arriving within group_sync_us share one fdatasync
  none,         // never: the page cache only; semi-sync is then never acknowledged
};

// [relay]: present (and enabled) means the embedded binlog relay runs on the relay loop. It
// replicates from `source`, stores a standard binlog under `datadir` and serves replicas on
// `listen`.
struct RelaySection {
  bool enabled = false;  // the [relay] table is present and `enabled` is not false
  Address listen{"127.0.0.1", 6034};
  uint32_t server_id = 0;  // required: the id toward the primary and announced to replicas
  std::string datadir;     // required
  // "primary": the current primary as health sees it; "backend:NAME": that backend, always.
  bool follow_primary = true;
  std::string source_backend;  // the backend's name when !follow_primary; it exists
  std::string upstream_user;   // required; the account needs REPLICATION SLAVE
  std::string upstream_password;
  bool upstream_tls = false;
  std::string upstream_tls_ca;
  bool upstream_tls_verify = true;
  bool semi_sync = false;
  RelaySync sync = RelaySync::group;
  uint32_t group_sync_us = 500;
  uint64_t max_file_size = uint64_t{1} << 30;  // rotation size, at transaction boundaries
  double expire_logs_days = 0;  // purge files older than this; 0: never by age
  uint64_t max_total_size = 0;  // purge the oldest files beyond this total; 0: never by size
  // The heartbeat period requested from the primary; twice it without a byte means the link is
  // dead and the relay reconnects.
  uint32_t upstream_heartbeat_ms = 1000;
  uint32_t upstream_retry_ms = 1000;  // wait between reconnection attempts
  std::string tls_cert;  // both set: replicas may connect to the relay with TLS
  std::string tls_key;
  bool require_tls = false;
  std::vector<User> users;  // [[relay.users]]: the accounts replicas log in with
};

enum class TunnelMode {
  plain_to_tls,  // local clients speak plaintext; the tunnel adds TLS towards `connect`
  tls_to_plain,  // clients arrive over TLS; the tunnel terminates it and forwards plaintext
};

enum class TunnelProtocol {
  mysql,  // TLS is negotiated in-band (greeting with CLIENT_SSL, SSLRequest), as servers expect
  tcp,    // TLS from the first byte on the TLS side (a tunnel pair between two sites)
};

// [[tunnels]] (config/tunnels.cpp): a TCP link that gains or loses TLS on one side. The
// certificate files are loaded when the tunnel starts; one that cannot be read stops the start.
struct Tunnel {
  std::string name;
  Address listen;   // an IP literal, unique among the proxy's listeners
  Address connect;  // a host name or an IP literal
  TunnelMode mode = TunnelMode::plain_to_tls;
  TunnelProtocol protocol = TunnelProtocol::mysql;
  // plain-to-tls: the CA that verifies the server (system store when empty); tls-to-plain: the CA
  // that verifies client certificates (required when tls_verify).
  std::string tls_ca;
  bool tls_verify = true;
  std::string tls_cert;  // tls-to-plain: required, the certificate offered to clients;
  std::string tls_key;   // plain-to-tls: an optional client certificate
  uint32_t connect_timeout_ms = 5000;  // TCP connect and the TLS setup until data flows
  uint32_t line = 0;                   // where the entry is in the file, for logs

  bool operator==(const Tunnel&) const = default;
};

struct Config {
  std::string source_path;  // the file it came from, for RELOAD CONFIG and messages
  ProxySection proxy;
  LogSection log;
  std::vector<User> users;
  std::vector<Backend> backends;
  RoutingSection routing;
  HealthSection health;
  AdminSection admin;
  MetricsSection metrics;
  RelaySection relay;
  std::vector<Tunnel> tunnels;

  const User* find_user(std::string_view name) const;
  const Backend* find_backend(std::string_view name) const;
};

// Every problem found, each as "FILE:LINE: what is wrong" (LINE is the line of the offending key
// or table, or of the table a missing key belongs to).
struct ConfigErrors {
  std::vector<std::string> messages;
};

// Parses and validates TOML text; `source_name` is the file name used in messages.
std::expected<Config, ConfigErrors> parse_config(std::string_view text,
                                                 std::string_view source_name);
// Reads and parses a file; an unreadable file is one error "FILE: cannot read: reason".
std::expected<Config, ConfigErrors> load_config_file(const std::string& path);

// Parses "HOST:PORT" by the rules of a backend's `address` (HOST a host name or an IP literal,
// IPv6 as "[::1]:3306"), for addresses given on the command line such as --ping's. On failure,
// the reason, e.g. "expected HOST:PORT".
std::expected<Address, std::string> parse_host_port(std::string_view text);

}  // namespace replproxy::config
