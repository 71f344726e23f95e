#pragma once

// The relay's binlog on its own disk: standard binlog files that mariadb-binlog reads, an index,
// crash recovery and purge. One writer (the upstream thread) appends events as the primary sent
// them; any number of readers (the replicas' dump threads) read the files at the same time.
//
// A file, as a MariaDB server writes one:
//   fe 62 69 6e                         the magic
//   FORMAT_DESCRIPTION                  the primary's, log_pos rewritten, IN_USE flag while open
//   GTID_LIST                           the relay's GTID position when the file was started
//   events                              as received (checksum verified), log_pos rewritten to
//                                       the event's end offset in this file, CRC recomputed
//   ROTATE                              to the next file, written only at a group boundary
// and an index `<base>.index` with one "./<base>.NNNNNN" line per file, oldest first.
//
// Positions are 64-bit offsets; the 32-bit log_pos in an event header wraps for files over
// 4 GiB, as in MariaDB's own files.
//
// Durability: append() only write()s. sync() fdatasyncs what was written (any thread; it works
// on a duplicate of the descriptor, so a rotation on the writer thread does not race it) and
// publishes durable(). committed_end() is the end of the last complete event group written:
// readers never see a partial transaction, and recovery cuts one off after a crash.

#include <chrono>
#include <compare>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <condition_variable>
#include <optional>
#include <string>
#include <vector>

#include "protocol/binlog_bodies.h"
#include "protocol/binlog_event.h"
#include "protocol/binlog_transaction.h"
#include "protocol/gtid.h"

namespace replproxy::relay {

// A place in the store: file number (1 for <base>.000001) and byte offset in it.
struct StorePos {
  uint32_t file = 0;
  uint64_t offset = 0;
  auto operator<=>(const StorePos&) const = default;
};

struct StoreFileInfo {
  uint32_t number = 0;
  std::string name;  // "<base>.000001", without directory
  uint64_t size = 0;
  protocol::binlog::GtidPosition start;  // its GTID_LIST: the position before its first event
  int64_t mtime_s = 0;                   // last modification, seconds since the epoch
};

struct AppendResult {
  StorePos end;             // where the event ends in the store (its rewritten log_pos)
  bool group_end = false;   // the event completed a group (or was a group on its own)
  bool rotated = false;     // the store started a new file after it
  std::optional<protocol::binlog::Gtid> gtid;  // the GTID of the group it started
};

class BinlogStore {
 public:
  struct Options {
    std::string dir;
    std::string base_name = "replproxy-bin";
    uint64_t max_file_size = uint64_t{1} << 30;
    uint32_t server_id = 0;  // the relay's id, on the events it makes itself (ROTATE, GTID_LIST)
  };

  // Creates the directory when missing, reads the index and recovers the last file: a torn
  // event or an incomplete group at its end is cut off (ftruncate) and logged. An index naming a
  // missing file, or a file that is not a binlog, is an error that names it.
  static std::expected<std::unique_ptr<BinlogStore>, std::string> open(const Options& options);
  ~BinlogStore();
  BinlogStore(const BinlogStore&) = delete;
  BinlogStore& operator=(const BinlogStore&) = delete;

  // ---- writer side: one thread ----

  // The primary's FORMAT_DESCRIPTION as received (whole event). The first one, or one that
  // differs from the open file's in more than create_timestamp (checksum algorithm, server
  // version, post-header lengths), starts a new file (never inside a group: call
  // discard_open_group() first). Otherwise it changes nothing.
  std::expected<void, std::string> set_format(protocol::ByteView fde);
  bool has_format() const;
  // Whether the open file's events end with a CRC32 (the FDE says so).
  bool checksums() const;

  // Appends one event of the primary's stream (not FDE, ROTATE, heartbeat or GTID_LIST: the
  // caller keeps those out). Rotates after a group end once the file reached max_file_size.
  std::expected<AppendResult, std::string> append(protocol::ByteView event);
  // The stream broke inside a group: cut the file back to committed_end().
  std::expected<void, std::string> discard_open_group();
  bool in_group() const;

  // ---- any thread ----

