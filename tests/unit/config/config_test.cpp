#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace replproxy::config {
namespace {

using ::testing::TestWithParam;

constexpr std::string_view kSource = "test.toml";

// SHA1(SHA1(password)) written out, so that the tests do not depend on the hashing code they check.
protocol::Sha1Digest digest_from_hex(std::string_view hex) {
  protocol::Sha1Digest digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    digest[i] = static_cast<uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return digest;
}
const protocol::Sha1Digest kStage2App = digest_from_hex("5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3");
const protocol::Sha1Digest kStage2Password =
    digest_from_hex("2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19");
const protocol::Sha1Digest kStage2Empty =
    digest_from_hex("BE1BDEC0AA74B4DCB079943E70528096CCA985F8");

// The smallest valid parts, appended after the text under test so that its line numbers start at 1.
constexpr std::string_view kUser = "[[users]]\nname = \"app\"\npassword = \"app\"\n";
constexpr std::string_view kBackend =
    "[[backends]]\nname = \"db1\"\naddress = \"127.0.0.1:3307\"\n";

std::string with_user_and_backend(std::string_view head) {
  return std::string(head) + std::string(kUser) + std::string(kBackend);
}
std::string with_backend(std::string_view head) {
  return std::string(head) + std::string(kBackend);
}
std::string with_user(std::string_view head) { return std::string(head) + std::string(kUser); }

std::vector<std::string> errors_of(std::string_view text) {
  auto config = parse_config(text, kSource);
  return config ? std::vector<std::string>{} : config.error().messages;
}

Config parse_valid(std::string_view text, std::string_view source = kSource) {
  auto config = parse_config(text, source);
  EXPECT_TRUE(config.has_value()) << ::testing::PrintToString(config ? std::vector<std::string>{}
                                                                     : config.error().messages);
  return config ? *config : Config{};
}

constexpr std::string_view kFullConfig = R"(# every key, none at its default
[proxy]
listen = "[::1]:7033"
workers = 4
tls_cert = "/etc/rp/cert.pem"
tls_key = "/etc/rp/key.pem"
require_tls = true
max_connections = 500
connect_timeout_ms = 250
shutdown_grace_ms = 0
server_version = "8.0.36-replproxy"

[log]
level = "debug"

[[users]]
name = "app"
password = "app"

[[users]]
name = "report"
password_hash = "*2470c0c06dee42fd1618bb99005adca2ec9d1e19"

[[users]]
name = "nopass"
password = ""

[[backends]]
name = "db1"
address = "db1.example.com:3306"
role = "primary"
weight = 3
tls = true
tls_ca = "/etc/rp/ca.pem"
tls_verify = false

[[backends]]
name = "db-2_x.y"
address = "[2001:db8::2]:3307"
role = "replica"
)";

TEST(ParseConfig, FullFileGivesEveryValue) {
  const Config config = parse_valid(kFullConfig);
  EXPECT_EQ(config.source_path, "test.toml");
  const ProxySection& proxy = config.proxy;
  EXPECT_EQ(proxy.listen, (Address{"::1", 7033}));
  EXPECT_EQ(proxy.workers, 4u);
  EXPECT_EQ(proxy.tls_cert, "/etc/rp/cert.pem");
  EXPECT_EQ(proxy.tls_key, "/etc/rp/key.pem");
  EXPECT_TRUE(proxy.require_tls);
  EXPECT_EQ(proxy.max_connections, 500u);
  EXPECT_EQ(proxy.connect_timeout_ms, 250u);
  EXPECT_EQ(proxy.shutdown_grace_ms, 0u);
  EXPECT_EQ(proxy.server_version, "8.0.36-replproxy");
  EXPECT_EQ(config.log.level, LogLevel::debug);
}

TEST(ParseConfig, FullFileGivesEveryUser) {
  const Config config = parse_valid(kFullConfig);
  ASSERT_EQ(config.users.size(), 3u);
  EXPECT_EQ(config.users[0].name, "app");
  EXPECT_EQ(config.users[0].password, "app");
  EXPECT_EQ(config.users[0].password_stage2, kStage2App);
  EXPECT_EQ(config.users[1].name, "report");
  EXPECT_EQ(config.users[1].password, std::nullopt);
  EXPECT_EQ(config.users[1].password_stage2, kStage2Password);
  EXPECT_EQ(config.users[2].name, "nopass");
  EXPECT_EQ(config.users[2].password, "");
  EXPECT_EQ(config.users[2].password_stage2, kStage2Empty);
}

