// The parts of a Classification the summary table does not show: SET values and replay text,
// table names, the first keyword, the text rules match, lexer options and the cost.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "router/classifier.h"
#include "router/inline_vector.h"

namespace {

// Counts allocations while `counting` is set, to check that classify() does not allocate.
std::atomic<bool> counting{false};
std::atomic<int> allocations{0};

}  // namespace

void* operator new(size_t size) {
  if (counting.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace replproxy::router {
namespace {

struct ExpectedTarget {
  SetKind kind;
  std::string name;
  std::string value;
  std::string text;
  bool constant_value;
};

void expect_targets(std::string_view sql, const std::vector<ExpectedTarget>& expected) {
  const Classification c = classify(sql);
  ASSERT_EQ(c.set_targets.size(), expected.size()) << sql;
  for (size_t i = 0; i < expected.size(); ++i) {
    const SetTarget& target = c.set_targets[i];
    EXPECT_EQ(target.kind, expected[i].kind) << sql << " #" << i;
    EXPECT_EQ(target.name, expected[i].name) << sql << " #" << i;
    EXPECT_EQ(target.value, expected[i].value) << sql << " #" << i;
    EXPECT_EQ(target.text, expected[i].text) << sql << " #" << i;
    EXPECT_EQ(target.constant_value, expected[i].constant_value) << sql << " #" << i;
  }
}

TEST(SetTargets, ValuesAndReplayText) {
  expect_targets("SET @x = 1", {{SetKind::user_variable, "x", "1", "@x = 1", true}});
  expect_targets("SET  SESSION  sql_mode='ANSI' ;", {{SetKind::session_variable, "sql_mode",
                                                      "'ANSI'", "SESSION  sql_mode='ANSI'", true}});
  expect_targets("SET @@session.time_zone := '+00:00', @y = -1.5",
                 {{SetKind::session_variable, "time_zone", "'+00:00'",
                   "@@session.time_zone := '+00:00'", true},
                  {SetKind::user_variable, "y", "-1.5", "@y = -1.5", true}});
  expect_targets(
      "SET NAMES 'utf8mb4' COLLATE utf8mb4_bin",
      {{SetKind::names, "utf8mb4", "utf8mb4_bin", "NAMES 'utf8mb4' COLLATE utf8mb4_bin", true}});
  expect_targets("SET CHARACTER SET utf8",
                 {{SetKind::character_set, "utf8", "", "CHARACTER SET utf8", true}});
  expect_targets("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY",
                 {{SetKind::transaction_session, "", "ISOLATION LEVEL READ COMMITTED, READ ONLY",
                   "SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY", true}});
  expect_targets("SET ROLE `admin`", {{SetKind::role, "admin", "", "ROLE `admin`", true}});
}

TEST(SetTargets, NonConstantValues) {
  expect_targets("SET @a = (SELECT 1), @b = f(1), @c = @a, @d = @@sql_mode, @e = NOW",
                 {{SetKind::user_variable, "a", "(SELECT 1)", "@a = (SELECT 1)", false},
                  {SetKind::user_variable, "b", "f(1)", "@b = f(1)", false},
                  {SetKind::user_variable, "c", "@a", "@c = @a", false},
                  {SetKind::user_variable, "d", "@@sql_mode", "@d = @@sql_mode", false},
                  {SetKind::user_variable, "e", "NOW", "@e = NOW", true}});
  expect_targets(
      "SET @t = CURRENT_TIMESTAMP, sql_mode = CONCAT('A', ',B')",
      {{SetKind::user_variable, "t", "CURRENT_TIMESTAMP", "@t = CURRENT_TIMESTAMP", false},
       {SetKind::session_variable, "sql_mode", "CONCAT('A', ',B')", "sql_mode = CONCAT('A', ',B')",
        false}});
}

TEST(SetTargets, CommasInsideParenthesesBelongToTheValue) {
  const Classification c = classify("SET @a = IF(1, 2, 3), @b = 4");
  ASSERT_EQ(c.set_targets.size(), 2u);
  EXPECT_EQ(c.set_targets[0].value, "IF(1, 2, 3)");
  EXPECT_EQ(c.set_targets[1].value, "4");
}

TEST(Classify, TemporaryTableNames) {
  const Classification c = classify("DROP TEMPORARY TABLE IF EXISTS `a``b`, db.`c`, d");
  EXPECT_EQ(c.table_effect, TableEffect::drop_temporary);
  ASSERT_EQ(c.tables.size(), 3u);
  EXPECT_EQ(c.tables[0], (TableName{"", "a``b"}));
  EXPECT_EQ(c.tables[1], (TableName{"db", "c"}));
  EXPECT_EQ(c.tables[2], (TableName{"", "d"}));
}

TEST(Classify, FirstKeywordAndStatementText) {
  Classification c = classify("  /* app */ -- x\n select 1 ;\n ");
  EXPECT_EQ(c.first_keyword, "select");
  EXPECT_EQ(c.statement_text, "select 1");
  c = classify("((SELECT 1))");
  EXPECT_EQ(c.first_keyword, "SELECT");
  EXPECT_EQ(c.statement_text, "((SELECT 1))");
  c = classify("/*!40101 SET NAMES utf8 */");
  EXPECT_EQ(c.first_keyword, "SET");
  EXPECT_EQ(c.statement_text, "SET NAMES utf8 */");
  c = classify("SET STATEMENT a = 1 FOR SELECT 1");
  EXPECT_EQ(c.first_keyword, "SET");
  c = classify("SELECT 1; UPDATE t SET a = 1");
  EXPECT_EQ(c.first_keyword, "SELECT");
  EXPECT_EQ(c.statement_text, "SELECT 1; UPDATE t SET a = 1");
  c = classify(" -- only\n");
  EXPECT_EQ(c.first_keyword, "");
  EXPECT_EQ(c.statement_text, "");
}

TEST(Classify, UseStripsBackticks) {
  EXPECT_EQ(classify("USE `shop`").use_schema, "shop");
  EXPECT_EQ(classify("use shop;").use_schema, "shop");
}

TEST(Classify, HintBackendPointsIntoTheText) {
  const std::string sql = "SELECT /* replproxy: route=backend:reports */ 1";
  const Classification c = classify(sql);
  EXPECT_EQ(c.hint.route, HintRoute::backend);
  EXPECT_EQ(c.hint.backend, "reports");
  EXPECT_GE(c.hint.backend.data(), sql.data());
  EXPECT_LE(c.hint.backend.data() + c.hint.backend.size(), sql.data() + sql.size());
}

// With NO_BACKSLASH_ESCAPES a backslash ends nothing: 'a\' is a whole string, and what follows
// is code.
TEST(Classify, NoBackslashEscapes) {
  const std::string_view sql = "SELECT 'a\\'; DELETE FROM t; -- '";
  EXPECT_EQ(classify(sql).statement_count, 1u);
  EXPECT_TRUE(classify(sql).is_read());
  const Classification c = classify(sql, {.no_backslash_escapes = true});
  EXPECT_EQ(c.statement_count, 2u);
  EXPECT_EQ(c.reason, Reason::multi_statement);
}

TEST(Classify, FollowsPreviousStatement) {
  EXPECT_TRUE(classify("SELECT FOUND_ROWS()").follows_previous_statement());
  EXPECT_TRUE(classify("SELECT ROW_COUNT()").follows_previous_statement());
  EXPECT_TRUE(classify("SHOW WARNINGS").follows_previous_statement());
  EXPECT_FALSE(classify("SELECT LAST_INSERT_ID()").follows_previous_statement());
  EXPECT_FALSE(classify("SELECT 1").follows_previous_statement());
}

TEST(Classify, NamesForLogs) {
  EXPECT_EQ(to_string(Reason::locking_read), "locking_read");
  EXPECT_EQ(to_string(TransactionEffect::begin_read_only), "begin_read_only");
  EXPECT_EQ(to_string(SetKind::global_variable), "global_variable");
  EXPECT_EQ(to_string(TableEffect::create_temporary), "create_temporary");
}

// The hot path: a single statement, even with comments, hints and a few SET targets, costs no
// allocation.
TEST(Classify, DoesNotAllocate) {
  const std::string_view statements[] = {
      "SELECT * FROM t WHERE id = 1",
      "/* replproxy: route=replica */ SELECT a, b FROM t JOIN u USING (id) FOR UPDATE",
      "SET NAMES utf8mb4, @a = 1, sql_mode = 'ANSI', autocommit = 1",
      "INSERT INTO t VALUES (1, 'x'), (2, 'y')",
      "CREATE TEMPORARY TABLE tmp (a INT)",
  };
  allocations = 0;
  counting = true;
  std::vector<int> probe(100);
  counting = false;
  ASSERT_EQ(allocations.load(), 1) << "the allocation counter does not count";
  for (std::string_view sql : statements) {
    allocations = 0;
    counting = true;
    const Classification c = classify(sql);
    counting = false;
    EXPECT_EQ(allocations.load(), 0) << sql;
    EXPECT_EQ(c.statement_count, 1u);
  }
}

TEST(InlineVector, SpillsPastItsInlineCapacity) {
  InlineVector<int, 2> v;
  EXPECT_TRUE(v.empty());
  for (int i = 0; i < 5; ++i) {
    v.push_back(i * 10);
  }
  ASSERT_EQ(v.size(), 5u);
  int expected = 0;
  for (int value : v) {
    EXPECT_EQ(value, expected);
    expected += 10;
  }
  EXPECT_EQ(v[4], 40);
}

}  // namespace
}  // namespace replproxy::router
