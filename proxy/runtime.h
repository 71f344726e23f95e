#pragma once

// State shared by the workers: the running config with the TLS contexts built from it, published
// whole through an atomic shared_ptr (readers never lock), plus process-wide counters.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "health/snapshot.h"
#include "proxy/tls.h"
#include "router/rules.h"

namespace replproxy::proxy {

// A config together with everything derived from it at load time.
struct Runtime {
  std::shared_ptr<const config::Config> config;
  SslCtxPtr client_tls;                          // towards clients; null without tls_cert
  std::map<std::string, SslCtxPtr> backend_tls;  // by backend name, for backends with tls = true
  router::RuleMatcher rules;                     // [[routing.rules]], compiled once

  // The backend that receives this session's traffic until read/write splitting arrives: the
  // first backend with role "primary", else the first backend.
  const config::Backend& primary() const;
  SSL_CTX* tls_for(const config::Backend& backend) const;
};

// Builds the TLS contexts a config asks for; fails with a one-line reason.
std::expected<std::shared_ptr<const Runtime>, std::string> make_runtime(
    std::shared_ptr<const config::Config> config);

// Counters are per worker and summed when read; relaxed atomics so another thread may read them.
struct WorkerStats {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<uint64_t> auth_failures{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> queries{0};
  std::atomic<uint64_t> backend_connect_failures{0};
  std::atomic<uint64_t> backend_lost{0};
  std::atomic<uint64_t> bytes_from_clients{0};
  std::atomic<uint64_t> bytes_to_clients{0};
  std::atomic<uint64_t> causal_read_waits{0};
  std::atomic<uint64_t> causal_read_timeouts{0};
  std::atomic<uint64_t> reads_rerouted{0};
  std::atomic<uint64_t> reads_retried{0};
};

// One counter by name, as the admin view and metrics show it.
struct StatValue {
  std::string_view name;
  uint64_t value = 0;
};

// Every counter of `stats`, by name, in a fixed order; add_stats() adds another worker's.
std::vector<StatValue> stat_values(const WorkerStats& stats);
void add_stats(const WorkerStats& stats, std::vector<StatValue>& totals);

inline void bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
  counter.fetch_add(by, std::memory_order_relaxed);
}

class SharedState {
 public:
  explicit SharedState(std::shared_ptr<const Runtime> runtime);

  std::shared_ptr<const Runtime> runtime() const { return runtime_.load(); }
  void set_runtime(std::shared_ptr<const Runtime> r) { runtime_.store(std::move(r)); }

  // Server version announced to clients: the config's until a backend greeted us.
  std::shared_ptr<const std::string> server_version() const { return server_version_.load(); }
  void learn_server_version(const std::string& version);

  // The health checker's latest view of the topology; null until its first round (and always
  // without [health]): routing then uses the configured roles.
  health::SnapshotPtr snapshot() const { return snapshot_.load(); }
  void set_snapshot(health::SnapshotPtr s) { snapshot_.store(std::move(s)); }

  uint32_t next_connection_id() { return next_connection_id_.fetch_add(1) + 1; }
  // Admission control for [proxy] max_connections.
  bool try_admit(uint32_t max_connections);
  void release() { open_sessions_.fetch_sub(1); }
  uint32_t open_sessions() const { return open_sessions_.load(); }

 private:
  std::atomic<std::shared_ptr<const Runtime>> runtime_;
  std::atomic<std::shared_ptr<const std::string>> server_version_;
  std::atomic<health::SnapshotPtr> snapshot_;
  std::atomic<bool> version_learned_{false};
  std::atomic<uint32_t> next_connection_id_{0};
  std::atomic<uint32_t> open_sessions_{0};
};

}  // namespace replproxy::proxy
