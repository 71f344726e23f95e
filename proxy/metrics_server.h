#pragma once

// The Prometheus endpoint: a small HTTP server (libmicrohttpd, on a thread of its own) that
// answers GET /metrics with whatever the render callback returns, rendered fresh per scrape.

#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"

struct MHD_Daemon;

namespace replproxy::proxy {

class MetricsServer {
 public:
  // Called on libmicrohttpd's thread, once per scrape and never concurrently with itself. What it
  // reads while other threads change it must be safe to read so (atomics, published snapshots).
  using Render = std::function<std::string()>;

  MetricsServer();
  ~MetricsServer();  // stops
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds `listen` (an IP literal; port 0 picks a free one) and starts serving. The error says
  // what failed and on which address.
  std::expected<void, std::string> start(const config::Address& listen, Render render);
  // Closes the listener and open connections and waits for the server's thread, and so for a
  // render in progress. Safe to call when not started, and more than once.
  void stop();
  // The bound port; 0 when not started.
  uint16_t port() const { return port_; }

 private:
  struct DaemonStopper {
    void operator()(MHD_Daemon* daemon) const;
  };

  // Read by the request handler on libmicrohttpd's thread; set before that thread starts and
  // cleared only after it stopped.
  Render render_;
  std::unique_ptr<MHD_Daemon, DaemonStopper> daemon_;
  uint16_t port_ = 0;
};

}  // namespace replproxy::proxy
