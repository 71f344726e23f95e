#include "proxy/controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "admin/metrics.h"
#include "proxy/client_session.h"
#include "proxy/log.h"
#include "proxy/worker.h"

namespace replproxy::proxy {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = module_logger("admin");
  return logger;
}

// ER_UNKNOWN_ERROR: an admin command that cannot be carried out now.
constexpr uint16_t kCommandFailed = 1105;
// ER_NO_SUCH_THREAD, as KILL of an unknown id gives on a server.
constexpr uint16_t kNoSuchThread = 1094;

spdlog::level::level_enum spdlog_level(config::LogLevel level) {
  constexpr spdlog::level::level_enum kLevels[] = {spdlog::level::trace, spdlog::level::debug,
                                                   spdlog::level::info, spdlog::level::warn,
                                                   spdlog::level::err};
  return kLevels[static_cast<size_t>(level)];
}

// Whether a reloaded file asks for other tunnels than those running; where an entry sits in the
// file does not matter.
bool tunnels_differ(const std::vector<config::Tunnel>& running,
                    const std::vector<config::Tunnel>& next) {
  return !std::ranges::equal(running, next, [](config::Tunnel a, config::Tunnel b) {
    a.line = b.line = 0;
    return a == b;
  });
}

// Settings a reload cannot change in a running process: its sockets and threads.
std::vector<std::string> needs_restart(const config::Config& running, const config::Config& next,
                                       const std::vector<config::Tunnel>& running_tunnels) {
  std::vector<std::string> keys;
  if (running.proxy.listen != next.proxy.listen) {
    keys.push_back("proxy.listen");
  }
  if (running.proxy.workers != next.proxy.workers) {
    keys.push_back("proxy.workers");
  }
  if (running.admin.enabled != next.admin.enabled || running.admin.listen != next.admin.listen) {
    keys.push_back("[admin] listen");
  }
  if (running.metrics.enabled != next.metrics.enabled ||
      running.metrics.listen != next.metrics.listen) {
    keys.push_back("[metrics] listen");
  }
  // The tunnels run on the relay loop with the listeners and TLS contexts of the start.
  if (tunnels_differ(running_tunnels, next.tunnels)) {
    keys.push_back("[[tunnels]]");
  }
  return keys;
}

}  // namespace

Controller::Controller(ProxyServer& server)
    : server_(server), started_(std::chrono::steady_clock::now()) {}

AdminReply Controller::execute(const admin::Command& command) {
  const auto config = server_.shared().runtime()->config;
  switch (command.kind) {
    case admin::CommandKind::show_backends:
      return AdminReply::rows(backends());
    case admin::CommandKind::show_stats:
      return AdminReply::rows(admin::stats_table(stats(), command.pattern));
    case admin::CommandKind::show_version:
      return AdminReply::rows(admin::version_table(REPLPROXY_VERSION));
    case admin::CommandKind::version_comment:
      return AdminReply::rows(admin::version_comment_table(REPLPROXY_VERSION));
    case admin::CommandKind::show_config:
      return AdminReply::rows(admin::config_table(*config));
    case admin::CommandKind::show_sessions:
      return sessions();
    case admin::CommandKind::show_rules:
      return rules();
    case admin::CommandKind::show_tunnels:
      return AdminReply::rows(
          admin::tunnels_table(tunnels_ ? tunnels_() : std::vector<admin::TunnelStatus>{}));
    case admin::CommandKind::show_relay_status: {
      if (!relay_) {
        return AdminReply::rows(admin::relay_status_table(nullptr));
      }
      const RelayView view = relay_();
      return AdminReply::rows(admin::relay_status_table(&view.status));
    }
    case admin::CommandKind::show_relay_replicas:
      return AdminReply::rows(admin::relay_replicas_table(
          relay_ ? relay_().replicas : std::vector<admin::RelayReplicaStatus>{}));
    case admin::CommandKind::set_maintenance:
      return set_maintenance(command.backend, true);
    case admin::CommandKind::set_online:
      return set_maintenance(command.backend, false);
    case admin::CommandKind::reload_config:
      return reload_reply();
    case admin::CommandKind::kill_session:
      return kill(command.session);
    case admin::CommandKind::help:
      return AdminReply::rows(admin::help_table());
  }
  return AdminReply::error(kCommandFailed, "replproxy admin: unhandled command");
}

