#pragma once

// MySQL's GTID set: what a MySQL replica sends in COM_BINLOG_DUMP_GTID to say which transactions
// it already has. (MariaDB's GTIDs are domain-server-sequence triples with a text form only, sent
// as @slave_connect_state; they are not this.) Debian ships no MySQL server, so this codec is
// tested against the MySQL docs and source comments only.
//
// Binary form (Gtid_set::encode in the MySQL server, little-endian):
//
//   field         width  notes
//   n_sids        8      (the MySQL internals docs say 4; the server writes and reads 8)
//   per sid:
//     sid         16     the source UUID, bytes in text order
//     n_intervals 8
//     per interval:
//       start     8      signed, >= 1
//       end       8      signed, exclusive: the interval is [start, end), start < end
//
// Text form: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,<uuid2>:1-3", each interval inclusive
// ("7" alone is 7-7). MySQL 8.3's tagged GTIDs ("<uuid>:tag:1-5") are not supported.
//
// A set is valid when every interval is non-empty, starts at 1 or later, the intervals of one
// sid ascend without overlapping (adjacent is allowed: nothing is merged), and no sid appears
// twice. The decoder and the parser reject invalid sets; the order of the sids is kept as given.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/wire.h"

namespace replproxy::protocol {

struct MySqlGtidInterval {
  int64_t start = 0;  // first transaction number in the interval
  int64_t end = 0;    // one past the last

  bool operator==(const MySqlGtidInterval&) const = default;
};

struct MySqlGtidSid {
  std::array<uint8_t, 16> uuid{};
  std::vector<MySqlGtidInterval> intervals;

  bool operator==(const MySqlGtidSid&) const = default;
};

struct MySqlGtidSet {
  std::vector<MySqlGtidSid> sids;

  bool operator==(const MySqlGtidSet&) const = default;
};

// The binary form. Running out of bytes is not_enough_input, an invalid set or bytes left over
// invalid_input.
Result<MySqlGtidSet> decode_mysql_gtid_set(ByteView data);
void encode_mysql_gtid_set(const MySqlGtidSet& set, Bytes& out);

// The text form. UUIDs are case-insensitive; whitespace around the sid entries is skipped (MySQL
// prints ",\n" between them). The empty string is the empty set. Any malformed or invalid text is
// invalid_input, a tagged GTID unsupported.
Result<MySqlGtidSet> parse_mysql_gtid_set(std::string_view text);
// Lowercase UUIDs, "," between sids.
std::string format_mysql_gtid_set(const MySqlGtidSet& set);

// True when `set` satisfies the rules above.
bool is_valid_mysql_gtid_set(const MySqlGtidSet& set);

}  // namespace replproxy::protocol
