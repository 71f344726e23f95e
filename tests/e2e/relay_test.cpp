// The embedded binlog relay ([relay]) against real MariaDB servers: a replica pointed at the relay
// ends identical to the primary after a sysbench write load, across a kill -9 of replproxy; the
// relay's files are standard binlogs whose GTIDs equal the primary's; as the only semi-sync
// replica it acknowledges every commit and has every acknowledged GTID on disk when the primary
// dies; a flipped bit on the upstream stream is caught by the CRC32 and nothing corrupt is
// stored; after a promotion it follows the new primary without a gap.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include "tests/e2e/harness.h"
#include "tests/e2e/private_sandbox.h"

namespace replproxy::e2e {
namespace {

struct RelaySetup {
  int relay_port = 0;
  int admin_port = 0;
  std::string datadir;
  std::string sync = "group";
  bool semi_sync = true;
  std::string source = "primary";
  std::string more;  // further [relay] keys
};

std::string relay_toml(const RelaySetup& r) {
  return "[admin]\nlisten = \"127.0.0.1:" + std::to_string(r.admin_port) +
         "\"\nuser = \"admin\"\npassword = \"s3cret\"\n\n[relay]\nenabled = true\nlisten = "
         "\"127.0.0.1:" +
         std::to_string(r.relay_port) + "\"\nserver_id = 9001\ndatadir = \"" + r.datadir +
         "\"\nsource = \"" + r.source +
         "\"\nupstream_user = \"repl\"\nupstream_password = \"repl\"\nupstream_heartbeat_ms = "
         "500\nupstream_retry_ms = 300\nsemi_sync = " +
         std::string(r.semi_sync ? "true" : "false") + "\nsync = \"" + r.sync + "\"\n" + r.more +
         "\n[[relay.users]]\nname = \"repl\"\npassword = \"repl\"\n";
}

// SHOW RELAY STATUS through the admin interface; empty when it cannot be read.
BatchRow relay_status(int admin_port) {
  const RunResult r = run(mariadb_cli(admin_port, "", "-e 'SHOW RELAY STATUS'", "admin", "s3cret"));
  const std::vector<BatchRow> rows = parse_batch(r.output);
  return rows.empty() ? BatchRow{} : rows[0];
}

std::string scalar_on(const Sandbox& sb, const std::string& server, const std::string& sql) {
  auto c = connect_direct(sb, server);
  return c ? c->scalar(sql) : std::string("<no connection>");
}

// Waits until the relay stored everything `server` has in its binlog.
::testing::AssertionResult relay_caught_up(const Sandbox& sb, const std::string& server,
                                           int admin_port, std::chrono::milliseconds timeout) {
  std::string want;
  BatchRow status;
  const bool ok = wait_until(
      [&] {
        want = scalar_on(sb, server, "SELECT @@global.gtid_binlog_pos");
        status = relay_status(admin_port);
        return status["gtid_position"] == want;
      },
      timeout);
  if (ok) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "the relay is at '" << status["gtid_position"] << "' (state " << status["state"]
         << ", error " << status["last_error"] << "), " << server << " at '" << want << "'";
}

// The GTIDs (in order) that mariadb-binlog prints for these files, verifying every checksum;
// the failure carries its output.
::testing::AssertionResult binlog_gtids(const std::vector<std::string>& files,
                                        std::vector<std::string>& gtids) {
  static const std::regex kGtid(R"(GTID (\d+-\d+-\d+))");
  for (const std::string& file : files) {
    const RunResult r =
        run("mariadb-binlog --verify-binlog-checksum " + shell_quote(file) + " 2>&1");
    if (r.status != 0 || r.output.find("ERROR") != std::string::npos) {
      return ::testing::AssertionFailure()
             << "mariadb-binlog " << file << " (exit " << r.status << "):\n"
             << tail_lines(r.output, 20);
    }
    for (std::sregex_iterator it(r.output.begin(), r.output.end(), kGtid), end; it != end; ++it) {
      gtids.push_back((*it)[1]);
    }
  }
  return ::testing::AssertionSuccess();
}

// The relay's files, from its index.
std::vector<std::string> relay_files(const std::string& datadir) {
  std::vector<std::string> files;
  std::istringstream index(read_file(datadir + "/replproxy-bin.index"));
  for (std::string line; std::getline(index, line);) {
    if (!line.empty()) {
      files.push_back(datadir + "/" + std::filesystem::path(line).filename().string());
    }
  }
  return files;
}

// A server's binlog files, from SHOW BINARY LOGS and its datadir.
std::vector<std::string> server_binlogs(const Sandbox& sb, const std::string& server) {
  auto c = connect_direct(sb, server);
  if (!c) {
    return {};
  }
  const std::string datadir = c->scalar("SELECT @@datadir");
  std::vector<std::string> files;
  for (const Row& row : c->must("SHOW BINARY LOGS")) {
    files.push_back(datadir + "/" + row[0].value_or(""));
  }
  return files;
}

void point_replica_at(const Sandbox& sb, const std::string& replica, int port) {
  sql_on(sb, replica, "STOP SLAVE");
  sql_on(sb, replica, "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = " +
                          std::to_string(port) +
                          ", MASTER_USER = 'repl', MASTER_PASSWORD = 'repl', "
                          "MASTER_USE_GTID = slave_pos");
  sql_on(sb, replica, "START SLAVE");
}

::testing::AssertionResult replica_caught_up(const Sandbox& sb, const std::string& replica,
                                             std::chrono::milliseconds timeout) {
  std::string want;
  std::string have;
  const bool ok = wait_until(
      [&] {
        want = scalar_on(sb, "primary", "SELECT @@global.gtid_current_pos");
        have = scalar_on(sb, replica, "SELECT @@global.gtid_current_pos");
        return want == have;
      },
      timeout);
  if (ok) {
    return ::testing::AssertionSuccess();
  }
  auto c = connect_direct(sb, replica);
  std::string status;
  if (c) {
    for (const Row& row : c->must("SHOW SLAVE STATUS")) {
      for (const Value& v : row) {
        status += v.value_or("NULL") + " | ";
      }
    }
  }
  return ::testing::AssertionFailure() << replica << " is at '" << have << "', the primary at '"
                                       << want << "'; SHOW SLAVE STATUS: " << status;
}

std::string checksum(const Sandbox& sb, const std::string& server, const std::string& table) {
  auto c = connect_direct(sb, server);
  if (!c) {
    return "<no connection>";
  }
  const Rows rows = c->must("CHECKSUM TABLE " + table);
  return rows.empty() ? "<none>" : rows[0][1].value_or("NULL");
}

std::string sysbench(const Sandbox& sb, const std::string& command, int seconds) {
  return "sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=" +
         std::to_string(sb.port("primary")) +
         " --mysql-user=root --mysql-password=root --mysql-db=relaysb --tables=2 "
         "--table-size=2000 --threads=4 --time=" +
         std::to_string(seconds) + " --db-ps-mode=disable " + command;
}

// Where two GTID lists part: the first index that differs, with its neighbours on both sides.
std::string first_difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) {
    ++i;
  }
  if (i == a.size() && i == b.size()) {
    return "equal";
  }
  const auto around = [i](const std::vector<std::string>& v) {
    std::string out;
    for (size_t j = i >= 2 ? i - 2 : 0; j < std::min(v.size(), i + 3); ++j) {
      out += (j == i ? "[" : "") + v[j] + (j == i ? "] " : " ");
    }
    return out;
  };
  return "they part at index " + std::to_string(i) + " (sizes " + std::to_string(a.size()) +
         " and " + std::to_string(b.size()) + "): " + around(a) + "| " + around(b);
}

