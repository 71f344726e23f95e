// Transaction control, table locks and the DDL forms whose details matter to a session:
// temporary tables, which a replica does not have.

#include <optional>

#include "router/classifier_internal.h"

namespace replproxy::router::internal {
namespace {

void transaction_control(Classification& out, TransactionEffect effect) {
  mark_write(out, Reason::transaction_control);
  out.transaction = effect;
}

// [schema.]name, each part a word or a `quoted identifier`.
std::optional<TableName> read_table_name(TokenStream& tokens) {
  const auto is_name = [](const Token& t) {
    return t.kind == TokenKind::word || t.kind == TokenKind::quoted_identifier;
  };
  const Token first = tokens.next();
  if (!is_name(first)) {
    return std::nullopt;
  }
  if (!tokens.accept_op(".")) {
    return TableName{{}, unquote(first.text)};
  }
  const Token second = tokens.next();
  if (!is_name(second)) {
    return std::nullopt;
  }
  return TableName{unquote(first.text), unquote(second.text)};
}

// The table list of DROP [TEMPORARY] TABLE[S] [IF EXISTS] a, b.
void read_dropped_tables(TokenStream& tokens, Classification& out) {
  if (tokens.accept("IF")) {
    tokens.accept("EXISTS");
  }
  do {
    const std::optional<TableName> table = read_table_name(tokens);
    if (!table) {
      mark_write(out, Reason::unknown);
      return;
    }
    out.tables.push_back(*table);
  } while (tokens.accept_op(","));
}

}  // namespace

// BEGIN [WORK]; BEGIN NOT ATOMIC starts a compound statement, which may do anything.
void classify_begin(TokenStream& tokens, Classification& out) {
  if (tokens.peek().is("NOT")) {
    mark_write(out, Reason::unknown);
    return;
  }
  tokens.accept("WORK");
  transaction_control(out, TransactionEffect::begin);
}

// START TRANSACTION [READ ONLY | READ WRITE | WITH CONSISTENT SNAPSHOT][, ...]; other STARTs
// (START SLAVE, START REPLICA, START GROUP_REPLICATION) control the server.
void classify_start(TokenStream& tokens, Classification& out) {
  if (!tokens.accept("TRANSACTION")) {
    mark_write(out, Reason::server_admin);
    out.transaction = TransactionEffect::implicit_commit;
    return;
  }
  bool read_only = false;
  bool read_write = false;
  while (!tokens.at_statement_end()) {
    const Token token = tokens.next();
    if (token.is("READ")) {
      read_only = read_only || tokens.peek().is("ONLY");
      read_write = read_write || tokens.peek().is("WRITE");
    }
  }
  if (read_only && !read_write) {
    out.transaction = TransactionEffect::begin_read_only;  // a read: may run on a replica
    return;
  }
  transaction_control(out, TransactionEffect::begin);
}

// COMMIT [WORK] [AND [NO] CHAIN] [[NO] RELEASE]; ROLLBACK likewise, or ROLLBACK [WORK] TO
// [SAVEPOINT] x, which keeps the transaction open.
void classify_commit_or_rollback(TokenStream& tokens, const Token& first, Classification& out) {
  tokens.accept("WORK");
  if (first.is("ROLLBACK") && tokens.accept("TO")) {
    transaction_control(out, TransactionEffect::rollback_to_savepoint);
    return;
  }
  transaction_control(out,
                      first.is("COMMIT") ? TransactionEffect::commit : TransactionEffect::rollback);
  if (tokens.accept("AND")) {
    out.transaction_chain = !tokens.accept("NO");
    tokens.accept("CHAIN");
  }
  const bool no = tokens.accept("NO");
  out.transaction_release = tokens.accept("RELEASE") && !no;
}

// RELEASE SAVEPOINT x.
void classify_release(TokenStream& tokens, Classification& out) {
  if (tokens.accept("SAVEPOINT")) {
    transaction_control(out, TransactionEffect::release_savepoint);
  } else {
    mark_write(out, Reason::unknown);
  }
}

// LOCK TABLE[S] ... / UNLOCK TABLE[S]; LOCK INSTANCE FOR BACKUP and UNLOCK INSTANCE (MySQL).
void classify_lock(TokenStream& tokens, const Token& first, Classification& out) {
  if (!tokens.accept("TABLES") && !tokens.accept("TABLE")) {
    mark_write(out, Reason::server_admin);
    return;
  }
  mark_write(out, Reason::table_lock);
  out.transaction = TransactionEffect::implicit_commit;
  out.table_locks = first.is("LOCK") ? TableLocks::lock : TableLocks::unlock;
}

// CREATE [OR REPLACE] TEMPORARY TABLE [IF NOT EXISTS] t does not commit, and t exists only on
// the connection that ran it, so the session must remember it. Other CREATEs commit.
void classify_create(TokenStream& tokens, Classification& out) {
  if (tokens.accept("OR")) {
    tokens.accept("REPLACE");
  }
  if (tokens.accept("TEMPORARY")) {
    mark_write(out, Reason::schema_change);
    if (!tokens.accept("TABLE")) {
      return;  // CREATE TEMPORARY SEQUENCE
    }
    if (tokens.accept("IF")) {
      tokens.accept("NOT");
      tokens.accept("EXISTS");
    }
    const std::optional<TableName> table = read_table_name(tokens);
    if (!table) {
      mark_write(out, Reason::unknown);
      return;
    }
    out.table_effect = TableEffect::create_temporary;
    out.tables.push_back(*table);
    return;
  }
  const bool account = tokens.peek().is("USER") || tokens.peek().is("ROLE");
  mark_write(out, account ? Reason::privilege_change : Reason::schema_change);
  out.transaction = TransactionEffect::implicit_commit;
}

// DROP TEMPORARY TABLE drops only temporary tables and does not commit; DROP TABLE commits, and
// drops a temporary table first when the session has one of that name.
void classify_drop(TokenStream& tokens, Classification& out) {
  const bool temporary = tokens.accept("TEMPORARY");
  if (tokens.accept("TABLE") || tokens.accept("TABLES")) {
    mark_write(out, Reason::schema_change);
    out.table_effect = temporary ? TableEffect::drop_temporary : TableEffect::drop;
    if (!temporary) {
      out.transaction = TransactionEffect::implicit_commit;
    }
    read_dropped_tables(tokens, out);
    return;
  }
  const bool account = tokens.peek().is("USER") || tokens.peek().is("ROLE");
  mark_write(out, account ? Reason::privilege_change : Reason::schema_change);
  if (!temporary) {
    out.transaction = TransactionEffect::implicit_commit;
  }
}

}  // namespace replproxy::router::internal