  // fdatasync of everything written up to now; returns the position that is durable now.
  std::expected<StorePos, std::string> sync();
  StorePos written_end() const;
  StorePos durable() const;
  StorePos committed_end() const;
  // The GTIDs of the complete groups stored (domain-wise highest), as text ("0-1-42").
  protocol::binlog::GtidPosition gtid_position() const;
  uint64_t events_stored() const;  // since open

  std::vector<StoreFileInfo> files() const;
  std::string file_name(uint32_t number) const;  // "<base>.NNNNNN"
  std::string path(uint32_t number) const;       // dir + "/" + file_name
  const std::string& dir() const { return options_.dir; }

  // Readers: `fd` (an eventfd) gets a write whenever committed_end() moves or the store closes.
  void subscribe(int fd);
  void unsubscribe(int fd);

  // Deletes the oldest files while they are older than `expire_days` (> 0) or the total size is
  // above `max_total` (> 0); never the open file, never file `keep_from` or a newer one (the
  // oldest a connected replica reads). Returns the names removed.
  std::vector<std::string> purge(double expire_days, uint64_t max_total, uint32_t keep_from);

 private:
  explicit BinlogStore(Options options);
  std::expected<void, std::string> recover();
  // `rotated`: started by a rotation (its FDE's create_timestamp is zeroed).
  std::expected<void, std::string> start_file(uint32_t number, bool rotated = false);
  std::expected<void, std::string> rotate();
  // Ends the open file: ROTATE to the next number, IN_USE cleared, fdatasync, closed.
  std::expected<void, std::string> finish_file();
  std::expected<void, std::string> write_all(const protocol::Bytes& bytes);
  std::expected<void, std::string> write_index() const;
  void notify_readers();

  Options options_;
  protocol::binlog::TransactionTracker tracker_;
  protocol::Bytes fde_;  // the open file's FDE as the primary sent it (log_pos not rewritten)
  protocol::binlog::FormatDescription format_;  // fde_ decoded, create_timestamp 0
  int fd_ = -1;                 // the open file
  std::shared_ptr<int> sync_fd_;  // a dup of it for sync(); replaced on rotation
  uint32_t number_ = 0;         // the open file's number; 0 before any file
  uint64_t offset_ = 0;         // its size (the writer's view)
  uint64_t group_start_ = 0;    // where the open group started in it
  std::optional<protocol::binlog::Gtid> open_gtid_;

  mutable std::mutex mu_;  // everything below
  std::vector<StoreFileInfo> files_;
  StorePos written_;
  StorePos committed_;
  StorePos durable_;
  protocol::binlog::GtidPosition position_;
  uint64_t events_ = 0;
  std::vector<int> subscribers_;
  uint64_t cuts_ = 0;  // discard_open_group() calls: a sync() across one publishes nothing
  std::mutex sync_mu_;  // one fdatasync at a time
};

// Reads one binlog file sequentially, for recovery and for the replicas' dump threads.
class BinlogFileReader {
 public:
  // Opens `path`, checks the magic and reads the FORMAT_DESCRIPTION (which tells whether events
  // carry checksums).
  static std::expected<std::unique_ptr<BinlogFileReader>, std::string> open(const std::string& path);
  ~BinlogFileReader();

  const protocol::Bytes& format_description() const { return fde_; }
  bool checksums() const { return checksums_; }
  // Offset of the next event next() returns (4 + the FDE's size right after open()).
  uint64_t offset() const { return offset_; }
  // Moves to `offset`, which must be the start of an event.
  void seek(uint64_t offset);

  // The next event if it ends at or before `limit` (a file offset: committed_end for the open
  // file, UINT64_MAX for a finished one). nullopt when no whole event is there yet (the end, or a
  // partly written one); an error for an event_size below 19 or an I/O error. The view is valid
  // until the next call.
  std::expected<std::optional<protocol::ByteView>, std::string> next(uint64_t limit);

 private:
  BinlogFileReader() = default;
  int fd_ = -1;
  std::string path_;
  protocol::Bytes fde_;
  bool checksums_ = false;
  uint64_t offset_ = 0;
  protocol::Bytes buffer_;  // bytes read from buffer_offset_ on
  uint64_t buffer_offset_ = 0;
  protocol::Bytes event_;   // the event returned last, when it did not fit the buffer
};

}  // namespace replproxy::relay
