// Authentication by the proxy itself: wrong passwords and unknown users are refused without
// touching a backend, password_hash users log in, clients that start with another plugin are
// switched to mysql_native_password, and COM_CHANGE_USER moves a session to another user.

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

class Auth : public E2eTest {
 protected:
  // The primary's global connection counter, read on one persistent connection.
  static uint64_t connections(Connection& direct) {
    Rows rows = direct.must("SHOW GLOBAL STATUS LIKE 'Connections'");
    return rows.empty() || !rows[0][1] ? 0 : std::stoull(*rows[0][1]);
  }
};

TEST_F(Auth, WrongPasswordAndUnknownUserNeverReachTheBackend) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  auto direct = connect_direct(sandbox());
  ASSERT_TRUE(direct);

  const uint64_t before = connections(*direct);
  auto wrong = Connection::open({.port = proxy.port(), .user = "app", .password = "wrong"});
  ASSERT_FALSE(wrong) << "logged in with a wrong password";
  auto unknown = Connection::open({.port = proxy.port(), .user = "nosuch", .password = "app"});
  ASSERT_FALSE(unknown) << "logged in as an unknown user";
  auto empty = Connection::open({.port = proxy.port(), .user = "app", .password = ""});
  ASSERT_FALSE(empty) << "logged in with an empty password";
  RunResult cli = run(mariadb_cli(proxy.port(), "", "-e 'SELECT 1'", "app", "bad"));
  const uint64_t after = connections(*direct);
  EXPECT_EQ(after - before, 0u) << "refused logins opened backend connections";

  EXPECT_EQ(wrong.error().code, 1045u) << wrong.error();
  EXPECT_EQ(wrong.error().sqlstate, "28000") << wrong.error();
  EXPECT_EQ(wrong.error().message,
            "Access denied for user 'app'@'127.0.0.1' (using password: YES)");
  EXPECT_EQ(unknown.error().code, 1045u) << unknown.error();
  EXPECT_EQ(unknown.error().message,
            "Access denied for user 'nosuch'@'127.0.0.1' (using password: YES)");
  EXPECT_EQ(empty.error().code, 1045u) << empty.error();
  EXPECT_EQ(empty.error().message, "Access denied for user 'app'@'127.0.0.1' (using password: NO)");
  EXPECT_EQ(cli.status, 1) << cli.output;
  EXPECT_NE(cli.output.find("ERROR 1045 (28000): Access denied for user 'app'@'127.0.0.1'"),
            std::string::npos)
      << cli.output;

  // The counter does move for a login that succeeds: exactly one backend connection.
  auto ok = must_connect({.port = proxy.port()});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->scalar("SELECT 'in'"), "in");
  EXPECT_EQ(connections(*direct) - after, 1u);

  // The server itself words it the same way.
  auto server = Connection::open({.port = sandbox().primary_port(), .password = "wrong"});
  ASSERT_FALSE(server);
  EXPECT_EQ(wrong.error().message, server.error().message);
  EXPECT_TRUE(proxy.alive());
}

TEST_F(Auth, PasswordHashUserLogsIn) {
  auto direct = connect_direct(sandbox());
  ASSERT_TRUE(direct);
  const std::string hash = direct->scalar("SELECT PASSWORD('app')");
  ASSERT_EQ(hash.size(), 41u) << hash;
  ASSERT_EQ(hash[0], '*');
  ProxyProcess proxy(sandbox(), {.users = {{"app", std::nullopt, hash}}});
  ASSERT_TRUE(proxy.start());
  ScopedSchema schema(sandbox(), "pwhash");
  ASSERT_TRUE(schema.create());

  auto c = must_connect({.port = proxy.port(), .db = schema.name()});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scalar("SELECT CURRENT_USER()"), "app@%");
  c->must("CREATE TABLE t (id INT)");
  c->must("INSERT INTO t VALUES (1), (2)");
  EXPECT_EQ(c->scalar("SELECT SUM(id) FROM t"), "3");

  RunResult cli = run(mariadb_cli(proxy.port(), schema.name(), "-N -e 'SELECT COUNT(*) FROM t'"));
  EXPECT_EQ(cli.status, 0) << cli.output;
  EXPECT_EQ(cli.output, "2\n");

  auto wrong = Connection::open({.port = proxy.port(), .password = "ap"});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, 1045u) << wrong.error();
}

