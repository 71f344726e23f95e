#pragma once

// What the relay's threads report and SHOW RELAY STATUS, SHOW RELAY REPLICAS and the
// replproxy_relay_* metrics read: counters are atomics, the few strings sit behind a mutex.
// Written by the upstream thread, the syncer and the replicas' dump threads; read by the control
// loop and the metrics thread.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "admin/results.h"

namespace replproxy::relay {

// Semi-sync ACK latency (event received to ACK sent), in microsecond buckets that double:
// bucket i holds latencies below 2^i us, the last everything longer.
class LatencyHistogram {
 public:
  static constexpr size_t kBuckets = 32;
  void record(uint64_t us);
  // The upper bound (us) of the bucket holding quantile q (0 < q <= 1); 0 without samples.
  uint64_t quantile(double q) const;
  uint64_t count() const;
  uint64_t sum_us() const { return sum_us_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> sum_us_{0};
};

class RelayStats {
 public:
  // Upstream side.
  std::atomic<uint64_t> events_received{0};   // events stored
  std::atomic<uint64_t> bytes_received{0};    // their bytes
  std::atomic<uint64_t> checksum_errors{0};   // events refused for a bad CRC32
  std::atomic<uint64_t> stream_errors{0};     // malformed packets, lost connections
  std::atomic<uint64_t> connects{0};          // dumps started
  std::atomic<uint64_t> acks_sent{0};
  std::atomic<uint64_t> acks_requested{0};
  std::atomic<uint64_t> fsyncs{0};
  std::atomic<uint64_t> files_purged{0};
  std::atomic<int64_t> newest_event_ts{0};  // header timestamp of the last event stored
  std::atomic<bool> connected{false};
  std::atomic<bool> semi_sync_active{false};  // the primary asks for ACKs on this link
  LatencyHistogram ack_latency;
  // Downstream side.
  std::atomic<uint64_t> replica_connections{0};  // dumps served since the start
  std::atomic<uint64_t> events_sent{0};
  std::atomic<uint64_t> bytes_sent{0};

  void set_state(std::string state, std::string source, std::string address);
  void set_error(std::string error);  // "" clears it
  struct Text {
    std::string state;    // "connecting", "streaming", "refused", "waiting for a primary", ...
    std::string source;   // the backend's name
    std::string address;  // host:port
    std::string last_error;
  };
  Text text() const;

  // The connected replicas, by dump thread id.
  struct Replica {
    uint64_t id = 0;
    uint32_t server_id = 0;
    std::string address;       // peer host:port
    std::string user;
    std::string gtid_state;    // what it asked to start from
    std::string file;          // the file being sent
    uint64_t position = 0;     // the offset sent up to
    std::string last_gtid;     // of the last group sent
    int64_t last_event_ts = 0;  // timestamp of the last event sent
    bool semi_sync = false;
    uint64_t acks = 0;
    uint64_t events = 0;
    int64_t connected_at_s = 0;
  };
  void replica_update(const Replica& r);
  void replica_remove(uint64_t id);
  std::vector<Replica> replicas() const;

 private:
  mutable std::mutex mu_;
  Text text_;
  std::map<uint64_t, Replica> replicas_;
};

}  // namespace replproxy::relay
