// The command phase of a ClientSession: commands from the client are forwarded to the backend
// frame by frame, and the response is streamed back as it arrives while the ResponseTracker
// follows its grammar to find where it ends. Nothing is buffered beyond one frame.

#include <spdlog/spdlog.h>

#include "proxy/log.h"

#include "protocol/commands.h"
#include "protocol/constants.h"
#include "protocol/packet.h"
#include "proxy/client_session.h"
#include "proxy/packets.h"
#include "proxy/worker.h"
#include "router/topology.h"

namespace replproxy::proxy {
namespace {

// Back-pressure: stop reading from one side while the other side's write queue is above the high
// mark, resume below the low mark.
constexpr size_t kHighWatermark = 4 * 1024 * 1024;
constexpr size_t kLowWatermark = 1 * 1024 * 1024;
// How much of a statement SHOW SESSIONS shows.
constexpr size_t kStatementShown = 1024;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = module_logger("session");
  return logger;
}

using protocol::Command;

// Commands the proxy refuses itself, as a server does for commands it does not know: they are
// replication or long-obsolete commands that make no sense through a client-facing proxy.
bool refused_command(uint8_t command) {
  switch (static_cast<Command>(command)) {
    case Command::sleep:
    case Command::connect:
    case Command::time:
    case Command::delayed_insert:
    case Command::binlog_dump:
    case Command::table_dump:
    case Command::connect_out:
    case Command::register_slave:
    case Command::daemon:
    case Command::binlog_dump_gtid:
      return true;
    default:
      return command > static_cast<uint8_t>(Command::reset_connection);
  }
}

}  // namespace

void ClientSession::process_client_input() {
  for (;;) {
    if (stage_ == Stage::command_continuation) {
      if (!forward_command_continuation()) {
        break;
      }
    } else if (stage_ == Stage::local_infile) {
      forward_local_infile();
      break;
    } else if (stage_ == Stage::idle) {
      auto decoded = protocol::decode_frame(client_->input());
      if (!decoded) {
        break;
      }
      if (!dispatch_command(decoded->frame)) {
        return;
      }
    } else {
      break;
    }
  }
  apply_backpressure();
}

// Handles the command frame at the front of the client's input. The frame stays there until it
// is forwarded (routing may first have to connect or prepare a backend connection). False when
// the caller must stop reading commands.
bool ClientSession::dispatch_command(const protocol::Frame& frame) {
  if (frame.sequence_id != 0) {
    protocol_error("command packet with sequence id " + std::to_string(frame.sequence_id));
    return false;
  }
  if (frame.payload.empty()) {
    protocol_error("empty command packet");
    return false;
  }
  const uint8_t command = frame.payload[0];
  const size_t frame_size = protocol::kFrameHeaderSize + frame.payload.size();
  if (command == static_cast<uint8_t>(Command::quit)) {
    client_->consume(frame_size);
    close("client quit");
    return false;
  }
  sequence_id_ = 1;
  if (command == static_cast<uint8_t>(Command::change_user)) {
    if (frame.continues()) {
      protocol_error("oversized COM_CHANGE_USER");
      return false;
    }
    const protocol::Bytes payload(frame.payload.begin(), frame.payload.end());
    client_->consume(frame_size);
    handle_change_user(payload);
    return false;
  }
  if (refused_command(command)) {
    log()->info("[conn {}] refused command {} (0x{:02x})", id_, protocol::command_name(command),
                command);
    client_->consume(frame_size);
    send_err(protocol::errc::kUnknownCom, "08S01", "Unknown command");
    return true;
  }
  effects_ = Effects{};
  causal_read_ = false;
  retryable_read_ = false;
  route_ = admin::Route::primary;
  command_started_ns_ = uv_hrtime();
  if (command == static_cast<uint8_t>(Command::query) ||
      command == static_cast<uint8_t>(Command::stmt_prepare)) {
    // assign() into the string's existing capacity: no allocation per query once warmed up.
    const auto text = protocol::as_chars(frame.payload.subspan(1));
    statement_.assign(text.substr(0, std::min<size_t>(text.size(), kStatementShown)));
  } else {
    statement_.assign(protocol::command_name(command));
  }
  if (worker_.shared().runtime_generation() != runtime_generation_) {
    adopt_runtime();
  }
  refresh_topology();
  drop_drained_links();
  if (transaction_lost_to_failover(frame_size)) {
    return true;
  }
  switch (static_cast<Command>(command)) {
    case Command::query:
    case Command::stmt_prepare:
      return route_query(frame, protocol::as_chars(frame.payload.subspan(1)), command);
    case Command::stmt_execute:
    case Command::stmt_fetch:
    case Command::stmt_send_long_data:
    case Command::stmt_close:
    case Command::stmt_reset:
      return route_statement_command(frame, command);
    case Command::init_db:
      effects_.history.emplace_back("use", protocol::Bytes(frame.payload.begin(),
                                                           frame.payload.end()));
      effects_.new_schema = std::string(protocol::as_chars(frame.payload.subspan(1)));
      break;
    case Command::set_option:
      effects_.history.emplace_back("set_option", protocol::Bytes(frame.payload.begin(),
                                                                  frame.payload.end()));
      break;
    case Command::reset_connection:
      effects_.reset_session = true;
      break;
    default:
      break;
  }
  // Every other command concerns the session's main connection: the primary.
  return route_to(router::TopologyView{topology_}.primary().value_or(0), nullptr);
}

