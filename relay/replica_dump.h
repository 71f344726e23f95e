#pragma once

// One replica's binlog stream out of the store, on that replica's own thread, as a MariaDB
// primary's dump thread sends it:
//   an artificial ROTATE naming the start file, the file's FORMAT_DESCRIPTION (IN_USE cleared),
//   then its events in order; in GTID mode the groups the replica's state already includes are
//   skipped and an artificial GTID_LIST marks where the stream resumes; at a ROTATE the next
//   file's FORMAT_DESCRIPTION follows. At the end of what is committed it waits for the store
//   (an eventfd) and sends a HEARTBEAT each @master_heartbeat_period while idle, or, under
//   NON_BLOCK (mariadb-binlog), an EOF and the end.
// Semi-sync (the replica set @rpl_semi_sync_slave=1): every event packet carries 0xef and a flag;
// the flag asks for an ACK on the last event of a group that is live (nothing more is committed
// behind it), and the packet after it restarts at sequence id 1, as MariaDB's primary does.

#include <atomic>
#include <cstdint>
#include <expected>
#include <string>

#include "relay/binlog_store.h"
#include "relay/channel.h"
#include "relay/dump_plan.h"
#include "relay/relay_stats.h"
#include "relay/replica_queries.h"

namespace replproxy::relay {

struct ReplicaDumpOptions {
  uint64_t id = 0;           // the connection id (logs, stats)
  uint32_t relay_server_id = 0;  // on the events the relay makes up
  bool non_block = false;    // COM_BINLOG_DUMP's NON_BLOCK flag
  uint64_t capabilities = 0;
  int write_timeout_ms = 60000;  // a replica that stops reading for this long is dropped
};

class ReplicaDump {
 public:
  ReplicaDump(Channel& channel, BinlogStore& store, RelayStats& stats,
              const ReplicaSessionVars& vars, RelayStats::Replica& info,
              std::atomic<uint32_t>& file_in_use, ReplicaDumpOptions options)
      : channel_(channel),
        store_(store),
        stats_(stats),
        vars_(vars),
        info_(info),
        file_in_use_(file_in_use),
        options_(options) {}

  // Streams until the replica leaves, the connection fails or is shut down (stop, KILL), or a
  // refusal (1236) was sent; the result says why it ended.
  std::string run(const DumpPlan& plan, uint8_t sequence_id);

 private:
  struct Cursor;
  std::expected<void, std::string> send_event(protocol::ByteView event, bool ack);
  std::expected<void, std::string> send_artificial(uint8_t type, protocol::ByteView body,
                                                   uint32_t log_pos, bool checksum);
  std::expected<void, std::string> send_format_description(const protocol::Bytes& fde,
                                                           bool zero_log_pos);
  // Writes what send_event() gathered: events go out in batches of up to kFlushBytes, and at
  // once when the dump catches up, before a wait, or after an event that asks for an ACK.
  std::expected<void, std::string> flush();
  std::expected<void, std::string> send_error(uint16_t code, const std::string& message);
  // One packet from the replica during the dump: an ACK is counted; COM_QUIT or anything else
  // ends the dump (the error says why).
  std::expected<void, std::string> on_incoming(const protocol::Bytes& payload);
  // Reads what the replica sent (ACKs, COM_QUIT) without waiting; an error ends the dump.
  std::expected<void, std::string> drain_incoming();
  void publish();

  Channel& channel_;
  BinlogStore& store_;
  RelayStats& stats_;
  const ReplicaSessionVars& vars_;
  RelayStats::Replica& info_;
  std::atomic<uint32_t>& file_in_use_;
  ReplicaDumpOptions options_;
  uint8_t seq_ = 1;
  protocol::Bytes out_;
  static constexpr size_t kFlushBytes = 256 * 1024;
};

}  // namespace replproxy::relay
