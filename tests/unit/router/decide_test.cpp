#include "router/decide.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace replproxy::router {
namespace {

using config::BackendRole;
using Kind = Target::Kind;

constexpr size_t kDb1 = 0;  // the primary
constexpr size_t kDb2 = 1;  // replicas
constexpr size_t kDb3 = 2;
constexpr size_t kDb4 = 3;  // a second backend with the primary role, reachable by name only

class Decide : public ::testing::Test {
 protected:
  Target route(std::string_view sql) {
    statement_ = classify(sql);
    return decide(statement_, session_, {backends_}, routing_, rules_, balancer_);
  }
  // The backend names `count` routings of `sql` go to.
  std::vector<std::string> names(std::string_view sql, int count) {
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i) {
      const Target t = route(sql);
      out.push_back(t.is_error() ? "error" : std::string(backends_[t.backend].name));
    }
    return out;
  }
  void set_rules(std::vector<config::RoutingRule> rules) {
    auto compiled = RuleMatcher::compile(std::move(rules));
    ASSERT_TRUE(compiled.has_value()) << compiled.error();
    rules_ = std::move(*compiled);
  }

  std::vector<BackendView> backends_ = {
      {"db1", BackendRole::primary, 1, true},
      {"db2", BackendRole::replica, 1, true},
      {"db3", BackendRole::replica, 1, true},
      {"db4", BackendRole::primary, 1, true},
  };
  SessionView session_;
  config::RoutingSection routing_;
  RuleMatcher rules_;
  ReplicaBalancer balancer_;
  Classification statement_;
};

void expect_target(const Target& target, Kind kind, size_t backend) {
  EXPECT_EQ(target.kind, kind);
  EXPECT_EQ(target.backend, backend);
}

void expect_error(const Target& target, uint16_t code, std::string_view state) {
  ASSERT_EQ(target.kind, Kind::error);
  EXPECT_EQ(target.error_code, code);
  EXPECT_EQ(target.sql_state, state);
  EXPECT_FALSE(target.message.empty());
}

TEST_F(Decide, ConsecutiveReadsHitEveryReplicaAndNeverThePrimary) {
  std::map<std::string, int> hits;
  for (const std::string& name : names("SELECT @@server_id", 20)) {
    ++hits[name];
  }
  EXPECT_EQ(hits, (std::map<std::string, int>{{"db2", 10}, {"db3", 10}}));
  EXPECT_EQ(names("SELECT 1", 4), (std::vector<std::string>{"db2", "db3", "db2", "db3"}));
}

TEST_F(Decide, ReadsFollowReplicaWeights) {
  backends_[kDb2].weight = 3;
  EXPECT_EQ(names("SELECT 1", 4), (std::vector<std::string>{"db2", "db2", "db3", "db2"}));
  std::map<std::string, int> hits;
  for (const std::string& name : names("SELECT 1", 40)) {
    ++hits[name];
  }
  EXPECT_EQ(hits, (std::map<std::string, int>{{"db2", 30}, {"db3", 10}}));
}

TEST_F(Decide, UnusableReplicasAreSkipped) {
  backends_[kDb2].usable = false;
  EXPECT_EQ(names("SELECT 1", 3), (std::vector<std::string>{"db3", "db3", "db3"}));
  EXPECT_FALSE(route("SELECT 1").fallback);
}

TEST_F(Decide, NoUsableReplicaFallsBackToThePrimaryByDefault) {
  backends_[kDb2].usable = false;
  backends_[kDb3].usable = false;
  const Target target = route("SELECT 1");
  expect_target(target, Kind::primary, kDb1);
  EXPECT_FALSE(target.causal_read);
  EXPECT_TRUE(target.fallback);  // counted as route="fallback" in the metrics
  EXPECT_FALSE(route("INSERT INTO t VALUES (1)").fallback);
}

