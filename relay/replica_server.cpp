#include "relay/replica_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/replication.h"
#include "protocol/resultset.h"
#include "proxy/log.h"
#include "relay/dump_plan.h"
#include "relay/replica_dump.h"
#include "relay/replica_login.h"
#include "relay/replica_queries.h"

namespace replproxy::relay {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = proxy::module_logger("relay");
  return logger;
}

constexpr int kWriteTimeoutMs = 60000;

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct ReplicaServer::Session {
  uint64_t id = 0;
  std::unique_ptr<Channel> channel;
  std::thread thread;
  std::atomic<bool> done{false};
  std::atomic<uint32_t> file_in_use{UINT32_MAX};
};

ReplicaServer::ReplicaServer(BinlogStore& store, RelayStats& stats, Options options)
    : store_(store), stats_(stats), options_(std::move(options)) {}

ReplicaServer::~ReplicaServer() { stop(); }

std::expected<void, std::string> ReplicaServer::start() {
  auto fd = listen_tcp(options_.listen);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  listen_fd_ = *fd;
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
    return std::unexpected(std::string("eventfd: ") + std::strerror(errno));
  }
  acceptor_ = std::thread([this] { accept_loop(); });
  return {};
}

void ReplicaServer::stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  if (stop_fd_ >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_fd_, &one, sizeof one);
  }
  if (acceptor_.joinable()) {
    acceptor_.join();
  }
  std::list<std::unique_ptr<Session>> sessions;
  {
    std::lock_guard lock(mu_);
    for (auto& s : sessions_) {
      s->channel->shutdown();
    }
    sessions.swap(sessions_);
  }
  for (auto& s : sessions) {
    if (s->thread.joinable()) {
      s->thread.join();
    }
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  if (stop_fd_ >= 0) {
    ::close(stop_fd_);
    stop_fd_ = -1;
  }
}

uint32_t ReplicaServer::oldest_file_in_use() const {
  std::lock_guard lock(mu_);
  uint32_t oldest = UINT32_MAX;
  for (const auto& s : sessions_) {
    oldest = std::min(oldest, s->file_in_use.load());
  }
  return oldest;
}

void ReplicaServer::reap_finished() {
  std::list<std::unique_ptr<Session>> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if ((*it)->done.load()) {
        finished.push_back(std::move(*it));
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& s : finished) {
    s->thread.join();
  }
}

void ReplicaServer::accept_loop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, 1000);
    reap_finished();
    if (ready <= 0 || (fds[1].revents & POLLIN) != 0) {
      continue;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        log()->warn("relay: accept on {} failed: {}", options_.listen.to_string(),
                    std::strerror(errno));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto session = std::make_unique<Session>();
    session->id = ++next_id_;
    session->channel = std::make_unique<Channel>(fd);
    Session* raw = session.get();
    std::lock_guard lock(mu_);
    sessions_.push_back(std::move(session));
    raw->thread = std::thread([this, raw] {
      serve(raw);
      raw->done.store(true);
    });
  }
}

namespace {

RelayFacts facts_of(const BinlogStore& store, const ReplicaServer::Options& options) {
  RelayFacts f;
  f.server_id = options.server_id;
  f.version = options.server_version;
  if (f.version.starts_with("5.5.5-")) {
    f.version = f.version.substr(6);
  }
  f.checksums = !store.has_format() || store.checksums();
  f.gtid_binlog_pos = store.gtid_position().to_string();
  const StorePos end = store.committed_end();
  for (const StoreFileInfo& file : store.files()) {
    f.files.emplace_back(file.name, file.size);
    if (file.number == end.file) {
      f.current_file = file.name;
      f.current_position = end.offset;
    }
  }
  f.now_s = now_s();
  return f;
}

std::expected<void, std::string> write_answer(Channel& channel, const QueryAnswer& answer,
                                              uint64_t caps, uint8_t seq) {
  protocol::Bytes out;
  switch (answer.kind) {
    case QueryAnswer::Kind::rows: {
      std::vector<protocol::ColumnDefinition> columns;
      for (const std::string& name : answer.columns) {
        columns.push_back({.name = name, .org_name = name, .column_length = 1024});
      }
      protocol::encode_text_resultset(columns, answer.rows, caps, protocol::status::kAutocommit,
                                      seq, out);
      return channel.write(out, kWriteTimeoutMs);
    }
    case QueryAnswer::Kind::error:
      protocol::encode_err({answer.error_code, answer.sql_state, answer.message},
                           caps | protocol::cap::kProtocol41, out);
      return channel.write_packet(out, seq, kWriteTimeoutMs);
    case QueryAnswer::Kind::ok:
    case QueryAnswer::Kind::kill:
      protocol::encode_ok({.status_flags = protocol::status::kAutocommit}, caps, out);
      return channel.write_packet(out, seq, kWriteTimeoutMs);
  }
  return {};
}

}  // namespace

bool ReplicaServer::kill(uint64_t id) {
  std::lock_guard lock(mu_);
  for (auto& s : sessions_) {
    if (s->id == id && !s->done.load()) {
      s->channel->shutdown();
      return true;
    }
  }
  return false;
}

