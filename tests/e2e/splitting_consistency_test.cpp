// Read/write splitting under load, checked against the servers themselves: read-your-writes
// (a session always sees its own row at once, while the replicas serve the reads), sysbench
// oltp_read_write through the proxy (writes only on the primary, reads split when autocommit),
// and afterwards no errant transaction on any replica and identical data on all three servers.

#include <regex>
#include <sstream>

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

constexpr const char* kServers[] = {"primary", "replica1", "replica2"};

struct StmtCloser {
  void operator()(MYSQL_STMT* s) const { mysql_stmt_close(s); }
};
using Stmt = std::unique_ptr<MYSQL_STMT, StmtCloser>;

std::string stmt_error(MYSQL_STMT* s) {
  return "error " + std::to_string(mysql_stmt_errno(s)) + " (" + mysql_stmt_sqlstate(s) +
         "): " + mysql_stmt_error(s);
}

// Executes S with one integer parameter; the first row's columns as text (at most 2 columns).
std::expected<Row, std::string> execute_one(MYSQL_STMT* s, long long param) {
  MYSQL_BIND in{};
  in.buffer_type = MYSQL_TYPE_LONGLONG;
  in.buffer = &param;
  if (mysql_stmt_bind_param(s, &in) != 0) {
    return std::unexpected("bind_param: " + stmt_error(s));
  }
  if (mysql_stmt_execute(s) != 0) {
    return std::unexpected("execute: " + stmt_error(s));
  }
  const unsigned n = mysql_stmt_field_count(s);
  Row row;
  if (n == 0) {
    return row;
  }
  if (n > 2) {
    return std::unexpected("more than 2 columns");
  }
  char buffers[2][64] = {};
  unsigned long lengths[2] = {};
  my_bool nulls[2] = {};
  MYSQL_BIND out[2]{};
  for (unsigned i = 0; i < n; ++i) {
    out[i].buffer_type = MYSQL_TYPE_STRING;
    out[i].buffer = buffers[i];
    out[i].buffer_length = sizeof(buffers[i]) - 1;
    out[i].length = &lengths[i];
    out[i].is_null = &nulls[i];
  }
  if (mysql_stmt_bind_result(s, out) != 0) {
    return std::unexpected("bind_result: " + stmt_error(s));
  }
  int rows = 0;
  for (;;) {
    const int r = mysql_stmt_fetch(s);
    if (r == MYSQL_NO_DATA) {
      break;
    }
    if (r == 1) {
      return std::unexpected("fetch: " + stmt_error(s));
    }
    if (rows++ == 0) {
      for (unsigned i = 0; i < n; ++i) {
        row.emplace_back(nulls[i] ? Value() : Value(std::string(buffers[i], lengths[i])));
      }
    }
  }
  mysql_stmt_free_result(s);
  return row;
}

// The server ids in a GTID list "D-S-N,D-S-N,..." (empty list: none).
std::vector<std::string> gtid_server_ids(const std::string& list) {
  std::vector<std::string> ids;
  std::stringstream ss(list);
  std::string gtid;
  while (std::getline(ss, gtid, ',')) {
    gtid.erase(0, gtid.find_first_not_of(" \n"));
    if (gtid.empty()) {
      continue;
    }
    const size_t first = gtid.find('-');
    const size_t second = first == std::string::npos ? first : gtid.find('-', first + 1);
    if (second == std::string::npos) {
      ids.push_back("<unparsable GTID '" + gtid + "'>");
      continue;
    }
    ids.push_back(gtid.substr(first + 1, second - first - 1));
  }
  return ids;
}