// A replproxy whose relay follows the sandbox's primary (or `upstream_port`, a shim in front of
// it), its binlog in a temporary directory. Change `setup` and `options` before start().
class RelayProxy {
 public:
  explicit RelayProxy(const Sandbox& sb, int upstream_port = 0) : sb_(sb) {
    setup.relay_port = free_port();
    setup.admin_port = free_port();
    setup.datadir = tmp.file("binlog");
    options.port = free_port();
    options.backends = {{"db1", upstream_port != 0 ? upstream_port : sb.port("primary"), "primary"}};
  }

  // Starts replproxy and waits until the relay stored everything `server` has in its binlog.
  ::testing::AssertionResult start(const std::string& server = "primary") {
    if (auto launched = launch(); !launched) {
      return launched;
    }
    return caught_up(server, 30s);
  }
  // Starts replproxy, not waiting for the relay.
  ::testing::AssertionResult launch() {
    ProxyOptions o = options;
    o.extra_toml += relay_toml(setup);
    config_ = render_config(o);
    proxy = std::make_unique<ProxyProcess>(config_, o.port);
    return proxy->start();
  }
  // kill -9, then a start from the same config (not waiting for the relay).
  ::testing::AssertionResult kill_and_restart() {
    proxy->signal(SIGKILL);
    proxy->wait_exit(10s);
    std::this_thread::sleep_for(500ms);
    proxy = std::make_unique<ProxyProcess>(config_, options.port);
    return proxy->start();
  }
  ::testing::AssertionResult caught_up(const std::string& server,
                                       std::chrono::milliseconds timeout) {
    return relay_caught_up(sb_, server, setup.admin_port, timeout);
  }
  BatchRow status() const { return relay_status(setup.admin_port); }
  std::vector<std::string> files() const { return relay_files(setup.datadir); }

