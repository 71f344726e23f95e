#pragma once

// The proxy as a whole: the shared state and the workers. main() builds it from a config, runs
// it until a signal, and stops it.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "health/prober.h"
#include "proxy/runtime.h"
#include "proxy/worker.h"

namespace replproxy::proxy {

class ProxyServer {
 public:
  explicit ProxyServer(std::shared_ptr<const Runtime> runtime);
  ~ProxyServer();

  // Binds every worker's listener and starts their threads.
  std::expected<void, std::string> start();
  // Stops accepting, lets in-flight commands finish within the grace period, then returns once
  // every worker has stopped.
  void stop();

  SharedState& shared() { return shared_; }
  health::Prober* prober() { return prober_.get(); }
  // The counters summed over every worker; any thread may call it while the workers run (the
  // counters are relaxed atomics), not concurrently with start() or stop().
  std::vector<StatValue> stats() const;
  // The workers' latency histograms summed, and their per-backend counters by name.
  admin::LatencyHistogram latency() const;
  std::map<std::string, BackendCounterTable::Totals, std::less<>> backend_totals() const;

  // Runs `task` on every worker's loop and waits (at most `timeout_ms`) until all have run it.
  // False when a worker did not answer in time. From any thread but a worker's.
  bool run_on_workers(const std::function<void(Worker&)>& task, uint32_t timeout_ms = 2000);

  // A reloaded config: published to the workers (sessions take it between commands) and to the
  // health checker, which starts or stops with the [health] table. Not thread-safe: the control
  // loop calls it.
  void apply(std::shared_ptr<const Runtime> runtime);

 private:
  void start_health();

  SharedState shared_;
  std::unique_ptr<health::Prober> prober_;  // with [health]; publishes into shared_
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace replproxy::proxy
