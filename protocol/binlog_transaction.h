#pragma once

// Follows event groups (transactions) through a binlog stream, so that a relay knows where a
// transaction is complete: to rotate its files only between transactions, to cut a partial
// transaction off the end of a file after a crash, and to resume from the last complete GTID.
//
// Where a group starts and ends:
//   MariaDB  GTID_EVENT (162) starts it.
//            With FL_STANDALONE (DDL and other statements without a COMMIT), the group is the
//            GTID event plus the statement event: it ends at the first event that is not one of
//            the events preceding a statement (ANNOTATE_ROWS, INTVAR, RAND, USER_VAR,
//            TABLE_MAP), as MariaDB's own replica decides when it skips a group.
//            Otherwise it ends at an XID_EVENT, a QUERY "COMMIT" or "ROLLBACK" (trimmed, any
//            case; "ROLLBACK TO <savepoint>" does not end it), a QUERY "XA COMMIT ..." or
//            "XA ROLLBACK ...", or, under FL_PREPARED_XA, the XA_PREPARE_LOG_EVENT (38) after
//            "XA END".
//   MySQL    GTID_LOG_EVENT (33) or ANONYMOUS_GTID_LOG_EVENT (34) starts it. When the next
//            QUERY is "BEGIN" (or "XA START ..."), the group runs to an XID, COMMIT, ROLLBACK
//            or XA_PREPARE as above; any other statement ends it by itself (DDL), as does a
//            TRANSACTION_PAYLOAD_EVENT.
//   Neither  A QUERY "BEGIN" outside a group starts one (servers without GTIDs); any other
//            event outside a group is a group of its own.
// FORMAT_DESCRIPTION, ROTATE, GTID_LIST, BINLOG_CHECKPOINT, HEARTBEAT(_V2), STOP,
// PREVIOUS_GTIDS and START_ENCRYPTION belong to no group and leave the state alone.

#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/binlog_event.h"
#include "protocol/gtid.h"

namespace replproxy::protocol::binlog {

struct EventRole {
  bool starts_group = false;
  bool ends_group = false;     // the group is complete after this event
  bool outside_group = false;  // belongs to no group (then starts_ and ends_group are false)
  // This event starts a group while another was still open: the open one never ended (a
  // truncated stream or file) and must not count as complete.
  bool interrupts_group = false;
  std::optional<Gtid> gtid;  // on the event that starts a MariaDB group
};

class TransactionTracker {
 public:
  // Feeds the next event in stream order. Errors only when the body of a GTID or QUERY event is
  // malformed; the state is then unchanged.
  Result<EventRole> on_event(const EventView& event);

  // True between the event that started a group and the one that ends it.
  bool in_group() const { return stage_ != Stage::idle; }
  // The MariaDB GTID of the open group, if it has one.
  const std::optional<Gtid>& open_gtid() const { return open_gtid_; }
  // The MariaDB GTID of the last group that ended, if any had one.
  const std::optional<Gtid>& last_complete_gtid() const { return last_complete_gtid_; }

  // Forgets the open group (e.g. after the stream restarts); keeps last_complete_gtid().
  void reset();

 private:
  enum class Stage {
    idle,
    statement,    // MariaDB FL_STANDALONE, or MySQL after a non-BEGIN: ends at the statement
    mysql_first,  // after a MySQL GTID: BEGIN makes a transaction, anything else a statement
    transaction,  // ends at XID / COMMIT / ROLLBACK / XA_PREPARE
  };

  EventRole start(Stage stage, std::optional<Gtid> gtid);
  // A non-GTID event of a group; `query` is the text of a QUERY_EVENT.
  EventRole continue_group(uint8_t type, std::optional<std::string_view> query);
  EventRole end(EventRole role);

  Stage stage_ = Stage::idle;
  std::optional<Gtid> open_gtid_;
  std::optional<Gtid> last_complete_gtid_;
};

// True for the event types that are never part of an event group.
bool is_outside_group(uint8_t type);

// The statement texts that end a transaction: "COMMIT", "ROLLBACK", "XA COMMIT ...",
// "XA ROLLBACK ..." (trimmed, any case).
bool ends_transaction(std::string_view query);
// "BEGIN" and "XA START ..." (trimmed, any case).
bool begins_transaction(std::string_view query);

}  // namespace replproxy::protocol::binlog
