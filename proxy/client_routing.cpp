// Where a client's command runs, and bringing that backend connection to the session's state
// before it does: lazy login, replay of the session-state history, GTID tracking on the
// primary, and the causal-read wait on a replica (read-your-writes). Each of these is an internal
// step whose response the proxy consumes; the client's command is forwarded after the last one.

#include <spdlog/spdlog.h>

#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/packet.h"
#include "proxy/client_session.h"
#include "proxy/log.h"
#include "proxy/packets.h"
#include "proxy/worker.h"
#include "router/decide.h"

namespace replproxy::proxy {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static auto logger = module_logger("session");
  return logger;
}

protocol::Bytes query_payload(std::string_view sql) {
  protocol::Bytes payload;
  payload.reserve(sql.size() + 1);
  payload.push_back(static_cast<uint8_t>(protocol::Command::query));
  payload.insert(payload.end(), sql.begin(), sql.end());
  return payload;
}

// The key under which a SET target is remembered: the last SET of the same thing wins.
std::string history_key(const router::SetTarget& t) {
  switch (t.kind) {
    case router::SetKind::names:
    case router::SetKind::character_set:
      return "names";
    case router::SetKind::user_variable: {
      std::string key(1, '@');
      key.append(t.name);
      return key;
    }
    case router::SetKind::transaction_session:
      return "transaction";
    case router::SetKind::role:
      return "role";
    default: {
      std::string key = "var:";
      for (char ch : t.name) {
        key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      }
      return key;
    }
  }
}

// The first column of the first row of a small text result set, from its frames' payloads.
std::optional<std::string> first_value(const std::vector<protocol::Bytes>& frames, uint64_t caps) {
  if (frames.empty() || frames[0].empty() || frames[0][0] == 0xff || frames[0][0] == 0x00) {
    return std::nullopt;
  }
  protocol::Reader count(frames[0]);
  auto columns = count.lenenc_int();
  if (!columns) {
    return std::nullopt;
  }
  size_t row = 1 + *columns + ((caps & protocol::cap::kDeprecateEof) ? 0 : 1);
  if (row >= frames.size() || frames[row].empty()) {
    return std::nullopt;
  }
  if (frames[row][0] == 0xfb) {
    return std::string();  // NULL
  }
  protocol::Reader reader(frames[row]);
  auto value = reader.lenenc_string();
  if (!value) {
    return std::nullopt;
  }
  return std::string(*value);
}

}  // namespace

router::SessionView ClientSession::session_view() const {
  router::SessionView v;
  v.in_transaction = in_transaction_;
  v.autocommit = autocommit_;
  v.read_only_transaction_on = read_only_transaction_on_;
  v.has_temp_tables = !temp_tables_.empty();
  v.holds_table_locks = table_locks_;
  v.pinned_to_primary = pinned_to_primary_ || force_primary_;
  v.has_written = has_written_;
  v.last_backend = last_backend_;
  v.user = username_;
  v.schema = schema_;
  return v;
}

// COM_QUERY and COM_STMT_PREPARE: classify the text, decide where it runs, remember what it will
// change.
bool ClientSession::route_query(const protocol::Frame& frame, std::string_view sql,
                                uint8_t command) {
  const router::Classification c = router::classify(sql);
  const router::Target target =
      router::decide(c, session_view(), router::TopologyView{topology_},
                     runtime_->config->routing, runtime_->rules, balancer_);
  count_route(target, c.is_read());
  if (target.is_error()) {
    client_->consume(protocol::kFrameHeaderSize + frame.payload.size());
    send_err(target.error_code, target.sql_state, target.message);
    return true;
  }
  if (target.write_kept_on_primary) {
    log()->info("[conn {}] a hint or rule sent a write to a replica; it runs on the primary",
                id_);
  }
  if (command == static_cast<uint8_t>(protocol::Command::stmt_prepare)) {
    effects_.prepare_sql = std::string(sql);
    effects_.prepare_read = c.is_read();
    effects_.prepare_id = statements_.reserve_id();
  } else {
    record_effects(c, frame.payload);
  }
  causal_read_ = target.causal_read;
  retryable_read_ = command == static_cast<uint8_t>(protocol::Command::query) &&
                    is_retryable_read(target, c);
  return route_to(target.backend, &c);
}

