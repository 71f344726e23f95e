// TLS between the client and the proxy: a verified handshake with the sandbox CA (the certificate
// names IP 127.0.0.1), queries and a large result over TLS, the CLI's status, and require_tls.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/e2e/harness.h"
#include "tests/e2e/raw_protocol.h"

namespace replproxy::e2e {
namespace {

class Tls : public E2eTest {
 protected:
  ProxyOptions tls_options(bool require_tls) {
    ProxyOptions o;
    o.tls_cert = sandbox().tls_dir() + "/server-cert.pem";
    o.tls_key = sandbox().tls_dir() + "/server-key.pem";
    o.require_tls = require_tls;
    return o;
  }

  // The mariadb CLI over TLS, verifying the proxy's certificate against the sandbox CA.
  std::string tls_cli(int port, const std::string& args) {
    return "mariadb --no-defaults --ssl --ssl-verify-server-cert --ssl-ca=" +
           shell_quote(sandbox().ca()) + " --connect-timeout=10 -h127.0.0.1 -P" +
           std::to_string(port) + " -uapp -papp " + args;
  }
};

TEST_F(Tls, VerifiedClientTls) {
  ProxyProcess proxy(sandbox(), tls_options(false));
  ASSERT_TRUE(proxy.start());

  auto c =
      must_connect({.port = proxy.port(), .ssl_ca = sandbox().ca(), .verify_server_cert = true});
  ASSERT_TRUE(c);
  const char* cipher = mysql_get_ssl_cipher(c->get());
  ASSERT_NE(cipher, nullptr) << "the session is not encrypted";
  EXPECT_GT(std::string(cipher).size(), 0u);
  EXPECT_EQ(c->scalar("SELECT 6 * 7"), "42");
  // Many TLS records in one response.
  Rows big = c->must("SELECT REPEAT('t', 5000000), 'end'");
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0][0].value_or("").size(), 5000000u);
  EXPECT_EQ(big[0][1], "end");
  Rows many = c->must("SELECT seq, REPEAT('r', 100) FROM mysql.seq_1_to_20000");
  EXPECT_EQ(many.size(), 20000u);
  EXPECT_EQ(c->scalar("SELECT 'after'"), "after");

  RunResult status = run(tls_cli(proxy.port(), "-e '\\s'"));
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_NE(status.output.find("Cipher in use"), std::string::npos) << status.output;

  // Plaintext clients are still welcome while require_tls is off.
  RunResult plain = run(mariadb_cli(proxy.port(), "", "-N -e 'SELECT 1'"));
  EXPECT_EQ(plain.status, 0) << plain.output;
  EXPECT_EQ(plain.output, "1\n");
  auto plain_c = must_connect({.port = proxy.port()});
  ASSERT_TRUE(plain_c);
  EXPECT_EQ(mysql_get_ssl_cipher(plain_c->get()), nullptr);
}

TEST_F(Tls, VerificationFailsAgainstTheWrongCa) {
  ProxyProcess proxy(sandbox(), tls_options(false));
  ASSERT_TRUE(proxy.start());
  // The client certificate is signed by the CA but is not a CA itself: nothing verifies.
  auto c = Connection::open({.port = proxy.port(),
                             .ssl_ca = sandbox().tls_dir() + "/client-cert.pem",
                             .verify_server_cert = true});
  EXPECT_FALSE(c) << "verified the proxy's certificate against an unrelated CA";
  EXPECT_TRUE(proxy.alive());
  EXPECT_EQ(run(mariadb_cli(proxy.port(), "", "-N -e 'SELECT 1'")).output, "1\n");
}

