// What the admin interface sees of a ClientSession and does to it, and how a session follows a
// reloaded config: it takes the new one between two commands, keeping every backend connection
// whose backend is still configured at the same address (by name, whatever its new index).

#include <spdlog/spdlog.h>
#include <uv.h>

#include "proxy/client_session.h"
#include "proxy/log.h"
#include "proxy/worker.h"
#include "router/topology.h"

namespace replproxy::proxy {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = module_logger("session");
  return logger;
}

std::string_view stage_name(ClientSession::Stage stage) {
  switch (stage) {
    case ClientSession::Stage::greeting:
    case ClientSession::Stage::tls_handshake:
    case ClientSession::Stage::auth_switch:
      return "connecting";
    case ClientSession::Stage::backend_login:
      return "logging in";
    case ClientSession::Stage::idle:
      return "idle";
    case ClientSession::Stage::routing:
      return "routing";
    case ClientSession::Stage::command_continuation:
    case ClientSession::Stage::local_infile:
      return "sending";
    case ClientSession::Stage::forwarding:
      return "forwarding";
    case ClientSession::Stage::closing:
      return "closing";
  }
  return "unknown";
}

// The same server: a backend whose address or TLS settings changed is another server to the
// sessions, even under the same name.
bool same_server(const config::Backend& a, const config::Backend& b) {
  return a.name == b.name && a.address == b.address && a.tls == b.tls && a.tls_ca == b.tls_ca &&
         a.tls_verify == b.tls_verify;
}

}  // namespace

admin::SessionInfo ClientSession::info() const {
  admin::SessionInfo info;
  info.id = id_;
  info.user = username_;
  info.client = peer_;
  info.schema = schema_;
  info.state = std::string(stage_name(stage_));
  info.in_transaction = in_transaction_ || read_only_transaction_on_.has_value();
  for (size_t i = 0; i < links_.size(); ++i) {
    if (links_[i].conn) {
      info.backends.push_back(runtime_->config->backends[i].name);
    }
  }
  info.pinned = pinned_reason();
  info.statement = statement_;
  if (command_started_ns_ != 0) {
    info.statement_ms = static_cast<int64_t>((uv_hrtime() - command_started_ns_) / 1'000'000);
  }
  return info;
}

// Why the session's statements all go to one connection now, as SHOW SESSIONS says.
std::string ClientSession::pinned_reason() const {
  if (read_only_transaction_on_) {
    return "read-only transaction on '" + runtime_->config->backends[*read_only_transaction_on_].name +
           "'";
  }
  if (in_transaction_) {
    return "transaction";
  }
  if (table_locks_) {
    return "table locks";
  }
  if (!temp_tables_.empty()) {
    return "temporary tables";
  }
  if (pinned_to_primary_) {
    return "session state that cannot be replayed";
  }
  return "";
}

void ClientSession::kill() {
  if (stage_ == Stage::closing) {
    return;
  }
  bump(worker_.stats().sessions_killed);
  log()->info("[conn {}] killed by the admin interface (user '{}' from {})", id_, username_,
              peer_);
  close("killed by the admin interface");
}

// A connection holds state that exists nowhere else: the session's transaction, its read-only
// transaction, or the primary connection with table locks, temporary tables or unreplayable
// session state.
bool ClientSession::link_holds_state(size_t backend) const {
  if (read_only_transaction_on_ == backend || transaction_backend_ == backend) {
    return true;
  }
  const bool primary = router::TopologyView{topology_}.primary() == backend;
  const bool stateful =
      in_transaction_ || table_locks_ || !temp_tables_.empty() || pinned_to_primary_;
  return stateful && (primary || last_backend_ == backend);
}

void ClientSession::drop_idle_link(std::string_view backend) {
  if (stage_ != Stage::idle) {
    return;  // busy: the next command's topology refresh lets go of it (drop_drained_links)
  }
  const auto& backends = runtime_->config->backends;
  for (size_t i = 0; i < backends.size(); ++i) {
    if (backends[i].name == backend && links_[i].conn && !link_holds_state(i)) {
      log()->debug("[conn {}] letting go of backend '{}' (maintenance)", id_, backend);
      retire_link(i);
    }
  }
}

