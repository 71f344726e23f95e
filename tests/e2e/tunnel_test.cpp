// [[tunnels]] against the real sandbox: plaintext clients reaching the primary over verified TLS
// (plain-to-tls), TLS clients reaching a plaintext server (tls-to-plain), no plaintext fallback
// either way, a tcp pair chained as between two sites carrying a large result intact, and the
// counters in SHOW TUNNELS and the metrics. The sandbox server certificate names IP 127.0.0.1.

#include <map>
#include <sstream>

#include "tests/e2e/harness.h"

namespace replproxy::e2e {
namespace {

using TunnelRow = BatchRow;

struct TunnelSpec {
  std::string name;
  std::string mode;
  std::string protocol = "mysql";
  int connect_port = 0;
  std::string more;  // tls_* keys
  int port = 0;      // filled in: the listen port
};

class Tunnels : public E2eTest {
 protected:
  // A proxy over the sandbox primary with these tunnels, [admin] and [metrics] on free ports;
  // it is ready once the admin port (started after the tunnels) accepts.
  ::testing::AssertionResult start(std::vector<TunnelSpec>& tunnels) {
    admin_port_ = free_port();
    metrics_port_ = free_port();
    ProxyOptions o;
    o.extra_toml = "[admin]\nlisten = \"127.0.0.1:" + std::to_string(admin_port_) +
                   "\"\nuser = \"admin\"\npassword = \"s3cret\"\n\n[metrics]\nlisten = "
                   "\"127.0.0.1:" +
                   std::to_string(metrics_port_) + "\"\n";
    for (TunnelSpec& t : tunnels) {
      t.port = free_port();
      o.extra_toml += "\n[[tunnels]]\nname = \"" + t.name + "\"\nlisten = \"127.0.0.1:" +
                      std::to_string(t.port) + "\"\nconnect = \"127.0.0.1:" +
                      std::to_string(t.connect_port) + "\"\nmode = \"" + t.mode +
                      "\"\nprotocol = \"" + t.protocol + "\"\nconnect_timeout_ms = 5000\n" +
                      t.more;
    }
    proxy_ = std::make_unique<ProxyProcess>(sandbox(), o);
    auto started = proxy_->start();
    if (!started) {
      return started;
    }
    if (!wait_until([&] { return port_accepts(admin_port_); }, 10s)) {
      return ::testing::AssertionFailure() << "the admin port does not accept connections\n"
                                           << proxy_->log();
    }
    return ::testing::AssertionSuccess();
  }

  std::string tls(const std::string& file) const { return sandbox().tls_dir() + "/" + file; }
  std::string verify_with(const std::string& ca) const {
    return "tls_ca = \"" + ca + "\"\ntls_verify = true\n";
  }
  std::string server_cert() const {
    return "tls_cert = \"" + tls("server-cert.pem") + "\"\ntls_key = \"" + tls("server-key.pem") +
           "\"\n";
  }

  TunnelRow tunnel_row(const std::string& name) const {
    const RunResult r = run(mariadb_cli(admin_port_, "", "-e 'SHOW TUNNELS'", "admin", "s3cret"));
    EXPECT_EQ(r.status, 0) << r.output;
    for (TunnelRow& row : parse_batch(r.output)) {
      if (row["name"] == name) {
        return row;
      }
    }
    ADD_FAILURE() << "no tunnel " << name << " in " << r.output;
    return {};
  }
  // The tunnel's counters settle once its connections have closed.
  TunnelRow idle_tunnel_row(const std::string& name) const {
    TunnelRow row;
    wait_until(
        [&] {
          row = tunnel_row(name);
          return row["connections_active"] == "0";
        },
        10s);
    return row;
  }
  std::string metrics() const {
    return run("curl -sS --max-time 10 http://127.0.0.1:" + std::to_string(metrics_port_) +
               "/metrics")
        .output;
  }

  // The mariadb CLI with TLS to PORT, verifying the certificate against the sandbox CA.
  std::string tls_cli(int port, const std::string& extra, const std::string& args) const {
    return "mariadb --no-defaults --batch --ssl --ssl-verify-server-cert --ssl-ca=" +
           shell_quote(sandbox().ca()) + " " + extra + " --connect-timeout=10 -h127.0.0.1 -P" +
           std::to_string(port) + " -uapp -papp " + args;
  }