void ClientSession::record_effects(const router::Classification& c, protocol::ByteView payload) {
  effects_.write = !c.is_read();
  effects_.begin_read_only = c.transaction == router::TransactionEffect::begin_read_only;
  effects_.table_locks = c.table_locks;
  if (c.session_state && c.statement_count > 1) {
    // Session state set inside a multi-statement cannot be replayed piecewise.
    effects_.pin_to_primary = true;
  }
  if (c.session_state && c.statement_count == 1) {
    const protocol::Bytes replay(payload.begin(), payload.end());
    if (!c.use_schema.empty()) {
      effects_.history.emplace_back("use", replay);
      effects_.new_schema = std::string(c.use_schema);
    }
    bool replayable = true;
    std::string key;
    for (const auto& t : c.set_targets) {
      replayable = replayable && t.constant_value;
      if (!key.empty()) {
        key.push_back(',');
      }
      key.append(history_key(t));
    }
    if (!key.empty()) {
      if (replayable) {
        effects_.history.emplace_back(std::move(key), replay);
      } else {
        // SET @x = NOW(), (SELECT ...): replaying it elsewhere could give another value.
        effects_.pin_to_primary = true;
      }
    }
  }
  for (const auto& t : c.tables) {
    std::string name(t.name);
    if (c.table_effect == router::TableEffect::create_temporary) {
      effects_.temp_tables_created.push_back(std::move(name));
    } else if (c.table_effect != router::TableEffect::none) {
      effects_.tables_dropped.push_back(std::move(name));
    }
  }
}

// A transaction lives on the connection that began it. When the health checker moved the primary
// elsewhere meanwhile, the rest of the transaction must not run on the new primary as if nothing
// happened: the old connection is closed (its server rolls the transaction back) and the client
// gets the deadlock error that applications retry a transaction on.
bool ClientSession::transaction_lost_to_failover(size_t frame_size) {
  if (!in_transaction_ || read_only_transaction_on_ || !transaction_backend_ ||
      router::TopologyView{topology_}.primary() == transaction_backend_) {
    return false;
  }
  log()->warn("[conn {}] the primary changed away from '{}' during a transaction; it is lost", id_,
              runtime_->config->backends[*transaction_backend_].name);
  retire_link(*transaction_backend_);
  in_transaction_ = false;
  transaction_backend_.reset();
  client_->consume(frame_size);
  send_err(router::route_error::kTransactionLost, "40001",
           "replproxy: the primary changed during this transaction, which was rolled back; "
           "restart the transaction");
  return true;
}

bool ClientSession::is_retryable_read(const router::Target& target,
                                      const router::Classification& c) const {
  return runtime_->config->routing.retry_reads && target.kind == router::Target::Kind::replica &&
         c.is_read() && c.statement_count == 1 && !in_transaction_ &&
         !read_only_transaction_on_ && !c.follows_previous_statement();
}

// Makes `backend` serve the command at the front of the client's input.
bool ClientSession::route_to(size_t backend, const router::Classification*) {
  current_ = backend;
  steps_.clear();
  running_step_.reset();
  stage_ = Stage::routing;
  steps_planned_ = false;
  prepare_link();
  return false;
}

// Connects the current backend if needed, then runs its steps, then forwards the command.
void ClientSession::prepare_link() {
  Link& link = links_[current_];
  if (!link.conn) {
    connect_link(current_);
    return;
  }
  if (!link.ready()) {
    return;  // on_backend_ready calls back
  }
  if (!steps_planned_) {
    steps_planned_ = true;
    plan_steps(current_);
  }
  run_next_step();
}

void ClientSession::connect_link(size_t backend) {
  const config::Backend& config = runtime_->config->backends[backend];
  BackendLogin login = make_login();
  if (stage_ != Stage::backend_login) {
    login.database = schema_;
  }
  links_[backend] = Link{};
  links_[backend].counters = &worker_.backend_counters().get(config.name);
  links_[backend].counters->connections.fetch_add(1, std::memory_order_relaxed);
  links_[backend].conn = std::make_unique<BackendConnection>(
      worker_.loop(), static_cast<BackendConnection::Handler&>(*this), id_, config,
      runtime_->tls_for(config), std::move(login));
  links_[backend].conn->start(runtime_->config->proxy.connect_timeout_ms);
}

