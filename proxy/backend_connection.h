#pragma once

// A connection from the proxy to one backend server. It logs in on its own (resolve, connect,
// greeting, optional TLS, authentication) as an explicit stage machine, then hands its stream to
// the session that owns it, which forwards commands and reads responses.

#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "protocol/auth.h"
#include "protocol/generic.h"
#include "proxy/stream.h"

namespace replproxy::proxy {

// Who to log in as. The proxy knows SHA1(password) (stage1) from the client's own login, which is
// all mysql_native_password needs; the plaintext is there only when the config has it.
struct BackendLogin {
  std::string username;
  protocol::Sha1Digest stage1{};
  bool empty_password = false;
  std::optional<std::string> password;
  std::string database;
  uint8_t character_set = 0;
  uint64_t client_capabilities = 0;  // what the client negotiated with the proxy
  std::vector<std::pair<std::string, std::string>> attributes;
};

class BackendConnection final : private Stream::Handler {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Logged in; `ok` is the server's OK payload.
    virtual void on_backend_ready(BackendConnection&, protocol::ByteView ok) = 0;
    // Login failed: the server's ERR or one the proxy made up (connect refused, timeout, TLS).
    virtual void on_backend_failed(BackendConnection&, const protocol::ErrPacket& err) = 0;
    // Ready, and new bytes are in stream().input().
    virtual void on_backend_data(BackendConnection&) = 0;
    virtual void on_backend_write_done(BackendConnection&) {}
    // The connection broke after login.
    virtual void on_backend_lost(BackendConnection&, std::string_view why) = 0;
    // Every handle is closed; the owner frees the object now.
    virtual void on_backend_closed(BackendConnection&) = 0;
  };

  // `failed`: login failed and was reported; nothing more is read or sent, the owner closes.
  enum class Stage {
    idle,
    resolving,
    connecting,
    greeting,
    tls_handshake,
    auth,
    ready,
    failed,
    closing
  };

  BackendConnection(uv_loop_t* loop, Handler& handler, uint32_t connection_id,
                    const config::Backend& backend, SSL_CTX* tls, BackendLogin login);
  ~BackendConnection() override;

  void start(uint32_t timeout_ms);
  // Sends COM_QUIT when logged in (so the server does not count an aborted connection), then
  // closes; closes at once otherwise.
  void quit();
  void close();

  Stage stage() const { return stage_; }
  Stream& stream() { return *stream_; }
  const config::Backend& backend() const { return backend_; }
  uint64_t capabilities() const { return capabilities_; }
  const std::string& server_version() const { return server_version_; }
  uint32_t server_thread_id() const { return server_thread_id_; }

 private:
  // Stream::Handler
  void on_connected(Stream&, int status) override;
  void on_readable(Stream&) override;
  void on_tls_ready(Stream&) override;
  void on_write_done(Stream&) override;
  void on_stream_error(Stream&, std::string_view what) override;
  void on_closed(Stream&) override;

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_timeout(uv_timer_t* timer);
  static void on_timer_closed(uv_handle_t* handle);

  void connect_to(const sockaddr* addr);
  void on_greeting(protocol::ByteView payload);
  void send_handshake_response();
  void on_auth_packet(protocol::ByteView payload);
  void on_auth_switch(protocol::ByteView payload);
  void fail_login(uint16_t code, std::string_view sql_state, const std::string& message);
  void fail_login(const protocol::ErrPacket& err);
  void release_if_closed();

  uv_loop_t* loop_;
  Handler& handler_;
  uint32_t connection_id_;
  config::Backend backend_;
  SSL_CTX* tls_;
  BackendLogin login_;
  Stage stage_ = Stage::idle;

  std::unique_ptr<Stream> stream_;
  uv_timer_t timer_;
  uv_getaddrinfo_t resolve_req_;
  bool resolving_ = false;
  bool stream_closed_ = false;
  bool timer_closed_ = false;

  uint8_t sequence_id_ = 0;
  std::string nonce_;
  uint64_t server_capabilities_ = 0;
  uint64_t capabilities_ = 0;
  std::string server_version_;
  uint32_t server_thread_id_ = 0;
};

}  // namespace replproxy::proxy
