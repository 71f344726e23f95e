#include "relay/tunnel_connection.h"

#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/handshake.h"
#include "protocol/packet.h"
#include "proxy/log.h"
#include "relay/tunnel.h"
#include "relay/tunnel_login.h"

namespace replproxy::relay {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = proxy::module_logger("tunnel");
  return logger;
}

using admin::TunnelFailure;

}  // namespace

TunnelConnection::TunnelConnection(Tunnel& tunnel, uint64_t id)
    : tunnel_(tunnel),
      id_(id),
      client_(std::make_unique<proxy::Stream>(tunnel.loop(), *this)),
      server_(std::make_unique<proxy::Stream>(tunnel.loop(), *this)) {
  uv_timer_init(tunnel.loop(), &timer_);
  timer_.data = this;
  resolve_req_.data = this;
  client_->set_half_close(true);
  server_->set_half_close(true);
}

TunnelConnection::~TunnelConnection() = default;

bool TunnelConnection::plain_to_tls() const {
  return tunnel_.config().mode == config::TunnelMode::plain_to_tls;
}

bool TunnelConnection::mysql() const {
  return tunnel_.config().protocol == config::TunnelProtocol::mysql;
}

std::string_view TunnelConnection::stage_name() const {
  constexpr std::string_view kNames[] = {
      "resolving the server's address", "connecting to the server",
      "waiting for the server's greeting", "waiting for the client's handshake response",
      "the TLS handshake with the server",
      "waiting for the client's SSLRequest", "the TLS handshake with the client",
      "the login", "forwarding", "closing"};
  return kNames[static_cast<size_t>(stage_)];
}

void TunnelConnection::start(uv_stream_t* listener) {
  if (client_->accept_from(listener) != 0) {
    close_all();
    return;
  }
  TunnelStats& stats = tunnel_.stats();
  stats.accepted.fetch_add(1, std::memory_order_relaxed);
  stats.active.fetch_add(1, std::memory_order_relaxed);
  active_counted_ = true;
  client_->set_nodelay();
  const config::Tunnel& config = tunnel_.config();
  log()->debug("[tunnel {}] [conn {}] accepted from {}", config.name, id_, client_->peer_address());
  uv_timer_start(&timer_, &TunnelConnection::on_timeout, config.connect_timeout_ms, 0);
  const std::string& host = config.connect.host;
  const int port = config.connect.port;
  sockaddr_storage addr{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    connect_to(reinterpret_cast<const sockaddr*>(&addr));
    return;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string service = std::to_string(port);
  const int rc = uv_getaddrinfo(tunnel_.loop(), &resolve_req_, &TunnelConnection::on_resolved,
                                host.c_str(), service.c_str(), &hints);
  if (rc != 0) {
    fail(TunnelFailure::connect, kErrUnreachable,
         "cannot resolve '" + host + "': " + uv_strerror(rc));
    return;
  }
  resolving_ = true;
}

void TunnelConnection::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* self = static_cast<TunnelConnection*>(req->data);
  self->resolving_ = false;
  if (self->stage_ == Stage::closing) {
    uv_freeaddrinfo(res);
    self->release_if_closed();
    return;
  }
  if (status != 0 || res == nullptr) {
    uv_freeaddrinfo(res);
    self->fail(TunnelFailure::connect, kErrUnreachable,
               "cannot resolve '" + self->tunnel_.config().connect.host +
                   "': " + uv_strerror(status));
    return;
  }
  self->connect_to(res->ai_addr);
  uv_freeaddrinfo(res);
}

void TunnelConnection::connect_to(const sockaddr* addr) {
  stage_ = Stage::connecting;
  if (const int rc = server_->connect(addr); rc != 0) {
    fail(TunnelFailure::connect, kErrUnreachable,
         "cannot connect to " + tunnel_.config().connect.to_string() + ": " + uv_strerror(rc));
  }
}

void TunnelConnection::on_connected(proxy::Stream&, int status) {
  if (stage_ != Stage::connecting) {
    return;
  }
  if (status != 0) {
    fail(TunnelFailure::connect, kErrUnreachable,
         "cannot connect to " + tunnel_.config().connect.to_string() + ": " + uv_strerror(status));
    return;
  }
  server_connected();
}

