// Read/write splitting through the proxy against the sandbox's primary and two replicas: where
// each kind of statement runs is read back from @@server_id (1 on the primary, 2 and 3 on the
// replicas, read from the servers themselves). Autocommit reads round-robin over the replicas;
// transactions, writes, temporary tables and computed SETs keep a session on the primary; a
// read-only transaction stays on one replica; hints and [[routing.rules]] override; session state
// (USE, COM_INIT_DB, SET NAMES, SET SESSION, SET @v) is the same on every backend; prepared
// statements split like text; consistency and read_fallback behave as configured.

#include <array>
#include <set>

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

// What varies between the proxies of these tests; the rest is the sandbox topology.
struct SplitSetup {
  std::string routing;    // lines of the [routing] table
  std::string rules;      // [[routing.rules]] tables, rendered after [routing]
  int replica1_port = 0;  // 0: the sandbox's replica1
  int replica2_port = 0;  // 0: the sandbox's replica2
};

// How often each value of the first column came back from running SQL N times.
using Tally = std::map<std::string, int>;

std::string describe(const Tally& tally) {
  std::string out = "{";
  for (const auto& [value, count] : tally) {
    out += " " + value + ":" + std::to_string(count);
  }
  return out + " }";
}

std::set<std::string> keys(const Tally& tally) {
  std::set<std::string> out;
  for (const auto& [value, count] : tally) {
    out.insert(value);
  }
  return out;
}

struct StmtCloser {
  void operator()(MYSQL_STMT* s) const { mysql_stmt_close(s); }
};
using Stmt = std::unique_ptr<MYSQL_STMT, StmtCloser>;

std::string stmt_error(MYSQL_STMT* s) {
  return "error " + std::to_string(mysql_stmt_errno(s)) + " (" + mysql_stmt_sqlstate(s) +
         "): " + mysql_stmt_error(s);
}

// Executes S with integer parameters; its rows with every column converted to text.
std::expected<Rows, std::string> execute(MYSQL_STMT* s, const std::vector<long long>& params) {
  std::vector<long long> values = params;
  std::vector<MYSQL_BIND> in(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    in[i].buffer_type = MYSQL_TYPE_LONGLONG;
    in[i].buffer = &values[i];
  }
  if (!in.empty() && mysql_stmt_bind_param(s, in.data()) != 0) {
    return std::unexpected("bind_param: " + stmt_error(s));
  }
  if (mysql_stmt_execute(s) != 0) {
    return std::unexpected("execute: " + stmt_error(s));
  }
  const unsigned n = mysql_stmt_field_count(s);
  Rows rows;
  if (n == 0) {
    return rows;
  }
  std::vector<std::array<char, 256>> buffers(n);
  std::vector<unsigned long> lengths(n);
  std::vector<my_bool> nulls(n);
  std::vector<my_bool> errors(n);
  std::vector<MYSQL_BIND> out(n);
  for (unsigned i = 0; i < n; ++i) {
    out[i].buffer_type = MYSQL_TYPE_STRING;
    out[i].buffer = buffers[i].data();
    out[i].buffer_length = buffers[i].size() - 1;
    out[i].length = &lengths[i];
    out[i].is_null = &nulls[i];
    out[i].error = &errors[i];
  }
  if (mysql_stmt_bind_result(s, out.data()) != 0) {
    return std::unexpected("bind_result: " + stmt_error(s));
  }
  for (;;) {
    const int r = mysql_stmt_fetch(s);
    if (r == MYSQL_NO_DATA) {
      break;
    }
    if (r == 1) {
      return std::unexpected("fetch: " + stmt_error(s));
    }
    Row row;
    for (unsigned i = 0; i < n; ++i) {
      if (nulls[i]) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(buffers[i].data(), std::min<size_t>(lengths[i], 255)));
      }
    }
    rows.push_back(std::move(row));
  }
  mysql_stmt_free_result(s);
  return rows;
}

Stmt prepare(Connection& c, std::string_view sql) {
  Stmt stmt(mysql_stmt_init(c.get()));
  if (mysql_stmt_prepare(stmt.get(), sql.data(), sql.size()) != 0) {
    ADD_FAILURE() << "prepare " << sql << ": " << stmt_error(stmt.get());
  }
  return stmt;
}