void ClientSession::plan_steps(size_t backend) {
  Link& link = links_[backend];
  for (const SessionHistory::Entry* entry : history_.pending(link.history_applied)) {
    steps_.push_back(Step{Step::Kind::replay, backend, entry->payload, entry->sequence, 0});
  }
  const auto primary = router::TopologyView{topology_}.primary();
  const bool ryw = runtime_->config->routing.consistency == config::Consistency::read_your_writes;
  if (ryw && backend == primary && !link.gtid_tracking_tried &&
      (link.conn->capabilities() & protocol::cap::kSessionTrack)) {
    // MariaDB reports the GTID of each write in its OK packet once asked to.
    link.gtid_tracking_tried = true;
    steps_.push_back(Step{Step::Kind::track_gtid, backend,
                          query_payload("SET @@session.session_track_system_variables = "
                                        "CONCAT_WS(',', @@session.session_track_system_variables,"
                                        " 'last_gtid')"),
                          0, 0});
  }
  if (causal_read_ && backend != primary && write_sequence_ > link.causal_synced) {
    if (gtid_unknown_ && primary) {
      steps_.push_back(
          Step{Step::Kind::fetch_gtid, *primary, query_payload("SELECT @@last_gtid"), 0, 0});
    }
    steps_.push_back(Step{Step::Kind::causal_wait, backend, {}, 0, 0});
  }
  plan_statement_steps(backend);
}

void ClientSession::run_next_step() {
  while (!steps_.empty()) {
    Step step = std::move(steps_.front());
    steps_.pop_front();
    Link& link = links_[step.backend];
    if (!link.ready()) {
      reroute_to_primary("a backend connection needed for a step is not ready");
      return;
    }
    if (step.kind == Step::Kind::causal_wait) {
      if (last_gtid_.empty()) {
        link.causal_synced = write_sequence_;
        continue;  // nothing was written with a GTID: nothing to wait for
      }
      const double seconds = runtime_->config->routing.causal_read_timeout_ms / 1000.0;
      step.payload = query_payload("SELECT MASTER_GTID_WAIT('" + last_gtid_ + "', " +
                                   std::to_string(seconds) + ")");
    }
    tracker_.set_capabilities(link.conn->capabilities());
    tracker_.start(step.payload);
    step_frames_.clear();
    protocol::Bytes framed;
    protocol::encode_packet(step.payload, 0, framed);
    link.conn->stream().write(std::move(framed));
    running_step_ = std::move(step);
    if (!tracker_.expects_response()) {
      running_step_.reset();
      continue;
    }
    return;
  }
  forward_command();
}

// Reads the response of the running step (never forwarded to the client).
void ClientSession::on_step_response() {
  Link& link = links_[running_step_->backend];
  Stream& from = link.conn->stream();
  for (;;) {
    auto decoded = protocol::decode_frame(from.input());
    if (!decoded) {
      return;
    }
    auto next = tracker_.feed(decoded->frame);
    step_frames_.emplace_back(decoded->frame.payload.begin(), decoded->frame.payload.end());
    from.consume(decoded->consumed);
    if (!next) {
      step_failed(*running_step_, "malformed response");
      return;
    }
    if (*next == protocol::ResponseTracker::Next::done) {
      break;
    }
  }
  Step step = std::move(*running_step_);
  running_step_.reset();
  const protocol::ResponseSummary& summary = tracker_.summary();
  if (summary.error) {
    step_failed(step, summary.err ? summary.err->message : "error");
    return;
  }
  if (!complete_step(step, summary)) {
    return;
  }
  run_next_step();
}

// Records what a successful step achieved; false when the command was routed elsewhere.
bool ClientSession::complete_step(const Step& step, const protocol::ResponseSummary& summary) {
  Link& link = links_[step.backend];
  switch (step.kind) {
    case Step::Kind::replay:
      link.history_applied = step.history_sequence;
      return true;
    case Step::Kind::track_gtid:
      link.tracks_gtid = true;
      return true;
    case Step::Kind::fetch_gtid: {
      auto value = first_value(step_frames_, link.conn->capabilities());
      last_gtid_ = value.value_or("");
      gtid_unknown_ = false;
      return true;
    }
    case Step::Kind::causal_wait: {
      auto value = first_value(step_frames_, link.conn->capabilities());
      if (value != "0") {
        bump(worker_.stats().causal_read_timeouts);
        reroute_to_primary("the replica did not reach the session's last write in time");
        return false;
      }
      bump(worker_.stats().causal_read_waits);
      link.causal_synced = write_sequence_;
      return true;
    }
    case Step::Kind::prepare:
      if (PreparedStatement* s = statements_.find(step.statement_id)) {
        s->backends[step.backend] = PreparedStatement::OnBackend{summary.statement_id, 0};
      }
      return true;
  }
  return true;
}

