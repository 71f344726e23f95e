#include "proxy/worker.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "proxy/client_session.h"
#include "proxy/log.h"

namespace replproxy::proxy {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = module_logger("worker");
  return logger;
}

// Debian's libuv 1.44 has no UV_TCP_REUSEPORT: make the socket ourselves, set SO_REUSEPORT so
// every worker can bind the same address, and hand it to libuv.
std::expected<int, std::string> bind_reuseport(const config::Address& listen) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (uv_ip4_addr(listen.host.c_str(), listen.port, reinterpret_cast<sockaddr_in*>(&addr)) == 0) {
    len = sizeof(sockaddr_in);
  } else if (uv_ip6_addr(listen.host.c_str(), listen.port,
                         reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    len = sizeof(sockaddr_in6);
  } else {
    return std::unexpected("not an IP address: " + listen.host);
  }
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::unexpected(std::string("socket: ") + std::strerror(errno));
  }
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    return std::unexpected("cannot listen on " + listen.to_string() + ": " + reason);
  }
  return fd;
}

}  // namespace

Worker::Worker(int index, SharedState& shared) : index_(index), shared_(shared) {
  uv_loop_init(&loop_);
  loop_.data = this;
}

Worker::~Worker() {
  join();
  uv_loop_close(&loop_);
}

std::expected<void, std::string> Worker::start(const config::Address& listen) {
  auto fd = bind_reuseport(listen);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  uv_tcp_init(&loop_, &listener_);
  listener_.data = this;
  if (int rc = uv_tcp_open(&listener_, *fd); rc != 0) {
    return std::unexpected(std::string("uv_tcp_open: ") + uv_strerror(rc));
  }
  if (int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 1024, &Worker::on_connection);
      rc != 0) {
    return std::unexpected("cannot listen on " + listen.to_string() + ": " + uv_strerror(rc));
  }
  uv_async_init(&loop_, &async_, &Worker::on_async);
  async_.data = this;
  uv_timer_init(&loop_, &grace_timer_);
  grace_timer_.data = this;
  thread_ = std::thread([this] { run(); });
  return {};
}

void Worker::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  log()->debug("worker {} stopped", index_);
}

void Worker::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Worker::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<Worker*>(server->data);
  if (status != 0) {
    log()->warn("worker {}: accept failed: {}", self->index_, uv_strerror(status));
    return;
  }
  auto session = std::make_unique<ClientSession>(*self, self->shared_.next_connection_id());
  if (session->accept(server) != 0) {
    // Another worker's loop took it first, or the peer went away. The session's handle was
    // initialised, so it must still be closed through the loop.
    ClientSession* raw = session.get();
    self->sessions_.emplace(raw, std::move(session));
    self->session_count_.store(self->sessions_.size());
    raw->close("accept failed");
    return;
  }
  ClientSession* raw = session.get();
  self->sessions_.emplace(raw, std::move(session));
  self->session_count_.store(self->sessions_.size());
  raw->start();
}

void Worker::reap(ClientSession* session) {
  sessions_.erase(session);
  session_count_.store(sessions_.size());
  if (shutting_down_) {
    maybe_finish();
  }
}

namespace {
constexpr uint64_t kBackendDownMs = 5000;
}  // namespace

bool Worker::backend_down(const std::string& backend) {
  if (backend_down_until_.empty()) {
    return false;  // the usual case: no lookup on the data path
  }
  const auto it = backend_down_until_.find(backend);
  return it != backend_down_until_.end() && it->second > uv_now(&loop_);
}

void Worker::mark_backend_down(const std::string& backend) {
  if (!backend_down(backend)) {
    log()->warn("worker {}: backend '{}' cannot be reached; skipped for reads for {} ms", index_,
                backend, kBackendDownMs);
  }
  backend_down_until_[backend] = uv_now(&loop_) + kBackendDownMs;
}

bool Worker::post(Task task) {
  {
    std::lock_guard lock(tasks_mutex_);
    if (tasks_closed_) {
      return false;
    }
    tasks_.push_back(std::move(task));
  }
  uv_async_send(&async_);
  return true;
}

void Worker::request_shutdown(uint32_t grace_ms) {
  grace_ms_.store(grace_ms);
  shutdown_requested_.store(true);
  uv_async_send(&async_);
}

void Worker::on_async(uv_async_t* async) {
  auto* self = static_cast<Worker*>(async->data);
  std::vector<Task> tasks;
  {
    std::lock_guard lock(self->tasks_mutex_);
    tasks.swap(self->tasks_);
  }
  for (Task& task : tasks) {
    task(*self);
  }
  if (self->shutdown_requested_.load() && !self->shutting_down_) {
    self->begin_shutdown();
  }
}

void Worker::begin_shutdown() {
  shutting_down_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  log()->info("worker {}: stopping; {} session(s) may finish within {} ms", index_,
              sessions_.size(), grace_ms_.load());
  std::vector<ClientSession*> open;
  for (auto& [raw, owned] : sessions_) {
    open.push_back(raw);
  }
  for (ClientSession* s : open) {
    s->begin_shutdown();
  }
  uv_timer_start(&grace_timer_, &Worker::on_grace_timeout, grace_ms_.load(), 0);
  maybe_finish();
}

void Worker::on_grace_timeout(uv_timer_t* timer) {
  auto* self = static_cast<Worker*>(timer->data);
  log()->warn("worker {}: grace period over; closing {} session(s)", self->index_,
              self->sessions_.size());
  std::vector<ClientSession*> open;
  for (auto& [raw, owned] : self->sessions_) {
    open.push_back(raw);
  }
  for (ClientSession* s : open) {
    s->close("shutdown grace period over");
  }
}

void Worker::maybe_finish() {
  if (!sessions_.empty() || closed_all_) {
    return;
  }
  closed_all_ = true;
  {
    // Tasks posted from now on are dropped; those already queued run no more either, and are
    // destroyed here so that whoever waits on them hears of it.
    std::lock_guard lock(tasks_mutex_);
    tasks_closed_ = true;
    tasks_.clear();
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&grace_timer_), nullptr);
}

}  // namespace replproxy::proxy