void TunnelConnection::server_connected() {
  server_->set_nodelay();
  server_->start_reading();
  if (mysql()) {
    stage_ = Stage::server_greeting;
    return;
  }
  if (plain_to_tls()) {
    stage_ = Stage::server_tls;
    const config::Tunnel& config = tunnel_.config();
    if (!server_->start_tls_client(tunnel_.tls_context(), config.connect.host, config.tls_verify) &&
        stage_ != Stage::closing) {
      fail(TunnelFailure::tls, 0, "cannot start TLS towards the server");
    }
    return;
  }
  stage_ = Stage::client_tls;
  client_->start_reading();
  if (!client_->start_tls_server(tunnel_.tls_context()) && stage_ != Stage::closing) {
    fail(TunnelFailure::tls, 0, "cannot start TLS with the client");
  }
}

void TunnelConnection::on_readable(proxy::Stream& s) {
  const bool from_client = &s == client_.get();
  switch (stage_) {
    case Stage::server_greeting:
      if (!from_client) {
        on_server_greeting();
      }
      return;
    case Stage::client_response:
      if (from_client) {
        on_client_response();
      }
      return;
    case Stage::client_ssl_request:
      if (from_client) {
        on_client_ssl_request();
      }
      return;
    case Stage::login:
      if (from_client) {
        relay_login_from_client();
      } else {
        relay_login_from_server();
      }
      return;
    case Stage::forwarding:
      forward(s, from_client ? *server_ : *client_);
      return;
    default:
      // Kept in the stream's input until the setup is done (setup_done() passes it on).
      return;
  }
}

// The server's greeting goes on to the client: plain-to-tls hides CLIENT_SSL (the tunnel adds TLS
// itself) after checking that the server offers it; tls-to-plain offers it.
void TunnelConnection::on_server_greeting() {
  const auto decoded = protocol::decode_frame(server_->input());
  if (!decoded) {
    if (decoded.error() != protocol::CodecErrc::not_enough_input) {
      fail(TunnelFailure::protocol, kErrProtocol, "the server sent a malformed greeting");
    }
    return;
  }
  const size_t size = decoded->consumed;
  const protocol::ByteView payload = decoded->frame.payload;
  const std::string server = tunnel_.config().connect.to_string();
  if (protocol::is_err_payload(payload)) {
    // The server refused the connection (too many connections, host blocked): its own ERR says
    // why, better than any message of ours.
    client_->write(server_->input().first(size));
    fail(TunnelFailure::protocol, 0, "the server at " + server + " refused the connection");
    return;
  }
  const auto greeting = protocol::decode_initial_handshake(payload);
  if (!greeting) {
    fail(TunnelFailure::protocol, kErrProtocol,
         "the server at " + server + " did not send a MySQL greeting");
    return;
  }
  if (plain_to_tls() && (greeting->capabilities & protocol::cap::kSsl) == 0) {
    fail(TunnelFailure::protocol, kErrUnreachable,
         "the server at " + server +
             " does not offer TLS (no CLIENT_SSL in its greeting); the tunnel never falls back to "
             "plaintext");
    return;
  }
  protocol::Bytes frame(server_->input().begin(), server_->input().begin() + size);
  server_->consume(size);
  set_greeting_ssl(std::span<uint8_t>(frame).subspan(protocol::kFrameHeaderSize), !plain_to_tls());
  tunnel_.stats().bytes_to_client.fetch_add(frame.size(), std::memory_order_relaxed);
  client_->write(std::move(frame));
  stage_ = plain_to_tls() ? Stage::client_response : Stage::client_ssl_request;
  client_->start_reading();
}

