#pragma once
// What one probe of one backend found: plain data filled by the prober (health/prober.*) from a
// real server, and read by the pure topology decision (health/topology.*). Nothing here does I/O.

#include <cstdint>
#include <optional>
#include <string>

namespace replproxy::health {

// The replica side of SHOW REPLICA STATUS / SHOW SLAVE STATUS, with MariaDB and MySQL column
// names folded into one set of fields (see parse_replica_status in health/replica_status.h).
struct ReplicaStatus {
  std::string source_host;  // Master_Host / Source_Host
  uint16_t source_port = 0;  // Master_Port / Source_Port
  // Master_Server_Id / Source_Server_Id: the source's @@server_id once the IO thread has connected
  // (0 before). Identifies the source when its host name does not match a configured address.
  uint32_t source_server_id = 0;
  bool io_running = false;   // Slave_IO_Running / Replica_IO_Running == "Yes"
  bool sql_running = false;  // Slave_SQL_Running / Replica_SQL_Running == "Yes"
  // Seconds_Behind_Master / Seconds_Behind_Source; nullopt when NULL (replication not running).
  std::optional<uint64_t> seconds_behind;
  std::string last_io_error;   // Last_IO_Error
  std::string last_sql_error;  // Last_SQL_Error
  std::string gtid_io_pos;     // MariaDB Gtid_IO_Pos; MySQL Retrieved_Gtid_Set
  std::string executed_gtid_set;  // MySQL Executed_Gtid_Set (empty on MariaDB)
};

// Galera status variables (SHOW GLOBAL STATUS LIKE 'wsrep_%'); absent on non-Galera servers.
struct GaleraStatus {
  uint32_t local_state = 0;     // wsrep_local_state: 4 = Synced
  std::string cluster_status;   // wsrep_cluster_status: "Primary", "non-Primary", ...
  bool ready = false;           // wsrep_ready == ON
  bool desync = false;          // wsrep_desync == ON (a variable, not a status)
};

struct ProbeResult {
  bool reachable = false;  // connected, logged in and answered every query below
  std::string error;       // why not reachable (or why a part of the probe failed), for the admin view
  int64_t probed_at_us = 0;  // wall clock (microseconds since the epoch) when the probe finished

  std::string version;  // SELECT VERSION()
  bool is_mariadb = true;
  uint32_t server_id = 0;     // @@server_id
  bool read_only = true;      // @@read_only
  bool super_read_only = false;  // @@super_read_only where it exists (MySQL)

  // Replica status; nullopt when the server replicates from nobody (no row).
  std::optional<ReplicaStatus> replica;

  // GTID state: MariaDB @@gtid_current_pos and @@gtid_binlog_pos; MySQL @@gtid_executed (in
  // gtid_executed, and both MariaDB fields empty).
  std::string gtid_current_pos;
  std::string gtid_binlog_pos;
  std::string gtid_binlog_state;  // MariaDB: the last GTID per (domain, server id) in its binlog
  std::string gtid_executed;
  std::string server_uuid;  // MySQL @@server_uuid

  // Semi-sync on a primary: Rpl_semi_sync_master_status (MariaDB) / _source_status (MySQL).
  std::optional<bool> semi_sync_primary_on;
  std::optional<uint32_t> semi_sync_clients;

  std::optional<GaleraStatus> galera;

  // Heartbeat lag: now - the newest heartbeat row this server has, in milliseconds; nullopt when
  // the heartbeat is off, not readable, or this is the server writing it.
  std::optional<int64_t> heartbeat_lag_ms;
  // The auto_increment settings, for the master-master warning.
  uint32_t auto_increment_increment = 1;
  uint32_t auto_increment_offset = 1;
};

}  // namespace replproxy::health
