#include "proxy/proxy_server.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "proxy/log.h"

namespace replproxy::proxy {

ProxyServer::ProxyServer(std::shared_ptr<const Runtime> runtime) : shared_(std::move(runtime)) {}

ProxyServer::~ProxyServer() { stop(); }

// With [health], the prober runs before the first client is accepted, and the proxy waits (up to
// about one probe round) for its first snapshot, so that the first reads already go only to
// replicas known to be fit.
void ProxyServer::start_health() {
  const auto config = shared_.runtime()->config;
  if (!config->health.enabled) {
    return;
  }
  prober_ = std::make_unique<health::Prober>(
      config, [this](health::SnapshotPtr snapshot) { shared_.set_snapshot(std::move(snapshot)); });
  prober_->start();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(config->health.probe_timeout_ms +
                                                  config->health.interval_ms);
  while (!shared_.snapshot() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!shared_.snapshot()) {
    module_logger("proxy")->warn(
        "no health snapshot yet; routing uses the configured roles until the first one");
  }
}

std::expected<void, std::string> ProxyServer::start() {
  start_health();
  const auto runtime = shared_.runtime();
  uint32_t count = runtime->config->proxy.workers;
  if (count == 0) {
    count = std::max(1u, std::thread::hardware_concurrency());
  }
  for (uint32_t i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(static_cast<int>(i), shared_);
    if (auto started = worker->start(runtime->config->proxy.listen); !started) {
      stop();
      return started;
    }
    workers_.push_back(std::move(worker));
  }
  module_logger("proxy")->info("listening on {} with {} worker(s)",
                               runtime->config->proxy.listen.to_string(), count);
  return {};
}

std::vector<StatValue> ProxyServer::stats() const {
  std::vector<StatValue> totals = stat_values(WorkerStats{});
  for (const auto& worker : workers_) {
    add_stats(worker->stats(), totals);
  }
  return totals;
}

admin::LatencyHistogram ProxyServer::latency() const {
  admin::LatencyHistogram histogram;
  add_latency(WorkerStats{}, histogram);
  for (const auto& worker : workers_) {
    add_latency(worker->stats(), histogram);
  }
  return histogram;
}

std::map<std::string, BackendCounterTable::Totals, std::less<>> ProxyServer::backend_totals()
    const {
  std::map<std::string, BackendCounterTable::Totals, std::less<>> totals;
  for (const auto& worker : workers_) {
    worker->backend_counters().add_to(totals);
  }
  return totals;
}

bool ProxyServer::run_on_workers(const std::function<void(Worker&)>& task, uint32_t timeout_ms) {
  // Shared with the tasks: a worker that answers after the timeout still finds it alive.
  struct Pending {
    std::mutex mutex;
    std::condition_variable done;
    size_t remaining = 0;
  };
  auto pending = std::make_shared<Pending>();
  {
    std::lock_guard lock(pending->mutex);
    for (const auto& worker : workers_) {
      const bool posted = worker->post([pending, task](Worker& w) {
        task(w);
        std::lock_guard lock(pending->mutex);
        --pending->remaining;
        pending->done.notify_all();
      });
      pending->remaining += posted ? 1 : 0;
    }
  }
  std::unique_lock lock(pending->mutex);
  return pending->done.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                [&] { return pending->remaining == 0; });
}

void ProxyServer::apply(std::shared_ptr<const Runtime> runtime) {
  const auto config = runtime->config;
  shared_.set_runtime(std::move(runtime));
  if (config->health.enabled && prober_) {
    prober_->set_config(config);
  } else if (config->health.enabled) {
    start_health();
  } else if (prober_) {
    prober_->stop();
    prober_.reset();
    shared_.set_snapshot(nullptr);
    module_logger("proxy")->info("[health] removed: routing uses the configured roles");
  }
}

void ProxyServer::stop() {
  const uint32_t grace = shared_.runtime()->config->proxy.shutdown_grace_ms;
  for (auto& w : workers_) {
    w->request_shutdown(grace);
  }
  for (auto& w : workers_) {
    w->join();
  }
  workers_.clear();
  if (prober_) {
    prober_->stop();
  }
}

}  // namespace replproxy::proxy