  TempDir tmp{"replproxy-relay"};
  RelaySetup setup;
  ProxyOptions options;  // extra_toml goes before [relay]
  std::unique_ptr<ProxyProcess> proxy;

 private:
  const Sandbox& sb_;
  std::string config_;
};

class Relay : public E2eTest {};

// The first done-means: a MariaDB replica pointed at the relay ends identical to the primary
// after a sysbench write load with a kill -9 and restart of replproxy in the middle; the relay's
// files hold the primary's GTIDs, in the same order, with valid checksums.
TEST_F(Relay, ReplicaThroughTheRelayEqualsThePrimaryAcrossAKill) {
  PrivateSandbox sbx("--replicas 1");
  ASSERT_TRUE(sbx.start());
  const Sandbox& sb = sbx.sandbox();
  RelayProxy relay(sb);
  ASSERT_TRUE(relay.start());
  point_replica_at(sb, "replica1", relay.setup.relay_port);

  sql_on(sb, "primary", "CREATE DATABASE relaysb");
  const RunResult prepared = run(sysbench(sb, "prepare", 0), 120s);
  ASSERT_EQ(prepared.status, 0) << prepared.output;
  Subprocess load(sysbench(sb, "run", 7), relay.tmp.file("sysbench.log"));
  std::this_thread::sleep_for(3s);
  ASSERT_TRUE(relay.kill_and_restart());
  ASSERT_TRUE(load.wait(60s).has_value());
  std::cerr << "[info] sysbench: " << tail_lines(read_file(relay.tmp.file("sysbench.log")), 30)
            << "\n";
  sql_on(sb, "primary", "CREATE TABLE relaysb.done (id INT PRIMARY KEY)");

  ASSERT_TRUE(relay.caught_up("primary", 60s));
  ASSERT_TRUE(replica_caught_up(sb, "replica1", 60s));
  for (const std::string table : {"relaysb.sbtest1", "relaysb.sbtest2"}) {
    EXPECT_EQ(checksum(sb, "replica1", table), checksum(sb, "primary", table)) << table;
  }
  const BatchRow status = relay.status();
  EXPECT_EQ(status.at("checksum_errors"), "0");

  std::vector<std::string> relay_gtids;
  std::vector<std::string> primary_gtids;
  ASSERT_TRUE(binlog_gtids(relay.files(), relay_gtids));
  ASSERT_TRUE(binlog_gtids(server_binlogs(sb, "primary"), primary_gtids));
  EXPECT_GT(primary_gtids.size(), 100u);
  EXPECT_EQ(relay_gtids, primary_gtids) << first_difference(relay_gtids, primary_gtids);
  std::cerr << "[info] " << primary_gtids.size() << " GTIDs in the relay's "
            << relay.files().size() << " file(s); status: acks_sent "
            << status.at("acks_sent") << ", fsyncs " << status.at("fsyncs") << "\n";
}