class SplittingRouting : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    ASSERT_GT(sandbox().port("replica1"), 0) << "the sandbox needs two replicas";
    ASSERT_GT(sandbox().port("replica2"), 0) << "the sandbox needs two replicas";
    for (const std::string name : {"primary", "replica1", "replica2"}) {
      auto direct = connect_direct(sandbox(), name);
      ASSERT_TRUE(direct);
      ids_[name] = direct->scalar("SELECT @@server_id");
    }
    primary_id_ = ids_["primary"];
    replica1_id_ = ids_["replica1"];
    replica2_id_ = ids_["replica2"];
    ASSERT_NE(replica1_id_, replica2_id_);
    ASSERT_NE(primary_id_, replica1_id_);
    ASSERT_NE(primary_id_, replica2_id_);
    replica_ids_ = {replica1_id_, replica2_id_};
  }

  std::string config(int port, const SplitSetup& setup) const {
    const int r1 = setup.replica1_port ? setup.replica1_port : sandbox().port("replica1");
    const int r2 = setup.replica2_port ? setup.replica2_port : sandbox().port("replica2");
    std::string c = "[proxy]\nlisten = \"127.0.0.1:" + std::to_string(port) +
                    "\"\nworkers = 2\n\n[log]\nlevel = \"debug\"\n";
    if (!setup.routing.empty()) {
      c += "\n[routing]\n" + setup.routing;
    }
    c += setup.rules;
    c += "\n[[users]]\nname = \"app\"\npassword = \"app\"\n";
    c += "\n[[backends]]\nname = \"primary\"\naddress = \"127.0.0.1:" +
         std::to_string(sandbox().primary_port()) + "\"\nrole = \"primary\"\n";
    c += "\n[[backends]]\nname = \"replica1\"\naddress = \"127.0.0.1:" + std::to_string(r1) +
         "\"\nrole = \"replica\"\nweight = 1\n";
    c += "\n[[backends]]\nname = \"replica2\"\naddress = \"127.0.0.1:" + std::to_string(r2) +
         "\"\nrole = \"replica\"\n";
    return c;
  }

  // A started proxy (check with ASSERT_TRUE(proxy && proxy->alive())).
  std::unique_ptr<ProxyProcess> start_proxy(const SplitSetup& setup = {}) {
    const int port = free_port();
    auto proxy = std::make_unique<ProxyProcess>(config(port, setup), port);
    auto started = proxy->start();
    if (!started) {
      ADD_FAILURE() << started.message();
      return nullptr;
    }
    return proxy;
  }

  // Runs SQL N times on C; how often each value of column COLUMN came back.
  Tally tally(Connection& c, std::string_view sql, int n, size_t column = 0) {
    Tally t;
    for (int i = 0; i < n; ++i) {
      auto rows = c.query(sql);
      if (!rows) {
        ADD_FAILURE() << "run " << i + 1 << " of " << sql << ": " << rows.error();
        ++t["<error>"];
        continue;
      }
      if (rows->size() != 1 || rows->at(0).size() <= column || !rows->at(0)[column]) {
        ADD_FAILURE() << "run " << i + 1 << " of " << sql << ": not one row with column " << column;
        ++t["<bad result>"];
        continue;
      }
      ++t[*rows->at(0)[column]];
    }
    return t;
  }

  // Waits until both replicas have applied everything the primary has logged.
  void wait_replicas_caught_up() {
    auto primary = connect_direct(sandbox());
    ASSERT_TRUE(primary);
    const std::string pos = primary->scalar("SELECT @@gtid_binlog_pos");
    for (const std::string name : {"replica1", "replica2"}) {
      auto replica = connect_direct(sandbox(), name);
      ASSERT_TRUE(replica);
      ASSERT_EQ(replica->scalar("SELECT MASTER_GTID_WAIT('" + pos + "', 30)"), "0")
          << name << " did not reach the primary's " << pos << " within 30 s";
    }
  }

  std::map<std::string, std::string> ids_;
  std::string primary_id_;
  std::string replica1_id_;
  std::string replica2_id_;
  std::set<std::string> replica_ids_;
};