TEST(ParseConfig, FullFileGivesEveryBackend) {
  const Config config = parse_valid(kFullConfig);
  ASSERT_EQ(config.backends.size(), 2u);
  const Backend& db1 = config.backends[0];
  EXPECT_EQ(db1.name, "db1");
  EXPECT_EQ(db1.address, (Address{"db1.example.com", 3306}));
  EXPECT_EQ(db1.role, BackendRole::primary);
  EXPECT_EQ(db1.weight, 3u);
  EXPECT_TRUE(db1.tls);
  EXPECT_EQ(db1.tls_ca, "/etc/rp/ca.pem");
  EXPECT_FALSE(db1.tls_verify);
  const Backend& db2 = config.backends[1];
  EXPECT_EQ(db2.name, "db-2_x.y");
  EXPECT_EQ(db2.address, (Address{"2001:db8::2", 3307}));
  EXPECT_EQ(db2.role, BackendRole::replica);
}

TEST(ParseConfig, DefaultsWhenOmitted) {
  const Config config = parse_valid(with_user_and_backend(""));
  const ProxySection defaults;
  EXPECT_EQ(config.proxy.listen, (Address{"127.0.0.1", 6033}));
  EXPECT_EQ(config.proxy.workers, 0u);
  EXPECT_EQ(config.proxy.tls_cert, "");
  EXPECT_EQ(config.proxy.tls_key, "");
  EXPECT_FALSE(config.proxy.require_tls);
  EXPECT_EQ(config.proxy.max_connections, 10000u);
  EXPECT_EQ(config.proxy.connect_timeout_ms, 5000u);
  EXPECT_EQ(config.proxy.shutdown_grace_ms, 10000u);
  EXPECT_EQ(config.proxy.server_version, defaults.server_version);
  EXPECT_EQ(config.log.level, LogLevel::info);
  ASSERT_EQ(config.backends.size(), 1u);
  const Backend& backend = config.backends[0];
  EXPECT_EQ(backend.address, (Address{"127.0.0.1", 3307}));
  EXPECT_EQ(backend.role, BackendRole::primary);
  EXPECT_EQ(backend.weight, 1u);
  EXPECT_FALSE(backend.tls);
  EXPECT_EQ(backend.tls_ca, "");
  EXPECT_TRUE(backend.tls_verify);
}

TEST(ParseConfig, EmptyTablesKeepDefaults) {
  const Config config = parse_valid(with_user_and_backend("[proxy]\n[log]\n"));
  EXPECT_EQ(config.proxy.listen, (Address{"127.0.0.1", 6033}));
  EXPECT_EQ(config.log.level, LogLevel::info);
}

TEST(ParseConfig, InlineTablesAreAccepted) {
  const Config config = parse_valid(
      "users = [{name = \"a\", password = \"x\"}]\n"
      "backends = [{name = \"b\", address = \"10.0.0.1:3306\", role = \"replica\"}]\n");
  ASSERT_EQ(config.users.size(), 1u);
  ASSERT_EQ(config.backends.size(), 1u);
  EXPECT_EQ(config.backends[0].role, BackendRole::replica);
}

TEST(ParseConfig, EveryLogLevel) {
  const std::pair<std::string_view, LogLevel> levels[] = {{"trace", LogLevel::trace},
                                                          {"debug", LogLevel::debug},
                                                          {"info", LogLevel::info},
                                                          {"warn", LogLevel::warn},
                                                          {"error", LogLevel::error}};
  for (const auto& [name, level] : levels) {
    const Config config =
        parse_valid(with_user_and_backend("[log]\nlevel = \"" + std::string(name) + "\"\n"));
    EXPECT_EQ(config.log.level, level) << name;
  }
}

TEST(ParseConfig, AddressBoundaries) {
  const std::pair<std::string_view, Address> cases[] = {
      {"0.0.0.0:1", {"0.0.0.0", 1}},
      {"[::]:65535", {"::", 65535}},
      {"[::ffff:10.0.0.1]:3306", {"::ffff:10.0.0.1", 3306}},
  };
  for (const auto& [text, address] : cases) {
    const Config config =
        parse_valid(with_user_and_backend("[proxy]\nlisten = \"" + std::string(text) + "\"\n"));
    EXPECT_EQ(config.proxy.listen, address) << text;
  }
  const Config config =
      parse_valid(with_user("[[backends]]\nname = \"a\"\naddress = \"localhost:3306\"\n"
                            "[[backends]]\nname = \"b\"\naddress = \"x-1.db.internal:3306\"\n"));
  EXPECT_EQ(config.backends[0].address, (Address{"localhost", 3306}));
  EXPECT_EQ(config.backends[1].address, (Address{"x-1.db.internal", 3306}));
}

