// ServerConnection: one blocking libmariadb session with short timeouts, as the probe threads
// and the heartbeat writer use it.

#include <errmsg.h>
#include <mysql.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <utility>

#include "health/prober.h"

namespace replproxy::health {

std::string ServerError::to_string() const { return message + " (" + std::to_string(code) + ")"; }

int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ServerEndpoint endpoint_for(const config::Config& config, size_t backend) {
  const config::Backend& b = config.backends.at(backend);
  return ServerEndpoint{
      .name = b.name,
      .address = b.address,
      .tls = b.tls,
      .tls_ca = b.tls_ca,
      .tls_verify = b.tls_verify,
      .user = config.health.user,
      .password = config.health.password,
      .timeout_ms = config.health.probe_timeout_ms,
  };
}

ServerConnection::ServerConnection(ServerEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

ServerConnection::~ServerConnection() { close(); }

void ServerConnection::close() {
  if (mysql_ != nullptr) {
    mysql_close(mysql_);
    mysql_ = nullptr;
  }
}

ServerError ServerConnection::take_error() {
  ServerError error{mysql_errno(mysql_), mysql_error(mysql_)};
  if (error.code == 0) {
    error = {CR_UNKNOWN_ERROR, "unknown error"};
  }
  if (error.connection_lost()) {
    close();
  }
  return error;
}

std::expected<void, ServerError> ServerConnection::connect() {
  // mysql_init() would initialise the library on first use, but not thread-safely; several
  // probe threads may get here at once.
  static std::once_flag library_once;
  std::call_once(library_once, [] { mysql_library_init(0, nullptr, nullptr); });
  close();
  mysql_ = mysql_init(nullptr);
  if (mysql_ == nullptr) {
    return std::unexpected(ServerError{CR_OUT_OF_MEMORY, "mysql_init failed"});
  }
  // The C API takes whole seconds; round up so a timeout is never shorter than configured (the
  // coordinator enforces probe_timeout_ms itself to the millisecond).
  const unsigned timeout_s = std::max(1u, (endpoint_.timeout_ms + 999) / 1000);
  const unsigned protocol = MYSQL_PROTOCOL_TCP;
  mysql_optionsv(mysql_, MYSQL_OPT_PROTOCOL, &protocol);
  mysql_optionsv(mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s);
  mysql_optionsv(mysql_, MYSQL_OPT_READ_TIMEOUT, &timeout_s);
  mysql_optionsv(mysql_, MYSQL_OPT_WRITE_TIMEOUT, &timeout_s);
  mysql_optionsv(mysql_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (endpoint_.tls) {
    // As the proxy's own backend connections: TLS or nothing, verified against tls_ca (the
    // system store when empty) unless tls_verify = false.
    const my_bool enforce = 1;
    const my_bool verify = endpoint_.tls_verify ? 1 : 0;
    mysql_optionsv(mysql_, MYSQL_OPT_SSL_ENFORCE, &enforce);
    mysql_optionsv(mysql_, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    if (!endpoint_.tls_ca.empty()) {
      mysql_optionsv(mysql_, MYSQL_OPT_SSL_CA, endpoint_.tls_ca.c_str());
    }
  }
  // Multi-statements let a probe send its variable and status queries in one round trip.
  if (mysql_real_connect(mysql_, endpoint_.address.host.c_str(), endpoint_.user.c_str(),
                         endpoint_.password.c_str(), nullptr, endpoint_.address.port, nullptr,
                         CLIENT_MULTI_STATEMENTS) == nullptr) {
    ServerError error{mysql_errno(mysql_), mysql_error(mysql_)};
    close();
    return std::unexpected(std::move(error));
  }
  return {};
}

std::string ServerConnection::server_version() const {
  const char* info = mysql_ != nullptr ? mysql_get_server_info(mysql_) : nullptr;
  return info != nullptr ? info : "";
}

namespace {

ResultSet read_result(MYSQL_RES* res) {
  ResultSet set;
  const unsigned n = mysql_num_fields(res);
  const MYSQL_FIELD* fields = mysql_fetch_fields(res);
  set.columns.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    set.columns.emplace_back(fields[i].name, fields[i].name_length);
  }
  while (MYSQL_ROW row = mysql_fetch_row(res)) {
    const unsigned long* lengths = mysql_fetch_lengths(res);
    auto& values = set.rows.emplace_back();
    values.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      if (row[i] == nullptr) {
        values.emplace_back(std::nullopt);
      } else {
        values.emplace_back(std::string(row[i], lengths[i]));
      }
    }
  }
  return set;
}

}  // namespace

std::expected<std::vector<ResultSet>, ServerError> ServerConnection::query(std::string_view sql) {
  if (mysql_ == nullptr) {
    return std::unexpected(ServerError{CR_SERVER_GONE_ERROR, "not connected"});
  }
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) {
    return std::unexpected(take_error());
  }
  std::vector<ResultSet> sets;
  for (;;) {
    if (MYSQL_RES* res = mysql_store_result(mysql_)) {
      sets.push_back(read_result(res));
      mysql_free_result(res);
    } else if (mysql_field_count(mysql_) != 0) {
      return std::unexpected(take_error());
    } else {
      sets.emplace_back();
    }
    const int next = mysql_next_result(mysql_);
    if (next > 0) {
      return std::unexpected(take_error());
    }
    if (next < 0) {
      return sets;
    }
  }
}

}  // namespace replproxy::health
