#include "router/lexer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace replproxy::router {
namespace {

// Tokens as "kind:text", e.g. "word:SELECT".
std::vector<std::string> tokens_of(std::string_view sql, LexerOptions options = {}) {
  constexpr const char* kKinds[] = {"end",  "word", "ident", "string", "number",
                                    "uvar", "svar", "op",    "semi"};
  Lexer lexer(sql, options);
  std::vector<std::string> out;
  for (Token t = lexer.next(); t.kind != TokenKind::end; t = lexer.next()) {
    out.push_back(std::string(kKinds[static_cast<int>(t.kind)]) + ":" + std::string(t.text));
  }
  return out;
}

using Tokens = std::vector<std::string>;

TEST(Lexer, WordsNumbersAndOperators) {
  EXPECT_EQ(tokens_of("SELECT a,b FROM t1 WHERE x>=1.5e-3 AND y<=>.5 OR z:=0x1F;"),
            (Tokens{"word:SELECT", "word:a", "op:,", "word:b", "word:FROM", "word:t1", "word:WHERE",
                    "word:x", "op:>=", "number:1.5e-3", "word:AND", "word:y", "op:<=>", "number:.5",
                    "word:OR", "word:z", "op::=", "number:0x1F", "semi:;"}));
  EXPECT_EQ(
      tokens_of("a<>b!=c<<d>>e&&f||g->h->>i"),
      (Tokens{"word:a", "op:<>", "word:b", "op:!=", "word:c", "op:<<", "word:d", "op:>>", "word:e",
              "op:&&", "word:f", "op:||", "word:g", "op:->", "word:h", "op:->>", "word:i"}));
  EXPECT_EQ(tokens_of("t.`c`(*)"), (Tokens{"word:t", "op:.", "ident:`c`", "op:(", "op:*", "op:)"}));
  EXPECT_EQ(tokens_of("$x _y caf\xC3\xA9 1e5+2"),
            (Tokens{"word:$x", "word:_y", "word:caf\xC3\xA9", "number:1e5", "op:+", "number:2"}));
}

TEST(Lexer, StringsAndQuotedIdentifiers) {
  EXPECT_EQ(tokens_of(R"('it''s' "say ""hi""" 'a\'b' 'c\\' `x``y` `a\`)"),
            (Tokens{"string:'it''s'", R"(string:"say ""hi""")", R"(string:'a\'b')",
                    R"(string:'c\\')", "ident:`x``y`", R"(ident:`a\`)"}));
  EXPECT_EQ(tokens_of("'a' 'b'"), (Tokens{"string:'a'", "string:'b'"}));
  EXPECT_EQ(tokens_of("N'x' _utf8'y'"),
            (Tokens{"word:N", "string:'x'", "word:_utf8", "string:'y'"}));
}

TEST(Lexer, NoBackslashEscapes) {
  EXPECT_EQ(tokens_of(R"('a\' 'b')", {.no_backslash_escapes = true}),
            (Tokens{R"(string:'a\')", "string:'b'"}));
  EXPECT_EQ(tokens_of(R"('a\' 'b')"), (Tokens{R"(string:'a\' ')", "word:b", "string:'"}));
}

TEST(Lexer, Variables) {
  EXPECT_EQ(tokens_of("@x @'a b' @\"c\" @`d` @x.y$ @@v @@session.sql_mode @@GLOBAL.x @ 1"),
            (Tokens{"uvar:@x", "uvar:@'a b'", "uvar:@\"c\"", "uvar:@`d`", "uvar:@x.y$", "svar:@@v",
                    "svar:@@session.sql_mode", "svar:@@GLOBAL.x", "op:@", "number:1"}));
}

