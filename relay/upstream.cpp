#include "relay/upstream.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>

#include "protocol/binlog_bodies.h"
#include "protocol/generic.h"
#include "protocol/replication.h"
#include "proxy/log.h"
#include "relay/sql_client.h"

namespace replproxy::relay {
namespace {

using Clock = std::chrono::steady_clock;
namespace binlog = protocol::binlog;

std::shared_ptr<spdlog::logger> log() {
  static auto logger = proxy::module_logger("relay");
  return logger;
}

void drain(int fd) {
  uint64_t value = 0;
  while (::read(fd, &value, sizeof value) > 0) {
  }
}

void poke(int fd) {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "'";
}

// The GTIDs `stored` has that `source` lacks (per domain, a higher sequence number), as text.
std::string missing_gtids(const binlog::GtidPosition& stored, const binlog::GtidPosition& source) {
  std::string out;
  for (const binlog::Gtid& g : stored.gtids()) {
    if (!source.includes(g)) {
      out += (out.empty() ? "" : ",") + g.to_string();
    }
  }
  return out;
}

}  // namespace

// ---- Syncer ----

Syncer::Syncer(BinlogStore& store, RelayStats& stats, uint32_t group_sync_us, int wake_fd)
    : store_(store), stats_(stats), group_sync_us_(group_sync_us), wake_fd_(wake_fd) {}

Syncer::~Syncer() { stop(); }

void Syncer::start() { thread_ = std::thread([this] { run(); }); }

void Syncer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Syncer::request(bool ack_waiting) {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
    urgent_ = urgent_ || ack_waiting;
  }
  cv_.notify_one();
}

void Syncer::run() {
  auto next_housekeeping = Clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (Clock::now() >= next_housekeeping) {
      lock.unlock();
      if (housekeeping_) {
        housekeeping_();
      }
      lock.lock();
      next_housekeeping = Clock::now() + std::chrono::seconds(60);
    }
    if (!pending_) {
      cv_.wait_until(lock, next_housekeeping, [this] { return pending_ || stopping_; });
      continue;
    }
    if (!urgent_) {
      // Groups without an ACK waiting: gather for up to group_sync_us, unless one comes that
      // an ACK waits for.
      cv_.wait_for(lock, std::chrono::microseconds(group_sync_us_),
                   [this] { return urgent_ || stopping_; });
    }
    pending_ = false;
    urgent_ = false;
    lock.unlock();
    if (auto synced = store_.sync(); !synced) {
      log()->error("relay: fdatasync failed: {}", synced.error());
    } else {
      stats_.fsyncs.fetch_add(1, std::memory_order_relaxed);
    }
    poke(wake_fd_);
    lock.lock();
  }
}

// ---- Upstream ----

Upstream::Upstream(const config::RelaySection& config, BinlogStore& store, RelayStats& stats,
                   SourcePicker picker)
    : config_(config), store_(store), stats_(stats), picker_(std::move(picker)) {}

Upstream::~Upstream() { stop(); }

std::expected<void, std::string> Upstream::start() {
  if (config_.upstream_tls) {
    auto ctx = proxy::make_client_tls_context(config_.upstream_tls_ca, config_.upstream_tls_verify);
    if (!ctx) {
      return std::unexpected("[relay] upstream_tls: " + ctx.error());
    }
    tls_ = std::move(*ctx);
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    return std::unexpected(std::string("[relay]: cannot create an eventfd"));
  }
  if (config_.sync == config::RelaySync::none && config_.semi_sync) {
    log()->warn(
        "relay: sync = \"none\" cannot promise durability, so the relay never acknowledges "
        "semi-sync (semi_sync = true is ignored)");
  }
  if (config_.sync == config::RelaySync::group) {
    syncer_ = std::make_unique<Syncer>(store_, stats_, config_.group_sync_us, wake_fd_);
  }
  thread_ = std::thread([this] { run(); });
  return {};
}

void Upstream::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) {
      return;
    }
    stopping_ = true;
    if (channel_ != nullptr) {
      channel_->shutdown();
    }
  }
  cv_.notify_all();
  if (wake_fd_ >= 0) {
    poke(wake_fd_);
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  if (syncer_) {
    syncer_->stop();
  }
  if (wake_fd_ >= 0) {
    ::close(wake_fd_);
    wake_fd_ = -1;
  }
}

