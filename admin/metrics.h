#pragma once

// Prometheus text exposition (format 0.0.4) of the proxy's counters, per-backend gauges, rule hits
// and the query latency histogram. A pure function of plain inputs: the HTTP endpoint
// (proxy/metrics_server.h) gathers them and serves what this renders.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "admin/results.h"

namespace replproxy::admin {

// How a statement was routed, as the `route` label says.
enum class Route : uint8_t {
  primary,   // a write, a transaction, session state... on the primary
  replica,   // a read on a replica
  fallback,  // a read on the primary because no replica was usable (read_fallback = "primary")
};
inline constexpr size_t kRouteCount = 3;

struct BackendMetrics {
  std::string name;
  std::string role;   // "primary" or "replica": the live role
  std::string state;  // health::to_string(BackendState), "unknown" without [health]
  bool up = false;    // answered its last probe (without [health]: reachable as far as known)
  std::optional<double> lag_seconds;                 // replicas with a known lag
  std::array<uint64_t, kRouteCount> queries{};       // by Route
  uint64_t errors = 0;                               // connect failures and lost connections
  uint64_t connections = 0;                          // backend connections open now
};

struct RuleMetrics {
  size_t index = 0;    // position in [[routing.rules]], from 0
  std::string target;  // the rule's target as written ("replica", "backend:db2")
  uint64_t hits = 0;
};

// Query latency through the proxy, from the command's arrival to the end of its response.
// `bounds_seconds` are the upper bounds of the buckets (ascending, without +Inf); `counts[i]` is
// the number of observations in bucket i alone (not cumulative), with one extra entry at the end
// for those above the last bound. The renderer makes them cumulative, as Prometheus wants.
struct LatencyHistogram {
  std::vector<double> bounds_seconds;
  std::vector<uint64_t> counts;  // bounds_seconds.size() + 1 entries
  double sum_seconds = 0;
  uint64_t count = 0;  // every observation: the +Inf bucket and _count
};

struct MetricsInput {
  std::string version;
  double uptime_seconds = 0;
  uint64_t open_sessions = 0;
  std::vector<Stat> counters;  // the SHOW STATS counters, each a replproxy_<name>_total counter
  std::vector<BackendMetrics> backends;
  std::vector<RuleMetrics> rules;
  LatencyHistogram latency;
  std::vector<TunnelStatus> tunnels;
  std::optional<RelayStatus> relay;  // with [relay] enabled
};

// The exposition text: every family with # HELP and # TYPE lines, label values escaped
// (backslash, double quote, newline), one sample per line, ending in a newline.
std::string prometheus_text(const MetricsInput& input);

}  // namespace replproxy::admin
