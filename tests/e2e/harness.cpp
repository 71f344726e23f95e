#include "tests/e2e/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace replproxy::e2e {

std::vector<BatchRow> parse_batch(const std::string& output) {
  std::vector<BatchRow> rows;
  std::istringstream in(output);
  std::vector<std::string> header;
  const auto split = [](const std::string& l) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t tab; (tab = l.find('\t', start)) != std::string::npos; start = tab + 1) {
      fields.push_back(l.substr(start, tab - start));
    }
    fields.push_back(l.substr(start));
    return fields;
  };
  for (std::string line; std::getline(in, line);) {
    if (header.empty()) {
      header = split(line);
      continue;
    }
    const auto fields = split(line);
    BatchRow row;
    for (size_t i = 0; i < header.size() && i < fields.size(); ++i) {
      row[header[i]] = fields[i];
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

namespace {

// The status of a reaped child as RunResult describes it.
int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

// In a freshly forked child: its own process group, the given stdin/stdout/stderr, nothing else
// inherited (a test's sockets must not live on in a proxy or client). Async-signal-safe only.
void setup_child(int in_fd, int out_fd) {
  setpgid(0, 0);
  dup2(in_fd, 0);
  dup2(out_fd, 1);
  dup2(out_fd, 2);
  close_range(3, ~0u, 0);
  signal(SIGPIPE, SIG_DFL);
}

// Waits for PID up to TIMEOUT; the decoded status, or nullopt when it is still running.
std::optional<int> wait_pid(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return decode_status(status);
    }
    if (r < 0) {
      return -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(20ms);
  }
}

std::string unquote_env_value(std::string v) {
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') {
    return v.substr(1, v.size() - 2);
  }
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Sandbox

std::expected<Sandbox, std::string> Sandbox::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return std::unexpected("cannot read sandbox env file " + path + ": " + std::strerror(errno));
  }
  Sandbox sandbox;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    if (line.starts_with("export ")) {
      line = line.substr(7);
    }
    const size_t eq = line.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    sandbox.vars_[line.substr(0, eq)] = unquote_env_value(line.substr(eq + 1));
  }
  if (sandbox.primary_port() == 0) {
    return std::unexpected("sandbox env file " + path + " has no SANDBOX_PRIMARY_PORT");
  }
  return sandbox;
}

std::string Sandbox::get(const std::string& key) const {
  auto it = vars_.find(key);
  return it == vars_.end() ? std::string() : it->second;
}