bool Upstream::sleep_for(uint32_t ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
  return !stopping_;
}

void Upstream::run() {
  if (syncer_) {
    syncer_->start();
  }
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        break;
      }
    }
    std::optional<Source> source = picker_();
    if (!source) {
      stats_.set_state("waiting for a primary", "", "");
      if (!sleep_for(config_.upstream_retry_ms)) {
        break;
      }
      continue;
    }
    const std::string why = session(*source);
    stats_.connected.store(false);
    stats_.semi_sync_active.store(false);
    if (store_.in_group()) {
      if (auto cut = store_.discard_open_group(); !cut) {
        log()->error("relay: cannot cut the incomplete group off the store: {}", cut.error());
      }
    }
    pending_.clear();
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        break;
      }
    }
    if (why == "source changed") {
      continue;  // reconnect to the new source at once
    }
    if (why != last_logged_error_) {
      log()->error("relay: link to {} ({}) ended: {}; retrying every {} ms from {}", source->name,
                   source->address.to_string(), why, config_.upstream_retry_ms,
                   store_.gtid_position().to_string());
      last_logged_error_ = why;
    }
    stats_.set_error(why);
    if (!sleep_for(config_.upstream_retry_ms)) {
      break;
    }
  }
  stats_.set_state("stopped", "", "");
}

std::expected<void, std::string> Upstream::send_durable_acks(Channel& channel) {
  const StorePos durable = store_.durable();
  while (!pending_.empty() && pending_.front().stored <= durable) {
    const PendingAck& ack = pending_.front();
    protocol::Bytes payload;
    protocol::encode_semi_sync_ack({ack.position, ack.file}, payload);
    uint8_t seq = 0;
    if (auto w = channel.write_packet(payload, seq, 5000); !w) {
      return std::unexpected("sending a semi-sync ACK: " + w.error());
    }
    stats_.acks_sent.fetch_add(1, std::memory_order_relaxed);
    stats_.ack_latency.record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - ack.received)
            .count()));
    pending_.pop_front();
  }
  return {};
}