TEST(ParseConfig, IntegerBoundariesAccepted) {
  const Config config = parse_valid(
      with_user_and_backend("[proxy]\nworkers = 256\nmax_connections = 1\nconnect_timeout_ms = 1\n"
                            "shutdown_grace_ms = 4294967295\n"));
  EXPECT_EQ(config.proxy.workers, 256u);
  EXPECT_EQ(config.proxy.max_connections, 1u);
  EXPECT_EQ(config.proxy.connect_timeout_ms, 1u);
  EXPECT_EQ(config.proxy.shutdown_grace_ms, 4294967295u);
}

TEST(Address, ToString) {
  EXPECT_EQ((Address{"127.0.0.1", 6033}).to_string(), "127.0.0.1:6033");
  EXPECT_EQ((Address{"db1.example.com", 3306}).to_string(), "db1.example.com:3306");
  EXPECT_EQ((Address{"::1", 6033}).to_string(), "[::1]:6033");
}

TEST(Config, FindUserAndBackend) {
  const Config config = parse_valid(kFullConfig);
  ASSERT_NE(config.find_user("report"), nullptr);
  EXPECT_EQ(config.find_user("report"), &config.users[1]);
  EXPECT_EQ(config.find_user("REPORT"), nullptr);
  EXPECT_EQ(config.find_user(""), nullptr);
  ASSERT_NE(config.find_backend("db-2_x.y"), nullptr);
  EXPECT_EQ(config.find_backend("db-2_x.y"), &config.backends[1]);
  EXPECT_EQ(config.find_backend("db3"), nullptr);
}

struct RejectCase {
  std::string name;
  std::string text;
  std::vector<std::string> messages;
};

std::vector<RejectCase> syntax_and_top_level_cases() {
  return {
      {"SyntaxError",
       "[proxy]\nworkers = = 2\n",
       {"test.toml:2: Error while parsing value: could not determine value type"}},
      {"DuplicateKeyIsSyntaxError",
       "[proxy]\nworkers = 1\nworkers = 2\n",
       {"test.toml:3: Error while parsing key-value pair: cannot redefine existing integer "
        "'workers'"}},
      {"EmptyFile",
       "",
       {"test.toml:1: no [[users]] defined: at least one user is required",
        "test.toml:1: no [[backends]] defined: at least one backend is required"}},
      {"UnknownTopLevelKey",
       with_user_and_backend("listen = \"127.0.0.1:1\"\n"),
       {"test.toml:1: unknown key 'listen' in the top-level table"}},
      {"UnknownTable",
       with_user_and_backend("[prxy]\nlisten = \"127.0.0.1:1\"\n"),
       {"test.toml:1: unknown key 'prxy' in the top-level table"}},
      {"ProxyNotATable",
       with_user_and_backend("proxy = \"127.0.0.1:1\"\n"),
       {"test.toml:1: 'proxy' must be a table, as in [proxy]"}},
      {"LogNotATable",
       with_user_and_backend("log = \"info\"\n"),
       {"test.toml:1: 'log' must be a table, as in [log]"}},
  };
}

std::vector<RejectCase> listen_cases() {
  const auto listen = [](std::string name, std::string value, std::string reason) {
    return RejectCase{
        std::move(name),
        with_user_and_backend("[proxy]\nlisten = \"" + value + "\"\n"),
        {"test.toml:2: 'listen' is not a valid address '" + value + "': " + std::move(reason)}};
  };
  return {
      {"ListenNotAString",
       with_user_and_backend("[proxy]\nlisten = 6033\n"),
       {"test.toml:2: 'listen' must be a string"}},
      listen("ListenWithoutPort", "abc", "expected HOST:PORT"),
      listen("ListenEmpty", "", "expected HOST:PORT"),
      listen("ListenHostName", "localhost:6033",
             "the host must be an IP address, not a name (a listener binds to it)"),
      listen("ListenIpv6WithoutBrackets", "::1:6033",
             "an IPv6 address must be in brackets, as in [::1]:6033"),
      listen("ListenUnclosedBracket", "[::1:6033", "missing ']' after the IPv6 address"),
      listen("ListenBracketWithoutPort", "[::1]6033", "expected [IPV6]:PORT"),
      listen("ListenBracketedIpv4", "[127.0.0.1]:6033", "'127.0.0.1' is not an IPv6 address"),
      listen("ListenBadIpv4", "127.0.0.256:6033", "'127.0.0.256' is not a valid IPv4 address"),
      listen("ListenMissingHost", ":6033", "missing host"),
      listen("ListenMissingPort", "127.0.0.1:", "missing port"),
      listen("ListenPortNotANumber", "127.0.0.1:mysql", "port 'mysql' is not a number"),
      listen("ListenNegativePort", "127.0.0.1:-1", "port '-1' is not a number"),
      listen("ListenPortTooLong", "127.0.0.1:000001", "port '000001' is not a number"),
      listen("ListenPortZero", "127.0.0.1:0", "port 0 is out of range 1..65535"),
      listen("ListenPortTooLarge", "127.0.0.1:65536", "port 65536 is out of range 1..65535"),
  };
}

