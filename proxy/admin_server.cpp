#include "proxy/admin_server.h"

#include <spdlog/spdlog.h>

#include "protocol/commands.h"
#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/packet.h"
#include "protocol/resultset.h"
#include "proxy/log.h"
#include "proxy/packets.h"

namespace replproxy::proxy {
namespace {

namespace cap = protocol::cap;

// What the admin port offers: protocol 4.1 with plugin auth, CLIENT_DEPRECATE_EOF and connect
// attributes, so that every MySQL/MariaDB client and driver connects as to a server; no
// multi-statements (one admin command per query), no LOCAL INFILE, no compression.
constexpr uint64_t kAdminCapabilities =
    cap::kLongPassword | cap::kFoundRows | cap::kLongFlag | cap::kConnectWithDb |
    cap::kProtocol41 | cap::kInteractive | cap::kTransactions | cap::kSecureConnection |
    cap::kPluginAuth | cap::kConnectAttrs | cap::kPluginAuthLenencClientData |
    cap::kDeprecateEof | cap::kMultiResults;

// ER_PARSE_ERROR: what a server answers to a statement it cannot parse.
constexpr uint16_t kParseError = 1064;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = module_logger("admin");
  return logger;
}

std::vector<protocol::ColumnDefinition> column_definitions(const admin::Table& table) {
  std::vector<protocol::ColumnDefinition> columns;
  columns.reserve(table.columns.size());
  for (const std::string& name : table.columns) {
    columns.push_back({.table = "replproxy", .org_table = "replproxy", .name = name,
                       .org_name = name, .column_length = 1024});
  }
  return columns;
}

}  // namespace

AdminSession::AdminSession(AdminServer& server, uint32_t id)
    : server_(server), id_(id), runtime_(server.shared().runtime()) {
  stream_ = std::make_unique<Stream>(server_.loop(), static_cast<Stream::Handler&>(*this));
}

int AdminSession::accept(uv_stream_t* listener) { return stream_->accept_from(listener); }

void AdminSession::start() {
  peer_ = stream_->peer_address();
  stream_->set_nodelay();
  log()->debug("[admin {}] connection from {}", id_, peer_);
  send_greeting();
  stream_->start_reading();
}

void AdminSession::send_greeting() {
  const uint64_t capabilities = kAdminCapabilities | (runtime_->client_tls ? cap::kSsl : 0);
  stream_->write(handshake_.greeting(std::string("5.5.5-replproxy-") + REPLPROXY_VERSION + "-admin",
                                     id_, capabilities, sequence_id_));
}

void AdminSession::on_readable(Stream&) {
  switch (stage_) {
    case Stage::greeting:
      on_greeting_reply();
      return;
    case Stage::auth_switch:
      on_auth_switch_reply();
      return;
    case Stage::idle:
      process_commands();
      return;
    case Stage::tls_handshake:
    case Stage::closing:
      return;
  }
}

void AdminSession::on_greeting_reply() {
  protocol::HandshakeResponse response;
  switch (handshake_.read_reply(*stream_, sequence_id_, response)) {
    case ServerHandshake::Reply::incomplete:
      return;
    case ServerHandshake::Reply::malformed:
      protocol_error("malformed handshake response");
      return;
    case ServerHandshake::Reply::ssl_request:
      if (!runtime_->client_tls || stream_->tls_active()) {
        protocol_error("unexpected SSLRequest");
        return;
      }
      stage_ = Stage::tls_handshake;
      if (!stream_->start_tls_server(runtime_->client_tls.get())) {
        close("cannot start TLS");
      }
      return;
    case ServerHandshake::Reply::response:
      on_handshake_response(response);
      return;
  }
}

void AdminSession::on_handshake_response(const protocol::HandshakeResponse& response) {
  capabilities_ = response.capabilities & handshake_.capabilities();
  username_ = response.username;
  if (!(capabilities_ & cap::kProtocol41)) {
    send_err(protocol::errc::kHandshake, "08S01", "replproxy needs a client that speaks 4.1");
    close("client too old");
    return;
  }
  const std::string& plugin = response.auth_plugin_name;
  if (plugin.empty() || plugin == protocol::kNativePasswordPlugin) {
    verify_password(response.auth_response);
    return;
  }
  stream_->write(handshake_.auth_switch_request(sequence_id_));
  stage_ = Stage::auth_switch;
}

void AdminSession::on_tls_ready(Stream&) {
  if (stage_ != Stage::tls_handshake) {
    return;
  }
  stage_ = Stage::greeting;
  if (!stream_->input().empty()) {
    on_greeting_reply();
  }
}

void AdminSession::on_auth_switch_reply() {
  bool malformed = false;
  const auto response = handshake_.read_auth_switch_reply(*stream_, sequence_id_, malformed);
  if (malformed) {
    protocol_error("malformed auth switch response");
  } else if (response) {
    verify_password(*response);
  }
}

// Only [admin]'s account: application users cannot log in here.
void AdminSession::verify_password(std::string_view response) {
  empty_password_ = response.empty();
  const config::User& admin = runtime_->config->admin.user;
  const bool known = username_ == admin.name &&
                     protocol::native_password_verify(response, handshake_.nonce(), admin.password_stage2);
  if (!known) {
    const std::string host = peer_.substr(0, peer_.rfind(':'));
    log()->warn("[admin {}] access denied for user '{}' from {}", id_, username_, peer_);
    send_err(protocol::errc::kAccessDenied, "28000",
             "Access denied for user '" + username_ + "'@'" + host +
                 "' (using password: " + (empty_password_ ? "NO" : "YES") + ")");
    close("access denied");
    return;
  }
  log()->info("[admin {}] '{}' logged in from {}{}", id_, username_, peer_,
              stream_->tls_established() ? " (TLS)" : "");
  send_ok();
  stage_ = Stage::idle;
  process_commands();
}

