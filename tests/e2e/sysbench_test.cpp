// sysbench oltp_read_write through the proxy: four threads of BEGIN/SELECT/UPDATE/DELETE/INSERT/
// COMMIT for 10 s, with server-side prepared statements and with plain text queries.

#include <regex>

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

class Sysbench : public E2eTest {
 protected:
  std::string sysbench(int port, const std::string& db, const std::string& args) {
    return "sysbench oltp_read_write --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=" +
           std::to_string(port) + " --mysql-user=app --mysql-password=app --mysql-db=" + db +
           " --tables=2 --table-size=1000 " + args;
  }

  void run_workload(const std::string& ps_mode_args) {
    ProxyProcess proxy(sandbox(), {.log_level = "info"});
    ASSERT_TRUE(proxy.start());
    ScopedSchema schema(sandbox(), "sysbench");
    ASSERT_TRUE(schema.create());

    RunResult prepare = run(sysbench(proxy.port(), schema.name(), "prepare"), 45s);
    ASSERT_EQ(prepare.status, 0) << prepare.output;
    auto direct = connect_direct(sandbox(), "primary", schema.name());
    ASSERT_TRUE(direct);
    EXPECT_EQ(direct->scalar("SELECT COUNT(*) FROM sbtest1"), "1000");
    EXPECT_EQ(direct->scalar("SELECT COUNT(*) FROM sbtest2"), "1000");

    RunResult r =
        run(sysbench(proxy.port(), schema.name(),
                     "--threads=4 --time=6 --report-interval=0 " + ps_mode_args + " run"),
            40s);
    EXPECT_EQ(r.status, 0) << r.output;
    // Any error other than the deadlocks sysbench ignores is fatal to a sysbench thread.
    EXPECT_EQ(r.output.find("FATAL"), std::string::npos) << r.output;
    const std::string without_ignored =
        std::regex_replace(r.output, std::regex("ignored errors"), "ignored");
    EXPECT_EQ(without_ignored.find("rror"), std::string::npos) << r.output;

    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(transactions:\s+(\d+))"))) << r.output;
    EXPECT_GT(std::stoll(m[1]), 0) << r.output;
    std::cerr << "[info] sysbench " << (ps_mode_args.empty() ? "(prepared)" : ps_mode_args) << ": "
              << m[1] << " transactions in 10 s\n";
    ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(reconnects:\s+(\d+))"))) << r.output;
    EXPECT_EQ(m[1], "0") << r.output;
    // The table still has its 1000 rows per table (each transaction deletes and re-inserts one).
    EXPECT_EQ(direct->scalar("SELECT COUNT(*) FROM sbtest1"), "1000");
    EXPECT_TRUE(proxy.alive());
  }
};

TEST_F(Sysbench, OltpReadWritePreparedStatements) { run_workload(""); }

TEST_F(Sysbench, OltpReadWriteTextProtocol) { run_workload("--db-ps-mode=disable"); }

}  // namespace
}  // namespace replproxy::e2e
