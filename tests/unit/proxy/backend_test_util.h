#pragma once

// A scripted BackendConnection owner and the fixture the BackendConnection tests share.

#include <gtest/gtest.h>
#include <uv.h>

#include <memory>
#include <string>
#include <utility>

#include "config/config.h"
#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/generic.h"
#include "proxy/backend_connection.h"
#include "uv_test_util.h"

namespace replproxy::proxy::test {

// 20 bytes without a NUL, like a MariaDB scramble.
inline constexpr std::string_view kNonce = "abcdefghij0123456789";
inline constexpr std::string_view kPassword = "s3cret pa55";

// What the client negotiated with the proxy: a MariaDB client that would like compression, LOAD
// DATA LOCAL, query attributes and MariaDB's progress reports.
inline constexpr uint64_t kClientCapabilities =
    protocol::cap::kLongFlag | protocol::cap::kConnectWithDb | protocol::cap::kCompress |
    protocol::cap::kLocalFiles | protocol::cap::kProtocol41 | protocol::cap::kTransactions |
    protocol::cap::kSecureConnection | protocol::cap::kMultiStatements |
    protocol::cap::kMultiResults | protocol::cap::kPluginAuth | protocol::cap::kConnectAttrs |
    protocol::cap::kPluginAuthLenencClientData | protocol::cap::kDeprecateEof |
    protocol::cap::kQueryAttributes | protocol::cap::kMariadbProgress;

inline BackendLogin make_login() {
  BackendLogin login;
  login.username = "app";
  login.stage1 = protocol::native_password_stage1(kPassword);
  login.password = std::string(kPassword);
  login.database = "shop";
  login.character_set = 33;  // utf8mb3_general_ci: not the server's default, so it shows
  login.client_capabilities = kClientCapabilities;
  login.attributes = {{"_client_name", "libmariadb"}, {"program_name", "unit_proxy"}};
  return login;
}

inline config::Backend backend_at(uint16_t port) {
  config::Backend backend;
  backend.name = "db1";
  backend.address = {"127.0.0.1", port};
  return backend;
}

// A BackendConnection::Handler that counts every callback and records what it saw. It owns the
// connection and frees it from on_backend_closed, as a real owner does.
class Owner final : public BackendConnection::Handler {
 public:
  enum class AfterLogin { quit, stay };  // stay: until the server drops it or sends data
  enum class OnFailure { close_now, close_later };

  struct Counts {
    int ready = 0;
    int failed = 0;
    int data = 0;
    int write_done = 0;
    int lost = 0;
    int closed = 0;
  };

  Owner(uv_loop_t* loop, const config::Backend& backend, SSL_CTX* tls, BackendLogin login)
      : loop_(loop),
        conn_(std::make_unique<BackendConnection>(loop, *this, 7, backend, tls, std::move(login))) {
  }
  BackendConnection& conn() { return *conn_; }
  bool alive() const { return conn_ != nullptr; }
  void close() {
    if (conn_) {
      conn_->close();
    }
    if (later_) {
      later_->close();
    }
  }

  AfterLogin after_login = AfterLogin::quit;
  OnFailure on_failure = OnFailure::close_now;

  Counts count;
  protocol::Bytes ok;
  protocol::ErrPacket err;
  std::string lost_why;
  protocol::Bytes data;
  // Recorded in on_backend_ready.
  uint64_t capabilities = 0;
  bool tls = false;
  std::string server_version;
  uint32_t server_thread_id = 0;

 private:
  void on_backend_ready(BackendConnection& c, protocol::ByteView payload) override {
    ++count.ready;
    ok.assign(payload.begin(), payload.end());
    EXPECT_EQ(c.stage(), BackendConnection::Stage::ready);
    capabilities = c.capabilities();
    tls = c.stream().tls_established();
    server_version = c.server_version();
    server_thread_id = c.server_thread_id();
    if (after_login == AfterLogin::quit) {
      c.quit();
    }
  }
  void on_backend_failed(BackendConnection& c, const protocol::ErrPacket& e) override {
    ++count.failed;
    err = e;
    if (on_failure == OnFailure::close_now) {
      c.close();
      return;
    }
    // An owner may also close on a later loop iteration.
    if (!later_) {
      later_ = std::make_unique<Deferred>(loop_);
    }
    later_->post([this] { close(); });
  }
  void on_backend_data(BackendConnection& c) override {
    ++count.data;
    const protocol::ByteView in = c.stream().input();
    data.insert(data.end(), in.begin(), in.end());
    c.stream().consume(in.size());
    c.quit();
  }
  void on_backend_write_done(BackendConnection&) override { ++count.write_done; }
  void on_backend_lost(BackendConnection& c, std::string_view why) override {
    ++count.lost;
    lost_why = why;
    c.quit();
  }
  void on_backend_closed(BackendConnection& c) override {
    ++count.closed;
    EXPECT_EQ(&c, conn_.get());
    conn_.reset();  // nothing in BackendConnection may touch itself after this callback
  }

  uv_loop_t* loop_;
  std::unique_ptr<BackendConnection> conn_;
  std::unique_ptr<Deferred> later_;
};

// A loop per test; every test ends with the connection closed and uv_loop_close() == 0.
class BackendLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }

  // Starts the login and runs the loop until every handle is closed.
  void run(Owner& owner, uint32_t timeout_ms = 15'000) {
    owner.conn().start(timeout_ms);
    run_loop(&loop_, [&owner] { owner.close(); });
  }

  void expect_closed_cleanly(const Owner& owner) {
    EXPECT_EQ(owner.count.closed, 1);
    EXPECT_FALSE(owner.alive());
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  uv_loop_t loop_;
};

}  // namespace replproxy::proxy::test
