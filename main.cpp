// replproxy: wires the config, the workers and the signal handling together. Nothing else is
// global.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "config/config.h"
#include "proxy/admin_server.h"
#include "proxy/controller.h"
#include "proxy/log.h"
#include "proxy/metrics_server.h"
#include "proxy/ping.h"
#include "proxy/proxy_server.h"
#include "relay/relay_loop.h"
#include "relay/relay_service.h"
#include "relay/tunnel.h"

namespace {

using replproxy::config::LogLevel;

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Loads and validates a config file; prints every problem as FILE:LINE: what.
std::shared_ptr<const replproxy::config::Config> load_or_report(const std::string& path) {
  auto config = replproxy::config::load_config_file(path);
  if (!config) {
    for (const auto& message : config.error().messages) {
      std::cerr << message << "\n";
    }
    return nullptr;
  }
  return std::make_shared<const replproxy::config::Config>(std::move(*config));
}

// The control loop (main's): signals and the admin interface. SIGHUP reloads the config as
// RELOAD CONFIG does; both run here, so they never race.
struct SignalContext {
  replproxy::proxy::Controller* controller;
  replproxy::proxy::AdminServer* admin;  // null without [admin]
  uv_signal_t sigint;
  uv_signal_t sigterm;
  uv_signal_t sighup;
};

void on_signal(uv_signal_t* handle, int signum) {
  auto* ctx = static_cast<SignalContext*>(handle->data);
  auto log = replproxy::proxy::module_logger("main");
  if (signum == SIGHUP) {
    log->info("SIGHUP received: reloading the config");
    ctx->controller->reload();  // it logs the outcome either way
    return;
  }
  log->info("{} received: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
  uv_close(reinterpret_cast<uv_handle_t*>(&ctx->sigint), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&ctx->sigterm), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&ctx->sighup), nullptr);
  if (ctx->admin != nullptr) {
    ctx->admin->close();
  }
}

// The [[tunnels]] on the relay loop's thread; their counters are what SHOW TUNNELS and the metrics
// read. A certificate that cannot be loaded or an address that cannot be bound stops the start.
std::expected<void, std::string> start_tunnels(const replproxy::config::Config& config,
                                               replproxy::relay::RelayLoop& relay,
                                               replproxy::proxy::Controller& controller) {
  std::vector<std::shared_ptr<const replproxy::relay::TunnelStats>> stats;
  for (const replproxy::config::Tunnel& entry : config.tunnels) {
    auto tunnel_stats = std::make_shared<replproxy::relay::TunnelStats>(entry);
    auto tunnel = replproxy::relay::Tunnel::create(tunnel_stats);
    if (!tunnel) {
      return std::unexpected(tunnel.error());
    }
    stats.push_back(std::move(tunnel_stats));
    relay.add(std::move(*tunnel));
  }
  if (!relay.empty()) {
    if (auto started = relay.start(); !started) {
      return started;
    }
  }
  controller.set_tunnels(config.tunnels, [stats] {
    std::vector<replproxy::admin::TunnelStatus> out;
    for (const auto& s : stats) {
      out.push_back(s->status());
    }
    return out;
  });
  return {};
}

int run(std::shared_ptr<const replproxy::config::Config> config) {
  auto runtime = replproxy::proxy::make_runtime(config);
  if (!runtime) {
    std::cerr << config->source_path << ": " << runtime.error() << "\n";
    return 1;
  }
  replproxy::proxy::ProxyServer server(*runtime);
  if (auto started = server.start(); !started) {
    std::cerr << "replproxy: " << started.error() << "\n";
    return 1;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  replproxy::proxy::Controller controller(server);
  std::unique_ptr<replproxy::proxy::AdminServer> admin;
  replproxy::proxy::MetricsServer metrics;
  // A listener that cannot start stops everything started so far.
  const auto fail = [&](const std::string& why) {
    std::cerr << "replproxy: " << why << "\n";
    if (admin) {
      admin->close();
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    server.stop();
    return 1;
  };
  replproxy::relay::RelayLoop relay;
  if (auto started = start_tunnels(*config, relay, controller); !started) {
    return fail(started.error());
  }
  std::unique_ptr<replproxy::relay::RelayService> binlog_relay;
  if (config->relay.enabled) {
    auto started = replproxy::relay::RelayService::start(
        config->relay, config->proxy,
        replproxy::relay::make_source_picker(config->relay, server.shared()));
    if (!started) {
      relay.stop();
      return fail(started.error());
    }
    binlog_relay = std::move(*started);
    replproxy::relay::RelayService* service = binlog_relay.get();
    controller.set_relay([service] { return service->view(); });
  }
  if (config->admin.enabled) {
    admin = std::make_unique<replproxy::proxy::AdminServer>(&loop, server.shared(), controller);
    if (auto started = admin->start(); !started) {
      return fail(started.error());
    }
  }
  if (config->metrics.enabled) {
    auto started = metrics.start(config->metrics.listen,
                                 [&controller] { return controller.metrics_text(); });
    if (!started) {
      return fail(started.error());
    }
  }
  SignalContext ctx{&controller, admin.get(), {}, {}, {}};
  for (auto [handle, signum] : {std::pair{&ctx.sigint, SIGINT}, std::pair{&ctx.sigterm, SIGTERM},
                                std::pair{&ctx.sighup, SIGHUP}}) {
    uv_signal_init(&loop, handle);
    handle->data = &ctx;
    uv_signal_start(handle, &on_signal, signum);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  metrics.stop();  // before the workers go: a scrape reads their counters
  relay.stop();    // closes the tunnels and their connections
  if (binlog_relay) {
    binlog_relay->stop();  // the upstream link, the replicas' dumps, a last fdatasync
  }
  server.stop();
  replproxy::proxy::module_logger("main")->info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"replproxy: a replication-aware MySQL/MariaDB proxy"};
  std::string config_path;
  std::string check_path;
  std::string ping_target;
  app.add_option("-c,--config", config_path, "Configuration file (TOML)");
  app.add_option("--check-config", check_path,
                 "Validate a configuration file and exit: 0 when valid, 1 with the errors");
  app.add_option("--ping", ping_target,
                 "Connect to HOST:PORT, read the MySQL server greeting and exit: 0 when it "
                 "came, 1 with the reason (for health checks; no login)")
      ->option_text("HOST:PORT");
  app.set_version_flag("-V,--version", std::string("replproxy ") + REPLPROXY_VERSION);
  CLI11_PARSE(app, argc, argv);

  if (!ping_target.empty()) {
    return replproxy::proxy::ping_command(ping_target, replproxy::proxy::kPingTimeout, std::cout,
                                          std::cerr);
  }
  if (!check_path.empty()) {
    auto config = load_or_report(check_path);
    if (!config) {
      return 1;
    }
    std::cout << check_path << ": OK (" << config->users.size() << " user(s), "
              << config->backends.size() << " backend(s))\n";
    return 0;
  }
  if (config_path.empty()) {
    std::cerr << "replproxy: --config FILE is required (see --help)\n";
    return 1;
  }
  auto config = load_or_report(config_path);
  if (!config) {
    return 1;
  }
  auto console = spdlog::stdout_color_mt("replproxy");
  console->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  spdlog::set_default_logger(console);
  spdlog::set_level(to_spdlog(config->log.level));
  spdlog::flush_every(std::chrono::seconds(1));
  std::signal(SIGPIPE, SIG_IGN);
  return run(config);
}
