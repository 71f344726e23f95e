#pragma once

// One client connection and the backend connections it uses: at most one per backend, opened
// lazily. The session is an explicit stage machine: each stage says what it waits for next.
//   client_session.cpp    connection phase: greeting, TLS, authentication, primary login
//   client_commands.cpp   command phase: dispatch, forwarding, streaming, back-pressure
//   client_routing.cpp    where a command runs: classification, routing, preparing a backend
//                         connection (login, session-state replay, causal-read wait)
//   client_statements.cpp prepared statements: one client id, one id per backend connection
//   client_control.cpp    what the admin interface sees and does: session info, KILL, draining,
//                         taking a reloaded config between commands, per-backend counters
//
// The session's own state (user, schema, session-state history, prepared statements,
// transaction state) is kept apart from the backend connections, so that any connection can be
// brought to it, and so that connections can later be pooled.

#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "admin/metrics.h"
#include "admin/results.h"
#include "protocol/handshake.h"
#include "protocol/response_tracker.h"
#include "proxy/backend_connection.h"
#include "proxy/runtime.h"
#include "proxy/server_handshake.h"
#include "proxy/session_state.h"
#include "proxy/stream.h"
#include "router/classifier.h"
#include "router/decide.h"
#include "router/topology.h"

namespace replproxy::proxy {

class Worker;

// The config's account by name, as a copy (see ClientSession::user_).
std::optional<config::User> find_user(const config::Config& config, std::string_view name);

class ClientSession final : private Stream::Handler, private BackendConnection::Handler {
 public:
  enum class Stage {
    greeting,              // greeting sent; waiting for SSLRequest or HandshakeResponse
    tls_handshake,         // TLS handshake after an SSLRequest
    auth_switch,           // AuthSwitchRequest sent; waiting for the client's answer
    backend_login,         // client verified; logging in to the primary
    idle,                  // waiting for a command
    routing,               // the command waits for its backend connection to be ready
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

  // For the admin interface, on the worker's loop thread.
  admin::SessionInfo info() const;
  // KILL SESSION: closes the client and its backend connections at once.
  void kill();
  // SET BACKEND ... MAINTENANCE drains a backend: an idle session lets go of its connection to
  // it unless that connection holds the session's transaction or server-side state.
  void drop_idle_link(std::string_view backend);

 private:
  // A backend connection of this session and how far it follows the session's state.
  struct Link {
    std::unique_ptr<BackendConnection> conn;
    uint64_t history_applied = 0;  // SessionHistory sequence replayed on it
    uint64_t causal_synced = 0;    // write_sequence_ it is known to have applied
    bool tracks_gtid = false;      // session_track_system_variables includes last_gtid
    bool gtid_tracking_tried = false;
    bool unusable = false;         // could not be brought to the session's state
    BackendCounters* counters = nullptr;  // the worker's counters for this backend
    bool ready() const {
      return conn && conn->stage() == BackendConnection::Stage::ready;
    }
  };

  // An internal command run on a backend connection before the client's command; its response
  // is consumed by the proxy.
  struct Step {
    enum class Kind { replay, track_gtid, fetch_gtid, causal_wait, prepare };
    Kind kind;
    size_t backend;
    protocol::Bytes payload;
    uint64_t history_sequence = 0;  // replay: the entry's sequence
    uint32_t statement_id = 0;      // prepare: the client's id
  };

  // What the command being routed or forwarded will change in the session once it succeeds.
  // Owned copies: the classification borrows from the client's input buffer.
  struct Effects {
    std::vector<std::pair<std::string, protocol::Bytes>> history;  // key, payload to replay
    std::vector<std::string> temp_tables_created;
    std::vector<std::string> tables_dropped;
    router::TableLocks table_locks = router::TableLocks::none;
    bool write = false;           // not a read: a write, DDL, transaction control...
    bool begin_read_only = false;  // START TRANSACTION READ ONLY
    bool reset_session = false;   // COM_RESET_CONNECTION
    uint32_t prepare_id = 0;      // COM_STMT_PREPARE: the client id given on success
    std::string prepare_sql;
    bool prepare_read = false;
    uint32_t statement_id = 0;    // COM_STMT_*: the client's statement id
    std::string new_schema;       // USE db
    bool pin_to_primary = false;  // a SET whose value cannot be replayed elsewhere
  };

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
  void login_primary();
  void deny_access();
  BackendLogin make_login() const;

  // Command phase (client_commands.cpp).
  void process_client_input();
  bool dispatch_command(const protocol::Frame& frame);
  void forward_command();
  bool forward_command_continuation();
  void forward_local_infile();
  void forward_response();
  void patch_response_frame(const protocol::Frame& frame, std::span<uint8_t> bytes);
  void handle_change_user(protocol::ByteView payload);
  void finish_command();
  void apply_effects();
  void apply_backpressure();
  BackendConnection* current_backend();