// With the relay as the only semi-sync replica, every commit is acknowledged (yes_tx grows with
// each, no_tx does not); after a kill -9 of the primary, the GTID of every commit that returned
// OK is in the relay's files. Under sync = "group" (a shared fdatasync) and "every_event".
class RelaySemiSync : public E2eTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(RelaySemiSync, AcknowledgesEveryCommitOnceDurable) {
  PrivateSandbox sbx("--replicas 0");
  ASSERT_TRUE(sbx.start());
  const Sandbox& sb = sbx.sandbox();
  RelayProxy relay(sb);
  relay.setup.sync = GetParam();
  ASSERT_TRUE(relay.start());
  auto primary = connect_direct(sb, "primary");
  ASSERT_TRUE(primary);
  primary->must("SET GLOBAL rpl_semi_sync_master_timeout = 10000");
  primary->must("CREATE DATABASE semi");
  primary->must("CREATE TABLE semi.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(32))");
  ASSERT_TRUE(wait_until(
      [&] {
        const Rows rows = primary->must("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'");
        return !rows.empty() && rows[0][1] == "ON";
      },
      20s));
  const auto status_value = [&](const std::string& name) {
    const Rows rows = primary->must("SHOW GLOBAL STATUS LIKE '" + name + "'");
    return rows.empty() ? -1 : std::stoll(rows[0][1].value_or("-1"));
  };
  const long long yes_before = status_value("Rpl_semi_sync_master_yes_tx");
  const long long no_before = status_value("Rpl_semi_sync_master_no_tx");
  constexpr int kCommits = 200;
  std::vector<std::string> committed;
  for (int i = 0; i < kCommits; ++i) {
    primary->must("INSERT INTO semi.t (v) VALUES ('row " + std::to_string(i) + "')");
    committed.push_back(primary->scalar("SELECT @@last_gtid"));
  }
  EXPECT_EQ(status_value("Rpl_semi_sync_master_yes_tx") - yes_before, kCommits);
  EXPECT_EQ(status_value("Rpl_semi_sync_master_no_tx") - no_before, 0);
  ASSERT_EQ(sbx.server("kill", "primary").status, 0);

  std::vector<std::string> stored;
  ASSERT_TRUE(binlog_gtids(relay.files(), stored));
  const std::set<std::string> on_disk(stored.begin(), stored.end());
  for (const std::string& gtid : committed) {
    EXPECT_TRUE(on_disk.contains(gtid)) << "acknowledged commit " << gtid << " is not stored";
  }
  const BatchRow status = relay.status();
  EXPECT_EQ(status.at("semi_sync"), "yes");
  EXPECT_GE(std::stoll(status.at("acks_sent")), kCommits);
  // Every acknowledged commit had an fdatasync of its own or shared one.
  EXPECT_GE(std::stoll(status.at("fsyncs")), GetParam() == "every_event" ? kCommits : 1);
  std::cerr << "[info] sync = " << GetParam() << ": " << kCommits
            << " commits acknowledged; relay ACK latency p50 " << status.at("ack_latency_p50_us")
            << " us, p99 " << status.at("ack_latency_p99_us") << " us, fsyncs "
            << status.at("fsyncs") << "\n";
}