TEST_F(Decide, NoUsableReplicaIsAnErrorWithReadFallbackError) {
  routing_.read_fallback = config::ReadFallback::error;
  backends_[kDb2].usable = false;
  backends_[kDb3].usable = false;
  expect_error(route("SELECT 1"), route_error::kNoReplica, "HY000");
  expect_target(route("INSERT INTO t VALUES (1)"), Kind::primary, kDb1);
}

TEST_F(Decide, WritesAndEverythingNotAReadGoToThePrimary) {
  for (std::string_view sql :
       {"INSERT INTO t VALUES (1)", "SELECT * FROM t FOR UPDATE", "SELECT GET_LOCK('a', 1)",
        "BEGIN", "COMMIT", "CREATE TABLE t (a INT)", "SELECT 1; SELECT 2", "CALL p()",
        "SET autocommit = 0", "SET GLOBAL x = 1", "FROBNICATE", "SELECT 'unterminated"}) {
    const Target target = route(sql);
    expect_target(target, Kind::primary, kDb1);
    EXPECT_FALSE(target.write_kept_on_primary) << sql;
    EXPECT_EQ(target.source, Target::Source::automatic) << sql;
  }
}

TEST_F(Decide, NoUsablePrimaryIsAnErrorForWrites) {
  backends_[kDb1].usable = false;
  expect_error(route("UPDATE t SET a = 1"), route_error::kNoPrimary, "HY000");
  expect_target(route("SELECT 1"), Kind::replica, kDb2);
  backends_[kDb1].role = BackendRole::replica;
  backends_[kDb4].role = BackendRole::replica;
  expect_error(route("UPDATE t SET a = 1"), route_error::kNoPrimary, "HY000");
}

TEST_F(Decide, InsideATransactionEverythingGoesToThePrimary) {
  session_.in_transaction = true;
  EXPECT_EQ(names("SELECT @@server_id", 3), (std::vector<std::string>{"db1", "db1", "db1"}));
  expect_target(route("SHOW WARNINGS"), Kind::primary, kDb1);
  expect_target(route("START TRANSACTION READ ONLY"), Kind::primary, kDb1);
  session_.in_transaction = false;
  session_.autocommit = false;  // every statement is in a transaction
  expect_target(route("SELECT 1"), Kind::primary, kDb1);
  session_.autocommit = true;
  expect_target(route("SELECT 1"), Kind::replica, kDb2);
}

TEST_F(Decide, ReadOnlyTransactionRunsOnOneReplica) {
  const Target start = route("START TRANSACTION READ ONLY");
  expect_target(start, Kind::replica, kDb2);
  EXPECT_TRUE(start.causal_read);
  session_.read_only_transaction_on = kDb3;
  session_.in_transaction = true;
  EXPECT_EQ(names("SELECT 1", 3), (std::vector<std::string>{"db3", "db3", "db3"}));
  for (std::string_view sql : {"SAVEPOINT a", "ROLLBACK TO a", "RELEASE SAVEPOINT a", "COMMIT",
                               "ROLLBACK", "SHOW WARNINGS", "SET @x = 1"}) {
    const Target target = route(sql);
    expect_target(target, Kind::replica, kDb3);
    EXPECT_FALSE(target.causal_read) << sql;
  }
}

TEST_F(Decide, WritesInAReadOnlyTransactionStayOnThePrimary) {
  session_.read_only_transaction_on = kDb2;
  session_.in_transaction = true;
  for (std::string_view sql : {"INSERT INTO t VALUES (1)", "CREATE TABLE t (a INT)",
                               "SELECT GET_LOCK('x', 1)", "COMMIT; INSERT INTO t VALUES (1)"}) {
    const Target target = route(sql);
    expect_target(target, Kind::primary, kDb1);
    EXPECT_TRUE(target.write_kept_on_primary) << sql;
  }
}

TEST_F(Decide, ReadOnlyTransactionOnALostReplicaIsAnError) {
  session_.read_only_transaction_on = kDb2;
  backends_[kDb2].usable = false;
  expect_error(route("SELECT 1"), route_error::kTransactionLost, "40001");
  expect_error(route("COMMIT"), route_error::kTransactionLost, "40001");
}