class SplittingConsistency : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    ASSERT_GT(sandbox().port("replica1"), 0) << "the sandbox needs two replicas";
    ASSERT_GT(sandbox().port("replica2"), 0) << "the sandbox needs two replicas";
    for (const char* name : kServers) {
      auto c = connect_direct(sandbox(), name);
      ASSERT_TRUE(c);
      ids_[name] = c->scalar("SELECT @@server_id");
    }
  }

  std::unique_ptr<ProxyProcess> start_proxy(const std::string& log_level = "debug") {
    const int port = free_port();
    std::string c = "[proxy]\nlisten = \"127.0.0.1:" + std::to_string(port) +
                    "\"\nworkers = 2\n\n[log]\nlevel = \"" + log_level + "\"\n";
    c += "\n[[users]]\nname = \"app\"\npassword = \"app\"\n";
    c += "\n[[backends]]\nname = \"primary\"\naddress = \"127.0.0.1:" +
         std::to_string(sandbox().primary_port()) + "\"\nrole = \"primary\"\n";
    for (const std::string name : {"replica1", "replica2"}) {
      c += "\n[[backends]]\nname = \"" + name +
           "\"\naddress = \"127.0.0.1:" + std::to_string(sandbox().port(name)) +
           "\"\nrole = \"replica\"\n";
    }
    auto proxy = std::make_unique<ProxyProcess>(c, port);
    auto started = proxy->start();
    if (!started) {
      ADD_FAILURE() << started.message();
      return nullptr;
    }
    return proxy;
  }

  // A global status counter of server NAME, read directly as root.
  uint64_t counter(const std::string& name, const std::string& variable) {
    auto c = connect_direct(sandbox(), name);
    if (!c) {
      return 0;
    }
    Rows rows = c->must("SHOW GLOBAL STATUS LIKE '" + variable + "'");
    return rows.empty() || !rows[0][1] ? 0 : std::stoull(*rows[0][1]);
  }

  std::map<std::string, uint64_t> counters(const std::string& variable) {
    std::map<std::string, uint64_t> out;
    for (const char* name : kServers) {
      out[name] = counter(name, variable);
    }
    return out;
  }

  // Waits until both replicas have applied everything the primary has logged.
  void wait_replicas_caught_up(int timeout_s = 30) {
    auto primary = connect_direct(sandbox());
    ASSERT_TRUE(primary);
    const std::string pos = primary->scalar("SELECT @@gtid_binlog_pos");
    for (const std::string name : {"replica1", "replica2"}) {
      auto replica = connect_direct(sandbox(), name);
      ASSERT_TRUE(replica);
      ASSERT_EQ(replica->scalar("SELECT MASTER_GTID_WAIT('" + pos + "', " +
                                std::to_string(timeout_s) + ")"),
                "0")
          << name << " did not reach the primary's gtid_binlog_pos " << pos << " within "
          << timeout_s << " s; its gtid_slave_pos is "
          << replica->scalar("SELECT @@gtid_slave_pos");
    }
  }

  // (c) Once the replicas caught up: no GTID on a replica that did not come from the primary,
  // and the same rows in every sbtest table on all three servers.
  void check_replicas_match_primary(const std::string& schema, int tables) {
    wait_replicas_caught_up();
    for (const std::string name : {"replica1", "replica2"}) {
      auto replica = connect_direct(sandbox(), name);
      ASSERT_TRUE(replica);
      for (const std::string variable : {"gtid_binlog_pos", "gtid_current_pos"}) {
        const std::string list = replica->scalar("SELECT @@" + variable);
        const std::vector<std::string> server_ids = gtid_server_ids(list);
        EXPECT_FALSE(server_ids.empty()) << name << " @@" << variable << " is empty";
        for (const std::string& id : server_ids) {
          EXPECT_EQ(id, ids_["primary"]) << "errant transaction: " << name << " @@" << variable
                                         << " = '" << list << "' has a GTID from server id " << id;
        }
      }
    }
    for (int t = 1; t <= tables; ++t) {
      const std::string table = "`" + schema + "`.sbtest" + std::to_string(t);
      std::map<std::string, std::string> count;
      std::map<std::string, std::string> checksum;
      for (const char* name : kServers) {
        auto c = connect_direct(sandbox(), name);
        ASSERT_TRUE(c);
        count[name] = c->scalar("SELECT COUNT(*) FROM " + table);
        Rows rows = c->must("CHECKSUM TABLE " + table);
        checksum[name] = rows.empty() || rows[0].size() < 2 ? "" : rows[0][1].value_or("NULL");
      }
      for (const std::string name : {"replica1", "replica2"}) {
        EXPECT_EQ(count[name], count["primary"]) << "COUNT(*) of " << table << " on " << name;
        EXPECT_EQ(checksum[name], checksum["primary"])
            << "CHECKSUM TABLE " << table << " on " << name;
      }
      EXPECT_NE(checksum["primary"], "");
    }
  }

  std::map<std::string, std::string> ids_;
};

