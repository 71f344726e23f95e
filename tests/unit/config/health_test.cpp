// The [health] table, [[backends]] max_replication_lag_ms and the checks between them.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace replproxy::config {
namespace {

using test::errors_of;
using test::kSource;
using test::parse_valid;

constexpr std::string_view kUser = "[[users]]\nname = \"app\"\npassword = \"app\"\n";
constexpr std::string_view kTwoBackends =
    "[[backends]]\nname = \"db1\"\naddress = \"127.0.0.1:3307\"\n"
    "[[backends]]\nname = \"db2\"\naddress = \"127.0.0.1:3308\"\nrole = \"replica\"\n";

// Appended after the text under test, so that its line numbers start at 1.
std::string with_user_and_backends(std::string_view head) {
  return std::string(head) + std::string(kUser) + std::string(kTwoBackends);
}

TEST(HealthConfig, AbsentMeansDisabledWithDefaults) {
  const Config config = parse_valid(with_user_and_backends(""));
  const HealthSection& health = config.health;
  EXPECT_FALSE(health.enabled);
  EXPECT_EQ(health.user, "");
  EXPECT_EQ(health.topology, TopologyMode::replication);
  EXPECT_EQ(config.backends[0].max_replication_lag_ms, std::nullopt);
  EXPECT_EQ(config.backends[1].max_replication_lag_ms, std::nullopt);
}

TEST(HealthConfig, DefaultsWhenOnlyUserGiven) {
  const Config config = parse_valid(with_user_and_backends("[health]\nuser = \"mon\"\n"));
  const HealthSection& health = config.health;
  EXPECT_TRUE(health.enabled);
  EXPECT_EQ(health.user, "mon");
  EXPECT_EQ(health.password, "");
  EXPECT_EQ(health.interval_ms, 500u);
  EXPECT_EQ(health.probe_timeout_ms, 1000u);
  EXPECT_EQ(health.max_replication_lag_ms, 1000u);
  EXPECT_EQ(health.recover_probes, 3u);
  EXPECT_TRUE(health.heartbeat);
  EXPECT_EQ(health.heartbeat_interval_ms, 250u);
  EXPECT_EQ(health.heartbeat_schema, "replproxy");
  EXPECT_EQ(health.heartbeat_table, "heartbeat");
  EXPECT_TRUE(health.exclude_errant);
  EXPECT_EQ(health.topology, TopologyMode::replication);
}

constexpr std::string_view kFullHealth = R"([health]
user = "monitor"
password = "secret"
interval_ms = 50
probe_timeout_ms = 1
max_replication_lag_ms = 0
recover_probes = 1
heartbeat = false
heartbeat_interval_ms = 10
heartbeat_schema = "Ops_1"
heartbeat_table = "hb_2"
exclude_errant = false
topology = "master-master"
)";

TEST(HealthConfig, EveryKeyAtItsLimit) {
  const Config config = parse_valid(with_user_and_backends(kFullHealth));
  const HealthSection& health = config.health;
  EXPECT_TRUE(health.enabled);
  EXPECT_EQ(health.user, "monitor");
  EXPECT_EQ(health.password, "secret");
  EXPECT_EQ(health.interval_ms, 50u);
  EXPECT_EQ(health.probe_timeout_ms, 1u);
  EXPECT_EQ(health.max_replication_lag_ms, 0u);
  EXPECT_EQ(health.recover_probes, 1u);
  EXPECT_FALSE(health.heartbeat);
  EXPECT_EQ(health.heartbeat_interval_ms, 10u);
  EXPECT_EQ(health.heartbeat_schema, "Ops_1");
  EXPECT_EQ(health.heartbeat_table, "hb_2");
  EXPECT_FALSE(health.exclude_errant);
  EXPECT_EQ(health.topology, TopologyMode::master_master);
}

TEST(HealthConfig, EveryTopology) {
  const std::pair<std::string_view, TopologyMode> modes[] = {
      {"replication", TopologyMode::replication},
      {"master-master", TopologyMode::master_master},
      {"galera", TopologyMode::galera}};
  for (const auto& [name, mode] : modes) {
    const Config config = parse_valid(with_user_and_backends(
        "[health]\nuser = \"m\"\ntopology = \"" + std::string(name) + "\"\n"));
    EXPECT_EQ(config.health.topology, mode) << name;
  }
}

TEST(HealthConfig, LongestIdentifierAccepted) {
  const std::string name(64, 'x');
  const Config config = parse_valid(
      with_user_and_backends("[health]\nuser = \"m\"\nheartbeat_schema = \"" + name + "\"\n"));
  EXPECT_EQ(config.health.heartbeat_schema, name);
}