// Between commands: connections to backends in maintenance go, unless they hold the session's
// state (its transaction finishes there first).
void ClientSession::drop_drained_links() {
  for (size_t i = 0; i < links_.size() && i < in_maintenance_.size(); ++i) {
    if (in_maintenance_[i] && links_[i].conn && !link_holds_state(i)) {
      log()->debug("[conn {}] letting go of backend '{}' (maintenance)", id_,
                   runtime_->config->backends[i].name);
      retire_link(i);
    }
  }
}

// A reloaded config is taken between commands, outside transactions and table locks (whose
// connection must stay exactly as it is until they end; the next command after that takes it).
void ClientSession::adopt_runtime() {
  if (in_transaction_ || read_only_transaction_on_ || table_locks_) {
    return;
  }
  const uint64_t generation = worker_.shared().runtime_generation();
  std::shared_ptr<const Runtime> next = worker_.shared().runtime();
  if (next == runtime_) {
    runtime_generation_ = generation;
    return;
  }
  const auto& old_backends = runtime_->config->backends;
  const auto& new_backends = next->config->backends;
  std::vector<std::optional<size_t>> moved(old_backends.size());
  for (size_t i = 0; i < old_backends.size(); ++i) {
    for (size_t j = 0; j < new_backends.size(); ++j) {
      if (same_server(old_backends[i], new_backends[j])) {
        moved[i] = j;
      }
    }
  }
  for (size_t i = 0; i < links_.size(); ++i) {
    if (links_[i].conn && !moved[i]) {
      log()->info("[conn {}] backend '{}' left the config: its connection is closed", id_,
                  old_backends[i].name);
      retire_link(i);
    }
  }
  std::vector<Link> links(new_backends.size());
  for (size_t i = 0; i < links_.size(); ++i) {
    if (moved[i]) {
      links[*moved[i]] = std::move(links_[i]);
    }
  }
  links_ = std::move(links);
  statements_.remap_backends(moved);
  const auto remap = [&](std::optional<size_t>& index) {
    if (index) {
      index = *index < moved.size() ? moved[*index] : std::nullopt;
    }
  };
  remap(last_backend_);
  remap(transaction_backend_);
  current_ = 0;
  balancer_ = router::ReplicaBalancer{};
  runtime_ = std::move(next);
  runtime_generation_ = generation;
  log()->debug("[conn {}] now on the reloaded config ({} backends)", id_, new_backends.size());
}

// Hints and rules are counted as they decide; the route label of the queries counters is set
// here and read when the command is forwarded.
void ClientSession::count_route(const router::Target& target, bool read) {
  WorkerStats& stats = worker_.stats();
  if (target.is_error()) {
    bump(stats.routing_errors);
    return;
  }
  if (target.source == router::Target::Source::hint) {
    bump(stats.hint_routes);
  } else if (target.source == router::Target::Source::rule) {
    bump(stats.rule_routes);
    if (target.rule < runtime_->config->routing.rules.size()) {
      bump(runtime_->rule_hits[target.rule]);
    }
  }
  const bool on_primary = router::TopologyView{topology_}.primary() == target.backend;
  if (target.fallback) {
    route_ = admin::Route::fallback;
  } else {
    route_ = on_primary || !read ? admin::Route::primary : admin::Route::replica;
  }
}

// The command goes to links_[current_] now. A replica read that routing sent to the primary
// after all (its replica was lost, a causal wait timed out) counts as a fallback.
void ClientSession::count_forwarded() {
  admin::Route route = route_;
  if (route == admin::Route::replica && router::TopologyView{topology_}.primary() == current_) {
    route = admin::Route::fallback;
  }
  WorkerStats& stats = worker_.stats();
  switch (route) {
    case admin::Route::primary:
      bump(stats.queries_primary);
      break;
    case admin::Route::replica:
      bump(stats.queries_replica);
      break;
    case admin::Route::fallback:
      bump(stats.queries_fallback);
      break;
  }
  if (BackendCounters* counters = links_[current_].counters) {
    bump(counters->queries[static_cast<size_t>(route)]);
  }
}

}  // namespace replproxy::proxy
