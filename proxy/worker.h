#pragma once

// A worker owns one libuv loop on its own thread, its listening socket (SO_REUSEPORT, so the
// kernel spreads connections over workers) and every session accepted on it. Nothing on the data
// path is shared between workers.

#include <uv.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "proxy/runtime.h"

namespace replproxy::proxy {

class ClientSession;

class Worker {
 public:
  Worker(int index, SharedState& shared);
  ~Worker();

  // Binds the listener (in the caller's thread, so bind errors surface at start) and starts the
  // loop thread.
  std::expected<void, std::string> start(const config::Address& listen);
  // Asks the worker to stop accepting and finish its sessions within `grace_ms`; thread-safe.
  void request_shutdown(uint32_t grace_ms);
  void join();

  uv_loop_t* loop() { return &loop_; }
  SharedState& shared() { return shared_; }
  WorkerStats& stats() { return stats_; }
  const WorkerStats& stats() const { return stats_; }
  int index() const { return index_; }
  size_t session_count() const { return session_count_.load(); }

  // Called by a session once all its handles are closed; frees it.
  void reap(ClientSession* session);

  // Until health checks arrive, a backend that refused a connection is skipped for reads for a
  // few seconds by every session of this worker.
  bool backend_down(size_t backend);
  void mark_backend_down(size_t backend);

 private:
  static void on_connection(uv_stream_t* server, int status);
  static void on_async(uv_async_t* async);
  static void on_grace_timeout(uv_timer_t* timer);

  void run();
  void begin_shutdown();
  void maybe_finish();

  int index_;
  SharedState& shared_;
  WorkerStats stats_;
  uv_loop_t loop_;
  uv_tcp_t listener_;
  uv_async_t async_;
  uv_timer_t grace_timer_;
  std::thread thread_;
  std::atomic<bool> shutdown_requested_{false};
  std::atomic<uint32_t> grace_ms_{0};
  bool shutting_down_ = false;
  bool closed_all_ = false;
  std::unordered_map<ClientSession*, std::unique_ptr<ClientSession>> sessions_;
  std::atomic<size_t> session_count_{0};
  std::vector<uint64_t> backend_down_until_;  // loop time (ms), by backend index
};

}  // namespace replproxy::proxy