// (a) Autocommit reads go to both replicas and never the primary; BEGIN, START TRANSACTION and
// autocommit=0 keep every statement on the primary until the transaction ends.
TEST_F(SplittingRouting, AutocommitReadsRoundRobinTransactionsStayOnPrimary) {
  auto proxy = start_proxy();
  ASSERT_TRUE(proxy);
  auto c = must_connect({.port = proxy->port()});
  ASSERT_TRUE(c);
  constexpr std::string_view kSelect = "SELECT @@server_id";

  Tally autocommit = tally(*c, kSelect, 40);
  EXPECT_EQ(keys(autocommit), replica_ids_) << "40 autocommit reads: " << describe(autocommit);

  for (const std::string begin : {"BEGIN", "START TRANSACTION"}) {
    SCOPED_TRACE(begin);
    c->must(begin);
    Tally in_trx = tally(*c, kSelect, 10);
    EXPECT_EQ(in_trx, (Tally{{primary_id_, 10}})) << "reads after " << begin;
    c->must("COMMIT");
    Tally after = tally(*c, kSelect, 10);
    EXPECT_EQ(keys(after), replica_ids_) << "reads after COMMIT: " << describe(after);
  }

  c->must("SET autocommit=0");
  Tally no_autocommit = tally(*c, kSelect, 10);
  EXPECT_EQ(no_autocommit, (Tally{{primary_id_, 10}})) << "reads with autocommit=0";
  // COMMIT ends the transaction but autocommit is still off: the next read opens another one.
  c->must("COMMIT");
  Tally still_off = tally(*c, kSelect, 5);
  EXPECT_EQ(still_off, (Tally{{primary_id_, 5}})) << "reads after COMMIT with autocommit=0";
  c->must("SET autocommit=1");
  Tally back_on = tally(*c, kSelect, 10);
  EXPECT_EQ(keys(back_on), replica_ids_) << "reads after autocommit=1: " << describe(back_on);
  EXPECT_EQ(c->scalar("SELECT @@autocommit"), "1");
}

// (b) LAST_INSERT_ID(), FOUND_ROWS() and SHOW WARNINGS see the statement before them, and a
// temporary table is usable (and keeps the session's reads on the primary, which has it).
TEST_F(SplittingRouting, LastInsertIdAndTemporaryTables) {
  auto proxy = start_proxy();
  ASSERT_TRUE(proxy);
  ScopedSchema schema(sandbox(), "split_lid");
  ASSERT_TRUE(schema.create());
  wait_replicas_caught_up();
  auto c = must_connect({.port = proxy->port(), .db = schema.name()});
  ASSERT_TRUE(c);
  c->must("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT) AUTO_INCREMENT = 100");

  auto direct = connect_direct(sandbox(), "primary", schema.name());
  ASSERT_TRUE(direct);
  for (int i = 1; i <= 5; ++i) {
    SCOPED_TRACE("insert " + std::to_string(i));
    c->must("INSERT INTO t (v) VALUES (" + std::to_string(i) + "), (" + std::to_string(-i) + ")");
    const std::string client_id = std::to_string(mysql_insert_id(c->get()));
    const std::string on_primary =
        direct->scalar("SELECT id FROM t WHERE v = " + std::to_string(i));
    EXPECT_EQ(client_id, on_primary);
    EXPECT_EQ(c->scalar("SELECT LAST_INSERT_ID()"), on_primary);
    // Reads between the insert and the next LAST_INSERT_ID() go elsewhere; it must not change.
    tally(*c, "SELECT @@server_id", 2);
    EXPECT_EQ(c->scalar("SELECT LAST_INSERT_ID()"), on_primary);
  }

  // FOUND_ROWS() after SQL_CALC_FOUND_ROWS, wherever that select ran.
  Rows page = c->must("SELECT SQL_CALC_FOUND_ROWS id FROM t ORDER BY id LIMIT 3");
  EXPECT_EQ(page.size(), 3u);
  EXPECT_EQ(c->scalar("SELECT FOUND_ROWS()"), "10");

  // SHOW WARNINGS after a read that warned (division by zero) shows that read's warning.
  Rows division = c->must("SELECT 1/0, @@server_id");
  ASSERT_EQ(division.size(), 1u);
  EXPECT_EQ(division[0][0], std::nullopt);
  EXPECT_EQ(mysql_warning_count(c->get()), 1u);
  Rows warnings = c->must("SHOW WARNINGS");
  ASSERT_EQ(warnings.size(), 1u) << "SHOW WARNINGS after a read on server "
                                 << division[0][1].value_or("?") << " came back empty";
  EXPECT_EQ(warnings[0][1], "1365");

  // Reads of the session still go to the replicas before the temporary table exists.
  Tally before = tally(*c, "SELECT @@server_id", 6);
  EXPECT_EQ(keys(before), replica_ids_) << describe(before);

  c->must("CREATE TEMPORARY TABLE tmp (a INT PRIMARY KEY, b VARCHAR(8))");
  c->must("INSERT INTO tmp VALUES (1, 'one'), (2, 'two')");
  Rows rows = c->must("SELECT * FROM tmp ORDER BY a");
  EXPECT_EQ(rows, (Rows{{"1", "one"}, {"2", "two"}}));
  EXPECT_EQ(c->scalar("SELECT COUNT(*) FROM tmp JOIN t ON t.v = tmp.a"), "2");
  Tally after = tally(*c, "SELECT @@server_id", 6);
  EXPECT_EQ(after, (Tally{{primary_id_, 6}})) << "reads after CREATE TEMPORARY TABLE";
}

