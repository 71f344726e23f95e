#pragma once
// The health checker's I/O side: it probes every backend with blocking libmariadb calls, runs the
// pure topology decision (health/topology.h) after every round and publishes the result as an
// immutable Snapshot. The heartbeat writer (health/heartbeat.h) runs beside it.
//
// Threads. The Prober owns one coordinator thread, one thread per backend and the heartbeat
// writer's thread. Every interval_ms the coordinator asks every backend thread for a probe and
// waits until they have all answered or probe_timeout_ms has passed, whichever comes first; a
// backend that did not answer in time counts as down for that round. A backend that already
// timed out in the previous round is not waited for at all (its answer is taken if it is there),
// so a blackholed host costs the round nothing once it is known to be slow, and the live
// backends are never probed one after another behind it. Blocking calls with per-thread
// timeouts keep each probe a straight sequence of queries; libmariadb's nonblocking API would
// need a hand-written state machine per query for no gain at a handful of backends.
//
// Everything below the Prober class is shared by the prober*.cpp and heartbeat*.cpp files; the
// rest of the program needs only the Prober.

#include <spdlog/logger.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "health/probe.h"
#include "health/snapshot.h"

typedef struct st_mysql MYSQL;  // NOLINT: the C API's own spelling, so mysql.h stays private

namespace replproxy::health {

class BackendWorker;
class HeartbeatWriter;

class Prober {
 public:
  // Called on the prober thread after every round with the new snapshot.
  using Publish = std::function<void(SnapshotPtr snapshot)>;

  // CONFIG must have [health] enabled; the prober does not start its threads until start().
  Prober(std::shared_ptr<const config::Config> config, Publish publish);
  ~Prober();  // stop()
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  void start();
  // Stops every thread and joins them; returns within about probe_timeout_ms (a thread inside
  // a blocking call finishes it first). Idempotent.
  void stop();

  // Takes effect at the next round. Backends are matched by name: a backend whose address, TLS
  // settings or the health account did not change keeps its connection and its history.
  void set_config(std::shared_ptr<const config::Config> config);
  // The operator's maintenance flag, by backend name (kept across set_config for the same name).
  // Returns false when no configured backend has that name. Wakes the prober for a round at once.
  bool set_maintenance(std::string_view backend, bool on);

  // The last published snapshot; nullptr before the first round finished.
  SnapshotPtr latest() const { return latest_.load(); }
  // Why the heartbeat cannot be written or read ("" when it works, or is off), e.g. a missing
  // privilege: logged once when it appears, and for the admin view. The snapshot's
  // heartbeat_note says which replicas fell back to Seconds_Behind_Master.
  std::string heartbeat_problem() const;

 private:
  struct RoundOutcome;

  void run();
  void sync_workers(const std::shared_ptr<const config::Config>& config);
  RoundOutcome probe_round(const config::Config& config, uint64_t round);
  void finish_round(const config::Config& config, RoundOutcome outcome);
  void note_heartbeat_problem(std::string problem);
  void ring();

  std::shared_ptr<spdlog::logger> log_;
  Publish publish_;

  mutable std::mutex mutex_;  // guards the members up to cv_, and is the workers' doorbell
  std::shared_ptr<const config::Config> pending_config_;  // not yet taken by the coordinator
  std::shared_ptr<const config::Config> newest_config_;   // for set_maintenance's name check
  std::set<std::string, std::less<>> maintenance_;
  std::string heartbeat_problem_;  // as last logged
  bool stopping_ = false;
  bool wake_ = false;
  std::condition_variable cv_;

  // Only the coordinator thread touches these (after start()).
  std::shared_ptr<const config::Config> config_;
  std::vector<std::unique_ptr<BackendWorker>> workers_;  // same order as config_->backends
  std::vector<bool> slow_;  // the worker did not answer in time last round
  std::unique_ptr<HeartbeatWriter> heartbeat_;

  std::atomic<SnapshotPtr> latest_;
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------------
// Shared by prober*.cpp and heartbeat*.cpp.

// The "health" spdlog logger, sharing the default logger's sinks (as proxy/log.h does for its
// modules, without making health/ depend on proxy/).
std::shared_ptr<spdlog::logger> health_logger();

// Microseconds since the epoch (system clock): heartbeat timestamps and probed_at_us.
int64_t wall_now_us();

// How to reach one backend with the health account; a worker reconnects when it changes.
struct ServerEndpoint {
  std::string name;
  config::Address address;
  bool tls = false;
  std::string tls_ca;
  bool tls_verify = true;
  std::string user;
  std::string password;
  uint32_t timeout_ms = 1000;

