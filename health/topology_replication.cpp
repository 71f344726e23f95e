// topology = "replication": the primary is the root of the replication chains (reachable,
// writable, replicating from no configured backend); replicas, and replicas of replicas, follow it.
// The rules are listed at the top of topology.cpp.

#include <algorithm>

#include "health/gtid.h"
#include "health/topology_internal.h"

namespace replproxy::health::internal {
namespace {

struct Links {
  std::vector<std::optional<size_t>> source;  // the configured backend each one replicates from
  // Reachable, writable and not replicating from a configured backend: could be the primary. A
  // server whose replication threads are both stopped (STOP SLAVE) replicates from no one.
  std::vector<bool> candidate;
};

Links find_links(const Round& round) {
  Links links{std::vector<std::optional<size_t>>(round.size()), std::vector<bool>(round.size())};
  for (size_t i = 0; i < round.size(); ++i) {
    if (!round.reachable(i)) {
      continue;
    }
    const std::optional<ReplicaStatus>& replica = round.probe(i).replica;
    if (replica) {
      links.source[i] = find_source(round, i, *replica);
    }
    const bool replicating = links.source[i] && (replica->io_running || replica->sql_running);
    links.candidate[i] = round.writable(i) && !replicating;
  }
  return links;
}

struct Choice {
  std::optional<size_t> primary;
  std::optional<size_t> root;  // the chosen backend even when maintenance keeps it from writes
  std::string reason;
  std::string warning;
};

Choice choose_among(const Round& round, const std::vector<size_t>& candidates) {
  if (candidates.size() == 1) {
    return {candidates[0], candidates[0],
            round.name(candidates[0]) +
                " is the only writable backend that replicates from no other backend",
            ""};
  }
  if (candidates.empty()) {
    return {std::nullopt, std::nullopt,
            "no reachable backend is writable and replicates from no other backend: writes are "
            "refused",
            ""};
  }
  const std::string who = name_list(round, candidates);
  Choice choice{.warning = "split brain: " + who +
                           " are all writable and replicate from no other backend"};
  const auto among = [&](std::optional<size_t> i) {
    return i && std::ranges::find(candidates, *i) != candidates.end();
  };
  if (among(round.previous_primary())) {
    choice.primary = round.previous_primary();
    choice.reason = "split brain: keeping " + round.name(*choice.primary) + ", the primary before";
  } else if (among(round.configured_primary())) {
    choice.primary = round.configured_primary();
    choice.reason =
        "split brain: using " + round.name(*choice.primary) + ", the configured primary";
  } else {
    choice.reason = "split brain: none of " + who +
                    " was the primary before or is configured as primary: writes are refused";
  }
  choice.root = choice.primary;
  return choice;
}

// True when a writable backend and its source replicate from each other: master-master, which
// this mode cannot choose a writer for.
bool has_circular_writer(const Round& round, const Links& links) {
  for (size_t i = 0; i < round.size(); ++i) {
    const std::optional<size_t> source = links.source[i];
    if (round.reachable(i) && round.writable(i) && source && links.source[*source] == i) {
      return true;
    }
  }
  return false;
}

Choice choose_primary(const Round& round, const Links& links) {
  std::vector<size_t> candidates;
  for (size_t i = 0; i < round.size(); ++i) {
    if (links.candidate[i]) {
      candidates.push_back(i);
    }
  }
  Choice choice = choose_among(round, candidates);
  if (choice.primary && round.maintenance(*choice.primary)) {
    choice.reason = round.name(*choice.primary) +
                    " would be the primary but is in maintenance: writes are refused";
    choice.primary.reset();
  }
  if (candidates.empty() && has_circular_writer(round, links)) {
    choice.reason += " (backends replicate from each other: use topology = \"master-master\")";
  }
  return choice;
}

// Where the chain of sources above `i` ends: at `reference`, at a backend replicating from no
// configured backend, or at an unreachable backend (whose own source is unknown).
struct Chain {
  std::optional<size_t> end;
  bool unreachable = false;
  bool circular = false;
};

Chain follow_chain(const Round& round, const Links& links, size_t i,
                   std::optional<size_t> reference) {
  size_t at = *links.source[i];
  for (size_t steps = 0; steps <= round.size(); ++steps) {
    if (at == i) {
      break;
    }
    if (at == reference || !round.reachable(at) || !links.source[at]) {
      return {at, !round.reachable(at) && at != reference, false};
    }
    at = *links.source[at];
  }
  return {std::nullopt, false, true};
}

std::string not_primary_reason(const Round& round, size_t source, const Chain& chain,
                               std::optional<size_t> reference) {
  const std::string head = "replicates from " + round.name(source);
  if (chain.circular) {
    return head + ", in a circle of sources that never reaches the primary";
  }
  if (!reference) {
    return head + ", but there is no primary";
  }
  if (*chain.end == source) {
    return head + ", not from the primary " + round.name(*reference);
  }
  return head + ", whose chain of sources ends at " + round.name(*chain.end) +
         ", not at the primary " + round.name(*reference);
}

// Why `i` is not a replica of the primary (state stray), or nullopt when it is one.
std::optional<std::string> stray_reason(const Round& round, const Links& links, size_t i,
                                        std::optional<size_t> primary,
                                        std::optional<size_t> reference) {
  if (links.candidate[i]) {
    return "writable and replicates from no other backend while " +
           (primary ? round.name(*primary) + " is the primary"
                    : std::string("there is no primary"));
  }
  const std::optional<ReplicaStatus>& replica = round.probe(i).replica;
  if (!replica) {
    return "read-only and replicates from no one";
  }
  if (!links.source[i]) {
    return "replicates from " +
           config::Address{replica->source_host, replica->source_port}.to_string() +
           ", which is not a configured backend";
  }
  const Chain chain = follow_chain(round, links, i, reference);
  if (chain.circular || !reference || (*chain.end != *reference && !chain.unreachable)) {
    return not_primary_reason(round, *links.source[i], chain, reference);
  }
  return std::nullopt;
}

// i's lag behind the primary. A heartbeat lag is already that; Seconds_Behind_Master only measures
// the distance to the direct source, so along a chain the upstream replicas' lags are added.
Lag chain_lag(const Round& round, const Links& links, size_t i, size_t reference) {
  Lag lag = measure_lag(round.probe(i));
  size_t at = i;
  for (size_t steps = 0; steps < round.size() && lag.ms && lag.source == LagSource::seconds_behind;
       ++steps) {
    if (!links.source[at] || *links.source[at] == reference) {
      break;
    }
    at = *links.source[at];
    if (!round.reachable(at)) {
      return {.unknown_reason = "lag unknown: upstream " + round.name(at) + " is not reachable"};
    }
    const Lag upstream = measure_lag(round.probe(at));
    if (!upstream.ms) {
      return {.unknown_reason =
                  "lag unknown: upstream " + round.name(at) + ": " + upstream.unknown_reason};
    }
    lag.ms = *lag.ms + *upstream.ms;
    if (upstream.source == LagSource::heartbeat) {
      break;
    }
  }
  return lag;
}

// Compares i's GTIDs with the primary's. When the primary cannot be probed, errant GTIDs found
// before are kept: they do not go away by themselves.
void check_errant(const Round& round, size_t i, std::optional<size_t> reference, Verdict& verdict) {
  std::string gtids;
  std::string note;
  if (reference && round.reachable(*reference)) {
    const auto found = errant_gtids(round.probe(*reference), round.probe(i));
    if (!found) {
      verdict.reason += "; GTIDs not compared: " + found.error();
      return;
    }
    gtids = *found;
  } else if (const BackendHealth* before = round.previous(i); before != nullptr) {
    gtids = before->errant_gtids;
    note = " (not rechecked: the primary is not reachable)";
  }
  if (gtids.empty()) {
    return;
  }
  verdict.errant_gtids = gtids;
  if (!round.health().exclude_errant) {
    verdict.reason += "; errant GTIDs " + gtids + " (exclude_errant = false)";
    return;
  }
  verdict.state = BackendState::errant;
  verdict.reason = "errant GTIDs " + gtids + ": transactions the primary does not have" + note +
                   "; " + verdict.reason;
}

Verdict evaluate_replica(const Round& round, const Links& links, size_t i,
                         std::optional<size_t> primary, std::optional<size_t> reference) {
  if (auto reason = stray_reason(round, links, i, primary, reference)) {
    return {.state = BackendState::stray, .reason = std::move(*reason)};
  }
  const size_t source = *links.source[i];
  Verdict verdict =
      lag_verdict(round, i, chain_lag(round, links, i, *reference), round.name(source));
  check_errant(round, i, reference, verdict);
  if (round.writable(i)) {
    verdict.reason += "; read_only is OFF";
  }
  return verdict;
}

}  // namespace

ModeDecision decide_replication(const Round& round) {
  const Links links = find_links(round);
  Choice choice = choose_primary(round, links);
  ModeDecision decision{.primary = choice.primary,
                        .primary_reason = choice.reason,
                        .verdicts = std::vector<Verdict>(round.size())};
  if (!choice.warning.empty()) {
    decision.warnings.push_back(choice.warning);
  }
  // Replicas are judged against the primary; without one, against the last known or configured
  // primary, so that a moment without a writable primary does not make every replica stray.
  std::optional<size_t> reference = choice.root;
  if (!reference) {
    reference = round.previous_primary() ? round.previous_primary() : round.configured_primary();
  }
  for (size_t i = 0; i < round.size(); ++i) {
    if (!round.reachable(i)) {
      continue;
    }
    if (i == choice.root) {
      decision.verdicts[i] = {.reason = choice.reason, .writer = true};
    } else {
      decision.verdicts[i] = evaluate_replica(round, links, i, choice.primary, reference);
    }
  }
  return decision;
}

}  // namespace replproxy::health::internal