// (c) A read-only transaction runs on one replica from START TRANSACTION READ ONLY to COMMIT.
TEST_F(SplittingRouting, ReadOnlyTransactionStaysOnOneReplica) {
  auto proxy = start_proxy();
  ASSERT_TRUE(proxy);
  auto c = must_connect({.port = proxy->port()});
  ASSERT_TRUE(c);
  std::set<std::string> used;
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("read-only transaction " + std::to_string(round + 1));
    c->must("START TRANSACTION READ ONLY");
    Tally in_trx = tally(*c, "SELECT @@server_id", 8);
    ASSERT_EQ(in_trx.size(), 1u) << "one transaction ran on several servers: " << describe(in_trx);
    EXPECT_TRUE(replica_ids_.contains(in_trx.begin()->first))
        << "the read-only transaction ran on server " << in_trx.begin()->first;
    used.insert(in_trx.begin()->first);
    // The replica running it is inside the transaction until COMMIT.
    EXPECT_EQ(c->scalar("SELECT @@in_transaction"), "1");
    c->must("COMMIT");
    EXPECT_EQ(c->scalar("SELECT @@in_transaction"), "0");
  }
  std::cerr << "[info] read-only transactions ran on servers";
  for (const auto& id : used) {
    std::cerr << " " << id;
  }
  std::cerr << "\n";
  Tally after = tally(*c, "SELECT @@server_id", 10);
  EXPECT_EQ(keys(after), replica_ids_) << "reads after the transactions: " << describe(after);
}

