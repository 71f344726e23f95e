// Two protocol = "tcp" tunnels on a relay loop, chained as between two sites: a plaintext client
// -> plain-to-tls -> TLS -> tls-to-plain -> a plaintext server. Blocking sockets on the test
// thread play the client and the server; the relay loop runs on its own thread, as in the proxy.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "relay/relay_loop.h"
#include "relay/tunnel.h"
#include "tests/unit/proxy/test_certs.h"

namespace replproxy::relay {
namespace {

using namespace std::chrono_literals;

// A listening socket on 127.0.0.1 with a kernel-chosen port.
struct BlockingListener {
  int fd = -1;
  uint16_t port = 0;

  BlockingListener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~BlockingListener() { ::close(fd); }
};

uint16_t free_port() { return BlockingListener().port; }

int connect_to(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval timeout{.tv_sec = 20, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

std::string read_to_eof(int fd) {
  std::string data;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) {
      return data;
    }
    data.append(buffer, static_cast<size_t>(n));
  }
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

config::Tunnel tunnel_entry(std::string name, uint16_t listen, uint16_t connect,
                            config::TunnelMode mode) {
  config::Tunnel t;
  t.name = std::move(name);
  t.listen = {"127.0.0.1", listen};
  t.connect = {"127.0.0.1", connect};
  t.mode = mode;
  t.protocol = config::TunnelProtocol::tcp;
  t.connect_timeout_ms = 5000;
  return t;
}

class TunnelPair : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = proxy::test::make_self_signed_cert(dir_.path(), "localhost");
    other_ = proxy::test::make_self_signed_cert(dir_.path(), "someone-else");
  }

  // Starts site A (plain-to-tls, verifying with `ca`) and site B (tls-to-plain) in front of
  // `server_port`; returns A's port.
  uint16_t start(uint16_t server_port, const std::string& ca) {
    const uint16_t b_port = free_port();
    const uint16_t a_port = free_port();
    config::Tunnel b = tunnel_entry("site-b", b_port, server_port, config::TunnelMode::tls_to_plain);
    b.tls_cert = cert_.cert_file;
    b.tls_key = cert_.key_file;
    b.tls_verify = false;
    config::Tunnel a = tunnel_entry("site-a", a_port, b_port, config::TunnelMode::plain_to_tls);
    a.tls_ca = ca;
    a_ = std::make_shared<TunnelStats>(a);
    b_ = std::make_shared<TunnelStats>(b);
    for (const auto& stats : {a_, b_}) {
      auto tunnel = Tunnel::create(stats);
      EXPECT_TRUE(tunnel.has_value()) << (tunnel ? "" : tunnel.error());
      relay_.add(std::move(*tunnel));
    }
    auto started = relay_.start();
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error());
    return a_port;
  }

  bool wait_idle() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (a_->active.load() + b_->active.load() > 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        return false;
      }
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  proxy::test::TempDir dir_;
  proxy::test::TestCert cert_;
  proxy::test::TestCert other_;
  RelayLoop relay_;
  std::shared_ptr<TunnelStats> a_;
  std::shared_ptr<TunnelStats> b_;
};

// The server reads until the client's half-close has come through both tunnels, then answers
// with everything it got and closes: data, back-pressure (the reply is read only after the whole
// request was sent) and half-close in both directions.
TEST_F(TunnelPair, CarriesBytesAndHalfCloseThroughTls) {
  BlockingListener server;
  const uint16_t port = start(server.port, cert_.cert_file);
  std::string request(3 * 1024 * 1024 + 17, '\0');
  std::mt19937 random(42);
  for (char& c : request) {
    c = static_cast<char>(random());
  }
  std::thread server_thread([&] {
    const int fd = ::accept(server.fd, nullptr, nullptr);
    const std::string got = read_to_eof(fd);
    write_all(fd, got);
    ::close(fd);
  });
  const int fd = connect_to(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(write_all(fd, request));
  ::shutdown(fd, SHUT_WR);
  const std::string reply = read_to_eof(fd);
  ::close(fd);
  server_thread.join();
  EXPECT_EQ(reply.size(), request.size());
  EXPECT_TRUE(reply == request);
  ASSERT_TRUE(wait_idle());
  for (const auto& stats : {a_, b_}) {
    const admin::TunnelStatus status = stats->status();
    EXPECT_EQ(status.connections_total, 1u) << status.name;
    EXPECT_EQ(status.connections_failed(), 0u) << status.name;
    EXPECT_EQ(status.bytes_to_server, request.size()) << status.name;
    EXPECT_EQ(status.bytes_to_client, request.size()) << status.name;
  }
  relay_.stop();
  EXPECT_TRUE(relay_.closed_cleanly());
}

// Site A does not trust site B's certificate: the handshake fails, it is counted, and nothing
// reaches the server.
TEST_F(TunnelPair, UntrustedCertificateIsRefused) {
  BlockingListener server;
  const uint16_t port = start(server.port, other_.cert_file);
  const int fd = connect_to(port);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_to_eof(fd), "");
  ::close(fd);
  ASSERT_TRUE(wait_idle());
  EXPECT_EQ(a_->status().failures[static_cast<size_t>(admin::TunnelFailure::tls)], 1u);
  EXPECT_EQ(a_->status().bytes_to_server, 0u);
  relay_.stop();
  EXPECT_TRUE(relay_.closed_cleanly());
}

TEST(TunnelCreate, UnreadableCertificateIsAStartError) {
  config::Tunnel t = tunnel_entry("in", free_port(), 1, config::TunnelMode::tls_to_plain);
  t.tls_cert = "/nonexistent/cert.pem";
  t.tls_key = "/nonexistent/key.pem";
  t.tls_verify = false;
  auto tunnel = Tunnel::create(std::make_shared<TunnelStats>(t));
  ASSERT_FALSE(tunnel.has_value());
  EXPECT_TRUE(tunnel.error().starts_with("tunnel 'in': cannot load TLS certificate "
                                         "'/nonexistent/cert.pem'"))
      << tunnel.error();
}

TEST(TunnelCreate, BusyListenAddressIsAStartError) {
  BlockingListener taken;
  config::Tunnel t = tunnel_entry("out", taken.port, 1, config::TunnelMode::plain_to_tls);
  auto tunnel = Tunnel::create(std::make_shared<TunnelStats>(t));
  ASSERT_TRUE(tunnel.has_value()) << tunnel.error();
  RelayLoop relay;
  relay.add(std::move(*tunnel));
  auto started = relay.start();
  ASSERT_FALSE(started.has_value());
  EXPECT_EQ(started.error(), "tunnel 'out': cannot listen on 127.0.0.1:" +
                                 std::to_string(taken.port) + ": address already in use");
  relay.stop();
  EXPECT_TRUE(relay.closed_cleanly());
}

}  // namespace
}  // namespace replproxy::relay
