// The [relay] table and [[relay.users]].

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "protocol/auth.h"
#include "tests/unit/config/config_test_util.h"

namespace replproxy::config {
namespace {

using test::errors_of;
using test::parse_valid;
using test::with_user_and_backend;

// The keys every [relay] needs, then a relay user; `extra` goes into [relay] first.
std::string relay(const std::string& extra) {
  return "[relay]\n" + extra +
         "server_id = 9001\ndatadir = \"/var/lib/replproxy/binlog\"\nupstream_user = \"repl\"\n"
         "[[relay.users]]\nname = \"repl\"\npassword = \"repl\"\n";
}

TEST(RelayConfig, AbsentMeansNoRelay) {
  const Config config = parse_valid(with_user_and_backend(""));
  EXPECT_FALSE(config.relay.enabled);
}

TEST(RelayConfig, Defaults) {
  const Config config = parse_valid(with_user_and_backend(relay("")));
  const RelaySection& r = config.relay;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.listen, (Address{"127.0.0.1", 6034}));
  EXPECT_EQ(r.server_id, 9001u);
  EXPECT_EQ(r.datadir, "/var/lib/replproxy/binlog");
  EXPECT_TRUE(r.follow_primary);
  EXPECT_EQ(r.upstream_user, "repl");
  EXPECT_EQ(r.upstream_password, "");
  EXPECT_FALSE(r.upstream_tls);
  EXPECT_FALSE(r.semi_sync);
  EXPECT_EQ(r.sync, RelaySync::group);
  EXPECT_EQ(r.group_sync_us, 500u);
  EXPECT_EQ(r.max_file_size, uint64_t{1} << 30);
  EXPECT_EQ(r.expire_logs_days, 0.0);
  EXPECT_EQ(r.max_total_size, 0u);
  ASSERT_EQ(r.users.size(), 1u);
  EXPECT_EQ(r.users[0].name, "repl");
  EXPECT_EQ(r.users[0].password_stage2, protocol::native_password_stage2("repl"));
  // Relay users are not application users.
  EXPECT_EQ(config.find_user("repl"), nullptr);
}

// The example of the issue that defined the contract, key for key.
TEST(RelayConfig, TheContractExample) {
  const Config config = parse_valid(with_user_and_backend(
      "[relay]\nenabled = true\nlisten = \"127.0.0.1:6034\"\nserver_id = 9001\n"
      "datadir = \"/var/lib/replproxy/binlog\"\nsource = \"backend:db1\"\n"
      "upstream_user = \"repl\"\nupstream_password = \"repl\"\nupstream_tls = true\n"
      "upstream_tls_ca = \"/etc/ca.pem\"\nupstream_tls_verify = true\nsemi_sync = true\n"
      "sync = \"every_event\"\ngroup_sync_us = 250\nmax_file_size = \"512MiB\"\n"
      "expire_logs_days = 7\nmax_total_size = \"20GiB\"\ntls_cert = \"c.pem\"\n"
      "tls_key = \"k.pem\"\n"
      "[[relay.users]]\nname = \"repl\"\npassword = \"repl\"\n"
      "[[relay.users]]\nname = \"dc2\"\npassword_hash = \"*" +
      std::string(40, 'B') + "\"\n"));
  const RelaySection& r = config.relay;
  EXPECT_FALSE(r.follow_primary);
  EXPECT_EQ(r.source_backend, "db1");
  EXPECT_EQ(r.upstream_password, "repl");
  EXPECT_TRUE(r.upstream_tls);
  EXPECT_EQ(r.upstream_tls_ca, "/etc/ca.pem");
  EXPECT_TRUE(r.semi_sync);
  EXPECT_EQ(r.sync, RelaySync::every_event);
  EXPECT_EQ(r.group_sync_us, 250u);
  EXPECT_EQ(r.max_file_size, uint64_t{512} << 20);
  EXPECT_EQ(r.expire_logs_days, 7.0);
  EXPECT_EQ(r.max_total_size, uint64_t{20} << 30);
  EXPECT_EQ(r.tls_cert, "c.pem");
  ASSERT_EQ(r.users.size(), 2u);
  EXPECT_EQ(r.users[1].name, "dc2");
  EXPECT_EQ(r.users[1].password, std::nullopt);
}

TEST(RelayConfig, SizesAndDays) {
  struct Case {
    std::string value;
    uint64_t bytes;
  };
  for (const Case& c : std::vector<Case>{{"4096", 4096},
                                         {"\"1G\"", uint64_t{1} << 30},
                                         {"\"5GiB\"", uint64_t{5} << 30},
                                         {"\"64 KiB\"", 64 << 10},
                                         {"\"100M\"", uint64_t{100} << 20},
                                         {"\"8192B\"", 8192}}) {
    const Config config = parse_valid(with_user_and_backend(relay("max_file_size = " + c.value + "\n")));
    EXPECT_EQ(config.relay.max_file_size, c.bytes) << c.value;
  }
  const Config config = parse_valid(with_user_and_backend(relay("expire_logs_days = 0.5\n")));
  EXPECT_EQ(config.relay.expire_logs_days, 0.5);
}

TEST(RelayConfig, DisabledStillValidated) {
  const Config config = parse_valid(with_user_and_backend(relay("enabled = false\n")));
  EXPECT_FALSE(config.relay.enabled);
  EXPECT_EQ(errors_of(with_user_and_backend(relay("enabled = false\nsync = \"fast\"\n"))),
            (std::vector<std::string>{
                "test.toml:3: 'sync' must be one of every_event, group, none; got 'fast'"}));
}

TEST(RelayConfig, Rejections) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::string users = "[[relay.users]]\nname = \"repl\"\npassword = \"repl\"\n";
  const std::vector<Case> cases = {
      {"[relay]\ndatadir = \"/d\"\nupstream_user = \"r\"\n" + users,
       "test.toml:1: missing required key 'server_id' in [relay]"},
      {"[relay]\nserver_id = 1\nupstream_user = \"r\"\n" + users,
       "test.toml:1: missing required key 'datadir' in [relay]"},
      {"[relay]\nserver_id = 1\ndatadir = \"/d\"\n" + users,
       "test.toml:1: missing required key 'upstream_user' in [relay]"},
      {"[relay]\nserver_id = 1\ndatadir = \"/d\"\nupstream_user = \"r\"\n",
       "test.toml:1: no [[relay.users]] defined: at least one relay user is required"},
      {"[relay]\nserver_id = 0\ndatadir = \"/d\"\nupstream_user = \"r\"\n" + users,
       "test.toml:2: 'server_id' must be at least 1, got 0"},
      {relay("source = \"replica\"\n"),
       "test.toml:2: 'source' must be \"primary\" or \"backend:NAME\"; got 'replica'"},
      {relay("source = \"backend:db9\"\n"),
       "test.toml:2: 'source' names backend 'db9', which is not defined in [[backends]]"},
      {relay("sync = \"always\"\n"),
       "test.toml:2: 'sync' must be one of every_event, group, none; got 'always'"},
      {relay("group_sync_us = 2000000\n"),
       "test.toml:2: 'group_sync_us' must be between 0 and 1000000, got 2000000"},
      {relay("max_file_size = \"1 parsec\"\n"),
       "test.toml:2: 'max_file_size' must be a size such as \"1GiB\", \"512MiB\" or a number of "
       "bytes"},
      {relay("max_file_size = 100\n"),
       "test.toml:2: 'max_file_size' must be between 4096 and 1125899906842624 bytes, got 100"},
      {relay("max_file_size = -1\n"),
       "test.toml:2: 'max_file_size' must be a size such as \"1GiB\", \"512MiB\" or a number of "
       "bytes"},
      {relay("expire_logs_days = -1\n"),
       "test.toml:2: 'expire_logs_days' must be a number of days between 0 and 36500"},
      {relay("upstream_tls_ca = \"/ca.pem\"\n"),
       "test.toml:2: 'upstream_tls_ca' has no effect without 'upstream_tls = true'"},
      {relay("tls_cert = \"c.pem\"\n"),
       "test.toml:2: 'tls_cert' is set but 'tls_key' is not: give both or neither"},
      {relay("require_tls = true\n"),
       "test.toml:2: 'require_tls = true' needs 'tls_cert' and 'tls_key'"},
      {relay("listen = \"localhost:6034\"\n"),
       "test.toml:2: 'listen' is not a valid address 'localhost:6034': the host must be an IP address, not a name (a listener binds to it)"},
      {relay("semisync = true\n"), "test.toml:2: unknown key 'semisync' in [relay]"},
      {"[relay]\nserver_id = 1\ndatadir = \"/d\"\nupstream_user = \"r\"\n"
       "[[relay.users]]\nname = \"repl\"\npassword = \"a\"\n"
       "[[relay.users]]\nname = \"repl\"\npassword = \"b\"\n",
       "test.toml:9: duplicate relay user name 'repl' (first defined at line 6)"},
      {"[relay]\nserver_id = 1\ndatadir = \"/d\"\nupstream_user = \"r\"\n"
       "[[relay.users]]\nname = \"repl\"\n",
       "test.toml:5: missing required key 'password' or 'password_hash' in [[relay.users]]"},
  };
  for (const Case& c : cases) {
    const std::vector<std::string> errors = errors_of(with_user_and_backend(c.text));
    ASSERT_EQ(errors.size(), 1u) << c.text << ::testing::PrintToString(errors);
    EXPECT_EQ(errors[0], c.message) << c.text;
  }
}

}  // namespace
}  // namespace replproxy::config
