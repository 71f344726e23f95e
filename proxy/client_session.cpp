#include "proxy/client_session.h"


#include <algorithm>
#include <spdlog/spdlog.h>

#include "proxy/log.h"

#include "protocol/constants.h"
#include "protocol/packet.h"
#include "router/topology.h"
#include "proxy/packets.h"
#include "proxy/worker.h"

namespace replproxy::proxy {
namespace {

namespace cap = protocol::cap;

// What the proxy offers clients. It leaves out compression, query attributes, optional metadata
// and MariaDB's extended capabilities (see backend_connection.cpp), and CLIENT_MYSQL (bit 0) so
// MariaDB clients recognise a MariaDB server; CLIENT_SSL is added when TLS is configured.
constexpr uint64_t kServerCapabilities =
    cap::kFoundRows | cap::kLongFlag | cap::kConnectWithDb | cap::kNoSchema | cap::kOdbc |
    cap::kLocalFiles | cap::kIgnoreSpace | cap::kProtocol41 | cap::kInteractive |
    cap::kIgnoreSigpipe | cap::kTransactions | cap::kReserved | cap::kSecureConnection |
    cap::kMultiStatements | cap::kMultiResults | cap::kPsMultiResults | cap::kPluginAuth |
    cap::kConnectAttrs | cap::kPluginAuthLenencClientData | cap::kCanHandleExpiredPasswords |
    cap::kSessionTrack | cap::kDeprecateEof;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = module_logger("session");
  return logger;
}

}  // namespace

std::optional<config::User> find_user(const config::Config& config, std::string_view name) {
  const config::User* user = config.find_user(name);
  return user ? std::optional(*user) : std::nullopt;
}

ClientSession::ClientSession(Worker& worker, uint32_t id)
    : worker_(worker),
      id_(id),
      runtime_(worker.shared().runtime()),
      runtime_generation_(worker.shared().runtime_generation()),
      history_(runtime_->config->routing.max_session_history) {
  client_ = std::make_unique<Stream>(worker_.loop(), static_cast<Stream::Handler&>(*this));
  links_.resize(runtime_->config->backends.size());
  refresh_topology();
}

ClientSession::~ClientSession() {
  if (admitted_) {
    worker_.shared().release();
  }
}

int ClientSession::accept(uv_stream_t* server) { return client_->accept_from(server); }

void ClientSession::start() {
  peer_ = client_->peer_address();
  client_->set_nodelay();
  const auto& proxy = runtime_->config->proxy;
  if (!worker_.shared().try_admit(proxy.max_connections)) {
    bump(worker_.stats().connections_refused);
    log()->warn("[conn {}] refused {}: max_connections ({}) reached", id_, peer_,
                proxy.max_connections);
    send_err(protocol::errc::kConCount, "08004", "Too many connections");
    close("max_connections reached");
    return;
  }
  admitted_ = true;
  bump(worker_.stats().connections_accepted);
  log()->debug("[conn {}] accepted from {}", id_, peer_);
  send_greeting();
  client_->start_reading();
}

void ClientSession::send_greeting() {
  const uint64_t capabilities = kServerCapabilities | (runtime_->client_tls ? cap::kSsl : 0);
  client_->write(handshake_.greeting(*worker_.shared().server_version(), id_, capabilities,
                                     sequence_id_));
}

void ClientSession::on_readable(Stream&) {
  switch (stage_) {
    case Stage::greeting:
      on_greeting_reply();
      return;
    case Stage::auth_switch:
      on_auth_switch_reply();
      return;
    case Stage::idle:
    case Stage::command_continuation:
    case Stage::local_infile:
      process_client_input();
      return;
    case Stage::tls_handshake:
    case Stage::backend_login:
    case Stage::routing:
    case Stage::forwarding:
      // Kept until the stage that reads it; a client does not send much here.
      apply_backpressure();
      return;
    case Stage::closing:
      return;
  }
}

void ClientSession::on_greeting_reply() {
  protocol::HandshakeResponse response;
  switch (handshake_.read_reply(*client_, sequence_id_, response)) {
    case ServerHandshake::Reply::incomplete:
      return;
    case ServerHandshake::Reply::malformed:
      protocol_error("malformed handshake response");
      return;
    case ServerHandshake::Reply::ssl_request:
      if (!runtime_->client_tls || client_->tls_active()) {
        protocol_error("unexpected SSLRequest");
        return;
      }
      stage_ = Stage::tls_handshake;
      if (!client_->start_tls_server(runtime_->client_tls.get())) {
        close("cannot start TLS");
      }
      return;
    case ServerHandshake::Reply::response:
      on_handshake_response(response);
      return;
  }
}

void ClientSession::on_tls_ready(Stream&) {
  if (stage_ != Stage::tls_handshake) {
    return;
  }
  log()->debug("[conn {}] TLS established ({}, {})", id_, client_->tls_version(),
               client_->tls_cipher());
  stage_ = Stage::greeting;
  if (!client_->input().empty()) {
    on_greeting_reply();
  }
}

