#include "relay/replica_queries.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace replproxy::relay {
namespace {

// MariaDB's codes for the errors below.
constexpr uint16_t kEmptyQuery = 1065;            // ER_EMPTY_QUERY, 42000
constexpr uint16_t kUnknownSystemVariable = 1193;  // ER_UNKNOWN_SYSTEM_VARIABLE, HY000
constexpr uint16_t kNotSupportedYet = 1235;       // ER_NOT_SUPPORTED_YET, 42000
constexpr uint16_t kParseError = 1064;            // ER_PARSE_ERROR, 42000

std::string_view trim(std::string_view s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.front())) != 0)) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (std::isspace(static_cast<unsigned char>(s.back())) != 0 || s.back() == ';')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Consumes `word` (any case) and the spaces after it when `s` starts with it as a whole word.
bool eat_word(std::string_view& s, std::string_view word) {
  if (s.size() < word.size()) {
    return false;
  }
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(word[i]))) {
      return false;
    }
  }
  if (s.size() > word.size()) {
    const unsigned char next = static_cast<unsigned char>(s[word.size()]);
    if (std::isalnum(next) != 0 || next == '_') {
      return false;
    }
  }
  s = trim(s.substr(word.size()));
  return true;
}

// Splits at commas outside quotes and parentheses.
std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> parts;
  char quote = 0;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '\'' || c == '"' || c == '`') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(trim(s.substr(start)));
  return parts;
}