admin::Table Controller::backends() const {
  const auto runtime = server_.shared().runtime();
  const auto snapshot = server_.shared().snapshot();
  const auto totals = server_.backend_totals();
  std::vector<admin::BackendTraffic> traffic;
  for (const auto& backend : runtime->config->backends) {
    admin::BackendTraffic t;
    if (const auto it = totals.find(backend.name); it != totals.end()) {
      t.connections = static_cast<uint64_t>(std::max<int64_t>(0, it->second.connections));
      for (uint64_t q : it->second.queries) {
        t.queries += q;
      }
      t.errors = it->second.errors;
    }
    traffic.push_back(t);
  }
  return admin::backends_table(*runtime->config, snapshot.get(), traffic);
}

std::vector<admin::Stat> Controller::stats() const {
  std::vector<admin::Stat> out;
  for (const StatValue& v : server_.stats()) {
    out.push_back({std::string(v.name), v.value});
  }
  out.push_back({"sessions_open", server_.shared().open_sessions()});
  out.push_back({"config_reloads", reloads_.load()});
  out.push_back({"config_reload_failures", reload_failures_.load()});
  return out;
}

AdminReply Controller::sessions() {
  // Shared with the tasks: a worker that answers after the timeout still writes into live memory.
  struct Gathered {
    std::mutex mutex;
    std::vector<admin::SessionInfo> sessions;
  };
  auto gathered = std::make_shared<Gathered>();
  const bool all = server_.run_on_workers([gathered](Worker& worker) {
    std::vector<admin::SessionInfo> mine;
    worker.for_each_session([&](ClientSession& s) { mine.push_back(s.info()); });
    std::lock_guard lock(gathered->mutex);
    gathered->sessions.insert(gathered->sessions.end(), mine.begin(), mine.end());
  });
  if (!all) {
    return AdminReply::error(kCommandFailed, "replproxy admin: a worker did not answer in time");
  }
  std::lock_guard lock(gathered->mutex);
  return AdminReply::rows(admin::sessions_table(std::move(gathered->sessions)));
}

AdminReply Controller::rules() const {
  const auto runtime = server_.shared().runtime();
  std::vector<uint64_t> hits;
  for (size_t i = 0; i < runtime->config->routing.rules.size(); ++i) {
    hits.push_back(runtime->rule_hits[i].load(std::memory_order_relaxed));
  }
  return AdminReply::rows(admin::rules_table(*runtime->config, hits));
}

