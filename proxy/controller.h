#pragma once

// The control plane behind the admin interface, SIGHUP and the metrics endpoint: it reads the
// live state (config, health snapshot, the workers' counters and sessions) and changes what may
// be changed live (maintenance, a reloaded config, killing a session). The TOML file stays the
// truth: nothing here writes it, and a reload re-reads it whole.

#include <atomic>
#include <chrono>
#include <expected>
#include <functional>
#include <string>
#include <vector>

#include "admin/metrics.h"
#include "proxy/admin_server.h"
#include "proxy/proxy_server.h"

namespace replproxy::proxy {

class Controller final : public AdminService {
 public:
  explicit Controller(ProxyServer& server);

  // On the control loop's thread.
  AdminReply execute(const admin::Command& command) override;
  // RELOAD CONFIG and SIGHUP: re-reads the file the running config came from. A file with
  // errors changes nothing; the error lists them as FILE:LINE: what. On success, what was
  // applied (and what needs a restart to change).
  std::expected<std::string, std::string> reload();

  // The tunnels started at launch (`running`, which a reload compares the file against: they
  // keep running as they are until a restart) and what SHOW TUNNELS and the tunnel metrics read.
  // Set once by main before the admin and metrics listeners start; `source` must be thread-safe
  // (the tunnels' counters are atomics).
  using TunnelSource = std::function<std::vector<admin::TunnelStatus>()>;
  void set_tunnels(std::vector<config::Tunnel> running, TunnelSource source) {
    running_tunnels_ = std::move(running);
    tunnels_ = std::move(source);
  }

  // The embedded relay's status and replicas, for SHOW RELAY STATUS / REPLICAS and the metrics;
  // set once by main when [relay] is enabled; thread-safe like the tunnels' source.
  struct RelayView {
    admin::RelayStatus status;
    std::vector<admin::RelayReplicaStatus> replicas;
  };
  using RelaySource = std::function<RelayView()>;
  void set_relay(RelaySource source) { relay_ = std::move(source); }

  // The Prometheus exposition; thread-safe (the metrics endpoint calls it from its own thread).
  std::string metrics_text() const;

 private:
  admin::Table backends() const;
  std::vector<admin::Stat> stats() const;
  AdminReply sessions();
  AdminReply rules() const;
  AdminReply set_maintenance(const std::string& backend, bool on);
  AdminReply kill(uint32_t session);
  AdminReply reload_reply();

  ProxyServer& server_;
  std::chrono::steady_clock::time_point started_;
  std::vector<config::Tunnel> running_tunnels_;
  TunnelSource tunnels_;
  RelaySource relay_;
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> reload_failures_{0};
};

}  // namespace replproxy::proxy
