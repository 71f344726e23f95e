#include "admin/command.h"

#include <cctype>
#include <optional>
#include <vector>

namespace replproxy::admin {
namespace {

constexpr std::string_view kHelp =
    "Commands:\n"
    "  SHOW BACKENDS                   every backend: role, state and why, lag, GTID position\n"
    "  SHOW STATS [LIKE 'pattern']     the proxy's counters, summed over the workers\n"
    "  SHOW SESSIONS                   client sessions (also SHOW PROCESSLIST)\n"
    "  SHOW RULES                      [[routing.rules]] with their hit counts\n"
    "  SHOW TUNNELS                    [[tunnels]] with their connections, bytes and failures\n"
    "  SHOW RELAY STATUS               the binlog relay: source, GTID position, files, semi-sync ACKs\n"
    "  SHOW RELAY REPLICAS             replicas connected to the relay: position and lag\n"
    "  SHOW CONFIG                     the effective configuration, secrets masked\n"
    "  SHOW VERSION                    the replproxy version\n"
    "  SET BACKEND 'name' MAINTENANCE  take a backend out of routing (needs [health])\n"
    "  SET BACKEND 'name' ONLINE       let it serve again once it is fit\n"
    "  RELOAD CONFIG                   re-read the TOML file and apply it (as SIGHUP does)\n"
    "  KILL SESSION n                  close client session n (its id in SHOW SESSIONS)\n"
    "  HELP                            this list\n";

struct Token {
  std::string text;  // upper-cased for words, as written for quoted strings
  bool quoted = false;
};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '@' || c == '.';
}

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// Reads a quoted string starting at sql[pos] (the quote); advances pos past the closing quote.
std::expected<Token, std::string> read_quoted(std::string_view sql, size_t& pos) {
  const char quote = sql[pos++];
  Token token{"", true};
  while (pos < sql.size()) {
    const char c = sql[pos++];
    if (c != quote) {
      token.text.push_back(c);
    } else if (pos < sql.size() && sql[pos] == quote) {
      token.text.push_back(quote);
      ++pos;
    } else {
      return token;
    }
  }
  return std::unexpected(std::string("unterminated quoted string"));
}

std::expected<std::vector<Token>, std::string> tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  size_t pos = 0;
  while (pos < sql.size()) {
    const char c = sql[pos];
    if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == ';') {
      ++pos;
    } else if (c == '\'' || c == '"') {
      auto token = read_quoted(sql, pos);
      if (!token) {
        return std::unexpected(token.error());
      }
      tokens.push_back(std::move(*token));
    } else if (is_word_char(c)) {
      Token token;
      for (; pos < sql.size() && is_word_char(sql[pos]); ++pos) {
        token.text.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(sql[pos]))));
      }
      tokens.push_back(std::move(token));
    } else {
      return std::unexpected("unexpected character '" + std::string(1, c) + "'");
    }
  }
  return tokens;
}

// Semicolons are only allowed at the end: one statement per query.
bool has_inner_semicolon(std::string_view sql) {
  const size_t last = sql.find_last_not_of(" \t\r\n;");
  return last != std::string_view::npos && sql.substr(0, last).find(';') != std::string_view::npos;
}

bool is_word(const std::vector<Token>& tokens, size_t i, std::string_view word) {
  return i < tokens.size() && !tokens[i].quoted && tokens[i].text == word;
}

std::optional<Command> parse_show(const std::vector<Token>& t) {
  if (t.size() == 2 && is_word(t, 1, "BACKENDS")) {
    return Command{CommandKind::show_backends};
  }
  if (t.size() == 2 && is_word(t, 1, "VERSION")) {
    return Command{CommandKind::show_version};
  }
  if (t.size() == 2 && is_word(t, 1, "CONFIG")) {
    return Command{CommandKind::show_config};
  }
  if (t.size() == 2 && (is_word(t, 1, "SESSIONS") || is_word(t, 1, "PROCESSLIST"))) {
    return Command{CommandKind::show_sessions};
  }
  if (t.size() == 3 && is_word(t, 1, "FULL") && is_word(t, 2, "PROCESSLIST")) {
    return Command{CommandKind::show_sessions};
  }
  if (t.size() == 2 && is_word(t, 1, "RULES")) {
    return Command{CommandKind::show_rules};
  }
  if (t.size() == 2 && is_word(t, 1, "TUNNELS")) {
    return Command{CommandKind::show_tunnels};
  }
  if (t.size() == 3 && is_word(t, 1, "RELAY") && is_word(t, 2, "STATUS")) {
    return Command{CommandKind::show_relay_status};
  }
  if (t.size() == 3 && is_word(t, 1, "RELAY") && is_word(t, 2, "REPLICAS")) {
    return Command{CommandKind::show_relay_replicas};
  }
  if (t.size() == 2 && is_word(t, 1, "STATS")) {
    return Command{CommandKind::show_stats};
  }
  if (t.size() == 4 && is_word(t, 1, "STATS") && is_word(t, 2, "LIKE") && t[3].quoted) {
    return Command{.kind = CommandKind::show_stats, .pattern = t[3].text};
  }
  return std::nullopt;
}