// plain-to-tls: the client's handshake response gives the SSLRequest its capabilities (MariaDB
// parses the response with those); the response itself waits here until TLS with the server is
// up and verified, so not a byte of the login travels in plaintext.
void TunnelConnection::on_client_response() {
  const auto decoded = protocol::decode_frame(client_->input());
  if (!decoded) {
    if (decoded.error() != protocol::CodecErrc::not_enough_input) {
      fail(TunnelFailure::protocol, kErrProtocol, "malformed packet from the client");
    }
    return;
  }
  err_sequence_ = static_cast<uint8_t>(decoded->frame.sequence_id + 1);
  const protocol::ByteView payload = decoded->frame.payload;
  if (protocol::is_ssl_request(payload)) {
    fail(TunnelFailure::protocol, kErrProtocol,
         "this tunnel offers no TLS to its local clients (it adds TLS itself): connect without "
         "TLS");
    return;
  }
  auto ssl_request = ssl_request_frame(payload);
  if (!ssl_request || decoded->frame.continues()) {
    fail(TunnelFailure::protocol, kErrProtocol,
         "the client's handshake response is not a protocol 4.1 response");
    return;
  }
  response_.assign(client_->input().begin(), client_->input().begin() + decoded->consumed);
  client_->consume(decoded->consumed);
  first_client_packet_ = false;
  server_->write(std::move(*ssl_request));
  stage_ = Stage::server_tls;
  const config::Tunnel& config = tunnel_.config();
  if (!server_->start_tls_client(tunnel_.tls_context(), config.connect.host, config.tls_verify) &&
      stage_ != Stage::closing) {
    fail(TunnelFailure::tls, kErrUnreachable, "cannot start TLS towards the server");
  }
}

// tls-to-plain: the client's first packet must be an SSLRequest; anything else would be a login
// in plaintext, which this tunnel exists to prevent.
void TunnelConnection::on_client_ssl_request() {
  const auto decoded = protocol::decode_frame(client_->input());
  if (!decoded) {
    if (decoded.error() != protocol::CodecErrc::not_enough_input) {
      fail(TunnelFailure::protocol, kErrProtocol, "malformed packet from the client");
    }
    return;
  }
  err_sequence_ = static_cast<uint8_t>(decoded->frame.sequence_id + 1);
  if (!protocol::is_ssl_request(decoded->frame.payload)) {
    fail(TunnelFailure::protocol, kErrTlsRequired,
         "this tunnel accepts TLS connections only: connect with TLS (e.g. mariadb --ssl)");
    return;
  }
  client_->consume(decoded->consumed);
  stage_ = Stage::client_tls;
  if (!client_->start_tls_server(tunnel_.tls_context()) && stage_ != Stage::closing) {
    fail(TunnelFailure::tls, 0, "cannot start TLS with the client");
  }
}

void TunnelConnection::on_tls_ready(proxy::Stream& s) {
  const config::Tunnel& config = tunnel_.config();
  if (stage_ == Stage::server_tls && &s == server_.get()) {
    log()->debug("[tunnel {}] [conn {}] TLS with {} established ({}, {})", config.name, id_,
                 config.connect.to_string(), s.tls_version(), s.tls_cipher());
    if (mysql()) {
      // The held response follows the SSLRequest (sequence id 2) and says CLIENT_SSL, as it
      // travels over TLS.
      const std::span<uint8_t> frame(response_);
      set_response_ssl(frame.subspan(protocol::kFrameHeaderSize), true);
      frame[3] = static_cast<uint8_t>(frame[3] + 1);
      tunnel_.stats().bytes_to_server.fetch_add(response_.size(), std::memory_order_relaxed);
      server_->write(std::move(response_));
      response_.clear();
    }
    setup_done(mysql() ? Stage::login : Stage::forwarding);
    return;
  }
  if (stage_ == Stage::client_tls && &s == client_.get()) {
    log()->debug("[tunnel {}] [conn {}] TLS with the client established ({}, {})", config.name,
                 id_, s.tls_version(), s.tls_cipher());
    setup_done(mysql() ? Stage::login : Stage::forwarding);
  }
}

// The setup is over: no more timeout, both sides are read, and what either sent meanwhile is
// handled now.
void TunnelConnection::setup_done(Stage next) {
  uv_timer_stop(&timer_);
  stage_ = next;
  client_->start_reading();
  server_->start_reading();
  if (!client_->input().empty()) {
    on_readable(*client_);
  }
  if (stage_ != Stage::closing && !server_->input().empty()) {
    on_readable(*server_);
  }
}