  // Routing (client_routing.cpp).
  bool route_query(const protocol::Frame& frame, std::string_view sql, uint8_t command);
  bool route_to(size_t backend, const router::Classification* statement);
  void record_effects(const router::Classification& c, protocol::ByteView payload);
  void prepare_link();
  void plan_steps(size_t backend);
  void run_next_step();
  void on_step_response();
  bool complete_step(const Step& step, const protocol::ResponseSummary& summary);
  void apply_success_effects();
  void reset_session_state();
  void step_failed(const Step& step, std::string_view why);
  void reroute_to_primary(std::string_view why);
  void route_again(std::string_view why);
  void reroute(bool to_primary);
  bool transaction_lost_to_failover(size_t frame_size);
  bool is_retryable_read(const router::Target& target, const router::Classification& c) const;
  bool retry_read(size_t backend);
  void connect_link(size_t backend);
  void mark_backend_down(size_t backend);
  void refresh_topology();
  void adopt_runtime();
  void drop_drained_links();
  bool link_holds_state(size_t backend) const;
  std::string pinned_reason() const;
  void count_route(const router::Target& target, bool read);
  void count_forwarded();
  router::SessionView session_view() const;
  std::optional<size_t> link_index(const BackendConnection& conn) const;
  void retire_link(size_t backend);
  void learn_gtid(const protocol::ResponseSummary& summary);

  // Prepared statements (client_statements.cpp).
  bool route_statement_command(const protocol::Frame& frame, uint8_t command);
  void rewrite_statement_id(std::span<uint8_t> frame_bytes, uint32_t id);
  void close_statement(uint32_t client_id);
  void plan_statement_steps(size_t backend);
  std::optional<protocol::Bytes> statement_payload_for(uint8_t command, std::span<uint8_t> bytes);

  // Helpers.
  void send_err(uint16_t code, std::string_view sql_state, std::string_view message);
  void send_ok();
  void protocol_error(std::string_view what);
  void retire_all_links();
  void release_if_closed();

  Worker& worker_;
  uint32_t id_;
  std::shared_ptr<const Runtime> runtime_;
  uint64_t runtime_generation_ = 0;  // SharedState::runtime_generation() of runtime_
  Stage stage_ = Stage::greeting;
  bool admitted_ = false;
  bool shutting_down_ = false;

  std::unique_ptr<Stream> client_;
  bool client_closed_ = false;
  std::string peer_;
  std::vector<Link> links_;  // by backend index in runtime_->config->backends
  std::vector<std::unique_ptr<BackendConnection>> retiring_;

  // Connection phase.
  uint8_t sequence_id_ = 0;  // next sequence id towards the client
  ServerHandshake handshake_;
  uint64_t client_capabilities_ = 0;
  uint8_t character_set_ = 0;
  std::string username_;
  std::string database_;
  std::vector<std::pair<std::string, std::string>> attributes_;
  // A copy, so that a reload that changes or removes the user does not pull it from under a
  // logged-in session (which keeps working, as on a server where the account is dropped).
  std::optional<config::User> user_;
  protocol::Sha1Digest stage1_{};
  bool empty_password_ = false;

  // Session state, independent of backend connections.
  SessionHistory history_;
  PreparedStatements statements_;
  std::vector<router::BackendView> topology_;
  std::vector<uint8_t> in_maintenance_;  // by backend index, from the last refresh_topology()
  router::ReplicaBalancer balancer_;
  bool in_transaction_ = false;
  std::optional<size_t> transaction_backend_;  // the backend holding the open transaction
  bool autocommit_ = true;
  std::optional<size_t> read_only_transaction_on_;
  std::set<std::string> temp_tables_;
  bool table_locks_ = false;
  bool pinned_to_primary_ = false;
  bool has_written_ = false;
  std::optional<size_t> last_backend_;
  std::string schema_;          // the current default schema
  bool force_primary_ = false;  // the command is being routed again, to the primary
  // Read-your-writes: the GTID of the session's last write, and a counter of writes so a replica
  // connection knows whether it has waited for the latest one.
  std::string last_gtid_;
  uint64_t write_sequence_ = 0;
  bool gtid_unknown_ = false;

  // The command in flight.
  size_t current_ = 0;  // backend index serving it
  admin::Route route_ = admin::Route::primary;
  uint64_t command_started_ns_ = 0;  // uv_hrtime() at its arrival; 0 between commands
  std::string statement_;            // its text (or command name), truncated, for SHOW SESSIONS
  Effects effects_;
  std::deque<Step> steps_;
  bool steps_planned_ = false;
  // The current command is an autocommit read on a replica: if that replica fails before any
  // byte of the result reached the client, it is retried once elsewhere ([routing] retry_reads).
  bool retryable_read_ = false;
  bool read_retried_ = false;     // the current command is that retry
  protocol::Bytes retry_command_;  // the command's frame as the client sent it, for the retry
  bool causal_read_ = false;  // the current command is a read that must see the session's writes
  std::optional<Step> running_step_;
  std::vector<protocol::Bytes> step_frames_;  // payloads of the running step's response
  bool causal_fallback_ = false;
  protocol::ResponseTracker tracker_;
  uint8_t last_response_sequence_id_ = 0;
  uint32_t prepare_backend_id_ = 0;  // COM_STMT_PREPARE: the backend's id from PREPARE_OK
};

}  // namespace replproxy::proxy