// Maintenance takes effect in the next health snapshot; the reply waits for it (about one
// probe round), then lets idle sessions go of their connections to that backend, so that when
// the OK arrives no new statement reaches it.
AdminReply Controller::set_maintenance(const std::string& backend, bool on) {
  health::Prober* prober = server_.prober();
  if (prober == nullptr) {
    return AdminReply::error(kCommandFailed,
                             "replproxy admin: SET BACKEND needs a [health] table in the config");
  }
  if (!prober->set_maintenance(backend, on)) {
    return AdminReply::error(kCommandFailed, "replproxy admin: no backend named '" + backend + "'");
  }
  log()->info("backend '{}' {} by the admin interface", backend, on ? "in maintenance" : "online");
  if (!on) {
    return AdminReply::ok("backend '" + backend + "' may serve again once it is fit");
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    const auto snapshot = server_.shared().snapshot();
    const health::BackendHealth* health = snapshot ? snapshot->find(backend) : nullptr;
    if (health != nullptr && health->state == health::BackendState::maintenance) {
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return AdminReply::error(kCommandFailed, "replproxy admin: backend '" + backend +
                                                   "' is marked for maintenance, but the health "
                                                   "checker has not confirmed it yet");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  server_.run_on_workers([backend](Worker& worker) {
    worker.for_each_session([&](ClientSession& s) { s.drop_idle_link(backend); });
  });
  return AdminReply::ok("backend '" + backend +
                        "' is in maintenance: no new reads or sessions; open transactions finish");
}

AdminReply Controller::kill(uint32_t session) {
  auto found = std::make_shared<std::atomic<bool>>(false);
  server_.run_on_workers([found, session](Worker& worker) {
    worker.for_each_session([&](ClientSession& s) {
      if (s.id() == session) {
        s.kill();
        found->store(true);
      }
    });
  });
  if (!found->load()) {
    return AdminReply::error(kNoSuchThread, "Unknown session id: " + std::to_string(session));
  }
  return AdminReply::ok("session " + std::to_string(session) + " killed", 1);
}

std::expected<std::string, std::string> Controller::reload() {
  const auto running = server_.shared().runtime();
  const std::string& path = running->config->source_path;
  auto loaded = config::load_config_file(path);
  if (!loaded) {
    ++reload_failures_;
    std::string text;
    for (const std::string& message : loaded.error().messages) {
      text.append(text.empty() ? "" : "\n").append(message);
    }
    log()->error("reload of {} refused; the running config stays:\n{}", path, text);
    return std::unexpected(text);
  }
  auto config = std::make_shared<const config::Config>(std::move(*loaded));
  auto runtime = make_runtime(config);
  if (!runtime) {
    ++reload_failures_;
    log()->error("reload of {} refused; the running config stays: {}", path, runtime.error());
    return std::unexpected(path + ": " + runtime.error());
  }
  const std::vector<std::string> kept = needs_restart(*running->config, *config, running_tunnels_);
  if (tunnels_differ(running_tunnels_, config->tunnels)) {
    log()->warn("[[tunnels]] differ from the running tunnels: tunnel changes need a restart; the "
                "running tunnels stay as they are");
  }
  server_.apply(std::move(*runtime));
  spdlog::set_level(spdlog_level(config->log.level));
  ++reloads_;
  std::string summary = "reloaded " + path + ": " + std::to_string(config->backends.size()) +
                        " backend(s), " + std::to_string(config->users.size()) + " user(s), " +
                        std::to_string(config->routing.rules.size()) + " rule(s)";
  if (!kept.empty()) {
    summary += "; unchanged until a restart:";
    for (const std::string& key : kept) {
      summary += " " + key;
    }
  }
  log()->info("{}", summary);
  return summary;
}

AdminReply Controller::reload_reply() {
  auto result = reload();
  if (!result) {
    return AdminReply::error(kCommandFailed, "replproxy admin: the config was not reloaded:\n" +
                                                 result.error());
  }
  return AdminReply::ok(*result);
}

std::string Controller::metrics_text() const {
  const auto runtime = server_.shared().runtime();
  const auto snapshot = server_.shared().snapshot();
  const auto totals = server_.backend_totals();
  admin::MetricsInput input;
  input.version = REPLPROXY_VERSION;
  input.uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  input.open_sessions = server_.shared().open_sessions();
  input.counters = stats();
  for (const auto& backend : runtime->config->backends) {
    admin::BackendMetrics m;
    m.name = backend.name;
    const health::BackendHealth* health = snapshot ? snapshot->find(backend.name) : nullptr;
    const std::string* primary = snapshot ? snapshot->primary_name() : nullptr;
    const bool is_primary = primary != nullptr && *primary == backend.name;
    if (health != nullptr) {
      m.role = is_primary || (!snapshot->primary && health->role == config::BackendRole::primary)
                   ? "primary"
                   : "replica";
      m.state = std::string(health::to_string(health->state));
      m.up = health->state != health::BackendState::down &&
             health->state != health::BackendState::unknown;
      if (health->lag_ms) {
        m.lag_seconds = static_cast<double>(*health->lag_ms) / 1000.0;
      }
    } else {
      m.role = backend.role == config::BackendRole::primary ? "primary" : "replica";
      m.state = "unknown";
      m.up = !runtime->config->health.enabled;
    }
    if (const auto it = totals.find(backend.name); it != totals.end()) {
      m.queries = it->second.queries;
      m.errors = it->second.errors;
      m.connections = static_cast<uint64_t>(std::max<int64_t>(0, it->second.connections));
    }
    input.backends.push_back(std::move(m));
  }
  const auto& rules = runtime->config->routing.rules;
  for (size_t i = 0; i < rules.size(); ++i) {
    input.rules.push_back({.index = i,
                           .target = admin::rule_target_text(rules[i]),
                           .hits = runtime->rule_hits[i].load(std::memory_order_relaxed)});
  }
  input.latency = server_.latency();
  if (tunnels_) {
    input.tunnels = tunnels_();
  }
  if (relay_) {
    input.relay = relay_().status;
  }
  return admin::prometheus_text(input);
}

}  // namespace replproxy::proxy
