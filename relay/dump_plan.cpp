#include "relay/dump_plan.h"

namespace replproxy::relay {
namespace {

namespace binlog = protocol::binlog;

DumpRefusal refuse(std::string message) { return {kFatalErrorReadingBinlog, std::move(message)}; }

// True when a replica at `state` has every transaction before a file starting at `start`.
bool covers(const binlog::GtidPosition& state, const binlog::GtidPosition& start) {
  for (const binlog::Gtid& g : start.gtids()) {
    if (!state.includes(g)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::expected<DumpPlan, DumpRefusal> plan_gtid_dump(std::string_view connect_state,
                                                    const std::vector<StoreFileInfo>& files,
                                                    const binlog::GtidPosition& stored) {
  auto state = binlog::GtidPosition::parse(connect_state);
  if (!state) {
    return std::unexpected(refuse("Failed to parse the GTID position '" +
                                  std::string(connect_state) + "' sent by the slave"));
  }
  for (const binlog::Gtid& g : state->gtids()) {
    auto have = stored.find(g.domain_id);
    if (have && have->seq_no < g.seq_no) {
      return std::unexpected(
          refuse("Error: connecting slave requested to start from GTID " + g.to_string() +
                 ", which is not in the master's binlog"));
    }
  }
  DumpPlan plan;
  plan.gtid_mode = true;
  plan.state = *state;
  if (files.empty()) {
    return plan;  // nothing stored yet: the dump waits for the first file
  }
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    if (covers(*state, it->start)) {
      plan.file = it->number;
      return plan;
    }
  }
  return std::unexpected(
      refuse("Could not find GTID state requested by slave in any binlog files. Probably the "
             "slave state is too old and required binlog files have been purged."));
}

std::expected<DumpPlan, DumpRefusal> plan_file_dump(std::string_view file, uint64_t position,
                                                    const std::vector<StoreFileInfo>& files) {
  if (const size_t slash = file.rfind('/'); slash != std::string_view::npos) {
    file = file.substr(slash + 1);
  }
  DumpPlan plan;
  plan.offset = position < 4 ? 4 : position;
  if (file.empty()) {
    if (!files.empty()) {
      plan.file = files.front().number;
    }
    plan.offset = 4;
    return plan;
  }
  for (const StoreFileInfo& f : files) {
    if (f.name == file) {
      if (plan.offset > f.size) {
        return std::unexpected(
            refuse("Client requested master to start replication from position > file size"));
      }
      plan.file = f.number;
      return plan;
    }
  }
  return std::unexpected(refuse("Could not find first log file name in binary log index file"));
}

}  // namespace replproxy::relay
