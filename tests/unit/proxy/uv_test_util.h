#pragma once

// Helpers for the libuv-level proxy tests: running a loop with a watchdog, and a listening socket
// on a free port of 127.0.0.1.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <utility>

namespace replproxy::proxy::test {

// The watchdog turns a hang into a failure instead of a stuck test run. It is a safety net that a
// correct test never reaches, not a timing assertion, so it is generous.
inline constexpr uint64_t kWatchdogMs = 20'000;

// Runs `loop` until no referenced handle or request is left. If that has not happened after
// kWatchdogMs, the test fails and `on_stuck` closes what the test owns so the loop can end.
inline void run_loop(uv_loop_t* loop, std::function<void()> on_stuck) {
  struct Watchdog {
    uv_timer_t timer;
    std::function<void()> on_stuck;
  } watchdog{{}, std::move(on_stuck)};
  uv_timer_init(loop, &watchdog.timer);
  watchdog.timer.data = &watchdog;
  uv_timer_start(
      &watchdog.timer,
      [](uv_timer_t* t) {
        ADD_FAILURE() << "the loop did not finish within " << kWatchdogMs << " ms";
        static_cast<Watchdog*>(t->data)->on_stuck();
      },
      kWatchdogMs, 0);
  // Unreferenced: the watchdog alone does not keep the loop running.
  uv_unref(reinterpret_cast<uv_handle_t*>(&watchdog.timer));
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&watchdog.timer), nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
}

// A uv_tcp_t listening on 127.0.0.1 on a port the kernel picked. Each incoming connection is
// handed to `on_connection`, which accepts it from handle() (or not).
class Listener {
 public:
  Listener(uv_loop_t* loop, std::function<void(Listener&)> on_connection)
      : on_connection_(std::move(on_connection)) {
    uv_tcp_init(loop, &tcp_);
    tcp_.data = this;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    EXPECT_EQ(uv_tcp_bind(&tcp_, reinterpret_cast<const sockaddr*>(&addr), 0), 0);
    EXPECT_EQ(uv_listen(handle(), 16, &Listener::on_listen), 0);
    int len = sizeof(address_);
    EXPECT_EQ(uv_tcp_getsockname(&tcp_, reinterpret_cast<sockaddr*>(&address_), &len), 0);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&address_); }
  uint16_t port() const { return ntohs(address_.sin_port); }
  uv_stream_t* handle() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  int connections() const { return connections_; }
  bool closed() const { return closed_; }

  void close() {
    if (!closing_) {
      closing_ = true;
      uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
               [](uv_handle_t* h) { static_cast<Listener*>(h->data)->closed_ = true; });
    }
  }

 private:
  static void on_listen(uv_stream_t* server, int status) {
    auto* self = static_cast<Listener*>(server->data);
    ASSERT_EQ(status, 0);
    ++self->connections_;
    self->on_connection_(*self);
  }

  uv_tcp_t tcp_;
  sockaddr_in address_{};
  std::function<void(Listener&)> on_connection_;
  int connections_ = 0;
  bool closing_ = false;
  bool closed_ = false;
};

// A one-shot uv_timer_t (0 ms: "on the next loop iteration") for deferring work out of a
// callback, closed with close().
class Deferred {
 public:
  explicit Deferred(uv_loop_t* loop) {
    uv_timer_init(loop, &timer_);
    timer_.data = this;
  }
  Deferred(const Deferred&) = delete;
  Deferred& operator=(const Deferred&) = delete;

  void post(std::function<void()> fn) {
    fn_ = std::move(fn);
    ++posted_;
    uv_timer_start(&timer_, &Deferred::on_timer, 0, 0);
  }
  int posted() const { return posted_; }
  bool closed() const { return closed_; }

  void close() {
    if (!closing_) {
      closing_ = true;
      uv_close(reinterpret_cast<uv_handle_t*>(&timer_),
               [](uv_handle_t* h) { static_cast<Deferred*>(h->data)->closed_ = true; });
    }
  }

 private:
  static void on_timer(uv_timer_t* t) {
    // Moved out first: the function may post() again.
    auto fn = std::move(static_cast<Deferred*>(t->data)->fn_);
    fn();
  }

  uv_timer_t timer_;
  std::function<void()> fn_;
  int posted_ = 0;
  bool closing_ = false;
  bool closed_ = false;
};

// A port of 127.0.0.1 that is bound but not listening, so a connect to it is refused, and that
// nobody else can take while this object lives.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(address_);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &len), 0);
  }
  ~RefusingPort() { ::close(fd_); }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&address_); }
  uint16_t port() const { return ntohs(address_.sin_port); }

 private:
  int fd_ = -1;
  sockaddr_in address_{};
};

}  // namespace replproxy::proxy::test