int Sandbox::port(const std::string& name) const {
  std::string key = "SANDBOX_";
  for (char c : name) {
    key += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const std::string value = get(key + "_PORT");
  return value.empty() ? 0 : std::atoi(value.c_str());
}

void E2eTest::SetUp() {
  // A peer that closed a socket must give EPIPE, not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  const char* path = std::getenv("REPLPROXY_SANDBOX_ENV");
  if (path == nullptr || *path == '\0') {
    GTEST_SKIP() << "REPLPROXY_SANDBOX_ENV is not set: start a sandbox with "
                    "'scripts/sandbox start --dir DIR' and export REPLPROXY_SANDBOX_ENV=DIR/"
                    "sandbox.env (scripts/test does both)";
  }
  auto loaded = Sandbox::load(path);
  ASSERT_TRUE(loaded) << loaded.error();
  sandbox_ = std::move(*loaded);
}

// ---------------------------------------------------------------------------------------------
// Processes

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return 0;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool port_accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

TempDir::TempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string templ =
      std::string(base && *base ? base : "/tmp") + "/" + std::string(prefix) + ".XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << templ << ": " << std::strerror(errno);
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) {
    ADD_FAILURE() << "cannot write " << path;
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail_lines(std::string_view text, size_t n) {
  size_t begin = text.size();
  if (begin > 0 && text[begin - 1] == '\n') {
    --begin;
  }
  for (size_t lines = 0; lines < n; ++lines) {
    const size_t nl = begin == 0 ? std::string_view::npos : text.rfind('\n', begin - 1);
    if (nl == std::string_view::npos) {
      return std::string(text);
    }
    begin = nl;
  }
  return std::string(text.substr(begin + 1));
}

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

RunResult run(const std::string& cmd, std::chrono::milliseconds timeout,
              const std::optional<std::string>& input) {
  RunResult result;
  std::optional<TempDir> input_dir;
  std::string input_path = "/dev/null";
  if (input) {
    input_dir.emplace("replproxy-run");
    input_path = input_dir->file("stdin");
    write_file(input_path, *input);
  }
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.output = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  const int in_fd = open(input_path.c_str(), O_RDONLY | O_CLOEXEC);
  const pid_t pid = fork();
  if (pid == 0) {
    setup_child(in_fd, pipe_fds[1]);
    execl("/bin/bash", "bash", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(in_fd);
  ::close(pipe_fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{pipe_fds[0], POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 200)));
    if (r < 0 && errno != EINTR) {
      break;
    }
    if (r <= 0) {
      continue;
    }
    const ssize_t n = read(pipe_fds[0], buf, sizeof(buf));
    if (n <= 0) {
      break;
    }
    result.output.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  if (timed_out) {
    ::kill(-pid, SIGKILL);
    wait_pid(pid, 10s);
    result.status = -1;
    result.output += "\n[run: timed out after " + std::to_string(timeout.count()) + " ms]\n";
    return result;
  }
  // The pipe closed: the command is done (or closed its output); give it the rest of the time.
  auto status = wait_pid(pid, std::max<std::chrono::milliseconds>(
                                  1000ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                              deadline - std::chrono::steady_clock::now())));
  if (!status) {
    ::kill(-pid, SIGKILL);
    wait_pid(pid, 10s);
    result.status = -1;
    return result;
  }
  result.status = *status;
  return result;
}

Subprocess::Subprocess(const std::string& cmd, const std::string& output_path) {
  const int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out_fd = open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_ = fork();
  if (pid_ == 0) {
    setup_child(in_fd, out_fd);
    execl("/bin/bash", "bash", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(in_fd);
  ::close(out_fd);
  if (pid_ > 0) {
    // Also from the parent, so a kill right after the constructor reaches the new group.
    setpgid(pid_, pid_);
  }
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !status_) {
    ::kill(-pid_, SIGKILL);
    wait_pid(pid_, 10s);
  }
}

bool Subprocess::running() {
  if (status_) {
    return false;
  }
  status_ = wait_pid(pid_, 0ms);
  return !status_;
}

void Subprocess::kill(int signal) {
  if (!status_) {
    ::kill(pid_, signal);
  }
}

std::optional<int> Subprocess::wait(std::chrono::milliseconds timeout) {
  if (!status_) {
    status_ = wait_pid(pid_, timeout);
  }
  return status_;
}

// ---------------------------------------------------------------------------------------------
// The proxy

Tally tally(Connection& c, std::string_view sql, int n) {
  Tally t;
  for (int i = 0; i < n; ++i) {
    auto rows = c.query(sql);
    ++t[!rows ? "error" : rows->empty() ? "no rows" : (*rows)[0][0].value_or("NULL")];
  }
  return t;
}

std::string to_string(const Tally& tally) {
  std::string s;
  for (const auto& [value, count] : tally) {
    s += value + ":" + std::to_string(count) + " ";
  }
  return s;
}

std::string render_config(const ProxyOptions& o) {
  std::ostringstream c;
  c << "[proxy]\n"
    << "listen = " << toml_string("127.0.0.1:" + std::to_string(o.port)) << "\n"
    << "workers = " << o.workers << "\n";
  if (!o.tls_cert.empty()) {
    c << "tls_cert = " << toml_string(o.tls_cert) << "\n"
      << "tls_key = " << toml_string(o.tls_key) << "\n";
  }
  c << "require_tls = " << (o.require_tls ? "true" : "false") << "\n";
  if (o.shutdown_grace_ms) {
    c << "shutdown_grace_ms = " << *o.shutdown_grace_ms << "\n";
  }
  if (o.connect_timeout_ms) {
    c << "connect_timeout_ms = " << *o.connect_timeout_ms << "\n";
  }
  c << "\n[log]\nlevel = " << toml_string(o.log_level) << "\n";
  for (const auto& u : o.users) {
    c << "\n[[users]]\nname = " << toml_string(u.name) << "\n";
    if (u.password) {
      c << "password = " << toml_string(*u.password) << "\n";
    }
    if (u.password_hash) {
      c << "password_hash = " << toml_string(*u.password_hash) << "\n";
    }
  }
  for (const auto& b : o.backends) {
    c << "\n[[backends]]\nname = " << toml_string(b.name) << "\n"
      << "address = " << toml_string("127.0.0.1:" + std::to_string(b.port)) << "\n"
      << "role = " << toml_string(b.role) << "\n";
  }
  if (!o.extra_toml.empty()) {
    c << "\n" << o.extra_toml << "\n";
  }
  return c.str();
}

ProxyProcess::ProxyProcess(const Sandbox& sandbox, ProxyOptions options) {
  if (options.port == 0) {
    options.port = free_port();
  }
  if (options.backends.empty()) {
    options.backends.push_back({"db1", sandbox.primary_port(), "primary"});
  }
  port_ = options.port;
  config_ = render_config(options);
}

ProxyProcess::ProxyProcess(std::string raw_toml, int port)
    : config_(std::move(raw_toml)), port_(port) {}

ProxyProcess::~ProxyProcess() {
  if (pid_ > 0 && !exit_status_) {
    terminate(15s);
    if (!exit_status_) {
      std::cerr << "[harness] replproxy (pid " << pid_ << ") ignored SIGTERM for 15 s: SIGKILL\n";
      ::kill(pid_, SIGKILL);
      exit_status_ = wait_pid(pid_, 10s);
    }
  }
  if (pid_ > 0 && ::testing::Test::HasFailure()) {
    std::cerr << "---- replproxy (pid " << pid_ << ") exit status "
              << (exit_status_ ? std::to_string(*exit_status_) : "unknown")
              << "; last 80 lines of its log (" << log_path_ << ") ----\n"
              << tail_lines(log(), 80) << "---- end of replproxy log ----\n";
  }
}

::testing::AssertionResult ProxyProcess::start() {
  config_path_ = dir_.file("replproxy.toml");
  log_path_ = dir_.file("replproxy.log");
  write_file(config_path_, config_);
  const int in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in_fd < 0 || log_fd < 0) {
    return ::testing::AssertionFailure() << "cannot open " << log_path_;
  }
  const std::string binary = REPLPROXY_BINARY;
  pid_ = fork();
  if (pid_ == 0) {
    setup_child(in_fd, log_fd);
    execl(binary.c_str(), "replproxy", "--config", config_path_.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(in_fd);
  ::close(log_fd);
  if (pid_ < 0) {
    return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto status = wait_pid(pid_, 0ms)) {
      exit_status_ = status;
      return ::testing::AssertionFailure()
             << "replproxy exited with status " << *status << " during startup\nconfig:\n"
             << config_ << "log:\n"
             << tail_lines(log(), 40);
    }
    if (port_accepts(port_)) {
      return ::testing::AssertionSuccess();
    }
    std::this_thread::sleep_for(20ms);
  }
  return ::testing::AssertionFailure()
         << "replproxy does not accept connections on port " << port_ << " after 10 s\nlog:\n"
         << tail_lines(log(), 40);
}

void ProxyProcess::signal(int sig) {
  if (pid_ > 0 && !exit_status_) {
    ::kill(pid_, sig);
  }
}

std::optional<int> ProxyProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ > 0 && !exit_status_) {
    exit_status_ = wait_pid(pid_, timeout);
  }
  return exit_status_;
}

