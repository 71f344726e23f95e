#pragma once
// GTID parsing and errant-transaction detection, for MariaDB GTID lists ("0-1-15,1-2-3") and
// MySQL GTID sets ("uuid:1-5:7-9,uuid2:1-3"). Pure functions over the strings the servers print.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "health/probe.h"

namespace replproxy::health {

// One MariaDB GTID: domain-server_id-sequence.
struct MariadbGtid {
  uint32_t domain = 0;
  uint32_t server_id = 0;
  uint64_t seq = 0;

  bool operator==(const MariadbGtid&) const = default;
};

// Parses a comma-separated GTID list as @@gtid_binlog_state and friends print it; "" is the empty
// list, and blanks around entries are ignored. An error names the bad entry.
std::expected<std::vector<MariadbGtid>, std::string> parse_mariadb_gtid_list(std::string_view text);
std::string to_string(const MariadbGtid& gtid);  // "0-1-15"

// An inclusive range of transaction numbers, first <= last.
struct GtidInterval {
  uint64_t first = 0;
  uint64_t last = 0;

  bool operator==(const GtidInterval&) const = default;
};

// The transactions of one source server in a MySQL GTID set: its server_uuid (lower case), the tag
// (MySQL 8.3+, "" for untagged GTIDs) and sorted, disjoint, non-adjacent intervals.
struct MysqlGtidSource {
  std::string uuid;
  std::string tag;
  std::vector<GtidInterval> intervals;

  bool operator==(const MysqlGtidSource&) const = default;
};

// Sorted by (uuid, tag), without empty sources.
using MysqlGtidSet = std::vector<MysqlGtidSource>;

// Parses @@gtid_executed text: "uuid:1-5:7,uuid2:tag:1-3", with any blanks and newlines MySQL
// puts after the commas; "" is the empty set. Overlapping intervals are merged.
std::expected<MysqlGtidSet, std::string> parse_mysql_gtid_set(std::string_view text);
// The set in MySQL's own notation, "uuid:1-5:7,uuid2:1-3" (no blanks).
std::string to_string(const MysqlGtidSet& set);
// The transactions of `a` that are not in `b`.
MysqlGtidSet subtract(const MysqlGtidSet& a, const MysqlGtidSet& b);

// The GTID state of a MariaDB server to compare: @@gtid_binlog_state (the last GTID of every
// domain and server id) when it is known, else @@gtid_binlog_pos, else @@gtid_current_pos.
std::string_view mariadb_gtid_state(const ProbeResult& probe);

// The replica's GTIDs that did not come from the primary, "" when there are none. A replica GTID
// d-s-n is errant when the primary's state has no entry for (d, s), or when s is the replica's own
// server id and the primary's (d, s) entry is below n. A higher sequence under another server id
// (the primary's own, typically) is not errant: the primary may have been probed before the
// replica.
std::expected<std::string, std::string> mariadb_errant_gtids(std::string_view primary_state,
                                                             std::string_view replica_state,
                                                             uint32_t replica_server_id);

// The replica's gtid_executed transactions that the primary's does not contain, ignoring those of
// the primary's own server_uuid (the primary may have been probed before the replica); "" when
// there are none.
std::expected<std::string, std::string> mysql_errant_gtids(std::string_view primary_executed,
                                                           std::string_view primary_uuid,
                                                           std::string_view replica_executed);

// Chooses the rule by the replica's flavour and reads the states from the two probes.
std::expected<std::string, std::string> errant_gtids(const ProbeResult& primary,
                                                     const ProbeResult& replica);

}  // namespace replproxy::health