INSTANTIATE_TEST_SUITE_P(SyncPolicies, RelaySemiSync, ::testing::Values("group", "every_event"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// sync = "none" cannot promise durability: the relay says so at start, never asks the primary
// for semi-sync (the primary counts no semi-sync client and no ACK) and still stores the events.
TEST_F(Relay, SyncNoneNeverAcknowledgesSemiSync) {
  PrivateSandbox sbx("--replicas 0");
  ASSERT_TRUE(sbx.start());
  const Sandbox& sb = sbx.sandbox();
  RelayProxy relay(sb);
  relay.setup.sync = "none";
  ASSERT_TRUE(relay.start());
  auto primary = connect_direct(sb, "primary");
  ASSERT_TRUE(primary);
  // No semi-sync replica: a commit waits this long for an ACK, then the primary goes async.
  primary->must("SET GLOBAL rpl_semi_sync_master_timeout = 200");
  primary->must("CREATE DATABASE nosync");
  primary->must("CREATE TABLE nosync.t (id INT PRIMARY KEY)");
  primary->must("INSERT INTO nosync.t VALUES (1), (2)");
  ASSERT_TRUE(relay.caught_up("primary", 30s));
  EXPECT_EQ(primary->scalar("SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE "
                            "VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS'"),
            "0");
  const BatchRow status = relay.status();
  EXPECT_EQ(status.at("sync"), "none");
  EXPECT_EQ(status.at("semi_sync"), "no");
  EXPECT_EQ(status.at("semi_sync_active"), "no");
  EXPECT_EQ(status.at("acks_sent"), "0");
  EXPECT_NE(relay.proxy->log().find("never acknowledges semi-sync"), std::string::npos)
      << tail_lines(relay.proxy->log(), 20);
  std::vector<std::string> stored;
  ASSERT_TRUE(binlog_gtids(relay.files(), stored));
  EXPECT_EQ(stored.back(), primary->scalar("SELECT @@global.gtid_binlog_pos"));
}

// A TCP forwarder between the relay and the primary that flips one bit in one event packet of
// the first binlog dump it sees (the 20th packet longer than 100 bytes after COM_BINLOG_DUMP),
// then forwards everything faithfully.
class BitFlipShim {
 public:
  explicit BitFlipShim(int target_port) : target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    port_ = free_port();
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 8) != 0) {
      ADD_FAILURE() << "the shim cannot listen on " << port_;
    }
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~BitFlipShim() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    for (auto& [fds, threads] : links_) {
      ::shutdown(fds.first, SHUT_RDWR);
      ::shutdown(fds.second, SHUT_RDWR);
      for (std::thread& t : threads) {
        t.join();
      }
      ::close(fds.first);
      ::close(fds.second);
    }
  }
  int port() const { return port_; }
  bool flipped() const { return flipped_; }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) {
        return;
      }
      const int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(target_port_));
      if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      auto dump_seen = std::make_shared<std::atomic<bool>>(false);
      std::vector<std::thread> threads;
      threads.emplace_back([=, this] { pump(client, server, dump_seen, true); });
      threads.emplace_back([=, this] { pump(server, client, dump_seen, false); });
      links_.emplace_back(std::pair{client, server}, std::move(threads));
    }
  }

  // Forwards whole frames from `from` to `to`. Client to server: notes COM_BINLOG_DUMP. Server
  // to client: flips the bit once the dump runs.
  void pump(int from, int to, std::shared_ptr<std::atomic<bool>> dump_seen, bool to_server) {
    std::vector<uint8_t> buffer;
    uint8_t chunk[65536];
    int big_packets = 0;
    for (;;) {
      const ssize_t n = ::recv(from, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ::shutdown(to, SHUT_WR);
        return;
      }
      buffer.insert(buffer.end(), chunk, chunk + n);
      size_t start = 0;
      while (buffer.size() - start >= 4) {
        const size_t len = buffer[start] | (buffer[start + 1] << 8) | (buffer[start + 2] << 16);
        if (buffer.size() - start < 4 + len) {
          break;
        }
        uint8_t* payload = buffer.data() + start + 4;
        if (to_server && len > 0 && payload[0] == 0x12) {
          *dump_seen = true;
        }
        if (!to_server && *dump_seen && len > 100 && !flipped_ && ++big_packets == 20) {
          payload[len / 2] ^= 0x10;
          flipped_ = true;
        }
        start += 4 + len;
      }
      size_t sent = 0;
      while (sent < start) {
        const ssize_t w = ::send(to, buffer.data() + sent, start - sent, MSG_NOSIGNAL);
        if (w <= 0) {
          return;
        }
        sent += static_cast<size_t>(w);
      }
      buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(start));
    }
  }

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> flipped_{false};
  std::thread acceptor_;
  std::vector<std::pair<std::pair<int, int>, std::vector<std::thread>>> links_;
};

