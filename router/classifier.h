#pragma once

// Statement classification: what a COM_QUERY (or COM_STMT_PREPARE) text does, as far as routing
// and session state are concerned. classify() runs for every query, so it makes one pass over
// the tokens and does not allocate for ordinary statements: everything it returns points into
// the text it was given, which must outlive the Classification.
//
// The rule is "when in doubt, primary": a statement is a read only when it is known to have no
// side effect a replica must not see. Built-in functions are not listed one by one; instead
//   - calls of a deny list of built-ins with side effects or connection state (GET_LOCK(),
//     RELEASE_LOCK(), RELEASE_ALL_LOCKS(), IS_USED_LOCK(), IS_FREE_LOCK(), NEXTVAL(), LASTVAL(),
//     SETVAL(), NEXT/PREVIOUS VALUE FOR, MASTER_POS_WAIT(), MASTER_GTID_WAIT(),
//     SOURCE_POS_WAIT(), WAIT_FOR_EXECUTED_GTID_SET(), ...) make the statement primary-only;
//   - a schema-qualified call `db.f(` is a stored function, which may write: primary-only;
//   - an unqualified call of any other name is assumed to be a side-effect-free built-in. A
//     stored function of the current schema called without its schema cannot be told apart
//     from a built-in by the text; routing such a function that writes needs a rule or a hint.

#include <cstdint>
#include <string_view>

#include "router/inline_vector.h"
#include "router/lexer.h"

namespace replproxy::router {

enum class Access : uint8_t {
  read,   // may run on a replica
  write,  // must run on the primary (see Reason)
};

// Why a statement must run on the primary.
enum class Reason : uint8_t {
  none,                      // a read
  data_change,               // INSERT, UPDATE, DELETE, REPLACE, LOAD DATA, EXPLAIN of those
  schema_change,             // CREATE, ALTER, DROP, RENAME, TRUNCATE (temporary tables too)
  privilege_change,          // GRANT, REVOKE, CREATE/ALTER/DROP USER or ROLE, SET PASSWORD
  locking_read,              // FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE
  select_into,               // SELECT ... INTO OUTFILE/DUMPFILE/@var
  side_effect_function,      // a deny-listed built-in or a sequence
  stored_function,           // a schema-qualified call: db.f(...)
  user_variable_assignment,  // @x := ... outside SET
  last_insert_id,            // LAST_INSERT_ID(): the session's inserts ran on the primary
  stored_procedure,          // CALL
  do_statement,              // DO
  transaction_control,       // BEGIN, COMMIT, SAVEPOINT, XA, SET autocommit, SET TRANSACTION
  table_lock,                // LOCK TABLES, UNLOCK TABLES
  connection_state,          // SQL PREPARE/EXECUTE/DEALLOCATE, HANDLER: state on one connection
  server_admin,              // SET GLOBAL, FLUSH, KILL, replication control, server-specific SHOW,
                             // @@read_only and friends
  multi_statement,           // more than one statement in the text
  unknown,                   // not understood, malformed or ambiguous text
};

enum class TransactionEffect : uint8_t {
  none,
  begin,                  // BEGIN [WORK], START TRANSACTION [READ WRITE | WITH CONSISTENT SNAPSHOT]
  begin_read_only,        // START TRANSACTION READ ONLY (may run on one replica)
  commit,                 // COMMIT: ends the transaction (unless `chain`)
  rollback,               // ROLLBACK: ends the transaction (unless `chain`)
  savepoint,              // SAVEPOINT x
  release_savepoint,      // RELEASE SAVEPOINT x
  rollback_to_savepoint,  // ROLLBACK [WORK] TO [SAVEPOINT] x: the transaction goes on
  implicit_commit,        // DDL, LOCK/UNLOCK TABLES, GRANT...: commits an open transaction first
  xa,                     // XA START/END/PREPARE/COMMIT/ROLLBACK/RECOVER
};

// A SET autocommit in the statement. Switching it on also commits an open transaction.
enum class AutocommitChange : uint8_t { none, on, off, unknown /* an expression or DEFAULT */ };

enum class SetKind : uint8_t {
  session_variable,     // SET [SESSION|LOCAL] x = v, SET @@[session.|local.]x = v
  user_variable,        // SET @x = v
  names,                // SET NAMES charset [COLLATE collation]
  character_set,        // SET CHARACTER SET charset, SET CHARSET charset
  transaction_session,  // SET SESSION TRANSACTION ...: every later transaction of the session
  transaction_next,     // SET TRANSACTION ...: the next transaction only (runs on the primary)
  role,                 // SET ROLE r
  global_variable,      // SET GLOBAL|PERSIST x = v, SET @@global.x = v (not session state)
};

// One target of a SET statement. `SET ` + text replays it.
struct SetTarget {
  SetKind kind = SetKind::session_variable;
  // The variable name without @, @@ or scope (user variables keep their doubled quotes as
  // written); the character set for names/character_set; the role for role; empty otherwise.
  std::string_view name;
  // The value as written; the collation (or empty) for names; the characteristics for
  // transaction_*; empty for character_set and role.
  std::string_view value;
  // The whole assignment as written, e.g. "@@session.sql_mode = ''" or "NAMES utf8mb4".
  std::string_view text;
  // The value has no variables, calls or subqueries, so replaying it elsewhere gives the same.
  bool constant_value = true;
};

enum class TableEffect : uint8_t {
  none,
  create_temporary,  // CREATE [OR REPLACE] TEMPORARY TABLE t
  drop_temporary,    // DROP TEMPORARY TABLE t[, ...]
  drop,              // DROP TABLE t[, ...]: also drops a session's temporary table of that name
};

struct TableName {
  std::string_view schema;  // empty when not qualified
  std::string_view name;    // without backticks (doubled backticks inside are left as written)