TEST_F(Auth, ClientStartingWithAnotherPluginIsSwitchedToNativePassword) {
  ProxyProcess proxy(sandbox(), {});
  ASSERT_TRUE(proxy.start());
  for (const char* plugin : {"caching_sha2_password", "client_ed25519"}) {
    SCOPED_TRACE(plugin);
    MYSQL* m = mysql_init(nullptr);
    const unsigned protocol = MYSQL_PROTOCOL_TCP;
    mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &protocol);
    mysql_optionsv(m, MYSQL_DEFAULT_AUTH, plugin);
    const bool connected = mysql_real_connect(m, "127.0.0.1", "app", "app", nullptr,
                                              static_cast<unsigned>(proxy.port()), nullptr, 0);
    EXPECT_TRUE(connected) << mysql_errno(m) << " " << mysql_error(m);
    if (connected) {
      EXPECT_EQ(mysql_query(m, "SELECT 1"), 0) << mysql_error(m);
      if (MYSQL_RES* res = mysql_store_result(m)) {
        EXPECT_EQ(fetch_all(res), (Rows{{"1"}}));
        mysql_free_result(res);
      }
    }
    mysql_close(m);
  }
}

// Drops a MariaDB account on destruction.
struct ScopedUser {
  const Sandbox& sandbox;
  std::string account;
  ~ScopedUser() {
    if (auto c = Connection::open(
            {.port = sandbox.primary_port(), .user = "root", .password = "root"})) {
      (void)c->query("DROP USER IF EXISTS " + account);
    }
  }
};

TEST_F(Auth, ChangeUser) {
  ScopedSchema schema(sandbox(), "chuser");
  ASSERT_TRUE(schema.create());
  auto direct = connect_direct(sandbox());
  ASSERT_TRUE(direct);
  ScopedUser app2{sandbox(), "app2@'%'"};
  direct->must("CREATE OR REPLACE USER app2@'%' IDENTIFIED BY 'app2pw'");
  direct->must("GRANT ALL ON `" + schema.name() + "`.* TO app2@'%'");

  ProxyProcess proxy(sandbox(),
                     {.users = {{"app", "app", std::nullopt}, {"app2", "app2pw", std::nullopt}}});
  ASSERT_TRUE(proxy.start());

  auto c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->scalar("SELECT CURRENT_USER()"), "app@%");
  c->must("SET @marker = 'before'");

  ASSERT_EQ(mysql_change_user(c->get(), "app2", "app2pw", schema.name().c_str()), 0) << c->error();
  Rows rows = c->must("SELECT CURRENT_USER(), USER(), DATABASE(), @marker");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "app2@%");
  EXPECT_TRUE(rows[0][1] && rows[0][1]->starts_with("app2@")) << rows[0][1].value_or("NULL");
  EXPECT_EQ(rows[0][2], schema.name());
  EXPECT_EQ(rows[0][3], std::nullopt) << "user variables survived COM_CHANGE_USER";
  c->must("CREATE TABLE mine (id INT)");
  c->must("INSERT INTO mine VALUES (42)");
  EXPECT_EQ(c->scalar("SELECT id FROM mine"), "42");

  // And back to the first user.
  ASSERT_EQ(mysql_change_user(c->get(), "app", "app", nullptr), 0) << c->error();
  EXPECT_EQ(c->scalar("SELECT CURRENT_USER()"), "app@%");

  // Wrong password and unknown user.
  for (auto [user, password] : {std::pair{"app2", "wrong"}, std::pair{"nosuch", "app2pw"}}) {
    SCOPED_TRACE(user);
    auto other = must_connect({.port = proxy.port()});
    ASSERT_TRUE(other);
    EXPECT_NE(mysql_change_user(other->get(), user, password, nullptr), 0);
    EXPECT_EQ(mysql_errno(other->get()), 1045u) << other->error();
    EXPECT_NE(std::string(mysql_error(other->get()))
                  .find("Access denied for user '" + std::string(user) + "'"),
              std::string::npos)
        << other->error();
  }
  // The first session is unaffected.
  EXPECT_EQ(c->scalar("SELECT 'still app'"), "still app");
}

}  // namespace
}  // namespace replproxy::e2e
