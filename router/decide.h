#pragma once

// Routing policy: where one classified statement of a session runs. Pure: no I/O, no clock, no
// logging; the caller logs what the Target's flags say is worth logging.
//
// In order:
//  1. A replproxy hint in the statement overrides everything, transactions included: the
//     application asked for it explicitly.
//  2. What the session holds on one backend keeps it there: inside a transaction (the server's
//     SERVER_STATUS_IN_TRANS, or autocommit off) everything goes to the primary, except a
//     START TRANSACTION READ ONLY pinned to a replica, whose statements follow it; table locks
//     and a pinned session (session-state history overflow) stay on the primary too.
//  3. Routing rules, in order; the first whose user, schema and pattern all match decides.
//  4. The classification: writes to the primary; LAST_INSERT_ID() where the session's inserts
//     ran; with temporary tables, reads to the primary; FOUND_ROWS(), ROW_COUNT() and
//     diagnostics where the previous statement ran; session-state statements (SET, USE) where
//     the session last ran (the caller replays them elsewhere); with consistency = "primary",
//     reads after a write to the primary; other reads round-robin over the usable replicas.
// A read with no usable replica goes to the primary (read_fallback = "primary") or gets an
// error ("error"). Nothing that is not a read ever goes to a replica: a hint, a rule or a
// read-only transaction that would send one there sends it to the primary and says so.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "config/config.h"
#include "router/classifier.h"
#include "router/rules.h"
#include "router/topology.h"

namespace replproxy::router {

// The parts of a client session's state that routing depends on.
struct SessionView {
  bool in_transaction = false;  // SERVER_STATUS_IN_TRANS of the last OK/EOF
  bool autocommit = true;       // SERVER_STATUS_AUTOCOMMIT of the last OK/EOF
  // The replica that runs the session's START TRANSACTION READ ONLY, until it ends.
  std::optional<size_t> read_only_transaction_on;
  bool has_temp_tables = false;
  bool holds_table_locks = false;      // from LOCK TABLES to UNLOCK TABLES
  bool pinned_to_primary = false;      // e.g. the session-state history overflowed
  bool has_written = false;            // a write ran in this session (for consistency = "primary")
  std::optional<size_t> last_backend;  // where the previous statement ran
  std::string_view user;
  std::string_view schema;
};

// Errors decide() may return, as (code, SQLSTATE).
namespace route_error {
// ER_UNKNOWN_ERROR: no replica for a read and read_fallback = "error".
inline constexpr uint16_t kNoReplica = 1105;
// ER_OPTION_PREVENTS_STATEMENT, which drivers read as "this server takes no writes now".
inline constexpr uint16_t kNoPrimary = 1290;
// ER_LOCK_DEADLOCK, 40001: the replica of a read-only transaction went away, so the transaction
// is lost; applications and frameworks retry a transaction on this code.
inline constexpr uint16_t kTransactionLost = 1213;
}  // namespace route_error

struct Target {
  enum class Kind : uint8_t {
    primary,  // the primary, backends[backend]
    replica,  // a replica, backends[backend]
    backend,  // a backend named by a hint or rule, backends[backend]
    error,    // send this error to the client instead
  };
  enum class Source : uint8_t { automatic, hint, rule };

  Kind kind = Kind::primary;
  size_t backend = 0;  // index into TopologyView::backends unless kind is error
  Source source = Source::automatic;
  size_t rule = 0;  // with Source::rule, the index of the rule
  // A hint, a rule or a read-only transaction would have sent a statement that is not a read to
  // a replica; it goes to the primary instead. Worth a log line.
  bool write_kept_on_primary = false;
  // A read on the primary because no replica was usable (read_fallback = "primary").
  bool fallback = false;
  // consistency = "read_your_writes" and a read of data goes to a replica: before running it,
  // make the replica wait (causal_read_timeout_ms) for the session's last write, if any.
  bool causal_read = false;
  uint16_t error_code = 0;
  std::string_view sql_state;
  std::string_view message;

  bool is_error() const { return kind == Kind::error; }
};

Target decide(const Classification& statement, const SessionView& session,
              const TopologyView& topology, const config::RoutingSection& routing,
              const RuleMatcher& rules, ReplicaBalancer& balancer);

}  // namespace replproxy::router