std::vector<RejectCase> proxy_integer_cases() {
  const auto proxy = [](std::string name, std::string line, std::string message) {
    return RejectCase{std::move(name),
                      with_user_and_backend("[proxy]\n" + line + "\n"),
                      {"test.toml:2: " + std::move(message)}};
  };
  return {
      proxy("WorkersString", "workers = \"2\"", "'workers' must be an integer"),
      proxy("WorkersFloat", "workers = 2.0", "'workers' must be an integer"),
      proxy("WorkersNegative", "workers = -1", "'workers' must be between 0 and 256, got -1"),
      proxy("WorkersTooMany", "workers = 257", "'workers' must be between 0 and 256, got 257"),
      proxy("MaxConnectionsZero", "max_connections = 0",
            "'max_connections' must be at least 1, got 0"),
      proxy("MaxConnectionsTooLarge", "max_connections = 4294967296",
            "'max_connections' must be at most 4294967295, got 4294967296"),
      proxy("MaxConnectionsBoolean", "max_connections = true",
            "'max_connections' must be an integer"),
      proxy("ConnectTimeoutZero", "connect_timeout_ms = 0",
            "'connect_timeout_ms' must be at least 1, got 0"),
      proxy("ShutdownGraceNegative", "shutdown_grace_ms = -5",
            "'shutdown_grace_ms' must be at least 0, got -5"),
  };
}

std::vector<RejectCase> proxy_other_cases() {
  const auto proxy = [](std::string name, std::string lines, std::string message) {
    return RejectCase{std::move(name),
                      with_user_and_backend("[proxy]\n" + lines + "\n"),
                      {"test.toml:2: " + std::move(message)}};
  };
  return {
      proxy("UnknownProxyKey", "listn = \"127.0.0.1:6033\"", "unknown key 'listn' in [proxy]"),
      proxy("RequireTlsString", "require_tls = \"yes\"",
            "'require_tls' must be a boolean (true or false)"),
      proxy("TlsCertWithoutKey", "tls_cert = \"c.pem\"",
            "'tls_cert' is set but 'tls_key' is not: give both or neither"),
      proxy("TlsKeyWithoutCert", "tls_key = \"k.pem\"",
            "'tls_key' is set but 'tls_cert' is not: give both or neither"),
      proxy("RequireTlsWithoutCertificate", "require_tls = true",
            "'require_tls = true' needs 'tls_cert' and 'tls_key'"),
      proxy("TlsCertEmpty", "tls_cert = \"\"\ntls_key = \"k.pem\"", "'tls_cert' must not be empty"),
      proxy("TlsKeyNotAString", "tls_key = 1\ntls_cert = \"c.pem\"", "'tls_key' must be a string"),
      proxy("ServerVersionEmpty", "server_version = \"\"", "'server_version' must not be empty"),
      proxy("ServerVersionWithNul", "server_version = \"5.5\\u0000x\"",
            "'server_version' must not contain NUL characters"),
      proxy("ServerVersionNotAString", "server_version = 5", "'server_version' must be a string"),
      proxy("SubTableInProxy", "[proxy.tls]\ncert = \"c.pem\"", "unknown key 'tls' in [proxy]"),
      {"RequireTlsWithCertOnly",
       with_user_and_backend("[proxy]\ntls_cert = \"c.pem\"\nrequire_tls = true\n"),
       {"test.toml:2: 'tls_cert' is set but 'tls_key' is not: give both or neither",
        "test.toml:3: 'require_tls = true' needs 'tls_cert' and 'tls_key'"}},
  };
}

std::vector<RejectCase> log_cases() {
  return {
      {"LogLevelUnknown",
       with_user_and_backend("[log]\nlevel = \"verbose\"\n"),
       {"test.toml:2: 'level' must be one of trace, debug, info, warn, error; got 'verbose'"}},
      {"LogLevelWrongCase",
       with_user_and_backend("[log]\nlevel = \"INFO\"\n"),
       {"test.toml:2: 'level' must be one of trace, debug, info, warn, error; got 'INFO'"}},
      {"LogLevelNotAString",
       with_user_and_backend("[log]\nlevel = 3\n"),
       {"test.toml:2: 'level' must be a string"}},
      {"UnknownLogKey",
       with_user_and_backend("[log]\nlevel = \"info\"\nfile = \"x.log\"\n"),
       {"test.toml:3: unknown key 'file' in [log]"}},
  };
}

