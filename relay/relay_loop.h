#pragma once

// The relay loop: one libuv loop on a thread of its own, apart from the workers and the control
// loop, for long-lived links that are not client sessions (the [[tunnels]] today, the binlog
// relay later). It owns its components; each one's handles live on this loop.
//
// Lifetime: components are started on the caller's thread before the loop thread exists (so a
// start error reaches main), then only the loop thread touches them. stop() wakes the loop with
// a uv_async_t; every component closes its handles, uv_run returns once they are all closed,
// and only then are the components destroyed.

#include <uv.h>

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace replproxy::relay {

class Component {
 public:
  virtual ~Component() = default;
  // Creates its handles on `loop` (listening sockets, timers); an error stops the start.
  virtual std::expected<void, std::string> start(uv_loop_t* loop) = 0;
  // Closes every handle it owns (connections included), on the loop thread.
  virtual void close() = 0;
  virtual std::string_view name() const = 0;
};

class RelayLoop {
 public:
  RelayLoop();
  ~RelayLoop();
  RelayLoop(const RelayLoop&) = delete;
  RelayLoop& operator=(const RelayLoop&) = delete;

  // Before start() only.
  void add(std::unique_ptr<Component> component);
  bool empty() const { return components_.empty(); }

  // Starts every component, then the thread. On an error the components started so far are
  // closed again and no thread runs.
  std::expected<void, std::string> start();
  // Closes every component, joins the thread and closes the loop. Idempotent; the destructor
  // calls it.
  void stop();
  // After stop(): whether every handle was closed (uv_loop_close succeeded). A leak otherwise.
  bool closed_cleanly() const { return closed_cleanly_; }

 private:
  static void on_stop(uv_async_t* handle);
  bool run_until_closed();

  uv_loop_t loop_;
  uv_async_t stop_async_;
  std::vector<std::unique_ptr<Component>> components_;
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;
  bool closed_cleanly_ = false;
};

}  // namespace replproxy::relay
