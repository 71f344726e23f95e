#pragma once

// Shared by the classifier's source files (internal to router/).

#include <algorithm>
#include <initializer_list>
#include <string_view>

#include "router/classifier.h"
#include "router/lexer.h"

namespace replproxy::router::internal {

// The lexer's tokens with one token of lookahead, and the last token consumed.
class TokenStream {
 public:
  explicit TokenStream(Lexer& lexer) : lexer_(lexer) {}

  const Token& peek() {
    if (!has_peeked_) {
      peeked_ = lexer_.next();
      has_peeked_ = true;
    }
    return peeked_;
  }
  Token next() {
    last_ = peek();
    has_peeked_ = false;
    return last_;
  }
  // The last token next() returned.
  const Token& last() const { return last_; }
  bool at_statement_end() { return peek().ends_statement(); }
  // Consumes the next token when it is the word `keyword` (upper case).
  bool accept(std::string_view keyword) {
    if (!peek().is(keyword)) {
      return false;
    }
    next();
    return true;
  }
  bool accept_op(std::string_view op) {
    if (!peek().is_op(op)) {
      return false;
    }
    next();
    return true;
  }
  // Consumes everything up to, not including, the `;` or end that ends the statement.
  void skip_statement() {
    while (!at_statement_end()) {
      next();
    }
  }

 private:
  Lexer& lexer_;
  Token peeked_;
  Token last_;
  bool has_peeked_ = false;
};

// Watches the tokens of a query (or of an expression) for what makes it primary-only or sticky.
// feed() is called with each token in order and the token after it.
class QueryScanner {
 public:
  explicit QueryScanner(Classification& out) : out_(out) {}

  void feed(const Token& token, const Token& next);

 private:
  void on_word(const Token& word, const Token& next);
  void on_call(const Token& name);
  void on_system_variable(const Token& variable);

  Classification& out_;
  Token previous_;
};

// Whether `token` is one of the words `keywords` (upper case).
inline bool is_any_of(const Token& token, std::initializer_list<std::string_view> keywords) {
  return std::ranges::any_of(keywords, [&](std::string_view k) { return token.is(k); });
}

// The text from the start of `first` to the end of `last`, which comes after it in the input.
inline std::string_view span(const Token& first, const Token& last) {
  const char* begin = first.text.data();
  const char* end = last.text.data() + last.text.size();
  return {begin, static_cast<size_t>(end - begin)};
}

// Makes the statement primary-only; the first reason given is kept.
inline void mark_write(Classification& out, Reason reason) {
  out.access = Access::write;
  if (out.reason == Reason::none) {
    out.reason = reason;
  }
}

// The statement starting with `first` (already consumed); each consumes at most up to the `;`.
void classify_statement(TokenStream& tokens, const Token& first, Classification& out);
void classify_query(TokenStream& tokens, const Token& first, Classification& out);
void classify_set(TokenStream& tokens, Classification& out);
void classify_begin(TokenStream& tokens, Classification& out);
void classify_start(TokenStream& tokens, Classification& out);
void classify_commit_or_rollback(TokenStream& tokens, const Token& first, Classification& out);
void classify_release(TokenStream& tokens, Classification& out);
void classify_create(TokenStream& tokens, Classification& out);
void classify_drop(TokenStream& tokens, Classification& out);
void classify_lock(TokenStream& tokens, const Token& first, Classification& out);

}  // namespace replproxy::router::internal
