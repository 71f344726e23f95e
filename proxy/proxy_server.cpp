#include "proxy/proxy_server.h"

#include <chrono>
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
