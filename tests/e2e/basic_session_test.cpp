// A plain session through the proxy: DDL, writes, reads of many column types, the mariadb CLI's
// output compared byte for byte with a direct session, and the default database (COM_INIT_DB,
// CLIENT_CONNECT_WITH_DB).

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

class BasicSession : public E2eTest {};

// Column types whose text encoding differs: integers, exact decimals, utf8mb4 text beyond the
// BMP, fractional datetimes, NULLs, binary data with NUL and 0xFF bytes, JSON.
constexpr std::string_view kCreateTable =
    "CREATE TABLE t ("
    " id INT PRIMARY KEY,"
    " amount DECIMAL(14,4),"
    " name VARCHAR(64) CHARACTER SET utf8mb4,"
    " ts DATETIME(6),"
    " data BLOB,"
    " doc JSON) ENGINE=InnoDB";

constexpr std::string_view kInsertRows =
    "INSERT INTO t VALUES"
    " (1, 1234.5678, 'Grüße, 世界 😀', '2024-02-29 23:59:59.123456', X'00FF10', "
    "'{\"a\": [1, 2, \"é\"], \"b\": null}'),"
    " (2, -0.0001, '', '1970-01-01 00:00:01.000000', '', '[]'),"
    " (3, NULL, NULL, NULL, NULL, NULL),"
    " (4, 99999999.9999, 'tab\\there\\nnewline \\\\ backslash', '9999-12-31 23:59:59.999999', "
    "X'0D0A00275C', '{\"k\": \"v\\\\\"q\"}')";

TEST_F(BasicSession, CreateInsertSelectThroughProxy) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "basic");  // created through the proxy below; dropped directly

  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  c->must("CREATE DATABASE `" + schema.name() + "`");
  c->must("USE `" + schema.name() + "`");
  c->must(kCreateTable);
  c->must(kInsertRows);
  EXPECT_EQ(mysql_affected_rows(c->get()), 4u);

  Rows rows = c->must("SELECT id, amount, name, ts, data, doc FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (Row{"1", "1234.5678", "Grüße, 世界 😀", "2024-02-29 23:59:59.123456",
                          std::string("\x00\xff\x10", 3), "{\"a\": [1, 2, \"é\"], \"b\": null}"}));
  EXPECT_EQ(rows[1], (Row{"2", "-0.0001", "", "1970-01-01 00:00:01.000000", "", "[]"}));
  EXPECT_EQ(rows[2],
            (Row{"3", std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_EQ(rows[3], (Row{"4", "99999999.9999", "tab\there\nnewline \\ backslash",
                          "9999-12-31 23:59:59.999999", std::string("\r\n\0'\\", 5),
                          "{\"k\": \"v\\\"q\"}"}));

  // Server-side functions over the same data, and an UPDATE's affected-row count.
  EXPECT_EQ(c->scalar("SELECT CHAR_LENGTH(name) FROM t WHERE id = 1"), "11");
  EXPECT_EQ(c->scalar("SELECT JSON_VALUE(doc, '$.a[2]') FROM t WHERE id = 1"), "é");
  c->must("UPDATE t SET amount = amount + 1 WHERE amount IS NOT NULL");
  EXPECT_EQ(mysql_affected_rows(c->get()), 3u);
  EXPECT_EQ(c->scalar("SELECT SUM(amount) FROM t"), "100001237.5676");

  // The data really is on the primary.
  auto direct = connect_direct(sandbox(), "primary", schema.name());
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->scalar("SELECT COUNT(*) FROM t"), "4");
  EXPECT_EQ(direct->scalar("SELECT HEX(data) FROM t WHERE id = 4"), "0D0A00275C");
}

TEST_F(BasicSession, CliOutputIsByteIdenticalToDirect) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "cli");
  ASSERT_TRUE(schema.create());
  auto direct = connect_direct(sandbox(), "primary", schema.name());
  ASSERT_TRUE(direct);
  direct->must(kCreateTable);
  direct->must(kInsertRows);

  const std::string queries =
      "SELECT * FROM t ORDER BY id; "
      "SELECT id, HEX(data), JSON_EXTRACT(doc, '$.a'), amount * 3, ts + INTERVAL 1 SECOND "
      "FROM t ORDER BY id DESC; "
      "SHOW CREATE TABLE t; "
      "SELECT NULL, 1.5e3, -0.0, 'x\\ty', _utf8mb4'😀' AS emoji, 18446744073709551615, "
      "CAST(-1 AS SIGNED); "
      "SELECT COUNT(*), SUM(id), GROUP_CONCAT(name ORDER BY id) FROM t; "
      "INSERT INTO t (id) VALUES (5); DELETE FROM t WHERE id = 5; "
      "SELECT * FROM t WHERE id > 100; "
      "SHOW WARNINGS";
  for (const std::string extra : {"", "--column-type-info"}) {
    SCOPED_TRACE("mariadb --batch " + extra);
    const std::string args =
        "--default-character-set=utf8mb4 " + extra + " -e " + shell_quote(queries);
    RunResult via_proxy = run(mariadb_cli(proxy.port(), schema.name(), args));
    RunResult via_direct = run(mariadb_cli(sandbox().primary_port(), schema.name(), args));
    ASSERT_EQ(via_direct.status, 0) << via_direct.output;
    EXPECT_EQ(via_proxy.status, 0) << via_proxy.output;
    EXPECT_NE(via_direct.output.find("Grüße, 世界 😀"), std::string::npos) << via_direct.output;
    EXPECT_EQ(via_proxy.output, via_direct.output);
  }
}

