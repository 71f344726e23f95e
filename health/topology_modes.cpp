// topology = "master-master" and topology = "galera": several servers could take writes; the
// proxy sends them to one at a time. The rules are listed at the top of topology.cpp.

#include <algorithm>
#include <iterator>

#include "health/topology_internal.h"

namespace replproxy::health::internal {
namespace {

constexpr uint32_t kGaleraSynced = 4;
constexpr std::string_view kAutoIncrementPrefix = "auto_increment: ";

// Why a master-master server cannot take writes, or "" when it can.
std::string not_writer_reason(const Round& round, size_t i) {
  if (!round.reachable(i)) {
    return "not reachable";
  }
  if (round.maintenance(i)) {
    return "in maintenance";
  }
  return round.writable(i) ? "" : "read-only";
}

struct Writer {
  std::optional<size_t> index;
  std::string reason;
};

// The preferred server (role = "primary") writes while it can. When it comes back after the other
// took over, the other keeps the writes until the preferred one has caught up, that is until it
// was a fit reader in the previous round.
Writer choose_master_master_writer(const Round& round) {
  const size_t preferred = round.configured_primary().value_or(0);
  const std::optional<size_t> before = round.previous_primary();
  const std::string preferred_problem = not_writer_reason(round, preferred);
  if (preferred_problem.empty()) {
    if (before && *before != preferred && not_writer_reason(round, *before).empty() &&
        round.previous_state(preferred) != BackendState::fit) {
      return {before, round.name(preferred) + " is back but has not caught up yet: " +
                          round.name(*before) + " keeps the writes"};
    }
    return {preferred, round.name(preferred) + " is the preferred writer (role = \"primary\")"};
  }
  for (size_t i = 0; i < round.size(); ++i) {
    if (i != preferred && not_writer_reason(round, i).empty()) {
      return {i, round.name(preferred) + " is " + preferred_problem + ": " + round.name(i) +
                     " takes the writes"};
    }
  }
  return {std::nullopt,
          "no backend is reachable, writable and out of maintenance: writes are "
          "refused (" +
              round.name(preferred) + " is " + preferred_problem + ")"};
}

// Two writers must not generate the same auto-increment values. Checked when all servers answer;
// otherwise the previous round's finding stands, so that a restart does not flap the warning.
std::vector<std::string> auto_increment_warnings(const Round& round) {
  std::vector<std::string> warnings;
  for (size_t i = 0; i < round.size(); ++i) {
    if (!round.reachable(i)) {
      if (round.previous() != nullptr) {
        std::ranges::copy_if(
            round.previous()->warnings, std::back_inserter(warnings),
            [](const std::string& w) { return w.starts_with(kAutoIncrementPrefix); });
      }
      return warnings;
    }
  }
  for (size_t i = 0; i < round.size(); ++i) {
    const ProbeResult& probe = round.probe(i);
    if (probe.auto_increment_increment < 2) {
      warnings.push_back(
          std::string(kAutoIncrementPrefix) + round.name(i) +
          " has auto_increment_increment = " + std::to_string(probe.auto_increment_increment) +
          ": both writers can generate the same keys (use 2)");
    }
    for (size_t j = i + 1; j < round.size(); ++j) {
      if (probe.auto_increment_offset == round.probe(j).auto_increment_offset) {
        warnings.push_back(std::string(kAutoIncrementPrefix) + round.name(i) + " and " +
                           round.name(j) + " have the same auto_increment_offset = " +
                           std::to_string(probe.auto_increment_offset) +
                           ": both writers can generate the same keys");
      }
    }
  }
  return warnings;
}

// The non-writer serves reads as a replica of the writer.
Verdict master_master_reader(const Round& round, size_t i, size_t writer) {
  const std::optional<ReplicaStatus>& replica = round.probe(i).replica;
  if (!replica) {
    return {.state = BackendState::stray, .reason = "replicates from no one"};
  }
  const std::optional<size_t> source = find_source(round, i, *replica);
  if (source != writer) {
    const std::string from =
        source ? round.name(*source)
               : config::Address{replica->source_host, replica->source_port}.to_string();
    return {.state = BackendState::stray,
            .reason = "replicates from " + from + ", not from the writer " + round.name(writer)};
  }
  return lag_verdict(round, i, measure_lag(round.probe(i)), round.name(writer));
}

std::string_view galera_state_name(uint32_t state) {
  switch (state) {
    case 1:
      return " (Joining)";
    case 2:
      return " (Donor/Desynced)";
    case 3:
      return " (Joined)";
    default:
      return "";
  }
}

// Why a reachable Galera node cannot serve, as a state and a reason; fit when it can.
Verdict galera_verdict(const ProbeResult& probe) {
  if (!probe.galera) {
    return {.state = BackendState::stray, .reason = "no wsrep status: not a Galera node"};
  }
  const GaleraStatus& galera = *probe.galera;
  if (galera.cluster_status != "Primary") {
    return {.state = BackendState::stray,
            .reason = "wsrep_cluster_status is '" + galera.cluster_status +
                      "': not in the primary component"};
  }
  if (!galera.ready) {
    return {.state = BackendState::lagging, .reason = "wsrep_ready is OFF"};
  }
  if (galera.local_state != kGaleraSynced) {
    return {.state = BackendState::lagging,
            .reason = "wsrep_local_state is " + std::to_string(galera.local_state) +
                      std::string(galera_state_name(galera.local_state)) + ", not 4 (Synced)"};
  }
  if (galera.desync) {
    return {.state = BackendState::lagging, .reason = "wsrep_desync is ON"};
  }
  return {.reason = "synced in the primary component"};
}

// The previous writer while it stays fit (no flapping), else the configured primary, else the fit
// node with the lowest name.
Writer choose_galera_writer(const Round& round, const std::vector<Verdict>& verdicts) {
  const auto eligible = [&](std::optional<size_t> i) {
    return i && round.reachable(*i) && !round.maintenance(*i) &&
           verdicts[*i].state == BackendState::fit;
  };
  if (eligible(round.previous_primary())) {
    return {round.previous_primary(),
            round.name(*round.previous_primary()) + " keeps the writes while it stays synced"};
  }
  if (eligible(round.configured_primary())) {
    return {round.configured_primary(),
            round.name(*round.configured_primary()) + " is the configured primary and synced"};
  }
  std::optional<size_t> lowest;
  for (size_t i = 0; i < round.size(); ++i) {
    if (eligible(i) && (!lowest || round.name(i) < round.name(*lowest))) {
      lowest = i;
    }
  }
  if (!lowest) {
    return {std::nullopt,
            "no Galera node is synced in the primary component and out of "
            "maintenance: writes are refused"};
  }
  return {lowest, round.name(*lowest) + " has the lowest name of the synced nodes"};
}

}  // namespace

ModeDecision decide_master_master(const Round& round) {
  const Writer writer = choose_master_master_writer(round);
  ModeDecision decision{.primary = writer.index,
                        .primary_reason = writer.reason,
                        .verdicts = std::vector<Verdict>(round.size()),
                        .warnings = auto_increment_warnings(round)};
  // Readers follow the writer; without one, the one they would follow.
  const size_t followed = writer.index.value_or(
      round.previous_primary().value_or(round.configured_primary().value_or(0)));
  for (size_t i = 0; i < round.size(); ++i) {
    if (round.reachable(i)) {
      decision.verdicts[i] = i == writer.index ? Verdict{.reason = writer.reason, .writer = true}
                                               : master_master_reader(round, i, followed);
    }
  }
  return decision;
}

ModeDecision decide_galera(const Round& round) {
  ModeDecision decision{.verdicts = std::vector<Verdict>(round.size())};
  for (size_t i = 0; i < round.size(); ++i) {
    if (round.reachable(i)) {
      decision.verdicts[i] = galera_verdict(round.probe(i));
    }
  }
  const Writer writer = choose_galera_writer(round, decision.verdicts);
  decision.primary = writer.index;
  decision.primary_reason = writer.reason;
  if (writer.index) {
    decision.verdicts[*writer.index].writer = true;
  }
  return decision;
}

}  // namespace replproxy::health::internal