// (d) Hints in comments override the automatic routing; a write sent to a replica by a hint
// still runs on the primary.
TEST_F(SplittingRouting, HintsOverrideRouting) {
  auto proxy = start_proxy();
  ASSERT_TRUE(proxy);
  ScopedSchema schema(sandbox(), "split_hint");
  ASSERT_TRUE(schema.create());
  wait_replicas_caught_up();
  auto c = must_connect({.port = proxy->port(), .db = schema.name()});
  ASSERT_TRUE(c);

  EXPECT_EQ(tally(*c, "/* replproxy: route=primary */ SELECT @@server_id", 5),
            (Tally{{primary_id_, 5}}));
  EXPECT_EQ(tally(*c, "/* replproxy: route=backend:replica2 */ SELECT @@server_id", 5),
            (Tally{{replica2_id_, 5}}));
  EXPECT_EQ(tally(*c, "/* replproxy: route=backend:replica1 */ SELECT @@server_id", 5),
            (Tally{{replica1_id_, 5}}));
  EXPECT_EQ(tally(*c, "SELECT @@server_id /* replproxy: route=backend:replica2 */", 3),
            (Tally{{replica2_id_, 3}}))
      << "a hint after the statement";
  Tally replica_hint = tally(*c, "/* replproxy: route=replica */ SELECT @@server_id", 10);
  EXPECT_EQ(keys(replica_hint), replica_ids_) << describe(replica_hint);

  c->must("CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(32))");
  auto direct = connect_direct(sandbox(), "primary", schema.name());
  ASSERT_TRUE(direct);
  for (const auto& [id, hint] : std::vector<std::pair<int, std::string>>{
           {1, "/* replproxy: route=replica */"}, {2, "/* replproxy: route=backend:replica2 */"}}) {
    SCOPED_TRACE(hint);
    auto r = c->query(hint + " INSERT INTO t VALUES (" + std::to_string(id) + ", 'hinted')");
    EXPECT_TRUE(r) << "a hinted INSERT failed instead of running on the primary: " << r.error();
    EXPECT_EQ(direct->scalar("SELECT note FROM t WHERE id = " + std::to_string(id)), "hinted")
        << "the row is not on the primary";
  }
  // The writes are readable through the proxy at once (read-your-writes) from both replicas.
  Tally count = tally(*c, "SELECT COUNT(*) FROM t", 6);
  EXPECT_EQ(count, (Tally{{"2", 6}}));
}

// (e) [[routing.rules]] are tried in order before the automatic routing: a matching pattern
// (case-insensitive) goes to its target, a schema rule to its backend, others as usual.
TEST_F(SplittingRouting, RulesRouteMatchingStatements) {
  ScopedSchema schema(sandbox(), "split_rule");
  ASSERT_TRUE(schema.create());
  wait_replicas_caught_up();
  SplitSetup setup;
  setup.rules =
      "\n[[routing.rules]]\nmatch = \"^SELECT .*FROM mysql\\\\.user\"\ntarget = \"primary\"\n"
      "\n[[routing.rules]]\nschema = \"" +
      schema.name() + "\"\ntarget = \"backend:replica1\"\n";
  auto proxy = start_proxy(setup);
  ASSERT_TRUE(proxy);
  auto c = must_connect({.port = proxy->port()});
  ASSERT_TRUE(c);

  EXPECT_EQ(tally(*c, "SELECT @@server_id, COUNT(*) FROM mysql.user", 6),
            (Tally{{primary_id_, 6}}));
  EXPECT_EQ(tally(*c, "select @@server_id, count(*) from mysql.user where user = 'app'", 4),
            (Tally{{primary_id_, 4}}))
      << "the rule's pattern is case-insensitive";
  Tally others = tally(*c, "SELECT @@server_id, COUNT(*) FROM mysql.db", 10);
  EXPECT_EQ(keys(others), replica_ids_) << "a select the rule does not match: " << describe(others);

  c->must("USE `" + schema.name() + "`");
  EXPECT_EQ(tally(*c, "SELECT @@server_id", 8), (Tally{{replica1_id_, 8}}))
      << "reads in the schema of the second rule";
  EXPECT_EQ(tally(*c, "SELECT @@server_id FROM mysql.user LIMIT 1", 4), (Tally{{primary_id_, 4}}))
      << "the first matching rule wins";
}

