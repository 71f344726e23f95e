#include "tests/e2e/private_sandbox.h"

#include <sys/stat.h>

namespace replproxy::e2e {

std::string sandbox_script() { return std::string(REPLPROXY_SOURCE_DIR) + "/scripts/sandbox"; }

PrivateSandbox::PrivateSandbox(std::string args) : args_(std::move(args)), dir_("replproxy-psbx") {
  // Galera nodes started by root run as 'mysql', which must be able to reach their datadirs.
  ::chmod(dir_.path().c_str(), 0755);
}

PrivateSandbox::~PrivateSandbox() {
  if (started_) {
    RunResult r = run(sandbox_script() + " stop --dir " + shell_quote(dir_.path() + "/sbx"), 120s);
    if (r.status != 0) {
      std::cerr << "[harness] stopping the private sandbox failed: " << r.output << "\n";
    }
  }
}

::testing::AssertionResult PrivateSandbox::start() {
  const std::string dir = dir_.path() + "/sbx";
  RunResult r = run(sandbox_script() + " start " + args_ + " --dir " + shell_quote(dir), 300s);
  started_ = true;  // whatever it managed to start is stopped by the destructor
  if (r.status != 0) {
    return ::testing::AssertionFailure() << "scripts/sandbox start " << args_ << " failed ("
                                         << r.status << "):\n" << tail_lines(r.output, 40);
  }
  auto loaded = Sandbox::load(dir + "/sandbox.env");
  if (!loaded) {
    return ::testing::AssertionFailure() << loaded.error();
  }
  sandbox_ = std::move(*loaded);
  return ::testing::AssertionSuccess();
}

RunResult PrivateSandbox::server(const std::string& command, const std::string& name) {
  return run(sandbox_script() + " " + command + " " + name + " --dir " +
                 shell_quote(dir_.path() + "/sbx"),
             120s);
}

::testing::AssertionResult PrivateSandbox::fail_over_to(const std::string& promoted,
                                                       const std::vector<std::string>& repointed) {
  if (const RunResult stopped = server("stop-server", "primary"); stopped.status != 0) {
    return ::testing::AssertionFailure() << "stop-server primary: " << stopped.output;
  }
  const Sandbox& sb = sandbox();
  sql_on(sb, promoted, "STOP SLAVE");
  sql_on(sb, promoted, "RESET SLAVE ALL");
  sql_on(sb, promoted, "SET GLOBAL read_only = 0");
  for (const std::string& replica : repointed) {
    sql_on(sb, replica, "STOP SLAVE");
    sql_on(sb, replica, "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = " +
                            std::to_string(sb.port(promoted)) + ", MASTER_USE_GTID = slave_pos");
    sql_on(sb, replica, "START SLAVE");
  }
  return ::testing::AssertionSuccess();
}

}  // namespace replproxy::e2e