void AdminSession::process_commands() {
  while (stage_ == Stage::idle) {
    auto packet = protocol::decode_packet(stream_->input(), 0);
    if (!packet) {
      if (packet.error() != protocol::CodecErrc::not_enough_input) {
        protocol_error("malformed command packet");
      }
      return;
    }
    const protocol::Bytes payload(packet->payload.begin(), packet->payload.end());
    stream_->consume(packet->consumed);
    sequence_id_ = static_cast<uint8_t>(packet->last_sequence_id + 1);
    if (!run_command(payload)) {
      return;
    }
  }
}

// False when the session ends.
bool AdminSession::run_command(protocol::ByteView payload) {
  if (payload.empty()) {
    protocol_error("empty command packet");
    return false;
  }
  switch (static_cast<protocol::Command>(payload[0])) {
    case protocol::Command::quit:
      close("client quit");
      return false;
    case protocol::Command::ping:
    case protocol::Command::init_db:
    case protocol::Command::reset_connection:
      send_ok();
      return true;
    case protocol::Command::query:
      run_query(protocol::as_chars(payload.subspan(1)));
      return true;
    default:
      send_err(protocol::errc::kUnknownCom, "08S01",
               std::string("replproxy admin: command ") +
                   std::string(protocol::command_name(payload[0])) +
                   " is not supported here; send admin commands as queries (HELP lists them)");
      return true;
  }
}

void AdminSession::run_query(std::string_view sql) {
  auto command = admin::parse_command(sql);
  if (!command) {
    log()->info("[admin {}] refused: {}", id_, std::string(sql.substr(0, 200)));
    send_err(kParseError, "42000", command.error());
    return;
  }
  log()->debug("[admin {}] {}", id_, std::string(sql.substr(0, 200)));
  send_reply(server_.service().execute(*command));
}

void AdminSession::send_reply(const AdminReply& reply) {
  switch (reply.kind) {
    case AdminReply::Kind::table: {
      protocol::Bytes out;
      sequence_id_ = protocol::encode_text_resultset(column_definitions(reply.table),
                                                     reply.table.rows, capabilities_,
                                                     protocol::status::kAutocommit, sequence_id_,
                                                     out);
      stream_->write(std::move(out));
      return;
    }
    case AdminReply::Kind::ok:
      send_ok(reply.message, reply.affected_rows);
      return;
    case AdminReply::Kind::error:
      send_err(reply.error_code, reply.sql_state, reply.message);
      return;
  }
}

void AdminSession::send_ok(std::string_view info, uint64_t affected) {
  protocol::OkPacket ok;
  ok.status_flags = protocol::status::kAutocommit;
  ok.affected_rows = affected;
  ok.info = std::string(info);
  protocol::Bytes out;
  const size_t begin = protocol::begin_packet(out);
  protocol::encode_ok(ok, capabilities_, out);
  sequence_id_ = protocol::finish_packet(out, begin, sequence_id_);
  stream_->write(std::move(out));
}

void AdminSession::send_err(uint16_t code, std::string_view sql_state, std::string_view message) {
  protocol::Bytes out;
  append_err(out, sequence_id_, code, sql_state, message,
             capabilities_ ? capabilities_ : cap::kProtocol41);
  sequence_id_ = static_cast<uint8_t>(sequence_id_ + 1);
  stream_->write(std::move(out));
}

void AdminSession::protocol_error(std::string_view what) {
  log()->warn("[admin {}] protocol error from {}: {}; closing", id_, peer_, what);
  close(what);
}

void AdminSession::on_stream_error(Stream&, std::string_view what) {
  log()->debug("[admin {}] {}: {}", id_, peer_, what);
  close(what);
}

void AdminSession::close(std::string_view reason) {
  if (stage_ == Stage::closing) {
    return;
  }
  log()->debug("[admin {}] closing: {}", id_, reason);
  stage_ = Stage::closing;
  stream_->close_after_flush();
}

void AdminSession::on_closed(Stream&) {
  server_.reap(this);  // frees this session: nothing may follow
}

AdminServer::AdminServer(uv_loop_t* loop, SharedState& shared, AdminService& service)
    : loop_(loop), shared_(shared), service_(service) {}

AdminServer::~AdminServer() = default;

std::expected<void, std::string> AdminServer::start() {
  const config::Address& listen = shared_.runtime()->config->admin.listen;
  sockaddr_storage addr{};
  if (uv_ip4_addr(listen.host.c_str(), listen.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(listen.host.c_str(), listen.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    return std::unexpected("[admin] listen: not an IP address: " + listen.host);
  }
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  listening_ = true;
  int rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 128, &AdminServer::on_connection);
  }
  if (rc != 0) {
    return std::unexpected("cannot listen on " + listen.to_string() + " ([admin]): " +
                           uv_strerror(rc));
  }
  log()->info("admin interface listening on {}", listen.to_string());
  return {};
}

void AdminServer::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<AdminServer*>(listener->data);
  if (status != 0 || self->closed_) {
    return;
  }
  auto session = std::make_unique<AdminSession>(*self, ++self->next_id_);
  AdminSession* raw = session.get();
  self->sessions_.emplace(raw, std::move(session));
  if (raw->accept(listener) != 0) {
    raw->close("accept failed");
    return;
  }
  raw->start();
}

void AdminServer::reap(AdminSession* session) { sessions_.erase(session); }

void AdminServer::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  if (listening_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  }
  std::vector<AdminSession*> open;
  for (auto& [raw, owned] : sessions_) {
    open.push_back(raw);
  }
  for (AdminSession* s : open) {
    s->close("shutting down");
  }
}

}  // namespace replproxy::proxy
