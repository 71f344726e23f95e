#include "relay/replica_dump.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "protocol/binlog_bodies.h"
#include "protocol/binlog_transaction.h"
#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/packet.h"
#include "protocol/replication.h"

namespace replproxy::relay {
namespace {

namespace binlog = protocol::binlog;
using Clock = std::chrono::steady_clock;

// An eventfd the store pokes when committed_end() moves, unsubscribed and closed at scope end.
class StoreWaker {
 public:
  explicit StoreWaker(BinlogStore& store)
      : store_(store), fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ >= 0) {
      store_.subscribe(fd_);
    }
  }
  ~StoreWaker() {
    if (fd_ >= 0) {
      store_.unsubscribe(fd_);
      ::close(fd_);
    }
  }
  StoreWaker(const StoreWaker&) = delete;
  StoreWaker& operator=(const StoreWaker&) = delete;
  int fd() const { return fd_; }
  void drain() const {
    uint64_t value = 0;
    [[maybe_unused]] ssize_t n = ::read(fd_, &value, sizeof value);
  }

 private:
  BinlogStore& store_;
  int fd_;
};

// Opens a file of the store; a file that a rotation is creating right now may take a moment.
std::expected<std::unique_ptr<BinlogFileReader>, std::string> open_file(BinlogStore& store,
                                                                        uint32_t number) {
  std::string last_error;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto reader = BinlogFileReader::open(store.path(number));
    if (reader) {
      return reader;
    }
    last_error = reader.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::unexpected(last_error);
}

}  // namespace

std::expected<void, std::string> ReplicaDump::send_event(protocol::ByteView event, bool ack) {
  protocol::Bytes payload;
  payload.reserve(event.size() + 3);
  protocol::encode_dump_event(event, vars_.semi_sync ? std::optional<bool>(ack) : std::nullopt,
                              payload);
  seq_ = protocol::encode_packet(payload, seq_, out_);
  stats_.events_sent.fetch_add(1, std::memory_order_relaxed);
  stats_.bytes_sent.fetch_add(event.size(), std::memory_order_relaxed);
  ++info_.events;
  if (ack) {
    seq_ = 1;  // MariaDB restarts the sequence after an event that asks for an ACK
    return flush();
  }
  return out_.size() >= kFlushBytes ? flush() : std::expected<void, std::string>{};
}

std::expected<void, std::string> ReplicaDump::flush() {
  if (out_.empty()) {
    return {};
  }
  auto w = channel_.write(out_, options_.write_timeout_ms);
  out_.clear();
  return w;
}

std::expected<void, std::string> ReplicaDump::send_artificial(uint8_t type, protocol::ByteView body,
                                                              uint32_t log_pos, bool checksum) {
  binlog::EventHeader header;
  header.type = type;
  header.server_id = options_.relay_server_id;
  header.log_pos = log_pos;
  header.flags = binlog::LOG_EVENT_ARTIFICIAL_F;
  protocol::Bytes event;
  binlog::encode_event(header, body, checksum, event);
  return send_event(event, false);
}

std::expected<void, std::string> ReplicaDump::send_format_description(const protocol::Bytes& fde,
                                                                      bool zero_log_pos) {
  protocol::Bytes event = fde;
  if (event.size() < binlog::kEventHeaderSize) {
    return std::unexpected(std::string("a FORMAT_DESCRIPTION shorter than its header"));
  }
  // A file still written has IN_USE set; the primary clears it in what it sends. Its CRC is
  // computed with the flag cleared, so it stays valid.
  event[binlog::kFlagsOffset] &= static_cast<uint8_t>(~binlog::LOG_EVENT_BINLOG_IN_USE_F);
  if (zero_log_pos) {
    // Starting inside a file: log_pos 0 tells the replica not to take this event's position.
    auto decoded = binlog::decode_format_description(event);
    binlog::rewrite_log_pos(event, 0, decoded && decoded->own_checksum());
  }
  return send_event(event, false);
}

std::expected<void, std::string> ReplicaDump::send_error(uint16_t code,
                                                         const std::string& message) {
  protocol::Bytes payload;
  protocol::encode_err({code, "HY000", message}, options_.capabilities | protocol::cap::kProtocol41,
                       payload);
  if (auto f = flush(); !f) {
    return f;
  }
  return channel_.write_packet(payload, seq_, options_.write_timeout_ms);
}

