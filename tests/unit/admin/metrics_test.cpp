#include "admin/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace replproxy::admin {
namespace {

MetricsInput two_backends() {
  MetricsInput input;
  input.version = "0.1.0";
  input.uptime_seconds = 12.5;
  input.open_sessions = 3;
  input.counters = {{"connections_accepted", 7}, {"queries", 99}, {"reads_retried", 0}};
  input.backends = {
      {.name = "db1",
       .role = "primary",
       .state = "fit",
       .up = true,
       .queries = {5, 0, 2},
       .errors = 1,
       .connections = 4},
      {.name = "db2",
       .role = "replica",
       .state = "lagging",
       .up = false,
       .lag_seconds = 0.25,
       .queries = {0, 8, 0},
       .connections = 2},
  };
  input.rules = {{.index = 0, .target = "replica", .hits = 6},
                 {.index = 1, .target = "backend:db2", .hits = 0}};
  input.latency = {.bounds_seconds = {0.0005, 0.001, 0.25, 1, 10},
                   .counts = {1, 2, 0, 3, 0, 1},
                   .sum_seconds = 12.75,
                   .count = 7};
  return input;
}

TEST(MetricsText, FullExposition) {
  const std::string expected =
      "# HELP replproxy_build_info replproxy build information as labels; the value is always 1\n"
      "# TYPE replproxy_build_info gauge\n"
      "replproxy_build_info{version=\"0.1.0\"} 1\n"
      "# HELP replproxy_uptime_seconds Seconds since the proxy started\n"
      "# TYPE replproxy_uptime_seconds gauge\n"
      "replproxy_uptime_seconds 12.5\n"
      "# HELP replproxy_sessions Client sessions open now\n"
      "# TYPE replproxy_sessions gauge\n"
      "replproxy_sessions 3\n"
      "# HELP replproxy_connections_accepted_total replproxy counter connections_accepted (see "
      "SHOW STATS)\n"
      "# TYPE replproxy_connections_accepted_total counter\n"
      "replproxy_connections_accepted_total 7\n"
      "# HELP replproxy_reads_retried_total replproxy counter reads_retried (see SHOW STATS)\n"
      "# TYPE replproxy_reads_retried_total counter\n"
      "replproxy_reads_retried_total 0\n"
      "# HELP replproxy_queries_total Statements routed, by route and backend\n"
      "# TYPE replproxy_queries_total counter\n"
      "replproxy_queries_total{route=\"primary\",backend=\"db1\"} 5\n"
      "replproxy_queries_total{route=\"replica\",backend=\"db1\"} 0\n"
      "replproxy_queries_total{route=\"fallback\",backend=\"db1\"} 2\n"
      "replproxy_queries_total{route=\"primary\",backend=\"db2\"} 0\n"
      "replproxy_queries_total{route=\"replica\",backend=\"db2\"} 8\n"
      "replproxy_queries_total{route=\"fallback\",backend=\"db2\"} 0\n"
      "# HELP replproxy_backend_up 1 when the backend answered its last probe, else 0\n"
      "# TYPE replproxy_backend_up gauge\n"
      "replproxy_backend_up{backend=\"db1\"} 1\n"
      "replproxy_backend_up{backend=\"db2\"} 0\n"
      "# HELP replproxy_backend_lag_seconds Replication lag of the replica, when known\n"
      "# TYPE replproxy_backend_lag_seconds gauge\n"
      "replproxy_backend_lag_seconds{backend=\"db2\"} 0.25\n"
      "# HELP replproxy_backend_connections Backend connections open now\n"
      "# TYPE replproxy_backend_connections gauge\n"
      "replproxy_backend_connections{backend=\"db1\"} 4\n"
      "replproxy_backend_connections{backend=\"db2\"} 2\n"
      "# HELP replproxy_backend_errors_total Backend connect failures and lost connections\n"
      "# TYPE replproxy_backend_errors_total counter\n"
      "replproxy_backend_errors_total{backend=\"db1\"} 1\n"
      "replproxy_backend_errors_total{backend=\"db2\"} 0\n"
      "# HELP replproxy_backend_info The backend's live role and health state as labels; the "
      "value is always 1\n"
      "# TYPE replproxy_backend_info gauge\n"
      "replproxy_backend_info{backend=\"db1\",role=\"primary\",state=\"fit\"} 1\n"
      "replproxy_backend_info{backend=\"db2\",role=\"replica\",state=\"lagging\"} 1\n"
      "# HELP replproxy_rule_hits_total Statements routed by each [[routing.rules]] entry (index "
      "from 0)\n"
      "# TYPE replproxy_rule_hits_total counter\n"
      "replproxy_rule_hits_total{rule=\"0\",target=\"replica\"} 6\n"
      "replproxy_rule_hits_total{rule=\"1\",target=\"backend:db2\"} 0\n"
      "# HELP replproxy_query_duration_seconds Query latency through the proxy, from the "
      "command's arrival to the end of its response\n"
      "# TYPE replproxy_query_duration_seconds histogram\n"
      "replproxy_query_duration_seconds_bucket{le=\"0.0005\"} 1\n"
      "replproxy_query_duration_seconds_bucket{le=\"0.001\"} 3\n"
      "replproxy_query_duration_seconds_bucket{le=\"0.25\"} 3\n"
      "replproxy_query_duration_seconds_bucket{le=\"1\"} 6\n"
      "replproxy_query_duration_seconds_bucket{le=\"10\"} 6\n"
      "replproxy_query_duration_seconds_bucket{le=\"+Inf\"} 7\n"
      "replproxy_query_duration_seconds_sum 12.75\n"
      "replproxy_query_duration_seconds_count 7\n";
  EXPECT_EQ(prometheus_text(two_backends()), expected);
}

// Without backends, rules or observations every fixed family is still announced, so that a
// dashboard finds its metadata from the first scrape.
TEST(MetricsText, EmptyInput) {
  const std::string expected =
      "# HELP replproxy_build_info replproxy build information as labels; the value is always 1\n"
      "# TYPE replproxy_build_info gauge\n"
      "replproxy_build_info{version=\"\"} 1\n"
      "# HELP replproxy_uptime_seconds Seconds since the proxy started\n"
      "# TYPE replproxy_uptime_seconds gauge\n"
      "replproxy_uptime_seconds 0\n"
      "# HELP replproxy_sessions Client sessions open now\n"
      "# TYPE replproxy_sessions gauge\n"
      "replproxy_sessions 0\n"
      "# HELP replproxy_queries_total Statements routed, by route and backend\n"
      "# TYPE replproxy_queries_total counter\n"
      "# HELP replproxy_backend_up 1 when the backend answered its last probe, else 0\n"
      "# TYPE replproxy_backend_up gauge\n"
      "# HELP replproxy_backend_lag_seconds Replication lag of the replica, when known\n"
      "# TYPE replproxy_backend_lag_seconds gauge\n"
      "# HELP replproxy_backend_connections Backend connections open now\n"
      "# TYPE replproxy_backend_connections gauge\n"
      "# HELP replproxy_backend_errors_total Backend connect failures and lost connections\n"
      "# TYPE replproxy_backend_errors_total counter\n"
      "# HELP replproxy_backend_info The backend's live role and health state as labels; the "
      "value is always 1\n"
      "# TYPE replproxy_backend_info gauge\n"
      "# HELP replproxy_rule_hits_total Statements routed by each [[routing.rules]] entry (index "
      "from 0)\n"
      "# TYPE replproxy_rule_hits_total counter\n"
      "# HELP replproxy_query_duration_seconds Query latency through the proxy, from the "
      "command's arrival to the end of its response\n"
      "# TYPE replproxy_query_duration_seconds histogram\n"
      "replproxy_query_duration_seconds_bucket{le=\"+Inf\"} 0\n"
      "replproxy_query_duration_seconds_sum 0\n"
      "replproxy_query_duration_seconds_count 0\n";
  EXPECT_EQ(prometheus_text(MetricsInput{}), expected);
}

// The lines of `text` that start with `prefix`, each with its newline.
std::string lines_starting_with(const std::string& text, std::string_view prefix) {
  std::string lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string_view line(text.data() + start, end - start + 1);
    if (line.starts_with(prefix)) {
      lines += line;
    }
    start = end + 1;
  }
  return lines;
}