// (f) USE, COM_INIT_DB, SET NAMES, SET SESSION and SET @v hold on every backend connection the
// session uses; a SET with a computed value keeps the session on the primary.
TEST_F(SplittingRouting, SessionStateIsReplayedOnEveryReplica) {
  auto proxy = start_proxy();
  ASSERT_TRUE(proxy);
  ScopedSchema one(sandbox(), "split_use");
  ScopedSchema two(sandbox(), "split_initdb");
  ASSERT_TRUE(one.create());
  ASSERT_TRUE(two.create());
  wait_replicas_caught_up();

  {
    SCOPED_TRACE("reads open both replica connections first, then USE and SET");
    auto c = must_connect({.port = proxy->port()});
    ASSERT_TRUE(c);
    Tally first = tally(*c, "SELECT @@server_id", 4);
    EXPECT_EQ(keys(first), replica_ids_) << describe(first);

    c->must("USE `" + one.name() + "`");
    Tally db = tally(*c, "SELECT DATABASE(), @@server_id", 10);
    EXPECT_EQ(db, (Tally{{one.name(), 10}})) << "DATABASE() after USE";
    Tally where = tally(*c, "SELECT DATABASE(), @@server_id", 10, 1);
    EXPECT_EQ(keys(where), replica_ids_) << describe(where);

    ASSERT_EQ(mysql_select_db(c->get(), two.name().c_str()), 0) << c->error();
    Tally db2 = tally(*c, "SELECT DATABASE(), @@server_id", 10);
    EXPECT_EQ(db2, (Tally{{two.name(), 10}})) << "DATABASE() after COM_INIT_DB";

    c->must("SET @v = 7");
    c->must("SET NAMES latin1");
    c->must("SET SESSION sql_mode = 'ANSI_QUOTES'");
    constexpr std::string_view kState =
        "SELECT @v, @@character_set_client, @@sql_mode, @@server_id, DATABASE()";
    std::set<std::string> servers;
    for (int i = 0; i < 10; ++i) {
      Rows rows = c->must(kState);
      ASSERT_EQ(rows.size(), 1u);
      EXPECT_EQ(rows[0], (Row{"7", "latin1", "ANSI_QUOTES", rows[0][3], two.name()}))
          << "read " << i + 1 << " on server " << rows[0][3].value_or("?");
      servers.insert(rows[0][3].value_or("?"));
    }
    EXPECT_EQ(servers, replica_ids_);

    // The last SET of a variable wins everywhere.
    c->must("SET @v = 8");
    c->must("SET SESSION sql_mode = 'PIPES_AS_CONCAT'");
    Tally v = tally(*c, "SELECT @v, @@sql_mode", 6);
    EXPECT_EQ(v, (Tally{{"8", 6}}));
    Tally mode = tally(*c, "SELECT @v, @@sql_mode", 6, 1);
    EXPECT_EQ(mode, (Tally{{"PIPES_AS_CONCAT", 6}}));

    c->must("SET @t = NOW()");
    Tally pinned = tally(*c, "SELECT @@server_id, @t IS NOT NULL, @v", 8);
    EXPECT_EQ(pinned, (Tally{{primary_id_, 8}})) << "reads after SET @t = NOW()";
    // The SET itself ran where the session now stays.
    Rows t = c->must("SELECT @t IS NOT NULL, @@server_id");
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0], (Row{"1", primary_id_})) << "@t is NULL on the server the session is pinned to";
    EXPECT_EQ(c->scalar("SELECT @v"), "8");
  }
  {
    SCOPED_TRACE("USE and SET first, then reads open the replica connections");
    auto c = must_connect({.port = proxy->port()});
    ASSERT_TRUE(c);
    c->must("USE `" + one.name() + "`");
    c->must("SET @v = 7");
    c->must("SET NAMES latin1");
    c->must("SET SESSION sql_mode = 'ANSI_QUOTES'");
    std::set<std::string> servers;
    for (int i = 0; i < 10; ++i) {
      Rows rows = c->must("SELECT @v, @@character_set_client, @@sql_mode, DATABASE(), @@server_id");
      ASSERT_EQ(rows.size(), 1u);
      EXPECT_EQ(rows[0], (Row{"7", "latin1", "ANSI_QUOTES", one.name(), rows[0][4]}))
          << "read " << i + 1 << " on server " << rows[0][4].value_or("?");
      servers.insert(rows[0][4].value_or("?"));
    }
    EXPECT_EQ(servers, replica_ids_);
  }
}

