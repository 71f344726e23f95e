#include "relay/relay_loop.h"

#include <cassert>

#include "proxy/log.h"

namespace replproxy::relay {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = proxy::module_logger("relay");
  return logger;
}

}  // namespace

RelayLoop::RelayLoop() {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &stop_async_, &RelayLoop::on_stop);
  stop_async_.data = this;
}

RelayLoop::~RelayLoop() { stop(); }

void RelayLoop::add(std::unique_ptr<Component> component) {
  assert(!started_);
  components_.push_back(std::move(component));
}

std::expected<void, std::string> RelayLoop::start() {
  for (size_t i = 0; i < components_.size(); ++i) {
    if (auto started = components_[i]->start(&loop_); !started) {
      for (size_t j = 0; j <= i; ++j) {
        components_[j]->close();
      }
      return std::unexpected(std::string(components_[i]->name()) + ": " + started.error());
    }
  }
  started_ = true;
  thread_ = std::thread([this] {
    uv_run(&loop_, UV_RUN_DEFAULT);
    log()->debug("relay loop stopped");
  });
  log()->info("relay loop running {} component(s)", components_.size());
  return {};
}

void RelayLoop::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (started_) {
    uv_async_send(&stop_async_);
    thread_.join();
  } else {
    // No thread ran the loop: close the async handle here, with whatever a failed start left.
    uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
  }
  closed_cleanly_ = run_until_closed();
}

void RelayLoop::on_stop(uv_async_t* handle) {
  auto* self = static_cast<RelayLoop*>(handle->data);
  for (auto& component : self->components_) {
    component->close();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&self->stop_async_), nullptr);
}

// Runs the loop until every handle's close callback ran, then frees it. A handle left open is
// a leak of this module: it is logged rather than hidden.
bool RelayLoop::run_until_closed() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop_) != 0) {
    log()->error("relay loop closed with handles still open");
    return false;
  }
  return true;
}

}  // namespace replproxy::relay
