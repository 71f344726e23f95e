#pragma once

// A scripted MySQL server, for what a real one cannot be made to do on cue (malformed greetings,
// a given nonce, an auth switch to a plugin, a drop right after login). It listens on a free port
// of 127.0.0.1, accepts one connection on its own thread and runs a script of blocking steps on
// it. The script records what it saw in variables the test reads after join(); it must not touch
// the test's loop.
//
// Every socket wait is bounded (kSocketTimeoutSeconds), so a stuck test fails instead of hanging;
// that is a safety net, not a timing assertion.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "protocol/auth.h"
#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/handshake.h"
#include "protocol/packet.h"

namespace replproxy::proxy::test {

inline constexpr int kSocketTimeoutSeconds = 20;

// One accepted connection, plaintext until start_tls().
class FakeConnection {
 public:
  struct Packet {
    uint8_t sequence_id = 0;
    protocol::Bytes payload;
  };

  explicit FakeConnection(int fd) : fd_(fd) {
    timeval tv{kSocketTimeoutSeconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  ~FakeConnection() {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
    }
    ::close(fd_);
  }
  FakeConnection(const FakeConnection&) = delete;
  FakeConnection& operator=(const FakeConnection&) = delete;

  // Frames `payload` with `sequence_id` and sends it.
  bool send_packet(protocol::ByteView payload, uint8_t sequence_id) {
    protocol::Bytes out;
    protocol::encode_packet(payload, sequence_id, out);
    return send_raw(out);
  }

  bool send_raw(protocol::ByteView bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n =
          ssl_ != nullptr
              ? SSL_write(ssl_, bytes.data() + sent, static_cast<int>(bytes.size() - sent))
              : ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads one frame, taking no byte beyond it (so a ClientHello behind an SSLRequest stays in the
  // socket for start_tls()). nullopt on EOF, error or timeout.
  std::optional<Packet> read_packet() {
    uint8_t header[protocol::kFrameHeaderSize];
    if (!read_exact(header, sizeof(header))) {
      return std::nullopt;
    }
    const size_t length = header[0] | header[1] << 8 | header[2] << 16;
    Packet packet{header[3], protocol::Bytes(length)};
    if (!read_exact(packet.payload.data(), length)) {
      return std::nullopt;
    }
    return packet;
  }

  // Reads until the peer closes and returns what came before; nullopt on error or timeout. A TCP
  // reset counts as a close.
  std::optional<protocol::Bytes> read_until_closed() {
    protocol::Bytes all;
    uint8_t buf[4096];
    for (;;) {
      const ssize_t n = read_some(buf, sizeof(buf));
      if (n == 0) {
        return all;
      }
      if (n < 0) {
        return errno == ECONNRESET ? std::optional(all) : std::nullopt;
      }
      all.insert(all.end(), buf, buf + n);
    }
  }

  // Runs the server side of a TLS handshake on the socket.
  bool start_tls(SSL_CTX* ctx) {
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_);
    return SSL_accept(ssl_) == 1;
  }

 private:
  // > 0 bytes, 0 at a clean close, < 0 on error (errno set for plain sockets).
  ssize_t read_some(uint8_t* buf, size_t size) {
    if (ssl_ == nullptr) {
      return ::recv(fd_, buf, size, 0);
    }
    const int n = SSL_read(ssl_, buf, static_cast<int>(size));
    if (n > 0) {
      return n;
    }
    // A peer that closes the socket without close_notify (SSL_ERROR_SYSCALL or SSL_ERROR_SSL
    // "unexpected eof") is a close here too.
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_ZERO_RETURN:
      case SSL_ERROR_SYSCALL:
      case SSL_ERROR_SSL:
        return 0;
      default:
        return -1;
    }
  }

  bool read_exact(uint8_t* buf, size_t size) {
    size_t got = 0;
    while (got < size) {
      const ssize_t n = read_some(buf + got, size - got);
      if (n <= 0) {
        return false;
      }
      got += static_cast<size_t>(n);
    }
    return true;
  }

  int fd_;
  SSL* ssl_ = nullptr;
};

// Listens at construction; the thread accepts one connection and runs the script on it.
class FakeMysqlServer {
 public:
  using Script = std::function<void(FakeConnection&)>;

  explicit FakeMysqlServer(Script script) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, script = std::move(script)] { serve(script); });
  }
  ~FakeMysqlServer() {
    join();
    ::close(listen_fd_);
  }
  FakeMysqlServer(const FakeMysqlServer&) = delete;
  FakeMysqlServer& operator=(const FakeMysqlServer&) = delete;

  uint16_t port() const { return port_; }
  // Waits for the script to end. Afterwards the script's records may be read.
  void join() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  bool accepted() const { return accepted_; }

 private:
  void serve(const Script& script) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kSocketTimeoutSeconds * 1000) != 1) {
      return;  // nobody came; the test checks accepted()
    }
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      return;
    }
    accepted_ = true;
    FakeConnection conn(fd);
    script(conn);
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  bool accepted_ = false;
  std::thread thread_;
};

// Packet payloads the scripts send.

inline constexpr uint64_t kServerCapabilities =
    protocol::cap::kLongFlag | protocol::cap::kConnectWithDb | protocol::cap::kCompress |
    protocol::cap::kProtocol41 | protocol::cap::kTransactions | protocol::cap::kSecureConnection |
    protocol::cap::kMultiStatements | protocol::cap::kMultiResults | protocol::cap::kPluginAuth |
    protocol::cap::kConnectAttrs | protocol::cap::kPluginAuthLenencClientData |
    protocol::cap::kSessionTrack | protocol::cap::kDeprecateEof | protocol::cap::kMariadbProgress |
    protocol::cap::kMariadbStmtBulkOperations;

inline protocol::Bytes greeting(const std::string& nonce,
                                uint64_t capabilities = kServerCapabilities,
                                uint32_t thread_id = 77) {
  protocol::InitialHandshake msg;
  msg.server_version = "5.5.5-10.11.6-MariaDB-fake";
  msg.connection_id = thread_id;
  msg.auth_plugin_data = nonce;
  msg.capabilities = capabilities;
  msg.character_set = protocol::kUtf8mb4GeneralCi;
  msg.status_flags = protocol::status::kAutocommit;
  msg.auth_plugin_name = std::string(protocol::kNativePasswordPlugin);
  protocol::Bytes out;
  protocol::encode_initial_handshake(msg, out);
  return out;
}

inline protocol::Bytes ok_payload(uint64_t capabilities = kServerCapabilities) {
  protocol::OkPacket ok;
  ok.status_flags = protocol::status::kAutocommit;
  ok.info = "logged in";
  protocol::Bytes out;
  protocol::encode_ok(ok, capabilities, out);
  return out;
}

inline protocol::Bytes err_payload(uint16_t code, const std::string& sql_state,
                                   const std::string& message,
                                   uint64_t capabilities = protocol::cap::kProtocol41) {
  protocol::Bytes out;
  protocol::encode_err({code, sql_state, message}, capabilities, out);
  return out;
}

inline protocol::Bytes auth_switch_payload(const std::string& plugin, const std::string& data) {
  protocol::Bytes out;
  protocol::encode_auth_switch_request({plugin, data}, out);
  return out;
}

}  // namespace replproxy::proxy::test
