// Stream with TLS on memory BIOs: handshake both ways, data both ways, certificate verification
// by CA and by host, and a plaintext peer talking to a TLS server. The certificates are made at
// test time (test_certs.h).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "proxy/stream.h"
#include "proxy/tls.h"
#include "stream_test_util.h"
#include "test_certs.h"
#include "uv_test_util.h"

namespace replproxy::proxy {
namespace {

using protocol::as_bytes;
using test::Listener;
using test::pattern_bytes;
using test::Peer;
using test::TestCert;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class StreamTlsTest : public test::LoopTest {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>();
    cert_ = test::make_self_signed_cert(dir_->path(), "replproxy-test-server");
    other_ca_ = test::make_self_signed_cert(dir_->path(), "replproxy-test-other-ca");
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static SslCtxPtr server_context() {
    auto ctx = make_server_tls_context(cert_.cert_file, cert_.key_file);
    EXPECT_TRUE(ctx) << ctx.error();
    return ctx ? std::move(*ctx) : nullptr;
  }
  static SslCtxPtr client_context(const std::string& ca_file, bool verify) {
    auto ctx = make_client_tls_context(ca_file, verify);
    EXPECT_TRUE(ctx) << ctx.error();
    return ctx ? std::move(*ctx) : nullptr;
  }

  // Accepts into `server` and starts TLS as the server before the first byte is read.
  static std::function<void(Listener&)> accept_tls_into(Peer& server, SSL_CTX* ctx) {
    return [&server, ctx](Listener& listener) {
      ASSERT_EQ(server.stream().accept_from(listener.handle()), 0);
      listener.close();
      EXPECT_TRUE(server.stream().start_tls_server(ctx));
      EXPECT_TRUE(server.stream().tls_active());
      EXPECT_FALSE(server.stream().tls_established());
      EXPECT_EQ(server.stream().start_reading(), 0);
    };
  }

  static std::function<void(Peer&, int)> start_tls_client(SSL_CTX* ctx, std::string host,
                                                          bool verify) {
    return [ctx, host, verify](Peer& p, int status) {
      ASSERT_EQ(status, 0);
      EXPECT_EQ(p.stream().start_reading(), 0);
      EXPECT_TRUE(p.stream().start_tls_client(ctx, host, verify));
    };
  }

  static std::unique_ptr<test::TempDir> dir_;
  static TestCert cert_;
  static TestCert other_ca_;
};

std::unique_ptr<test::TempDir> StreamTlsTest::dir_;
TestCert StreamTlsTest::cert_;
TestCert StreamTlsTest::other_ca_;

TEST_F(StreamTlsTest, HandshakeCompletesAndDataRoundTripsBothWays) {
  SslCtxPtr server_tls = server_context();
  SslCtxPtr client_tls = client_context(cert_.cert_file, true);
  // Larger than a TLS record, so both directions are split and reassembled.
  const std::string request = pattern_bytes(300 << 10, 1);
  const std::string reply = pattern_bytes(200 << 10, 2);
  Peer server(&loop_);
  Peer client(&loop_);
  Listener listener(&loop_, accept_tls_into(server, server_tls.get()));
  std::string server_cipher;
  std::string client_cipher;
  std::string client_version;
  server.on_tls = [&](Peer& p) {
    EXPECT_TRUE(p.stream().tls_established());
    server_cipher = p.stream().tls_cipher();
  };
  server.on_read = [&](Peer& p) {
    p.take_input();
    if (p.received.size() == request.size()) {
      p.stream().write(as_bytes(reply));
    }
  };
  client.on_connect = start_tls_client(client_tls.get(), "127.0.0.1", true);
  client.on_tls = [&](Peer& p) {
    EXPECT_TRUE(p.stream().tls_established());
    client_cipher = p.stream().tls_cipher();
    client_version = p.stream().tls_version();
    p.stream().write(as_bytes(request));
  };
  client.on_read = [&](Peer& p) {
    p.take_input();
    if (p.received.size() == reply.size()) {
      p.close();
    }
  };
  ASSERT_EQ(client.stream().connect(listener.address()), 0);
  run({&server, &client}, &listener);

  EXPECT_EQ(server.count.tls_ready, 1);
  EXPECT_EQ(client.count.tls_ready, 1);
  EXPECT_FALSE(client_cipher.empty());
  EXPECT_EQ(server_cipher, client_cipher);
  EXPECT_THAT(client_version, HasSubstr("TLS"));
  ASSERT_EQ(server.received.size(), request.size());
  EXPECT_TRUE(server.received == request);
  ASSERT_EQ(client.received.size(), reply.size());
  EXPECT_TRUE(client.received == reply);
  EXPECT_EQ(client.count.errors, 0);
  test::expect_flushed(client, 3);  // ClientHello, Finished, the request
  EXPECT_EQ(client.count.closed, 1);
  EXPECT_THAT(server.errors, ElementsAre("connection closed by peer"));
  EXPECT_EQ(server.count.closed, 1);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

// Which certificates a client accepts: {CA file, host, verify, accepted}.
struct VerifyCase {
  const char* name;
  bool use_other_ca;
  const char* host;
  bool verify;
  bool accepted;
};

class StreamTlsVerifyTest : public StreamTlsTest,
                            public ::testing::WithParamInterface<VerifyCase> {};

TEST_P(StreamTlsVerifyTest, ClientAcceptsOnlyWhatItShould) {
  const VerifyCase& c = GetParam();
  SslCtxPtr server_tls = server_context();
  SslCtxPtr client_tls =
      client_context(c.use_other_ca ? other_ca_.cert_file : cert_.cert_file, c.verify);
  Peer server(&loop_);
  Peer client(&loop_);
  Listener listener(&loop_, accept_tls_into(server, server_tls.get()));
  client.on_connect = start_tls_client(client_tls.get(), c.host, c.verify);
  client.on_tls = [](Peer& p) { p.close(); };
  ASSERT_EQ(client.stream().connect(listener.address()), 0);
  run({&server, &client}, &listener);

  if (c.accepted) {
    EXPECT_EQ(client.count.tls_ready, 1);
    EXPECT_THAT(client.errors, IsEmpty());
  } else {
    EXPECT_EQ(client.count.tls_ready, 0);
    ASSERT_THAT(client.errors, SizeIs(1));
    EXPECT_THAT(client.errors[0], HasSubstr("TLS handshake failed"));
    EXPECT_THAT(client.errors[0], HasSubstr("certificate"));
    EXPECT_EQ(server.count.tls_ready, 0);
  }
  // The server sees the client go away, by an alert or by a plain close, exactly once.
  EXPECT_THAT(server.errors, SizeIs(1));
  EXPECT_EQ(server.count.readable, 0);
  EXPECT_EQ(client.count.closed, 1);
  EXPECT_EQ(server.count.closed, 1);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, StreamTlsVerifyTest,
    ::testing::Values(VerifyCase{"RightCaAndIp", false, "127.0.0.1", true, true},
                      VerifyCase{"RightCaAndDnsName", false, "localhost", true, true},
                      VerifyCase{"DifferentCa", true, "127.0.0.1", true, false},
                      VerifyCase{"IpNotInCertificate", false, "127.0.0.2", true, false},
                      VerifyCase{"NameNotInCertificate", false, "db.example", true, false},
                      VerifyCase{"DifferentCaWithoutVerify", true, "127.0.0.1", false, true}),
    [](const ::testing::TestParamInfo<VerifyCase>& info) { return info.param.name; });

TEST_F(StreamTlsTest, PlaintextPeerMakesTheTlsServerFailWithoutCrashing) {
  SslCtxPtr server_tls = server_context();
  Peer server(&loop_);
  Peer client(&loop_);
  Listener listener(&loop_, accept_tls_into(server, server_tls.get()));
  client.on_connect = [](Peer& p, int status) {
    ASSERT_EQ(status, 0);
    EXPECT_EQ(p.stream().start_reading(), 0);
    p.stream().write(as_bytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  };
  ASSERT_EQ(client.stream().connect(listener.address()), 0);
  run({&server, &client}, &listener);

  ASSERT_THAT(server.errors, SizeIs(1));
  EXPECT_THAT(server.errors[0], HasSubstr("TLS handshake failed"));
  EXPECT_EQ(server.count.tls_ready, 0);
  EXPECT_EQ(server.count.readable, 0);
  EXPECT_EQ(server.count.closed, 1);
  EXPECT_THAT(client.errors, SizeIs(1));  // the server went away
  EXPECT_EQ(client.count.closed, 1);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

// The MySQL upgrade: the client sends a plaintext request and its ClientHello right behind it,
// without waiting. The server reads both before it starts TLS, so the ClientHello is already in
// input() when start_tls_server() is called ("Bytes already in input() are the client's first TLS
// records").
//
// DISABLED: bug in Stream::start_tls_server(). It moves those bytes into the read BIO but never
// runs the handshake on them; the handshake only advances in handle_ciphertext(), i.e. when more
// bytes arrive from the socket. The client is waiting for the ServerHello and sends nothing more,
// so both sides wait forever (here until the watchdog). ClientSession::on_greeting_reply() hits it
// whenever a client's SSLRequest and ClientHello arrive in one read.
TEST_F(StreamTlsTest, ClientHelloReadTogetherWithThePlaintextRequestStartsTheHandshake) {
  const std::string request = "SSLREQUEST";
  SslCtxPtr server_tls = server_context();
  SslCtxPtr client_tls = client_context(cert_.cert_file, true);
  Peer server(&loop_);
  Peer client(&loop_);
  Listener listener(&loop_, accept_into(server));
  // Waits until more than the plaintext request is in input(), so bytes of the ClientHello are
  // always there when TLS starts, whatever the segmentation.
  server.on_read = [&](Peer& p) {
    if (p.stream().tls_active()) {
      p.take_input();
      if (p.received == "ping") {
        p.stream().write(as_bytes("pong"));
      }
      return;
    }
    if (p.stream().input().size() <= request.size()) {
      return;
    }
    EXPECT_EQ(protocol::as_chars(p.stream().input().first(request.size())), request);
    p.stream().consume(request.size());
    EXPECT_FALSE(p.stream().input().empty());
    EXPECT_TRUE(p.stream().start_tls_server(server_tls.get()));
  };
  client.on_connect = [&](Peer& p, int status) {
    ASSERT_EQ(status, 0);
    EXPECT_EQ(p.stream().start_reading(), 0);
    p.stream().write(as_bytes(request));
    EXPECT_TRUE(p.stream().start_tls_client(client_tls.get(), "127.0.0.1", true));
  };
  client.on_tls = [](Peer& p) { p.stream().write(as_bytes("ping")); };
  client.on_read = [](Peer& p) {
    p.take_input();
    if (p.received == "pong") {
      p.close();
    }
  };
  ASSERT_EQ(client.stream().connect(listener.address()), 0);
  run({&server, &client}, &listener);

  EXPECT_EQ(server.count.tls_ready, 1);
  EXPECT_EQ(client.count.tls_ready, 1);
  EXPECT_EQ(client.received, "pong");
  EXPECT_EQ(client.count.closed, 1);
  EXPECT_EQ(server.count.closed, 1);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

}  // namespace
}  // namespace replproxy::proxy