std::expected<void, std::string> ReplicaDump::on_incoming(const protocol::Bytes& p) {
  if (protocol::is_semi_sync_ack_payload(p)) {
    if (protocol::decode_semi_sync_ack(p)) {
      ++info_.acks;
    }
    return {};
  }
  if (!p.empty() && p[0] == static_cast<uint8_t>(protocol::Command::quit)) {
    return std::unexpected(std::string("the replica quit"));
  }
  return std::unexpected("the replica sent " +
                         std::string(protocol::command_name(p.empty() ? 0xff : p[0])) +
                         " during the dump");
}

std::expected<void, std::string> ReplicaDump::drain_incoming() {
  for (;;) {
    Channel::Woken woken = Channel::Woken::no;
    auto packet = channel_.read_packet(0, -1, &woken);
    if (!packet) {
      return std::unexpected("the replica's connection ended: " + packet.error());
    }
    if (!*packet) {
      return {};
    }
    if (auto handled = on_incoming((*packet)->payload); !handled) {
      return handled;
    }
  }
}

void ReplicaDump::publish() { stats_.replica_update(info_); }

std::string ReplicaDump::run(const DumpPlan& plan, uint8_t sequence_id) {
  seq_ = sequence_id;
  StoreWaker waker(store_);
  if (waker.fd() < 0) {
    return "eventfd failed";
  }
  const bool replica_wants_crc =
      vars_.binlog_checksum && (*vars_.binlog_checksum == "CRC32" || *vars_.binlog_checksum == "crc32");
  const auto fail = [this](const std::string& why) {
    (void)send_error(kFatalErrorReadingBinlog, why);
    return why;
  };

  uint32_t file = plan.file;
  while (file == 0) {  // nothing stored yet
    const auto files = store_.files();
    if (!files.empty()) {
      file = files.front().number;
      break;
    }
    if (options_.non_block) {
      protocol::Bytes eof;
      protocol::encode_eof({0, protocol::status::kAutocommit}, options_.capabilities, eof);
      (void)channel_.write_packet(eof, seq_, options_.write_timeout_ms);
      return "end of the binlog (NON_BLOCK)";
    }
    auto r = channel_.read_packet(1000, waker.fd());
    if (!r) {
      return "the replica's connection ended: " + r.error();
    }
    waker.drain();
  }
  auto reader = open_file(store_, file);
  if (!reader) {
    return fail("Could not open log file " + store_.file_name(file) + ": " + reader.error());
  }
  file_in_use_.store(file);
  bool checksums = (*reader)->checksums();
  if (checksums && !vars_.binlog_checksum) {
    return fail(
        "Slave can not handle replication events with the checksum that master is configured "
        "to log");
  }
  {
    protocol::Bytes body;
    binlog::encode_rotate({plan.offset, store_.file_name(file)}, body);
    if (auto s = send_artificial(binlog::type_byte(binlog::EventType::rotate), body, 0,
                                 replica_wants_crc);
        !s) {
      return "the replica's connection ended: " + s.error();
    }
  }
  if (auto s = send_format_description((*reader)->format_description(), plan.offset > 4); !s) {
    return "the replica's connection ended: " + s.error();
  }
  if (plan.offset > 4) {
    if (plan.offset < (*reader)->offset()) {
      return fail("Client requested master to start replication from impossible position");
    }
    (*reader)->seek(plan.offset);
  }

  binlog::TransactionTracker tracker;
  binlog::GtidPosition state = plan.state;
  bool gtid_list_sent = !plan.gtid_mode;
  bool skipping = false;
  info_.file = store_.file_name(file);
  info_.position = (*reader)->offset();
  const auto send_gtid_list = [&](uint64_t offset) {
    gtid_list_sent = true;
    protocol::Bytes body;
    binlog::encode_gtid_list({0, state.gtids()}, body);
    return send_artificial(binlog::type_byte(binlog::EventType::gtid_list), body,
                           static_cast<uint32_t>(offset), checksums);
  };
  // Moves to file `next` (after a ROTATE, or past a file a crash left without one).
  const auto switch_file = [&](uint32_t next) -> std::expected<void, std::string> {
    auto opened = open_file(store_, next);
    if (!opened) {
      return std::unexpected("Could not open log file " + store_.file_name(next) + ": " +
                             opened.error());
    }
    reader = std::move(opened);
    file = next;
    file_in_use_.store(file);
    checksums = (*reader)->checksums();
    info_.file = store_.file_name(file);
    tracker.reset();
    return send_format_description((*reader)->format_description(), false);
  };

  auto last_sent = Clock::now();
  const uint64_t heartbeat_ms = vars_.heartbeat_period_ns / 1000000;
  uint64_t since_drain = 0;
  for (;;) {
    const StorePos committed = store_.committed_end();
    const uint64_t limit = file < committed.file    ? UINT64_MAX
                           : file == committed.file ? committed.offset
                                                    : 0;
    auto next = (*reader)->next(limit);
    if (!next) {
      return fail("reading " + store_.file_name(file) + ": " + next.error());
    }
    if (!*next) {
      if (file < committed.file) {
        // The file ended without a ROTATE (the relay restarted): go on with the next one, as a
        // primary does after a crash.
        protocol::Bytes body;
        binlog::encode_rotate({4, store_.file_name(file + 1)}, body);
        if (auto s = send_artificial(binlog::type_byte(binlog::EventType::rotate), body, 0,
                                     checksums);
            !s) {
          return "the replica's connection ended: " + s.error();
        }
        if (auto s = switch_file(file + 1); !s) {
          return fail(s.error());
        }
        continue;
      }
      if (!gtid_list_sent) {
        if (auto s = send_gtid_list((*reader)->offset()); !s) {
          return "the replica's connection ended: " + s.error();
        }
      }
      info_.position = (*reader)->offset();
      publish();
      if (auto f = flush(); !f) {
        return "the replica's connection ended: " + f.error();
      }
      if (options_.non_block) {
        protocol::Bytes eof;
        protocol::encode_eof({0, protocol::status::kAutocommit}, options_.capabilities, eof);
        (void)channel_.write_packet(eof, seq_, options_.write_timeout_ms);
        return "end of the binlog (NON_BLOCK)";
      }
      int wait_ms = -1;
      if (heartbeat_ms > 0) {
        const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() -
                                                                                last_sent);
        wait_ms = static_cast<int>(
            std::max<int64_t>(0, static_cast<int64_t>(heartbeat_ms) - idle.count()));
      }
      Channel::Woken woken = Channel::Woken::no;
      auto incoming = channel_.read_packet(wait_ms, waker.fd(), &woken);
      if (!incoming) {
        return "the replica's connection ended: " + incoming.error();
      }
      if (*incoming) {
        if (auto handled = on_incoming((*incoming)->payload); !handled) {
          return handled.error();
        }
        continue;
      }
      if (woken == Channel::Woken::wake_fd) {
        waker.drain();
        continue;
      }
      protocol::Bytes body(info_.file.begin(), info_.file.end());
      if (auto s = send_artificial(binlog::type_byte(binlog::EventType::heartbeat), body,
                                   static_cast<uint32_t>((*reader)->offset()), checksums);
          !s) {
        return "the replica's connection ended: " + s.error();
      }
      last_sent = Clock::now();
      continue;
    }

    const protocol::ByteView event = **next;
    const uint64_t event_start = (*reader)->offset() - event.size();
    auto view = binlog::split_event(event, checksums);
    if (!view) {
      return fail("a malformed event in " + store_.file_name(file) + " at " +
                  std::to_string(event_start));
    }
    binlog::EventRole role;
    if (auto r = tracker.on_event(*view); r) {
      role = *r;
    }
    if (view->is(binlog::EventType::rotate)) {
      if (auto s = send_event(event, false); !s) {
        return "the replica's connection ended: " + s.error();
      }
      if (auto s = switch_file(file + 1); !s) {
        return fail(s.error());
      }
      last_sent = Clock::now();
      continue;
    }
    if (view->is(binlog::EventType::format_description)) {
      continue;  // already sent when the file was opened
    }
    if (role.starts_group) {
      skipping = plan.gtid_mode && role.gtid && state.includes(*role.gtid);
      if (!skipping && !gtid_list_sent) {
        if (auto s = send_gtid_list(event_start); !s) {
          return "the replica's connection ended: " + s.error();
        }
      }
      if (role.gtid && !skipping) {
        info_.last_gtid = role.gtid->to_string();
      }
    }
    const bool skip = skipping && !role.outside_group;
    if (role.ends_group) {
      skipping = false;
    }
    if (skip) {
      continue;
    }
    const StorePos now = store_.committed_end();
    const bool live = file == now.file && (*reader)->offset() >= now.offset;
    const bool ack = vars_.semi_sync && role.ends_group && live;
    if (auto s = send_event(event, ack); !s) {
      return "the replica's connection ended: " + s.error();
    }
    last_sent = Clock::now();
    info_.position = (*reader)->offset();
    if (view->header.timestamp != 0) {
      info_.last_event_ts = view->header.timestamp;
    }
    if (++since_drain >= 64) {
      since_drain = 0;
      if (auto d = drain_incoming(); !d) {
        return d.error();
      }
      publish();
    }
  }
}

}  // namespace replproxy::relay
