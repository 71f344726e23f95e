#include "proxy/backend_connection.h"

#include <spdlog/spdlog.h>

#include "proxy/log.h"

#include "protocol/constants.h"
#include "protocol/handshake.h"
#include "protocol/packet.h"

namespace replproxy::proxy {
namespace {

namespace cap = protocol::cap;

// What the proxy passes through from the client: everything it can forward byte for byte.
// Compression, query attributes, optional metadata and MariaDB's extended capabilities change the
// framing or the result grammar, so they are never negotiated.
constexpr uint64_t kPassThrough =
    cap::kLongPassword | cap::kFoundRows | cap::kLongFlag | cap::kConnectWithDb | cap::kNoSchema |
    cap::kOdbc | cap::kLocalFiles | cap::kIgnoreSpace | cap::kProtocol41 | cap::kInteractive |
    cap::kIgnoreSigpipe | cap::kTransactions | cap::kReserved | cap::kSecureConnection |
    cap::kMultiStatements | cap::kMultiResults | cap::kPsMultiResults | cap::kPluginAuth |
    cap::kConnectAttrs | cap::kPluginAuthLenencClientData | cap::kCanHandleExpiredPasswords |
    cap::kSessionTrack | cap::kDeprecateEof;
constexpr uint64_t kRequired =
    cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth | cap::kTransactions;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = module_logger("backend");
  return logger;
}

}  // namespace

BackendConnection::BackendConnection(uv_loop_t* loop, Handler& handler, uint32_t connection_id,
                                     const config::Backend& backend, SSL_CTX* tls,
                                     BackendLogin login)
    : loop_(loop),
      handler_(handler),
      connection_id_(connection_id),
      backend_(backend),
      tls_(tls),
      login_(std::move(login)) {
  stream_ = std::make_unique<Stream>(loop_, static_cast<Stream::Handler&>(*this));
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  resolve_req_.data = this;
}

BackendConnection::~BackendConnection() = default;

void BackendConnection::start(uint32_t timeout_ms) {
  uv_timer_start(&timer_, &BackendConnection::on_timeout, timeout_ms, 0);
  sockaddr_storage addr{};
  const std::string& host = backend_.address.host;
  const int port = backend_.address.port;
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    connect_to(reinterpret_cast<sockaddr*>(&addr));
    return;
  }
  stage_ = Stage::resolving;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string service = std::to_string(port);
  const int rc = uv_getaddrinfo(loop_, &resolve_req_, &BackendConnection::on_resolved,
                                host.c_str(), service.c_str(), &hints);
  if (rc != 0) {
    fail_login(2005, "HY000", "cannot resolve backend host '" + host + "': " + uv_strerror(rc));
    return;
  }
  resolving_ = true;
}

void BackendConnection::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* self = static_cast<BackendConnection*>(req->data);
  self->resolving_ = false;
  if (self->stage_ == Stage::closing) {
    uv_freeaddrinfo(res);
    self->release_if_closed();
    return;
  }
  if (status != 0 || res == nullptr) {
    uv_freeaddrinfo(res);
    self->fail_login(2005, "HY000",
                     "cannot resolve backend host '" + self->backend_.address.host +
                         "': " + uv_strerror(status));
    return;
  }
  self->connect_to(res->ai_addr);
  uv_freeaddrinfo(res);
}

void BackendConnection::connect_to(const sockaddr* addr) {
  stage_ = Stage::connecting;
  const int rc = stream_->connect(addr);
  if (rc != 0) {
    fail_login(2003, "HY000", std::string("cannot connect: ") + uv_strerror(rc));
  }
}

void BackendConnection::on_connected(Stream&, int status) {
  if (stage_ != Stage::connecting) {
    return;
  }
  if (status != 0) {
    fail_login(2003, "HY000", std::string("cannot connect: ") + uv_strerror(status));
    return;
  }
  stream_->set_nodelay();
  stage_ = Stage::greeting;
  stream_->start_reading();
}

