#include "relay/tunnel.h"

#include "proxy/log.h"
#include "relay/tunnel_connection.h"

namespace replproxy::relay {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = proxy::module_logger("tunnel");
  return logger;
}

}  // namespace

std::string_view to_string(config::TunnelMode mode) {
  return mode == config::TunnelMode::plain_to_tls ? "plain-to-tls" : "tls-to-plain";
}

std::string_view to_string(config::TunnelProtocol protocol) {
  return protocol == config::TunnelProtocol::mysql ? "mysql" : "tcp";
}

admin::TunnelStatus TunnelStats::status() const {
  admin::TunnelStatus s{.name = config.name,
                        .mode = std::string(to_string(config.mode)),
                        .protocol = std::string(to_string(config.protocol)),
                        .listen = config.listen.to_string(),
                        .connect = config.connect.to_string(),
                        .connections_active = active.load(std::memory_order_relaxed),
                        .connections_total = accepted.load(std::memory_order_relaxed),
                        .bytes_to_server = bytes_to_server.load(std::memory_order_relaxed),
                        .bytes_to_client = bytes_to_client.load(std::memory_order_relaxed)};
  for (size_t i = 0; i < admin::kTunnelFailureCount; ++i) {
    s.failures[i] = failures[i].load(std::memory_order_relaxed);
  }
  return s;
}

std::expected<proxy::SslCtxPtr, std::string> make_tunnel_tls_context(const config::Tunnel& tunnel) {
  if (tunnel.mode == config::TunnelMode::plain_to_tls) {
    auto ctx = proxy::make_client_tls_context(tunnel.tls_ca, tunnel.tls_verify);
    if (ctx && !tunnel.tls_cert.empty()) {
      if (auto loaded = proxy::use_certificate(ctx->get(), tunnel.tls_cert, tunnel.tls_key);
          !loaded) {
        return std::unexpected(loaded.error());
      }
    }
    return ctx;
  }
  auto ctx = proxy::make_server_tls_context(tunnel.tls_cert, tunnel.tls_key);
  if (ctx && tunnel.tls_verify) {
    if (auto loaded = proxy::require_client_certificates(ctx->get(), tunnel.tls_ca); !loaded) {
      return std::unexpected(loaded.error());
    }
  }
  return ctx;
}

std::expected<std::unique_ptr<Tunnel>, std::string> Tunnel::create(
    std::shared_ptr<TunnelStats> stats) {
  auto tls = make_tunnel_tls_context(stats->config);
  if (!tls) {
    return std::unexpected("tunnel '" + stats->config.name + "': " + tls.error());
  }
  return std::unique_ptr<Tunnel>(new Tunnel(std::move(stats), std::move(*tls)));
}

Tunnel::Tunnel(std::shared_ptr<TunnelStats> stats, proxy::SslCtxPtr tls)
    : stats_(std::move(stats)), name_("tunnel '" + stats_->config.name + "'"), tls_(std::move(tls)) {}

Tunnel::~Tunnel() = default;

std::expected<void, std::string> Tunnel::start(uv_loop_t* loop) {
  loop_ = loop;
  const config::Address& listen = config().listen;
  sockaddr_storage addr{};
  if (uv_ip4_addr(listen.host.c_str(), listen.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(listen.host.c_str(), listen.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    return std::unexpected("listen: not an IP address: " + listen.host);
  }
  uv_tcp_init(loop_, &listener_);
  listener_.data = this;
  listening_ = true;
  int rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 128, &Tunnel::on_connection);
  }
  if (rc != 0) {
    return std::unexpected("cannot listen on " + listen.to_string() + ": " + uv_strerror(rc));
  }
  log()->info("[tunnel {}] listening on {}, to {} ({}, protocol {}, verify {})", config().name,
              listen.to_string(), config().connect.to_string(), to_string(config().mode),
              to_string(config().protocol), config().tls_verify ? "on" : "off");
  return {};
}

void Tunnel::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  if (listening_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  }
  for (auto& [raw, connection] : connections_) {
    raw->abort();
  }
}

void Tunnel::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<Tunnel*>(listener->data);
  if (status != 0) {
    log()->warn("[tunnel {}] accept failed: {}", self->config().name, uv_strerror(status));
    return;
  }
  if (self->closed_) {
    return;
  }
  auto connection = std::make_unique<TunnelConnection>(*self, ++self->next_id_);
  TunnelConnection* raw = connection.get();
  self->connections_.emplace(raw, std::move(connection));
  raw->start(listener);
}

void Tunnel::release(TunnelConnection* connection) { connections_.erase(connection); }

}  // namespace replproxy::relay