std::optional<int> ProxyProcess::terminate(std::chrono::milliseconds timeout) {
  signal(SIGTERM);
  return wait_exit(timeout);
}

bool ProxyProcess::alive() { return pid_ > 0 && !wait_exit(0ms); }

// ---------------------------------------------------------------------------------------------
// libmariadb

std::ostream& operator<<(std::ostream& os, const DbError& e) {
  return os << "error " << e.code << " (" << e.sqlstate << "): " << e.message;
}

DbError Connection::error() const {
  return {mysql_errno(get()), mysql_sqlstate(get()), mysql_error(get())};
}

std::expected<Connection, DbError> Connection::open(const ConnectOptions& o) {
  Connection c;
  c.mysql_.reset(mysql_init(nullptr));
  MYSQL* m = c.get();
  const unsigned protocol = MYSQL_PROTOCOL_TCP;
  mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &protocol);
  mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &o.timeout_s);
  mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &o.timeout_s);
  mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &o.timeout_s);
  mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &o.max_allowed_packet);
  mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (o.local_infile) {
    const unsigned on = 1;
    mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &on);
  }
  if (!o.ssl_ca.empty()) {
    mysql_optionsv(m, MYSQL_OPT_SSL_CA, o.ssl_ca.c_str());
    const my_bool verify = o.verify_server_cert ? 1 : 0;
    mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  }
  if (mysql_real_connect(m, "127.0.0.1", o.user.c_str(), o.password.c_str(),
                         o.db.empty() ? nullptr : o.db.c_str(), static_cast<unsigned>(o.port),
                         nullptr, o.flags) == nullptr) {
    return std::unexpected(c.error());
  }
  return c;
}