void BackendConnection::on_readable(Stream&) {
  while (stage_ == Stage::greeting || stage_ == Stage::auth) {
    auto packet = protocol::decode_packet(stream_->input());
    if (!packet) {
      if (packet.error() == protocol::CodecErrc::not_enough_input) {
        return;
      }
      fail_login(protocol::errc::kHandshake, "08S01", "malformed packet during login");
      return;
    }
    sequence_id_ = static_cast<uint8_t>(packet->last_sequence_id + 1);
    const protocol::Bytes payload(packet->payload.begin(), packet->payload.end());
    stream_->consume(packet->consumed);
    if (stage_ == Stage::greeting) {
      on_greeting(payload);
    } else {
      on_auth_packet(payload);
    }
  }
  if (stage_ == Stage::ready && !stream_->input().empty()) {
    handler_.on_backend_data(*this);
  }
}

void BackendConnection::on_greeting(protocol::ByteView payload) {
  if (protocol::is_err_payload(payload)) {
    auto err = protocol::decode_err(payload, 0);
    fail_login(err ? *err : protocol::ErrPacket{protocol::errc::kHandshake, "08S01",
                                                "backend refused the connection"});
    return;
  }
  auto greeting = protocol::decode_initial_handshake(payload);
  if (!greeting) {
    fail_login(protocol::errc::kHandshake, "08S01", "backend sent a malformed greeting");
    return;
  }
  server_version_ = greeting->server_version;
  server_thread_id_ = greeting->connection_id;
  nonce_ = greeting->auth_plugin_data.substr(0, 20);
  server_capabilities_ = greeting->capabilities;
  capabilities_ = (login_.client_capabilities & kPassThrough & server_capabilities_) | kRequired;
  capabilities_ &= ~cap::kConnectWithDb;
  if (!login_.database.empty()) {
    capabilities_ |= cap::kConnectWithDb;
  }
  if (!(server_capabilities_ & cap::kPluginAuthLenencClientData)) {
    capabilities_ &= ~cap::kPluginAuthLenencClientData;
  }
  if (tls_ != nullptr) {
    if (!(server_capabilities_ & cap::kSsl)) {
      fail_login(2026, "HY000", "backend does not offer TLS but the config requires it");
      return;
    }
    capabilities_ |= cap::kSsl;
    protocol::Bytes out;
    const size_t begin = protocol::begin_packet(out);
    protocol::encode_ssl_request({capabilities_, 16 * 1024 * 1024, login_.character_set}, out);
    sequence_id_ = protocol::finish_packet(out, begin, sequence_id_);
    stream_->write(std::move(out));
    stage_ = Stage::tls_handshake;
    if (!stream_->start_tls_client(tls_, backend_.address.host, backend_.tls_verify)) {
      fail_login(2026, "HY000", "cannot start TLS towards the backend");
    }
    return;
  }
  send_handshake_response();
}

void BackendConnection::on_tls_ready(Stream&) {
  if (stage_ == Stage::tls_handshake) {
    send_handshake_response();
  }
}

void BackendConnection::send_handshake_response() {
  protocol::HandshakeResponse response;
  response.capabilities = capabilities_;
  response.max_packet_size = 1024 * 1024 * 1024;
  response.character_set = login_.character_set;
  response.username = login_.username;
  if (!login_.empty_password) {
    response.auth_response = protocol::native_password_response(login_.stage1, nonce_);
  }
  response.database = login_.database;
  response.auth_plugin_name = std::string(protocol::kNativePasswordPlugin);
  if (capabilities_ & cap::kConnectAttrs) {
    response.attributes = login_.attributes;
  }
  protocol::Bytes out;
  const size_t begin = protocol::begin_packet(out);
  protocol::encode_handshake_response(response, out);
  sequence_id_ = protocol::finish_packet(out, begin, sequence_id_);
  stream_->write(std::move(out));
  stage_ = Stage::auth;
}

void BackendConnection::on_auth_packet(protocol::ByteView payload) {
  if (payload.empty()) {
    fail_login(protocol::errc::kHandshake, "08S01", "backend sent an empty packet during login");
    return;
  }
  switch (payload[0]) {
    case 0x00: {
      stage_ = Stage::ready;
      uv_timer_stop(&timer_);
      log()->debug("[conn {}] logged in to backend '{}' as '{}' (server thread {})",
                   connection_id_, backend_.name, login_.username, server_thread_id_);
      handler_.on_backend_ready(*this, payload);
      return;
    }
    case 0xff: {
      auto err = protocol::decode_err(payload, capabilities_);
      fail_login(err ? *err : protocol::ErrPacket{protocol::errc::kAccessDenied, "28000",
                                                  "backend refused the login"});
      return;
    }
    case 0xfe:
      on_auth_switch(payload);
      return;
    case 0x01:
      // caching_sha2_password's "fast auth succeeded" (0x01 0x03) is followed by an OK.
      if (payload.size() == 2 && payload[1] == 0x03) {
        return;
      }
      [[fallthrough]];
    default:
      fail_login(protocol::errc::kAccessDenied, "28000",
                 "backend asked for an authentication step replproxy does not support yet");
  }
}

