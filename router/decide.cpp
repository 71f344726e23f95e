#include "router/decide.h"

namespace replproxy::router {
namespace {

constexpr std::string_view kGeneralState = "HY000";

Target make_error(uint16_t code, std::string_view sql_state, std::string_view message) {
  Target target;
  target.kind = Target::Kind::error;
  target.error_code = code;
  target.sql_state = sql_state;
  target.message = message;
  return target;
}

Target make_target(Target::Kind kind, size_t backend) {
  Target target;
  target.kind = kind;
  target.backend = backend;
  return target;
}

// Transaction statements that belong to the transaction they are in: inside a read-only
// transaction they run on its replica.
bool continues_transaction(const Classification& statement) {
  if (statement.reason != Reason::transaction_control || statement.statement_count != 1) {
    return false;
  }
  switch (statement.transaction) {
    case TransactionEffect::commit:
    case TransactionEffect::rollback:
    case TransactionEffect::savepoint:
    case TransactionEffect::release_savepoint:
    case TransactionEffect::rollback_to_savepoint:
      return true;
    default:
      return false;
  }
}

class Decider {
 public:
  Decider(const Classification& statement, const SessionView& session, const TopologyView& topology,
          const config::RoutingSection& routing, ReplicaBalancer& balancer)
      : statement_(statement),
        session_(session),
        topology_(topology),
        routing_(routing),
        balancer_(balancer) {}

  Target decide(const RuleMatcher& rules);

 private:
  std::optional<Target> session_bound();
  Target in_read_only_transaction(size_t replica);
  Target explicit_route(config::RuleTarget route, std::string_view backend_name);
  Target automatic();
  Target primary();
  Target write_kept_on_primary();
  Target read();
  Target fallback();
  Target where_last_ran();
  Target last_insert_id();
  Target session_state();
  bool replayable_session_state() const;
  Target at(size_t backend);
  bool causal_reads() const {
    return routing_.consistency == config::Consistency::read_your_writes;
  }

