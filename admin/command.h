#pragma once

// The admin SQL commands and their parser: pure functions of the statement text, so that every
// spelling the interface accepts is unit-tested without a socket.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace replproxy::admin {

enum class CommandKind {
  show_backends,    // SHOW BACKENDS
  show_stats,       // SHOW STATS [LIKE 'pattern']
  show_version,     // SHOW VERSION
  show_config,      // SHOW CONFIG
  set_maintenance,  // SET BACKEND 'name' MAINTENANCE
  set_online,       // SET BACKEND 'name' ONLINE
  show_sessions,    // SHOW SESSIONS, SHOW [FULL] PROCESSLIST
  show_rules,       // SHOW RULES
  show_tunnels,     // SHOW TUNNELS
  show_relay_status,    // SHOW RELAY STATUS
  show_relay_replicas,  // SHOW RELAY REPLICAS
  reload_config,    // RELOAD CONFIG
  kill_session,     // KILL SESSION n (also KILL [CONNECTION] n)
  help,             // HELP
  // SELECT @@version_comment [LIMIT 1]: what the mariadb/mysql CLI sends when it connects.
  version_comment,
};

struct Command {
  CommandKind kind = CommandKind::help;
  std::string backend;  // set_maintenance / set_online
  std::string pattern;  // show_stats: the LIKE pattern, "" without LIKE
  uint32_t session = 0;  // kill_session: the client connection id

  bool operator==(const Command&) const = default;
};

// The commands and what they do, one per line; part of every parse error.
std::string_view help_text();

// Case-insensitive, tolerant of spacing and of a trailing ';'. Names and patterns are quoted
// with ' or " (a doubled quote stands for itself). The error says what is wrong, then lists the
// commands.
std::expected<Command, std::string> parse_command(std::string_view sql);

// SQL LIKE: '%' matches any run of characters, '_' one character, '\' escapes the next one;
// case-insensitive as with the default collations.
bool like_match(std::string_view text, std::string_view pattern);

}  // namespace replproxy::admin
