#include "health/replica_status.h"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace replproxy::health {
namespace {

using Value = std::optional<std::string_view>;

struct Row {
  std::vector<std::string_view> names;
  std::vector<Value> values;
};

Row make_row(std::initializer_list<std::pair<std::string_view, Value>> columns) {
  Row row;
  for (const auto& [name, value] : columns) {
    row.names.push_back(name);
    row.values.push_back(value);
  }
  return row;
}

// A row as SHOW SLAVE STATUS prints it on MariaDB 10.11 (SHOW REPLICA STATUS keeps these names),
// trimmed to the first columns and those the prober reads, in the server's order.
Row mariadb_row() {
  return make_row({
      {"Slave_IO_State", "Waiting for master to send event"},
      {"Master_Host", "127.0.0.1"},
      {"Master_User", "repl"},
      {"Master_Port", "3307"},
      {"Connect_Retry", "60"},
      {"Master_Log_File", "mysql-bin.000002"},
      {"Read_Master_Log_Pos", "1234"},
      {"Relay_Log_File", "relay.000004"},
      {"Relay_Log_Pos", "555"},
      {"Relay_Master_Log_File", "mysql-bin.000002"},
      {"Slave_IO_Running", "Yes"},
      {"Slave_SQL_Running", "Yes"},
      {"Last_Errno", "0"},
      {"Last_Error", ""},
      {"Skip_Counter", "0"},
      {"Exec_Master_Log_Pos", "1234"},
      {"Seconds_Behind_Master", "3"},
      {"Last_IO_Errno", "0"},
      {"Last_IO_Error", ""},
      {"Last_SQL_Errno", "0"},
      {"Last_SQL_Error", ""},
      {"Master_Server_Id", "1"},
      {"Using_Gtid", "Slave_Pos"},
      {"Gtid_IO_Pos", "0-1-42"},
      {"Slave_SQL_Running_State", "Slave has read all relay log; waiting for more updates"},
      {"Gtid_Slave_Pos", "0-1-42"},
  });
}

// MySQL 8.0.22+ SHOW REPLICA STATUS, trimmed the same way.
Row mysql_row() {
  return make_row({
      {"Replica_IO_State", "Waiting for source to send event"},
      {"Source_Host", "db1.example.com"},
      {"Source_User", "repl"},
      {"Source_Port", "3306"},
      {"Connect_Retry", "60"},
      {"Source_Log_File", "binlog.000007"},
      {"Read_Source_Log_Pos", "927"},
      {"Relay_Log_File", "relay.000002"},
      {"Relay_Log_Pos", "1145"},
      {"Relay_Source_Log_File", "binlog.000007"},
      {"Replica_IO_Running", "Yes"},
      {"Replica_SQL_Running", "Yes"},
      {"Last_Errno", "0"},
      {"Last_Error", ""},
      {"Skip_Counter", "0"},
      {"Exec_Source_Log_Pos", "927"},
      {"Seconds_Behind_Source", "0"},
      {"Last_IO_Errno", "0"},
      {"Last_IO_Error", ""},
      {"Last_SQL_Errno", "0"},
      {"Last_SQL_Error", ""},
      {"Source_Server_Id", "11"},
      {"Source_UUID", "3e11fa47-71ca-11e1-9e33-c80aa9429562"},
      {"Retrieved_Gtid_Set", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"},
      {"Executed_Gtid_Set",
       "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n4f2a7c88-0b1d-11ee-8a6b-0242ac120002:1"},
      {"Auto_Position", "1"},
  });
}

void set(Row& row, std::string_view name, Value value) {
  for (size_t i = 0; i < row.names.size(); ++i) {
    if (row.names[i] == name) {
      row.values[i] = value;
      return;
    }
  }
  FAIL() << "no column " << name;
}

ReplicaStatus parse(const Row& row) { return parse_replica_status(row.names, row.values); }

TEST(ParseReplicaStatus, MariadbColumns) {
  const ReplicaStatus status = parse(mariadb_row());
  EXPECT_EQ(status.source_host, "127.0.0.1");
  EXPECT_EQ(status.source_port, 3307);
  EXPECT_EQ(status.source_server_id, 1u);
  EXPECT_TRUE(status.io_running);
  EXPECT_TRUE(status.sql_running);
  EXPECT_EQ(status.seconds_behind, 3u);
  EXPECT_EQ(status.last_io_error, "");
  EXPECT_EQ(status.last_sql_error, "");
  EXPECT_EQ(status.gtid_io_pos, "0-1-42");
  EXPECT_EQ(status.executed_gtid_set, "");
}

TEST(ParseReplicaStatus, MysqlColumns) {
  const ReplicaStatus status = parse(mysql_row());
  EXPECT_EQ(status.source_host, "db1.example.com");
  EXPECT_EQ(status.source_port, 3306);
  EXPECT_EQ(status.source_server_id, 11u);
  EXPECT_TRUE(status.io_running);
  EXPECT_TRUE(status.sql_running);
  EXPECT_EQ(status.seconds_behind, 0u);
  EXPECT_EQ(status.gtid_io_pos, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5");
  EXPECT_EQ(status.executed_gtid_set,
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n4f2a7c88-0b1d-11ee-8a6b-0242ac120002:1");
}

TEST(ParseReplicaStatus, NullSecondsBehindIsUnknown) {
  Row mariadb = mariadb_row();
  set(mariadb, "Slave_SQL_Running", "No");
  set(mariadb, "Seconds_Behind_Master", std::nullopt);
  set(mariadb, "Last_SQL_Error", "Error 'Duplicate entry '1' for key 'PRIMARY'' on query");
  const ReplicaStatus status = parse(mariadb);
  EXPECT_TRUE(status.io_running);
  EXPECT_FALSE(status.sql_running);
  EXPECT_EQ(status.seconds_behind, std::nullopt);
  EXPECT_EQ(status.last_sql_error, "Error 'Duplicate entry '1' for key 'PRIMARY'' on query");

  Row mysql = mysql_row();
  set(mysql, "Seconds_Behind_Source", std::nullopt);
  EXPECT_EQ(parse(mysql).seconds_behind, std::nullopt);
}

TEST(ParseReplicaStatus, ConnectingIsNotRunning) {
  Row row = mysql_row();
  set(row, "Replica_IO_Running", "Connecting");
  set(row, "Last_IO_Error", "error connecting to master 'repl@db1:3306' - retry-time: 60");
  set(row, "Source_Server_Id", "0");
  const ReplicaStatus status = parse(row);
  EXPECT_FALSE(status.io_running);
  EXPECT_TRUE(status.sql_running);
  EXPECT_EQ(status.source_server_id, 0u);
  EXPECT_EQ(status.last_io_error, "error connecting to master 'repl@db1:3306' - retry-time: 60");
}

TEST(ParseReplicaStatus, UnreadableNumbersKeepDefaults) {
  Row row = mariadb_row();
  set(row, "Master_Port", "70000");
  set(row, "Seconds_Behind_Master", "-1");
  set(row, "Master_Server_Id", std::nullopt);
  const ReplicaStatus status = parse(row);
  EXPECT_EQ(status.source_port, 0);
  EXPECT_EQ(status.seconds_behind, std::nullopt);
  EXPECT_EQ(status.source_server_id, 0u);
}

TEST(ParseReplicaStatus, NoColumnsOrMismatchedLengths) {
  const ReplicaStatus empty = parse_replica_status({}, {});
  EXPECT_EQ(empty.source_host, "");
  EXPECT_FALSE(empty.io_running);
  EXPECT_EQ(empty.seconds_behind, std::nullopt);
  // Values beyond the names (or names beyond the values) are ignored.
  const std::vector<std::string_view> names = {"Master_Host", "Master_Port"};
  const std::vector<Value> values = {"h"};
  const ReplicaStatus status = parse_replica_status(names, values);
  EXPECT_EQ(status.source_host, "h");
  EXPECT_EQ(status.source_port, 0);
}

TEST(ParseReplicaStatus, NamesAreExact) {
  const std::vector<std::string_view> names = {"master_host", "Slave_IO_Running"};
  const std::vector<Value> values = {"h", "yes"};
  const ReplicaStatus status = parse_replica_status(names, values);
  EXPECT_EQ(status.source_host, "");
  EXPECT_FALSE(status.io_running);
}

}  // namespace
}  // namespace replproxy::health
