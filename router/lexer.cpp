#include "router/lexer.h"

#include <algorithm>

namespace replproxy::router {
namespace {

char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Identifier characters: ASCII letters, digits, '_' and '$', and every byte of a multi-byte
// UTF-8 character.
bool is_word_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return is_digit(c) || (to_upper(c) >= 'A' && to_upper(c) <= 'Z') || c == '_' || c == '$' ||
         byte >= 0x80;
}

// Multi-character operators, longest first so that "<=>" is not read as "<=" and ">".
constexpr std::string_view kOperators[] = {"<=>", "->>", ":=", "<=", ">=", "<>",
                                           "!=",  "<<",  ">>", "&&", "||", "->"};

size_t find_ignore_case(std::string_view text, std::string_view upper) {
  if (upper.size() > text.size()) {
    return std::string_view::npos;
  }
  for (size_t i = 0; i + upper.size() <= text.size(); ++i) {
    if (equals_ignore_case(text.substr(i, upper.size()), upper)) {
      return i;
    }
  }
  return std::string_view::npos;
}

// Removes leading blanks; returns whether `prefix` (upper case) follows, and consumes it.
bool consume(std::string_view& text, std::string_view prefix) {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  if (text.size() < prefix.size() || !equals_ignore_case(text.substr(0, prefix.size()), prefix)) {
    return false;
  }
  text.remove_prefix(prefix.size());
  return true;
}

bool is_backend_name_char(char c) { return is_word_char(c) || c == '.' || c == '-'; }

// Parses what follows "replproxy" in a comment: ": route=primary|replica|backend:NAME".
RouteHint parse_hint(std::string_view text) {
  if (!consume(text, ":") || !consume(text, "ROUTE") || !consume(text, "=")) {
    return {HintRoute::invalid, {}};
  }
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  const size_t length =
      std::ranges::find_if_not(text, [](char c) { return is_backend_name_char(c) || c == ':'; }) -
      text.begin();
  const std::string_view value = text.substr(0, length);
  if (equals_ignore_case(value, "PRIMARY")) {
    return {HintRoute::primary, {}};
  }
  if (equals_ignore_case(value, "REPLICA")) {
    return {HintRoute::replica, {}};
  }
  constexpr std::string_view kBackend = "BACKEND:";
  const std::string_view name = value.substr(std::min(value.size(), kBackend.size()));
  if (value.size() > kBackend.size() && equals_ignore_case(value.substr(0, 8), kBackend) &&
      std::ranges::all_of(name, is_backend_name_char)) {
    return {HintRoute::backend, name};
  }
  return {HintRoute::invalid, {}};
}

}  // namespace

bool equals_ignore_case(std::string_view text, std::string_view upper) {
  if (text.size() != upper.size()) {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (to_upper(text[i]) != upper[i]) {
      return false;
    }
  }
  return true;
}

bool Token::is(std::string_view keyword) const {
  return kind == TokenKind::word && equals_ignore_case(text, keyword);
}

std::string_view unquote(std::string_view text) {
  while (!text.empty() && text.front() == '@') {
    text.remove_prefix(1);
  }
  if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"' || text.front() == '`') &&
      text.back() == text.front()) {
    return text.substr(1, text.size() - 2);
  }
  return text;
}

Token Lexer::next() {
  skip_trivia();
  if (pos_ >= sql_.size()) {
    if (in_executable_comment_) {
      malformed_ = true;  // "/*!" without "*/"
      in_executable_comment_ = false;
    }
    return {TokenKind::end, {}};
  }
  const char c = sql_[pos_];
  if (c == '\'' || c == '"') {
    return lex_quoted(TokenKind::string, pos_);
  }
  if (c == '`') {
    return lex_quoted(TokenKind::quoted_identifier, pos_);
  }
  if (c == '@') {
    return lex_variable();
  }
  if (is_digit(c) || (c == '.' && is_digit(at(pos_ + 1)))) {
    return lex_number();
  }
  if (is_word_char(c)) {
    return lex_word();
  }
  if (c == ';') {
    ++pos_;
    return make(TokenKind::semicolon, pos_ - 1);
  }
  return lex_operator();
}

void Lexer::skip_trivia() {
  while (pos_ < sql_.size()) {
    if (is_space(sql_[pos_])) {
      ++pos_;
    } else if (!skip_comment()) {
      return;
    }
  }
}

// Skips one comment, or the opening or closing delimiter of an executable comment, at pos_.
bool Lexer::skip_comment() {
  const char c = sql_[pos_];
  const char c1 = at(pos_ + 1);
  if (c == '#') {
    skip_line_comment(pos_ + 1);
  } else if (c == '-' && c1 == '-' &&
             (pos_ + 2 >= sql_.size() || static_cast<unsigned char>(sql_[pos_ + 2]) <= ' ')) {
    skip_line_comment(pos_ + 2);
  } else if (c == '/' && c1 == '*' && at(pos_ + 2) == '!') {
    enter_executable_comment(3);
  } else if (c == '/' && c1 == '*' && at(pos_ + 2) == 'M' && at(pos_ + 3) == '!') {
    enter_executable_comment(4);
  } else if (c == '/' && c1 == '*') {
    skip_block_comment();
  } else if (c == '*' && c1 == '/' && in_executable_comment_) {
    in_executable_comment_ = false;
    pos_ += 2;
  } else {
    return false;
  }
  return true;
}

