#pragma once

// One [[tunnels]] entry on the relay loop: a listener whose every accepted connection is linked
// to a new connection to `connect`, with TLS added on one side (plain-to-tls) or removed
// (tls-to-plain). See relay/tunnel_connection.h for what one link does.
//
// Lifetime: the Tunnel owns its connections (unique_ptr); a connection is freed only from the
// close callback of its last handle, through release(). close() closes the listener and every
// connection; the relay loop ends once all their close callbacks have run.

#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "admin/results.h"
#include "config/config.h"
#include "proxy/tls.h"
#include "relay/relay_loop.h"

namespace replproxy::relay {

// A tunnel's counters. Written on the relay loop, read by the admin interface and the metrics
// endpoint from their own threads, hence atomics (relaxed: each is a plain count).
struct TunnelStats {
  explicit TunnelStats(config::Tunnel tunnel) : config(std::move(tunnel)) {}

  const config::Tunnel config;
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> active{0};
  std::atomic<uint64_t> bytes_to_server{0};
  std::atomic<uint64_t> bytes_to_client{0};
  std::array<std::atomic<uint64_t>, admin::kTunnelFailureCount> failures{};

  void add_failure(admin::TunnelFailure reason) {
    failures[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
  admin::TunnelStatus status() const;
};

std::string_view to_string(config::TunnelMode mode);
std::string_view to_string(config::TunnelProtocol protocol);

class TunnelConnection;

class Tunnel final : public Component {
 public:
  // Builds the TLS context from the entry's files; a file that cannot be loaded is an error.
  static std::expected<std::unique_ptr<Tunnel>, std::string> create(
      std::shared_ptr<TunnelStats> stats);
  ~Tunnel() override;

  std::expected<void, std::string> start(uv_loop_t* loop) override;
  void close() override;
  std::string_view name() const override { return name_; }

  const config::Tunnel& config() const { return stats_->config; }
  TunnelStats& stats() { return *stats_; }
  SSL_CTX* tls_context() const { return tls_.get(); }
  uv_loop_t* loop() const { return loop_; }
  // Called by a connection from its last close callback; frees it.
  void release(TunnelConnection* connection);

 private:
  Tunnel(std::shared_ptr<TunnelStats> stats, proxy::SslCtxPtr tls);
  static void on_connection(uv_stream_t* listener, int status);

  std::shared_ptr<TunnelStats> stats_;
  std::string name_;  // "tunnel 'NAME'", for messages
  proxy::SslCtxPtr tls_;
  uv_loop_t* loop_ = nullptr;
  uv_tcp_t listener_;
  bool listening_ = false;
  bool closed_ = false;
  uint64_t next_id_ = 0;
  std::unordered_map<TunnelConnection*, std::unique_ptr<TunnelConnection>> connections_;
};

// The TLS context a tunnel uses: a client context (CA, verification, optional client
// certificate) for plain-to-tls, a server context (certificate, optional client verification)
// for tls-to-plain.
std::expected<proxy::SslCtxPtr, std::string> make_tunnel_tls_context(const config::Tunnel& tunnel);

}  // namespace replproxy::relay
