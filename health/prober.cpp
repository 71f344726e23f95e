// Prober: the coordinator thread. It runs the probe rounds, applies the topology decision,
// logs what changed and publishes the snapshot; it keeps the per-backend workers and the
// heartbeat writer in step with the config.

#include "health/prober.h"

#include <mysqld_error.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <span>
#include <utility>

#include "health/heartbeat.h"
#include "health/topology.h"

namespace replproxy::health {
namespace {

using Clock = std::chrono::steady_clock;

std::optional<size_t> configured_primary(const config::Config& config) {
  for (size_t i = 0; i < config.backends.size(); ++i) {
    if (config.backends[i].role == config::BackendRole::primary) {
      return i;
    }
  }
  return std::nullopt;
}

// The index in CONFIG of the backend SNAPSHOT calls the primary (by name: a reload may have
// moved it).
std::optional<size_t> snapshot_primary(const Snapshot& snapshot, const config::Config& config) {
  if (!snapshot.primary || *snapshot.primary >= snapshot.backends.size()) {
    return std::nullopt;
  }
  const std::string& name = snapshot.backends[*snapshot.primary].name;
  const auto it = std::ranges::find(config.backends, name, &config::Backend::name);
  if (it == config.backends.end()) {
    return std::nullopt;
  }
  return static_cast<size_t>(it - config.backends.begin());
}

bool privilege_error(const ServerError& e) {
  return e.code == ER_TABLEACCESS_DENIED_ERROR || e.code == ER_DBACCESS_DENIED_ERROR ||
         e.code == ER_SPECIFIC_ACCESS_DENIED_ERROR || e.code == ER_COLUMNACCESS_DENIED_ERROR;
}

bool contains(std::string_view text, std::string_view word) {
  return std::ranges::search(text, word, [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         }).begin() != text.end();
}

// decide_topology says what changed in words; the level follows the gravity: split brain is an
// error, a backend coming back (or the first description of the topology) is news, anything
// leaving or moving is a warning.
spdlog::level::level_enum change_level(std::string_view change, bool first_round) {
  if (contains(change, "resolved")) {
    return spdlog::level::info;
  }
  if (contains(change, "split brain") || contains(change, "split-brain")) {
    return spdlog::level::err;
  }
  if (first_round && !contains(change, "warning")) {
    return spdlog::level::info;
  }
  for (const std::string_view good :
       {"-> fit", "-> recovering", "recovered", "rejoin", "back in", "again"}) {
    if (contains(change, good)) {
      return spdlog::level::info;
    }
  }
  return spdlog::level::warn;
}

}  // namespace

struct Prober::RoundOutcome {
  std::vector<ProbeOutcome> outcomes;  // one per config backend
};

std::shared_ptr<spdlog::logger> health_logger() {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (auto existing = spdlog::get("health")) {
    return existing;
  }
  auto logger = spdlog::default_logger()->clone("health");
  spdlog::register_logger(logger);
  return logger;
}

Prober::Prober(std::shared_ptr<const config::Config> config, Publish publish)
    : log_(health_logger()),
      publish_(std::move(publish)),
      pending_config_(config),
      newest_config_(std::move(config)) {}

Prober::~Prober() { stop(); }

void Prober::start() {
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { run(); });
  }
}

void Prober::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void Prober::set_config(std::shared_ptr<const config::Config> config) {
  {
    std::lock_guard lock(mutex_);
    pending_config_ = config;
    newest_config_ = std::move(config);
    wake_ = true;
  }
  cv_.notify_all();
}

bool Prober::set_maintenance(std::string_view backend, bool on) {
  {
    std::lock_guard lock(mutex_);
    if (!newest_config_ || newest_config_->find_backend(backend) == nullptr) {
      return false;
    }
    if (on) {
      maintenance_.emplace(backend);
    } else if (const auto it = maintenance_.find(backend); it != maintenance_.end()) {
      maintenance_.erase(it);
    }
    wake_ = true;
  }
  log_->info("backend {}: maintenance {} (operator)", backend, on ? "on" : "off");
  cv_.notify_all();
  return true;
}

void Prober::ring() {
  std::lock_guard lock(mutex_);
  cv_.notify_all();
}

void Prober::run() {
  uint64_t round = 0;
  for (;;) {
    std::shared_ptr<const config::Config> next_config;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        break;
      }
      next_config = std::exchange(pending_config_, nullptr);
      wake_ = false;
    }
    if (next_config) {
      sync_workers(next_config);
    }
    if (round == 0 && heartbeat_ && configured_primary(*config_)) {
      heartbeat_->wait_first_attempt(std::chrono::milliseconds(config_->health.probe_timeout_ms));
    }
    const auto started = Clock::now();
    RoundOutcome outcome = probe_round(*config_, ++round);
    finish_round(*config_, std::move(outcome));

    std::unique_lock lock(mutex_);
    cv_.wait_until(lock, started + std::chrono::milliseconds(config_->health.interval_ms),
                   [&] { return stopping_ || wake_; });
  }
  // Ask every thread to stop before joining any, so that stopping takes as long as the slowest
  // blocking call, not the sum of them.
  for (auto& w : workers_) {
    w->request_stop();
  }
  if (heartbeat_) {
    heartbeat_->request_stop();
  }
  workers_.clear();
  heartbeat_.reset();
}

