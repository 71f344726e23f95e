// The heartbeat writer thread and the heartbeat SQL.

#include "health/heartbeat.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>

namespace replproxy::health {
namespace {

// After a failure (no privilege, server read_only, cannot connect) the writer tries again this
// much later, not every interval: the cause rarely goes away within a second, and each attempt
// opens a session. A new target is tried at once.
constexpr std::chrono::milliseconds kRetryAfterFailure{5000};

std::string qualified(std::string_view schema, std::string_view table) {
  return quote_identifier(schema) + "." + quote_identifier(table);
}

}  // namespace

std::string quote_identifier(std::string_view name) {
  std::string out = "`";
  for (const char c : name) {
    out += c;
    if (c == '`') {
      out += '`';
    }
  }
  out += '`';
  return out;
}

std::string heartbeat_create_schema_sql(std::string_view schema) {
  return "CREATE DATABASE IF NOT EXISTS " + quote_identifier(schema);
}

std::string heartbeat_create_table_sql(std::string_view schema, std::string_view table) {
  return "CREATE TABLE IF NOT EXISTS " + qualified(schema, table) +
         " (id INT PRIMARY KEY, ts BIGINT NOT NULL, server_id INT UNSIGNED)";
}

std::string heartbeat_write_sql(std::string_view schema, std::string_view table, int64_t ts_us,
                                uint32_t server_id) {
  // Literal values only: with statement-based binlogging a replica would evaluate @@server_id
  // or a clock function itself.
  // INSERT ... ON DUPLICATE KEY UPDATE rather than REPLACE, which would also need DELETE.
  return "INSERT INTO " + qualified(schema, table) + " (id, ts, server_id) VALUES (1, " +
         std::to_string(ts_us) + ", " + std::to_string(server_id) +
         ") ON DUPLICATE KEY UPDATE ts = VALUES(ts), server_id = VALUES(server_id)";
}

std::string heartbeat_read_sql(std::string_view schema, std::string_view table) {
  return "SELECT ts FROM " + qualified(schema, table) + " WHERE id = 1";
}

std::optional<int64_t> heartbeat_lag_ms(const HeartbeatStatus& writer, int64_t ts_us,
                                        int64_t read_at_us, uint32_t interval_ms,
                                        uint32_t timeout_ms) {
  const int64_t current_within_us = (2 * int64_t{interval_ms} + timeout_ms) * 1000;
  if (writer.last_write_us == 0 || read_at_us - writer.last_write_us > current_within_us) {
    return std::nullopt;
  }
  return std::max<int64_t>(0, read_at_us - std::max(ts_us, writer.first_write_us)) / 1000;
}

HeartbeatWriter::HeartbeatWriter(uint32_t interval_ms, std::string schema, std::string table)
    : interval_ms_(interval_ms), schema_(std::move(schema)), table_(std::move(table)) {
  thread_ = std::thread([this] { run(); });
}

HeartbeatWriter::~HeartbeatWriter() {
  request_stop();
  join();
}

void HeartbeatWriter::set_target(std::optional<ServerEndpoint> target) {
  {
    std::lock_guard lock(mutex_);
    if (target_ == target) {
      return;
    }
    target_ = std::move(target);
    target_changed_ = true;
  }
  cv_.notify_all();
}

HeartbeatStatus HeartbeatWriter::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void HeartbeatWriter::wait_first_attempt(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [&] { return stopping_ || status_.attempts > 0; });
}

void HeartbeatWriter::request_stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void HeartbeatWriter::join() {
  if (thread_.joinable()) {
    thread_.join();
  }
}

void HeartbeatWriter::run() {
  std::unique_ptr<ServerConnection> conn;
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    std::optional<ServerEndpoint> target;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_until(lock, next, [&] { return stopping_ || target_changed_; });
      if (stopping_) {
        return;
      }
      target_changed_ = false;
      target = target_;
    }
    const auto started = std::chrono::steady_clock::now();
    next = started + std::chrono::milliseconds(interval_ms_);
    if (!target) {
      // No primary the proxy trusts: write nowhere.
      conn.reset();
      continue;
    }
    if (!conn || conn->endpoint() != *target) {
      conn = std::make_unique<ServerConnection>(*target);
    }
    auto written = write_once(*conn);
    std::lock_guard lock(mutex_);
    ++status_.attempts;
    cv_.notify_all();
    if (written) {
      status_.first_write_us = status_.first_write_us != 0 ? status_.first_write_us : *written;
      status_.last_write_us = *written;
      status_.note.clear();
    } else {
      status_.note = "heartbeat not written to " + target->name + ": " + written.error();
      next = started + kRetryAfterFailure;
      // Start over with a fresh session (and CREATE again) next time: privileges granted
      // meanwhile apply to new sessions.
      conn->close();
    }
  }
}

std::expected<int64_t, std::string> HeartbeatWriter::write_once(ServerConnection& conn) {
  std::string create_error;
  if (!conn.connected()) {
    if (auto c = conn.connect(); !c) {
      return std::unexpected("cannot connect: " + c.error().to_string());
    }
    // Once per session. A failure is not final: an administrator may have created the table
    // and granted only INSERT/UPDATE; the write below decides.
    for (const auto& sql :
         {heartbeat_create_schema_sql(schema_), heartbeat_create_table_sql(schema_, table_)}) {
      if (auto r = conn.query(sql); !r) {
        create_error = r.error().to_string();
        break;
      }
    }
  }
  // Checked on the same session just before the write: the coordinator's idea of the primary
  // may be one round old. The server itself refuses writes from accounts without SUPER /
  // READ_ONLY ADMIN when read_only is on; this also stops accounts that have them.
  auto check = conn.query("SELECT @@global.read_only, @@server_id, @@session.sql_log_bin");
  if (!check || check->empty() || check->front().rows.empty() ||
      check->front().rows[0].size() != 3) {
    return std::unexpected("cannot check read_only: " +
                           (check ? std::string("no row") : check.error().to_string()));
  }
  const auto& row = check->front().rows[0];
  if (row[0].value_or("1") != "0") {
    return std::unexpected("the server is read_only");
  }
  if (row[2].value_or("0") != "1") {
    return std::unexpected("sql_log_bin is off for the session, the heartbeat would not replicate");
  }
  const std::string id_text = row[1].value_or("");
  uint32_t server_id = 0;
  std::from_chars(id_text.data(), id_text.data() + id_text.size(), server_id);
  const int64_t ts = wall_now_us();
  if (auto r = conn.query(heartbeat_write_sql(schema_, table_, ts, server_id)); !r) {
    std::string why = "INSERT INTO " + schema_ + "." + table_ + " failed: " + r.error().to_string();
    if (!create_error.empty()) {
      why += "; CREATE failed before: " + create_error;
    }
    return std::unexpected(std::move(why));
  }
  return ts;
}

}  // namespace replproxy::health