// One flipped bit on the upstream stream: the CRC32 catches it, the relay drops the link, counts
// it and resumes; what it stored equals the primary's binlog, checksums valid.
TEST_F(Relay, AFlippedBitIsCaughtAndNothingCorruptIsStored) {
  PrivateSandbox sbx("--replicas 0");
  ASSERT_TRUE(sbx.start());
  const Sandbox& sb = sbx.sandbox();
  sql_on(sb, "primary", "CREATE DATABASE flip");
  sql_on(sb, "primary", "CREATE TABLE flip.t (id INT PRIMARY KEY, v TEXT)");
  for (int i = 0; i < 60; ++i) {
    sql_on(sb, "primary", "INSERT INTO flip.t VALUES (" + std::to_string(i) + ", REPEAT('x', 500))");
  }
  BitFlipShim shim(sb.port("primary"));
  RelayProxy relay(sb, shim.port());
  relay.setup.semi_sync = false;
  ASSERT_TRUE(relay.start());
  EXPECT_TRUE(shim.flipped());
  const BatchRow status = relay.status();
  EXPECT_EQ(status.at("checksum_errors"), "1");
  EXPECT_GE(std::stoll(status.at("connects")), 2);
  const std::string log = relay.proxy->log();
  EXPECT_TRUE(log.find("checksum mismatch") != std::string::npos) << tail_lines(log, 30);

  std::vector<std::string> relay_gtids;
  std::vector<std::string> primary_gtids;
  ASSERT_TRUE(binlog_gtids(relay.files(), relay_gtids));
  ASSERT_TRUE(binlog_gtids(server_binlogs(sb, "primary"), primary_gtids));
  EXPECT_EQ(relay_gtids, primary_gtids);
}