  bool operator==(const TableName&) const = default;
};

enum class TableLocks : uint8_t { none, lock /* LOCK TABLES */, unlock /* UNLOCK TABLES */ };

struct Classification {
  Access access = Access::read;
  Reason reason = Reason::none;
  TransactionEffect transaction = TransactionEffect::none;
  bool transaction_chain = false;    // COMMIT/ROLLBACK AND CHAIN: a new transaction follows
  bool transaction_release = false;  // COMMIT/ROLLBACK RELEASE: the server closes the connection
  AutocommitChange autocommit = AutocommitChange::none;
  TableLocks table_locks = TableLocks::none;

  // The statement changes session state that every backend connection of the session must
  // share: USE, SET NAMES/CHARACTER SET, SET [SESSION] var, SET @var, SET SESSION TRANSACTION,
  // SET ROLE. The targets are in `use_schema` and `set_targets`.
  bool session_state = false;
  std::string_view use_schema;  // USE db (without backticks); empty otherwise
  InlineVector<SetTarget, 4> set_targets;

  TableEffect table_effect = TableEffect::none;
  InlineVector<TableName, 2> tables;  // the tables of table_effect

  RouteHint hint;
  uint32_t statement_count = 0;    // non-empty statements; 0 for only comments and blanks
  std::string_view first_keyword;  // first word of the first statement as written ("select")
  // The text from the first token of the first statement to the end (leading comments and
  // blanks removed): what routing rules match.
  std::string_view statement_text;

  // Flags for statements that must run where another one ran.
  bool uses_last_insert_id = false;         // LAST_INSERT_ID()
  bool uses_found_rows = false;             // FOUND_ROWS()
  bool uses_row_count = false;              // ROW_COUNT()
  bool is_show_warnings_or_errors = false;  // SHOW WARNINGS/ERRORS, SHOW COUNT(*) WARNINGS,
                                            // @@warning_count, @@error_count, GET DIAGNOSTICS

  bool is_read() const { return access == Access::read; }
  // The statement reads what the session's previous statement left on its connection (found
  // rows, row count, diagnostics), so it must run on that same backend.
  bool follows_previous_statement() const {
    return uses_found_rows || uses_row_count || is_show_warnings_or_errors;
  }
};

// The enumerator's name, for logs and the admin interface ("locking_read").
std::string_view to_string(Reason reason);
std::string_view to_string(TransactionEffect effect);
std::string_view to_string(SetKind kind);
std::string_view to_string(TableEffect effect);

// Classifies `sql`. For several statements (multi-statements), access is write with
// Reason::multi_statement, the flags are combined, the SET targets and tables of all statements
// are listed, and `transaction` is the last statement's effect that is not `none`.
Classification classify(std::string_view sql, LexerOptions options = {});

}  // namespace replproxy::router