std::vector<RejectCase> user_list_cases() {
  return {
      {"NoUsers",
       with_backend("[proxy]\nworkers = 1\n"),
       {"test.toml:1: no [[users]] defined: at least one user is required"}},
      {"EmptyUsersArray",
       with_backend("# no users\nusers = []\n"),
       {"test.toml:2: no [[users]] defined: at least one user is required"}},
      {"UsersNotAnArray",
       with_backend("users = \"app\"\n"),
       {"test.toml:1: 'users' must be an array of tables, as in [[users]]"}},
      {"UsersSingleTable",
       with_backend("[users]\nname = \"app\"\npassword = \"app\"\n"),
       {"test.toml:1: 'users' must be an array of tables, as in [[users]]"}},
      {"UserEntryNotATable",
       with_backend("users = [\n  \"app\",\n]\n"),
       {"test.toml:2: each entry of 'users' must be a table"}},
      {"DuplicateUser",
       with_backend("[[users]]\nname = \"app\"\npassword = \"a\"\n\n[[users]]\nname = \"app\"\n"
                    "password = \"b\"\n"),
       {"test.toml:6: duplicate user name 'app' (first defined at line 2)"}},
  };
}

std::vector<RejectCase> user_entry_cases() {
  const auto user = [](std::string name, std::string lines, std::vector<std::string> messages) {
    return RejectCase{std::move(name), with_backend("[[users]]\n" + lines + "\n"),
                      std::move(messages)};
  };
  constexpr std::string_view kHashError = ": expected '*' followed by 40 hex digits";
  return {
      user("UserWithoutName", "password = \"x\"",
           {"test.toml:1: missing required key 'name' in [[users]]"}),
      user("UserNameEmpty", "name = \"\"\npassword = \"x\"",
           {"test.toml:2: 'name' must not be empty"}),
      user("UserNameNotAString", "name = 1\npassword = \"x\"",
           {"test.toml:2: 'name' must be a string"}),
      user("UserWithoutPassword", "name = \"app\"",
           {"test.toml:1: missing required key 'password' or 'password_hash' in [[users]]"}),
      user("UserWithBothPasswords",
           "name = \"app\"\npassword = \"x\"\npassword_hash = "
           "\"*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\"",
           {"test.toml:4: 'password' and 'password_hash' are mutually exclusive"}),
      user("PasswordNotAString", "name = \"app\"\npassword = 1234",
           {"test.toml:3: 'password' must be a string"}),
      user(
          "PasswordHashTooShort", "name = \"app\"\npassword_hash = \"*2470C0\"",
          {"test.toml:3: 'password_hash' is not a valid hash '*2470C0'" + std::string(kHashError)}),
      user("PasswordHashWithoutStar",
           "name = \"app\"\npassword_hash = \"2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\"",
           {"test.toml:3: 'password_hash' is not a valid hash "
            "'2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'" +
            std::string(kHashError)}),
      user("PasswordHashNotHex",
           "name = \"app\"\npassword_hash = \"*G470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\"",
           {"test.toml:3: 'password_hash' is not a valid hash "
            "'*G470C0C06DEE42FD1618BB99005ADCA2EC9D1E19'" +
            std::string(kHashError)}),
      user("PasswordHashEmpty", "name = \"app\"\npassword_hash = \"\"",
           {"test.toml:3: 'password_hash' is not a valid hash ''" + std::string(kHashError)}),
      user("UnknownUserKey", "name = \"app\"\npassword = \"x\"\nhost = \"%\"",
           {"test.toml:4: unknown key 'host' in [[users]]"}),
  };
}

std::vector<RejectCase> backend_list_cases() {
  return {
      {"NoBackends",
       with_user(""),
       {"test.toml:1: no [[backends]] defined: at least one backend is required"}},
      {"EmptyBackendsArray",
       with_user("backends = []\n"),
       {"test.toml:1: no [[backends]] defined: at least one backend is required"}},
      {"BackendsSingleTable",
       with_user("[backends]\nname = \"db1\"\n"),
       {"test.toml:1: 'backends' must be an array of tables, as in [[backends]]"}},
      {"BackendEntryNotATable",
       with_user("backends = [1]\n"),
       {"test.toml:1: each entry of 'backends' must be a table"}},
      {"DuplicateBackend",
       with_user("[[backends]]\nname = \"db1\"\naddress = \"h1:1\"\n"
                 "[[backends]]\nname = \"db2\"\naddress = \"h2:1\"\n"
                 "[[backends]]\nname = \"db1\"\naddress = \"h3:1\"\n"),
       {"test.toml:8: duplicate backend name 'db1' (first defined at line 2)"}},
  };
}

