#include "admin/command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace replproxy::admin {
namespace {

struct Case {
  std::string sql;
  Command expected;
};

TEST(ParseCommand, AcceptedSpellings) {
  const std::vector<Case> cases = {
      {"SHOW BACKENDS", {CommandKind::show_backends}},
      {"  show   backends ;  ", {CommandKind::show_backends}},
      {"Show Backends;", {CommandKind::show_backends}},
      {"SHOW STATS", {CommandKind::show_stats}},
      {"show stats like 'reads%'", {.kind = CommandKind::show_stats, .pattern = "reads%"}},
      {"SHOW STATS LIKE \"q_eries\";", {.kind = CommandKind::show_stats, .pattern = "q_eries"}},
      {"SHOW VERSION", {CommandKind::show_version}},
      {"show config", {CommandKind::show_config}},
      {"SET BACKEND 'db2' MAINTENANCE",
       {.kind = CommandKind::set_maintenance, .backend = "db2"}},
      {"set backend \"db-2.x\" online;", {.kind = CommandKind::set_online, .backend = "db-2.x"}},
      {"SET BACKEND 'it''s' ONLINE", {.kind = CommandKind::set_online, .backend = "it's"}},
      {"SHOW SESSIONS", {CommandKind::show_sessions}},
      {"show processlist", {CommandKind::show_sessions}},
      {"SHOW FULL PROCESSLIST;", {CommandKind::show_sessions}},
      {"show rules", {CommandKind::show_rules}},
      {"SHOW TUNNELS", {CommandKind::show_tunnels}},
      {"show tunnels;", {CommandKind::show_tunnels}},
      {"SHOW RELAY STATUS", {CommandKind::show_relay_status}},
      {"show relay replicas;", {CommandKind::show_relay_replicas}},
      {"RELOAD CONFIG", {CommandKind::reload_config}},
      {"reload config;", {CommandKind::reload_config}},
      {"KILL SESSION 42", {.kind = CommandKind::kill_session, .session = 42}},
      {"kill 7", {.kind = CommandKind::kill_session, .session = 7}},
      {"KILL CONNECTION 4294967295", {.kind = CommandKind::kill_session, .session = 4294967295u}},
      {"help", {CommandKind::help}},
      {"HELP;", {CommandKind::help}},
      {"select @@version_comment limit 1", {CommandKind::version_comment}},
      {"SELECT @@VERSION_COMMENT", {CommandKind::version_comment}},
  };
  for (const Case& c : cases) {
    const auto command = parse_command(c.sql);
    ASSERT_TRUE(command.has_value()) << c.sql << ": " << command.error();
    EXPECT_EQ(*command, c.expected) << c.sql;
  }
}

struct Failure {
  std::string sql;
  std::string first_line;
};

TEST(ParseCommand, RejectionsSayWhatIsWrongAndListTheCommands) {
  const std::vector<Failure> cases = {
      {"", "empty command"},
      {" ; ", "empty command"},
      {"SHOW TABLES", "unknown or malformed admin command: SHOW TABLES"},
      {"SHOW BACKENDS extra", "unknown or malformed admin command: SHOW BACKENDS extra"},
      {"SHOW STATS LIKE reads", "unknown or malformed admin command: SHOW STATS LIKE reads"},
      {"SET BACKEND db2 MAINTENANCE",
       "unknown or malformed admin command: SET BACKEND db2 MAINTENANCE"},
      {"SET BACKEND 'db2' OFFLINE", "unknown or malformed admin command: SET BACKEND 'db2' OFFLINE"},
      {"SET BACKEND 'db2", "cannot parse the command: unterminated quoted string"},
      {"SHOW BACKENDS; SHOW STATS", "only one command per query is allowed"},
      {"SELECT 1+1", "cannot parse the command: unexpected character '+'"},
      {"SELECT 1", "unknown or malformed admin command: SELECT 1"},
      {"KILL SESSION", "unknown or malformed admin command: KILL SESSION"},
      {"KILL SESSION 0", "unknown or malformed admin command: KILL SESSION 0"},
      {"KILL SESSION 4294967296", "unknown or malformed admin command: KILL SESSION 4294967296"},
      {"KILL SESSION '3'", "unknown or malformed admin command: KILL SESSION '3'"},
      {"KILL SESSION 3x", "unknown or malformed admin command: KILL SESSION 3x"},
      {"RELOAD", "unknown or malformed admin command: RELOAD"},
      {"RELOAD CONFIG now", "unknown or malformed admin command: RELOAD CONFIG now"},
  };
  for (const Failure& c : cases) {
    const auto command = parse_command(c.sql);
    ASSERT_FALSE(command.has_value()) << c.sql;
    const std::string& message = command.error();
    EXPECT_EQ(message.substr(0, message.find('\n')), c.first_line) << c.sql;
    EXPECT_NE(message.find(help_text()), std::string::npos) << c.sql;
  }
}

TEST(HelpText, ListsEveryCommand) {
  for (std::string_view name : {"SHOW BACKENDS", "SHOW STATS [LIKE 'pattern']", "SHOW CONFIG",
                                "SHOW VERSION", "SET BACKEND 'name' MAINTENANCE",
                                "SET BACKEND 'name' ONLINE", "HELP", "SHOW SESSIONS",
                                "SHOW RULES", "SHOW TUNNELS", "RELOAD CONFIG", "KILL SESSION n"}) {
    EXPECT_NE(help_text().find(name), std::string_view::npos) << name;
  }
}

TEST(LikeMatch, Patterns) {
  EXPECT_TRUE(like_match("reads_rerouted", "reads%"));
  EXPECT_TRUE(like_match("reads_rerouted", "READS%"));
  EXPECT_TRUE(like_match("reads_rerouted", "%rout%"));
  EXPECT_TRUE(like_match("queries", "quer_es"));
  EXPECT_TRUE(like_match("queries", "%"));
  EXPECT_TRUE(like_match("", "%"));
  EXPECT_TRUE(like_match("a_b", "a\\_b"));
  EXPECT_FALSE(like_match("axb", "a\\_b"));
  EXPECT_FALSE(like_match("queries", "reads%"));
  EXPECT_FALSE(like_match("queries", "quer_"));
  EXPECT_FALSE(like_match("queries", ""));
  EXPECT_TRUE(like_match("causal_read_waits", "%read%waits"));
}

}  // namespace
}  // namespace replproxy::admin
