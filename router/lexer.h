#pragma once

// A tokenizer for the SQL text of COM_QUERY and COM_STMT_PREPARE, just deep enough to classify
// statements: it knows where strings, identifiers, comments and statements begin and end, so
// that a keyword inside a string or a comment is never mistaken for code.
//
// It follows the MariaDB/MySQL lexer where that matters for routing:
//   - whitespace; `-- ` (two dashes and a space or control character) and `#` line comments;
//     `/* */` block comments, including `/*+ */` optimizer hints, are skipped;
//   - `/*! ... */`, `/*!50700 ... */` and MariaDB's `/*M!100100 ... */` are executable comments:
//     their content is code and is tokenized (a server that skips it because of its version
//     runs less than was classified, never more);
//   - '...' and "..." strings with backslash escapes (unless NO_BACKSLASH_ESCAPES) and doubled
//     quotes; `...` identifiers with doubled backticks; ANSI_QUOTES is not modelled ("..." is
//     always a string, which only matters for identifiers, never for routing);
//   - user variables @x, @'x', @"x", @`x`; system variables @@x, @@session.x, @@global.x;
//   - operators, with := and the other multi-character ones as one token; `;` on its own.
//
// Comments are also searched for replproxy hints: `/* replproxy: route=primary */`,
// `route=replica` or `route=backend:NAME`, in any comment; the first valid one wins.
//
// The lexer never fails: unterminated strings, identifiers or comments end at the end of the
// input and set malformed(). Each call to next() consumes at least one byte until the end.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace replproxy::router {

enum class TokenKind : uint8_t {
  end,                // no more input
  word,               // an unquoted identifier or keyword
  quoted_identifier,  // `...`
  string,             // '...' or "..."
  number,             // 12, 1.5e3, 0x1F, .5
  user_variable,      // @x, @'x'
  system_variable,    // @@x, @@session.x
  op,                 // operators and punctuation: ( ) , . = := <=> ...
  semicolon,          // the statement separator
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string_view text;  // exactly as written, quotes included; empty for `end`

  // Whether this is an unquoted word equal to `keyword` (given in upper case), in any case.
  bool is(std::string_view keyword) const;
  bool is_op(std::string_view op) const { return kind == TokenKind::op && text == op; }
  // Whether this token ends a statement (`;` or the end of the input).
  bool ends_statement() const { return kind == TokenKind::end || kind == TokenKind::semicolon; }
};

// ASCII case-insensitive comparison with `upper`, which must be upper case.
bool equals_ignore_case(std::string_view text, std::string_view upper);

// The text of a quoted token without its outer quotes ('x', "x", `x`, @'x' and @x give x;
// @@session.x gives session.x). Doubled quotes and escapes inside are left as written.
std::string_view unquote(std::string_view text);

enum class HintRoute : uint8_t {
  none,     // no hint
  primary,  // route=primary
  replica,  // route=replica
  backend,  // route=backend:NAME
  invalid,  // a comment says "replproxy:" but what follows is not a valid hint (log it)
};

struct RouteHint {
  HintRoute route = HintRoute::none;
  std::string_view backend;  // NAME for HintRoute::backend

  bool operator==(const RouteHint&) const = default;
};

struct LexerOptions {
  // The session's SERVER_STATUS_NO_BACKSLASH_ESCAPES: a backslash in a string is then literal.
  bool no_backslash_escapes = false;
};

class Lexer {
 public:
  explicit Lexer(std::string_view sql, LexerOptions options = {}) : sql_(sql), options_(options) {}

  // The next token; TokenKind::end (repeatedly) once the input is exhausted.
  Token next();

  // The first valid hint seen so far (or `invalid` when only invalid ones were seen).
  const RouteHint& hint() const { return hint_; }
  // An unterminated string, quoted identifier or comment was seen.
  bool malformed() const { return malformed_; }
  // Inside an executable comment, a string or a comment ran past a `*/`, or comments were
  // nested: a server that skips the executable comment (its version is too high) would see
  // different statements than were tokenized, so the text must not be trusted to be a read.
  bool ambiguous() const { return ambiguous_; }

 private:
  void skip_trivia();
  bool skip_comment();
  void skip_block_comment();
  void skip_line_comment(size_t body_start);
  void enter_executable_comment(size_t prefix_length);
  Token lex_quoted(TokenKind kind, size_t start);
  Token lex_variable();
  Token lex_number();
  Token lex_word();
  Token lex_operator();
  void scan_hint(std::string_view comment);
  char at(size_t index) const { return index < sql_.size() ? sql_[index] : '\0'; }
  Token make(TokenKind kind, size_t start) const {
    return {kind, sql_.substr(start, pos_ - start)};
  }

  std::string_view sql_;
  LexerOptions options_;
  size_t pos_ = 0;
  bool in_executable_comment_ = false;
  bool malformed_ = false;
  bool ambiguous_ = false;
  RouteHint hint_;
};

}  // namespace replproxy::router