TEST_F(Decide, ReadOnlyTransactionWithoutReplicasFollowsReadFallback) {
  backends_[kDb2].usable = false;
  backends_[kDb3].usable = false;
  expect_target(route("START TRANSACTION READ ONLY"), Kind::primary, kDb1);
  routing_.read_fallback = config::ReadFallback::error;
  expect_error(route("START TRANSACTION READ ONLY"), route_error::kNoReplica, "HY000");
}

TEST_F(Decide, TemporaryTablesKeepReadsOnThePrimary) {
  session_.has_temp_tables = true;
  expect_target(route("SELECT * FROM tmp"), Kind::primary, kDb1);
  expect_target(route("SELECT 1"), Kind::primary, kDb1);
  expect_target(route("START TRANSACTION READ ONLY"), Kind::primary, kDb1);
}

TEST_F(Decide, TableLocksAndPinnedSessionsStayOnThePrimary) {
  session_.holds_table_locks = true;
  expect_target(route("SELECT 1"), Kind::primary, kDb1);
  session_.holds_table_locks = false;
  session_.pinned_to_primary = true;
  expect_target(route("SELECT 1"), Kind::primary, kDb1);
  expect_target(route("SET NAMES utf8"), Kind::primary, kDb1);
}

TEST_F(Decide, FoundRowsRowCountAndWarningsFollowThePreviousStatement) {
  for (std::string_view sql :
       {"SELECT FOUND_ROWS()", "SELECT ROW_COUNT()", "SHOW WARNINGS", "SHOW ERRORS",
        "SHOW COUNT(*) WARNINGS", "SELECT @@warning_count", "GET DIAGNOSTICS @n = NUMBER"}) {
    session_.last_backend = kDb3;
    Target target = route(sql);
    expect_target(target, Kind::replica, kDb3);
    EXPECT_FALSE(target.causal_read) << sql;  // a wait in between would reset what they read
    session_.last_backend = kDb1;
    expect_target(route(sql), Kind::primary, kDb1);
    session_.last_backend = kDb4;
    expect_target(route(sql), Kind::backend, kDb4);
    session_.last_backend = std::nullopt;
    expect_target(route(sql), Kind::primary, kDb1);
  }
  session_.last_backend = kDb3;
  backends_[kDb3].usable = false;
  expect_target(route("SELECT FOUND_ROWS()"), Kind::primary, kDb1);
}

TEST_F(Decide, LastInsertIdGoesWhereTheSessionsWritesRan) {
  session_.last_backend = kDb2;  // a read ran on a replica after the insert
  expect_target(route("SELECT LAST_INSERT_ID()"), Kind::primary, kDb1);
  session_.last_backend = std::nullopt;
  expect_target(route("SELECT LAST_INSERT_ID()"), Kind::primary, kDb1);
  session_.last_backend = kDb4;  // a hint sent the insert to another writable backend
  expect_target(route("SELECT LAST_INSERT_ID()"), Kind::backend, kDb4);
  backends_[kDb4].usable = false;
  expect_target(route("SELECT LAST_INSERT_ID()"), Kind::primary, kDb1);
}

TEST_F(Decide, SessionStateRunsWhereTheSessionIs) {
  session_.last_backend = kDb3;
  expect_target(route("SET NAMES utf8mb4"), Kind::replica, kDb3);
  expect_target(route("USE shop"), Kind::replica, kDb3);
  EXPECT_FALSE(route("SET @x = 1").causal_read);
  session_.last_backend = std::nullopt;
  expect_target(route("SET NAMES utf8mb4"), Kind::replica, kDb2);
  expect_target(route("SET sql_mode = ''"), Kind::replica, kDb3);
  backends_[kDb2].usable = false;
  backends_[kDb3].usable = false;
  routing_.read_fallback = config::ReadFallback::error;
  expect_target(route("SET NAMES utf8mb4"), Kind::primary, kDb1);  // never an error
  expect_target(route("SET autocommit = 0"), Kind::primary, kDb1);
  expect_target(route("SET TRANSACTION READ ONLY"), Kind::primary, kDb1);
}

