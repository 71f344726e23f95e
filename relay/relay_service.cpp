#include "relay/relay_service.h"

#include <chrono>
#include <ctime>

#include "proxy/log.h"
#include "proxy/tls.h"

namespace replproxy::relay {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = proxy::module_logger("relay");
  return logger;
}

std::string_view sync_name(config::RelaySync sync) {
  switch (sync) {
    case config::RelaySync::every_event:
      return "every_event";
    case config::RelaySync::group:
      return "group";
    case config::RelaySync::none:
      return "none";
  }
  return "?";
}

}  // namespace

SourcePicker make_source_picker(const config::RelaySection& relay, proxy::SharedState& shared) {
  const bool follow = relay.follow_primary;
  const std::string fixed = relay.source_backend;
  return [follow, fixed, &shared]() -> std::optional<Source> {
    const auto runtime = shared.runtime();
    const config::Config& config = *runtime->config;
    std::string name = fixed;
    if (follow) {
      const health::SnapshotPtr snapshot = shared.snapshot();
      if (snapshot) {
        const std::string* primary = snapshot->primary_name();
        if (primary == nullptr) {
          return std::nullopt;
        }
        name = *primary;
      } else {
        name = runtime->primary().name;
      }
    }
    const config::Backend* backend = config.find_backend(name);
    if (backend == nullptr) {
      return std::nullopt;
    }
    return Source{backend->name, backend->address};
  };
}

std::expected<std::unique_ptr<RelayService>, std::string> RelayService::start(
    const config::RelaySection& relay, const config::ProxySection& proxy, SourcePicker picker) {
  std::unique_ptr<RelayService> service(new RelayService());
  service->config_ = relay;
  BinlogStore::Options store_options;
  store_options.dir = relay.datadir;
  store_options.max_file_size = relay.max_file_size;
  store_options.server_id = relay.server_id;
  auto store = BinlogStore::open(store_options);
  if (!store) {
    return std::unexpected("[relay] datadir " + relay.datadir + ": " + store.error());
  }
  service->store_ = std::move(*store);

  ReplicaServer::Options replica_options;
  replica_options.listen = relay.listen;
  replica_options.server_id = relay.server_id;
  replica_options.server_version = proxy.server_version;
  replica_options.users = relay.users;
  replica_options.require_tls = relay.require_tls;
  if (!relay.tls_cert.empty()) {
    auto ctx = proxy::make_server_tls_context(relay.tls_cert, relay.tls_key);
    if (!ctx) {
      return std::unexpected("[relay] tls_cert: " + ctx.error());
    }
    replica_options.tls = std::shared_ptr<SSL_CTX>(ctx->release(), SSL_CTX_free);
  }
  service->replicas_ =
      std::make_unique<ReplicaServer>(*service->store_, service->stats_, replica_options);
  if (auto started = service->replicas_->start(); !started) {
    return std::unexpected("[relay] listen: " + started.error());
  }
  service->upstream_ = std::make_unique<Upstream>(relay, *service->store_, service->stats_,
                                                  std::move(picker));
  if (auto started = service->upstream_->start(); !started) {
    service->replicas_->stop();
    return std::unexpected(started.error());
  }
  if (relay.expire_logs_days > 0 || relay.max_total_size > 0) {
    RelayService* raw = service.get();
    service->housekeeper_ = std::thread([raw] { raw->housekeeping_loop(); });
  }
  log()->info("relay: serving replicas on {} from {} (GTID position {}, sync {}, semi-sync {})",
              relay.listen.to_string(), relay.datadir,
              service->store_->gtid_position().to_string().empty()
                  ? "empty"
                  : service->store_->gtid_position().to_string(),
              sync_name(relay.sync), relay.semi_sync ? "requested" : "off");
  return service;
}

RelayService::~RelayService() { stop(); }

