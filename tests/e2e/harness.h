#pragma once

// Shared pieces of the end-to-end tests: the sandbox started by scripts/sandbox (read from the
// file named by REPLPROXY_SANDBOX_ENV), a replproxy process with a generated config, subprocesses
// (the mariadb CLI, sysbench), and thin libmariadb helpers.
//
// Every test runs as its own process (gtest_discover_tests), so the helpers keep no state between
// tests beyond the sandbox, and every test works in its own schema.

#include <gtest/gtest.h>
#include <mysql.h>
#include <sys/types.h>

#include <chrono>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace replproxy::e2e {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Sandbox

class Sandbox {
 public:
  // Parses a sandbox.env file ("export KEY='VALUE'" or "KEY=VALUE" lines).
  static std::expected<Sandbox, std::string> load(const std::string& path);

  // The value of KEY, or "" when the file does not set it.
  std::string get(const std::string& key) const;
  // SANDBOX_<NAME>_PORT for NAME in primary, replica1, replica2 (0 when absent).
  int port(const std::string& name) const;
  int primary_port() const { return port("primary"); }
  std::string dir() const { return get("SANDBOX_DIR"); }
  std::string tls_dir() const { return get("SANDBOX_TLS_DIR"); }
  std::string ca() const { return tls_dir() + "/ca.pem"; }

 private:
  std::map<std::string, std::string> vars_;
};

// Base fixture: skips when REPLPROXY_SANDBOX_ENV is unset (scripts/test always sets it) and
// fails when it names a file that cannot be read.
class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override;
  const Sandbox& sandbox() const { return *sandbox_; }

 private:
  std::optional<Sandbox> sandbox_;
};

// ---------------------------------------------------------------------------------------------
// Processes

// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close).
int free_port();

// True when something accepts TCP connections on 127.0.0.1:PORT.
bool port_accepts(int port);

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "replproxy-e2e");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

void write_file(const std::string& path, std::string_view contents);
std::string read_file(const std::string& path);
// The last N lines of TEXT.
std::string tail_lines(std::string_view text, size_t n);
// Single-quotes S for bash.
std::string shell_quote(std::string_view s);

struct RunResult {
  int status = -1;     // exit code; 128+signal when killed; -1 when the timeout struck
  std::string output;  // stdout and stderr, interleaved
};

// Runs CMD with bash -c, stdin from /dev/null unless INPUT is given; the process group is killed
// after TIMEOUT.
RunResult run(const std::string& cmd, std::chrono::milliseconds timeout = 60s,
              const std::optional<std::string>& input = std::nullopt);

// A background bash command in its own process group (use "exec prog ..." to make PID the
// program itself). Killed (SIGKILL to the group) on destruction if still running.
class Subprocess {
 public:
  explicit Subprocess(const std::string& cmd, const std::string& output_path = "/dev/null");
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  pid_t pid() const { return pid_; }
  bool running();
  void kill(int signal);
  // Waits for the exit; the status as in RunResult, or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Waits until PRED is true, polling every 50 ms; false on timeout.
template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(50ms);
  }
}

// ---------------------------------------------------------------------------------------------
// The proxy

struct ProxyUser {
  std::string name;
  std::optional<std::string> password;
  std::optional<std::string> password_hash;
};

struct ProxyBackend {
  std::string name;
  int port = 0;
  std::string role = "primary";
};

struct ProxyOptions {
  int port = 0;  // 0: a free port is picked
  int workers = 2;
  std::string log_level = "debug";
  std::vector<ProxyUser> users{{"app", "app", std::nullopt}};
  std::vector<ProxyBackend> backends;  // empty: the sandbox primary as "db1"
  std::string tls_cert;
  std::string tls_key;
  bool require_tls = false;
  std::optional<int> shutdown_grace_ms;
  std::optional<int> connect_timeout_ms;
  std::string extra_toml;  // appended as is: [routing], [health] tables and the like
};

// Renders OPTIONS as a TOML config (BACKENDS already filled in).
std::string render_config(const ProxyOptions& options);

class ProxyProcess {
 public:
  // Writes a config from OPTIONS (the sandbox primary as backend when none is given).
  ProxyProcess(const Sandbox& sandbox, ProxyOptions options);
  // Uses RAW_TOML as the config; PORT must be its listen port.
  ProxyProcess(std::string raw_toml, int port);
  ~ProxyProcess();
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;

  // Starts the binary and waits (up to 10 s) until the port accepts TCP connections.
  ::testing::AssertionResult start();
  // SIGTERM, then waits up to TIMEOUT for the exit; nullopt when it did not exit.
  std::optional<int> terminate(std::chrono::milliseconds timeout = 15s);
  void signal(int sig);
  // Waits up to TIMEOUT for the exit, without signalling.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool alive();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& config_path() const { return config_path_; }
  const std::string& log_path() const { return log_path_; }
  std::string log() const { return read_file(log_path_); }