// Forwards the command at the front of the client's input to the current backend connection.
void ClientSession::forward_command() {
  BackendConnection* backend = current_backend();
  auto input = client_->mutable_input();
  auto decoded = protocol::decode_frame(input);
  if (backend == nullptr || !decoded) {
    protocol_error("internal: no command to forward");
    return;
  }
  const protocol::Frame frame = decoded->frame;
  const uint8_t command = frame.payload[0];
  bump(worker_.stats().queries);
  count_forwarded();
  tracker_.set_capabilities(backend->capabilities());
  last_response_sequence_id_ = 0;
  std::span<uint8_t> bytes = input.first(decoded->consumed);
  if (retryable_read_ && !read_retried_ && !frame.continues()) {
    retry_command_.assign(bytes.begin(), bytes.end());
  } else {
    retry_command_.clear();
  }
  std::optional<protocol::Bytes> replacement = statement_payload_for(command, bytes);
  if (replacement) {
    tracker_.start(*replacement);
    protocol::Bytes framed;
    protocol::encode_packet(*replacement, 0, framed);
    backend->stream().write(std::move(framed));
  } else {
    tracker_.start(frame.payload);
    backend->stream().write(bytes);
  }
  const bool continues = frame.continues();
  client_->consume(decoded->consumed);
  if (continues) {
    // The rest of the command may already be buffered (the client sent it while this session
    // was connecting or preparing the backend): forward it now rather than wait for more input.
    stage_ = Stage::command_continuation;
    process_client_input();
    return;
  } else if (tracker_.expects_response()) {
    stage_ = Stage::forwarding;
  } else {
    finish_command();
    return;
  }
  apply_backpressure();
}

// Forwards one further frame of a command of 16 MiB or more; false when none is buffered yet.
bool ClientSession::forward_command_continuation() {
  auto decoded = protocol::decode_frame(client_->input());
  if (!decoded) {
    return false;
  }
  current_backend()->stream().write(client_->input().first(decoded->consumed));
  client_->consume(decoded->consumed);
  if (!decoded->frame.continues()) {
    if (tracker_.expects_response()) {
      stage_ = Stage::forwarding;
    } else {
      finish_command();
    }
  }
  return true;
}

// LOAD DATA LOCAL INFILE: the client sends the file as packets ending with an empty one; then the
// backend answers with OK or ERR, which the tracker is waiting for.
void ClientSession::forward_local_infile() {
  for (;;) {
    auto decoded = protocol::decode_frame(client_->input());
    if (!decoded) {
      break;
    }
    const bool last = decoded->frame.payload.empty();
    current_backend()->stream().write(client_->input().first(decoded->consumed));
    client_->consume(decoded->consumed);
    if (last) {
      stage_ = Stage::forwarding;
      break;
    }
  }
}

void ClientSession::on_backend_data(BackendConnection& backend) {
  const auto index = link_index(backend);
  if (stage_ == Stage::routing && running_step_ && index == running_step_->backend) {
    on_step_response();
    return;
  }
  if (stage_ == Stage::forwarding && index == current_) {
    forward_response();
    return;
  }
  if (stage_ == Stage::closing) {
    return;
  }
  // A server does not speak between commands except to say it is closing; the loss of the
  // connection that follows is handled in on_backend_lost.
  log()->debug("[conn {}] backend '{}' sent {} bytes between commands", id_,
               backend.backend().name, backend.stream().input().size());
  backend.stream().consume(backend.stream().input().size());
}

