// Several result sets for one command: multi-statement COM_QUERY (CLIENT_MULTI_STATEMENTS) and
// stored procedures (CALL returns each SELECT, then a final status), through the C API and the
// mariadb CLI.

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

class MultiResults : public E2eTest {};

// One result of a multi-result command: rows when it had a result set, else the affected rows.
struct Result {
  std::optional<Rows> rows;
  uint64_t affected_rows = 0;
};

struct Results {
  std::vector<Result> results;
  DbError error;  // code != 0 when a statement failed (after the results before it)
};

// Runs SQL and walks every result with mysql_next_result.
Results run_multi(MYSQL* m, std::string_view sql) {
  Results out;
  if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
    out.error = {mysql_errno(m), mysql_sqlstate(m), mysql_error(m)};
    return out;
  }
  for (;;) {
    Result r;
    if (MYSQL_RES* res = mysql_store_result(m)) {
      r.rows = fetch_all(res);
      mysql_free_result(res);
    } else if (mysql_field_count(m) == 0) {
      r.affected_rows = mysql_affected_rows(m);
    } else {
      out.error = {mysql_errno(m), mysql_sqlstate(m), mysql_error(m)};
      return out;
    }
    out.results.push_back(std::move(r));
    const int next = mysql_next_result(m);
    if (next > 0) {
      out.error = {mysql_errno(m), mysql_sqlstate(m), mysql_error(m)};
      return out;
    }
    if (next < 0) {
      return out;
    }
  }
}

TEST_F(MultiResults, MultiStatementQuery) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "multi");
  ASSERT_TRUE(schema.create());
  auto c =
      must_connect({.port = proxy.port(), .db = schema.name(), .flags = CLIENT_MULTI_STATEMENTS});
  ASSERT_TRUE(c);
  c->must("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(16))");

  Results r = run_multi(c->get(),
                        "SELECT 1; SELECT 2, 3; INSERT INTO t VALUES (1, 'a'), (2, NULL); "
                        "SELECT id, v FROM t ORDER BY id; UPDATE t SET v = 'b' WHERE id > 0; "
                        "SELECT COUNT(*) FROM t WHERE v = 'b'");
  ASSERT_EQ(r.error.code, 0u) << r.error;
  ASSERT_EQ(r.results.size(), 6u);
  EXPECT_EQ(r.results[0].rows, (Rows{{"1"}}));
  EXPECT_EQ(r.results[1].rows, (Rows{{"2", "3"}}));
  EXPECT_FALSE(r.results[2].rows);
  EXPECT_EQ(r.results[2].affected_rows, 2u);
  EXPECT_EQ(r.results[3].rows, (Rows{{"1", "a"}, {"2", std::nullopt}}));
  EXPECT_FALSE(r.results[4].rows);
  EXPECT_EQ(r.results[4].affected_rows, 2u);
  EXPECT_EQ(r.results[5].rows, (Rows{{"2"}}));

  // The session is back at a clean command boundary.
  EXPECT_EQ(c->scalar("SELECT 'after'"), "after");
}

TEST_F(MultiResults, ErrorInTheMiddleOfAMultiStatement) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "multierr");
  ASSERT_TRUE(schema.create());
  auto c =
      must_connect({.port = proxy.port(), .db = schema.name(), .flags = CLIENT_MULTI_STATEMENTS});
  ASSERT_TRUE(c);

  Results r = run_multi(c->get(), "SELECT 'a'; SELECT * FROM no_such_table; SELECT 'never'");
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].rows, (Rows{{"a"}}));
  EXPECT_EQ(r.error.code, 1146u) << r.error;
  EXPECT_NE(r.error.message.find("no_such_table"), std::string::npos) << r.error;
  EXPECT_FALSE(mysql_more_results(c->get()));

  EXPECT_EQ(c->scalar("SELECT 'still here'"), "still here");
}

TEST_F(MultiResults, StoredProcedureWithTwoResultSets) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "proc");
  ASSERT_TRUE(schema.create());
  auto c = must_connect({.port = proxy.port(), .db = schema.name()});
  ASSERT_TRUE(c);
  c->must("CREATE TABLE t (id INT PRIMARY KEY)");
  c->must("INSERT INTO t VALUES (10), (20), (30)");
  c->must(
      "CREATE PROCEDURE two_sets(IN lim INT) "
      "BEGIN "
      "  SELECT 1 AS a, 'x' AS b; "
      "  SELECT id FROM t WHERE id <= lim ORDER BY id; "
      "  UPDATE t SET id = id + 1 WHERE id > lim; "
      "END");

  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Results r = run_multi(c->get(), "CALL two_sets(20)");
    ASSERT_EQ(r.error.code, 0u) << r.error;
    ASSERT_EQ(r.results.size(), 3u);
    EXPECT_EQ(r.results[0].rows, (Rows{{"1", "x"}}));
    EXPECT_EQ(r.results[1].rows, (Rows{{"10"}, {"20"}}));
    // The final status of the CALL: no result set; the UPDATE's row count.
    EXPECT_FALSE(r.results[2].rows);
    EXPECT_EQ(r.results[2].affected_rows, 1u);
    EXPECT_FALSE(mysql_more_results(c->get()));
  }
  EXPECT_EQ(c->scalar("SELECT MAX(id) FROM t"), "32");
}

TEST_F(MultiResults, CliWithDelimiterSendsMultiStatementsAndCalls) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  ScopedSchema via_proxy(sandbox(), "cliproxy");
  ScopedSchema via_direct(sandbox(), "clidirect");
  ASSERT_TRUE(via_proxy.create());
  ASSERT_TRUE(via_direct.create());

  // The CLI sends "a; b//" as one COM_QUERY, so the server returns two result sets; the
  // procedure body's semicolons stay inside the CREATE PROCEDURE.
  const std::string script =
      "DELIMITER //\n"
      "CREATE PROCEDURE cli_proc(IN n INT)\n"
      "BEGIN\n"
      "  SELECT n AS n_in;\n"
      "  SELECT n * 2 AS doubled, 'two' AS label;\n"
      "END//\n"
      "SELECT 1 AS one; SELECT 2 AS two, 3 AS three//\n"
      "CALL cli_proc(21)//\n"
      "CREATE TABLE t (id INT); INSERT INTO t VALUES (1), (2); SELECT SUM(id) AS total FROM t//\n"
      "DELIMITER ;\n"
      "SELECT 'done' AS status;\n";
  const std::string expected =
      "one\n1\n"
      "two\tthree\n2\t3\n"
      "n_in\n21\n"
      "doubled\tlabel\n42\ttwo\n"
      "total\n3\n"
      "status\ndone\n";

  RunResult p = run(mariadb_cli(proxy.port(), via_proxy.name(), ""), 30s, script);
  RunResult d = run(mariadb_cli(sandbox().primary_port(), via_direct.name(), ""), 30s, script);
  ASSERT_EQ(d.status, 0) << d.output;
  ASSERT_EQ(d.output, expected);
  EXPECT_EQ(p.status, 0) << p.output;
  EXPECT_EQ(p.output, expected);
}

}  // namespace
}  // namespace replproxy::e2e