std::vector<RejectCase> backend_entry_cases() {
  const auto backend = [](std::string name, std::string lines, std::string message) {
    return RejectCase{std::move(name),
                      with_user("[[backends]]\n" + lines + "\n"),
                      {"test.toml:" + std::move(message)}};
  };
  const std::string address = "address = \"db:3306\"";
  return {
      backend("BackendWithoutName", address, "1: missing required key 'name' in [[backends]]"),
      backend("BackendWithoutAddress", "name = \"db1\"",
              "1: missing required key 'address' in [[backends]]"),
      backend("BackendNameEmpty", "name = \"\"\n" + address, "2: 'name' must not be empty"),
      backend("BackendNameInvalid", "name = \"db 1\"\n" + address,
              "2: backend name 'db 1' is invalid: use only letters, digits, '_', '.' and '-'"),
      backend("BackendNameNotAString", "name = true\n" + address, "2: 'name' must be a string"),
      backend("BackendAddressWithoutPort", "name = \"db1\"\naddress = \"db.example.com\"",
              "3: 'address' is not a valid address 'db.example.com': expected HOST:PORT"),
      backend("BackendAddressBadHostName", "name = \"db1\"\naddress = \"db_1:3306\"",
              "3: 'address' is not a valid address 'db_1:3306': 'db_1' is not a valid host name"),
      backend("BackendAddressHyphenLabel", "name = \"db1\"\naddress = \"-db.x:3306\"",
              "3: 'address' is not a valid address '-db.x:3306': '-db.x' is not a valid host name"),
      backend("BackendAddressEmptyLabel", "name = \"db1\"\naddress = \"db..x:3306\"",
              "3: 'address' is not a valid address 'db..x:3306': 'db..x' is not a valid host name"),
      backend("BackendAddressBadIpv4", "name = \"db1\"\naddress = \"999.1.1.1:3306\"",
              "3: 'address' is not a valid address '999.1.1.1:3306': '999.1.1.1' is not a valid "
              "IPv4 address"),
      backend("BackendAddressPortZero", "name = \"db1\"\naddress = \"db:0\"",
              "3: 'address' is not a valid address 'db:0': port 0 is out of range 1..65535"),
      backend("BackendAddressNotAString", "name = \"db1\"\naddress = 3306",
              "3: 'address' must be a string"),
      backend("BackendRoleUnknown", "name = \"db1\"\n" + address + "\nrole = \"master\"",
              "4: 'role' must be one of primary, replica; got 'master'"),
      backend("BackendWeightZero", "name = \"db1\"\n" + address + "\nweight = 0",
              "4: 'weight' must be at least 1, got 0"),
      backend("BackendWeightNotAnInteger", "name = \"db1\"\n" + address + "\nweight = \"1\"",
              "4: 'weight' must be an integer"),
      backend("BackendTlsNotABoolean", "name = \"db1\"\n" + address + "\ntls = 1",
              "4: 'tls' must be a boolean (true or false)"),
      backend("BackendTlsCaWithoutTls", "name = \"db1\"\n" + address + "\ntls_ca = \"ca.pem\"",
              "4: 'tls_ca' has no effect without 'tls = true'"),
      backend("BackendTlsVerifyWithTlsFalse",
              "name = \"db1\"\n" + address + "\ntls = false\ntls_verify = false",
              "5: 'tls_verify' has no effect without 'tls = true'"),
      backend("BackendTlsCaEmpty", "name = \"db1\"\n" + address + "\ntls = true\ntls_ca = \"\"",
              "5: 'tls_ca' must not be empty"),
      backend("UnknownBackendKey", "name = \"db1\"\n" + address + "\nport = 3306",
              "4: unknown key 'port' in [[backends]]"),
  };
}

std::vector<RejectCase> all_reject_cases() {
  std::vector<RejectCase> all;
  for (auto group :
       {syntax_and_top_level_cases, listen_cases, proxy_integer_cases, proxy_other_cases, log_cases,
        user_list_cases, user_entry_cases, backend_list_cases, backend_entry_cases}) {
    for (RejectCase& c : group()) {
      all.push_back(std::move(c));
    }
  }
  return all;
}

// Keeps gtest from printing the case as raw bytes when it fails.
void PrintTo(const RejectCase& c, std::ostream* out) { *out << c.name; }

class ParseConfigRejects : public TestWithParam<RejectCase> {};

