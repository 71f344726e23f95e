#pragma once

// One client connection and the backend connection(s) it uses. The session is an explicit stage
// machine: each stage says what it waits for next. The connection phase (greeting, TLS, login) is
// in client_session.cpp, the command phase (forwarding and streaming responses) in
// client_commands.cpp.
//
// The session keeps its own view of the client's login (user, schema, character set,
// capabilities) separate from any backend connection, so a session can later use several
// backends (primary and replicas) and lease them from a pool.

#include <memory>
#include <string>
#include <vector>

#include "protocol/handshake.h"
#include "protocol/response_tracker.h"
#include "proxy/backend_connection.h"
#include "proxy/runtime.h"
#include "proxy/stream.h"

namespace replproxy::proxy {

class Worker;

class ClientSession final : private Stream::Handler, private BackendConnection::Handler {
 public:
  enum class Stage {
    greeting,              // greeting sent; waiting for SSLRequest or HandshakeResponse
    tls_handshake,         // TLS handshake after an SSLRequest
    auth_switch,           // AuthSwitchRequest sent; waiting for the client's answer
    backend_login,         // client verified; logging in to the backend
    idle,                  // waiting for a command
    command_continuation,  // forwarding the rest of a command of 16 MiB or more
    forwarding,            // streaming the response back
    local_infile,          // forwarding LOAD DATA LOCAL file contents to the backend
    closing,
  };

  ClientSession(Worker& worker, uint32_t id);
  ~ClientSession() override;

  int accept(uv_stream_t* server);
  void start();
  // Graceful shutdown: close now if idle, else after the current response.
  void begin_shutdown();
  // Closes the client and its backends; the worker frees the session once all handles closed.
  void close(std::string_view reason);

  uint32_t id() const { return id_; }
  Stage stage() const { return stage_; }

 private:
  // Stream::Handler (the client's stream).
  void on_readable(Stream&) override;
  void on_tls_ready(Stream&) override;
  void on_write_done(Stream&) override;
  void on_stream_error(Stream&, std::string_view what) override;
  void on_closed(Stream&) override;

  // BackendConnection::Handler.
  void on_backend_ready(BackendConnection&, protocol::ByteView ok) override;
  void on_backend_failed(BackendConnection&, const protocol::ErrPacket& err) override;
  void on_backend_data(BackendConnection&) override;
  void on_backend_write_done(BackendConnection&) override;
  void on_backend_lost(BackendConnection&, std::string_view why) override;
  void on_backend_closed(BackendConnection&) override;

  // Connection phase (client_session.cpp).
  void send_greeting();
  void on_greeting_reply();
  void on_handshake_response(const protocol::HandshakeResponse& response);
  void on_auth_switch_reply();
  void verify_password(std::string_view response);
  void connect_backend();
  void deny_access();

  // Command phase (client_commands.cpp).
  void process_client_input();
  bool dispatch_command(protocol::ByteView frame_bytes, const protocol::Frame& frame);
  bool forward_command_continuation();
  void forward_local_infile();
  void forward_response();
  void handle_change_user(protocol::ByteView payload);
  void finish_command();
  void apply_backpressure();

  // Helpers.
  void send_err(uint16_t code, std::string_view sql_state, std::string_view message);
  void protocol_error(std::string_view what);
  void retire_backend();
  void release_if_closed();

  Worker& worker_;
  uint32_t id_;
  std::shared_ptr<const Runtime> runtime_;
  Stage stage_ = Stage::greeting;
  bool admitted_ = false;
  bool shutting_down_ = false;

  std::unique_ptr<Stream> client_;
  bool client_closed_ = false;
  std::string peer_;
  std::unique_ptr<BackendConnection> backend_;
  std::vector<std::unique_ptr<BackendConnection>> retiring_;

  // Connection phase.
  uint8_t sequence_id_ = 0;  // next sequence id towards the client
  std::string nonce_;
  uint64_t server_capabilities_ = 0;
  uint64_t client_capabilities_ = 0;
  uint8_t character_set_ = 0;
  std::string username_;
  std::string database_;
  std::vector<std::pair<std::string, std::string>> attributes_;
  const config::User* user_ = nullptr;
  protocol::Sha1Digest stage1_{};
  bool empty_password_ = false;
  bool changing_user_ = false;

  // Command phase.
  protocol::ResponseTracker tracker_;
  uint8_t last_response_sequence_id_ = 0;
};

}  // namespace replproxy::proxy
