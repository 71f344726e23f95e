#pragma once

// The admin commands' result sets, built as plain tables from plain inputs (the config, the
// health snapshot, summed counters), so that their rows are unit-tested without a socket.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "health/snapshot.h"
#include "protocol/resultset.h"

namespace replproxy::admin {

struct Table {
  std::vector<std::string> columns;
  std::vector<protocol::TextRow> rows;
};

struct Stat {
  std::string name;
  uint64_t value = 0;
};

// SHOW BACKENDS: one row per configured backend. `snapshot` is null without [health] (or before
// its first round): roles then come from the config and the state is 'unknown'.
Table backends_table(const config::Config& config, const health::Snapshot* snapshot);
// SHOW STATS [LIKE 'pattern']: name/value rows, in the order given; "" matches every name.
Table stats_table(const std::vector<Stat>& stats, std::string_view pattern);
// SHOW CONFIG: key/value rows of the effective config; passwords are shown as '****'.
Table config_table(const config::Config& config);
// SHOW VERSION.
Table version_table(std::string_view version);
// The answer to SELECT @@version_comment.
Table version_comment_table(std::string_view version);

// Microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC).
std::string iso_time(int64_t epoch_us);

}  // namespace replproxy::admin