void BackendConnection::on_auth_switch(protocol::ByteView payload) {
  auto request = protocol::decode_auth_switch_request(payload);
  if (!request) {
    fail_login(protocol::errc::kHandshake, "08S01", "backend sent a malformed auth switch");
    return;
  }
  std::string answer;
  if (request->plugin_name == protocol::kNativePasswordPlugin) {
    if (!login_.empty_password) {
      answer = protocol::native_password_response(login_.stage1, request->plugin_data);
    }
  } else if (request->plugin_name == "mysql_clear_password" && login_.password &&
             stream_->tls_established()) {
    answer = *login_.password + std::string(1, '\0');
  } else {
    fail_login(protocol::errc::kAccessDenied, "28000",
               "backend requires authentication plugin '" + request->plugin_name +
                   "' for user '" + login_.username + "', which replproxy cannot use yet");
    return;
  }
  protocol::Bytes out;
  sequence_id_ = protocol::encode_packet(protocol::as_bytes(answer), sequence_id_, out);
  stream_->write(std::move(out));
}

void BackendConnection::on_write_done(Stream&) {
  if (stage_ == Stage::ready) {
    handler_.on_backend_write_done(*this);
  }
}

void BackendConnection::on_stream_error(Stream&, std::string_view what) {
  if (stage_ == Stage::ready) {
    handler_.on_backend_lost(*this, what);
    return;
  }
  if (stage_ == Stage::tls_handshake) {
    fail_login(2026, "HY000", std::string(what));
  } else if (stage_ != Stage::closing && stage_ != Stage::failed) {
    fail_login(2013, "HY000", "lost connection during login: " + std::string(what));
  }
}

void BackendConnection::on_timeout(uv_timer_t* timer) {
  auto* self = static_cast<BackendConnection*>(timer->data);
  if (self->stage_ != Stage::ready && self->stage_ != Stage::closing &&
      self->stage_ != Stage::failed) {
    self->fail_login(2013, "HY000", "timed out connecting and logging in");
  }
}

void BackendConnection::fail_login(uint16_t code, std::string_view sql_state,
                                   const std::string& message) {
  fail_login(protocol::ErrPacket{code, std::string(sql_state),
                                 "replproxy: backend '" + backend_.name + "' (" +
                                     backend_.address.to_string() + "): " + message});
}

void BackendConnection::fail_login(const protocol::ErrPacket& err) {
  if (stage_ == Stage::closing || stage_ == Stage::failed) {
    return;
  }
  stage_ = Stage::failed;
  stream_->stop_reading();
  uv_timer_stop(&timer_);
  log()->warn("[conn {}] login to backend '{}' failed: {} ({})", connection_id_, backend_.name,
              err.message, err.error_code);
  handler_.on_backend_failed(*this, err);
}

void BackendConnection::quit() {
  if (stage_ != Stage::ready) {
    close();
    return;
  }
  protocol::Bytes out;
  const uint8_t quit_command = static_cast<uint8_t>(protocol::Command::quit);
  protocol::encode_packet(protocol::ByteView(&quit_command, 1), 0, out);
  stream_->write(std::move(out));
  stage_ = Stage::closing;
  stream_->close_after_flush();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &BackendConnection::on_timer_closed);
}

void BackendConnection::close() {
  if (stage_ == Stage::closing) {
    return;
  }
  stage_ = Stage::closing;
  if (resolving_) {
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req_));
  }
  stream_->close();
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &BackendConnection::on_timer_closed);
}

void BackendConnection::on_closed(Stream&) {
  stream_closed_ = true;
  release_if_closed();
}

void BackendConnection::on_timer_closed(uv_handle_t* handle) {
  auto* self = static_cast<BackendConnection*>(handle->data);
  self->timer_closed_ = true;
  self->release_if_closed();
}

void BackendConnection::release_if_closed() {
  if (stream_closed_ && timer_closed_ && !resolving_) {
    handler_.on_backend_closed(*this);  // may free this object: nothing may follow
  }
}

}  // namespace replproxy::proxy