  bool operator==(const ServerEndpoint&) const = default;
};
ServerEndpoint endpoint_for(const config::Config& config, size_t backend);

struct ServerError {
  unsigned code = 0;  // the server's error number, or a client one (CR_*, 2000 and up)
  std::string message;

  // A client-side error (CR_* 2000-2999, Connector/C's own 5000-5999): the session is gone or
  // out of step, so it is closed and the next query reconnects. Server errors keep it.
  bool connection_lost() const {
    return (code >= 2000 && code < 3000) || (code >= 5000 && code < 6000);
  }
  std::string to_string() const;  // "message (code)"
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

// One libmariadb session to one backend: plaintext TCP, or TLS as config::Backend says (never a
// plaintext fallback), connect/read/write timeouts of timeout_ms rounded up to whole seconds
// (the C API takes seconds). Used by one thread at a time.
class ServerConnection {
 public:
  explicit ServerConnection(ServerEndpoint endpoint);
  ~ServerConnection();
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  const ServerEndpoint& endpoint() const { return endpoint_; }
  bool connected() const { return mysql_ != nullptr; }
  // Closes any previous session and logs in again.
  std::expected<void, ServerError> connect();
  void close();
  // The server's version string as the handshake gave it.
  std::string server_version() const;

  // Runs SQL (several statements when separated by ';') and returns every result set; a
  // statement without one gives an empty ResultSet. The first failing statement ends it. A
  // connection-level failure closes the session.
  std::expected<std::vector<ResultSet>, ServerError> query(std::string_view sql);

 private:
  ServerError take_error();

  ServerEndpoint endpoint_;
  MYSQL* mysql_ = nullptr;
};

// What a probe thread is asked to do in one round.
struct ProbeRequest {
  bool read_heartbeat = false;  // heartbeat on and this backend is not the one writing it
  std::string heartbeat_schema;
  std::string heartbeat_table;
};

// What a probe thread found: the ProbeResult without the heartbeat lag, which the coordinator
// fills in from the heartbeat timestamp once it knows the writer is current.
struct ProbeOutcome {
  ProbeResult result;
  std::optional<int64_t> heartbeat_ts_us;      // the heartbeat row this server has
  int64_t heartbeat_read_at_us = 0;            // when it was read (wall clock)
  std::optional<ServerError> heartbeat_error;  // why it could not be read
};

// Runs the probe queries on CONN (connecting first when needed; a reused session that turns out
// to be dead is reconnected once). Never throws; an unreachable server gives reachable = false.
ProbeOutcome probe_server(ServerConnection& conn, const ProbeRequest& request);

// Fills RESULT from the rows of `SHOW GLOBAL VARIABLES WHERE ...` and `SHOW GLOBAL STATUS
// WHERE ...` (name, value pairs) as probe_server asks for them; pure, for unit tests.
void apply_server_variables(const ResultSet& variables, const ResultSet& status,
                            ProbeResult& result);

// One probe thread per backend, with its persistent session.
class BackendWorker {
 public:
  // DONE is called (on the worker thread, no lock held) after every probe.
  BackendWorker(ServerEndpoint endpoint, std::function<void()> done);
  ~BackendWorker();  // request_stop() and join()
  BackendWorker(const BackendWorker&) = delete;
  BackendWorker& operator=(const BackendWorker&) = delete;

  const ServerEndpoint& endpoint() const { return endpoint_; }
  // Asks for a probe for ROUND; a probe still running finishes first, then ROUND is probed.
  void request(uint64_t round, ProbeRequest request);
  bool done(uint64_t round) const;
  // The outcome of ROUND when it is done.
  std::optional<ProbeOutcome> take(uint64_t round);
  void request_stop();
  void join();

 private:
  void run();

  const ServerEndpoint endpoint_;
  std::function<void()> done_callback_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t requested_round_ = 0;
  ProbeRequest request_;
  uint64_t done_round_ = 0;
  std::optional<ProbeOutcome> outcome_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace replproxy::health