// The text of a quoted literal ('a''b' and \' unescaped), or nullopt when `s` is not one.
std::optional<std::string> unquote(std::string_view s) {
  if (s.size() < 2 || (s.front() != '\'' && s.front() != '"') || s.back() != s.front()) {
    return std::nullopt;
  }
  const char q = s.front();
  std::string out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    if (s[i] == '\\' && i + 2 < s.size()) {
      out.push_back(s[++i]);
    } else if (s[i] == q && i + 2 < s.size() && s[i + 1] == q) {
      out.push_back(q);
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

// The server variables a replica or a DBA's tool asks the relay about, lower-case names.
std::map<std::string, std::string> system_variables(const RelayFacts& f) {
  return {
      {"binlog_checksum", f.checksums ? "CRC32" : "NONE"},
      {"binlog_format", "ROW"},
      {"character_set_server", "utf8mb4"},
      {"collation_server", "utf8mb4_general_ci"},
      {"gtid_binlog_pos", f.gtid_binlog_pos},
      {"gtid_current_pos", f.gtid_binlog_pos},
      {"gtid_domain_id", "0"},
      {"gtid_strict_mode", "ON"},
      {"log_bin", "ON"},
      {"log_slave_updates", "ON"},
      {"max_allowed_packet", "1073741824"},
      {"read_only", "ON"},
      {"rpl_semi_sync_master_enabled", "ON"},
      {"server_id", std::to_string(f.server_id)},
      {"system_time_zone", "UTC"},
      {"time_zone", "SYSTEM"},
      {"version", f.version},
      {"version_comment", "replproxy binlog relay"},
  };
}

QueryAnswer ok() { return {}; }

QueryAnswer error(uint16_t code, std::string sql_state, std::string message) {
  QueryAnswer a;
  a.kind = QueryAnswer::Kind::error;
  a.error_code = code;
  a.sql_state = std::move(sql_state);
  a.message = std::move(message);
  return a;
}

QueryAnswer rows(std::vector<std::string> columns, std::vector<protocol::TextRow> rows) {
  QueryAnswer a;
  a.kind = QueryAnswer::Kind::rows;
  a.columns = std::move(columns);
  a.rows = std::move(rows);
  return a;
}

// SQL LIKE with % and _, case-insensitive (variable names), no escapes.
bool like(std::string_view text, std::string_view pattern) {
  if (pattern.empty()) {
    return text.empty();
  }
  if (pattern.front() == '%') {
    for (size_t i = 0; i <= text.size(); ++i) {
      if (like(text.substr(i), pattern.substr(1))) {
        return true;
      }
    }
    return false;
  }
  if (text.empty()) {
    return false;
  }
  if (pattern.front() != '_' && std::tolower(static_cast<unsigned char>(pattern.front())) !=
                                    std::tolower(static_cast<unsigned char>(text.front()))) {
    return false;
  }
  return like(text.substr(1), pattern.substr(1));
}

// One `@name = value` (or `@@x = ...`, which is accepted and ignored) of a SET.
void apply_assignment(std::string_view assignment, ReplicaSessionVars& vars,
                      const RelayFacts& facts) {
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos || assignment.empty() || assignment.front() != '@' ||
      (assignment.size() > 1 && assignment[1] == '@')) {
    return;  // SET NAMES, SET autocommit=1, SET @@session.x: nothing the dump depends on
  }
  std::string_view name = trim(assignment.substr(1, eq - 1));
  if (!name.empty() && name.back() == ':') {
    name = trim(name.substr(0, name.size() - 1));
  }
  const std::string_view raw = trim(assignment.substr(eq + 1));
  std::string value;
  if (auto text = unquote(raw)) {
    value = *text;
  } else if (lower(raw) == "@@global.binlog_checksum" || lower(raw) == "@@binlog_checksum") {
    value = facts.checksums ? "CRC32" : "NONE";
  } else {
    value = std::string(raw);
  }
  const std::string key = lower(name);
  if (key == "master_heartbeat_period") {
    vars.heartbeat_period_ns = parse_u64(value).value_or(0);
  } else if (key == "master_binlog_checksum") {
    vars.binlog_checksum = lower(value) == "null" ? std::nullopt : std::optional(value);
  } else if (key == "slave_connect_state") {
    vars.connect_state = value;
  } else if (key == "rpl_semi_sync_slave" || key == "rpl_semi_sync_replica") {
    vars.semi_sync = parse_u64(value).value_or(0) != 0;
  } else if (key == "mariadb_slave_capability") {
    vars.slave_capability = static_cast<uint32_t>(parse_u64(value).value_or(0));
  } else {
    vars.others[key] = value;
  }
}

// The value of one SELECT expression; nullopt in `value` is SQL NULL.
std::optional<QueryAnswer> select_value(std::string_view expr, const ReplicaSessionVars& vars,
                                        const RelayFacts& facts,
                                        std::optional<std::string>& value) {
  const std::string e = lower(expr);
  if (e == "unix_timestamp()") {
    value = std::to_string(facts.now_s);
  } else if (e == "version()") {
    value = facts.version;
  } else if (e.starts_with("@@")) {
    std::string name = e.substr(2);
    for (std::string_view scope : {"global.", "session.", "local."}) {
      if (name.starts_with(scope)) {
        name = name.substr(scope.size());
      }
    }
    const auto variables = system_variables(facts);
    auto it = variables.find(name);
    if (it == variables.end()) {
      return error(kUnknownSystemVariable, "HY000",
                   "Unknown system variable '" + std::string(expr.substr(2)) + "'");
    }
    value = it->second;
  } else if (e.starts_with("@")) {
    const std::string name = e.substr(1);
    if (name == "master_binlog_checksum") {
      value = vars.binlog_checksum;
    } else if (name == "slave_connect_state") {
      value = vars.connect_state;
    } else if (name == "master_heartbeat_period") {
      value = std::to_string(vars.heartbeat_period_ns);
    } else if (auto it = vars.others.find(name); it != vars.others.end()) {
      value = it->second;
    } else {
      value = std::nullopt;
    }
  } else if (auto number = parse_u64(e)) {
    value = std::to_string(*number);
  } else if (auto text = unquote(expr)) {
    value = *text;
  } else {
    return error(kNotSupportedYet, "42000",
                 "the relay's replication port does not evaluate '" + std::string(expr) + "'");
  }
  return std::nullopt;
}

QueryAnswer answer_select(std::string_view list, const ReplicaSessionVars& vars,
                          const RelayFacts& facts) {
  std::vector<std::string> columns;
  protocol::TextRow row;
  for (std::string_view expr : split_list(list)) {
    if (expr.empty()) {
      return error(kParseError, "42000", "You have an error in your SQL syntax near ','");
    }
    std::optional<std::string> value;
    if (auto failed = select_value(expr, vars, facts, value)) {
      return *failed;
    }
    columns.emplace_back(expr);
    row.push_back(std::move(value));
  }
  return rows(std::move(columns), {std::move(row)});
}

QueryAnswer answer_show(std::string_view rest, const RelayFacts& facts) {
  (void)(eat_word(rest, "global") || eat_word(rest, "session"));
  if (eat_word(rest, "variables")) {
    std::string pattern = "%";
    if (eat_word(rest, "like")) {
      auto text = unquote(rest);
      if (!text) {
        return error(kParseError, "42000",
                     "You have an error in your SQL syntax near '" + std::string(rest) + "'");
      }
      pattern = *text;
    } else if (!rest.empty()) {
      return error(kNotSupportedYet, "42000", "SHOW VARIABLES on the relay takes only LIKE");
    }
    std::vector<protocol::TextRow> matching;
    for (const auto& [name, value] : system_variables(facts)) {
      if (like(name, pattern)) {
        matching.push_back({name, value});
      }
    }
    return rows({"Variable_name", "Value"}, std::move(matching));
  }
  if ((eat_word(rest, "master") || eat_word(rest, "binlog")) && eat_word(rest, "status") &&
      rest.empty()) {
    std::vector<protocol::TextRow> r;
    if (!facts.current_file.empty()) {
      r.push_back({facts.current_file, std::to_string(facts.current_position), "", ""});
    }
    return rows({"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"}, std::move(r));
  }
  if ((eat_word(rest, "binary") || eat_word(rest, "master")) && eat_word(rest, "logs") &&
      rest.empty()) {
    std::vector<protocol::TextRow> r;
    for (const auto& [name, size] : facts.files) {
      r.push_back({name, std::to_string(size)});
    }
    return rows({"Log_name", "File_size"}, std::move(r));
  }
  return error(kNotSupportedYet, "42000",
               "the relay's replication port answers SHOW VARIABLES, SHOW MASTER STATUS and "
               "SHOW BINARY LOGS only");
}

}  // namespace