 private:
  TempDir dir_{"replproxy-proxy"};
  std::string config_;
  int port_ = 0;
  std::string config_path_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// ---------------------------------------------------------------------------------------------
// libmariadb

struct DbError {
  unsigned code = 0;
  std::string sqlstate;
  std::string message;
};
std::ostream& operator<<(std::ostream& os, const DbError& e);

// One row of `mariadb --batch` output, by column name.
using BatchRow = std::map<std::string, std::string>;
// Splits `mariadb --batch` output (a header line, then tab-separated rows) into rows by column.
std::vector<BatchRow> parse_batch(const std::string& output);

using Value = std::optional<std::string>;
using Row = std::vector<Value>;
using Rows = std::vector<Row>;

struct ConnectOptions {
  int port = 0;
  std::string user = "app";
  std::string password = "app";
  std::string db;
  unsigned long flags = 0;
  // TLS: set ssl_ca (and verify) to ask for TLS; otherwise the session is plaintext.
  std::string ssl_ca;
  bool verify_server_cert = false;
  unsigned timeout_s = 20;  // connect, read and write timeouts
  unsigned long max_allowed_packet = 64ul << 20;
  bool local_infile = false;
};

struct MysqlDeleter {
  void operator()(MYSQL* m) const { mysql_close(m); }
};

class Connection {
 public:
  static std::expected<Connection, DbError> open(const ConnectOptions& options);
  MYSQL* get() const { return mysql_.get(); }
  DbError error() const;

  // Runs SQL; the rows of its first result set (empty for statements without one). Further
  // result sets are read and dropped.
  std::expected<Rows, DbError> query(std::string_view sql);
  // As query(), but a failure is reported to gtest with the statement and an empty result comes
  // back.
  Rows must(std::string_view sql);
  // The first column of the first row of must(SQL); "" on failure or NULL.
  std::string scalar(std::string_view sql);

 private:
  std::unique_ptr<MYSQL, MysqlDeleter> mysql_;
};

// Reads every row of RES (store or use result).
Rows fetch_all(MYSQL_RES* res);

// Opens a connection, reporting a failure to gtest (use with ASSERT_TRUE(conn)).
std::optional<Connection> must_connect(const ConnectOptions& options);
// Runs SQL as root on the sandbox server NAME, reporting a failure to gtest.
void sql_on(const Sandbox& sandbox, const std::string& server, const std::string& sql);

// Delays a replica's SQL thread by SECONDS (CHANGE MASTER TO MASTER_DELAY) until set_delay(0) or
// the end of the scope, pass or fail.
class ScopedReplicaDelay {
 public:
  ScopedReplicaDelay(const Sandbox& sandbox, std::string replica, int seconds);
  ~ScopedReplicaDelay() { set_delay(0); }
  ScopedReplicaDelay(const ScopedReplicaDelay&) = delete;
  ScopedReplicaDelay& operator=(const ScopedReplicaDelay&) = delete;
  void set_delay(int seconds);

 private:
  const Sandbox& sandbox_;
  std::string replica_;
  int seconds_ = 0;
};

// A plaintext connection to the sandbox server NAME as root.
std::optional<Connection> connect_direct(const Sandbox& sandbox,
                                         const std::string& name = "primary",
                                         const std::string& db = "");

// How often each value of the first column came back from N runs of SQL on C (a failed query
// counts as "error", NULL as "NULL"), e.g. which servers answered `SELECT @@server_id`.
using Tally = std::map<std::string, int>;
Tally tally(Connection& c, std::string_view sql, int n);
std::string to_string(const Tally& tally);  // "2:10 3:10 "

// A schema name unique to this test process: e2e_<tag>_<pid>_<n>.
std::string unique_name(std::string_view tag);

// Drops the schema (directly on the primary) on destruction; create() creates it.
class ScopedSchema {
 public:
  ScopedSchema(const Sandbox& sandbox, std::string_view tag);
  ~ScopedSchema();
  ScopedSchema(const ScopedSchema&) = delete;
  ScopedSchema& operator=(const ScopedSchema&) = delete;
  ::testing::AssertionResult create();
  const std::string& name() const { return name_; }

 private:
  const Sandbox& sandbox_;
  std::string name_;
};

// The mariadb CLI as user app/app, plaintext, --batch, against PORT; extra ARGS are appended
// verbatim (already shell-quoted where needed).
std::string mariadb_cli(int port, const std::string& db, const std::string& args,
                        const std::string& user = "app", const std::string& password = "app");

}  // namespace replproxy::e2e