Rows fetch_all(MYSQL_RES* res) {
  Rows rows;
  const unsigned n = mysql_num_fields(res);
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    const unsigned long* lengths = mysql_fetch_lengths(res);
    Row r;
    r.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      if (row[i] == nullptr) {
        r.emplace_back(std::nullopt);
      } else {
        r.emplace_back(std::string(row[i], lengths[i]));
      }
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::expected<Rows, DbError> Connection::query(std::string_view sql) {
  MYSQL* m = get();
  if (mysql_real_query(m, sql.data(), sql.size()) != 0) {
    return std::unexpected(error());
  }
  Rows rows;
  MYSQL_RES* res = mysql_store_result(m);
  if (res != nullptr) {
    rows = fetch_all(res);
    mysql_free_result(res);
  } else if (mysql_field_count(m) != 0) {
    return std::unexpected(error());
  }
  while (mysql_more_results(m)) {
    const int r = mysql_next_result(m);
    if (r > 0) {
      return std::unexpected(error());
    }
    if (r < 0) {
      break;
    }
    if (MYSQL_RES* more = mysql_store_result(m)) {
      mysql_free_result(more);
    }
  }
  return rows;
}

Rows Connection::must(std::string_view sql) {
  auto rows = query(sql);
  if (!rows) {
    ADD_FAILURE() << "query failed: "
                  << (sql.size() > 300 ? std::string(sql.substr(0, 300)) + "..." : std::string(sql))
                  << "\n  " << rows.error();
    return {};
  }
  return std::move(*rows);
}

std::string Connection::scalar(std::string_view sql) {
  Rows rows = must(sql);
  if (rows.empty() || rows[0].empty() || !rows[0][0]) {
    return "";
  }
  return *rows[0][0];
}

std::optional<Connection> must_connect(const ConnectOptions& options) {
  auto c = Connection::open(options);
  if (!c) {
    ADD_FAILURE() << "cannot connect to 127.0.0.1:" << options.port << " as " << options.user
                  << ": " << c.error();
    return std::nullopt;
  }
  return std::move(*c);
}

std::optional<Connection> connect_direct(const Sandbox& sandbox, const std::string& name,
                                         const std::string& db) {
  ConnectOptions o;
  o.port = sandbox.port(name);
  o.user = "root";
  o.password = "root";
  o.db = db;
  return must_connect(o);
}

std::string unique_name(std::string_view tag) {
  static std::atomic<int> counter{0};
  return "e2e_" + std::string(tag) + "_" + std::to_string(getpid()) + "_" +
         std::to_string(counter++);
}

ScopedSchema::ScopedSchema(const Sandbox& sandbox, std::string_view tag)
    : sandbox_(sandbox), name_(unique_name(tag)) {}

ScopedSchema::~ScopedSchema() {
  ConnectOptions o;
  o.port = sandbox_.primary_port();
  o.user = "root";
  o.password = "root";
  if (auto c = Connection::open(o)) {
    (void)c->query("DROP DATABASE IF EXISTS `" + name_ + "`");
  }
}

::testing::AssertionResult ScopedSchema::create() {
  auto c = connect_direct(sandbox_);
  if (!c) {
    return ::testing::AssertionFailure() << "no direct connection to the primary";
  }
  if (auto r = c->query("CREATE DATABASE `" + name_ + "`"); !r) {
    return ::testing::AssertionFailure() << "CREATE DATABASE " << name_ << ": " << r.error();
  }
  return ::testing::AssertionSuccess();
}

void sql_on(const Sandbox& sandbox, const std::string& server, const std::string& sql) {
  auto c = connect_direct(sandbox, server);
  ASSERT_TRUE(c) << "no connection to " << server;
  c->must(sql);
}

ScopedReplicaDelay::ScopedReplicaDelay(const Sandbox& sandbox, std::string replica, int seconds)
    : sandbox_(sandbox), replica_(std::move(replica)) {
  set_delay(seconds);
}

void ScopedReplicaDelay::set_delay(int seconds) {
  if (seconds == seconds_) {
    return;
  }
  seconds_ = seconds;
  sql_on(sandbox_, replica_, "STOP SLAVE");
  sql_on(sandbox_, replica_, "CHANGE MASTER TO MASTER_DELAY = " + std::to_string(seconds));
  sql_on(sandbox_, replica_, "START SLAVE");
}

std::string mariadb_cli(int port, const std::string& db, const std::string& args,
                        const std::string& user, const std::string& password) {
  std::string cmd = "mariadb --no-defaults --skip-ssl --batch --connect-timeout=10 -h127.0.0.1 -P" +
                    std::to_string(port) + " -u" + shell_quote(user) + " -p" +
                    shell_quote(password);
  if (!db.empty()) {
    cmd += " " + shell_quote(db);
  }
  return cmd + " " + args;
}

}  // namespace replproxy::e2e