// Replicas of the relay over TLS (require_tls): a MariaDB replica with MASTER_SSL and
// verification follows the relay across rotated files; mariadb-binlog --read-from-remote-server
// gets the primary's GTIDs from it; a plaintext login and a file the relay does not have get
// MariaDB's errors.
TEST_F(Relay, ServesReplicasOverTlsAcrossRotatedFiles) {
  PrivateSandbox sbx("--replicas 1");
  ASSERT_TRUE(sbx.start());
  const Sandbox& sb = sbx.sandbox();
  RelayProxy relay(sb);
  RelaySetup& setup = relay.setup;
  setup.semi_sync = false;
  setup.more = "max_file_size = \"16KiB\"\ntls_cert = \"" + sb.tls_dir() +
               "/server-cert.pem\"\ntls_key = \"" + sb.tls_dir() +
               "/server-key.pem\"\nrequire_tls = true\n";
  ASSERT_TRUE(relay.start());
  sql_on(sb, "replica1", "STOP SLAVE");
  sql_on(sb, "replica1", "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = " +
                             std::to_string(setup.relay_port) +
                             ", MASTER_USER = 'repl', MASTER_PASSWORD = 'repl', MASTER_USE_GTID = "
                             "slave_pos, MASTER_SSL = 1, MASTER_SSL_CA = '" +
                             sb.ca() + "', MASTER_SSL_VERIFY_SERVER_CERT = 1");
  sql_on(sb, "replica1", "START SLAVE");

  sql_on(sb, "primary", "CREATE DATABASE rot");
  sql_on(sb, "primary", "CREATE TABLE rot.t (id INT PRIMARY KEY, v TEXT)");
  for (int i = 0; i < 300; ++i) {
    sql_on(sb, "primary", "INSERT INTO rot.t VALUES (" + std::to_string(i) + ", REPEAT('r', 300))");
  }
  ASSERT_TRUE(relay.caught_up("primary", 60s));
  ASSERT_TRUE(replica_caught_up(sb, "replica1", 60s));
  EXPECT_EQ(checksum(sb, "replica1", "rot.t"), checksum(sb, "primary", "rot.t"));
  const std::vector<std::string> files = relay.files();
  EXPECT_GE(files.size(), 4u);

  std::vector<std::string> relay_gtids;
  std::vector<std::string> primary_gtids;
  ASSERT_TRUE(binlog_gtids(files, relay_gtids));
  ASSERT_TRUE(binlog_gtids(server_binlogs(sb, "primary"), primary_gtids));
  EXPECT_EQ(relay_gtids, primary_gtids);

  // The same GTIDs over the relay's replica port, as mariadb-binlog reads a primary.
  const std::string remote =
      "mariadb-binlog --read-from-remote-server --host=127.0.0.1 --port=" +
      std::to_string(setup.relay_port) + " --user=repl --password=repl --ssl-ca=" +
      shell_quote(sb.ca()) + " --to-last-log replproxy-bin.000001 2>&1";
  const RunResult streamed = run(remote, 60s);
  ASSERT_EQ(streamed.status, 0) << tail_lines(streamed.output, 20);
  std::vector<std::string> remote_gtids;
  static const std::regex kGtid(R"(GTID (\d+-\d+-\d+))");
  for (std::sregex_iterator it(streamed.output.begin(), streamed.output.end(), kGtid), end;
       it != end; ++it) {
    remote_gtids.push_back((*it)[1]);
  }
  EXPECT_EQ(remote_gtids, primary_gtids);

  const RunResult missing = run(
      "mariadb-binlog --read-from-remote-server --host=127.0.0.1 --port=" +
          std::to_string(setup.relay_port) + " --user=repl --password=repl --ssl-ca=" +
          shell_quote(sb.ca()) + " mysql-bin.000042 2>&1",
      30s);
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("Could not find first log file name in binary log index file"),
            std::string::npos)
      << missing.output;
  const RunResult plain =
      run("mariadb --skip-ssl -h127.0.0.1 -P" + std::to_string(setup.relay_port) +
              " -urepl -prepl -e 'SELECT 1' 2>&1",
          30s);
  EXPECT_NE(plain.status, 0);
  EXPECT_NE(plain.output.find("TLS is required"), std::string::npos) << plain.output;
  const RunResult wrong =
      run("mariadb --ssl-ca=" + shell_quote(sb.ca()) + " -h127.0.0.1 -P" +
              std::to_string(setup.relay_port) + " -urepl -pwrong -e 'SELECT 1' 2>&1",
          30s);
  EXPECT_NE(wrong.output.find("1045"), std::string::npos) << wrong.output;

  const RunResult replicas = run(mariadb_cli(setup.admin_port, "", "-e 'SHOW RELAY REPLICAS'",
                                             "admin", "s3cret"));
  const std::vector<BatchRow> rows = parse_batch(replicas.output);
  ASSERT_EQ(rows.size(), 1u) << replicas.output;
  EXPECT_EQ(rows[0].at("server_id"), scalar_on(sb, "replica1", "SELECT @@server_id"));
  // The sandbox's replicas ask for semi-sync: the live inserts were flagged and acknowledged.
  EXPECT_EQ(rows[0].at("semi_sync"), "yes");
  EXPECT_GT(std::stoll(rows[0].at("acks")), 0);
}

