// SET statements, each assignment reported as a SetTarget. Session targets (variables, user
// variables, NAMES, CHARACTER SET, ROLE, SESSION TRANSACTION) are session state to replay on every
// backend connection; global targets, autocommit and the next transaction's characteristics make
// the statement one for the primary.

#include "router/classifier_internal.h"

namespace replproxy::router::internal {
namespace {

bool is_name(const Token& token) {
  return token.kind == TokenKind::word || token.kind == TokenKind::quoted_identifier;
}

// Words that read as constants but are evaluated when the statement runs.
bool is_evaluated_word(const Token& token) {
  return is_any_of(token, {"CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME",
                           "LOCALTIMESTAMP", "UTC_TIMESTAMP", "UTC_DATE", "UTC_TIME",
                           "CURRENT_USER", "CURRENT_ROLE", "SELECT", "NEXT", "PREVIOUS"});
}

AutocommitChange autocommit_value(std::string_view value) {
  const std::string_view text = unquote(value);
  if (text == "1" || equals_ignore_case(text, "ON") || equals_ignore_case(text, "TRUE")) {
    return AutocommitChange::on;
  }
  if (text == "0" || equals_ignore_case(text, "OFF") || equals_ignore_case(text, "FALSE")) {
    return AutocommitChange::off;
  }
  return AutocommitChange::unknown;
}

// Where a system variable assignment applies. PERSIST and PERSIST_ONLY count as global.
enum class Scope : uint8_t { session, global };

// The name in "@@x", "@@session.x" or "@@global.x"; a scope written there replaces `scope`.
std::string_view system_variable_name(std::string_view text, Scope& scope) {
  std::string_view name = unquote(text);
  const size_t dot = name.find('.');
  const std::string_view prefix = name.substr(0, dot == std::string_view::npos ? 0 : dot);
  if (equals_ignore_case(prefix, "GLOBAL") || equals_ignore_case(prefix, "PERSIST") ||
      equals_ignore_case(prefix, "PERSIST_ONLY")) {
    scope = Scope::global;
    name.remove_prefix(dot + 1);
  } else if (equals_ignore_case(prefix, "SESSION") || equals_ignore_case(prefix, "LOCAL")) {
    scope = Scope::session;
    name.remove_prefix(dot + 1);
  }
  return name;
}

class SetParser {
 public:
  SetParser(TokenStream& tokens, Classification& out) : tokens_(tokens), out_(out) {}

  void parse();

 private:
  bool parse_assignment();
  bool parse_variable(const Token& start, Token name_token);
  bool parse_transaction(const Token& start, bool scoped);
  bool parse_charset(const Token& start, SetKind kind);
  bool parse_value(SetTarget& target);
  void parse_statement_prefix();
  void add(const SetTarget& target);

