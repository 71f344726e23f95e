#include "relay/replica_queries.h"

#include <gtest/gtest.h>

namespace replproxy::relay {
namespace {

RelayFacts facts() {
  RelayFacts f;
  f.server_id = 9001;
  f.version = "10.11.0-MariaDB-replproxy";
  f.checksums = true;
  f.gtid_binlog_pos = "0-1-42";
  f.current_file = "replproxy-bin.000002";
  f.current_position = 1234;
  f.files = {{"replproxy-bin.000001", 500}, {"replproxy-bin.000002", 1234}};
  f.now_s = 1796198129;
  return f;
}

QueryAnswer ask(std::string_view sql, ReplicaSessionVars& vars) {
  return answer_replica_query(sql, vars, facts());
}

// The sequence a MariaDB 10.11 replica sends (docs/relay-protocol.md), answered as a primary does.
TEST(ReplicaQueries, AReplicasConnectSequence) {
  ReplicaSessionVars vars;
  QueryAnswer a = ask("SELECT UNIX_TIMESTAMP()", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  EXPECT_EQ(a.columns, std::vector<std::string>{"UNIX_TIMESTAMP()"});
  EXPECT_EQ(a.rows.at(0).at(0), "1796198129");

  a = ask("SHOW VARIABLES LIKE 'SERVER_ID'", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  EXPECT_EQ(a.columns, (std::vector<std::string>{"Variable_name", "Value"}));
  ASSERT_EQ(a.rows.size(), 1u);
  EXPECT_EQ(a.rows[0][0], "server_id");
  EXPECT_EQ(a.rows[0][1], "9001");

  EXPECT_EQ(ask("SET @master_heartbeat_period= 5000000000", vars).kind, QueryAnswer::Kind::ok);
  EXPECT_EQ(vars.heartbeat_period_ns, 5000000000u);
  EXPECT_EQ(ask("SET @master_binlog_checksum= @@global.binlog_checksum", vars).kind,
            QueryAnswer::Kind::ok);
  a = ask("SELECT @master_binlog_checksum", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  EXPECT_EQ(a.columns[0], "@master_binlog_checksum");
  EXPECT_EQ(a.rows[0][0], "CRC32");

  EXPECT_EQ(ask("SET @mariadb_slave_capability=4", vars).kind, QueryAnswer::Kind::ok);
  EXPECT_EQ(vars.slave_capability, 4u);
  a = ask("SELECT @@GLOBAL.gtid_domain_id", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  EXPECT_EQ(a.columns[0], "@@GLOBAL.gtid_domain_id");
  EXPECT_EQ(a.rows[0][0], "0");

  EXPECT_EQ(ask("SET @slave_connect_state='0-1-15,1-2-3'", vars).kind, QueryAnswer::Kind::ok);
  EXPECT_EQ(vars.connect_state, "0-1-15,1-2-3");
  EXPECT_EQ(ask("SET @slave_gtid_strict_mode=1", vars).kind, QueryAnswer::Kind::ok);
  EXPECT_EQ(ask("SET @slave_gtid_ignore_duplicates=0", vars).kind, QueryAnswer::Kind::ok);
  EXPECT_EQ(vars.others.at("slave_gtid_strict_mode"), "1");

  a = ask("SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  ASSERT_EQ(a.rows.size(), 1u);
  EXPECT_EQ(a.rows[0][1], "ON");
  EXPECT_FALSE(vars.semi_sync);
  EXPECT_EQ(ask("SET @rpl_semi_sync_slave= 1", vars).kind, QueryAnswer::Kind::ok);
  EXPECT_TRUE(vars.semi_sync);
  EXPECT_EQ(ask("SET NAMES utf8mb4", vars).kind, QueryAnswer::Kind::ok);
}

TEST(ReplicaQueries, MariadbBinlogsQueries) {
  ReplicaSessionVars vars;
  QueryAnswer a = ask("SELECT VERSION()", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  EXPECT_EQ(a.rows[0][0], "10.11.0-MariaDB-replproxy");
  EXPECT_EQ(ask("SET @master_binlog_checksum='NONE'", vars).kind, QueryAnswer::Kind::ok);
  EXPECT_EQ(vars.binlog_checksum, "NONE");
}

TEST(ReplicaQueries, UnsetUserVariableIsNull) {
  ReplicaSessionVars vars;
  QueryAnswer a = ask("SELECT @master_binlog_checksum", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  EXPECT_FALSE(a.rows[0][0].has_value());
}

TEST(ReplicaQueries, SeveralExpressionsInOneSelect) {
  ReplicaSessionVars vars;
  QueryAnswer a = ask("select @@server_id, @@global.gtid_binlog_pos, 1", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  ASSERT_EQ(a.rows[0].size(), 3u);
  EXPECT_EQ(a.rows[0][0], "9001");
  EXPECT_EQ(a.rows[0][1], "0-1-42");
  EXPECT_EQ(a.rows[0][2], "1");
}

TEST(ReplicaQueries, MasterStatusAndBinaryLogs) {
  ReplicaSessionVars vars;
  QueryAnswer a = ask("SHOW MASTER STATUS", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  ASSERT_EQ(a.rows.size(), 1u);
  EXPECT_EQ(a.rows[0][0], "replproxy-bin.000002");
  EXPECT_EQ(a.rows[0][1], "1234");
  a = ask("show binary logs;", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  ASSERT_EQ(a.rows.size(), 2u);
  EXPECT_EQ(a.rows[1][0], "replproxy-bin.000002");
  EXPECT_EQ(a.rows[1][1], "1234");
}

TEST(ReplicaQueries, LikePatterns) {
  ReplicaSessionVars vars;
  QueryAnswer a = ask("SHOW GLOBAL VARIABLES LIKE 'gtid_%_pos'", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  ASSERT_EQ(a.rows.size(), 2u);
  EXPECT_EQ(a.rows[0][0], "gtid_binlog_pos");
  EXPECT_EQ(a.rows[1][0], "gtid_current_pos");
  a = ask("SHOW VARIABLES LIKE 'no_such_thing'", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::rows);
  EXPECT_TRUE(a.rows.empty());
}

TEST(ReplicaQueries, Kill) {
  ReplicaSessionVars vars;
  QueryAnswer a = ask("KILL 17", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::kill);
  EXPECT_EQ(a.kill_id, 17u);
  a = ask("KILL CONNECTION 3", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::kill);
  EXPECT_EQ(a.kill_id, 3u);
  EXPECT_EQ(ask("KILL me", vars).error_code, 1064);
}

TEST(ReplicaQueries, ErrorsAreClear) {
  ReplicaSessionVars vars;
  QueryAnswer a = ask("", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::error);
  EXPECT_EQ(a.error_code, 1065);
  a = ask("SELECT @@no_such_variable", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::error);
  EXPECT_EQ(a.error_code, 1193);
  EXPECT_EQ(a.message, "Unknown system variable 'no_such_variable'");
  a = ask("DROP TABLE t", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::error);
  EXPECT_EQ(a.error_code, 1235);
  EXPECT_NE(a.message.find("DROP TABLE t"), std::string::npos);
  a = ask("SELECT * FROM mysql.user", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::error);
  EXPECT_EQ(a.error_code, 1235);
  a = ask("SHOW SLAVE STATUS", vars);
  ASSERT_EQ(a.kind, QueryAnswer::Kind::error);
  EXPECT_EQ(a.error_code, 1235);
}

}  // namespace
}  // namespace replproxy::relay
