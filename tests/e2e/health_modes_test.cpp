// [health] topology = "galera" and "master-master", each against a sandbox of its own
// (scripts/sandbox start --galera / --master-master): one writer, the other nodes serve reads,
// and a node that leaves is taken out of rotation (the writer role moves when the writer goes).

#include <map>

#include "tests/e2e/harness.h"
#include "tests/e2e/private_sandbox.h"

namespace replproxy::e2e {
namespace {

Tally tally_ports(Connection& c, int n) { return tally(c, "SELECT @@port", n); }

std::unique_ptr<ProxyProcess> start_proxy(const Sandbox& sb, std::vector<ProxyBackend> backends,
                                          const std::string& topology) {
  ProxyOptions options;
  options.backends = std::move(backends);
  options.connect_timeout_ms = 2000;
  options.extra_toml = "[health]\nuser = \"monitor\"\npassword = \"monitor\"\ninterval_ms = 200\n"
                       "topology = \"" + topology + "\"\n";
  auto proxy = std::make_unique<ProxyProcess>(sb, options);
  if (auto started = proxy->start(); !started) {
    ADD_FAILURE() << started.message();
    return nullptr;
  }
  return proxy;
}

// The port the write of a fresh session through PROXY landed on (it records @@port in t).
std::optional<std::string> write_once(int proxy_port) {
  auto s = Connection::open({.port = proxy_port, .timeout_s = 5});
  if (!s || !s->query("INSERT INTO modes.t (port) SELECT @@port")) {
    return std::nullopt;
  }
  auto rows = s->query("SELECT port FROM modes.t ORDER BY id DESC LIMIT 1 FOR UPDATE");
  if (!rows || rows->empty() || !(*rows)[0][0]) {
    return std::nullopt;
  }
  return *(*rows)[0][0];
}

class HealthModes : public E2eTest {};

TEST_F(HealthModes, GaleraOneWriterOthersReadDesyncedNodeLeaves) {
  PrivateSandbox sbx("--galera");
  ASSERT_TRUE(sbx.start());
  const Sandbox& sb = sbx.sandbox();
  const std::string n1 = std::to_string(sb.port("node1"));
  const std::string n2 = std::to_string(sb.port("node2"));
  const std::string n3 = std::to_string(sb.port("node3"));
  auto proxy = start_proxy(sb,
                           {{"node1", sb.port("node1"), "primary"},
                            {"node2", sb.port("node2"), "replica"},
                            {"node3", sb.port("node3"), "replica"}},
                           "galera");
  ASSERT_TRUE(proxy);
  {
    auto root = connect_direct(sb, "node1");
    ASSERT_TRUE(root);
    root->must("CREATE DATABASE modes");
    root->must("CREATE TABLE modes.t (id INT AUTO_INCREMENT PRIMARY KEY, port INT)");
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(write_once(proxy->port()), n1) << "write " << i;
  }
  auto c = must_connect({.port = proxy->port()});
  ASSERT_TRUE(c);
  ASSERT_TRUE(wait_until([&] { return tally_ports(*c, 10) == Tally{{n2, 5}, {n3, 5}}; }, 15s))
      << "reads do not go to node2 and node3 alone: " << to_string(tally_ports(*c, 10));

  auto node2 = connect_direct(sb, "node2");
  ASSERT_TRUE(node2);
  node2->must("SET GLOBAL wsrep_desync = ON");
  EXPECT_TRUE(wait_until([&] { return tally_ports(*c, 10) == Tally{{n3, 10}}; }, 15s))
      << "a desynced node2 still serves reads: " << to_string(tally_ports(*c, 10));
  node2->must("SET GLOBAL wsrep_desync = OFF");
  EXPECT_TRUE(wait_until([&] { return tally_ports(*c, 10).contains(n2); }, 20s))
      << "node2 did not come back after wsrep_desync = OFF";

  ASSERT_EQ(sbx.server("stop-server", "node3").status, 0);
  EXPECT_TRUE(wait_until([&] { return tally_ports(*c, 10) == Tally{{n2, 10}}; }, 20s))
      << "reads still try the stopped node3: " << to_string(tally_ports(*c, 10));
  EXPECT_EQ(write_once(proxy->port()), n1);
  EXPECT_TRUE(proxy->alive());
}

TEST_F(HealthModes, MasterMasterWritesMoveWhenTheWriterDies) {
  PrivateSandbox sbx("--master-master");
  ASSERT_TRUE(sbx.start());
  const Sandbox& sb = sbx.sandbox();
  const std::string m1 = std::to_string(sb.port("mm1"));
  const std::string m2 = std::to_string(sb.port("mm2"));
  auto proxy = start_proxy(
      sb, {{"mm1", sb.port("mm1"), "primary"}, {"mm2", sb.port("mm2"), "replica"}},
      "master-master");
  ASSERT_TRUE(proxy);
  {
    auto root = connect_direct(sb, "mm1");
    ASSERT_TRUE(root);
    root->must("CREATE DATABASE modes");
    root->must("CREATE TABLE modes.t (id INT AUTO_INCREMENT PRIMARY KEY, port INT)");
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(write_once(proxy->port()), m1) << "write " << i;
  }
  auto c = must_connect({.port = proxy->port()});
  ASSERT_TRUE(c);
  EXPECT_TRUE(wait_until([&] { return tally_ports(*c, 10) == Tally{{m2, 10}}; }, 15s))
      << "reads do not go to the other server: " << to_string(tally_ports(*c, 10));

  ASSERT_EQ(sbx.server("kill", "mm1").status, 0);
  std::optional<std::string> landed;
  EXPECT_TRUE(wait_until(
      [&] {
        landed = write_once(proxy->port());
        return landed.has_value();
      },
      20s))
      << "no write went through after mm1 died\n" << tail_lines(proxy->log(), 30);
  EXPECT_EQ(landed, m2);
  ASSERT_EQ(sbx.server("restart-server", "mm1").status, 0);
  EXPECT_TRUE(proxy->alive());
}

}  // namespace
}  // namespace replproxy::e2e
