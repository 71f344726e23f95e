// The [metrics] table.

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
using test::with_user_and_backend;

TEST(MetricsConfig, AbsentMeansNoEndpoint) {
  const Config config = parse_valid(with_user_and_backend(""));
  EXPECT_FALSE(config.metrics.enabled);
  EXPECT_EQ(config.metrics.listen, (Address{"127.0.0.1", 9033}));
}

TEST(MetricsConfig, EmptyTableEnablesOnLoopback9033) {
  const Config config = parse_valid(with_user_and_backend("[metrics]\n"));
  EXPECT_TRUE(config.metrics.enabled);
  EXPECT_EQ(config.metrics.listen, (Address{"127.0.0.1", 9033}));
}

TEST(MetricsConfig, Listen) {
  const Config ipv4 = parse_valid(with_user_and_backend("[metrics]\nlisten = \"0.0.0.0:9100\"\n"));
  EXPECT_TRUE(ipv4.metrics.enabled);
  EXPECT_EQ(ipv4.metrics.listen, (Address{"0.0.0.0", 9100}));
  const Config ipv6 = parse_valid(with_user_and_backend("[metrics]\nlisten = \"[::1]:9034\"\n"));
  EXPECT_EQ(ipv6.metrics.listen, (Address{"::1", 9034}));
}

TEST(MetricsConfig, Rejections) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"[metrics]\nlisten = \"localhost:9033\"\n",
       "test.toml:2: 'listen' is not a valid address 'localhost:9033': the host must be an IP "
       "address, not a name (a listener binds to it)"},
      {"[metrics]\nlisten = \"127.0.0.1\"\n",
       "test.toml:2: 'listen' is not a valid address '127.0.0.1': expected HOST:PORT"},
      {"[metrics]\nlisten = \"127.0.0.1:0\"\n",
       "test.toml:2: 'listen' is not a valid address '127.0.0.1:0': port 0 is out of range "
       "1..65535"},
      {"[metrics]\nlisten = 9033\n", "test.toml:2: 'listen' must be a string"},
      {"[metrics]\nlisten = \"127.0.0.1:9033\"\npath = \"/metrics\"\n",
       "test.toml:3: unknown key 'path' in [metrics]"},
      {"metrics = true\n", "test.toml:1: 'metrics' must be a table, as in [metrics]"},
  };
  for (const Case& c : cases) {
    const auto errors = errors_of(with_user_and_backend(c.text));
    ASSERT_EQ(errors.size(), 1u) << c.text << ::testing::PrintToString(errors);
    EXPECT_EQ(errors[0], c.message) << c.text;
  }
}

}  // namespace
}  // namespace replproxy::config