QueryAnswer answer_replica_query(std::string_view sql, ReplicaSessionVars& vars,
                                 const RelayFacts& facts) {
  std::string_view s = trim(sql);
  if (s.empty()) {
    return error(kEmptyQuery, "42000", "Query was empty");
  }
  if (eat_word(s, "set")) {
    if (eat_word(s, "names") || eat_word(s, "character")) {
      return ok();
    }
    for (std::string_view assignment : split_list(s)) {
      apply_assignment(assignment, vars, facts);
    }
    return ok();
  }
  if (eat_word(s, "select")) {
    return answer_select(s, vars, facts);
  }
  if (eat_word(s, "show")) {
    return answer_show(s, facts);
  }
  if (eat_word(s, "kill")) {
    (void)(eat_word(s, "connection") || eat_word(s, "query"));
    auto id = parse_u64(s);
    if (!id) {
      return error(kParseError, "42000",
                   "You have an error in your SQL syntax near '" + std::string(s) + "'");
    }
    QueryAnswer a;
    a.kind = QueryAnswer::Kind::kill;
    a.kill_id = *id;
    return a;
  }
  std::string shown(s.substr(0, 64));
  return error(kNotSupportedYet, "42000",
               "the relay's replication port answers only what replicas send while connecting "
               "(SET, SELECT of variables, SHOW VARIABLES, SHOW MASTER STATUS, SHOW BINARY LOGS, "
               "KILL), not: " +
                   shown);
}

}  // namespace replproxy::relay
