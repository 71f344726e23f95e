// libFuzzer target for the SQL lexer and the statement classifier that drives it. Neither may
// crash, loop or read outside the input, whatever the bytes: every token, hint and name they
// return must be a piece of the input, tokens in order, and classify() must be deterministic.
//
// Input layout: byte 0 bit 0 selects NO_BACKSLASH_ESCAPES; the rest is the SQL text.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "router/classifier.h"
#include "router/lexer.h"

namespace {

using replproxy::router::Classification;
using replproxy::router::Lexer;
using replproxy::router::LexerOptions;
using replproxy::router::Token;
using replproxy::router::TokenKind;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

// An empty view may point anywhere; a non-empty one must lie inside `sql`.
void check_inside(std::string_view part, std::string_view sql) {
  if (!part.empty()) {
    check(part.data() >= sql.data() && part.data() + part.size() <= sql.data() + sql.size());
  }
}

void lex_all(std::string_view sql, LexerOptions options) {
  Lexer lexer(sql, options);
  const char* previous_end = sql.data();
  size_t tokens = 0;
  for (Token token = lexer.next(); token.kind != TokenKind::end; token = lexer.next()) {
    check(++tokens <= sql.size());
    check(!token.text.empty());
    check(token.text.data() >= previous_end);
    check_inside(token.text, sql);
    previous_end = token.text.data() + token.text.size();
  }
  check(lexer.next().kind == TokenKind::end);
  check_inside(lexer.hint().backend, sql);
}

void classify_all(std::string_view sql, LexerOptions options) {
  const Classification c = replproxy::router::classify(sql, options);
  check(c.statement_count <= sql.size());
  check_inside(c.first_keyword, sql);
  check_inside(c.statement_text, sql);
  check_inside(c.use_schema, sql);
  check_inside(c.hint.backend, sql);
  for (const auto& target : c.set_targets) {
    check_inside(target.name, sql);
    check_inside(target.value, sql);
    check_inside(target.text, sql);
  }
  for (const auto& table : c.tables) {
    check_inside(table.schema, sql);
    check_inside(table.name, sql);
  }
  if (c.statement_count > 1) {
    check(!c.is_read());
  }
  const Classification again = replproxy::router::classify(sql, options);
  check(again.access == c.access && again.reason == c.reason &&
        again.statement_count == c.statement_count && again.hint == c.hint);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const LexerOptions options{.no_backslash_escapes = (data[0] & 1) != 0};
  const std::string_view sql(reinterpret_cast<const char*>(data + 1), size - 1);
  lex_all(sql, options);
  classify_all(sql, options);
  return 0;
}
