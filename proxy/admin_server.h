#pragma once

// The admin SQL interface's sockets: a listener on the control loop (main's loop, which also
// handles the signals, so RELOAD CONFIG and SIGHUP never race) and one AdminSession per
// connection. A session speaks the server side of the MySQL protocol: greeting (TLS when [proxy]
// has a certificate), mysql_native_password against [admin]'s account only, then COM_QUERY with
// the admin grammar (admin/command.h), COM_PING, COM_INIT_DB and COM_QUIT. What a command does
// is the AdminService's business.

#include <uv.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <unordered_map>

#include "admin/command.h"
#include "admin/results.h"
#include "proxy/runtime.h"
#include "proxy/server_handshake.h"
#include "proxy/stream.h"

namespace replproxy::proxy {

// The answer to one admin command: a result set, an OK with a message, or an ERR.
struct AdminReply {
  enum class Kind { table, ok, error };
  Kind kind = Kind::ok;
  admin::Table table;
  std::string message;  // ok: the info text; error: the message
  uint16_t error_code = 0;
  std::string sql_state = "HY000";
  uint64_t affected_rows = 0;

  static AdminReply rows(admin::Table table) {
    return {.kind = Kind::table, .table = std::move(table)};
  }
  static AdminReply ok(std::string message, uint64_t affected = 0) {
    return {.kind = Kind::ok, .message = std::move(message), .affected_rows = affected};
  }
  static AdminReply error(uint16_t code, std::string message, std::string sql_state = "HY000") {
    return {.kind = Kind::error,
            .message = std::move(message),
            .error_code = code,
            .sql_state = std::move(sql_state)};
  }
};

class AdminService {
 public:
  virtual ~AdminService() = default;
  // Runs one parsed command, on the control loop's thread.
  virtual AdminReply execute(const admin::Command& command) = 0;
};

class AdminServer;

class AdminSession final : private Stream::Handler {
 public:
  enum class Stage { greeting, tls_handshake, auth_switch, idle, closing };

  AdminSession(AdminServer& server, uint32_t id);

  int accept(uv_stream_t* listener);
  void start();
  void close(std::string_view reason);

 private:
  void on_readable(Stream&) override;
  void on_tls_ready(Stream&) override;
  void on_stream_error(Stream&, std::string_view what) override;
  void on_closed(Stream&) override;

  void send_greeting();
  void on_greeting_reply();
  void on_handshake_response(const protocol::HandshakeResponse& response);
  void on_auth_switch_reply();
  void verify_password(std::string_view response);
  void process_commands();
  bool run_command(protocol::ByteView payload);
  void run_query(std::string_view sql);
  void send_reply(const AdminReply& reply);
  void send_ok(std::string_view info = {}, uint64_t affected = 0);
  void send_err(uint16_t code, std::string_view sql_state, std::string_view message);
  void protocol_error(std::string_view what);

  AdminServer& server_;
  uint32_t id_;
  std::shared_ptr<const Runtime> runtime_;
  std::unique_ptr<Stream> stream_;
  std::string peer_;
  Stage stage_ = Stage::greeting;
  uint8_t sequence_id_ = 0;
  ServerHandshake handshake_;
  uint64_t capabilities_ = 0;
  std::string username_;
  bool empty_password_ = false;
};

class AdminServer {
 public:
  AdminServer(uv_loop_t* loop, SharedState& shared, AdminService& service);
  ~AdminServer();

  // Binds [admin] listen of the running config.
  std::expected<void, std::string> start();
  // Closes the listener and every session; the loop may then end.
  void close();

  uv_loop_t* loop() { return loop_; }
  SharedState& shared() { return shared_; }
  AdminService& service() { return service_; }
  // Called by a session once its stream is closed; frees it.
  void reap(AdminSession* session);

 private:
  static void on_connection(uv_stream_t* listener, int status);

  uv_loop_t* loop_;
  SharedState& shared_;
  AdminService& service_;
  uv_tcp_t listener_;
  bool listening_ = false;
  bool closed_ = false;
  uint32_t next_id_ = 0;
  std::unordered_map<AdminSession*, std::unique_ptr<AdminSession>> sessions_;
};

}  // namespace replproxy::proxy