void ClientSession::forward_response() {
  Stream& from = current_backend()->stream();
  const std::span<uint8_t> input = from.mutable_input();
  size_t offset = 0;
  bool ended = false;
  while (offset < input.size()) {
    auto decoded = protocol::decode_frame(input.subspan(offset));
    if (!decoded) {
      break;
    }
    auto next = tracker_.feed(decoded->frame);
    if (!next) {
      bump(worker_.stats().protocol_errors);
      log()->error("[conn {}] backend '{}' sent a response replproxy cannot follow ({}); closing",
                   id_, current_backend()->backend().name, next.error().message());
      client_->write(input.first(offset));
      from.consume(offset);
      send_err(protocol::errc::kConnectionKilled, "70100",
               "replproxy: unexpected response from backend; connection closed");
      close("backend protocol error");
      return;
    }
    patch_response_frame(decoded->frame, input.subspan(offset, decoded->consumed));
    last_response_sequence_id_ = decoded->frame.sequence_id;
    offset += decoded->consumed;
    if (*next == protocol::ResponseTracker::Next::done) {
      ended = true;
      break;
    }
    if (*next == protocol::ResponseTracker::Next::send_local_infile) {
      stage_ = Stage::local_infile;
      break;
    }
  }
  if (offset > 0) {
    bump(worker_.stats().bytes_to_clients, offset);
    client_->write(input.first(offset));
    from.consume(offset);
  }
  if (ended) {
    finish_command();
    return;
  }
  if (stage_ == Stage::local_infile) {
    process_client_input();
    return;
  }
  apply_backpressure();
}

// The client knows a prepared statement by the proxy's id, not the backend's: PREPARE_OK is
// rewritten in place.
void ClientSession::patch_response_frame(const protocol::Frame& frame, std::span<uint8_t> bytes) {
  if (effects_.prepare_id == 0 || last_response_sequence_id_ != 0 || frame.payload.empty() ||
      frame.payload[0] != 0x00 || bytes.size() < protocol::kFrameHeaderSize + 5) {
    return;
  }
  prepare_backend_id_ = tracker_.summary().statement_id;
  rewrite_statement_id(bytes, effects_.prepare_id);
}

void ClientSession::finish_command() {
  stage_ = Stage::idle;
  if (command_started_ns_ != 0) {
    worker_.stats().observe_latency(uv_hrtime() - command_started_ns_);
    command_started_ns_ = 0;
  }
  read_retried_ = false;
  retry_command_.clear();
  apply_effects();
  if (shutting_down_) {
    close("shutting down");
    return;
  }
  BackendConnection* backend = current_backend();
  if (backend != nullptr && !backend->stream().input().empty()) {
    on_backend_data(*backend);
  }
  process_client_input();
}

BackendConnection* ClientSession::current_backend() {
  return current_ < links_.size() ? links_[current_].conn.get() : nullptr;
}

// Stops reading from a side whose output cannot keep up, and resumes when it drains.
void ClientSession::apply_backpressure() {
  if (stage_ == Stage::closing) {
    return;
  }
  const bool client_slow = client_->pending_write_bytes() > kHighWatermark;
  const bool client_fast = client_->pending_write_bytes() <= kLowWatermark;
  BackendConnection* backend = current_backend();
  if (backend != nullptr && backend->stage() == BackendConnection::Stage::ready) {
    Stream& b = backend->stream();
    if (client_slow && b.reading()) {
      b.stop_reading();
    } else if (client_fast && !b.reading()) {
      b.start_reading();
    }
  }
  const bool backend_slow =
      backend != nullptr && backend->stream().pending_write_bytes() > kHighWatermark;
  // The client may only send much while a command streams to the backend; elsewhere a full
  // frame is buffered and then reading pauses until the session gets to it.
  const bool buffered = client_->input().size() > protocol::kMaxFramePayload + 8;
  const bool waiting = stage_ == Stage::forwarding || stage_ == Stage::backend_login ||
                       stage_ == Stage::routing;
  if ((backend_slow || (waiting && buffered)) && client_->reading()) {
    client_->stop_reading();
  } else if (!backend_slow && !(waiting && buffered) && !client_->reading()) {
    client_->start_reading();
  }
}