// Login packets from the client reach the server with their sequence id shifted: +1 when the
// server saw our SSLRequest (plain-to-tls), -1 when it did not see the client's (tls-to-plain).
void TunnelConnection::relay_login_from_client() {
  const int shift = plain_to_tls() ? 1 : -1;
  for (;;) {
    const std::span<uint8_t> input = client_->mutable_input();
    const auto header = protocol::decode_frame_header(input);
    if (!header || input.size() < protocol::kFrameHeaderSize + header->payload_length) {
      break;
    }
    const size_t size = protocol::kFrameHeaderSize + header->payload_length;
    const std::span<uint8_t> frame = input.first(size);
    const std::span<uint8_t> payload = frame.subspan(protocol::kFrameHeaderSize);
    err_sequence_ = static_cast<uint8_t>(header->sequence_id + 1);
    if (first_client_packet_) {
      // tls-to-plain: the handshake response says CLIENT_SSL (it came over TLS), which would make
      // the plaintext server start TLS.
      first_client_packet_ = false;
      set_response_ssl(payload, false);
    }
    frame[3] = static_cast<uint8_t>(frame[3] + shift);
    server_->write(protocol::ByteView(frame));
    tunnel_.stats().bytes_to_server.fetch_add(size, std::memory_order_relaxed);
    client_->consume(size);
  }
  apply_back_pressure(*client_, *server_);
}

// Server packets go back with the opposite shift, until the OK or ERR that ends the login.
void TunnelConnection::relay_login_from_server() {
  const int shift = plain_to_tls() ? -1 : 1;
  for (;;) {
    const std::span<uint8_t> input = server_->mutable_input();
    const auto header = protocol::decode_frame_header(input);
    if (!header || input.size() < protocol::kFrameHeaderSize + header->payload_length) {
      break;
    }
    const size_t size = protocol::kFrameHeaderSize + header->payload_length;
    const std::span<uint8_t> frame = input.first(size);
    const bool done = ends_login(frame.subspan(protocol::kFrameHeaderSize));
    frame[3] = static_cast<uint8_t>(frame[3] + shift);
    client_->write(protocol::ByteView(frame));
    tunnel_.stats().bytes_to_client.fetch_add(size, std::memory_order_relaxed);
    server_->consume(size);
    if (done) {
      log()->debug("[tunnel {}] [conn {}] login done, forwarding", tunnel_.config().name, id_);
      stage_ = Stage::forwarding;
      forward(*server_, *client_);
      return;
    }
  }
  apply_back_pressure(*server_, *client_);
}

void TunnelConnection::forward(proxy::Stream& from, proxy::Stream& to) {
  const protocol::ByteView input = from.input();
  if (!input.empty()) {
    to.write(input);
    auto& counter = &from == client_.get() ? tunnel_.stats().bytes_to_server
                                           : tunnel_.stats().bytes_to_client;
    counter.fetch_add(input.size(), std::memory_order_relaxed);
    from.consume(input.size());
  }
  apply_back_pressure(from, to);
}

// A slow reader on one side must not make the tunnel buffer without bound: the other side is
// not read while too much is queued towards it.
void TunnelConnection::apply_back_pressure(proxy::Stream& from, proxy::Stream& to) {
  if (to.pending_write_bytes() > kHighWater && from.reading()) {
    from.stop_reading();
  }
}

void TunnelConnection::on_write_done(proxy::Stream& s) {
  if (stage_ != Stage::login && stage_ != Stage::forwarding) {
    return;
  }
  proxy::Stream& other = &s == client_.get() ? *server_ : *client_;
  if (s.pending_write_bytes() <= kHighWater / 2 && !other.reading() && !other.peer_eof()) {
    other.start_reading();
  }
}