TEST(MetricsText, EscapesLabelValues) {
  MetricsInput input;
  input.version = "1.0 \"beta\"\nC:\\build";
  input.rules = {{.index = 2, .target = "a\\\"b\"\n", .hits = 1}};
  const std::string text = prometheus_text(input);
  EXPECT_EQ(lines_starting_with(text, "replproxy_build_info"),
            "replproxy_build_info{version=\"1.0 \\\"beta\\\"\\nC:\\\\build\"} 1\n");
  EXPECT_EQ(lines_starting_with(text, "replproxy_rule_hits_total"),
            "replproxy_rule_hits_total{rule=\"2\",target=\"a\\\\\\\"b\\\"\\n\"} 1\n");
}

TEST(MetricsText, HistogramBucketsAreCumulative) {
  MetricsInput input;
  input.latency = {.bounds_seconds = {0.00001, 0.1, 2.5},
                   .counts = {4, 0, 5, 2},
                   .sum_seconds = 3.0625,
                   .count = 11};
  EXPECT_EQ(lines_starting_with(prometheus_text(input), "replproxy_query_duration_seconds_"),
            "replproxy_query_duration_seconds_bucket{le=\"1e-05\"} 4\n"
            "replproxy_query_duration_seconds_bucket{le=\"0.1\"} 4\n"
            "replproxy_query_duration_seconds_bucket{le=\"2.5\"} 9\n"
            "replproxy_query_duration_seconds_bucket{le=\"+Inf\"} 11\n"
            "replproxy_query_duration_seconds_sum 3.0625\n"
            "replproxy_query_duration_seconds_count 11\n");
}