// The client's queue drained: a backend paused by back-pressure may read again, whatever the
// stage (the response that filled the queue may have ended before it drained).
void ClientSession::on_write_done(Stream&) {
  BackendConnection* backend = current_backend();
  if (stage_ == Stage::closing || backend == nullptr ||
      client_->pending_write_bytes() > kLowWatermark ||
      backend->stage() != BackendConnection::Stage::ready || backend->stream().reading()) {
    return;
  }
  apply_backpressure();
  if (stage_ == Stage::forwarding && !backend->stream().input().empty()) {
    forward_response();
  }
}

void ClientSession::on_backend_write_done(BackendConnection&) {
  if (!client_->reading()) {
    apply_backpressure();
    process_client_input();
  }
}

void ClientSession::on_backend_lost(BackendConnection& backend, std::string_view why) {
  bump(worker_.stats().backend_lost);
  const auto index = link_index(backend);
  if (index && links_[*index].counters != nullptr) {
    bump(links_[*index].counters->errors);
  }
  const bool is_current = index == current_;
  const bool mid_command = is_current && (stage_ == Stage::forwarding ||
                                          stage_ == Stage::local_infile ||
                                          stage_ == Stage::command_continuation);
  const bool is_primary = index == router::TopologyView{topology_}.primary();
  log()->warn("[conn {}] lost backend '{}'{}: {}", id_, backend.backend().name,
              mid_command ? " during a command" : "", why);
  if (mid_command && stage_ == Stage::forwarding && retry_read(*index)) {
    return;
  }
  if (mid_command) {
    sequence_id_ = static_cast<uint8_t>(last_response_sequence_id_ + 1);
    send_err(protocol::errc::kConnectionKilled, "70100",
             "replproxy: lost connection to backend '" + backend.backend().name +
                 "' during query: " + std::string(why));
  }
  if (is_primary || !index || in_transaction_ || read_only_transaction_on_ == index) {
    // The session's primary connection holds its transaction and server-side state: the client
    // must see the loss, as with a direct connection.
    close("backend lost");
    return;
  }
  // A replica: the session carries on without it.
  mark_backend_down(*index);
  const bool routing_here =
      stage_ == Stage::routing && (is_current || (running_step_ && running_step_->backend == index));
  retire_link(*index);
  if (mid_command) {
    stage_ = Stage::idle;
    process_client_input();
  } else if (routing_here) {
    reroute_to_primary("backend '" + backend.backend().name + "' was lost");
  }
}

// An autocommit read whose replica failed before the client saw any byte of the result is sent
// once more, wherever routing now says (the failed replica is marked down). Never a write: a
// write is sent once.
bool ClientSession::retry_read(size_t backend) {
  if (retry_command_.empty() || last_response_sequence_id_ != 0 || in_transaction_) {
    return false;
  }
  log()->info("[conn {}] retrying the read on another backend", id_);
  bump(worker_.stats().reads_retried);
  mark_backend_down(backend);
  retire_link(backend);
  client_->unconsume(retry_command_);
  retry_command_.clear();
  read_retried_ = true;
  stage_ = Stage::idle;
  route_again("the replica failed before the result began");
  return true;
}

// COM_CHANGE_USER: the proxy checks the new credentials itself, then logs in to the backend as
// the new user on a fresh connection, which resets the session exactly as the command does.
void ClientSession::handle_change_user(protocol::ByteView payload) {
  auto request = protocol::decode_com_change_user(payload, client_capabilities_);
  if (!request) {
    protocol_error("malformed COM_CHANGE_USER");
    return;
  }
  // A new login resets everything the session had: it starts over on a fresh primary
  // connection, as the command does on a server.
  retire_all_links();
  history_.clear();
  statements_.clear();
  temp_tables_.clear();
  table_locks_ = false;
  pinned_to_primary_ = false;
  in_transaction_ = false;
  transaction_backend_.reset();
  autocommit_ = true;
  read_only_transaction_on_.reset();
  username_ = request->username;
  database_ = request->schema;
  schema_ = database_;
  if (request->character_set != 0) {
    character_set_ = static_cast<uint8_t>(request->character_set);
  }
  if (!request->attributes.empty()) {
    attributes_ = request->attributes;
  }
  user_ = find_user(*runtime_->config, username_);
  const std::string& plugin = request->auth_plugin_name;
  if (plugin.empty() || plugin == protocol::kNativePasswordPlugin) {
    verify_password(request->auth_response);
    return;
  }
  client_->write(handshake_.auth_switch_request(sequence_id_));
  stage_ = Stage::auth_switch;
}

}  // namespace replproxy::proxy
