// Prepared statements across backend connections. The client sees one statement id (the
// proxy's); each backend connection that runs the statement prepares it lazily and has its own
// id, which the proxy writes into each command in place. An execute of a read goes round-robin
// like a text read; fetch and reset follow their execute; long data goes to the primary, and so
// does the execute that uses it; close reaches every connection that prepared the statement.

#include <spdlog/spdlog.h>

#include "protocol/constants.h"
#include "protocol/packet.h"
#include "proxy/client_session.h"
#include "proxy/log.h"
#include "proxy/worker.h"
#include "router/decide.h"

namespace replproxy::proxy {
namespace {

using protocol::Command;

constexpr uint16_t kUnknownStatement = 1243;  // ER_UNKNOWN_STMT_HANDLER

uint32_t read_u32(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint32_t>(b[at]) | static_cast<uint32_t>(b[at + 1]) << 8 |
         static_cast<uint32_t>(b[at + 2]) << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}

}  // namespace

// Writes `id` over the statement id that follows the frame header and the first payload byte
// (the command byte of COM_STMT_*, or the 0x00 header of PREPARE_OK).
void ClientSession::rewrite_statement_id(std::span<uint8_t> frame_bytes, uint32_t id) {
  const size_t at = protocol::kFrameHeaderSize + 1;
  for (size_t i = 0; i < 4; ++i) {
    frame_bytes[at + i] = static_cast<uint8_t>(id >> (8 * i));
  }
}

bool ClientSession::route_statement_command(const protocol::Frame& frame, uint8_t command) {
  const size_t frame_size = protocol::kFrameHeaderSize + frame.payload.size();
  if (frame.payload.size() < 5) {
    protocol_error("statement command too short");
    return false;
  }
  const uint32_t client_id = read_u32(frame.payload, 1);
  PreparedStatement* statement = statements_.find(client_id);
  const auto cmd = static_cast<Command>(command);
  if (cmd == Command::stmt_close) {
    client_->consume(frame_size);
    close_statement(client_id);
    return true;
  }
  if (statement == nullptr) {
    client_->consume(frame_size);
    if (cmd != Command::stmt_send_long_data) {
      send_err(kUnknownStatement, "HY000",
               "Unknown prepared statement handler (" + std::to_string(client_id) + ") given to " +
                   std::string(protocol::command_name(command)));
    }
    return true;
  }
  effects_.statement_id = client_id;
  const size_t primary = router::TopologyView{topology_}.primary().value_or(0);
  switch (cmd) {
    case Command::stmt_send_long_data:
      statement->has_long_data = true;
      return route_to(primary, nullptr);
    case Command::stmt_fetch:
    case Command::stmt_reset: {
      const size_t backend = statement->last_execute_backend.value_or(primary);
      if (cmd == Command::stmt_reset) {
        statement->has_long_data = false;
      }
      if (!statement->backends.contains(backend) || !links_[backend].ready()) {
        client_->consume(frame_size);
        if (cmd == Command::stmt_reset) {
          send_ok();  // nothing to reset where it never ran
        } else {
          send_err(kUnknownStatement, "HY000", "The statement has no open cursor to fetch from");
        }
        return true;
      }
      return route_to(backend, nullptr);
    }
    default:
      break;
  }
  // COM_STMT_EXECUTE: route like the statement's text.
  const router::Classification c = router::classify(statement->sql);
  router::Target target = router::decide(c, session_view(), router::TopologyView{topology_},
                                         runtime_->config->routing, runtime_->rules, balancer_);
  count_route(target, c.is_read());
  if (target.is_error()) {
    client_->consume(frame_size);
    send_err(target.error_code, target.sql_state, target.message);
    return true;
  }
  size_t backend = target.backend;
  if (statement->has_long_data || frame.continues()) {
    // Long data was sent to the primary; a 16 MiB execute is forwarded as it streams, without
    // rewriting its parameter types.
    backend = statement->has_long_data ? primary : statement->last_execute_backend.value_or(primary);
  }
  record_effects(c, frame.payload);
  if (!effects_.history.empty()) {
    // A prepared SET or USE cannot be replayed by statement id elsewhere.
    effects_.history.clear();
    effects_.pin_to_primary = true;
  }
  if (backend != target.backend) {
    route_ = router::TopologyView{topology_}.primary() == backend ? admin::Route::primary
                                                                  : admin::Route::replica;
  }
  causal_read_ = target.causal_read && backend == target.backend;
  retryable_read_ = backend == target.backend && is_retryable_read(target, c);
  return route_to(backend, nullptr);
}

// Statement steps for the command being routed: prepare the statement on `backend` first when it
// has never run there.
void ClientSession::plan_statement_steps(size_t backend) {
  if (effects_.statement_id == 0) {
    return;
  }
  PreparedStatement* statement = statements_.find(effects_.statement_id);
  if (statement == nullptr || statement->backends.contains(backend)) {
    return;
  }
  protocol::Bytes payload;
  payload.push_back(static_cast<uint8_t>(Command::stmt_prepare));
  payload.insert(payload.end(), statement->sql.begin(), statement->sql.end());
  steps_.push_back(Step{Step::Kind::prepare, backend, std::move(payload), 0, effects_.statement_id});
}

// Rewrites the statement command at the front of the client's input for the current backend:
// the statement id in place, and for an execute that relies on types this connection has not
// seen, a new payload that binds them. Returns that new payload, if any.
std::optional<protocol::Bytes> ClientSession::statement_payload_for(uint8_t command,
                                                                    std::span<uint8_t> bytes) {
  if (effects_.statement_id == 0) {
    return std::nullopt;
  }
  PreparedStatement* statement = statements_.find(effects_.statement_id);
  if (statement == nullptr) {
    return std::nullopt;
  }
  auto on = statement->backends.find(current_);
  if (on == statement->backends.end()) {
    return std::nullopt;
  }
  rewrite_statement_id(bytes, on->second.id);
  if (static_cast<Command>(command) != Command::stmt_execute) {
    return std::nullopt;
  }
  statement->last_execute_backend = current_;
  const protocol::ByteView payload = bytes.subspan(protocol::kFrameHeaderSize);
  auto params = parse_execute_parameters(payload, statement->num_params);
  if (!params || statement->num_params == 0) {
    return std::nullopt;
  }
  if (params->new_params_bound) {
    const protocol::ByteView types =
        payload.subspan(params->types_offset, 2 * size_t{statement->num_params});
    if (!std::equal(types.begin(), types.end(), statement->param_types.begin(),
                    statement->param_types.end())) {
      statement->param_types.assign(types.begin(), types.end());
      ++statement->types_version;
    }
    on->second.types_version = statement->types_version;
    return std::nullopt;
  }
  if (on->second.types_version == statement->types_version ||
      statement->param_types.empty()) {
    return std::nullopt;
  }
  on->second.types_version = statement->types_version;
  return bind_execute_types(payload, statement->num_params, statement->param_types);
}

// COM_STMT_CLOSE has no response: close it on every connection that prepared it.
void ClientSession::close_statement(uint32_t client_id) {
  PreparedStatement* statement = statements_.find(client_id);
  if (statement == nullptr) {
    return;
  }
  for (const auto& [backend, on] : statement->backends) {
    if (!links_[backend].ready()) {
      continue;
    }
    protocol::Bytes payload{static_cast<uint8_t>(Command::stmt_close)};
    for (size_t i = 0; i < 4; ++i) {
      payload.push_back(static_cast<uint8_t>(on.id >> (8 * i)));
    }
    protocol::Bytes framed;
    protocol::encode_packet(payload, 0, framed);
    links_[backend].conn->stream().write(std::move(framed));
  }
  statements_.remove(client_id);
}

}  // namespace replproxy::proxy
