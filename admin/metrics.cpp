// Prometheus text exposition format 0.0.4: a family is its "# HELP" and "# TYPE" lines followed by
// its samples, "name{label="value",...} value", one per line.

#include "admin/metrics.h"

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <string_view>

namespace replproxy::admin {
namespace {

struct Label {
  std::string_view name;
  std::string_view value;
};

// The fewest digits that parse back to the same double, laid out as printf's %g would (fixed
// notation from 1e-4 to below 1e6, scientific outside): "0.0005" rather than "5e-04", "10" rather
// than "1e+01". Prometheus' Go client writes floats the same way (FormatFloat 'g', -1). Infinities
// and NaN take the spellings of the text format instead of to_chars' "inf" and "nan".
std::string format_double(double value) {
  if (std::isnan(value)) {
    return "NaN";
  }
  if (std::isinf(value)) {
    return value > 0 ? "+Inf" : "-Inf";
  }
  char buffer[64];
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general);
  return std::string(buffer, result.ptr);
}

// Label values may hold anything (backend names are checked, a rule's target or a version need
// not be); these three would otherwise end the value or the line early.
void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// HELP text escapes backslash and newline, but not the double quote.
void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// A metric name allows [a-zA-Z0-9_:] only. SHOW STATS names are identifiers already; one that is
// not must not make the whole exposition unparseable for the scraper.
std::string metric_name_part(std::string_view text) {
  std::string name(text);
  for (char& c : name) {
    const bool valid =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!valid) {
      c = '_';
    }
  }
  return name;
}

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    text_ += "# HELP ";
    text_ += name;
    text_ += ' ';
    append_help(text_, help);
    text_ += "\n# TYPE ";
    text_ += name;
    text_ += ' ';
    text_ += type;
    text_ += '\n';
  }

  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value) {
    sample_text(name, labels, std::to_string(value));
  }
  void sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    sample_text(name, labels, format_double(value));
  }

  std::string take() { return std::move(text_); }

 private:
  void sample_text(std::string_view name, std::initializer_list<Label> labels,
                   std::string_view value) {
    text_ += name;
    if (labels.size() > 0) {
      text_ += '{';
      bool first = true;
      for (const Label& label : labels) {
        text_ += first ? "" : ",";
        text_ += label.name;
        text_ += "=\"";
        append_label_value(text_, label.value);
        text_ += '"';
        first = false;
      }
      text_ += '}';
    }
    text_ += ' ';
    text_ += value;
    text_ += '\n';
  }

  std::string text_;
};

constexpr std::string_view kRouteNames[kRouteCount] = {"primary", "replica", "fallback"};

void add_process(Exposition& out, const MetricsInput& input) {
  out.family("replproxy_build_info", "gauge",
             "replproxy build information as labels; the value is always 1");
  out.sample("replproxy_build_info", {{"version", input.version}}, uint64_t{1});
  out.family("replproxy_uptime_seconds", "gauge", "Seconds since the proxy started");
  out.sample("replproxy_uptime_seconds", {}, input.uptime_seconds);
  out.family("replproxy_sessions", "gauge", "Client sessions open now");
  out.sample("replproxy_sessions", {}, input.open_sessions);
}

// The SHOW STATS counter "queries" is the sum of replproxy_queries_total, which carries it by
// route and backend; a second family of the same name would make the exposition invalid.
void add_counters(Exposition& out, const std::vector<Stat>& counters) {
  for (const Stat& stat : counters) {
    if (stat.name == "queries") {
      continue;
    }
    const std::string name = "replproxy_" + metric_name_part(stat.name) + "_total";
    out.family(name, "counter", "replproxy counter " + stat.name + " (see SHOW STATS)");
    out.sample(name, {}, stat.value);
  }
}

// Every route of every backend has a sample, zeros included, so that rate() over a route that
// starts being used sees it from 0 rather than from its first non-zero value.
void add_queries(Exposition& out, const std::vector<BackendMetrics>& backends) {
  out.family("replproxy_queries_total", "counter", "Statements routed, by route and backend");
  for (const BackendMetrics& backend : backends) {
    for (size_t route = 0; route < kRouteCount; ++route) {
      out.sample("replproxy_queries_total",
                 {{"route", kRouteNames[route]}, {"backend", backend.name}},
                 backend.queries[route]);
    }
  }
}