void Lexer::enter_executable_comment(size_t prefix_length) {
  ambiguous_ = ambiguous_ || in_executable_comment_;
  in_executable_comment_ = true;
  pos_ += prefix_length;
  // The server version the content needs: 5 digits for MySQL, up to 6 for MariaDB.
  for (int digits = 0; digits < 6 && is_digit(at(pos_)); ++digits) {
    ++pos_;
  }
}

void Lexer::skip_block_comment() {
  ambiguous_ = ambiguous_ || in_executable_comment_;
  const size_t body = pos_ + 2;
  const size_t close = sql_.find("*/", body);
  if (close == std::string_view::npos) {
    malformed_ = true;
    scan_hint(sql_.substr(body));
    pos_ = sql_.size();
    return;
  }
  scan_hint(sql_.substr(body, close - body));
  pos_ = close + 2;
}

void Lexer::skip_line_comment(size_t body_start) {
  size_t end = std::min(sql_.find('\n', body_start), sql_.size());
  if (in_executable_comment_) {
    const size_t close = sql_.substr(0, end).find("*/", body_start);
    if (close != std::string_view::npos) {
      ambiguous_ = true;
      end = close;  // leaves "*/" to close the executable comment
    }
  }
  scan_hint(sql_.substr(body_start, end - body_start));
  pos_ = end;
}

Token Lexer::lex_quoted(TokenKind kind, size_t start) {
  const char quote = sql_[pos_];
  const bool escapes = quote != '`' && !options_.no_backslash_escapes;
  ++pos_;
  while (pos_ < sql_.size()) {
    const char c = sql_[pos_];
    if (c == '\\' && escapes) {
      pos_ += 2;
    } else if (c == quote && at(pos_ + 1) == quote && pos_ + 1 < sql_.size()) {
      pos_ += 2;
    } else if (c == quote) {
      ++pos_;
      const Token token = make(kind, start);
      if (in_executable_comment_ && token.text.find("*/") != std::string_view::npos) {
        ambiguous_ = true;
      }
      return token;
    } else {
      ++pos_;
    }
  }
  pos_ = sql_.size();
  malformed_ = true;
  return make(kind, start);
}

Token Lexer::lex_variable() {
  const size_t start = pos_;
  const bool system = at(pos_ + 1) == '@';
  pos_ += system ? 2 : 1;
  const char c = at(pos_);
  if (!system && pos_ < sql_.size() && (c == '\'' || c == '"' || c == '`')) {
    return lex_quoted(TokenKind::user_variable, start);
  }
  while (pos_ < sql_.size() && (is_word_char(sql_[pos_]) || sql_[pos_] == '.')) {
    ++pos_;
  }
  if (!system && pos_ == start + 1) {
    return make(TokenKind::op, start);  // a lone '@'
  }
  return make(system ? TokenKind::system_variable : TokenKind::user_variable, start);
}

// Numbers are opaque to classification, so anything that starts like one and continues with
// identifier characters or dots is one token ("1.5e-3", "0x1F", "1abc" alike).
Token Lexer::lex_number() {
  const size_t start = pos_;
  while (pos_ < sql_.size()) {
    const char c = sql_[pos_];
    const bool exponent_sign = (c == '+' || c == '-') && to_upper(at(pos_ - 1)) == 'E' &&
                               is_digit(at(pos_ - 2)) && is_digit(at(pos_ + 1));
    if (!is_word_char(c) && c != '.' && !exponent_sign) {
      break;
    }
    ++pos_;
  }
  return make(TokenKind::number, start);
}

Token Lexer::lex_word() {
  const size_t start = pos_;
  while (pos_ < sql_.size() && is_word_char(sql_[pos_])) {
    ++pos_;
  }
  return make(TokenKind::word, start);
}

Token Lexer::lex_operator() {
  const size_t start = pos_;
  const std::string_view rest = sql_.substr(pos_);
  for (std::string_view op : kOperators) {
    if (rest.starts_with(op)) {
      pos_ += op.size();
      return make(TokenKind::op, start);
    }
  }
  ++pos_;
  return make(TokenKind::op, start);
}

void Lexer::scan_hint(std::string_view comment) {
  if (hint_.route != HintRoute::none && hint_.route != HintRoute::invalid) {
    return;
  }
  const size_t at = find_ignore_case(comment, "REPLPROXY");
  if (at == std::string_view::npos) {
    return;
  }
  hint_ = parse_hint(comment.substr(at + 9));
}

}  // namespace replproxy::router
