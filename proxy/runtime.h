#pragma once

// State shared by the workers: the running config with the TLS contexts built from it, published
// whole through an atomic shared_ptr (readers never lock), plus process-wide counters.

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "admin/metrics.h"
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
  // Hits of each rule since this runtime was loaded; shared by the workers (a rule hit is rare
  // enough next to a query that one relaxed counter per rule costs nothing measurable).
  std::unique_ptr<std::atomic<uint64_t>[]> rule_hits;

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
  std::atomic<uint64_t> queries_primary{0};
  std::atomic<uint64_t> queries_replica{0};
  std::atomic<uint64_t> queries_fallback{0};
  std::atomic<uint64_t> hint_routes{0};
  std::atomic<uint64_t> rule_routes{0};
  std::atomic<uint64_t> routing_errors{0};  // no primary for a write, no replica with "error"
  std::atomic<uint64_t> sessions_killed{0};

  // Query latency through the proxy, from a command's arrival to the end of its response.
  static constexpr std::array<double, 16> kLatencyBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  std::array<std::atomic<uint64_t>, kLatencyBounds.size() + 1> latency_buckets{};
  std::atomic<uint64_t> latency_sum_ns{0};
  void observe_latency(uint64_t ns);
};

// Adds the workers' histograms into `out` (whose bounds it sets).
void add_latency(const WorkerStats& stats, admin::LatencyHistogram& out);

// What one worker did with one backend. Relaxed atomics: the admin thread reads them.
struct BackendCounters {
  std::array<std::atomic<uint64_t>, admin::kRouteCount> queries{};  // by admin::Route
  std::atomic<uint64_t> errors{0};       // failed logins, lost connections
  std::atomic<int64_t> connections{0};   // open now
};

// A worker's BackendCounters by backend name. An entry is made when a session of the worker
// first connects to a backend and lives as long as the worker, so sessions keep a plain pointer
// to it across config reloads. Only that creation and the admin's reading take the lock.
class BackendCounterTable {
 public:
  struct Totals {
    std::array<uint64_t, admin::kRouteCount> queries{};
    uint64_t errors = 0;
    int64_t connections = 0;
  };

  BackendCounters& get(std::string_view name);
  // Adds this table's values into `totals` by name.
  void add_to(std::map<std::string, Totals, std::less<>>& totals) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<BackendCounters>, std::less<>> by_name_;
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
  // Publishes a reloaded config; sessions take it between commands (see runtime_generation).
  void set_runtime(std::shared_ptr<const Runtime> r) {
    runtime_.store(std::move(r));
    runtime_generation_.fetch_add(1, std::memory_order_release);
  }
  // Grows with every set_runtime(): a session compares it with the one it runs on, so the check
  // costs one relaxed load per command rather than a shared_ptr copy.
  uint64_t runtime_generation() const {
    return runtime_generation_.load(std::memory_order_acquire);
  }

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
  std::atomic<uint64_t> runtime_generation_{0};
  std::atomic<std::shared_ptr<const std::string>> server_version_;
  std::atomic<health::SnapshotPtr> snapshot_;
  std::atomic<bool> version_learned_{false};
  std::atomic<uint32_t> next_connection_id_{0};
  std::atomic<uint32_t> open_sessions_{0};
};

}  // namespace replproxy::proxy