TEST(Lexer, CommentsAreSkipped) {
  EXPECT_EQ(tokens_of("a -- c1\nb # c2\nc /* c3 */ d /*+ HINT(x) */ e"),
            (Tokens{"word:a", "word:b", "word:c", "word:d", "word:e"}));
  EXPECT_EQ(tokens_of("a --\tx\nb --"), (Tokens{"word:a", "word:b"}));
  // Without a blank after them, two dashes are two minus signs.
  EXPECT_EQ(tokens_of("1--2"), (Tokens{"number:1", "op:-", "op:-", "number:2"}));
  EXPECT_EQ(tokens_of("a/**/b/* * / */c"), (Tokens{"word:a", "word:b", "word:c"}));
}

TEST(Lexer, ExecutableCommentsAreCode) {
  EXPECT_EQ(tokens_of("/*!40101 SET x=1 */;"),
            (Tokens{"word:SET", "word:x", "op:=", "number:1", "semi:;"}));
  EXPECT_EQ(tokens_of("a /*!FOR UPDATE*/ b"),
            (Tokens{"word:a", "word:FOR", "word:UPDATE", "word:b"}));
  EXPECT_EQ(tokens_of("/*M!100301 x*/y"), (Tokens{"word:x", "word:y"}));
  EXPECT_EQ(tokens_of("/*!1234567 x */"), (Tokens{"number:7", "word:x"}));
  EXPECT_EQ(tokens_of("a */ b"), (Tokens{"word:a", "op:*", "op:/", "word:b"}));
}

TEST(Lexer, UnterminatedInputIsMalformedNotFatal) {
  for (std::string_view sql :
       {"'abc", "\"abc", "`abc", "/* abc", "/*!50000 abc", "'a\\", "@'x", "x /*"}) {
    Lexer lexer(sql);
    int tokens = 0;
    while (lexer.next().kind != TokenKind::end) {
      ASSERT_LT(++tokens, 10) << sql;
    }
    EXPECT_TRUE(lexer.malformed()) << sql;
    EXPECT_EQ(lexer.next().kind, TokenKind::end) << sql;
  }
  Lexer lexer("SELECT 'x");
  EXPECT_EQ(lexer.next().text, "SELECT");
  EXPECT_EQ(lexer.next().text, "'x");
  EXPECT_FALSE(Lexer("SELECT 'x'").malformed());
}

TEST(Lexer, AmbiguousExecutableComments) {
  const auto ambiguous = [](std::string_view sql) {
    Lexer lexer(sql);
    while (lexer.next().kind != TokenKind::end) {
    }
    return lexer.ambiguous();
  };
  EXPECT_TRUE(ambiguous("/*!99999 'a */ b' */"));
  EXPECT_TRUE(ambiguous("/*!99999 -- x */ y"));
  EXPECT_TRUE(ambiguous("/*!99999 /* c */ x */"));
  EXPECT_TRUE(ambiguous("/*!99999 /*!99999 x */"));
  EXPECT_FALSE(ambiguous("/*!99999 'a' -- c\n */ 'b */'"));
  EXPECT_FALSE(ambiguous("'*/' /* x */ -- */"));
}

RouteHint hint_of(std::string_view sql) {
  Lexer lexer(sql);
  while (lexer.next().kind != TokenKind::end) {
  }
  return lexer.hint();
}

