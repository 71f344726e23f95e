// The checks of one replica: which backend it replicates from, and how far behind it is.

#include <algorithm>
#include <cctype>

#include "health/topology_internal.h"

namespace replproxy::health::internal {
namespace {

bool is_loopback(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

bool same_host(std::string_view a, std::string_view b) {
  const auto equal_ignoring_case = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  };
  return std::ranges::equal(a, b, equal_ignoring_case) || (is_loopback(a) && is_loopback(b));
}

std::string_view lag_source_name(LagSource source) {
  return source == LagSource::heartbeat ? "heartbeat" : "Seconds_Behind_Master";
}

std::string thread_stopped(std::string_view thread, const std::string& error) {
  return "replication stopped: " + std::string(thread) + " thread not running" +
         (error.empty() ? "" : " (" + error + ")");
}

}  // namespace

std::optional<size_t> find_source(const Round& round, size_t self, const ReplicaStatus& status) {
  for (size_t j = 0; j < round.size(); ++j) {
    const config::Address& address = round.backend(j).address;
    if (j != self && address.port == status.source_port &&
        same_host(address.host, status.source_host)) {
      return j;
    }
  }
  if (status.source_server_id == 0) {
    return std::nullopt;
  }
  for (size_t j = 0; j < round.size(); ++j) {
    if (j != self && round.reachable(j) && round.probe(j).server_id == status.source_server_id) {
      return j;
    }
  }
  return std::nullopt;
}

Lag measure_lag(const ProbeResult& probe) {
  if (!probe.replica) {
    return {.unknown_reason = "replicates from no one"};
  }
  const ReplicaStatus& status = *probe.replica;
  if (!status.io_running) {
    return {.unknown_reason = thread_stopped("IO", status.last_io_error)};
  }
  if (!status.sql_running) {
    return {.unknown_reason = thread_stopped("SQL", status.last_sql_error)};
  }
  if (probe.heartbeat_lag_ms) {
    // A replica whose clock is ahead of the primary's would show a negative lag.
    return {.ms = std::max<int64_t>(0, *probe.heartbeat_lag_ms), .source = LagSource::heartbeat};
  }
  if (status.seconds_behind) {
    return {.ms = static_cast<int64_t>(*status.seconds_behind) * 1000,
            .source = LagSource::seconds_behind};
  }
  return {.unknown_reason = "lag unknown: Seconds_Behind_Master is NULL and no heartbeat"};
}

Verdict lag_verdict(const Round& round, size_t i, const Lag& lag, std::string_view source_name) {
  Verdict verdict;
  verdict.lag_ms = lag.ms;
  verdict.lag_source = lag.source;
  verdict.heartbeat_missing = round.health().heartbeat && lag.source == LagSource::seconds_behind;
  if (!lag.ms) {
    verdict.state = BackendState::lagging;
    verdict.reason = lag.unknown_reason;
    return verdict;
  }
  const uint32_t limit = round.max_lag_ms(i);
  const std::string measured =
      "lag " + std::to_string(*lag.ms) + " ms (" + std::string(lag_source_name(lag.source)) + ")";
  if (*lag.ms > static_cast<int64_t>(limit)) {
    verdict.state = BackendState::lagging;
    verdict.reason = measured + " above the limit of " + std::to_string(limit) + " ms";
    return verdict;
  }
  verdict.reason = "replicates from " + std::string(source_name) + ", " + measured;
  return verdict;
}

std::string name_list(const Round& round, const std::vector<size_t>& backends) {
  std::string out;
  for (size_t k = 0; k < backends.size(); ++k) {
    if (k > 0) {
      out += k + 1 == backends.size() ? " and " : ", ";
    }
    out += round.name(backends[k]);
  }
  return out;
}

}  // namespace replproxy::health::internal