  const Classification& statement_;
  const SessionView& session_;
  const TopologyView& topology_;
  const config::RoutingSection& routing_;
  ReplicaBalancer& balancer_;
};

Target Decider::decide(const RuleMatcher& rules) {
  const RouteHint& hint = statement_.hint;
  if (hint.route == HintRoute::primary || hint.route == HintRoute::replica ||
      hint.route == HintRoute::backend) {
    const auto route = hint.route == HintRoute::primary   ? config::RuleTarget::primary
                       : hint.route == HintRoute::replica ? config::RuleTarget::replica
                                                          : config::RuleTarget::backend;
    Target target = explicit_route(route, hint.backend);
    target.source = Target::Source::hint;
    return target;
  }
  if (std::optional<Target> bound = session_bound()) {
    return *bound;
  }
  if (const auto index = rules.match(session_.user, session_.schema, statement_.statement_text)) {
    const config::RoutingRule& rule = rules.rule(*index);
    Target target = explicit_route(rule.target, rule.backend);
    target.source = Target::Source::rule;
    target.rule = *index;
    return target;
  }
  return automatic();
}

// A backend connection that holds the session's transaction or locks keeps its statements.
std::optional<Target> Decider::session_bound() {
  if (session_.read_only_transaction_on) {
    return in_read_only_transaction(*session_.read_only_transaction_on);
  }
  if (session_.in_transaction || !session_.autocommit || session_.holds_table_locks ||
      session_.pinned_to_primary) {
    return primary();
  }
  return std::nullopt;
}

Target Decider::in_read_only_transaction(size_t replica) {
  if (!statement_.is_read() && !continues_transaction(statement_)) {
    return write_kept_on_primary();
  }
  if (!topology_.usable(replica)) {
    return make_error(route_error::kTransactionLost, "40001",
                      "replproxy: the replica running this READ ONLY transaction is no longer "
                      "usable; restart the transaction");
  }
  return make_target(Target::Kind::replica, replica);
}

// A hint's or rule's destination. Only reads may go to a replica; an unusable or unknown
// backend falls back as a read without replicas does (a write to the primary).
Target Decider::explicit_route(config::RuleTarget route, std::string_view backend_name) {
  switch (route) {
    case config::RuleTarget::primary:
      return primary();
    case config::RuleTarget::replica:
      return statement_.is_read() ? read() : write_kept_on_primary();
    case config::RuleTarget::backend:
      break;
  }
  const std::optional<size_t> backend = topology_.find(backend_name);
  if (!backend || !topology_.usable(*backend)) {
    return statement_.is_read() ? fallback() : primary();
  }
  if (topology_.is_replica(*backend) && !statement_.is_read()) {
    return write_kept_on_primary();
  }
  Target target = make_target(Target::Kind::backend, *backend);
  target.causal_read = causal_reads() && topology_.is_replica(*backend);
  return target;
}

Target Decider::automatic() {
  if (!statement_.is_read()) {
    return statement_.uses_last_insert_id ? last_insert_id() : primary();
  }
  if (session_.has_temp_tables) {
    return primary();  // a replica does not have them
  }
  if (statement_.follows_previous_statement()) {
    return where_last_ran();
  }
  if (statement_.session_state) {
    return session_state();
  }
  if (routing_.consistency == config::Consistency::primary && session_.has_written) {
    return primary();
  }
  return read();
}

Target Decider::primary() {
  const std::optional<size_t> primary = topology_.primary();
  if (!primary || !topology_.usable(*primary)) {
    return make_error(route_error::kNoPrimary, kGeneralState,
                      "replproxy: no primary is usable for this statement");
  }
  return make_target(Target::Kind::primary, *primary);
}

Target Decider::write_kept_on_primary() {
  Target target = primary();
  target.write_kept_on_primary = !target.is_error();
  return target;
}

// A read of data on a replica; with read_your_writes it first waits for the session's writes.
// (Statements that follow the previous one or only set session state never wait: a wait in
// between would change what they read, or is not needed.)
Target Decider::read() {
  if (const std::optional<size_t> replica = balancer_.pick(topology_)) {
    Target target = make_target(Target::Kind::replica, *replica);
    target.causal_read = causal_reads();
    return target;
  }
  return fallback();
}

Target Decider::fallback() {
  if (routing_.read_fallback == config::ReadFallback::error) {
    return make_error(route_error::kNoReplica, kGeneralState,
                      "replproxy: no replica is usable for this read (read_fallback = \"error\")");
  }
  Target target = primary();
  target.fallback = target.kind == Target::Kind::primary;
  return target;
}

// FOUND_ROWS(), ROW_COUNT() and diagnostics describe the previous statement of the connection
// that ran it; with no usable previous backend there is nothing right to read, and the primary
// is as good as any.
Target Decider::where_last_ran() {
  if (session_.last_backend && topology_.usable(*session_.last_backend)) {
    return at(*session_.last_backend);
  }
  return primary();
}

// The session's inserts ran on the primary, unless a hint or rule sent the last statement to
// another backend that takes writes; a replica's value would never be the session's.
Target Decider::last_insert_id() {
  const std::optional<size_t> last = session_.last_backend;
  if (last && topology_.usable(*last) && !topology_.is_replica(*last)) {
    return at(*last);
  }
  return primary();
}

// SET and USE run where the session is (the caller replays them on its other connections), so
// that a session that only reads never needs the primary for them. They never fail for want of
// a replica. State that cannot be replayed (SET @t = NOW(), or SET inside a multi-statement)
// pins the session to the primary, so it must be set there in the first place.
Target Decider::session_state() {
  if (!replayable_session_state()) {
    return primary();
  }
  if (session_.last_backend && topology_.usable(*session_.last_backend)) {
    return at(*session_.last_backend);
  }
  if (const std::optional<size_t> replica = balancer_.pick(topology_)) {
    return make_target(Target::Kind::replica, *replica);
  }
  return primary();
}

bool Decider::replayable_session_state() const {
  if (statement_.statement_count > 1) {
    return false;
  }
  for (const SetTarget& t : statement_.set_targets) {
    if (!t.constant_value) {
      return false;
    }
  }
  return true;
}

Target Decider::at(size_t backend) {
  if (topology_.primary() == backend) {
    return make_target(Target::Kind::primary, backend);
  }
  return make_target(topology_.is_replica(backend) ? Target::Kind::replica : Target::Kind::backend,
                     backend);
}

}  // namespace

Target decide(const Classification& statement, const SessionView& session,
              const TopologyView& topology, const config::RoutingSection& routing,
              const RuleMatcher& rules, ReplicaBalancer& balancer) {
  return Decider(statement, session, topology, routing, balancer).decide(rules);
}

}  // namespace replproxy::router