// (g) Prepared statements: an execute of a read goes round-robin (the statement is prepared on
// each backend as needed), a prepared write goes to the primary, close and re-prepare work.
TEST_F(SplittingRouting, PreparedStatementsSplit) {
  auto proxy = start_proxy();
  ASSERT_TRUE(proxy);
  ScopedSchema schema(sandbox(), "split_ps");
  ASSERT_TRUE(schema.create());
  wait_replicas_caught_up();
  auto c = must_connect({.port = proxy->port(), .db = schema.name()});
  ASSERT_TRUE(c);
  c->must("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");

  Stmt select = prepare(*c, "SELECT @@server_id, ?");
  ASSERT_EQ(mysql_stmt_param_count(select.get()), 1u);
  Tally servers;
  for (int i = 0; i < 20; ++i) {
    auto rows = execute(select.get(), {1000 + i});
    ASSERT_TRUE(rows) << "execute " << i + 1 << ": " << rows.error();
    ASSERT_EQ(rows->size(), 1u);
    ASSERT_EQ(rows->at(0).size(), 2u);
    EXPECT_EQ(rows->at(0)[1], std::to_string(1000 + i)) << "the parameter of execute " << i + 1;
    ++servers[rows->at(0)[0].value_or("NULL")];
  }
  EXPECT_EQ(keys(servers), replica_ids_) << "20 executes: " << describe(servers);

  Stmt insert = prepare(*c, "INSERT INTO t (v) VALUES (?)");
  auto direct = connect_direct(sandbox(), "primary", schema.name());
  ASSERT_TRUE(direct);
  for (int i = 1; i <= 3; ++i) {
    auto r = execute(insert.get(), {i * 11});
    ASSERT_TRUE(r) << "prepared insert " << i << ": " << r.error();
    EXPECT_EQ(mysql_stmt_affected_rows(insert.get()), 1u);
    EXPECT_EQ(direct->scalar("SELECT COUNT(*) FROM t WHERE v = " + std::to_string(i * 11)), "1")
        << "the prepared insert did not reach the primary";
    EXPECT_EQ(std::to_string(mysql_stmt_insert_id(insert.get())),
              direct->scalar("SELECT id FROM t WHERE v = " + std::to_string(i * 11)));
  }
  // The inserted rows, read back through a prepared read on the replicas.
  Stmt count = prepare(*c, "SELECT COUNT(*), @@server_id FROM t WHERE v > ?");
  Tally count_servers;
  for (int i = 0; i < 6; ++i) {
    auto rows = execute(count.get(), {0});
    ASSERT_TRUE(rows) << rows.error();
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->at(0)[0], "3");
    ++count_servers[rows->at(0)[1].value_or("NULL")];
  }
  EXPECT_EQ(keys(count_servers), replica_ids_) << describe(count_servers);

  EXPECT_EQ(mysql_stmt_close(select.release()), 0);
  EXPECT_EQ(mysql_stmt_close(insert.release()), 0);
  EXPECT_EQ(mysql_stmt_close(count.release()), 0);
  // The session still works, and a new statement (possibly reusing an id) too.
  EXPECT_EQ(c->scalar("SELECT COUNT(*) FROM t"), "3");
  Stmt again = prepare(*c, "SELECT ? + 1, @@server_id");
  Tally again_servers;
  for (int i = 0; i < 6; ++i) {
    auto rows = execute(again.get(), {41 + i});
    ASSERT_TRUE(rows) << rows.error();
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->at(0)[0], std::to_string(42 + i));
    ++again_servers[rows->at(0)[1].value_or("NULL")];
  }
  EXPECT_EQ(keys(again_servers), replica_ids_) << describe(again_servers);
}