  std::unique_ptr<ProxyProcess> proxy_;
  int admin_port_ = 0;
  int metrics_port_ = 0;
};

TEST_F(Tunnels, PlaintextClientReachesThePrimaryOverVerifiedTls) {
  std::vector<TunnelSpec> tunnels = {
      {"to-primary", "plain-to-tls", "mysql", sandbox().primary_port(), verify_with(sandbox().ca())}};
  ASSERT_TRUE(start(tunnels));
  const int port = tunnels[0].port;

  // The client speaks plaintext to the tunnel; the server sees a TLS session.
  const RunResult status =
      run(mariadb_cli(port, "", "-N -e \"SHOW SESSION STATUS LIKE 'Ssl_cipher'\""));
  ASSERT_EQ(status.status, 0) << status.output << proxy_->log();
  ASSERT_TRUE(status.output.starts_with("Ssl_cipher\t")) << status.output;
  EXPECT_GT(status.output.size(), std::string("Ssl_cipher\t\n").size()) << status.output;

  // A driver session: queries, a change of schema, a large result, over one connection.
  auto c = must_connect({.port = port});
  ASSERT_TRUE(c);
  EXPECT_EQ(mysql_get_ssl_cipher(c->get()), nullptr) << "the client side must be plaintext";
  EXPECT_EQ(c->scalar("SELECT 6 * 7"), "42");
  EXPECT_NE(c->scalar("SHOW SESSION STATUS LIKE 'Ssl_version'"), "");
  Rows rows = c->must("SELECT seq, REPEAT('p', 500) FROM mysql.seq_1_to_20000");
  EXPECT_EQ(rows.size(), 20000u);
  c.reset();

  // A wrong password is the server's answer, passed through with its sequence ids shifted back.
  const RunResult denied = run(mariadb_cli(port, "", "-e 'SELECT 1'", "app", "wrong"));
  EXPECT_NE(denied.status, 0);
  EXPECT_NE(denied.output.find("1045"), std::string::npos) << denied.output;

  TunnelRow row = idle_tunnel_row("to-primary");
  EXPECT_EQ(row["mode"], "plain-to-tls");
  EXPECT_EQ(row["protocol"], "mysql");
  EXPECT_EQ(row["connections_total"], "3");
  EXPECT_EQ(row["connections_failed"], "0");
  EXPECT_EQ(row["tls_failures"], "0");
  EXPECT_GT(std::stoull(row["bytes_to_client"]), 20000u * 500u);
  EXPECT_GT(std::stoull(row["bytes_to_server"]), 0u);

  const std::string text = metrics();
  EXPECT_NE(text.find("replproxy_tunnel_connections_total{tunnel=\"to-primary\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("replproxy_tunnel_connections_active{tunnel=\"to-primary\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("replproxy_tunnel_bytes_total{tunnel=\"to-primary\",direction=\"to_client\"} " +
                      row["bytes_to_client"] + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("replproxy_tunnel_failures_total{tunnel=\"to-primary\",reason=\"tls\"} 0\n"),
            std::string::npos);
}

TEST_F(Tunnels, WrongCaRefusesWithAnErrorAndSendsNothingInPlaintext) {
  TempDir dir("replproxy-tunnel-ca");
  const RunResult ca = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                           "-nodes -days 1 -subj '/CN=not the sandbox CA' -keyout " +
                           shell_quote(dir.file("key.pem")) + " -out " +
                           shell_quote(dir.file("ca.pem")) + " 2>&1");
  ASSERT_EQ(ca.status, 0) << ca.output;
  std::vector<TunnelSpec> tunnels = {
      {"untrusted", "plain-to-tls", "mysql", sandbox().primary_port(), verify_with(dir.file("ca.pem"))}};
  ASSERT_TRUE(start(tunnels));

  const RunResult r = run(mariadb_cli(tunnels[0].port, "", "-e 'SELECT 1'"));
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("replproxy tunnel untrusted: TLS with the server at"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("certificate"), std::string::npos) << r.output;

  TunnelRow row = idle_tunnel_row("untrusted");
  EXPECT_EQ(row["connections_failed"], "1");
  EXPECT_EQ(row["tls_failures"], "1");
  EXPECT_EQ(row["bytes_to_server"], "0") << "no byte of the client's login may leave the tunnel";
  EXPECT_NE(metrics().find("replproxy_tunnel_failures_total{tunnel=\"untrusted\",reason=\"tls\"} 1\n"),
            std::string::npos);
}

TEST_F(Tunnels, TlsClientsReachAPlaintextServerAndPlaintextClientsAreRefused) {
  std::vector<TunnelSpec> tunnels = {
      {"tls-in", "tls-to-plain", "mysql", sandbox().primary_port(),
       server_cert() + "tls_verify = false\n"},
      {"mtls-in", "tls-to-plain", "mysql", sandbox().primary_port(),
       server_cert() + verify_with(sandbox().ca())}};
  ASSERT_TRUE(start(tunnels));

  // TLS between the client and the tunnel, verified; plaintext between the tunnel and the server.
  const RunResult ok =
      run(tls_cli(tunnels[0].port, "", "-N -e \"SHOW SESSION STATUS LIKE 'Ssl_cipher'\""));
  ASSERT_EQ(ok.status, 0) << ok.output << proxy_->log();
  EXPECT_EQ(ok.output, "Ssl_cipher\t\n") << "the server side is plaintext";
  const RunResult status = run(tls_cli(tunnels[0].port, "", "-e '\\s'"));
  ASSERT_EQ(status.status, 0) << status.output;
  EXPECT_NE(status.output.find("Cipher in use"), std::string::npos) << status.output;

  const RunResult plain = run(mariadb_cli(tunnels[0].port, "", "-e 'SELECT 1'"));
  EXPECT_NE(plain.status, 0);
  EXPECT_NE(plain.output.find("3159"), std::string::npos) << plain.output;
  EXPECT_NE(plain.output.find("accepts TLS connections only"), std::string::npos) << plain.output;

  // With tls_verify the client needs a certificate from the CA.
  const std::string client_cert = "--ssl-cert=" + shell_quote(tls("client-cert.pem")) +
                                  " --ssl-key=" + shell_quote(tls("client-key.pem"));
  const RunResult mtls = run(tls_cli(tunnels[1].port, client_cert, "-N -e 'SELECT 42'"));
  EXPECT_EQ(mtls.status, 0) << mtls.output << proxy_->log();
  EXPECT_EQ(mtls.output, "42\n");
  const RunResult anonymous = run(tls_cli(tunnels[1].port, "", "-N -e 'SELECT 42'"));
  EXPECT_NE(anonymous.status, 0) << anonymous.output;

  TunnelRow in = idle_tunnel_row("tls-in");
  EXPECT_EQ(in["connections_total"], "3");
  EXPECT_EQ(in["connections_failed"], "1");
  EXPECT_EQ(in["tls_failures"], "0");
  TunnelRow mtls_row = idle_tunnel_row("mtls-in");
  EXPECT_EQ(mtls_row["connections_total"], "2");
  EXPECT_EQ(mtls_row["tls_failures"], "1");
}

// Two sites: the application's plaintext -> plain-to-tls (tcp) -> TLS -> tls-to-plain (tcp) ->
// the server's plaintext. The whole MariaDB session, greeting included, travels inside TLS.
TEST_F(Tunnels, ChainedTcpPairCarriesASessionAndALargeResultIntact) {
  // The second tunnel's port is known only once start() picked it: reserve it first.
  const int site_b = free_port();
  std::vector<TunnelSpec> tunnels = {
      {"site-b", "tls-to-plain", "tcp", sandbox().primary_port(),
       server_cert() + "tls_verify = false\n"},
      {"site-a", "plain-to-tls", "tcp", site_b, verify_with(sandbox().ca())}};
  // start() picks the listen ports; site-b must listen where site-a connects.
  admin_port_ = 0;
  tunnels[0].port = site_b;
  {
    ProxyOptions o;
    admin_port_ = free_port();
    metrics_port_ = free_port();
    tunnels[1].port = free_port();
    o.extra_toml = "[admin]\nlisten = \"127.0.0.1:" + std::to_string(admin_port_) +
                   "\"\nuser = \"admin\"\npassword = \"s3cret\"\n\n[metrics]\nlisten = "
                   "\"127.0.0.1:" +
                   std::to_string(metrics_port_) + "\"\n";
    for (const TunnelSpec& t : tunnels) {
      o.extra_toml += "\n[[tunnels]]\nname = \"" + t.name + "\"\nlisten = \"127.0.0.1:" +
                      std::to_string(t.port) + "\"\nconnect = \"127.0.0.1:" +
                      std::to_string(t.connect_port) + "\"\nmode = \"" + t.mode +
                      "\"\nprotocol = \"tcp\"\n" + t.more;
    }
    proxy_ = std::make_unique<ProxyProcess>(sandbox(), o);
    ASSERT_TRUE(proxy_->start());
    ASSERT_TRUE(wait_until([&] { return port_accepts(admin_port_); }, 10s)) << proxy_->log();
  }
  const int port = tunnels[1].port;

  auto c = must_connect({.port = port});
  ASSERT_TRUE(c) << proxy_->log();
  EXPECT_EQ(c->scalar("SELECT 'through two tunnels'"), "through two tunnels");
  c->must("SET @x = 41");
  EXPECT_EQ(c->scalar("SELECT @x + 1"), "42");
  // The same 20 MB result directly and through the pair, compared by digest.
  const std::string query =
      "SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000) FROM mysql.seq_1_to_20000";
  const RunResult direct = run(mariadb_cli(sandbox().primary_port(), "", "-N -e " +
                                           shell_quote(query) + " | md5sum"));
  const RunResult tunnelled =
      run(mariadb_cli(port, "", "-N -e " + shell_quote(query) + " | wc -c; " +
                      mariadb_cli(port, "", "-N -e " + shell_quote(query) + " | md5sum")));
  ASSERT_EQ(direct.status, 0) << direct.output;
  ASSERT_EQ(tunnelled.status, 0) << tunnelled.output;
  EXPECT_NE(tunnelled.output.find(direct.output), std::string::npos)
      << "direct " << direct.output << " tunnelled " << tunnelled.output;
  const uint64_t size = std::stoull(tunnelled.output);
  EXPECT_GT(size, 20'000'000u);
  EXPECT_EQ(c->scalar("SELECT 'still usable'"), "still usable");
  c.reset();

  TunnelRow a = idle_tunnel_row("site-a");
  TunnelRow b = idle_tunnel_row("site-b");
  EXPECT_EQ(a["connections_total"], "3");
  EXPECT_EQ(b["connections_total"], "3");
  EXPECT_EQ(a["connections_failed"], "0");
  EXPECT_EQ(b["connections_failed"], "0");
  EXPECT_GT(std::stoull(a["bytes_to_client"]), 40'000'000u);
  EXPECT_EQ(a["bytes_to_client"], b["bytes_to_client"]);
  EXPECT_EQ(a["bytes_to_server"], b["bytes_to_server"]);
}

// A reload keeps the running tunnels and says that tunnel changes need a restart.
TEST_F(Tunnels, ReloadKeepsRunningTunnels) {
  std::vector<TunnelSpec> tunnels = {
      {"to-primary", "plain-to-tls", "mysql", sandbox().primary_port(), verify_with(sandbox().ca())}};
  ASSERT_TRUE(start(tunnels));
  std::string config = read_file(proxy_->config_path());
  const size_t at = config.find("name = \"to-primary\"");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, std::string("name = \"to-primary\"").size(), "name = \"renamed\"");
  write_file(proxy_->config_path(), config);
  const RunResult r = run(mariadb_cli(admin_port_, "", "-e 'RELOAD CONFIG'", "admin", "s3cret"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(tunnel_row("to-primary")["mode"], "plain-to-tls");
  const RunResult q = run(mariadb_cli(tunnels[0].port, "", "-N -e 'SELECT 1'"));
  EXPECT_EQ(q.status, 0) << q.output;
  // The log is flushed every second.
  EXPECT_TRUE(wait_until(
      [&] {
        const std::string log = proxy_->log();
        return log.find("tunnel changes need a restart") != std::string::npos &&
               log.find("unchanged until a restart: [[tunnels]]") != std::string::npos;
      },
      5s))
      << proxy_->log();
}

}  // namespace
}  // namespace replproxy::e2e