void RelayService::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (housekeeper_.joinable()) {
    housekeeper_.join();
  }
  if (upstream_) {
    upstream_->stop();
  }
  if (replicas_) {
    replicas_->stop();
  }
  if (store_) {
    (void)store_->sync();
  }
}

void RelayService::housekeeping_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    purge();
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(60), [this] { return stopping_; });
  }
}

void RelayService::purge() {
  const uint32_t keep_from = replicas_ ? replicas_->oldest_file_in_use() : UINT32_MAX;
  const std::vector<std::string> removed =
      store_->purge(config_.expire_logs_days, config_.max_total_size, keep_from);
  if (!removed.empty()) {
    stats_.files_purged.fetch_add(removed.size(), std::memory_order_relaxed);
    log()->info("relay: purged {} file(s), {} to {}", removed.size(), removed.front(),
                removed.back());
  }
}

proxy::Controller::RelayView RelayService::view() const {
  proxy::Controller::RelayView view;
  admin::RelayStatus& s = view.status;
  const RelayStats::Text text = stats_.text();
  s.state = text.state;
  s.source = text.source;
  s.address = text.address;
  s.last_error = text.last_error;
  s.gtid_position = store_->gtid_position().to_string();
  const std::vector<StoreFileInfo> files = store_->files();
  s.files = files.size();
  for (const StoreFileInfo& f : files) {
    s.bytes_stored += f.size;
  }
  const StorePos end = store_->committed_end();
  if (end.file != 0) {
    s.current_file = store_->file_name(end.file);
    s.current_position = end.offset;
  }
  const auto load = [](const std::atomic<uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
  };
  s.events_received = load(stats_.events_received);
  s.bytes_received = load(stats_.bytes_received);
  s.checksum_errors = load(stats_.checksum_errors);
  s.stream_errors = load(stats_.stream_errors);
  s.connects = load(stats_.connects);
  s.sync = std::string(sync_name(config_.sync));
  // sync = "none" never acknowledges (it cannot promise durability), whatever semi_sync says.
  s.semi_sync_enabled = config_.semi_sync && config_.sync != config::RelaySync::none;
  s.semi_sync_active = stats_.semi_sync_active.load();
  s.acks_requested = load(stats_.acks_requested);
  s.acks_sent = load(stats_.acks_sent);
  s.ack_p50_us = stats_.ack_latency.quantile(0.5);
  s.ack_p99_us = stats_.ack_latency.quantile(0.99);
  s.ack_count = stats_.ack_latency.count();
  s.ack_sum_us = stats_.ack_latency.sum_us();
  s.fsyncs = load(stats_.fsyncs);
  s.files_purged = load(stats_.files_purged);
  s.replica_connections = load(stats_.replica_connections);
  s.events_sent = load(stats_.events_sent);
  s.bytes_sent = load(stats_.bytes_sent);

  // Lag of a replica: the newest stored event's timestamp against the last one it was sent.
  const std::vector<RelayStats::Replica> replicas = stats_.replicas();
  const int64_t newest_ts = stats_.newest_event_ts.load(std::memory_order_relaxed);
  const int64_t now = std::time(nullptr);
  for (const RelayStats::Replica& r : replicas) {
    admin::RelayReplicaStatus out;
    out.id = r.id;
    out.server_id = r.server_id;
    out.address = r.address;
    out.user = r.user;
    out.gtid_state = r.gtid_state;
    out.file = r.file;
    out.position = r.position;
    out.last_gtid = r.last_gtid;
    const bool caught_up = r.file == s.current_file && r.position >= s.current_position;
    out.lag_seconds = caught_up ? 0 : std::max<int64_t>(0, newest_ts - r.last_event_ts);
    out.semi_sync = r.semi_sync;
    out.acks = r.acks;
    out.events = r.events;
    out.connected_seconds = now - r.connected_at_s;
    view.replicas.push_back(std::move(out));
  }
  s.replicas = view.replicas.size();
  return view;
}

}  // namespace replproxy::relay