// (h) consistency = "primary": reads after a write go to the primary; "eventual": they stay on
// the replicas.
TEST_F(SplittingRouting, ConsistencyPrimaryAndEventual) {
  ScopedSchema schema(sandbox(), "split_cons");
  ASSERT_TRUE(schema.create());
  {
    auto direct = connect_direct(sandbox(), "primary", schema.name());
    ASSERT_TRUE(direct);
    direct->must("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  }
  wait_replicas_caught_up();
  for (const std::string mode : {"primary", "eventual"}) {
    SCOPED_TRACE("consistency = " + mode);
    auto proxy = start_proxy({.routing = "consistency = \"" + mode + "\"\n"});
    ASSERT_TRUE(proxy);
    auto c = must_connect({.port = proxy->port(), .db = schema.name()});
    ASSERT_TRUE(c);
    Tally before = tally(*c, "SELECT @@server_id", 6);
    EXPECT_EQ(keys(before), replica_ids_) << "reads before any write: " << describe(before);
    c->must("INSERT INTO t (v) VALUES (1)");
    Tally after = tally(*c, "SELECT @@server_id", 10);
    if (mode == "primary") {
      EXPECT_EQ(after, (Tally{{primary_id_, 10}})) << "reads after a write";
    } else {
      EXPECT_EQ(keys(after), replica_ids_) << "reads after a write: " << describe(after);
    }
  }
}

// (i) Replicas nobody listens on: reads fall back to the primary (read_fallback = "primary") or
// fail (read_fallback = "error") while writes still work; one dead replica is skipped.
TEST_F(SplittingRouting, ReadFallbackWhenReplicasAreDown) {
  ScopedSchema schema(sandbox(), "split_fallback");
  ASSERT_TRUE(schema.create());
  {
    auto direct = connect_direct(sandbox(), "primary", schema.name());
    ASSERT_TRUE(direct);
    direct->must("CREATE TABLE t (id INT PRIMARY KEY)");
  }
  wait_replicas_caught_up();
  auto direct = connect_direct(sandbox(), "primary", schema.name());
  ASSERT_TRUE(direct);
  const std::string table = "`" + schema.name() + "`.t";
  const int dead1 = free_port();
  const int dead2 = free_port();
  ASSERT_FALSE(port_accepts(dead1));
  ASSERT_FALSE(port_accepts(dead2));

  {
    SCOPED_TRACE("read_fallback = \"primary\", both replicas down");
    auto proxy = start_proxy({.routing = "read_fallback = \"primary\"\n",
                              .replica1_port = dead1,
                              .replica2_port = dead2});
    ASSERT_TRUE(proxy);
    auto c = must_connect({.port = proxy->port()});
    ASSERT_TRUE(c);
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(tally(*c, "SELECT @@server_id", 10), (Tally{{primary_id_, 10}}));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    c->must("INSERT INTO " + table + " VALUES (1)");
    EXPECT_EQ(direct->scalar("SELECT COUNT(*) FROM t WHERE id = 1"), "1");
    EXPECT_EQ(c->scalar("SELECT COUNT(*) FROM " + table), "1");
  }
  {
    SCOPED_TRACE("read_fallback = \"error\", both replicas down");
    auto proxy = start_proxy(
        {.routing = "read_fallback = \"error\"\n", .replica1_port = dead1, .replica2_port = dead2});
    ASSERT_TRUE(proxy);
    auto c = must_connect({.port = proxy->port()});
    ASSERT_TRUE(c);
    for (int i = 0; i < 4; ++i) {
      auto r = c->query("SELECT @@server_id");
      EXPECT_FALSE(r) << "read " << i + 1 << " succeeded on server "
                      << (r && !r->empty() ? r->at(0)[0].value_or("NULL") : "?")
                      << " although no replica is usable and read_fallback = \"error\"";
      if (!r) {
        // ER_UNKNOWN_ERROR with the proxy's reason, not a connection error or the primary.
        EXPECT_EQ(r.error().code, 1105u) << r.error();
      }
    }
    // The session survives the refused reads; writes still go to the primary.
    auto w = c->query("INSERT INTO " + table + " VALUES (2)");
    EXPECT_TRUE(w) << w.error();
    EXPECT_EQ(direct->scalar("SELECT COUNT(*) FROM t WHERE id = 2"), "1");
    auto begin = c->query("BEGIN");
    EXPECT_TRUE(begin) << begin.error();
    EXPECT_EQ(c->scalar("SELECT @@server_id"), primary_id_) << "a read in a transaction";
    c->must("COMMIT");
  }
  {
    SCOPED_TRACE("replica1 down, replica2 up");
    auto proxy = start_proxy({.replica1_port = dead1});
    ASSERT_TRUE(proxy);
    auto c = must_connect({.port = proxy->port()});
    ASSERT_TRUE(c);
    EXPECT_EQ(tally(*c, "SELECT @@server_id", 20), (Tally{{replica2_id_, 20}}));
    auto c2 = must_connect({.port = proxy->port()});
    ASSERT_TRUE(c2);
    EXPECT_EQ(tally(*c2, "SELECT @@server_id", 10), (Tally{{replica2_id_, 10}}));
  }
}

}  // namespace
}  // namespace replproxy::e2e
