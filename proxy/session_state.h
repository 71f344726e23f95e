#pragma once

// What a client session is, independently of any backend connection, so that every backend
// connection the session uses can be brought to the same state: the statements that changed
// session state (USE, SET NAMES, SET var, SET @user_var), deduplicated and bounded, and the
// prepared statements with their ids on each backend connection.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/wire.h"

namespace replproxy::proxy {

// Commands to replay on a backend connection before it serves the session (a COM_QUERY with a
// SET or USE, a COM_INIT_DB, a COM_SET_OPTION), as raw payloads. Each entry has a key (what it
// sets, e.g. "use" or "var:sql_mode"); recording a key again replaces the earlier entry
// and moves it to the end, so the last SET of a variable wins and order between different
// variables is kept. Entries carry increasing sequence numbers: a connection that has applied up
// to N replays the entries above N, in order.
class SessionHistory {
 public:
  struct Entry {
    std::string key;
    protocol::Bytes payload;
    uint64_t sequence = 0;
  };

  explicit SessionHistory(size_t max_entries) : max_entries_(max_entries) {}

  // False when the history would exceed its bound; the entry is not recorded then.
  bool record(std::string key, protocol::Bytes payload);
  // Entries a connection that applied up to `applied` still needs, oldest first.
  std::vector<const Entry*> pending(uint64_t applied) const;
  uint64_t last_sequence() const { return next_sequence_ - 1; }
  size_t size() const { return entries_.size(); }
  void clear();

 private:
  size_t max_entries_;
  std::vector<Entry> entries_;
  uint64_t next_sequence_ = 1;
};

// A statement prepared by the client. The client sees one id; each backend connection that runs
// it has its own.
struct PreparedStatement {
  std::string sql;
  bool read = false;  // classification allows a replica
  uint16_t num_params = 0;
  uint16_t num_columns = 0;
  // Parameter types from the last COM_STMT_EXECUTE that bound them (2 bytes per parameter), and a
  // version that grows when they change, so a connection that has not seen them gets them.
  protocol::Bytes param_types;
  uint32_t types_version = 0;
  bool has_long_data = false;  // COM_STMT_SEND_LONG_DATA went to the primary
  struct OnBackend {
    uint32_t id = 0;
    uint32_t types_version = 0;
  };
  std::map<size_t, OnBackend> backends;  // by backend index
  std::optional<size_t> last_execute_backend;
};

class PreparedStatements {
 public:
  // Hands out the id a statement being prepared will have; insert() stores it on success.
  uint32_t reserve_id() { return next_id_++; }
  void insert(uint32_t id, PreparedStatement statement);
  PreparedStatement* find(uint32_t client_id);
  void remove(uint32_t client_id);
  // Forgets every id on one backend connection (it was replaced).
  void forget_backend(size_t backend);
  // A reloaded config moved backend i to index moved[i] (nullopt: it is gone).
  void remap_backends(const std::vector<std::optional<size_t>>& moved);
  void clear();
  size_t size() const { return statements_.size(); }

 private:
  std::unordered_map<uint32_t, PreparedStatement> statements_;
  uint32_t next_id_ = 1;
};

// The parameter block of COM_STMT_EXECUTE, after statement id, flags and iteration count:
//   null_bitmap        (num_params + 7) / 8
//   new_params_bound   1
//   types              2 * num_params   when new_params_bound == 1
//   values             the rest
struct ExecuteParameters {
  size_t types_offset = 0;  // offset of the types in the payload, when bound
  bool new_params_bound = false;
};
std::optional<ExecuteParameters> parse_execute_parameters(protocol::ByteView payload,
                                                          uint16_t num_params);
// Rewrites an execute payload so that it binds `types` (for a connection that has not seen the
// statement's types); `payload` must have new_params_bound == 0.
protocol::Bytes bind_execute_types(protocol::ByteView payload, uint16_t num_params,
                                   protocol::ByteView types);

}  // namespace replproxy::proxy
