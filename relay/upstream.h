#pragma once

// The relay as a replica of the primary: one thread that connects to the current source, logs in
// as the replication account, checks the source has every GTID the store holds, asks for a
// GTID-positioned dump (MariaDB: @mariadb_slave_capability=4, @slave_connect_state, ...,
// COM_REGISTER_SLAVE, COM_BINLOG_DUMP), verifies every event's CRC32 and appends it to the store,
// and answers the primary's semi-sync requests once the event is durable.
//
// Durability and ACKs, by [relay] sync:
//   every_event  this thread fdatasyncs after each event, then sends the ACK at once;
//   group        the Syncer thread fdatasyncs: at once when an ACK waits, else at most
//                group_sync_us after the first unsynced group; events arriving during an
//                fdatasync share the next one, and its ACKs go out together;
//   none         nothing is synced and semi-sync is never requested (a relay that cannot promise
//                durability must not acknowledge).
//
// Any error on the link (a bad checksum, a malformed packet, a lost connection, the source
// ending the stream) drops the connection, cuts the group in progress off the store and
// reconnects after upstream_retry_ms from the last complete GTID, so nothing is stored twice or
// left out.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "config/config.h"
#include "proxy/tls.h"
#include "relay/binlog_store.h"
#include "relay/channel.h"
#include "relay/relay_stats.h"

namespace replproxy::relay {

// Where to replicate from now.
struct Source {
  std::string name;  // the backend's name
  config::Address address;
  bool operator==(const Source&) const = default;
};
// Called before each connection and while streaming: the source health reports (or the fixed
// backend); nullopt while there is none.
using SourcePicker = std::function<std::optional<Source>()>;

// Runs fdatasync off the upstream thread under sync = "group", and the periodic purge.
class Syncer {
 public:
  Syncer(BinlogStore& store, RelayStats& stats, uint32_t group_sync_us, int wake_fd);
  ~Syncer();  // stop()
  void start();
  void stop();
  // A group was written; `ack_waiting`: an ACK waits for it (sync at once).
  void request(bool ack_waiting);
  // Called about once a minute on this thread (the purge).
  void set_housekeeping(std::function<void()> fn) { housekeeping_ = std::move(fn); }

 private:
  void run();

  BinlogStore& store_;
  RelayStats& stats_;
  uint32_t group_sync_us_;
  int wake_fd_;  // written after each fdatasync: the upstream thread sends the ACKs then
  std::function<void()> housekeeping_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool urgent_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

class Upstream {
 public:
  Upstream(const config::RelaySection& config, BinlogStore& store, RelayStats& stats,
           SourcePicker picker);
  ~Upstream();  // stop()

  // Builds the TLS context (an unreadable CA is an error) and starts the threads.
  std::expected<void, std::string> start();
  void stop();

 private:
  struct PendingAck {
    std::string file;       // the primary's binlog file
    uint64_t position = 0;  // the event's log_pos there
    StorePos stored;        // its end in the store
    std::chrono::steady_clock::time_point received;
  };

  void run();
  // One connection: returns why it ended.
  std::string session(const Source& source);
  bool sleep_for(uint32_t ms);  // false when stopping
  std::expected<void, std::string> send_durable_acks(Channel& channel);

  config::RelaySection config_;
  BinlogStore& store_;
  RelayStats& stats_;
  SourcePicker picker_;
  proxy::SslCtxPtr tls_;
  int wake_fd_ = -1;
  std::unique_ptr<Syncer> syncer_;
  std::deque<PendingAck> pending_;
  std::string last_logged_error_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  Channel* channel_ = nullptr;  // the live connection, for stop()
  std::thread thread_;
};

}  // namespace replproxy::relay