std::optional<Command> parse_set(const std::vector<Token>& t) {
  if (t.size() != 4 || !is_word(t, 1, "BACKEND") || !t[2].quoted) {
    return std::nullopt;
  }
  if (is_word(t, 3, "MAINTENANCE")) {
    return Command{.kind = CommandKind::set_maintenance, .backend = t[2].text};
  }
  if (is_word(t, 3, "ONLINE")) {
    return Command{.kind = CommandKind::set_online, .backend = t[2].text};
  }
  return std::nullopt;
}

// A session id: decimal digits that fit in 32 bits, not 0.
std::optional<uint32_t> session_id(const Token& token) {
  if (token.quoted || token.text.empty() || token.text.size() > 10 ||
      token.text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const uint64_t value = std::stoull(token.text);
  if (value == 0 || value > UINT32_MAX) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

// KILL SESSION n, and the MySQL spellings KILL n / KILL CONNECTION n.
std::optional<Command> parse_kill(const std::vector<Token>& t) {
  const bool named = t.size() == 3 && (is_word(t, 1, "SESSION") || is_word(t, 1, "CONNECTION"));
  if (!named && t.size() != 2) {
    return std::nullopt;
  }
  const auto id = session_id(t.back());
  if (!id) {
    return std::nullopt;
  }
  return Command{.kind = CommandKind::kill_session, .session = *id};
}

std::optional<Command> parse_tokens(const std::vector<Token>& t) {
  if (is_word(t, 0, "KILL")) {
    return parse_kill(t);
  }
  if (t.size() == 2 && is_word(t, 0, "RELOAD") && is_word(t, 1, "CONFIG")) {
    return Command{CommandKind::reload_config};
  }
  if (is_word(t, 0, "SHOW")) {
    return parse_show(t);
  }
  if (is_word(t, 0, "SET")) {
    return parse_set(t);
  }
  if (t.size() == 1 && is_word(t, 0, "HELP")) {
    return Command{CommandKind::help};
  }
  const bool limit_one = t.size() == 4 && is_word(t, 2, "LIMIT") && is_word(t, 3, "1");
  if (is_word(t, 0, "SELECT") && is_word(t, 1, "@@VERSION_COMMENT") && (t.size() == 2 || limit_one)) {
    return Command{CommandKind::version_comment};
  }
  return std::nullopt;
}

std::string with_help(std::string problem) { return problem + "\n" + std::string(kHelp); }

}  // namespace

std::string_view help_text() { return kHelp; }

std::expected<Command, std::string> parse_command(std::string_view sql) {
  if (has_inner_semicolon(sql)) {
    return std::unexpected(with_help("only one command per query is allowed"));
  }
  const auto tokens = tokenize(sql);
  if (!tokens) {
    return std::unexpected(with_help("cannot parse the command: " + tokens.error()));
  }
  if (tokens->empty()) {
    return std::unexpected(with_help("empty command"));
  }
  if (auto command = parse_tokens(*tokens)) {
    return *command;
  }
  std::string shown(sql.substr(0, 100));
  return std::unexpected(with_help("unknown or malformed admin command: " + shown));
}

bool like_match(std::string_view text, std::string_view pattern) {
  if (pattern.empty()) {
    return text.empty();
  }
  if (pattern[0] == '%') {
    for (size_t skip = 0; skip <= text.size(); ++skip) {
      if (like_match(text.substr(skip), pattern.substr(1))) {
        return true;
      }
    }
    return false;
  }
  if (text.empty()) {
    return false;
  }
  if (pattern[0] == '\\' && pattern.size() > 1) {
    return lower(text[0]) == lower(pattern[1]) && like_match(text.substr(1), pattern.substr(2));
  }
  const bool one = pattern[0] == '_' || lower(text[0]) == lower(pattern[0]);
  return one && like_match(text.substr(1), pattern.substr(1));
}

}  // namespace replproxy::admin
