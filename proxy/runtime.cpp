#include "proxy/runtime.h"

namespace replproxy::proxy {
namespace {

struct StatField {
  std::string_view name;
  std::atomic<uint64_t> WorkerStats::*counter;
};

constexpr StatField kStatFields[] = {
    {"connections_accepted", &WorkerStats::connections_accepted},
    {"connections_refused", &WorkerStats::connections_refused},
    {"auth_failures", &WorkerStats::auth_failures},
    {"protocol_errors", &WorkerStats::protocol_errors},
    {"queries", &WorkerStats::queries},
    {"backend_connect_failures", &WorkerStats::backend_connect_failures},
    {"backend_lost", &WorkerStats::backend_lost},
    {"bytes_from_clients", &WorkerStats::bytes_from_clients},
    {"bytes_to_clients", &WorkerStats::bytes_to_clients},
    {"causal_read_waits", &WorkerStats::causal_read_waits},
    {"causal_read_timeouts", &WorkerStats::causal_read_timeouts},
    {"reads_rerouted", &WorkerStats::reads_rerouted},
    {"reads_retried", &WorkerStats::reads_retried},
    {"queries_primary", &WorkerStats::queries_primary},
    {"queries_replica", &WorkerStats::queries_replica},
    {"queries_fallback", &WorkerStats::queries_fallback},
    {"hint_routes", &WorkerStats::hint_routes},
    {"rule_routes", &WorkerStats::rule_routes},
    {"routing_errors", &WorkerStats::routing_errors},
    {"sessions_killed", &WorkerStats::sessions_killed},
};

}  // namespace

std::vector<StatValue> stat_values(const WorkerStats& stats) {
  std::vector<StatValue> values;
  values.reserve(std::size(kStatFields));
  for (const StatField& field : kStatFields) {
    values.push_back({field.name, (stats.*field.counter).load(std::memory_order_relaxed)});
  }
  return values;
}

void add_stats(const WorkerStats& stats, std::vector<StatValue>& totals) {
  if (totals.empty()) {
    totals = stat_values(stats);
    return;
  }
  for (size_t i = 0; i < std::size(kStatFields) && i < totals.size(); ++i) {
    totals[i].value += (stats.*kStatFields[i].counter).load(std::memory_order_relaxed);
  }
}

void WorkerStats::observe_latency(uint64_t ns) {
  const double seconds = static_cast<double>(ns) / 1e9;
  size_t bucket = 0;
  while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) {
    ++bucket;
  }
  bump(latency_buckets[bucket]);
  bump(latency_sum_ns, ns);
}

void add_latency(const WorkerStats& stats, admin::LatencyHistogram& out) {
  out.bounds_seconds.assign(WorkerStats::kLatencyBounds.begin(), WorkerStats::kLatencyBounds.end());
  out.counts.resize(stats.latency_buckets.size(), 0);
  for (size_t i = 0; i < stats.latency_buckets.size(); ++i) {
    const uint64_t n = stats.latency_buckets[i].load(std::memory_order_relaxed);
    out.counts[i] += n;
    out.count += n;
  }
  out.sum_seconds +=
      static_cast<double>(stats.latency_sum_ns.load(std::memory_order_relaxed)) / 1e9;
}

BackendCounters& BackendCounterTable::get(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) {
    it = by_name_.emplace(std::string(name), std::make_unique<BackendCounters>()).first;
  }
  return *it->second;
}

void BackendCounterTable::add_to(std::map<std::string, Totals, std::less<>>& totals) const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, counters] : by_name_) {
    Totals& t = totals[name];
    for (size_t r = 0; r < admin::kRouteCount; ++r) {
      t.queries[r] += counters->queries[r].load(std::memory_order_relaxed);
    }
    t.errors += counters->errors.load(std::memory_order_relaxed);
    t.connections += counters->connections.load(std::memory_order_relaxed);
  }
}

const config::Backend& Runtime::primary() const {
  for (const auto& b : config->backends) {
    if (b.role == config::BackendRole::primary) {
      return b;
    }
  }
  return config->backends.front();
}

SSL_CTX* Runtime::tls_for(const config::Backend& backend) const {
  auto it = backend_tls.find(backend.name);
  return it == backend_tls.end() ? nullptr : it->second.get();
}

std::expected<std::shared_ptr<const Runtime>, std::string> make_runtime(
    std::shared_ptr<const config::Config> config) {
  auto runtime = std::make_shared<Runtime>();
  if (!config->proxy.tls_cert.empty()) {
    auto ctx = make_server_tls_context(config->proxy.tls_cert, config->proxy.tls_key);
    if (!ctx) {
      return std::unexpected("[proxy] " + ctx.error());
    }
    runtime->client_tls = std::move(*ctx);
  }
  for (const auto& backend : config->backends) {
    if (!backend.tls) {
      continue;
    }
    auto ctx = make_client_tls_context(backend.tls_ca, backend.tls_verify);
    if (!ctx) {
      return std::unexpected("backend '" + backend.name + "': " + ctx.error());
    }
    runtime->backend_tls.emplace(backend.name, std::move(*ctx));
  }
  auto rules = router::RuleMatcher::compile(config->routing.rules);
  if (!rules) {
    return std::unexpected("[[routing.rules]]: " + rules.error());
  }
  runtime->rules = std::move(*rules);
  runtime->rule_hits = std::make_unique<std::atomic<uint64_t>[]>(config->routing.rules.size());
  runtime->config = std::move(config);
  return runtime;
}

SharedState::SharedState(std::shared_ptr<const Runtime> runtime)
    : runtime_(runtime),
      server_version_(std::make_shared<const std::string>(runtime->config->proxy.server_version)) {}

void SharedState::learn_server_version(const std::string& version) {
  if (version_learned_.exchange(true)) {
    return;
  }
  server_version_.store(std::make_shared<const std::string>(version));
}

bool SharedState::try_admit(uint32_t max_connections) {
  uint32_t n = open_sessions_.load();
  while (n < max_connections) {
    if (open_sessions_.compare_exchange_weak(n, n + 1)) {
      return true;
    }
  }
  return false;
}

}  // namespace replproxy::proxy