TEST_P(ParseConfigRejects, WithExactMessages) {
  EXPECT_EQ(errors_of(GetParam().text), GetParam().messages) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Rules, ParseConfigRejects, ::testing::ValuesIn(all_reject_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(ParseConfig, ReportsEveryErrorInLineOrder) {
  const std::string text =
      "bogus = 1\n"                // 1
      "[proxy]\n"                  // 2
      "listen = \"localhost\"\n"   // 3
      "workers = 1000\n"           // 4
      "[log]\n"                    // 5
      "level = \"loud\"\n"         // 6
      "[[users]]\n"                // 7
      "name = \"app\"\n"           // 8
      "[[users]]\n"                // 9
      "name = \"app\"\n"           // 10
      "password = \"x\"\n"         // 11
      "[[backends]]\n"             // 12
      "name = \"db1\"\n"           // 13
      "address = \"db1:99999\"\n"  // 14
      "weight = 0\n";              // 15
  const std::vector<std::string> expected = {
      "test.toml:1: unknown key 'bogus' in the top-level table",
      "test.toml:3: 'listen' is not a valid address 'localhost': expected HOST:PORT",
      "test.toml:4: 'workers' must be between 0 and 256, got 1000",
      "test.toml:6: 'level' must be one of trace, debug, info, warn, error; got 'loud'",
      "test.toml:7: missing required key 'password' or 'password_hash' in [[users]]",
      "test.toml:10: duplicate user name 'app' (first defined at line 8)",
      "test.toml:14: 'address' is not a valid address 'db1:99999': port 99999 is out of range "
      "1..65535",
      "test.toml:15: 'weight' must be at least 1, got 0",
  };
  EXPECT_EQ(errors_of(text), expected);
}

TEST(ParseConfig, MessagesUseTheSourceName) {
  auto config = parse_config("[proxy]\nworkers = -1\n", "/etc/replproxy/replproxy.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().messages,
            (std::vector<std::string>{
                "/etc/replproxy/replproxy.toml:1: no [[users]] defined: at least one user is "
                "required",
                "/etc/replproxy/replproxy.toml:1: no [[backends]] defined: at least one backend is "
                "required",
                "/etc/replproxy/replproxy.toml:2: 'workers' must be between 0 and 256, got -1"}));
}

// A file in a fresh temporary directory, removed with it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rp-config-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::filesystem::remove_all(path_);
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoadConfigFile, MissingFileIsOneError) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/absent.toml";
  auto config = load_config_file(path);
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().messages,
            (std::vector<std::string>{path + ": cannot read: No such file or directory"}));
}

TEST(LoadConfigFile, DirectoryIsOneError) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto config = load_config_file(dir.path());
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().messages,
            (std::vector<std::string>{dir.path() + ": cannot read: Is a directory"}));
}

TEST(LoadConfigFile, ReadsTheFileAndNamesItInMessages) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/replproxy.toml";
  std::ofstream(path) << kFullConfig;
  auto config = load_config_file(path);
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->source_path, path);
  EXPECT_EQ(config->proxy.listen, (Address{"::1", 7033}));
  EXPECT_EQ(config->users.size(), 3u);
  EXPECT_EQ(config->backends.size(), 2u);

  std::ofstream(path) << with_user_and_backend("[log]\nlevel = \"loud\"\n");
  auto bad = load_config_file(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().messages,
            (std::vector<std::string>{
                path + ":2: 'level' must be one of trace, debug, info, warn, error; got 'loud'"}));
}

std::string example_path() {
  if (const char* dir = std::getenv("REPLPROXY_SOURCE_DIR")) {
    return std::string(dir) + "/config/replproxy.example.toml";
  }
#ifdef REPLPROXY_SOURCE_DIR
  return REPLPROXY_SOURCE_DIR "/config/replproxy.example.toml";
#else
  // This file is tests/unit/config/config_test.cpp in the source tree.
  const std::filesystem::path root =
      std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
  return (root / "config" / "replproxy.example.toml").string();
#endif
}

TEST(ExampleConfig, ParsesWithTheDocumentedDefaults) {
  auto config = load_config_file(example_path());
  ASSERT_TRUE(config.has_value()) << ::testing::PrintToString(config.error().messages);
  const ProxySection defaults;
  EXPECT_EQ(config->proxy.listen, defaults.listen);
  EXPECT_EQ(config->proxy.workers, defaults.workers);
  EXPECT_EQ(config->proxy.tls_cert, "");
  EXPECT_EQ(config->proxy.require_tls, defaults.require_tls);
  EXPECT_EQ(config->proxy.max_connections, defaults.max_connections);
  EXPECT_EQ(config->proxy.connect_timeout_ms, defaults.connect_timeout_ms);
  EXPECT_EQ(config->proxy.shutdown_grace_ms, defaults.shutdown_grace_ms);
  EXPECT_EQ(config->proxy.server_version, defaults.server_version);
  EXPECT_EQ(config->log.level, LogLevel::info);
  ASSERT_EQ(config->users.size(), 2u);
  EXPECT_EQ(config->users[1].password_stage2, kStage2Password);
  ASSERT_EQ(config->backends.size(), 2u);
  EXPECT_EQ(config->backends[1].role, BackendRole::replica);
  EXPECT_FALSE(config->backends[1].tls);
  const RoutingSection routing_defaults;
  EXPECT_EQ(config->routing.read_fallback, routing_defaults.read_fallback);
  EXPECT_EQ(config->routing.consistency, routing_defaults.consistency);
  EXPECT_EQ(config->routing.causal_read_timeout_ms, routing_defaults.causal_read_timeout_ms);
  EXPECT_EQ(config->routing.max_session_history, routing_defaults.max_session_history);
  EXPECT_EQ(config->routing.retry_reads, routing_defaults.retry_reads);
  EXPECT_TRUE(config->routing.rules.empty());
  EXPECT_FALSE(config->health.enabled);
  EXPECT_FALSE(config->admin.enabled);
  EXPECT_FALSE(config->metrics.enabled);
  EXPECT_TRUE(config->tunnels.empty());
  EXPECT_EQ(config->backends[1].max_replication_lag_ms, std::nullopt);
}