TEST(Lexer, Hints) {
  EXPECT_EQ(hint_of("SELECT 1"), (RouteHint{}));
  EXPECT_EQ(hint_of("/* replproxy: route=primary */"), (RouteHint{HintRoute::primary, {}}));
  EXPECT_EQ(hint_of("/*replproxy:route=replica*/"), (RouteHint{HintRoute::replica, {}}));
  EXPECT_EQ(hint_of("/* ReplProxy : Route = Backend:db2 */"),
            (RouteHint{HintRoute::backend, "db2"}));
  EXPECT_EQ(hint_of("-- replproxy: route=replica"), (RouteHint{HintRoute::replica, {}}));
  EXPECT_EQ(hint_of("# replproxy: route=primary\n"), (RouteHint{HintRoute::primary, {}}));
  EXPECT_EQ(hint_of("/* replproxy: route=primary, app=x */"), (RouteHint{HintRoute::primary, {}}));
  EXPECT_EQ(hint_of("/* replproxy: route=primaryx */"), (RouteHint{HintRoute::invalid, {}}));
  EXPECT_EQ(hint_of("/* replproxy: route=backend:a b */"), (RouteHint{HintRoute::backend, "a"}));
  EXPECT_EQ(hint_of("/* replproxy: route=backend:a/b */"), (RouteHint{HintRoute::backend, "a"}));
  EXPECT_EQ(hint_of("/* replproxy: route= */"), (RouteHint{HintRoute::invalid, {}}));
  EXPECT_EQ(hint_of("/* replproxy */"), (RouteHint{HintRoute::invalid, {}}));
  EXPECT_EQ(hint_of("/* replproxy: target=primary */"), (RouteHint{HintRoute::invalid, {}}));
  EXPECT_EQ(hint_of("'/* replproxy: route=primary */'"), (RouteHint{}));
  EXPECT_EQ(hint_of("/* replproxy: route=replica */ /* replproxy: route=primary */"),
            (RouteHint{HintRoute::replica, {}}));
  EXPECT_EQ(hint_of("/* replproxy: route=x */ /* replproxy: route=primary */"),
            (RouteHint{HintRoute::primary, {}}));
  EXPECT_EQ(hint_of("/* replproxy: route=backend:db1 */ -- replproxy: route=backend:db2"),
            (RouteHint{HintRoute::backend, "db1"}));
  EXPECT_EQ(hint_of("/* replproxy: route=replica"), (RouteHint{HintRoute::replica, {}}));
}

TEST(Token, KeywordComparisonIgnoresCase) {
  EXPECT_TRUE((Token{TokenKind::word, "sElEcT"}).is("SELECT"));
  EXPECT_FALSE((Token{TokenKind::word, "SELECTS"}).is("SELECT"));
  EXPECT_FALSE((Token{TokenKind::quoted_identifier, "`SELECT`"}).is("SELECT"));
  EXPECT_FALSE((Token{TokenKind::string, "'SELECT'"}).is("SELECT"));
  EXPECT_TRUE((Token{TokenKind::op, ":="}).is_op(":="));
  EXPECT_TRUE((Token{TokenKind::semicolon, ";"}).ends_statement());
  EXPECT_TRUE((Token{}).ends_statement());
}

TEST(Unquote, StripsOneLevel) {
  EXPECT_EQ(unquote("`a``b`"), "a``b");
  EXPECT_EQ(unquote("'x'"), "x");
  EXPECT_EQ(unquote("\"x\""), "x");
  EXPECT_EQ(unquote("@'x'"), "x");
  EXPECT_EQ(unquote("@x"), "x");
  EXPECT_EQ(unquote("@@session.x"), "session.x");
  EXPECT_EQ(unquote("plain"), "plain");
  EXPECT_EQ(unquote("'"), "'");
  EXPECT_EQ(unquote(""), "");
}

// Whatever the input, the lexer ends, and each token is a piece of the input in order.
TEST(Lexer, AlwaysTerminatesAndCoversInputInOrder) {
  std::mt19937 random(42);
  const std::string alphabet = "'\"`@#-/*!M;:.=()0123456789eE+ \n\\abcSELECT\x80\xff";
  for (int round = 0; round < 20000; ++round) {
    std::string sql(random() % 40, ' ');
    for (char& c : sql) {
      c = alphabet[random() % alphabet.size()];
    }
    Lexer lexer(sql);
    const char* previous_end = sql.data();
    size_t tokens = 0;
    for (Token t = lexer.next(); t.kind != TokenKind::end; t = lexer.next()) {
      ASSERT_LE(++tokens, sql.size()) << sql;
      ASSERT_FALSE(t.text.empty()) << sql;
      ASSERT_GE(t.text.data(), previous_end) << sql;
      ASSERT_LE(t.text.data() + t.text.size(), sql.data() + sql.size()) << sql;
      previous_end = t.text.data() + t.text.size();
    }
  }
}

}  // namespace
}  // namespace replproxy::router