TEST(HealthConfig, BackendLagOverride) {
  const Config config =
      parse_valid("[health]\nuser = \"m\"\n" + std::string(kUser) +
                  "[[backends]]\nname = \"db1\"\naddress = \"h:1\"\n"
                  "[[backends]]\nname = \"db2\"\naddress = \"h:2\"\nmax_replication_lag_ms = 5000\n"
                  "[[backends]]\nname = \"db3\"\naddress = \"h:3\"\nmax_replication_lag_ms = 0\n");
  EXPECT_EQ(config.backends[0].max_replication_lag_ms, std::nullopt);
  EXPECT_EQ(config.backends[1].max_replication_lag_ms, 5000u);
  EXPECT_EQ(config.backends[2].max_replication_lag_ms, 0u);
}

// [health] may come anywhere in the file, after the backends too.
TEST(HealthConfig, HealthTableAfterBackends) {
  const Config config =
      parse_valid(std::string(kUser) +
                  "[[backends]]\nname = \"db1\"\naddress = \"h:1\"\nmax_replication_lag_ms = 7\n"
                  "[[backends]]\nname = \"db2\"\naddress = \"h:2\"\n"
                  "[health]\nuser = \"m\"\ntopology = \"master-master\"\n");
  EXPECT_EQ(config.backends[0].max_replication_lag_ms, 7u);
  EXPECT_EQ(config.health.topology, TopologyMode::master_master);
}

struct RejectCase {
  std::string name;
  std::string text;
  std::vector<std::string> messages;
};

void PrintTo(const RejectCase& c, std::ostream* out) { *out << c.name; }

std::vector<RejectCase> health_key_cases() {
  const auto health = [](std::string name, std::string lines, std::string message) {
    return RejectCase{std::move(name),
                      with_user_and_backends("[health]\nuser = \"m\"\n" + lines + "\n"),
                      {"test.toml:" + std::move(message)}};
  };
  return {
      {"HealthNotATable",
       with_user_and_backends("health = true\n"),
       {"test.toml:1: 'health' must be a table, as in [health]"}},
      {"HealthWithoutUser",
       with_user_and_backends("[health]\ninterval_ms = 500\n"),
       {"test.toml:1: missing required key 'user' in [health]"}},
      {"HealthUserEmpty",
       with_user_and_backends("[health]\nuser = \"\"\n"),
       {"test.toml:2: 'user' must not be empty"}},
      {"HealthUserNotAString",
       with_user_and_backends("[health]\nuser = 1\n"),
       {"test.toml:2: 'user' must be a string"}},
      health("PasswordNotAString", "password = 1", "3: 'password' must be a string"),
      health("IntervalTooSmall", "interval_ms = 49",
             "3: 'interval_ms' must be at least 50, got 49"),
      health("IntervalNotAnInteger", "interval_ms = \"1s\"", "3: 'interval_ms' must be an integer"),
      health("ProbeTimeoutZero", "probe_timeout_ms = 0",
             "3: 'probe_timeout_ms' must be at least 1, got 0"),
      health("MaxLagNegative", "max_replication_lag_ms = -1",
             "3: 'max_replication_lag_ms' must be at least 0, got -1"),
      health("MaxLagTooLarge", "max_replication_lag_ms = 4294967296",
             "3: 'max_replication_lag_ms' must be at most 4294967295, got 4294967296"),
      health("RecoverProbesZero", "recover_probes = 0",
             "3: 'recover_probes' must be at least 1, got 0"),
      health("HeartbeatNotABoolean", "heartbeat = \"on\"",
             "3: 'heartbeat' must be a boolean (true or false)"),
      health("HeartbeatIntervalTooSmall", "heartbeat_interval_ms = 9",
             "3: 'heartbeat_interval_ms' must be at least 10, got 9"),
      health("ExcludeErrantNotABoolean", "exclude_errant = 1",
             "3: 'exclude_errant' must be a boolean (true or false)"),
      health("TopologyUnknown", "topology = \"ring\"",
             "3: 'topology' must be one of replication, master-master, galera; got 'ring'"),
      health("TopologyUnderscore", "topology = \"master_master\"",
             "3: 'topology' must be one of replication, master-master, galera; got "
             "'master_master'"),
      health("UnknownHealthKey", "lag_ms = 1", "3: unknown key 'lag_ms' in [health]"),
  };
}

