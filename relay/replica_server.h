#pragma once

// The relay's primary side: the listener where unmodified MariaDB replicas (CHANGE MASTER TO
// MASTER_HOST=<relay>, MASTER_PORT=<relay.listen>, MASTER_USE_GTID=slave_pos) and
// mariadb-binlog --read-from-remote-server connect. One thread accepts; each connection gets a
// thread of its own (like a server's dump threads) that logs the replica in against
// [[relay.users]], answers the queries a replica sends while connecting (docs/relay-protocol.md
// lists them), accepts COM_REGISTER_SLAVE and streams the store from the replica's GTID state
// or file/position: stored events, then live ones as committed_end() moves, heartbeats when idle,
// semi-sync headers for a replica that asks. KILL <id> from the replication account ends that
// dump, as STOP SLAVE with semi-sync sends it.

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <expected>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "relay/binlog_store.h"
#include "relay/relay_stats.h"
#include "relay/replica_queries.h"

namespace replproxy::relay {

class ReplicaServer {
 public:
  struct Options {
    config::Address listen;
    uint32_t server_id = 0;             // SHOW VARIABLES LIKE 'SERVER_ID' answers it
    std::string server_version;         // in the greeting, e.g. "10.11.19-MariaDB-replproxy"
    std::vector<config::User> users;    // [[relay.users]]
    std::shared_ptr<SSL_CTX> tls;       // null: no TLS offered
    bool require_tls = false;
  };

  ReplicaServer(BinlogStore& store, RelayStats& stats, Options options);
  ~ReplicaServer();  // stop()

  // Binds the listener (an error names the address) and starts the accept thread.
  std::expected<void, std::string> start();
  // Closes the listener and every replica connection, joins every thread. Idempotent.
  void stop();

  // The oldest file a connected replica still reads (UINT32_MAX when none): purge keeps it.
  uint32_t oldest_file_in_use() const;

 private:
  struct Session;
  void accept_loop();
  void serve(Session* session);
  // Runs COM_BINLOG_DUMP on the session's thread until the stream ends.
  void dump(Session& session, const protocol::Bytes& payload, uint8_t seq, uint64_t caps,
            const ReplicaSessionVars& vars, RelayStats::Replica& info);
  // KILL <id>: shuts that connection down; false when there is none.
  bool kill(uint64_t id);
  void reap_finished();

  BinlogStore& store_;
  RelayStats& stats_;
  Options options_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: the accept loop's wake-up
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::list<std::unique_ptr<Session>> sessions_;
  std::atomic<uint64_t> next_id_{0};
};

}  // namespace replproxy::relay