// (a) Text protocol: 1000 times INSERT a unique value, then count it at once: always 1, from a
// replica, and the replicas' Com_select grows by the reads they served.
TEST_F(SplittingConsistency, ReadYourWritesTextProtocol) {
  auto proxy = start_proxy("info");
  ASSERT_TRUE(proxy);
  ScopedSchema schema(sandbox(), "split_ryw");
  ASSERT_TRUE(schema.create());
  {
    auto direct = connect_direct(sandbox(), "primary", schema.name());
    ASSERT_TRUE(direct);
    direct->must("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, KEY (v))");
  }
  wait_replicas_caught_up();
  auto c = must_connect({.port = proxy->port(), .db = schema.name()});
  ASSERT_TRUE(c);

  const auto selects_before = counters("Com_select");
  std::map<std::string, int> served_by;
  int misses = 0;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 1; i <= 1000; ++i) {
    const std::string value = std::to_string(i);
    auto w = c->query("INSERT INTO t (v) VALUES (" + value + ")");
    ASSERT_TRUE(w) << "insert " << i << ": " << w.error();
    auto r = c->query("SELECT COUNT(*), @@server_id FROM t WHERE v = " + value);
    ASSERT_TRUE(r) << "read " << i << ": " << r.error();
    ASSERT_EQ(r->size(), 1u);
    const std::string server = r->at(0)[1].value_or("NULL");
    ++served_by[server];
    if (r->at(0)[0] != "1") {
      ++misses;
      ADD_FAILURE() << "read " << i << " on server " << server << " counted "
                    << r->at(0)[0].value_or("NULL") << " rows with v = " << value
                    << " right after inserting it";
      if (misses >= 10) {
        FAIL() << "stopping after 10 stale reads";
      }
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  const auto selects_after = counters("Com_select");
  const uint64_t replica_selects = selects_after.at("replica1") - selects_before.at("replica1") +
                                   selects_after.at("replica2") - selects_before.at("replica2");
  const uint64_t primary_selects = selects_after.at("primary") - selects_before.at("primary");
  std::cerr << "[info] 1000 write-then-read pairs in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
            << " ms; reads served by server id:";
  for (const auto& [id, n] : served_by) {
    std::cerr << " " << id << "=" << n;
  }
  std::cerr << "; Com_select growth: replicas " << replica_selects << ", primary "
            << primary_selects << "\n";
  EXPECT_EQ(misses, 0);
  EXPECT_EQ(served_by[ids_["primary"]], 0) << "reads fell back to the primary";
  EXPECT_GT(served_by[ids_["replica1"]], 0);
  EXPECT_GT(served_by[ids_["replica2"]], 0);
  EXPECT_GE(replica_selects, 1000u) << "the replicas did not serve the reads";
  EXPECT_EQ(c->scalar("SELECT COUNT(*) FROM t"), "1000");
}

// (a) The same with prepared statements: a prepared INSERT and a prepared SELECT with the value
// as a parameter, 300 times.
TEST_F(SplittingConsistency, ReadYourWritesPreparedStatements) {
  auto proxy = start_proxy("info");
  ASSERT_TRUE(proxy);
  ScopedSchema schema(sandbox(), "split_ryw_ps");
  ASSERT_TRUE(schema.create());
  {
    auto direct = connect_direct(sandbox(), "primary", schema.name());
    ASSERT_TRUE(direct);
    direct->must("CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, KEY (v))");
  }
  wait_replicas_caught_up();
  auto c = must_connect({.port = proxy->port(), .db = schema.name()});
  ASSERT_TRUE(c);

  constexpr std::string_view kInsert = "INSERT INTO t (v) VALUES (?)";
  constexpr std::string_view kSelect = "SELECT COUNT(*), @@server_id FROM t WHERE v = ?";
  Stmt insert(mysql_stmt_init(c->get()));
  ASSERT_EQ(mysql_stmt_prepare(insert.get(), kInsert.data(), kInsert.size()), 0)
      << stmt_error(insert.get());
  Stmt select(mysql_stmt_init(c->get()));
  ASSERT_EQ(mysql_stmt_prepare(select.get(), kSelect.data(), kSelect.size()), 0)
      << stmt_error(select.get());

  const auto selects_before = counters("Com_stmt_execute");
  std::map<std::string, int> served_by;
  int misses = 0;
  for (int i = 1; i <= 300; ++i) {
    auto w = execute_one(insert.get(), 5000 + i);
    ASSERT_TRUE(w) << "insert " << i << ": " << w.error();
    auto r = execute_one(select.get(), 5000 + i);
    ASSERT_TRUE(r) << "read " << i << ": " << r.error();
    ASSERT_EQ(r->size(), 2u) << "read " << i << " returned no row";
    const std::string server = r->at(1).value_or("NULL");
    ++served_by[server];
    if (r->at(0) != "1") {
      ++misses;
      ADD_FAILURE() << "prepared read " << i << " on server " << server << " counted "
                    << r->at(0).value_or("NULL") << " rows with v = " << 5000 + i
                    << " right after inserting it";
      if (misses >= 10) {
        FAIL() << "stopping after 10 stale reads";
      }
    }
  }
  const auto selects_after = counters("Com_stmt_execute");
  const uint64_t replica_executes = selects_after.at("replica1") - selects_before.at("replica1") +
                                    selects_after.at("replica2") - selects_before.at("replica2");
  std::cerr << "[info] 300 prepared write-then-read pairs; reads served by server id:";
  for (const auto& [id, n] : served_by) {
    std::cerr << " " << id << "=" << n;
  }
  std::cerr << "; replicas' Com_stmt_execute growth " << replica_executes << "\n";
  EXPECT_EQ(misses, 0);
  EXPECT_EQ(served_by[ids_["primary"]], 0) << "prepared reads fell back to the primary";
  EXPECT_GT(served_by[ids_["replica1"]], 0);
  EXPECT_GT(served_by[ids_["replica2"]], 0);
  EXPECT_GE(replica_executes, 300u) << "the replicas did not execute the prepared reads";
}

// (b) and (c): sysbench through the proxy, then the replicas checked against the primary.
class SplittingSysbench : public SplittingConsistency {
 protected:
  static constexpr int kTables = 2;

  std::string sysbench(int port, const std::string& user, const std::string& db,
                       const std::string& args) {
    return "sysbench oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=" +
           std::to_string(port) + " --mysql-user=" + user + " --mysql-password=" + user +
           " --mysql-db=" + db + " --tables=" + std::to_string(kTables) + " --table-size=10000 " +
           args;
  }

  // Prepares the tables directly on the primary and waits for the replicas to have them.
  void prepare_tables(const std::string& schema) {
    RunResult prepare = run(sysbench(sandbox().primary_port(), "root", schema, "prepare"), 90s);
    ASSERT_EQ(prepare.status, 0) << prepare.output;
    wait_replicas_caught_up(60);
  }

  // Runs sysbench through the proxy; its output, with the checks every run must pass.
  std::string run_through_proxy(int port, const std::string& schema, int seconds,
                                const std::string& args) {
    RunResult r = run(sysbench(port, "app", schema,
                               "--threads=8 --time=" + std::to_string(seconds) +
                                   " --report-interval=0 " + args + " run"),
                      std::chrono::seconds(seconds + 60));
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output.find("FATAL"), std::string::npos) << r.output;
    // Only the errors sysbench ignores (deadlocks, and 1062 where asked) are allowed.
    const std::string without_ignored =
        std::regex_replace(r.output, std::regex("ignored errors"), "ignored");
    EXPECT_EQ(without_ignored.find("rror"), std::string::npos) << r.output;
    std::smatch m;
    EXPECT_TRUE(std::regex_search(r.output, m, std::regex(R"(transactions:\s+(\d+))"))) << r.output;
    if (!m.empty()) {
      EXPECT_GT(std::stoll(m[1]), 0) << r.output;
    }
    std::smatch ignored;
    std::regex_search(r.output, ignored, std::regex(R"(ignored errors:\s+(\d+))"));
    std::smatch reconnects;
    EXPECT_TRUE(std::regex_search(r.output, reconnects, std::regex(R"(reconnects:\s+(\d+))")))
        << r.output;
    if (!reconnects.empty()) {
      EXPECT_EQ(reconnects[1], "0") << r.output;
    }
    std::cerr << "[info] sysbench " << args << ": " << (m.empty() ? "?" : m[1].str())
              << " transactions, " << (ignored.empty() ? "?" : ignored[1].str())
              << " ignored errors in " << seconds << " s\n";
    return r.output;
  }

  // oltp_read_write (in transactions) for 60 s: no errors beyond deadlocks, and no write reached
  // a replica as a client statement.
  void read_write_workload(const std::string& args) {
    auto proxy = start_proxy("info");
    ASSERT_TRUE(proxy);
    ScopedSchema schema(sandbox(), "split_sb");
    ASSERT_TRUE(schema.create());
    prepare_tables(schema.name());
    const auto writes_before = write_counters();
    const auto selects_before = counters("Com_select");
    run_through_proxy(proxy->port(), schema.name(), 60, args);
    const auto writes_after = write_counters();
    const auto selects_after = counters("Com_select");
    check_writes_only_on_primary(writes_before, writes_after);
    std::cerr << "[info] Com_select growth: primary "
              << selects_after.at("primary") - selects_before.at("primary") << ", replica1 "
              << selects_after.at("replica1") - selects_before.at("replica1") << ", replica2 "
              << selects_after.at("replica2") - selects_before.at("replica2")
              << " (oltp_read_write reads run inside BEGIN/COMMIT, so on the primary)\n";
    EXPECT_TRUE(proxy->alive());
    check_replicas_match_primary(schema.name(), kTables);
  }

  // MariaDB counts each applied row event of replication in the replica's Com_insert,
  // Com_update and Com_delete, so a replica's counters grow with the primary's. Writes a client
  // ran on a replica would make them grow beyond it (the primary's counters also include the
  // writes that failed there, which are not replicated). A client write on a replica would also
  // fail (app lacks READ_ONLY ADMIN) and show in sysbench's output, or, had it succeeded, leave a
  // replica GTID that check_replicas_match_primary() finds.
  void check_writes_only_on_primary(const std::map<std::string, uint64_t>& before,
                                    const std::map<std::string, uint64_t>& after) {
    const uint64_t primary = after.at("primary") - before.at("primary");
    EXPECT_GT(primary, 0u) << "no writes reached the primary";
    for (const std::string name : {"replica1", "replica2"}) {
      const uint64_t replica = after.at(name) - before.at(name);
      EXPECT_LE(replica, primary) << name << " counted more writes (Com_insert+Com_update+"
                                  << "Com_delete) than the primary: client writes ran there";
    }
  }

  std::map<std::string, uint64_t> write_counters() {
    std::map<std::string, uint64_t> out;
    for (const char* name : kServers) {
      out[name] =
          counter(name, "Com_insert") + counter(name, "Com_update") + counter(name, "Com_delete");
    }
    return out;
  }
};

