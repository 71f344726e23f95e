#pragma once

// MariaDB global transaction ids and positions, in their text form ("0-1-42", as in
// @@gtid_current_pos, MASTER_GTID_POS and the last_gtid session tracker) and as the binlog's
// GTID_LIST_EVENT carries them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/error.h"

namespace replproxy::protocol::binlog {

// domain_id-server_id-seq_no, each a decimal number (32, 32 and 64 bits).
struct Gtid {
  uint32_t domain_id = 0;
  uint32_t server_id = 0;
  uint64_t seq_no = 0;

  std::string to_string() const;
  bool operator==(const Gtid&) const = default;
};

// Parses "D-S-N" exactly (no sign, no spaces, no overflow); invalid_input otherwise.
Result<Gtid> parse_gtid(std::string_view text);

// A MariaDB GTID position: at most one GTID per replication domain, kept ordered by domain id
// (the text form lists them that way, so equal positions print equally).
class GtidPosition {
 public:
  GtidPosition() = default;

  // "0-1-5,1-2-3"; the empty string (or only whitespace) is the empty position. Whitespace
  // around entries is tolerated; an empty entry, a malformed GTID or a second GTID for the same
  // domain is invalid_input.
  static Result<GtidPosition> parse(std::string_view text);

  // Comma-separated, ordered by domain, no spaces; "" for the empty position.
  std::string to_string() const;

  // Sets `gtid` as its domain's entry, replacing whatever that domain had.
  void update(const Gtid& gtid);
  std::optional<Gtid> find(uint32_t domain_id) const;
  // True when the position's entry for gtid's domain has a sequence number >= gtid.seq_no, i.e.
  // a server at this position has already applied it.
  bool includes(const Gtid& gtid) const;

  bool empty() const { return gtids_.empty(); }
  const std::vector<Gtid>& gtids() const { return gtids_; }

  bool operator==(const GtidPosition&) const = default;

 private:
  std::vector<Gtid> gtids_;  // sorted by domain_id, unique
};

}  // namespace replproxy::protocol::binlog
