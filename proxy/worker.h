#pragma once

// A worker owns one libuv loop on its own thread, its listening socket (SO_REUSEPORT, so the
// kernel spreads connections over workers) and every session accepted on it. Nothing on the data
// path is shared between workers.

#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
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
  // few seconds by every session of this worker. By name, so that it survives a reload.
  bool backend_down(const std::string& backend);
  void mark_backend_down(const std::string& backend);

  BackendCounterTable& backend_counters() { return backend_counters_; }
  const BackendCounterTable& backend_counters() const { return backend_counters_; }

  // Runs `task` on this worker's loop thread, soon; thread-safe. False when the worker has
  // stopped (the task is dropped).
  using Task = std::function<void(Worker&)>;
  bool post(Task task);
  // For tasks: every session of this worker, on the loop thread.
  template <typename F>
  void for_each_session(F&& f) {
    std::vector<ClientSession*> open;
    open.reserve(sessions_.size());
    for (auto& [raw, owned] : sessions_) {
      open.push_back(raw);
    }
    for (ClientSession* s : open) {
      f(*s);
    }
  }

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
  std::unordered_map<std::string, uint64_t> backend_down_until_;  // loop time (ms), by name
  BackendCounterTable backend_counters_;
  std::mutex tasks_mutex_;
  std::vector<Task> tasks_;
  bool tasks_closed_ = false;  // under tasks_mutex_: the async handle is closing
};

}  // namespace replproxy::proxy