TEST(MetricsText, LagOmittedWhenUnknown) {
  MetricsInput input;
  input.backends = {{.name = "db1", .role = "primary", .state = "fit", .up = true},
                    {.name = "db2", .role = "replica", .state = "fit", .lag_seconds = 0},
                    {.name = "db3", .role = "replica", .state = "unknown"},
                    {.name = "db4", .role = "replica", .state = "lagging", .lag_seconds = 3.5}};
  EXPECT_EQ(lines_starting_with(prometheus_text(input), "replproxy_backend_lag_seconds"),
            "replproxy_backend_lag_seconds{backend=\"db2\"} 0\n"
            "replproxy_backend_lag_seconds{backend=\"db4\"} 3.5\n");
}

// replproxy_queries_total is the per-backend family; the summed SHOW STATS counter of the same
// name would be a second family with that name.
TEST(MetricsText, QueriesCounterLeftToTheBackendFamily) {
  MetricsInput input;
  input.counters = {{"queries", 42}, {"backend_lost", 1}};
  const std::string text = prometheus_text(input);
  EXPECT_EQ(lines_starting_with(text, "replproxy_queries_total"), "");
  EXPECT_EQ(lines_starting_with(text, "# TYPE replproxy_queries_total"),
            "# TYPE replproxy_queries_total counter\n");
  EXPECT_EQ(text.find("42"), std::string::npos);
  EXPECT_EQ(lines_starting_with(text, "replproxy_backend_lost_total"),
            "replproxy_backend_lost_total 1\n");
}

