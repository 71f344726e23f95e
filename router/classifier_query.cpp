// Queries (SELECT, WITH, VALUES, TABLE, parenthesised queries) and expressions: what in them
// keeps a statement off the replicas.

#include <algorithm>

#include "router/classifier_internal.h"

namespace replproxy::router::internal {
namespace {

// Built-ins with side effects or with state that lives on one connection of the primary.
constexpr std::string_view kPrimaryOnlyFunctions[] = {
    "GET_LOCK",
    "RELEASE_LOCK",
    "RELEASE_ALL_LOCKS",
    "IS_USED_LOCK",
    "IS_FREE_LOCK",
    "NEXTVAL",
    "LASTVAL",
    "SETVAL",
    "MASTER_POS_WAIT",
    "MASTER_GTID_WAIT",
    "SOURCE_POS_WAIT",
    "WAIT_FOR_EXECUTED_GTID_SET",
    "WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS",
};

// Global variables whose value tells a client whether it talks to a writable server: a
// transparent proxy answers them from the primary.
constexpr std::string_view kPrimaryOnlyVariables[] = {"READ_ONLY", "SUPER_READ_ONLY",
                                                      "INNODB_READ_ONLY"};

template <size_t N>
bool equals_any(std::string_view text, const std::string_view (&upper)[N]) {
  return std::ranges::any_of(upper,
                             [&](std::string_view u) { return equals_ignore_case(text, u); });
}

// "@@session.x", "@@global.x", "@@local.x" and "@@x" all name x.
std::string_view system_variable_name(std::string_view text) {
  std::string_view name = unquote(text);
  const size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    const std::string_view scope = name.substr(0, dot);
    if (equals_ignore_case(scope, "SESSION") || equals_ignore_case(scope, "GLOBAL") ||
        equals_ignore_case(scope, "LOCAL")) {
      name.remove_prefix(dot + 1);
    }
  }
  return name;
}

}  // namespace

void QueryScanner::feed(const Token& token, const Token& next) {
  switch (token.kind) {
    case TokenKind::op:
      if (token.text == ":=") {
        mark_write(out_, Reason::user_variable_assignment);
      }
      break;
    case TokenKind::system_variable:
      on_system_variable(token);
      break;
    case TokenKind::word:
      on_word(token, next);
      break;
    case TokenKind::quoted_identifier:
      if (next.is_op("(") && previous_.is_op(".")) {
        mark_write(out_, Reason::stored_function);
      }
      break;
    default:
      break;
  }
  previous_ = token;
}

void QueryScanner::on_word(const Token& word, const Token& next) {
  const bool call = next.is_op("(");
  if (previous_.is_op(".")) {
    // A member of a schema or table: db.f( is a stored function, seq.nextval a sequence.
    if (call) {
      mark_write(out_, Reason::stored_function);
    } else if (is_any_of(word, {"NEXTVAL", "CURRVAL", "LASTVAL"})) {
      mark_write(out_, Reason::side_effect_function);
    }
    return;
  }
  if (call) {
    on_call(word);
  } else if (word.is("INTO")) {
    mark_write(out_, Reason::select_into);
  } else if (word.is("LOCK") || (previous_.is("FOR") && is_any_of(word, {"UPDATE", "SHARE"}))) {
    mark_write(out_, Reason::locking_read);
  } else if (is_any_of(word, {"INSERT", "UPDATE", "DELETE", "REPLACE"})) {
    // Not followed by "(", where INSERT() and REPLACE() are string functions: a data change,
    // as in WITH ... UPDATE.
    mark_write(out_, Reason::data_change);
  } else if (word.is("VALUE") && is_any_of(previous_, {"NEXT", "PREVIOUS"}) && next.is("FOR")) {
    mark_write(out_, Reason::side_effect_function);
  }
}

void QueryScanner::on_call(const Token& name) {
  if (name.is("LAST_INSERT_ID")) {
    out_.uses_last_insert_id = true;
    mark_write(out_, Reason::last_insert_id);
  } else if (name.is("FOUND_ROWS")) {
    out_.uses_found_rows = true;
  } else if (name.is("ROW_COUNT")) {
    out_.uses_row_count = true;
  } else if (equals_any(name.text, kPrimaryOnlyFunctions)) {
    mark_write(out_, Reason::side_effect_function);
  }
}

void QueryScanner::on_system_variable(const Token& variable) {
  const std::string_view name = system_variable_name(variable.text);
  if (equals_ignore_case(name, "WARNING_COUNT") || equals_ignore_case(name, "ERROR_COUNT")) {
    out_.is_show_warnings_or_errors = true;
  } else if (equals_ignore_case(name, "LAST_INSERT_ID") || equals_ignore_case(name, "IDENTITY")) {
    out_.uses_last_insert_id = true;
    mark_write(out_, Reason::last_insert_id);
  } else if (equals_any(name, kPrimaryOnlyVariables)) {
    mark_write(out_, Reason::server_admin);
  }
}

void classify_query(TokenStream& tokens, const Token& first, Classification& out) {
  QueryScanner scanner(out);
  Token token = first;
  while (true) {
    const Token& next = tokens.peek();
    scanner.feed(token, next);
    if (next.ends_statement()) {
      return;
    }
    token = tokens.next();
  }
}

}  // namespace replproxy::router::internal