// The example writes optional settings as "#key = value"; enabled, they must be valid too.
TEST(ExampleConfig, OptionalSettingsAreValidWhenEnabled) {
  std::ifstream file(example_path());
  ASSERT_TRUE(file.is_open()) << example_path();
  std::string text;
  int enabled = 0;
  for (std::string line; std::getline(file, line);) {
    const bool setting = line.size() > 1 && line[0] == '#' && std::islower(line[1]) != 0 &&
                         line.find(" = ") != std::string::npos;
    const bool table_header = line.starts_with("#[");
    enabled += setting ? 1 : 0;
    text += (setting || table_header ? line.substr(1) : line) + "\n";
  }
  EXPECT_EQ(enabled, 51);
  const Config config = parse_valid(text, "example");
  EXPECT_EQ(config.proxy.tls_cert, "/etc/replproxy/server-cert.pem");
  EXPECT_EQ(config.proxy.tls_key, "/etc/replproxy/server-key.pem");
  EXPECT_TRUE(config.relay.enabled);
  EXPECT_EQ(config.relay.server_id, 9001u);
  EXPECT_EQ(config.relay.sync, RelaySync::group);
  ASSERT_EQ(config.relay.users.size(), 1u);
  EXPECT_EQ(config.relay.users[0].name, "repl");
  ASSERT_EQ(config.backends.size(), 2u);
  EXPECT_TRUE(config.backends[1].tls);
  EXPECT_EQ(config.backends[1].tls_ca, "/etc/replproxy/ca.pem");
  EXPECT_TRUE(config.backends[1].tls_verify);
  ASSERT_EQ(config.routing.rules.size(), 1u);
  EXPECT_EQ(config.routing.rules[0].match, "^SELECT .* FROM reports\\b");
  EXPECT_EQ(config.routing.rules[0].target, RuleTarget::replica);
  EXPECT_EQ(config.backends[1].max_replication_lag_ms, 5000u);
  // The commented values of [health] are its defaults, apart from the account.
  const HealthSection& health = config.health;
  const HealthSection defaults;
  EXPECT_TRUE(health.enabled);
  EXPECT_EQ(health.user, "replproxy_monitor");
  EXPECT_EQ(health.password, "monitor");
  EXPECT_EQ(health.interval_ms, defaults.interval_ms);
  EXPECT_EQ(health.probe_timeout_ms, defaults.probe_timeout_ms);
  EXPECT_EQ(health.max_replication_lag_ms, defaults.max_replication_lag_ms);
  EXPECT_EQ(health.recover_probes, defaults.recover_probes);
  EXPECT_EQ(health.heartbeat, defaults.heartbeat);
  EXPECT_EQ(health.heartbeat_interval_ms, defaults.heartbeat_interval_ms);
  EXPECT_EQ(health.heartbeat_schema, defaults.heartbeat_schema);
  EXPECT_EQ(health.heartbeat_table, defaults.heartbeat_table);
  EXPECT_EQ(health.exclude_errant, defaults.exclude_errant);
  EXPECT_EQ(health.topology, defaults.topology);
  EXPECT_TRUE(config.admin.enabled);
  EXPECT_EQ(config.admin.listen, AdminSection{}.listen);
  EXPECT_EQ(config.admin.user.name, "admin");
  EXPECT_EQ(config.admin.user.password, "change-me");
  EXPECT_TRUE(config.metrics.enabled);
  EXPECT_EQ(config.metrics.listen, MetricsSection{}.listen);
  ASSERT_EQ(config.tunnels.size(), 1u);
  const Tunnel& tunnel = config.tunnels[0];
  EXPECT_EQ(tunnel.name, "to-dc2");
  EXPECT_EQ(tunnel.mode, TunnelMode::plain_to_tls);
  EXPECT_EQ(tunnel.protocol, TunnelProtocol::mysql);
  EXPECT_EQ(tunnel.connect_timeout_ms, Tunnel{}.connect_timeout_ms);
  EXPECT_TRUE(tunnel.tls_verify);
}

}  // namespace
}  // namespace replproxy::config
