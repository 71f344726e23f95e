#pragma once

// The embedded binlog relay as main starts it: the store under [relay] datadir, the upstream
// link (with its syncer) following the source health reports, and the replica server on
// [relay] listen. Its threads are its own (see relay/upstream.h and relay/replica_server.h); the
// control loop reads its status through view().

#include <condition_variable>
#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.h"
#include "proxy/controller.h"
#include "proxy/runtime.h"
#include "relay/binlog_store.h"
#include "relay/relay_stats.h"
#include "relay/replica_server.h"
#include "relay/upstream.h"

namespace replproxy::relay {

// The source to follow, from the shared state: [relay] source = "primary" takes health's current
// primary (the config's primary before health's first round, or without [health]);
// "backend:NAME" always that backend.
SourcePicker make_source_picker(const config::RelaySection& relay, proxy::SharedState& shared);

class RelayService {
 public:
  // Opens (and recovers) the store, binds the replica listener, starts the threads. An error
  // names what failed (an unreadable datadir, a listen address in use, a bad certificate).
  static std::expected<std::unique_ptr<RelayService>, std::string> start(
      const config::RelaySection& relay, const config::ProxySection& proxy,
      SourcePicker picker);
  ~RelayService();
  void stop();  // idempotent

  proxy::Controller::RelayView view() const;
  const BinlogStore& store() const { return *store_; }

 private:
  RelayService() = default;
  // Once a minute (and at start): purge by expire_logs_days / max_total_size, never a file a
  // connected replica still reads.
  void housekeeping_loop();
  void purge();

  config::RelaySection config_;
  RelayStats stats_;
  std::unique_ptr<BinlogStore> store_;
  std::unique_ptr<ReplicaServer> replicas_;
  std::unique_ptr<Upstream> upstream_;
  bool stopped_ = false;
  std::thread housekeeper_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

}  // namespace replproxy::relay