void add_backend_gauges(Exposition& out, const std::vector<BackendMetrics>& backends) {
  out.family("replproxy_backend_up", "gauge", "1 when the backend answered its last probe, else 0");
  for (const BackendMetrics& b : backends) {
    out.sample("replproxy_backend_up", {{"backend", b.name}}, uint64_t{b.up ? 1u : 0u});
  }
  // A replica whose lag is unknown has no sample: a made-up 0 would read as "in sync".
  out.family("replproxy_backend_lag_seconds", "gauge",
             "Replication lag of the replica, when known");
  for (const BackendMetrics& b : backends) {
    if (b.lag_seconds) {
      out.sample("replproxy_backend_lag_seconds", {{"backend", b.name}}, *b.lag_seconds);
    }
  }
  out.family("replproxy_backend_connections", "gauge", "Backend connections open now");
  for (const BackendMetrics& b : backends) {
    out.sample("replproxy_backend_connections", {{"backend", b.name}}, b.connections);
  }
}

void add_backend_details(Exposition& out, const std::vector<BackendMetrics>& backends) {
  out.family("replproxy_backend_errors_total", "counter",
             "Backend connect failures and lost connections");
  for (const BackendMetrics& b : backends) {
    out.sample("replproxy_backend_errors_total", {{"backend", b.name}}, b.errors);
  }
  out.family("replproxy_backend_info", "gauge",
             "The backend's live role and health state as labels; the value is always 1");
  for (const BackendMetrics& b : backends) {
    out.sample("replproxy_backend_info",
               {{"backend", b.name}, {"role", b.role}, {"state", b.state}}, uint64_t{1});
  }
}

void add_rules(Exposition& out, const std::vector<RuleMetrics>& rules) {
  out.family("replproxy_rule_hits_total", "counter",
             "Statements routed by each [[routing.rules]] entry (index from 0)");
  for (const RuleMetrics& rule : rules) {
    const std::string index = std::to_string(rule.index);
    out.sample("replproxy_rule_hits_total", {{"rule", index}, {"target", rule.target}}, rule.hits);
  }
}

// The input counts each bucket alone; Prometheus buckets count everything up to their bound. The
// +Inf bucket is the total count, as the format requires it to equal _count.
void add_latency(Exposition& out, const LatencyHistogram& latency) {
  constexpr std::string_view kName = "replproxy_query_duration_seconds";
  const std::string bucket = std::string(kName) + "_bucket";
  out.family(kName, "histogram",
             "Query latency through the proxy, from the command's arrival to the end of its "
             "response");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < latency.bounds_seconds.size(); ++i) {
    cumulative += i < latency.counts.size() ? latency.counts[i] : 0;
    const std::string bound = format_double(latency.bounds_seconds[i]);
    out.sample(bucket, {{"le", bound}}, cumulative);
  }
  out.sample(bucket, {{"le", "+Inf"}}, latency.count);
  out.sample(std::string(kName) + "_sum", {}, latency.sum_seconds);
  out.sample(std::string(kName) + "_count", {}, latency.count);
}

// Every tunnel has every sample, zeros included, as for the routes above.
void add_tunnels(Exposition& out, const std::vector<TunnelStatus>& tunnels) {
  out.family("replproxy_tunnel_connections_total", "counter",
             "Connections accepted by each [[tunnels]] entry");
  for (const TunnelStatus& t : tunnels) {
    out.sample("replproxy_tunnel_connections_total", {{"tunnel", t.name}}, t.connections_total);
  }
  out.family("replproxy_tunnel_connections_active", "gauge", "Tunnel connections open now");
  for (const TunnelStatus& t : tunnels) {
    out.sample("replproxy_tunnel_connections_active", {{"tunnel", t.name}}, t.connections_active);
  }
  out.family("replproxy_tunnel_bytes_total", "counter",
             "Payload bytes carried by each tunnel: to_server from its clients to its connect "
             "address, to_client back");
  for (const TunnelStatus& t : tunnels) {
    out.sample("replproxy_tunnel_bytes_total", {{"tunnel", t.name}, {"direction", "to_server"}},
               t.bytes_to_server);
    out.sample("replproxy_tunnel_bytes_total", {{"tunnel", t.name}, {"direction", "to_client"}},
               t.bytes_to_client);
  }
  out.family("replproxy_tunnel_failures_total", "counter",
             "Tunnel connections that failed before data flowed, by reason");
  for (const TunnelStatus& t : tunnels) {
    for (size_t r = 0; r < kTunnelFailureCount; ++r) {
      out.sample("replproxy_tunnel_failures_total",
                 {{"tunnel", t.name}, {"reason", kTunnelFailureNames[r]}}, t.failures[r]);
    }
  }
}

