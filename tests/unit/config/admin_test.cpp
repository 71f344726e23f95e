// The [admin] table.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"
#include "protocol/auth.h"

namespace replproxy::config {
namespace {

using test::errors_of;
using test::kSource;
using test::parse_valid;
using test::with_user_and_backend;

TEST(AdminConfig, AbsentMeansNoListener) {
  const Config config = parse_valid(with_user_and_backend(""));
  EXPECT_FALSE(config.admin.enabled);
}

TEST(AdminConfig, DefaultListenIsLoopback6032) {
  const Config config =
      parse_valid(with_user_and_backend("[admin]\nuser = \"admin\"\npassword = \"secret\"\n"));
  EXPECT_TRUE(config.admin.enabled);
  EXPECT_EQ(config.admin.listen, (Address{"127.0.0.1", 6032}));
  EXPECT_EQ(config.admin.user.name, "admin");
  EXPECT_EQ(config.admin.user.password, "secret");
  EXPECT_EQ(config.admin.user.password_stage2, protocol::native_password_stage2("secret"));
  // The admin account is not an application user.
  EXPECT_EQ(config.find_user("admin"), nullptr);
}

TEST(AdminConfig, ListenAndPasswordHash) {
  const std::string hash = "*" + std::string(40, 'A');
  const Config config = parse_valid(with_user_and_backend(
      "[admin]\nlisten = \"[::1]:7032\"\nuser = \"ops\"\npassword_hash = \"" + hash + "\"\n"));
  EXPECT_EQ(config.admin.listen, (Address{"::1", 7032}));
  EXPECT_EQ(config.admin.user.password, std::nullopt);
  EXPECT_EQ(config.admin.user.password_stage2, *protocol::parse_native_password_hash(hash));
}

TEST(AdminConfig, Rejections) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"[admin]\npassword = \"x\"\n", "test.toml:1: missing required key 'user' in [admin]"},
      {"[admin]\nuser = \"admin\"\n",
       "test.toml:1: missing required key 'password' or 'password_hash' in [admin]"},
      {"[admin]\nuser = \"\"\npassword = \"x\"\n", "test.toml:2: 'user' must not be empty"},
      {"[admin]\nuser = \"a\"\npassword = \"x\"\npassword_hash = \"*00\"\n",
       "test.toml:4: 'password' and 'password_hash' are mutually exclusive"},
      {"[admin]\nuser = \"a\"\npassword_hash = \"nope\"\n",
       "test.toml:3: 'password_hash' is not a valid hash 'nope': expected '*' followed by 40 hex "
       "digits"},
      {"[admin]\nuser = \"a\"\npassword = \"x\"\nlisten = \"localhost:6032\"\n", ""},
      {"[admin]\nuser = \"a\"\npassword = \"x\"\nport = 6032\n",
       "test.toml:4: unknown key 'port' in [admin]"},
      {"admin = 1\n", ""},
  };
  for (const Case& c : cases) {
    const auto errors = errors_of(with_user_and_backend(c.text));
    ASSERT_EQ(errors.size(), 1u) << c.text << ::testing::PrintToString(errors);
    if (c.message.empty()) {
      EXPECT_TRUE(errors[0].starts_with("test.toml:")) << errors[0];
    } else {
      EXPECT_EQ(errors[0], c.message) << c.text;
    }
  }
}

}  // namespace
}  // namespace replproxy::config