// A value computed where it runs (NOW(), a variable, a subquery) cannot be replayed on the
// session's other connections: the session pins to the primary, so the SET must run there.
TEST_F(Decide, UnreplayableSessionStateRunsOnThePrimary) {
  session_.last_backend = kDb3;
  expect_target(route("SET @t = NOW()"), Kind::primary, kDb1);
  expect_target(route("SET @a = 1, @b = @a + 1"), Kind::primary, kDb1);
  expect_target(route("SET @n = (SELECT COUNT(*) FROM t)"), Kind::primary, kDb1);
  expect_target(route("SET @a = 1; SET @b = 2"), Kind::primary, kDb1);
  expect_target(route("SET @a = 1, @b = 'x'"), Kind::replica, kDb3);
}

TEST_F(Decide, HintsOverrideEverything) {
  Target target = route("/* replproxy: route=primary */ SELECT 1");
  expect_target(target, Kind::primary, kDb1);
  EXPECT_EQ(target.source, Target::Source::hint);
  session_.in_transaction = true;
  session_.has_temp_tables = true;
  target = route("SELECT /* replproxy: route=replica */ 1");
  expect_target(target, Kind::replica, kDb2);
  EXPECT_EQ(target.source, Target::Source::hint);
  EXPECT_TRUE(target.causal_read);
  expect_target(route("/* replproxy: route=backend:db3 */ SELECT 1"), Kind::backend, kDb3);
  expect_target(route("/* replproxy: route=backend:db4 */ INSERT INTO t VALUES (1)"), Kind::backend,
                kDb4);
  expect_target(route("/* replproxy: route=backend:db1 */ SELECT 1"), Kind::backend, kDb1);
}

TEST_F(Decide, InvalidHintsAreIgnored) {
  const Target target = route("/* replproxy: route=sideways */ SELECT 1");
  expect_target(target, Kind::replica, kDb2);
  EXPECT_EQ(target.source, Target::Source::automatic);
}

TEST_F(Decide, HintsNeverSendAWriteToAReplica) {
  for (std::string_view sql : {"/* replproxy: route=replica */ INSERT INTO t VALUES (1)",
                               "/* replproxy: route=backend:db2 */ DELETE FROM t",
                               "/* replproxy: route=replica */ SELECT * FROM t FOR UPDATE"}) {
    const Target target = route(sql);
    expect_target(target, Kind::primary, kDb1);
    EXPECT_TRUE(target.write_kept_on_primary) << sql;
    EXPECT_EQ(target.source, Target::Source::hint) << sql;
  }
  backends_[kDb1].usable = false;
  const Target target = route("/* replproxy: route=replica */ INSERT INTO t VALUES (1)");
  expect_error(target, route_error::kNoPrimary, "HY000");
  EXPECT_FALSE(target.write_kept_on_primary);
}

TEST_F(Decide, HintsToUnusableOrUnknownBackendsFallBack) {
  backends_[kDb3].usable = false;
  expect_target(route("/* replproxy: route=backend:db3 */ SELECT 1"), Kind::primary, kDb1);
  expect_target(route("/* replproxy: route=backend:nope */ SELECT 1"), Kind::primary, kDb1);
  expect_target(route("/* replproxy: route=backend:nope */ UPDATE t SET a = 1"), Kind::primary,
                kDb1);
  routing_.read_fallback = config::ReadFallback::error;
  expect_error(route("/* replproxy: route=backend:db3 */ SELECT 1"), route_error::kNoReplica,
               "HY000");
  backends_[kDb2].usable = false;
  expect_error(route("/* replproxy: route=replica */ SELECT 1"), route_error::kNoReplica, "HY000");
}

config::RoutingRule rule(std::optional<std::string> user, std::optional<std::string> schema,
                         std::optional<std::string> match, config::RuleTarget target,
                         std::string backend = "") {
  return {std::move(user), std::move(schema), std::move(match), target, std::move(backend), 0};
}