void ReplicaServer::serve(Session* session) {
  Channel& channel = *session->channel;
  const std::string peer = channel.peer();
  ReplicaLoginOptions login_options;
  login_options.server_version = options_.server_version;
  login_options.connection_id = static_cast<uint32_t>(session->id);
  login_options.users = &options_.users;
  login_options.tls = options_.tls.get();
  login_options.require_tls = options_.require_tls;
  auto login = serve_replica_login(channel, login_options);
  if (!login) {
    log()->warn("relay replica conn {} ({}): login refused: {}", session->id, peer,
                login.error());
    return;
  }
  const uint64_t caps = login->capabilities;
  ReplicaSessionVars vars;
  RelayStats::Replica info;
  info.id = session->id;
  info.address = peer;
  info.user = login->user;
  info.connected_at_s = now_s();
  for (;;) {
    auto packet = channel.read_packet(-1);
    if (!packet || !*packet || (*packet)->payload.empty()) {
      return;
    }
    const protocol::Bytes& payload = (*packet)->payload;
    uint8_t seq = static_cast<uint8_t>((*packet)->last_sequence_id + 1);
    const auto command = static_cast<protocol::Command>(payload[0]);
    std::expected<void, std::string> written;
    switch (command) {
      case protocol::Command::quit:
        return;
      case protocol::Command::ping:
      case protocol::Command::init_db:
        written = write_answer(channel, QueryAnswer{}, caps, seq);
        break;
      case protocol::Command::query: {
        const std::string_view sql(reinterpret_cast<const char*>(payload.data()) + 1,
                                   payload.size() - 1);
        QueryAnswer answer = answer_replica_query(sql, vars, facts_of(store_, options_));
        if (answer.kind == QueryAnswer::Kind::kill && !kill(answer.kill_id)) {
          answer = {QueryAnswer::Kind::error, {}, {}, 1094, "HY000",
                    "Unknown thread id: " + std::to_string(answer.kill_id)};
        }
        written = write_answer(channel, answer, caps, seq);
        break;
      }
      case protocol::Command::register_slave: {
        auto reg = protocol::decode_register_slave(payload);
        if (reg) {
          info.server_id = reg->server_id;
        }
        QueryAnswer answer;
        if (!reg) {
          answer = {QueryAnswer::Kind::error, {}, {}, 1047, "08S01", "Malformed COM_REGISTER_SLAVE"};
        }
        written = write_answer(channel, answer, caps, seq);
        break;
      }
      case protocol::Command::binlog_dump:
        dump(*session, payload, seq, caps, vars, info);
        return;
      case protocol::Command::binlog_dump_gtid: {
        QueryAnswer answer{QueryAnswer::Kind::error, {}, {}, kFatalErrorReadingBinlog, "HY000",
                           "the relay stores a MariaDB primary's binlog: COM_BINLOG_DUMP_GTID "
                           "(a MySQL replica's SOURCE_AUTO_POSITION) cannot be served; use "
                           "MASTER_USE_GTID=slave_pos from a MariaDB replica"};
        (void)write_answer(channel, answer, caps, seq);
        return;
      }
      default: {
        QueryAnswer answer{QueryAnswer::Kind::error, {}, {}, protocol::errc::kUnknownCom, "08S01",
                           "Unknown command"};
        written = write_answer(channel, answer, caps, seq);
        break;
      }
    }
    if (!written) {
      return;
    }
  }
}

void ReplicaServer::dump(Session& session, const protocol::Bytes& payload, uint8_t seq,
                         uint64_t caps, const ReplicaSessionVars& vars,
                         RelayStats::Replica& info) {
  Channel& channel = *session.channel;
  auto request = protocol::decode_binlog_dump(payload);
  if (!request) {
    QueryAnswer answer{QueryAnswer::Kind::error, {}, {}, protocol::errc::kUnknownCom, "08S01",
                       "Malformed COM_BINLOG_DUMP"};
    (void)write_answer(channel, answer, caps, seq);
    return;
  }
  if (info.server_id == 0) {
    info.server_id = request->server_id;
  }
  const std::vector<StoreFileInfo> files = store_.files();
  auto plan = vars.connect_state
                  ? plan_gtid_dump(*vars.connect_state, files, store_.gtid_position())
                  : plan_file_dump(request->file, request->position, files);
  const std::string from =
      vars.connect_state ? "GTID state '" + *vars.connect_state + "'"
                         : "'" + request->file + "' at " + std::to_string(request->position);
  if (!plan) {
    log()->warn("relay replica conn {} ({}, server_id {}): refused a dump from {}: {}",
                session.id, info.address, info.server_id, from, plan.error().message);
    QueryAnswer answer{QueryAnswer::Kind::error, {}, {}, plan.error().code, "HY000",
                       plan.error().message};
    (void)write_answer(channel, answer, caps, seq);
    return;
  }
  info.gtid_state = vars.connect_state.value_or("");
  info.semi_sync = vars.semi_sync;
  stats_.replica_connections.fetch_add(1, std::memory_order_relaxed);
  stats_.replica_update(info);
  log()->info("relay replica conn {} ({}, server_id {}): dump from {}{}", session.id,
              info.address, info.server_id, from, vars.semi_sync ? ", semi-sync" : "");
  ReplicaDumpOptions options;
  options.id = session.id;
  options.relay_server_id = options_.server_id;
  options.non_block = (request->flags & protocol::binlog_dump_flag::kNonBlock) != 0;
  options.capabilities = caps;
  options.write_timeout_ms = kWriteTimeoutMs;
  ReplicaDump streamer(channel, store_, stats_, vars, info, session.file_in_use, options);
  const std::string why = streamer.run(*plan, seq);
  stats_.replica_remove(session.id);
  log()->info("relay replica conn {} ({}, server_id {}): dump ended after {} events: {}",
              session.id, info.address, info.server_id, info.events, why);
}

}  // namespace replproxy::relay