TEST(MetricsText, FloatingValues) {
  struct Case {
    double value;
    std::string_view text;
  };
  const std::vector<Case> cases = {
      {0, "0"},
      {1, "1"},
      {86400.125, "86400.125"},
      {100000, "100000"},
      {1e6, "1e+06"},
      {999999.5, "999999.5"},
      {1234567.5, "1.2345675e+06"},
      {12345678, "1.2345678e+07"},
      {0.1, "0.1"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {1.0 / 3, "0.3333333333333333"},
      {1e21, "1e+21"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  for (const Case& c : cases) {
    MetricsInput input;
    input.uptime_seconds = c.value;
    EXPECT_EQ(lines_starting_with(prometheus_text(input), "replproxy_uptime_seconds "),
              "replproxy_uptime_seconds " + std::string(c.text) + "\n")
        << c.text;
  }
}

TEST(MetricsText, OddCounterNamesStayValidMetricNames) {
  MetricsInput input;
  input.counters = {{"bytes-from.clients", 5}};
  const std::string text = prometheus_text(input);
  EXPECT_EQ(lines_starting_with(text, "replproxy_bytes"), "replproxy_bytes_from_clients_total 5\n");
  EXPECT_EQ(lines_starting_with(text, "# HELP replproxy_bytes"),
            "# HELP replproxy_bytes_from_clients_total replproxy counter bytes-from.clients (see "
            "SHOW STATS)\n");
}

TEST(MetricsText, EndsWithNewline) { EXPECT_TRUE(prometheus_text(two_backends()).ends_with('\n')); }

// Tunnel families appear only with [[tunnels]]; every tunnel has every sample, zeros included.
TEST(MetricsText, Tunnels) {
  MetricsInput input;
  TunnelStatus t{.name = "to-dc2", .connections_active = 2, .connections_total = 5};
  t.failures[static_cast<size_t>(TunnelFailure::tls)] = 1;
  t.bytes_to_server = 100;
  t.bytes_to_client = 2000;
  input.tunnels.push_back(t);
  const std::string text = prometheus_text(input);
  const std::string expected =
      "# HELP replproxy_tunnel_connections_total Connections accepted by each [[tunnels]] entry\n"
      "# TYPE replproxy_tunnel_connections_total counter\n"
      "replproxy_tunnel_connections_total{tunnel=\"to-dc2\"} 5\n"
      "# HELP replproxy_tunnel_connections_active Tunnel connections open now\n"
      "# TYPE replproxy_tunnel_connections_active gauge\n"
      "replproxy_tunnel_connections_active{tunnel=\"to-dc2\"} 2\n"
      "# HELP replproxy_tunnel_bytes_total Payload bytes carried by each tunnel: to_server from "
      "its clients to its connect address, to_client back\n"
      "# TYPE replproxy_tunnel_bytes_total counter\n"
      "replproxy_tunnel_bytes_total{tunnel=\"to-dc2\",direction=\"to_server\"} 100\n"
      "replproxy_tunnel_bytes_total{tunnel=\"to-dc2\",direction=\"to_client\"} 2000\n"
      "# HELP replproxy_tunnel_failures_total Tunnel connections that failed before data flowed, "
      "by reason\n"
      "# TYPE replproxy_tunnel_failures_total counter\n"
      "replproxy_tunnel_failures_total{tunnel=\"to-dc2\",reason=\"connect\"} 0\n"
      "replproxy_tunnel_failures_total{tunnel=\"to-dc2\",reason=\"tls\"} 1\n"
      "replproxy_tunnel_failures_total{tunnel=\"to-dc2\",reason=\"protocol\"} 0\n";
  ASSERT_TRUE(text.ends_with(expected)) << text;
  EXPECT_EQ(prometheus_text(MetricsInput{}).find("tunnel"), std::string::npos);
}

}  // namespace
}  // namespace replproxy::admin

namespace replproxy::admin {
namespace {

// The relay's families appear only with [relay] enabled.
TEST(MetricsText, RelayFamiliesOnlyWithARelay) {
  MetricsInput input;
  EXPECT_EQ(prometheus_text(input).find("replproxy_relay_"), std::string::npos);
  RelayStatus r;
  r.state = "streaming";
  r.events_received = 7;
  r.checksum_errors = 1;
  r.acks_sent = 5;
  r.ack_p99_us = 2048;
  r.ack_count = 5;
  input.relay = r;
  const std::string text = prometheus_text(input);
  EXPECT_NE(text.find("replproxy_relay_connected 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("replproxy_relay_events_total 7\n"), std::string::npos);
  EXPECT_NE(text.find("replproxy_relay_checksum_errors_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("replproxy_relay_acks_total 5\n"), std::string::npos);
  EXPECT_NE(text.find("replproxy_relay_ack_latency_seconds{quantile=\"0.99\"} 0.002048\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE replproxy_relay_ack_latency_seconds summary\n"), std::string::npos);
}

}  // namespace
}  // namespace replproxy::admin