TEST_F(SplittingSysbench, OltpReadWritePreparedStatements) { read_write_workload(""); }

TEST_F(SplittingSysbench, OltpReadWriteTextProtocol) {
  read_write_workload("--db-ps-mode=disable");
}

// Autocommit (--skip_trx=on): the reads go to the replicas, the writes to the primary.
TEST_F(SplittingSysbench, OltpReadWriteAutocommitSplitsReads) {
  auto proxy = start_proxy("info");
  ASSERT_TRUE(proxy);
  ScopedSchema schema(sandbox(), "split_sb_auto");
  ASSERT_TRUE(schema.create());
  prepare_tables(schema.name());
  const auto writes_before = write_counters();
  const auto selects_before = counters("Com_select");
  // Without transactions, sysbench's DELETE and re-INSERT of one id race between threads: another
  // thread's INSERT of the same id can land in between, which gives duplicate-key errors (1062)
  // on a direct connection to the primary too. They are not the proxy's.
  run_through_proxy(proxy->port(), schema.name(), 20, "--skip_trx=on --mysql-ignore-errors=1062");
  const auto writes_after = write_counters();
  const auto selects_after = counters("Com_select");
  const uint64_t primary = selects_after.at("primary") - selects_before.at("primary");
  const uint64_t replica1 = selects_after.at("replica1") - selects_before.at("replica1");
  const uint64_t replica2 = selects_after.at("replica2") - selects_before.at("replica2");
  std::cerr << "[info] autocommit run, Com_select growth: primary " << primary << ", replica1 "
            << replica1 << ", replica2 " << replica2 << "\n";
  EXPECT_GE(replica1, 1000u) << "replica1 served few reads";
  EXPECT_GE(replica2, 1000u) << "replica2 served few reads";
  EXPECT_LT(primary * 4, replica1 + replica2)
      << "the primary served a large share of the autocommit reads";
  check_writes_only_on_primary(writes_before, writes_after);
  EXPECT_TRUE(proxy->alive());
  check_replicas_match_primary(schema.name(), kTables);
}

}  // namespace
}  // namespace replproxy::e2e
