#pragma once

// The statements a replica sends to its primary while it connects (docs/relay-protocol.md has the
// sequence a MariaDB 10.11 replica sends, observed against a real primary), answered the way a
// MariaDB primary answers them. Pure logic: the replica server's session thread turns the answer
// into packets. Anything else gets a clear error instead of a made-up result: the relay's port is
// a replication port, not a SQL server.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/resultset.h"

namespace replproxy::relay {

// What a replica set with `SET @...` on its connection; the dump reads it.
struct ReplicaSessionVars {
  // @master_heartbeat_period, in nanoseconds (0: no heartbeats).
  uint64_t heartbeat_period_ns = 0;
  // @master_binlog_checksum as the replica set it ("CRC32", "NONE"); nullopt when never set, i.e.
  // a replica that does not understand checksums.
  std::optional<std::string> binlog_checksum;
  // @slave_connect_state: the GTID position to start from (MASTER_USE_GTID); nullopt when unset.
  std::optional<std::string> connect_state;
  // @rpl_semi_sync_slave or @rpl_semi_sync_replica = 1.
  bool semi_sync = false;
  uint32_t slave_capability = 0;  // @mariadb_slave_capability
  std::map<std::string, std::string> others;  // every other @variable, lower-case name
};

// What the relay reports about itself in those answers.
struct RelayFacts {
  uint32_t server_id = 0;
  std::string version;          // VERSION(), without the "5.5.5-" prefix
  bool checksums = true;        // the stored events carry a CRC32 (@@binlog_checksum)
  std::string gtid_binlog_pos;  // the store's GTID position
  std::string current_file;     // SHOW MASTER STATUS
  uint64_t current_position = 0;
  std::vector<std::pair<std::string, uint64_t>> files;  // SHOW BINARY LOGS: name, size
  int64_t now_s = 0;            // UNIX_TIMESTAMP()
};

struct QueryAnswer {
  enum class Kind : uint8_t { ok, rows, error, kill };
  Kind kind = Kind::ok;
  std::vector<std::string> columns;    // rows
  std::vector<protocol::TextRow> rows;  // rows
  uint16_t error_code = 0;             // error
  std::string sql_state;               // error
  std::string message;                 // error
  uint64_t kill_id = 0;                // kill: the connection id named by KILL
};

// Answers one COM_QUERY of a replica connection, updating `vars` for a SET.
QueryAnswer answer_replica_query(std::string_view sql, ReplicaSessionVars& vars,
                                 const RelayFacts& facts);

}  // namespace replproxy::relay
