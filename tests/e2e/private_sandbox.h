#pragma once
// A sandbox of its own for a test that changes the topology (promotion, errant transactions,
// Galera, master-master): started with scripts/sandbox in a temp dir and stopped, by the pids it
// recorded, when the object goes away, pass or fail.

#include <optional>
#include <string>
#include <vector>

#include "tests/e2e/harness.h"

namespace replproxy::e2e {

class PrivateSandbox {
 public:
  // ARGS are extra `scripts/sandbox start` options, e.g. "--galera" or "--replicas 2".
  explicit PrivateSandbox(std::string args = "--replicas 2");
  ~PrivateSandbox();
  PrivateSandbox(const PrivateSandbox&) = delete;
  PrivateSandbox& operator=(const PrivateSandbox&) = delete;

  // Starts it; the failure carries the script's output.
  ::testing::AssertionResult start();
  const Sandbox& sandbox() const { return *sandbox_; }
  // Runs `scripts/sandbox COMMAND NAME --dir DIR` (kill, restart-server, stop-server).
  RunResult server(const std::string& command, const std::string& name);
  // A failover by hand, as a DBA does it: stops the primary, makes `promoted` writable with no
  // source of its own, and points every replica in `repointed` at it by GTID.
  ::testing::AssertionResult fail_over_to(const std::string& promoted,
                                          const std::vector<std::string>& repointed);

 private:
  std::string args_;
  TempDir dir_;
  std::optional<Sandbox> sandbox_;
  bool started_ = false;
};

// `sandbox_script()`: the path of scripts/sandbox.
std::string sandbox_script();

}  // namespace replproxy::e2e