std::vector<RejectCase> identifier_cases() {
  const auto identifier = [](std::string name, std::string key, std::string value) {
    return RejectCase{
        std::move(name),
        with_user_and_backends("[health]\nuser = \"m\"\n" + key + " = \"" + value + "\"\n"),
        {"test.toml:3: '" + key +
         "' must be a plain identifier (1 to 64 letters, digits or '_'); got '" + value + "'"}};
  };
  return {
      identifier("SchemaWithDash", "heartbeat_schema", "my-db"),
      identifier("SchemaWithBacktick", "heartbeat_schema", "a`b"),
      identifier("SchemaWithDot", "heartbeat_schema", "db.t"),
      identifier("SchemaEmpty", "heartbeat_schema", ""),
      identifier("TableWithSpace", "heartbeat_table", "heart beat"),
      identifier("TableWithQuote", "heartbeat_table", "x';DROP"),
      identifier("TableTooLong", "heartbeat_table", std::string(65, 't')),
      {"TableNotAString",
       with_user_and_backends("[health]\nuser = \"m\"\nheartbeat_table = 1\n"),
       {"test.toml:3: 'heartbeat_table' must be a string"}},
  };
}

std::vector<RejectCase> cross_table_cases() {
  const std::string three_backends = std::string(kUser) +
                                     "[[backends]]\nname = \"a\"\naddress = \"h:1\"\n"
                                     "[[backends]]\nname = \"b\"\naddress = \"h:2\"\n"
                                     "[[backends]]\nname = \"c\"\naddress = \"h:3\"\n";
  return {
      {"MasterMasterWithThreeBackends",
       "[health]\nuser = \"m\"\ntopology = \"master-master\"\n" + three_backends,
       {"test.toml:3: 'topology = \"master-master\"' needs exactly 2 [[backends]], got 3"}},
      {"MasterMasterWithOneBackend",
       "[health]\nuser = \"m\"\n\ntopology = \"master-master\"\n" + std::string(kUser) +
           "[[backends]]\nname = \"a\"\naddress = \"h:1\"\n",
       {"test.toml:4: 'topology = \"master-master\"' needs exactly 2 [[backends]], got 1"}},
      {"BackendLagWithoutHealth",
       std::string(kUser) + "[[backends]]\nname = \"a\"\naddress = \"h:1\"\n"
                            "max_replication_lag_ms = 100\n",
       {"test.toml:7: 'max_replication_lag_ms' has no effect without a [health] table"}},
      {"BackendLagNegative",
       "[health]\nuser = \"m\"\n" + std::string(kUser) +
           "[[backends]]\nname = \"a\"\naddress = \"h:1\"\nmax_replication_lag_ms = -5\n",
       {"test.toml:9: 'max_replication_lag_ms' must be at least 0, got -5"}},
      {"BackendLagNotAnInteger",
       "[health]\nuser = \"m\"\n" + std::string(kUser) +
           "[[backends]]\nname = \"a\"\naddress = \"h:1\"\nmax_replication_lag_ms = \"1s\"\n",
       {"test.toml:9: 'max_replication_lag_ms' must be an integer"}},
  };
}

std::vector<RejectCase> all_cases() {
  std::vector<RejectCase> all;
  for (auto group : {health_key_cases, identifier_cases, cross_table_cases}) {
    for (RejectCase& c : group()) {
      all.push_back(std::move(c));
    }
  }
  return all;
}

class HealthConfigRejects : public ::testing::TestWithParam<RejectCase> {};

TEST_P(HealthConfigRejects, WithExactMessages) {
  EXPECT_EQ(errors_of(GetParam().text), GetParam().messages) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Rules, HealthConfigRejects, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(HealthConfig, ReportsEveryErrorInLineOrder) {
  const std::string text =
      "[health]\n"                      // 1
      "interval_ms = 10\n"              // 2
      "heartbeat_schema = \"a b\"\n"    // 3
      "topology = \"master-master\"\n"  // 4
      + std::string(kUser) +            // 5-7
      "[[backends]]\n"                  // 8
      "name = \"a\"\n"                  // 9
      "address = \"h:1\"\n";            // 10
  EXPECT_EQ(errors_of(text),
            (std::vector<std::string>{
                "test.toml:1: missing required key 'user' in [health]",
                "test.toml:2: 'interval_ms' must be at least 50, got 10",
                "test.toml:3: 'heartbeat_schema' must be a plain identifier (1 to 64 letters, "
                "digits or '_'); got 'a b'",
                "test.toml:4: 'topology = \"master-master\"' needs exactly 2 [[backends]], got 1",
            }));
}

}  // namespace
}  // namespace replproxy::config
