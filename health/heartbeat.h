#pragma once
// The replication heartbeat: a writer thread that stores the prober's clock in one row on the
// current primary every heartbeat_interval_ms, and the formula that turns the row a replica has
// into a lag in milliseconds.
//
// The table is `<schema>.<table> (id INT PRIMARY KEY, ts BIGINT NOT NULL, server_id INT
// UNSIGNED)` with a single row, id = 1, rewritten with INSERT ... ON DUPLICATE KEY UPDATE
// (REPLACE would also need the DELETE privilege). Several proxies in front of the same servers
// all write that row: whichever wrote last wins, which is what the lag needs (the newest
// write). `ts` is the writer's wall clock in microseconds, so a replica's lag is measured
// against the prober's clock only and the servers' clocks never matter (with several proxies on
// different hosts their clocks must agree, as NTP makes them).
//
// The row replicates like any other write: the writer never turns the binlog off for its session
// (it refuses to write when something else did), and it only writes where the coordinator says
// the primary is, after checking on that very session that the server is not read_only.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "health/prober.h"

namespace replproxy::health {

// What the writer has achieved, for the coordinator.
struct HeartbeatStatus {
  int64_t first_write_us = 0;  // the `ts` of this writer's first committed heartbeat (0: none)
  int64_t last_write_us = 0;   // the `ts` of the last heartbeat committed (0: none yet)
  uint64_t attempts = 0;       // writes tried so far, successful or not
  std::string note;            // why the last attempt failed ("" after a success)
};

class HeartbeatWriter {
 public:
  HeartbeatWriter(uint32_t interval_ms, std::string schema, std::string table);
  ~HeartbeatWriter();  // request_stop() and join()
  HeartbeatWriter(const HeartbeatWriter&) = delete;
  HeartbeatWriter& operator=(const HeartbeatWriter&) = delete;

  // The server to write to from now on; nullopt: none (no primary the proxy trusts). A change
  // of target drops the session to the old one before the next write.
  void set_target(std::optional<ServerEndpoint> target);
  HeartbeatStatus status() const;
  // Waits until the first write was tried (or TIMEOUT passed), so that the first probe round
  // finds this run's row on the replicas instead of reporting the heartbeat missing.
  void wait_first_attempt(std::chrono::milliseconds timeout) const;
  uint32_t interval_ms() const { return interval_ms_; }
  const std::string& schema() const { return schema_; }
  const std::string& table() const { return table_; }

  void request_stop();
  void join();

 private:
  void run();
  // One heartbeat on the current session; the reason on failure.
  std::expected<int64_t, std::string> write_once(ServerConnection& conn);

  const uint32_t interval_ms_;
  const std::string schema_;
  const std::string table_;

  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;  // target changes and stop (writer), attempts (readers)
  std::optional<ServerEndpoint> target_;
  bool target_changed_ = false;
  bool stopping_ = false;
  HeartbeatStatus status_;
  std::thread thread_;
};

// `name` quoted as a MySQL identifier (backticks, inner backticks doubled).
std::string quote_identifier(std::string_view name);
// The statements the writer and the readers send.
std::string heartbeat_create_schema_sql(std::string_view schema);
std::string heartbeat_create_table_sql(std::string_view schema, std::string_view table);
std::string heartbeat_write_sql(std::string_view schema, std::string_view table, int64_t ts_us,
                                uint32_t server_id);
std::string heartbeat_read_sql(std::string_view schema, std::string_view table);

// The lag of a replica whose heartbeat row holds TS_US, read at READ_AT_US; nullopt when the
// writer is not current (nothing committed within 2 x interval + timeout of the read), because
// then the row says nothing about the replica and the caller falls back to
// Seconds_Behind_Master.
//
// The value is read_at - ts, clamped at 0, with nothing subtracted. It is an upper bound of the
// replica's staleness: the replica has applied everything the primary committed up to the
// write of ts, so it is at most read_at - ts behind. It overstates the real lag by up to one
// heartbeat interval plus the write's round trip (with zero real lag, a read just before the
// next write sees a row one interval old), so it has a resolution of heartbeat_interval_ms and
// the lag limit should be a few intervals (the defaults: 250 ms against 1000 ms). Subtracting
// the interval would instead understate: a replica whose SQL thread stopped a moment ago would
// look fit for one more interval, and the router promises never to serve reads staler than the
// limit.
//
// A row older than this writer's first heartbeat (left by an earlier run, or by a writer that
// stopped) is counted from that first heartbeat instead: the replica has none of ours yet, so it
// is at least read_at - first_write behind, and counting from the old row would report hours of
// lag for a replica that is merely a few milliseconds from receiving our first row. A replica
// that never receives it still crosses any limit once that much time has passed.
std::optional<int64_t> heartbeat_lag_ms(const HeartbeatStatus& writer, int64_t ts_us,
                                        int64_t read_at_us, uint32_t interval_ms,
                                        uint32_t timeout_ms);

}  // namespace replproxy::health