void add_relay(Exposition& out, const RelayStatus& r) {
  const auto counter = [&out](std::string_view name, std::string_view help, uint64_t value) {
    out.family(name, "counter", help);
    out.sample(name, {}, value);
  };
  const auto gauge = [&out](std::string_view name, std::string_view help, uint64_t value) {
    out.family(name, "gauge", help);
    out.sample(name, {}, value);
  };
  gauge("replproxy_relay_connected", "1 while the relay streams from its source",
        r.state == "streaming" ? uint64_t{1} : uint64_t{0});
  counter("replproxy_relay_events_total", "Binlog events the relay stored", r.events_received);
  counter("replproxy_relay_bytes_total", "Bytes of the binlog events the relay stored",
          r.bytes_received);
  counter("replproxy_relay_checksum_errors_total",
          "Events refused for a bad CRC32 (the link is dropped and resumed)", r.checksum_errors);
  counter("replproxy_relay_stream_errors_total",
          "Malformed packets and broken links on the upstream stream", r.stream_errors);
  counter("replproxy_relay_connects_total", "Dumps started from the source", r.connects);
  counter("replproxy_relay_acks_requested_total", "Semi-sync ACKs the source asked for",
          r.acks_requested);
  counter("replproxy_relay_acks_total", "Semi-sync ACKs sent, each after the event was durable",
          r.acks_sent);
  out.family("replproxy_relay_ack_latency_seconds", "summary",
             "From a semi-sync event's arrival to its ACK (fdatasync included)");
  out.sample("replproxy_relay_ack_latency_seconds", {{"quantile", "0.5"}},
             static_cast<double>(r.ack_p50_us) / 1e6);
  out.sample("replproxy_relay_ack_latency_seconds", {{"quantile", "0.99"}},
             static_cast<double>(r.ack_p99_us) / 1e6);
  out.sample("replproxy_relay_ack_latency_seconds_sum", {}, static_cast<double>(r.ack_sum_us) / 1e6);
  out.sample("replproxy_relay_ack_latency_seconds_count", {}, r.ack_count);
  counter("replproxy_relay_fsyncs_total", "fdatasync calls on the relay's binlog", r.fsyncs);
  gauge("replproxy_relay_files", "Binlog files the relay keeps", r.files);
  gauge("replproxy_relay_stored_bytes", "Bytes in the relay's binlog files", r.bytes_stored);
  counter("replproxy_relay_files_purged_total", "Binlog files removed by expiry or size",
          r.files_purged);
  gauge("replproxy_relay_replicas", "Replicas connected to the relay now", r.replicas);
  counter("replproxy_relay_events_sent_total", "Events sent to the relay's replicas",
          r.events_sent);
  counter("replproxy_relay_bytes_sent_total", "Bytes sent to the relay's replicas", r.bytes_sent);
}

}  // namespace

std::string prometheus_text(const MetricsInput& input) {
  Exposition out;
  add_process(out, input);
  add_counters(out, input.counters);
  add_queries(out, input.backends);
  add_backend_gauges(out, input.backends);
  add_backend_details(out, input.backends);
  add_rules(out, input.rules);
  add_latency(out, input.latency);
  if (!input.tunnels.empty()) {
    add_tunnels(out, input.tunnels);
  }
  if (input.relay) {
    add_relay(out, *input.relay);
  }
  return out.take();
}

}  // namespace replproxy::admin