TEST_F(Decide, RulesAreTriedInOrderBeforeClassification) {
  set_rules({
      rule(std::nullopt, std::nullopt, "^SELECT .* FROM reports\\b", config::RuleTarget::replica),
      rule("admin", std::nullopt, std::nullopt, config::RuleTarget::primary),
      rule(std::nullopt, "analytics", std::nullopt, config::RuleTarget::backend, "db3"),
      rule(std::nullopt, std::nullopt, "from orders", config::RuleTarget::primary),
  });
  session_.user = "admin";
  Target target = route("select * from reports where x = 1");
  expect_target(target, Kind::replica, kDb2);
  EXPECT_EQ(target.source, Target::Source::rule);
  EXPECT_EQ(target.rule, 0u);
  target = route("SELECT 1");
  expect_target(target, Kind::primary, kDb1);
  EXPECT_EQ(target.rule, 1u);
  session_.user = "app";
  session_.schema = "analytics";
  target = route("SELECT * FROM orders");
  expect_target(target, Kind::backend, kDb3);
  EXPECT_EQ(target.rule, 2u);
  session_.schema = "shop";
  target = route("/* x */ SELECT * FROM Orders");
  expect_target(target, Kind::primary, kDb1);
  EXPECT_EQ(target.rule, 3u);
  target = route("SELECT * FROM customers");
  expect_target(target, Kind::replica, kDb3);
  EXPECT_EQ(target.source, Target::Source::automatic);
}

TEST_F(Decide, RulesNeverSendAWriteToAReplica) {
  set_rules({rule(std::nullopt, std::nullopt, "reports", config::RuleTarget::replica),
             rule(std::nullopt, std::nullopt, "audit", config::RuleTarget::backend, "db2")});
  Target target = route("INSERT INTO reports VALUES (1)");
  expect_target(target, Kind::primary, kDb1);
  EXPECT_TRUE(target.write_kept_on_primary);
  EXPECT_EQ(target.source, Target::Source::rule);
  target = route("DELETE FROM audit");
  expect_target(target, Kind::primary, kDb1);
  EXPECT_TRUE(target.write_kept_on_primary);
  expect_target(route("SELECT * FROM audit"), Kind::backend, kDb2);
}

TEST_F(Decide, RulesDoNotBreakTransactions) {
  set_rules({rule(std::nullopt, std::nullopt, "reports", config::RuleTarget::replica)});
  session_.in_transaction = true;
  const Target target = route("SELECT * FROM reports");
  expect_target(target, Kind::primary, kDb1);
  EXPECT_EQ(target.source, Target::Source::automatic);
  expect_target(route("/* replproxy: route=replica */ SELECT * FROM reports"), Kind::replica, kDb2);
}

TEST_F(Decide, ConsistencyPrimarySendsReadsAfterAWriteToThePrimary) {
  routing_.consistency = config::Consistency::primary;
  expect_target(route("SELECT 1"), Kind::replica, kDb2);
  session_.has_written = true;
  expect_target(route("SELECT 1"), Kind::primary, kDb1);
  EXPECT_FALSE(route("SELECT 1").causal_read);
}

TEST_F(Decide, CausalReadsOnlyWithReadYourWritesOnReplicas) {
  EXPECT_TRUE(route("SELECT 1").causal_read);
  EXPECT_FALSE(route("INSERT INTO t VALUES (1)").causal_read);
  EXPECT_TRUE(route("/* replproxy: route=backend:db2 */ SELECT 1").causal_read);
  EXPECT_FALSE(route("/* replproxy: route=backend:db4 */ SELECT 1").causal_read);
  routing_.consistency = config::Consistency::eventual;
  session_.has_written = true;
  const Target target = route("SELECT 1");
  EXPECT_EQ(target.kind, Kind::replica);
  EXPECT_FALSE(target.causal_read);
}

TEST_F(Decide, EmptyStatementsAreReads) {
  expect_target(route("/* nothing */"), Kind::replica, kDb2);
}

}  // namespace
}  // namespace replproxy::router
