// BackendWorker: the thread that probes one backend when the coordinator asks, over one
// persistent session.

#include <utility>

#include "health/prober.h"

namespace replproxy::health {

BackendWorker::BackendWorker(ServerEndpoint endpoint, std::function<void()> done)
    : endpoint_(std::move(endpoint)), done_callback_(std::move(done)) {
  thread_ = std::thread([this] { run(); });
}

BackendWorker::~BackendWorker() {
  request_stop();
  join();
}

void BackendWorker::request(uint64_t round, ProbeRequest request) {
  {
    std::lock_guard lock(mutex_);
    requested_round_ = round;
    request_ = std::move(request);
  }
  cv_.notify_one();
}

bool BackendWorker::done(uint64_t round) const {
  std::lock_guard lock(mutex_);
  return done_round_ == round;
}

std::optional<ProbeOutcome> BackendWorker::take(uint64_t round) {
  std::lock_guard lock(mutex_);
  if (done_round_ != round || !outcome_) {
    return std::nullopt;
  }
  return std::exchange(outcome_, std::nullopt);
}

void BackendWorker::request_stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_one();
}

void BackendWorker::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void BackendWorker::run() {
  ServerConnection conn(endpoint_);
  for (;;) {
    uint64_t round = 0;
    ProbeRequest request;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || requested_round_ > done_round_; });
      if (stopping_) {
        return;
      }
      // A request that arrived while the previous probe ran replaces it: only the newest round
      // is probed.
      round = requested_round_;
      request = request_;
    }
    ProbeOutcome outcome = probe_server(conn, request);
    {
      std::lock_guard lock(mutex_);
      done_round_ = round;
      outcome_ = std::move(outcome);
    }
    done_callback_();
  }
}

}  // namespace replproxy::health