void ClientSession::step_failed(const Step& step, std::string_view why) {
  running_step_.reset();
  const auto primary = router::TopologyView{topology_}.primary();
  if (step.kind == Step::Kind::track_gtid) {
    run_next_step();  // not fatal: writes' GTIDs are then fetched when a read needs them
    return;
  }
  if (step.backend == primary) {
    if (step.kind == Step::Kind::replay) {
      links_[step.backend].history_applied = step.history_sequence;
    }
    log()->warn("[conn {}] preparing the primary connection failed: {}", id_, why);
    run_next_step();
    return;
  }
  log()->info("[conn {}] backend '{}' cannot serve this session ({}); using the primary", id_,
              runtime_->config->backends[step.backend].name, why);
  links_[step.backend].unusable = true;
  retire_link(step.backend);
  reroute_to_primary(why);
}

// Routes the command at the front of the client's input again, this time to the primary.
void ClientSession::reroute_to_primary(std::string_view why) {
  log()->debug("[conn {}] rerouting to the primary: {}", id_, why);
  reroute(true);
}

// Routes the command at the front of the client's input again with the current topology (a
// backend that just failed is marked down, so another replica, the primary or the routing
// error of read_fallback = "error" takes its place).
void ClientSession::route_again(std::string_view why) {
  log()->debug("[conn {}] routing again: {}", id_, why);
  reroute(false);
}

void ClientSession::reroute(bool to_primary) {
  bump(worker_.stats().reads_rerouted);
  steps_.clear();
  running_step_.reset();
  force_primary_ = to_primary;
  stage_ = Stage::idle;
  auto decoded = protocol::decode_frame(client_->input());
  if (!decoded) {
    protocol_error("internal: the command to reroute is gone");
    return;
  }
  if (dispatch_command(decoded->frame)) {
    process_client_input();
  }
}

void ClientSession::apply_effects() {
  const protocol::ResponseSummary& summary = tracker_.summary();
  const auto primary = router::TopologyView{topology_}.primary();
  force_primary_ = false;
  last_backend_ = current_;
  if (!summary.error) {
    if (summary.status_seen) {
      in_transaction_ = summary.status_flags & protocol::status::kInTrans;
      autocommit_ = summary.status_flags & protocol::status::kAutocommit;
    }
    apply_success_effects();
  }
  if (!in_transaction_) {
    read_only_transaction_on_.reset();
    transaction_backend_.reset();
  } else if (effects_.begin_read_only && current_ != primary) {
    read_only_transaction_on_ = current_;
  } else if (!transaction_backend_) {
    transaction_backend_ = current_;
  }
  if (current_ == primary) {
    learn_gtid(summary);
  }
}

void ClientSession::apply_success_effects() {
  Link& link = links_[current_];
  for (auto& [key, payload] : effects_.history) {
    if (!history_.record(key, std::move(payload)) && !pinned_to_primary_) {
      pinned_to_primary_ = true;
      log()->warn("[conn {}] more than {} session-state statements to replay: the session now "
                  "stays on the primary",
                  id_, runtime_->config->routing.max_session_history);
    }
    link.history_applied = history_.last_sequence();
  }
  if (!effects_.new_schema.empty()) {
    schema_ = effects_.new_schema;
  }
  if (effects_.pin_to_primary && !pinned_to_primary_) {
    pinned_to_primary_ = true;
    log()->info("[conn {}] a SET with a computed value cannot be replayed on replicas: the "
                "session now stays on the primary",
                id_);
  }
  for (auto& t : effects_.temp_tables_created) {
    temp_tables_.insert(std::move(t));
  }
  for (const auto& t : effects_.tables_dropped) {
    temp_tables_.erase(t);
  }
  if (effects_.table_locks == router::TableLocks::lock) {
    table_locks_ = true;
  } else if (effects_.table_locks == router::TableLocks::unlock) {
    table_locks_ = false;
  }
  if (effects_.prepare_id != 0) {
    PreparedStatement s;
    s.sql = std::move(effects_.prepare_sql);
    s.read = effects_.prepare_read;
    s.num_params = tracker_.summary().num_params;
    s.num_columns = tracker_.summary().num_columns;
    s.backends[current_] = PreparedStatement::OnBackend{prepare_backend_id_, 0};
    statements_.insert(effects_.prepare_id, std::move(s));
  }
  if (effects_.reset_session) {
    reset_session_state();
  }
}

