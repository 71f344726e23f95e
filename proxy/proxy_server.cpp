#include "proxy/proxy_server.h"

#include <thread>

#include "proxy/log.h"

namespace replproxy::proxy {

ProxyServer::ProxyServer(std::shared_ptr<const Runtime> runtime) : shared_(std::move(runtime)) {}

ProxyServer::~ProxyServer() { stop(); }

std::expected<void, std::string> ProxyServer::start() {
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

void ProxyServer::stop() {
  const uint32_t grace = shared_.runtime()->config->proxy.shutdown_grace_ms;
  for (auto& w : workers_) {
    w->request_shutdown(grace);
  }
  for (auto& w : workers_) {
    w->join();
  }
  workers_.clear();
}

}  // namespace replproxy::proxy