void Prober::sync_workers(const std::shared_ptr<const config::Config>& config) {
  std::vector<std::unique_ptr<BackendWorker>> workers;
  std::vector<bool> slow;
  for (size_t i = 0; i < config->backends.size(); ++i) {
    ServerEndpoint endpoint = endpoint_for(*config, i);
    const auto it = std::ranges::find_if(
        workers_, [&](const auto& w) { return w && w->endpoint() == endpoint; });
    if (it != workers_.end()) {
      slow.push_back(slow_[static_cast<size_t>(it - workers_.begin())]);
      workers.push_back(std::move(*it));
    } else {
      slow.push_back(false);
      workers.push_back(std::make_unique<BackendWorker>(std::move(endpoint), [this] { ring(); }));
    }
  }
  for (auto& w : workers_) {
    if (w) {
      w->request_stop();
    }
  }
  workers_ = std::move(workers);  // joins the ones left behind
  slow_ = std::move(slow);

  const config::HealthSection& h = config->health;
  if (!h.heartbeat) {
    heartbeat_.reset();
  } else if (!heartbeat_ || heartbeat_->interval_ms() != h.heartbeat_interval_ms ||
             heartbeat_->schema() != h.heartbeat_schema ||
             heartbeat_->table() != h.heartbeat_table) {
    heartbeat_.reset();
    heartbeat_ = std::make_unique<HeartbeatWriter>(h.heartbeat_interval_ms, h.heartbeat_schema,
                                                   h.heartbeat_table);
  }
  config_ = config;
  if (heartbeat_ && !latest_.load()) {
    // Before the first snapshot the configured primary gets the heartbeat, so the replicas
    // have a row to read by the time the first rounds run.
    const auto primary = configured_primary(*config_);
    heartbeat_->set_target(primary ? std::optional(endpoint_for(*config_, *primary))
                                   : std::nullopt);
  }
}

Prober::RoundOutcome Prober::probe_round(const config::Config& config, uint64_t round) {
  const config::HealthSection& h = config.health;
  // The heartbeat is read everywhere except where it is written.
  const SnapshotPtr latest = latest_.load();
  const std::optional<size_t> writer =
      latest ? snapshot_primary(*latest, config) : configured_primary(config);
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->request(round, ProbeRequest{
                                    .read_heartbeat = heartbeat_ != nullptr && writer != i,
                                    .heartbeat_schema = h.heartbeat_schema,
                                    .heartbeat_table = h.heartbeat_table,
                                });
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(h.probe_timeout_ms);
  {
    std::unique_lock lock(mutex_);
    cv_.wait_until(lock, deadline, [&] {
      if (stopping_) {
        return true;
      }
      for (size_t i = 0; i < workers_.size(); ++i) {
        if (!slow_[i] && !workers_[i]->done(round)) {
          return false;
        }
      }
      return true;
    });
  }
  RoundOutcome outcome;
  for (size_t i = 0; i < workers_.size(); ++i) {
    auto o = workers_[i]->take(round);
    slow_[i] = !o.has_value();
    if (!o) {
      o.emplace();
      o->result.reachable = false;
      o->result.error =
          "no answer within probe_timeout_ms (" + std::to_string(h.probe_timeout_ms) + " ms)";
      o->result.probed_at_us = wall_now_us();
    }
    outcome.outcomes.push_back(std::move(*o));
  }
  return outcome;
}

void Prober::finish_round(const config::Config& config, RoundOutcome outcome) {
  const config::HealthSection& h = config.health;
  const HeartbeatStatus heartbeat = heartbeat_ ? heartbeat_->status() : HeartbeatStatus{};
  std::vector<ProbeResult> probes;
  std::string read_note;
  for (size_t i = 0; i < outcome.outcomes.size(); ++i) {
    ProbeOutcome& o = outcome.outcomes[i];
    if (heartbeat_ && o.heartbeat_ts_us) {
      o.result.heartbeat_lag_ms =
          heartbeat_lag_ms(heartbeat, *o.heartbeat_ts_us, o.heartbeat_read_at_us,
                           h.heartbeat_interval_ms, h.probe_timeout_ms);
    }
    if (read_note.empty() && o.heartbeat_error && privilege_error(*o.heartbeat_error)) {
      read_note = "heartbeat not readable on " + config.backends[i].name + ": " +
                  o.heartbeat_error->to_string();
    }
    probes.push_back(std::move(o.result));
  }

  const size_t n = config.backends.size();
  auto maintenance = std::make_unique<bool[]>(n);
  {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < n; ++i) {
      maintenance[i] = maintenance_.contains(config.backends[i].name);
    }
  }
  const SnapshotPtr previous = latest_.load();
  TopologyDecision decision = decide_topology(TopologyInput{
      .config = &config,
      .probes = probes,
      .previous = previous.get(),
      .maintenance = std::span<const bool>(maintenance.get(), n),
      .now_us = wall_now_us(),
  });
  for (const auto& change : decision.changes) {
    log_->log(change_level(change, previous == nullptr), "{}", change);
  }
  // decide_topology notes in the snapshot which replicas lack heartbeat lag; why is said here.
  note_heartbeat_problem(!heartbeat_ ? "" : !heartbeat.note.empty() ? heartbeat.note : read_note);

  auto published = std::make_shared<const Snapshot>(std::move(decision.snapshot));
  latest_.store(published);
  if (heartbeat_) {
    heartbeat_->set_target(published->primary
                               ? std::optional(endpoint_for(config, *published->primary))
                               : std::nullopt);
  }
  if (publish_) {
    publish_(std::move(published));
  }
}

void Prober::note_heartbeat_problem(std::string problem) {
  {
    std::lock_guard lock(mutex_);
    if (problem == heartbeat_problem_) {
      return;
    }
    heartbeat_problem_ = problem;
  }
  if (!problem.empty()) {
    log_->warn("{}; replication lag falls back to Seconds_Behind_Master", problem);
  } else {
    log_->info("heartbeat written and read again");
  }
}

std::string Prober::heartbeat_problem() const {
  std::lock_guard lock(mutex_);
  return heartbeat_problem_;
}

}  // namespace replproxy::health
