// parse_host_port: the command-line face of a backend address (replproxy --ping HOST:PORT). The
// rules themselves are tested through the config's `address` keys; this checks that the public
// entry point applies the backend rules (host names allowed) and passes the reasons on.

#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace replproxy::config {
namespace {

TEST(ParseHostPortTest, AcceptsHostNamesAndIpLiterals) {
  EXPECT_EQ(parse_host_port("127.0.0.1:6033"), (Address{"127.0.0.1", 6033}));
  EXPECT_EQ(parse_host_port("primary:3306"), (Address{"primary", 3306}));
  EXPECT_EQ(parse_host_port("db-1.example.com:3307"), (Address{"db-1.example.com", 3307}));
  EXPECT_EQ(parse_host_port("[::1]:6032"), (Address{"::1", 6032}));
}

TEST(ParseHostPortTest, RejectionsSayWhy) {
  const std::pair<std::string, std::string> cases[] = {
      {"127.0.0.1", "expected HOST:PORT"},
      {"127.0.0.1:", "missing port"},
      {":6033", "missing host"},
      {"127.0.0.1:70000", "port 70000 is out of range 1..65535"},
      {"::1:6033", "an IPv6 address must be in brackets, as in [::1]:6033"},
      {"bad_host:6033", "'bad_host' is not a valid host name"},
  };
  for (const auto& [text, reason] : cases) {
    auto address = parse_host_port(text);
    ASSERT_FALSE(address) << text;
    EXPECT_EQ(address.error(), reason) << text;
  }
}

}  // namespace
}  // namespace replproxy::config
