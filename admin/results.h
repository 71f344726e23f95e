#pragma once

// The admin commands' result sets, built as plain tables from plain inputs (the config, the
// health snapshot, summed counters), so that their rows are unit-tested without a socket.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "health/snapshot.h"
#include "protocol/resultset.h"

namespace replproxy::admin {

struct Table {
  std::vector<std::string> columns;
  std::vector<protocol::TextRow> rows;
};

struct Stat {
  std::string name;
  uint64_t value = 0;
};

// What the workers did with one backend, summed over them.
struct BackendTraffic {
  uint64_t connections = 0;  // backend connections open now
  uint64_t queries = 0;      // commands forwarded to it
  uint64_t errors = 0;       // failed logins and connections lost
};

// Why a tunnel connection failed, as the `reason` label of replproxy_tunnel_failures_total says.
enum class TunnelFailure : uint8_t {
  connect,   // the `connect` address could not be reached in time
  tls,       // the TLS handshake failed (certificate, protocol), on either side
  protocol,  // the MySQL login did not go as the mode needs (no CLIENT_SSL, no SSLRequest...)
};
inline constexpr size_t kTunnelFailureCount = 3;
inline constexpr std::string_view kTunnelFailureNames[kTunnelFailureCount] = {"connect", "tls",
                                                                              "protocol"};

// One [[tunnels]] entry and what it carried since the start. "to_server" is the direction from
// the tunnel's clients (the `listen` side) to `connect`; "to_client" the other one. Bytes are
// payload bytes, counted before encryption or after decryption.
struct TunnelStatus {
  std::string name;
  std::string mode;      // "plain-to-tls" or "tls-to-plain"
  std::string protocol;  // "mysql" or "tcp"
  std::string listen;
  std::string connect;
  uint64_t connections_active = 0;
  uint64_t connections_total = 0;  // accepted
  std::array<uint64_t, kTunnelFailureCount> failures{};  // by TunnelFailure
  uint64_t bytes_to_server = 0;
  uint64_t bytes_to_client = 0;

  uint64_t connections_failed() const { return failures[0] + failures[1] + failures[2]; }
};

// SHOW TUNNELS: one row per tunnel, in config order.
Table tunnels_table(const std::vector<TunnelStatus>& tunnels);

// The embedded binlog relay ([relay]): its upstream link, its store and its semi-sync ACKs.
struct RelayStatus {
  std::string state;  // "streaming", "connecting", "refused", "waiting for a primary", ...
  std::string source;   // the backend it replicates from
  std::string address;
  std::string last_error;
  std::string gtid_position;  // of the complete groups stored
  std::string current_file;
  uint64_t current_position = 0;
  uint64_t files = 0;
  uint64_t bytes_stored = 0;  // the files' sizes
  uint64_t events_received = 0;
  uint64_t bytes_received = 0;
  uint64_t checksum_errors = 0;
  uint64_t stream_errors = 0;
  uint64_t connects = 0;
  std::string sync;  // "every_event", "group", "none"
  bool semi_sync_enabled = false;  // [relay] semi_sync
  bool semi_sync_active = false;   // the primary asks this link for ACKs now
  uint64_t acks_requested = 0;
  uint64_t acks_sent = 0;
  uint64_t ack_p50_us = 0;  // upper bounds of histogram buckets
  uint64_t ack_p99_us = 0;
  uint64_t ack_count = 0;
  uint64_t ack_sum_us = 0;
  uint64_t fsyncs = 0;
  uint64_t files_purged = 0;
  uint64_t replicas = 0;  // connected now
  uint64_t replica_connections = 0;
  uint64_t events_sent = 0;
  uint64_t bytes_sent = 0;
};

// One replica connected to the relay.
struct RelayReplicaStatus {
  uint64_t id = 0;  // the dump connection's id (KILL takes it)
  uint32_t server_id = 0;
  std::string address;
  std::string user;
  std::string gtid_state;  // where it asked to start
  std::string file;
  uint64_t position = 0;
  std::string last_gtid;
  int64_t lag_seconds = 0;  // newest stored event's timestamp minus the last one sent
  bool semi_sync = false;
  uint64_t acks = 0;
  uint64_t events = 0;
  int64_t connected_seconds = 0;
};

// SHOW RELAY STATUS: one row; `enabled` false gives the row with state "disabled".
Table relay_status_table(const RelayStatus* status);
// SHOW RELAY REPLICAS: one row per connected replica, by id.
Table relay_replicas_table(const std::vector<RelayReplicaStatus>& replicas);

// SHOW BACKENDS: one row per configured backend. `snapshot` is null without [health] (or before
// its first round): roles then come from the config and the state is 'unknown'. `traffic` is by
// backend index (missing entries count as zero). A backend in maintenance that still has
// connections open shows as 'draining': its sessions' transactions are finishing.
Table backends_table(const config::Config& config, const health::Snapshot* snapshot,
                     const std::vector<BackendTraffic>& traffic = {});

// One client session as a worker saw it.
struct SessionInfo {
  uint32_t id = 0;
  std::string user;
  std::string client;  // address:port
  std::string schema;
  std::string state;   // the session's stage: idle, routing, forwarding...
  bool in_transaction = false;
  std::vector<std::string> backends;  // names of the backends it holds connections to
  std::string pinned;                 // why it stays on the primary, "" when it does not
  std::string statement;              // the command in flight (or the last one), truncated
  int64_t statement_ms = -1;          // how long the command in flight has run; -1 when idle
};

// SHOW SESSIONS / SHOW PROCESSLIST, ordered by id.
Table sessions_table(std::vector<SessionInfo> sessions);
// SHOW RULES: each [[routing.rules]] entry with its hits since it was loaded (`hits` by index).
Table rules_table(const config::Config& config, const std::vector<uint64_t>& hits);
// SHOW STATS [LIKE 'pattern']: name/value rows, in the order given; "" matches every name.
Table stats_table(const std::vector<Stat>& stats, std::string_view pattern);
// SHOW CONFIG: key/value rows of the effective config; passwords are shown as '****'.
Table config_table(const config::Config& config);
// HELP: a row per command (command, what it does), from help_text().
Table help_table();
// SHOW VERSION.
Table version_table(std::string_view version);
// The answer to SELECT @@version_comment.
Table version_comment_table(std::string_view version);

// A rule's target as written in the config: "primary", "replica", "backend:NAME".
std::string rule_target_text(const config::RoutingRule& rule);

// Microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC).
std::string iso_time(int64_t epoch_us);

}  // namespace replproxy::admin