std::string Upstream::session(const Source& source) {
  const std::string where = source.name + " (" + source.address.to_string() + ")";
  stats_.set_state("connecting", source.name, source.address.to_string());
  auto connected = Channel::connect(source.address, 5000);
  if (!connected) {
    return connected.error();
  }
  std::unique_ptr<Channel> channel = std::move(*connected);
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      return "stopping";
    }
    channel_ = channel.get();
  }
  struct Detach {
    Upstream* self;
    ~Detach() {
      std::lock_guard lock(self->mu_);
      self->channel_ = nullptr;
    }
  } detach{this};

  SqlClient client(*channel);
  LoginOptions login{config_.upstream_user, config_.upstream_password, tls_.get(),
                     source.address.host, 10000};
  if (auto ok = client.login(login); !ok) {
    return "login: " + ok.error();
  }
  const std::string& version = client.greeting().server_version;
  if (version.find("MariaDB") == std::string::npos) {
    // COM_BINLOG_DUMP_GTID is encoded and fixture-tested, but no MySQL server can be run here
    // to prove the rest of the exchange, so a MySQL source is refused rather than half served.
    return "the source is not MariaDB (" + version +
           "): relaying from MySQL is not supported yet";
  }
  stats_.set_state("checking the source", source.name, source.address.to_string());
  auto probe = client.query(
      "SELECT @@global.server_id, @@global.binlog_checksum, @@global.gtid_binlog_pos, "
      "@@global.log_bin");
  if (!probe) {
    return "probe: " + probe.error();
  }
  if (probe->rows.empty() || probe->rows[0].size() < 4) {
    return "probe: no row";
  }
  const auto& row = probe->rows[0];
  const std::string server_id = row[0].value_or("");
  const std::string checksum = row[1].value_or("NONE");
  const std::string binlog_pos = row[2].value_or("");
  if (row[3].value_or("0") != "1") {
    return "the source has no binary log (log_bin is OFF)";
  }
  if (server_id == std::to_string(config_.server_id)) {
    return "the source has server_id " + server_id + ", the relay's own [relay] server_id";
  }
  auto source_pos = binlog::GtidPosition::parse(binlog_pos);
  if (!source_pos) {
    return "the source's gtid_binlog_pos cannot be read: " + binlog_pos;
  }
  const binlog::GtidPosition stored = store_.gtid_position();
  if (const std::string missing = missing_gtids(stored, *source_pos); !missing.empty()) {
    const std::string why = "refused: " + where + " lacks GTIDs the relay already stored (" +
                            missing + "; it has " + binlog_pos + ")";
    stats_.set_state("refused", source.name, source.address.to_string());
    return why;
  }
  bool primary_semi_sync = false;
  if (auto vars = client.query("SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync_%_enabled'"); vars) {
    for (const auto& v : vars->rows) {
      if (v.size() == 2 && v[0] && v[1] &&
          (*v[0] == "rpl_semi_sync_master_enabled" || *v[0] == "rpl_semi_sync_source_enabled") &&
          *v[1] == "ON") {
        primary_semi_sync = true;
      }
    }
  }
  const bool semi_sync =
      config_.semi_sync && config_.sync != config::RelaySync::none && primary_semi_sync;
  const bool checksums = checksum == "CRC32";
  const uint64_t heartbeat_ns = uint64_t{config_.upstream_heartbeat_ms} * 1000000;
  std::vector<std::string> setup = {
      "SET @master_heartbeat_period= " + std::to_string(heartbeat_ns),
      "SET @master_binlog_checksum= @@global.binlog_checksum",
      "SET @mariadb_slave_capability=4",
      "SET @slave_connect_state=" + quote(stored.to_string()),
      "SET @slave_gtid_strict_mode=1",
      "SET @slave_gtid_ignore_duplicates=0",
  };
  if (semi_sync) {
    setup.push_back("SET @rpl_semi_sync_slave= 1");
    setup.push_back("SET @rpl_semi_sync_replica= 1");
  }
  for (const std::string& sql : setup) {
    if (auto r = client.query(sql); !r) {
      return sql + ": " + r.error();
    }
  }
  protocol::Bytes payload;
  protocol::encode_register_slave(
      {config_.server_id, config_.listen.host, "", "", config_.listen.port, 0, 0}, payload);
  if (auto r = client.command_ok(payload); !r) {
    return "COM_REGISTER_SLAVE: " + r.error();
  }
  payload.clear();
  protocol::encode_binlog_dump(
      {4, protocol::binlog_dump_flag::kSendAnnotateRows, config_.server_id, ""}, payload);
  uint8_t seq = 0;
  if (auto w = channel->write_packet(payload, seq, 5000); !w) {
    return "COM_BINLOG_DUMP: " + w.error();
  }
  stats_.connects.fetch_add(1, std::memory_order_relaxed);
  stats_.connected.store(true);
  stats_.semi_sync_active.store(semi_sync);
  stats_.set_state("streaming", source.name, source.address.to_string());
  stats_.set_error("");
  last_logged_error_.clear();
  log()->info("relay: replicating from {} at GTID {} (checksum {}, semi-sync {}, {})", where,
              stored.to_string().empty() ? "''" : stored.to_string(), checksum,
              semi_sync ? "on" : (config_.semi_sync ? "off on the source" : "not requested"),
              channel->tls() ? "TLS " + channel->cipher() : std::string("plaintext"));

  uint8_t expected_seq = 1;
  std::string primary_file;
  const int dead_after_ms = static_cast<int>(config_.upstream_heartbeat_ms * 2 + 1000);
  auto last_byte = Clock::now();
  auto next_source_check = Clock::now() + std::chrono::milliseconds(500);
  for (;;) {
    if (Clock::now() >= next_source_check) {
      next_source_check = Clock::now() + std::chrono::milliseconds(500);
      if (std::optional<Source> now = picker_(); !now || !(*now == source)) {
        log()->info("relay: the source is now {}: leaving {}",
                    now ? now->name + " (" + now->address.to_string() + ")" : "none", where);
        return "source changed";
      }
    }
    Channel::Woken woken = Channel::Woken::no;
    auto packet = channel->read_packet(500, wake_fd_, &woken);
    if (!packet) {
      return packet.error();
    }
    if (!*packet) {
      if (woken == Channel::Woken::wake_fd) {
        drain(wake_fd_);
        if (auto sent = send_durable_acks(*channel); !sent) {
          return sent.error();
        }
      }
      {
        std::lock_guard lock(mu_);
        if (stopping_) {
          return "stopping";
        }
      }
      if (Clock::now() - last_byte > std::chrono::milliseconds(dead_after_ms)) {
        return "no event or heartbeat for " + std::to_string(dead_after_ms) +
               " ms: the link is dead";
      }
      continue;
    }
    last_byte = Clock::now();
    Packet& p = **packet;
    if (p.sequence_id != expected_seq) {
      stats_.stream_errors.fetch_add(1, std::memory_order_relaxed);
      return "packets out of order (sequence id " + std::to_string(p.sequence_id) + ", expected " +
             std::to_string(expected_seq) + ")";
    }
    expected_seq = static_cast<uint8_t>(p.last_sequence_id + 1);
    auto dump = protocol::decode_dump_packet(p.payload, semi_sync, client.capabilities());
    if (!dump) {
      stats_.stream_errors.fetch_add(1, std::memory_order_relaxed);
      return "a malformed packet in the binlog stream";
    }
    if (dump->kind == protocol::DumpPacket::Kind::error) {
      return "the source ended the dump: ERROR " + std::to_string(dump->error.error_code) + ": " +
             dump->error.message;
    }
    if (dump->kind == protocol::DumpPacket::Kind::eof) {
      return "the source ended the dump (EOF)";
    }
    if (dump->ack_requested) {
      expected_seq = 1;  // the primary restarts the sequence after an ACK request
    }
    const protocol::ByteView event = dump->event;
    if (checksums && !binlog::checksum_matches(event)) {
      stats_.checksum_errors.fetch_add(1, std::memory_order_relaxed);
      auto header = binlog::decode_event_header(event);
      return "checksum mismatch in a " +
             std::string(binlog::event_type_name(header ? header->type : 0)) +
             " event: nothing of it was stored";
    }
    auto view = binlog::split_event(event, checksums);
    if (!view) {
      stats_.stream_errors.fetch_add(1, std::memory_order_relaxed);
      return "a malformed event in the binlog stream";
    }
    switch (view->type()) {
      case binlog::EventType::rotate: {
        auto rotate = binlog::decode_rotate(view->body);
        if (!rotate) {
          return "a malformed ROTATE event";
        }
        primary_file = rotate->next_file;
        continue;
      }
      case binlog::EventType::format_description: {
        auto fde = binlog::decode_format_description(event);
        if (!fde) {
          return "a malformed FORMAT_DESCRIPTION event";
        }
        if (fde->events_have_checksum() != checksums) {
          return "the FORMAT_DESCRIPTION's checksum setting differs from binlog_checksum";
        }
        if (store_.in_group()) {
          (void)store_.discard_open_group();
        }
        if (auto set = store_.set_format(event); !set) {
          return "store: " + set.error();
        }
        continue;
      }
      case binlog::EventType::heartbeat:
      case binlog::EventType::heartbeat_v2:
      case binlog::EventType::gtid_list:
      case binlog::EventType::binlog_checkpoint:
      case binlog::EventType::stop:
        continue;  // the relay's files carry their own
      case binlog::EventType::start_encryption:
        return "the source encrypts its binlog (START_ENCRYPTION): not supported";
      default:
        break;
    }
    if (!store_.has_format()) {
      return "an event before any FORMAT_DESCRIPTION";
    }
    auto appended = store_.append(event);
    if (!appended) {
      return "store: " + appended.error();
    }
    stats_.events_received.fetch_add(1, std::memory_order_relaxed);
    stats_.bytes_received.fetch_add(event.size(), std::memory_order_relaxed);
    if (view->header.timestamp != 0) {
      stats_.newest_event_ts.store(view->header.timestamp, std::memory_order_relaxed);
    }
    if (config_.sync == config::RelaySync::every_event) {
      if (auto synced = store_.sync(); !synced) {
        return "fdatasync: " + synced.error();
      }
      stats_.fsyncs.fetch_add(1, std::memory_order_relaxed);
    }
    if (dump->ack_requested) {
      stats_.acks_requested.fetch_add(1, std::memory_order_relaxed);
      pending_.push_back({primary_file, view->header.log_pos, appended->end, last_byte});
    }
    if (config_.sync == config::RelaySync::group && (appended->group_end || dump->ack_requested)) {
      syncer_->request(dump->ack_requested);
    }
    if (!pending_.empty()) {
      if (auto sent = send_durable_acks(*channel); !sent) {
        return sent.error();
      }
    }
  }
}

}  // namespace replproxy::relay