  TokenStream& tokens_;
  Classification& out_;
  // A scope keyword applies to the assignments after it that have none of their own.
  Scope scope_ = Scope::session;
};

void SetParser::parse() {
  if (tokens_.accept("STATEMENT")) {
    parse_statement_prefix();
    return;
  }
  if (tokens_.accept("PASSWORD") || tokens_.accept("DEFAULT")) {  // SET DEFAULT ROLE
    mark_write(out_, Reason::privilege_change);
    out_.transaction = TransactionEffect::implicit_commit;
    return;
  }
  if (tokens_.peek().is("ROLE")) {
    const Token start = tokens_.next();
    const Token role = tokens_.next();
    if (!is_name(role)) {
      mark_write(out_, Reason::unknown);
      return;
    }
    add({SetKind::role, unquote(role.text), {}, span(start, role), true});
    return;
  }
  do {
    if (!parse_assignment()) {
      mark_write(out_, Reason::unknown);
      return;
    }
  } while (tokens_.accept_op(","));
  if (!tokens_.at_statement_end()) {
    mark_write(out_, Reason::unknown);
  }
}

bool SetParser::parse_assignment() {
  const Token start = tokens_.next();
  Token token = start;
  bool scoped = false;
  if (is_any_of(token, {"GLOBAL", "PERSIST", "PERSIST_ONLY", "SESSION", "LOCAL"})) {
    scope_ = is_any_of(token, {"SESSION", "LOCAL"}) ? Scope::session : Scope::global;
    scoped = true;
    token = tokens_.next();
  }
  if (token.is("TRANSACTION")) {
    return parse_transaction(start, scoped);
  }
  if (token.is("NAMES")) {
    return parse_charset(start, SetKind::names);
  }
  if (token.is("CHARSET") || (token.is("CHARACTER") && tokens_.accept("SET"))) {
    return parse_charset(start, SetKind::character_set);
  }
  return parse_variable(start, token);
}

// [scope] name = value, @user = value, @@[scope.]name = value; `:=` works as well as `=`.
bool SetParser::parse_variable(const Token& start, Token name_token) {
  SetTarget target;
  Scope scope = scope_;
  if (name_token.kind == TokenKind::user_variable) {
    target.kind = SetKind::user_variable;
    target.name = unquote(name_token.text);
  } else if (name_token.kind == TokenKind::system_variable) {
    target.name = system_variable_name(name_token.text, scope);
  } else if (is_name(name_token)) {
    // Structured variables (MariaDB key caches) are written cache.variable.
    Token last = name_token;
    while (tokens_.accept_op(".") && is_name(tokens_.peek())) {
      last = tokens_.next();
    }
    target.name = name_token.kind == TokenKind::quoted_identifier ? unquote(name_token.text)
                                                                  : span(name_token, last);
  } else {
    return false;
  }
  if (!tokens_.accept_op("=") && !tokens_.accept_op(":=")) {
    return false;
  }
  if (target.kind != SetKind::user_variable && scope == Scope::global) {
    target.kind = SetKind::global_variable;
  }
  if (!parse_value(target)) {
    return false;
  }
  target.text = span(start, tokens_.last());
  add(target);
  return true;
}

// SET [GLOBAL | SESSION] TRANSACTION characteristic[, ...]: the rest of the statement.
bool SetParser::parse_transaction(const Token& start, bool scoped) {
  if (tokens_.at_statement_end()) {
    return false;
  }
  const Token first = tokens_.next();
  tokens_.skip_statement();
  SetKind kind = SetKind::transaction_next;
  if (scoped) {
    kind = scope_ == Scope::global ? SetKind::global_variable : SetKind::transaction_session;
  }
  add({kind, {}, span(first, tokens_.last()), span(start, tokens_.last()), true});
  return true;
}

// NAMES {charset | DEFAULT} [COLLATE collation]; CHARACTER SET | CHARSET {charset | DEFAULT}.
bool SetParser::parse_charset(const Token& start, SetKind kind) {
  const Token charset = tokens_.next();
  if (!is_name(charset) && charset.kind != TokenKind::string) {
    return false;
  }
  SetTarget target{kind, unquote(charset.text), {}, {}, true};
  if (kind == SetKind::names && tokens_.accept("COLLATE")) {
    const Token collation = tokens_.next();
    if (!is_name(collation) && collation.kind != TokenKind::string) {
      return false;
    }
    target.value = unquote(collation.text);
  }
  target.text = span(start, tokens_.last());
  add(target);
  return true;
}

// The value up to the next comma outside parentheses, watched for side effects like a query.
bool SetParser::parse_value(SetTarget& target) {
  if (tokens_.at_statement_end() || tokens_.peek().is_op(",")) {
    return false;
  }
  QueryScanner scanner(out_);
  const Token first = tokens_.peek();
  int depth = 0;
  while (true) {
    const Token token = tokens_.next();
    depth += token.is_op("(") ? 1 : token.is_op(")") ? -1 : 0;
    if (token.is_op("(") || token.kind == TokenKind::user_variable ||
        token.kind == TokenKind::system_variable || is_evaluated_word(token)) {
      target.constant_value = false;
    }
    const Token& next = tokens_.peek();
    scanner.feed(token, next);
    if (next.ends_statement() || (depth <= 0 && next.is_op(","))) {
      break;
    }
  }
  target.value = span(first, tokens_.last());
  return true;
}

// MariaDB's SET STATEMENT var = value[, ...] FOR statement: the variables last for the one
// statement, which is what is classified.
void SetParser::parse_statement_prefix() {
  QueryScanner scanner(out_);
  int depth = 0;
  Token previous;
  while (!tokens_.at_statement_end()) {
    const Token token = tokens_.next();
    depth += token.is_op("(") ? 1 : token.is_op(")") ? -1 : 0;
    // "NEXT VALUE FOR seq" in a value is not the FOR that ends the prefix.
    if (depth == 0 && token.is("FOR") && !previous.is("VALUE") && !tokens_.at_statement_end()) {
      classify_statement(tokens_, tokens_.next(), out_);
      return;
    }
    scanner.feed(token, tokens_.peek());
    previous = token;
  }
  mark_write(out_, Reason::unknown);
}

void SetParser::add(const SetTarget& target) {
  out_.set_targets.push_back(target);
  switch (target.kind) {
    case SetKind::global_variable:
      mark_write(out_, Reason::server_admin);
      return;
    case SetKind::transaction_next:
      mark_write(out_, Reason::transaction_control);
      return;
    case SetKind::session_variable:
      if (equals_ignore_case(target.name, "AUTOCOMMIT")) {
        out_.autocommit = autocommit_value(target.value);
        mark_write(out_, Reason::transaction_control);
        return;
      }
      break;
    default:
      break;
  }
  out_.session_state = true;
}

}  // namespace

void classify_set(TokenStream& tokens, Classification& out) { SetParser(tokens, out).parse(); }

}  // namespace replproxy::router::internal