TEST_F(Tls, RequireTlsRefusesPlaintext) {
  ProxyProcess proxy(sandbox(), tls_options(true));
  ASSERT_TRUE(proxy.start());

  RunResult plain = run(mariadb_cli(proxy.port(), "", "-e 'SELECT 1'"));
  EXPECT_NE(plain.status, 0) << plain.output;
  EXPECT_NE(plain.output.find("ERROR"), std::string::npos) << plain.output;
  auto plain_c = Connection::open({.port = proxy.port()});
  ASSERT_FALSE(plain_c) << "a plaintext session was accepted with require_tls = true";
  EXPECT_NE(plain_c.error().code, 0u);
  EXPECT_FALSE(plain_c.error().message.empty());

  RunResult tls = run(tls_cli(proxy.port(), "-N -e 'SELECT 1'"));
  EXPECT_EQ(tls.status, 0) << tls.output;
  EXPECT_EQ(tls.output, "1\n");
  auto c =
      must_connect({.port = proxy.port(), .ssl_ca = sandbox().ca(), .verify_server_cert = true});
  ASSERT_TRUE(c);
  EXPECT_NE(mysql_get_ssl_cipher(c->get()), nullptr);
  EXPECT_EQ(c->scalar("SELECT 'secure'"), "secure");
}

// The first TLS record (a ClientHello) of `openssl s_client`, caught on a local listener.
std::string capture_client_hello() {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  std::string hello;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
      listen(listener, 1) == 0) {
    Subprocess client("exec openssl s_client -connect 127.0.0.1:" +
                      std::to_string(ntohs(addr.sin_port)));
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 5000) == 1) {
      const int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      std::string header;
      if (read_exact(fd, 5, header, 5s) == ReadStatus::ok && header[0] == 0x16) {
        const size_t body = static_cast<uint8_t>(header[3]) << 8 | static_cast<uint8_t>(header[4]);
        std::string rest;
        if (read_exact(fd, body, rest, 5s) == ReadStatus::ok) {
          hello = header + rest;
        }
      }
      ::close(fd);
    }
  }
  ::close(listener);
  return hello;
}

// A client may send its ClientHello right behind the SSLRequest, so that both arrive in one
// segment; the proxy must still answer the handshake.
TEST_F(Tls, ClientHelloGluedToTheSslRequest) {
  ProxyProcess proxy(sandbox(), tls_options(false));
  ASSERT_TRUE(proxy.start());
  const std::string hello = capture_client_hello();
  ASSERT_FALSE(hello.empty()) << "could not capture a ClientHello from openssl s_client";

  const int fd = connect_raw(proxy.port());
  ASSERT_GE(fd, 0);
  Packet greeting;
  ASSERT_EQ(read_packet(fd, greeting), ReadStatus::ok);
  // SSLRequest: capabilities (LONG_PASSWORD, LONG_FLAG, PROTOCOL_41, SSL, TRANSACTIONS,
  // SECURE_CONNECTION, PLUGIN_AUTH), max packet size, utf8mb4, 23 reserved bytes.
  const uint32_t caps = 0x1 | 0x4 | 0x200 | 0x800 | 0x2000 | 0x8000 | 0x80000;
  std::string ssl_request;
  for (int i = 0; i < 4; ++i) {
    ssl_request += static_cast<char>((caps >> (8 * i)) & 0xff);
  }
  ssl_request += std::string("\x00\x00\x00\x01", 4);
  ssl_request += static_cast<char>(45);
  ssl_request += std::string(23, '\0');
  ASSERT_TRUE(send_all(fd, frame(1, ssl_request) + hello));

  std::string reply;
  const ReadStatus status = read_exact(fd, 5, reply, 5s);
  EXPECT_EQ(status, ReadStatus::ok)
      << "no answer to a ClientHello that arrived together with the SSLRequest ("
      << (status == ReadStatus::eof ? "connection closed" : "nothing within 5 s") << ")";
  if (status == ReadStatus::ok) {
    EXPECT_EQ(reply[0], 0x16) << "the answer is not a TLS handshake record";
  }
  ::close(fd);
  EXPECT_TRUE(proxy.alive());
}

}  // namespace
}  // namespace replproxy::e2e
