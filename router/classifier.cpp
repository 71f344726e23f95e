// classify(): splits the text into statements and dispatches each on its first keyword. Reads
// other than queries (SHOW, EXPLAIN, DESCRIBE, HELP, USE, GET DIAGNOSTICS) are here too.

#include "router/classifier.h"

#include "router/classifier_internal.h"

namespace replproxy::router {
namespace internal {
namespace {

using Handler = void (*)(TokenStream& tokens, const Token& first, Classification& out);

bool starts_query(const Token& token) {
  return is_any_of(token, {"SELECT", "WITH", "VALUES", "TABLE"}) || token.is_op("(");
}

void classify_show(TokenStream& tokens, const Token&, Classification& out) {
  Token what = tokens.next();
  if (what.is("FULL")) {
    what = tokens.next();
  }
  if (what.is("COUNT")) {
    // SHOW COUNT(*) WARNINGS | ERRORS
    while (!tokens.at_statement_end() && !is_any_of(what, {"WARNINGS", "ERRORS"})) {
      what = tokens.next();
    }
  }
  if (is_any_of(what, {"WARNINGS", "ERRORS"})) {
    out.is_show_warnings_or_errors = true;
  } else if (is_any_of(what, {"MASTER", "BINLOG", "BINARY", "SLAVE", "REPLICA", "REPLICAS",
                              "RELAYLOG", "PROCESSLIST", "ENGINE", "ALL", "EXPLAIN", "ANALYZE"})) {
    // Facts about one server (replication, connections, engine internals): the primary's.
    mark_write(out, Reason::server_admin);
  } else if (what.ends_statement()) {
    mark_write(out, Reason::unknown);
  }
}

// What EXPLAIN, DESCRIBE or ANALYZE (MariaDB's, which runs the statement) applies to.
void classify_explained(TokenStream& tokens, Token target, Classification& out) {
  if (target.is("FOR")) {
    mark_write(out, Reason::server_admin);  // EXPLAIN FOR CONNECTION n
  } else if (starts_query(target)) {
    classify_query(tokens, target, out);
  } else if (is_any_of(target, {"INSERT", "UPDATE", "DELETE", "REPLACE"})) {
    mark_write(out, Reason::data_change);
  } else if (target.kind != TokenKind::word && target.kind != TokenKind::quoted_identifier) {
    mark_write(out, Reason::unknown);
  }
  // Otherwise DESCRIBE table [column]: a read.
}

// Skips "FORMAT = name" and the other options that may precede the explained statement.
void skip_explain_options(TokenStream& tokens) {
  while (true) {
    if (tokens.accept("FORMAT")) {
      tokens.accept_op("=");
      tokens.next();
    } else if (!tokens.accept("EXTENDED") && !tokens.accept("PARTITIONS") &&
               !tokens.accept("ANALYZE") && !tokens.accept("VERBOSE")) {
      return;
    }
  }
}

void classify_explain(TokenStream& tokens, const Token&, Classification& out) {
  skip_explain_options(tokens);
  classify_explained(tokens, tokens.next(), out);
}

// MariaDB's ANALYZE <statement> runs it; ANALYZE TABLE updates index statistics.
void classify_analyze(TokenStream& tokens, const Token&, Classification& out) {
  skip_explain_options(tokens);
  const Token target = tokens.next();
  if (target.is("TABLE") || target.is("NO_WRITE_TO_BINLOG") || target.is("LOCAL")) {
    mark_write(out, Reason::server_admin);
    out.transaction = TransactionEffect::implicit_commit;
    return;
  }
  classify_explained(tokens, target, out);
}

void classify_use(TokenStream& tokens, const Token&, Classification& out) {
  const Token schema = tokens.next();
  if (schema.kind != TokenKind::word && schema.kind != TokenKind::quoted_identifier) {
    mark_write(out, Reason::unknown);
    return;
  }
  out.use_schema = unquote(schema.text);
  out.session_state = true;
}

// GET [CURRENT | STACKED] DIAGNOSTICS: the previous statement's conditions.
void classify_get(TokenStream& tokens, const Token&, Classification& out) {
  if (!tokens.accept("CURRENT")) {
    tokens.accept("STACKED");
  }
  if (tokens.accept("DIAGNOSTICS")) {
    out.is_show_warnings_or_errors = true;
  } else {
    mark_write(out, Reason::unknown);
  }
}

template <Reason reason>
void write(TokenStream&, const Token&, Classification& out) {
  mark_write(out, reason);
}

// Statements that commit an open transaction before they run.
template <Reason reason>
void committing_write(TokenStream&, const Token&, Classification& out) {
  mark_write(out, reason);
  out.transaction = TransactionEffect::implicit_commit;
}

// ALTER USER / RENAME USER change privileges; other ALTERs and RENAMEs change the schema.
void classify_alter_or_rename(TokenStream& tokens, const Token&, Classification& out) {
  const bool account = tokens.peek().is("USER") || tokens.peek().is("ROLE");
  mark_write(out, account ? Reason::privilege_change : Reason::schema_change);
  out.transaction = TransactionEffect::implicit_commit;
}

void read(TokenStream&, const Token&, Classification&) {}

struct Entry {
  std::string_view keyword;
  Handler handler;
};

// Ordered roughly by frequency, since they are tried in order.
constexpr Entry kStatements[] = {
    {"SELECT", [](TokenStream& t, const Token& f, Classification& o) { classify_query(t, f, o); }},
    {"INSERT", write<Reason::data_change>},
    {"UPDATE", write<Reason::data_change>},
    {"DELETE", write<Reason::data_change>},
    {"SET", [](TokenStream& t, const Token&, Classification& o) { classify_set(t, o); }},
    {"COMMIT", classify_commit_or_rollback},
    {"BEGIN", [](TokenStream& t, const Token&, Classification& o) { classify_begin(t, o); }},
    {"START", [](TokenStream& t, const Token&, Classification& o) { classify_start(t, o); }},
    {"ROLLBACK", classify_commit_or_rollback},
    {"SHOW", classify_show},
    {"REPLACE", write<Reason::data_change>},
    {"WITH", [](TokenStream& t, const Token& f, Classification& o) { classify_query(t, f, o); }},
    {"USE", classify_use},
    {"SAVEPOINT",
     [](TokenStream&, const Token&, Classification& o) {
       mark_write(o, Reason::transaction_control);
       o.transaction = TransactionEffect::savepoint;
     }},
    {"RELEASE", [](TokenStream& t, const Token&, Classification& o) { classify_release(t, o); }},
    {"XA",
     [](TokenStream&, const Token&, Classification& o) {
       mark_write(o, Reason::transaction_control);
       o.transaction = TransactionEffect::xa;
     }},
    {"VALUES", [](TokenStream& t, const Token& f, Classification& o) { classify_query(t, f, o); }},
    {"TABLE", [](TokenStream& t, const Token& f, Classification& o) { classify_query(t, f, o); }},
    {"EXPLAIN", classify_explain},
    {"DESCRIBE", classify_explain},
    {"DESC", classify_explain},
    {"ANALYZE", classify_analyze},
    {"HELP", read},
    {"GET", classify_get},
    {"CREATE", [](TokenStream& t, const Token&, Classification& o) { classify_create(t, o); }},
    {"DROP", [](TokenStream& t, const Token&, Classification& o) { classify_drop(t, o); }},
    {"ALTER", classify_alter_or_rename},
    {"RENAME", classify_alter_or_rename},
    {"TRUNCATE", committing_write<Reason::schema_change>},
    {"LOCK", classify_lock},
    {"UNLOCK", classify_lock},
    {"GRANT", committing_write<Reason::privilege_change>},
    {"REVOKE", committing_write<Reason::privilege_change>},
    {"LOAD", write<Reason::data_change>},
    {"IMPORT", write<Reason::data_change>},
    {"CALL", write<Reason::stored_procedure>},
    {"DO", write<Reason::do_statement>},
    {"PREPARE", write<Reason::connection_state>},
    {"EXECUTE", write<Reason::connection_state>},
    {"DEALLOCATE", write<Reason::connection_state>},
    {"HANDLER", write<Reason::connection_state>},
    {"KILL", write<Reason::server_admin>},
    {"PURGE", write<Reason::server_admin>},
    {"SHUTDOWN", write<Reason::server_admin>},
    {"BINLOG", write<Reason::server_admin>},
    {"BACKUP", write<Reason::server_admin>},
    {"FLUSH", committing_write<Reason::server_admin>},
    {"RESET", committing_write<Reason::server_admin>},
    {"CHANGE", committing_write<Reason::server_admin>},
    {"STOP", committing_write<Reason::server_admin>},
    {"OPTIMIZE", committing_write<Reason::server_admin>},
    {"REPAIR", committing_write<Reason::server_admin>},
    {"CHECK", committing_write<Reason::server_admin>},
    {"CHECKSUM", committing_write<Reason::server_admin>},
    {"CACHE", committing_write<Reason::server_admin>},
    {"INSTALL", committing_write<Reason::server_admin>},
    {"UNINSTALL", committing_write<Reason::server_admin>},
};

Handler find_handler(const Token& keyword) {
  for (const Entry& entry : kStatements) {
    if (keyword.is(entry.keyword)) {
      return entry.handler;
    }
  }
  return nullptr;
}

std::string_view trim_end(std::string_view text) {
  while (!text.empty() && (static_cast<unsigned char>(text.back()) <= ' ' || text.back() == ';')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

void classify_statement(TokenStream& tokens, const Token& first, Classification& out) {
  // "((SELECT ...))": the parentheses say nothing about what the statement does.
  Token keyword = first;
  while (keyword.is_op("(") && !tokens.at_statement_end()) {
    keyword = tokens.next();
  }
  const bool parenthesised = keyword.text.data() != first.text.data();
  if (out.first_keyword.empty() && keyword.kind == TokenKind::word) {
    out.first_keyword = keyword.text;
  }
  const Handler handler = find_handler(keyword);
  if (handler == nullptr || (parenthesised && !starts_query(keyword))) {
    mark_write(out, Reason::unknown);
  } else {
    handler(tokens, keyword, out);
  }
  tokens.skip_statement();
}

}  // namespace internal

Classification classify(std::string_view sql, LexerOptions options) {
  Lexer lexer(sql, options);
  internal::TokenStream tokens(lexer);
  Classification out;
  while (true) {
    const Token first = tokens.next();
    if (first.kind == TokenKind::end) {
      break;
    }
    if (first.kind == TokenKind::semicolon) {
      continue;
    }
    if (++out.statement_count == 1) {
      out.statement_text = internal::trim_end(sql.substr(first.text.data() - sql.data()));
    }
    internal::classify_statement(tokens, first, out);
  }
  out.hint = lexer.hint();
  if (out.statement_count > 1) {
    out.access = Access::write;
    out.reason = Reason::multi_statement;
  }
  if (lexer.malformed() || lexer.ambiguous()) {
    out.access = Access::write;
    out.reason = Reason::unknown;
  }
  return out;
}

}  // namespace replproxy::router