void ClientSession::on_handshake_response(const protocol::HandshakeResponse& response) {
  client_capabilities_ = response.capabilities & handshake_.capabilities();
  username_ = response.username;
  database_ = response.database;
  character_set_ = response.character_set;
  attributes_ = response.attributes;
  if (!(client_capabilities_ & cap::kProtocol41)) {
    send_err(protocol::errc::kHandshake, "08S01",
             "replproxy needs a client that speaks protocol 4.1");
    close("client too old");
    return;
  }
  if (runtime_->config->proxy.require_tls && !client_->tls_established()) {
    bump(worker_.stats().auth_failures);
    send_err(protocol::errc::kSecureTransportRequired, "HY000",
             "Connections using insecure transport are prohibited while require_tls is on");
    close("TLS required");
    return;
  }
  schema_ = database_;
  user_ = find_user(*runtime_->config, username_);
  const std::string& plugin = response.auth_plugin_name;
  if (plugin.empty() || plugin == protocol::kNativePasswordPlugin) {
    verify_password(response.auth_response);
    return;
  }
  // Ask the client to answer with mysql_native_password instead of its default plugin.
  client_->write(handshake_.auth_switch_request(sequence_id_));
  stage_ = Stage::auth_switch;
}

void ClientSession::on_auth_switch_reply() {
  bool malformed = false;
  const auto response = handshake_.read_auth_switch_reply(*client_, sequence_id_, malformed);
  if (malformed) {
    protocol_error("malformed auth switch response");
  } else if (response) {
    verify_password(*response);
  }
}

void ClientSession::verify_password(std::string_view response) {
  empty_password_ = response.empty();
  if (!user_) {
    deny_access();
    return;
  }
  auto stage1 = protocol::native_password_verify(response, handshake_.nonce(), user_->password_stage2);
  if (!stage1) {
    deny_access();
    return;
  }
  stage1_ = *stage1;
  login_primary();
}

void ClientSession::deny_access() {
  bump(worker_.stats().auth_failures);
  const std::string host = peer_.substr(0, peer_.rfind(':'));
  log()->info("[conn {}] access denied for user '{}' from {}", id_, username_, peer_);
  send_err(protocol::errc::kAccessDenied, "28000",
           "Access denied for user '" + username_ + "'@'" + host + "' (using password: " +
               (empty_password_ ? "NO" : "YES") + ")");
  close("access denied");
}

BackendLogin ClientSession::make_login() const {
  BackendLogin login;
  login.username = username_;
  login.stage1 = stage1_;
  login.empty_password = empty_password_;
  login.password = user_->password;
  login.database = database_;
  login.character_set = character_set_;
  login.client_capabilities = client_capabilities_;
  login.attributes = attributes_;
  login.attributes.emplace_back("_replproxy_client", peer_);
  return login;
}

// Logging in to the primary checks the client's credentials and default schema against a real
// server before the client hears OK; replicas are connected when a read first needs one.
// While the health checker sees no usable primary (a failover in progress), a fit replica checks
// the login instead, so that reads keep working; writes get ERR 1290 until a primary is back.
void ClientSession::login_primary() {
  const router::TopologyView topology{topology_};
  std::optional<size_t> backend = topology.primary();
  if (!backend || !topology.usable(*backend)) {
    for (size_t i = 0; i < topology_.size(); ++i) {
      if (topology.usable(i)) {
        backend = i;
        break;
      }
    }
  }
  if (!backend) {
    send_err(protocol::errc::kOptionPreventsStatement, "HY000",
             "replproxy: no backend is usable (no primary and no fit replica)");
    close("no usable backend");
    return;
  }
  stage_ = Stage::backend_login;
  current_ = *backend;
  connect_link(*backend);
}

void ClientSession::on_backend_ready(BackendConnection& backend, protocol::ByteView ok) {
  worker_.shared().learn_server_version(backend.server_version());
  const auto index = link_index(backend);
  if (stage_ == Stage::routing) {
    // A connection opened for a command: it gets the whole history replayed.
    prepare_link();
    return;
  }
  if (index) {
    // The login itself established the session's state (a fresh session or COM_CHANGE_USER).
    links_[*index].history_applied = history_.last_sequence();
  }
  // Login (or COM_CHANGE_USER): the primary's OK already speaks the capabilities this client
  // negotiated.
  protocol::Bytes out;
  sequence_id_ = protocol::encode_packet(ok, sequence_id_, out);
  client_->write(std::move(out));
  log()->info("[conn {}] user '{}' from {} logged in through backend '{}'{}", id_, username_,
              peer_, backend.backend().name, client_->tls_established() ? " (client TLS)" : "");
  stage_ = Stage::idle;
  tracker_.set_capabilities(backend.capabilities());
  if (shutting_down_) {
    close("shutting down");
    return;
  }
  process_client_input();
}