TEST_F(BasicSession, SelectDbAndUseChangeTheDefaultDatabase) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema one(sandbox(), "db_one");
  ScopedSchema two(sandbox(), "db_two");
  ASSERT_TRUE(one.create());
  ASSERT_TRUE(two.create());
  {
    auto direct = connect_direct(sandbox());
    ASSERT_TRUE(direct);
    direct->must("CREATE TABLE `" + one.name() + "`.which (v VARCHAR(8))");
    direct->must("INSERT INTO `" + one.name() + "`.which VALUES ('one')");
    direct->must("CREATE TABLE `" + two.name() + "`.which (v VARCHAR(8))");
    direct->must("INSERT INTO `" + two.name() + "`.which VALUES ('two')");
  }

  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  Rows none = c->must("SELECT DATABASE()");
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0][0], std::nullopt);

  // COM_INIT_DB.
  ASSERT_EQ(mysql_select_db(c->get(), one.name().c_str()), 0) << c->error();
  EXPECT_EQ(c->scalar("SELECT DATABASE()"), one.name());
  EXPECT_EQ(c->scalar("SELECT v FROM which"), "one");

  // COM_QUERY USE.
  c->must("USE `" + two.name() + "`");
  EXPECT_EQ(c->scalar("SELECT DATABASE()"), two.name());
  EXPECT_EQ(c->scalar("SELECT v FROM which"), "two");

  // A failed COM_INIT_DB keeps the session and its database.
  EXPECT_NE(mysql_select_db(c->get(), "e2e_no_such_database_here"), 0);
  EXPECT_EQ(mysql_errno(c->get()), 1049u) << c->error();
  EXPECT_EQ(c->scalar("SELECT DATABASE()"), two.name());
}

TEST_F(BasicSession, ConnectWithDefaultDatabase) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "withdb");
  ASSERT_TRUE(schema.create());

  auto c = must_connect({.port = proxy.port(), .db = schema.name()});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scalar("SELECT DATABASE()"), schema.name());
  c->must("CREATE TABLE here (id INT)");
  auto direct = connect_direct(sandbox(), "primary", schema.name());
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                           "DATABASE() AND table_name = 'here'"),
            "1");

  auto missing = Connection::open({.port = proxy.port(), .db = "e2e_no_such_database_here"});
  ASSERT_FALSE(missing) << "connecting with a missing default database succeeded";
  EXPECT_EQ(missing.error().code, 1049u) << missing.error();
  EXPECT_NE(missing.error().message.find("Unknown database 'e2e_no_such_database_here'"),
            std::string::npos)
      << missing.error();

  // The CLI's positional database argument takes the same path.
  RunResult cli = run(mariadb_cli(proxy.port(), schema.name(), "-N -e 'SELECT DATABASE()'"));
  EXPECT_EQ(cli.status, 0) << cli.output;
  EXPECT_EQ(cli.output, schema.name() + "\n");
}

}  // namespace
}  // namespace replproxy::e2e