// COM_RESET_CONNECTION succeeded on the current connection: the session's state is gone, and the
// other connections, which still hold it, are dropped.
void ClientSession::reset_session_state() {
  history_.clear();
  statements_.clear();
  temp_tables_.clear();
  table_locks_ = false;
  pinned_to_primary_ = false;
  schema_ = database_;
  for (size_t i = 0; i < links_.size(); ++i) {
    if (i != current_) {
      retire_link(i);
    }
  }
  links_[current_].history_applied = history_.last_sequence();
}

// After a statement on the primary: the GTID of what it wrote, for read-your-writes.
void ClientSession::learn_gtid(const protocol::ResponseSummary& summary) {
  if (effects_.write) {
    has_written_ = true;
  }
  for (const auto& change : summary.session_state_changes) {
    if (change.type != static_cast<uint8_t>(protocol::SessionTrackType::system_variables)) {
      continue;
    }
    auto var = protocol::decode_tracked_variable(change.data);
    if (var && var->name == "last_gtid" && !var->value.empty() && var->value != last_gtid_) {
      last_gtid_ = var->value;
      gtid_unknown_ = false;
      ++write_sequence_;
      return;
    }
  }
  const Link& link = links_[current_];
  if (effects_.write && !in_transaction_ && !summary.error && !link.tracks_gtid) {
    // A write whose GTID the OK could not carry (no session tracking): fetch it before the next
    // replica read. With tracking on, an OK without last_gtid means nothing reached the binlog.
    gtid_unknown_ = true;
    ++write_sequence_;
  }
}

// The topology routing uses for the next command: the health checker's latest snapshot (live
// roles and fitness) when there is one for this config, else the configured roles. A backend
// this worker failed to connect to moments ago is skipped either way.
// The routing view of the backends: with health checks, each backend's live role and fitness,
// found in the snapshot by name (a reload may have moved it); a backend the snapshot does not
// know yet (just added) serves nothing until it has been probed. Without them, the configured
// roles, less the backends this worker recently failed to reach.
void ClientSession::refresh_topology() {
  const auto& backends = runtime_->config->backends;
  const health::SnapshotPtr snapshot = worker_.shared().snapshot();
  topology_.resize(backends.size());
  in_maintenance_.assign(backends.size(), 0);
  const std::string* primary = snapshot ? snapshot->primary_name() : nullptr;
  for (size_t i = 0; i < backends.size(); ++i) {
    router::BackendView& view = topology_[i];
    view.name = backends[i].name;
    view.weight = backends[i].weight;
    const health::BackendHealth* health =
        snapshot ? snapshot->find(backends[i].name, i) : nullptr;
    if (health != nullptr) {
      const bool is_primary = primary != nullptr && *primary == backends[i].name;
      view.role = is_primary ? config::BackendRole::primary : config::BackendRole::replica;
      view.usable = is_primary || health->fit();
      in_maintenance_[i] = health->state == health::BackendState::maintenance;
    } else if (snapshot) {
      view.role = config::BackendRole::replica;
      view.usable = false;
    } else {
      view.role = backends[i].role;
      view.usable = true;
    }
    view.usable = view.usable && !worker_.backend_down(backends[i].name);
  }
}

// Until health checks arrive, a backend that cannot be connected to is skipped for a while.
void ClientSession::mark_backend_down(size_t backend) {
  worker_.mark_backend_down(runtime_->config->backends[backend].name);
  refresh_topology();
}

std::optional<size_t> ClientSession::link_index(const BackendConnection& conn) const {
  for (size_t i = 0; i < links_.size(); ++i) {
    if (links_[i].conn.get() == &conn) {
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace replproxy::proxy
