// The [[tunnels]] array.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace replproxy::config {
namespace {

using test::errors_of;
using test::parse_valid;
using test::with_user_and_backend;

TEST(TunnelsConfig, AbsentMeansNone) {
  EXPECT_TRUE(parse_valid(with_user_and_backend("")).tunnels.empty());
}

TEST(TunnelsConfig, PlainToTlsWithDefaults) {
  const Config config = parse_valid(with_user_and_backend(
      "[[tunnels]]\nname = \"to-dc2\"\nlisten = \"127.0.0.1:13306\"\n"
      "connect = \"db.dc2.example:3306\"\nmode = \"plain-to-tls\"\n"));
  ASSERT_EQ(config.tunnels.size(), 1u);
  const Tunnel& t = config.tunnels[0];
  EXPECT_EQ(t.name, "to-dc2");
  EXPECT_EQ(t.listen, (Address{"127.0.0.1", 13306}));
  EXPECT_EQ(t.connect, (Address{"db.dc2.example", 3306}));
  EXPECT_EQ(t.mode, TunnelMode::plain_to_tls);
  EXPECT_EQ(t.protocol, TunnelProtocol::mysql);
  EXPECT_EQ(t.tls_ca, "");
  EXPECT_TRUE(t.tls_verify);
  EXPECT_EQ(t.tls_cert, "");
  EXPECT_EQ(t.tls_key, "");
  EXPECT_EQ(t.connect_timeout_ms, 5000u);
  EXPECT_EQ(t.line, 1u);
}

TEST(TunnelsConfig, EveryKey) {
  const Config config = parse_valid(with_user_and_backend(
      "[[tunnels]]\nname = \"a\"\nlisten = \"127.0.0.1:13306\"\nconnect = \"10.0.0.5:3306\"\n"
      "mode = \"plain-to-tls\"\nprotocol = \"tcp\"\ntls_ca = \"/ca.pem\"\ntls_verify = false\n"
      "tls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\nconnect_timeout_ms = 250\n"
      "[[tunnels]]\nname = \"b\"\nlisten = \"[::1]:13307\"\nconnect = \"127.0.0.1:3306\"\n"
      "mode = \"tls-to-plain\"\ntls_ca = \"/ca.pem\"\n"
      "tls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n"));
  ASSERT_EQ(config.tunnels.size(), 2u);
  const Tunnel& a = config.tunnels[0];
  EXPECT_EQ(a.protocol, TunnelProtocol::tcp);
  EXPECT_EQ(a.tls_ca, "/ca.pem");
  EXPECT_FALSE(a.tls_verify);
  EXPECT_EQ(a.tls_cert, "/c.pem");
  EXPECT_EQ(a.tls_key, "/k.pem");
  EXPECT_EQ(a.connect_timeout_ms, 250u);
  const Tunnel& b = config.tunnels[1];
  EXPECT_EQ(b.mode, TunnelMode::tls_to_plain);
  EXPECT_EQ(b.listen, (Address{"::1", 13307}));
  EXPECT_TRUE(b.tls_verify);
  EXPECT_EQ(b.line, 12u);
}

TEST(TunnelsConfig, TlsToPlainWithoutClientVerification) {
  const Config config = parse_valid(with_user_and_backend(
      "[[tunnels]]\nname = \"in\"\nlisten = \"0.0.0.0:13306\"\nconnect = \"127.0.0.1:3306\"\n"
      "mode = \"tls-to-plain\"\ntls_verify = false\ntls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n"));
  ASSERT_EQ(config.tunnels.size(), 1u);
  EXPECT_FALSE(config.tunnels[0].tls_verify);
}

// One valid tunnel's keys, to which each case adds or changes one thing.
std::string tunnel(std::string_view name, std::string_view listen, std::string_view extra = "",
                   std::string_view mode = "plain-to-tls") {
  return "[[tunnels]]\nname = \"" + std::string(name) + "\"\nlisten = \"" + std::string(listen) +
         "\"\nconnect = \"10.0.0.5:3306\"\nmode = \"" + std::string(mode) + "\"\n" +
         std::string(extra);
}

TEST(TunnelsConfig, Rejections) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::string tls_pair = "tls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n";
  const std::vector<Case> cases = {
      {"tunnels = 1\n", "test.toml:1: 'tunnels' must be an array of tables, as in [[tunnels]]"},
      {"tunnels = [1]\n", "test.toml:1: each entry of 'tunnels' must be a table"},
      {"[[tunnels]]\nlisten = \"127.0.0.1:13306\"\nconnect = \"10.0.0.5:3306\"\n"
       "mode = \"plain-to-tls\"\n",
       "test.toml:1: missing required key 'name' in [[tunnels]]"},
      {"[[tunnels]]\nname = \"a\"\nconnect = \"10.0.0.5:3306\"\nmode = \"plain-to-tls\"\n",
       "test.toml:1: missing required key 'listen' in [[tunnels]]"},
      {"[[tunnels]]\nname = \"a\"\nlisten = \"127.0.0.1:13306\"\nmode = \"plain-to-tls\"\n",
       "test.toml:1: missing required key 'connect' in [[tunnels]]"},
      {"[[tunnels]]\nname = \"a\"\nlisten = \"127.0.0.1:13306\"\nconnect = \"10.0.0.5:3306\"\n",
       "test.toml:1: missing required key 'mode' in [[tunnels]]"},
      {tunnel("a b", "127.0.0.1:13306"),
       "test.toml:2: tunnel name 'a b' is invalid: use only letters, digits, '_', '.' and '-'"},
      {tunnel("", "127.0.0.1:13306"), "test.toml:2: 'name' must not be empty"},
      {tunnel("a", "127.0.0.1:13306", "", "plain-to-ssl"),
       "test.toml:5: 'mode' must be one of plain-to-tls, tls-to-plain; got 'plain-to-ssl'"},
      {tunnel("a", "127.0.0.1:13306", "protocol = \"http\"\n"),
       "test.toml:6: 'protocol' must be one of mysql, tcp; got 'http'"},
      {tunnel("a", "localhost:13306"),
       "test.toml:3: 'listen' is not a valid address 'localhost:13306': the host must be an IP "
       "address, not a name (a listener binds to it)"},
      {"[[tunnels]]\nname = \"a\"\nlisten = \"127.0.0.1:13306\"\nconnect = \"10.0.0.5\"\n"
       "mode = \"plain-to-tls\"\n",
       "test.toml:4: 'connect' is not a valid address '10.0.0.5': expected HOST:PORT"},
      {tunnel("a", "127.0.0.1:13306", "tls_verify = \"yes\"\n"),
       "test.toml:6: 'tls_verify' must be a boolean (true or false)"},
      {tunnel("a", "127.0.0.1:13306", "tls_cert = \"/c.pem\"\n"),
       "test.toml:6: 'tls_cert' is set but 'tls_key' is not: give both or neither"},
      {tunnel("a", "127.0.0.1:13306", "tls_key = \"/k.pem\"\n"),
       "test.toml:6: 'tls_key' is set but 'tls_cert' is not: give both or neither"},
      {tunnel("a", "127.0.0.1:13306", "tls_ca = \"\"\n"), "test.toml:6: 'tls_ca' must not be empty"},
      {tunnel("a", "127.0.0.1:13306", "tls_ca = \"/ca.pem\"\n", "tls-to-plain"),
       "test.toml:5: mode 'tls-to-plain' needs 'tls_cert' and 'tls_key': the certificate the "
       "tunnel offers to its clients"},
      {tunnel("a", "127.0.0.1:13306", tls_pair, "tls-to-plain"),
       "test.toml:5: mode 'tls-to-plain' with 'tls_verify = true' verifies client certificates "
       "and needs 'tls_ca' (or set 'tls_verify = false')"},
      {tunnel("a", "127.0.0.1:13306", tls_pair + "tls_verify = true\n", "tls-to-plain"),
       "test.toml:8: mode 'tls-to-plain' with 'tls_verify = true' verifies client certificates "
       "and needs 'tls_ca' (or set 'tls_verify = false')"},
      {tunnel("a", "127.0.0.1:13306", "connect_timeout_ms = 0\n"),
       "test.toml:6: 'connect_timeout_ms' must be at least 1, got 0"},
      {tunnel("a", "127.0.0.1:13306", "ssh = true\n"),
       "test.toml:6: unknown key 'ssh' in [[tunnels]]"},
      {tunnel("a", "127.0.0.1:13306") + tunnel("a", "127.0.0.1:13307"),
       "test.toml:7: duplicate tunnel name 'a' (first defined at line 1)"},
      {tunnel("a", "127.0.0.1:13306") + tunnel("b", "127.0.0.1:13306"),
       "test.toml:8: 'listen' '127.0.0.1:13306' is already used by tunnel 'a' (line 3)"},
      {tunnel("a", "0.0.0.0:13306") + tunnel("b", "127.0.0.1:13306"),
       "test.toml:8: 'listen' '127.0.0.1:13306' is already used by tunnel 'a' (line 3)"},
      {tunnel("a", "127.0.0.1:6033"),
       "test.toml:3: 'listen' '127.0.0.1:6033' is already used by [proxy] listen"},
      {"[admin]\nuser = \"admin\"\npassword = \"x\"\n" + tunnel("a", "127.0.0.1:6032"),
       "test.toml:6: 'listen' '127.0.0.1:6032' is already used by [admin] listen"},
      {"[metrics]\n" + tunnel("a", "0.0.0.0:9033"),
       "test.toml:4: 'listen' '0.0.0.0:9033' is already used by [metrics] listen"},
      {"[relay]\nserver_id = 9\ndatadir = \"/tmp/x\"\nupstream_user = \"repl\"\n"
       "upstream_password = \"repl\"\n[[relay.users]]\nname = \"r\"\npassword = \"r\"\n" +
           tunnel("a", "127.0.0.1:6034"),
       "test.toml:11: 'listen' '127.0.0.1:6034' is already used by [relay] listen"},
  };
  for (const Case& c : cases) {
    const auto errors = errors_of(with_user_and_backend(c.text));
    ASSERT_EQ(errors.size(), 1u) << c.text << ::testing::PrintToString(errors);
    EXPECT_EQ(errors[0], c.message) << c.text;
  }
}

// The ports of [admin] and [metrics] are only claimed when those tables are present.
TEST(TunnelsConfig, AbsentListenersClaimNoPort) {
  const Config config = parse_valid(
      with_user_and_backend(tunnel("a", "127.0.0.1:6032") + tunnel("b", "127.0.0.1:9033")));
  EXPECT_EQ(config.tunnels.size(), 2u);
}

}  // namespace
}  // namespace replproxy::config