// The upstream hop over TLS: upstream_tls with the sandbox CA and verification; the relay says
// which cipher the link uses, stores the primary's GTIDs, and a CA that does not match is refused
// (no plaintext fallback).
TEST_F(Relay, UpstreamOverVerifiedTls) {
  PrivateSandbox sbx("--replicas 0");
  ASSERT_TRUE(sbx.start());
  const Sandbox& sb = sbx.sandbox();
  sql_on(sb, "primary", "CREATE DATABASE up");
  sql_on(sb, "primary", "CREATE TABLE up.t (id INT PRIMARY KEY)");
  {
    RelayProxy relay(sb);
    relay.setup.semi_sync = false;
    relay.setup.more = "upstream_tls = true\nupstream_tls_ca = \"" + sb.ca() +
                       "\"\nupstream_tls_verify = true\n";
    ASSERT_TRUE(relay.start());
    EXPECT_NE(relay.proxy->log().find(", TLS "), std::string::npos)
        << tail_lines(relay.proxy->log(), 30);
  }
  // A CA that did not sign the primary's certificate: refused, nothing stored from it.
  RelayProxy relay(sb);
  relay.setup.semi_sync = false;
  relay.setup.more = "upstream_tls = true\nupstream_tls_ca = \"" + sb.tls_dir() +
                     "/client-cert.pem\"\nupstream_tls_verify = true\n";
  ASSERT_TRUE(relay.launch());
  BatchRow status;
  ASSERT_TRUE(wait_until(
      [&] {
        status = relay.status();
        return status["last_error"].find("TLS") != std::string::npos;
      },
      20s));
  EXPECT_NE(status["state"], "streaming");
  EXPECT_EQ(status["gtid_position"], "");
}

// A promotion (as in the health tests): the primary stops, replica1 is promoted. The relay,
// following health's primary, reconnects to replica1 by GTID and stores what is written there,
// without a gap: its files hold exactly replica1's binlog GTIDs.
TEST_F(Relay, FollowsANewPrimaryWithoutAGap) {
  PrivateSandbox sbx("--replicas 2");
  ASSERT_TRUE(sbx.start());
  const Sandbox& sb = sbx.sandbox();
  RelayProxy relay(sb);
  relay.setup.semi_sync = false;
  relay.options.backends = {{"primary", sb.port("primary"), "primary"},
                            {"replica1", sb.port("replica1"), "replica"},
                            {"replica2", sb.port("replica2"), "replica"}};
  relay.options.connect_timeout_ms = 2000;
  // No heartbeat: its rows, written on the primary every 250 ms, would race the comparison of
  // the relay's files with replica1's binlog below.
  relay.options.extra_toml =
      "[health]\nuser = \"monitor\"\npassword = \"monitor\"\ninterval_ms = 200\n"
      "heartbeat = false\n\n";
  sql_on(sb, "primary", "CREATE DATABASE follow");
  sql_on(sb, "primary", "CREATE TABLE follow.t (id INT PRIMARY KEY, origin INT)");
  for (int i = 0; i < 20; ++i) {
    sql_on(sb, "primary", "INSERT INTO follow.t VALUES (" + std::to_string(i) + ", @@server_id)");
  }
  ASSERT_TRUE(relay.start());
  ASSERT_TRUE(wait_until(
      [&] {
        return scalar_on(sb, "replica1", "SELECT @@global.gtid_current_pos") ==
               scalar_on(sb, "primary", "SELECT @@global.gtid_current_pos");
      },
      30s));

  ASSERT_TRUE(sbx.fail_over_to("replica1", {"replica2"}));
  for (int i = 20; i < 40; ++i) {
    sql_on(sb, "replica1", "INSERT INTO follow.t VALUES (" + std::to_string(i) + ", @@server_id)");
  }
  ASSERT_TRUE(relay.caught_up("replica1", 60s));
  const BatchRow status = relay.status();
  EXPECT_EQ(status.at("source"), "replica1");
  EXPECT_EQ(status.at("state"), "streaming");

  std::vector<std::string> relay_gtids;
  std::vector<std::string> new_primary_gtids;
  ASSERT_TRUE(binlog_gtids(relay.files(), relay_gtids));
  ASSERT_TRUE(binlog_gtids(server_binlogs(sb, "replica1"), new_primary_gtids));
  // replica1's binlog starts where it was set up; the relay's holds the primary's whole history.
  ASSERT_FALSE(new_primary_gtids.empty());
  const auto first = std::find(relay_gtids.begin(), relay_gtids.end(), new_primary_gtids.front());
  ASSERT_NE(first, relay_gtids.end()) << "the relay lacks " << new_primary_gtids.front();
  const std::vector<std::string> since(first, relay_gtids.end());
  EXPECT_EQ(since, new_primary_gtids) << first_difference(since, new_primary_gtids);
}

}  // namespace
}  // namespace replproxy::e2e