// Half-close: the side that finished sending gets its FIN (or close_notify) passed on, and the
// other direction goes on until it ends too.
void TunnelConnection::on_peer_eof(proxy::Stream& s) {
  const bool from_client = &s == client_.get();
  if (stage_ == Stage::closing) {
    return;
  }
  if (stage_ != Stage::login && stage_ != Stage::forwarding) {
    if (from_client) {
      log()->debug("[tunnel {}] [conn {}] the client left during {}", tunnel_.config().name, id_,
                   stage_name());
      close_all();
      return;
    }
    fail(TunnelFailure::protocol, kErrUnreachable,
         "the server closed the connection during " + std::string(stage_name()));
    return;
  }
  log()->debug("[tunnel {}] [conn {}] {} finished sending", tunnel_.config().name, id_,
               from_client ? "the client" : "the server");
  (from_client ? server_ : client_)->shutdown_write();
  if (client_->peer_eof() && server_->peer_eof()) {
    close_all();
  }
}

void TunnelConnection::on_stream_error(proxy::Stream& s, std::string_view what) {
  const bool from_client = &s == client_.get();
  if (stage_ == Stage::closing) {
    return;
  }
  if (stage_ == Stage::server_tls && !from_client) {
    fail(TunnelFailure::tls, kErrUnreachable,
         "TLS with the server at " + tunnel_.config().connect.to_string() +
             " failed: " + std::string(what));
    return;
  }
  if (stage_ == Stage::client_tls && from_client) {
    fail(TunnelFailure::tls, 0, "TLS with the client failed: " + std::string(what));
    return;
  }
  if (stage_ != Stage::login && stage_ != Stage::forwarding && !from_client) {
    fail(TunnelFailure::connect, kErrUnreachable,
         "the server connection failed during " + std::string(stage_name()) + ": " +
             std::string(what));
    return;
  }
  log()->debug("[tunnel {}] [conn {}] {} side closed: {}", tunnel_.config().name, id_,
               from_client ? "client" : "server", what);
  close_all();
}

void TunnelConnection::on_timeout(uv_timer_t* timer) {
  auto* self = static_cast<TunnelConnection*>(timer->data);
  const Stage stage = self->stage_;
  const TunnelFailure reason = stage == Stage::resolving || stage == Stage::connecting
                                   ? TunnelFailure::connect
                               : stage == Stage::server_tls || stage == Stage::client_tls
                                   ? TunnelFailure::tls
                                   : TunnelFailure::protocol;
  self->fail(reason, kErrUnreachable,
             "timed out after " + std::to_string(self->tunnel_.config().connect_timeout_ms) +
                 " ms during " + std::string(self->stage_name()));
}

void TunnelConnection::fail(admin::TunnelFailure reason, uint16_t code, const std::string& what) {
  if (stage_ == Stage::closing) {
    return;
  }
  if (!failed_) {
    failed_ = true;
    tunnel_.stats().add_failure(reason);
  }
  log()->warn("[tunnel {}] [conn {}] {}", tunnel_.config().name, id_, what);
  // Only a MySQL client still in plaintext can read our ERR; a TLS client mid-handshake cannot.
  if (code != 0 && mysql() && !client_->tls_active()) {
    client_->write(tunnel_error_frame(err_sequence_, code, tunnel_.config().name, what));
  }
  close_all();
}

void TunnelConnection::abort() {
  close_all();
  client_->close();
}

void TunnelConnection::close_all() {
  if (stage_ == Stage::closing) {
    return;
  }
  stage_ = Stage::closing;
  uv_timer_stop(&timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &TunnelConnection::on_timer_closed);
  if (resolving_) {
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req_));
  }
  // An ERR queued for the client is delivered before its socket closes.
  client_->close_after_flush();
  server_->close();
}

void TunnelConnection::on_timer_closed(uv_handle_t* handle) {
  auto* self = static_cast<TunnelConnection*>(handle->data);
  self->timer_open_ = false;
  self->release_if_closed();
}

void TunnelConnection::on_closed(proxy::Stream&) {
  --open_streams_;
  release_if_closed();
}

// The last close callback frees the connection: nothing may touch `this` after release().
void TunnelConnection::release_if_closed() {
  if (open_streams_ > 0 || timer_open_ || resolving_) {
    return;
  }
  if (active_counted_) {
    tunnel_.stats().active.fetch_sub(1, std::memory_order_relaxed);
  }
  tunnel_.release(this);
}

}  // namespace replproxy::relay