void ClientSession::on_backend_failed(BackendConnection& backend, const protocol::ErrPacket& err) {
  bump(worker_.stats().backend_connect_failures);
  const auto index = link_index(backend);
  if (index && links_[*index].counters != nullptr) {
    bump(links_[*index].counters->errors);
  }
  if (stage_ == Stage::routing && index) {
    // A lazily opened connection failed: that backend is skipped for a while and the command is
    // routed again (to another replica, or the primary).
    mark_backend_down(*index);
    retire_link(*index);
    if (*index != router::TopologyView{topology_}.primary().value_or(SIZE_MAX)) {
      route_again("backend '" + backend.backend().name + "' cannot be reached");
      return;
    }
  } else if (index) {
    retire_link(*index);
  }
  // The proxy's own reasons carry client-side codes (2003 refused, 2005 unknown host, 2013 lost,
  // 2026 TLS), which clients reject when a server sends them: they get 1429
  // ER_CONNECT_TO_FOREIGN_DATA_SOURCE with the same message. A backend's own ERR (1045, 1049...)
  // passes through unchanged.
  if (err.error_code >= 2000 && err.error_code < 3000) {
    send_err(protocol::errc::kConnectToForeignDataSource, "HY000", err.message);
  } else {
    send_err(err.error_code, err.sql_state.empty() ? "HY000" : err.sql_state, err.message);
  }
  if (stage_ == Stage::routing) {
    // The client's command is dropped from its input: it was answered with the error.
    auto decoded = protocol::decode_frame(client_->input());
    if (decoded) {
      client_->consume(decoded->consumed);
    }
    steps_.clear();
    stage_ = Stage::idle;
    process_client_input();
    return;
  }
  close("backend login failed");
}

void ClientSession::send_ok() {
  protocol::Bytes out;
  append_ok(out, sequence_id_,
            static_cast<uint16_t>((autocommit_ ? protocol::status::kAutocommit : 0) |
                                  (in_transaction_ ? protocol::status::kInTrans : 0)),
            client_capabilities_);
  sequence_id_ = static_cast<uint8_t>(sequence_id_ + 1);
  client_->write(std::move(out));
}

void ClientSession::send_err(uint16_t code, std::string_view sql_state,
                             std::string_view message) {
  protocol::Bytes out;
  append_err(out, sequence_id_, code, sql_state, message,
             client_capabilities_ ? client_capabilities_ : cap::kProtocol41);
  sequence_id_ = static_cast<uint8_t>(sequence_id_ + 1);
  client_->write(std::move(out));
}

void ClientSession::protocol_error(std::string_view what) {
  bump(worker_.stats().protocol_errors);
  log()->warn("[conn {}] protocol error from client {}: {}; closing", id_, peer_, what);
  close(what);
}

void ClientSession::on_stream_error(Stream&, std::string_view what) {
  log()->debug("[conn {}] client {}: {}", id_, peer_, what);
  close(what);
}

void ClientSession::begin_shutdown() {
  shutting_down_ = true;
  if (stage_ == Stage::idle || stage_ == Stage::greeting || stage_ == Stage::tls_handshake ||
      stage_ == Stage::auth_switch) {
    close("shutting down");
  }
}

void ClientSession::close(std::string_view reason) {
  if (stage_ == Stage::closing) {
    return;
  }
  log()->debug("[conn {}] closing: {}", id_, reason);
  retire_all_links();
  stage_ = Stage::closing;
  client_->close_after_flush();
}

void ClientSession::retire_all_links() {
  for (size_t i = 0; i < links_.size(); ++i) {
    retire_link(i);
  }
}

// Takes a connection out of the session. A backend in the middle of a command cannot take
// COM_QUIT; it is closed outright.
void ClientSession::retire_link(size_t backend) {
  Link& link = links_[backend];
  if (!link.conn) {
    return;
  }
  BackendConnection* b = link.conn.get();
  if (link.counters != nullptr) {
    link.counters->connections.fetch_sub(1, std::memory_order_relaxed);
  }
  retiring_.push_back(std::move(link.conn));
  link = Link{};
  statements_.forget_backend(backend);
  const bool busy = current_ == backend &&
                    (stage_ == Stage::forwarding || stage_ == Stage::local_infile ||
                     stage_ == Stage::command_continuation || stage_ == Stage::routing);
  if (busy) {
    b->close();
  } else {
    b->quit();
  }
}

void ClientSession::on_backend_closed(BackendConnection& backend) {
  std::erase_if(retiring_, [&](const auto& b) { return b.get() == &backend; });
  release_if_closed();
}

void ClientSession::on_closed(Stream&) {
  client_closed_ = true;
  release_if_closed();
}

void ClientSession::release_if_closed() {
  const bool links_open =
      std::any_of(links_.begin(), links_.end(), [](const Link& l) { return l.conn != nullptr; });
  if (client_closed_ && !links_open && retiring_.empty()) {
    worker_.reap(this);  // frees this session: nothing may follow
  }
}

}  // namespace replproxy::proxy
