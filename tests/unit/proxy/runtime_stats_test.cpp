#include <gtest/gtest.h>

#include "proxy/runtime.h"

namespace replproxy::proxy {
namespace {

uint64_t value_of(const std::vector<StatValue>& values, std::string_view name) {
  for (const StatValue& v : values) {
    if (v.name == name) {
      return v.value;
    }
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}

TEST(WorkerStatsTotals, SumsEveryWorkerByName) {
  WorkerStats first;
  WorkerStats second;
  bump(first.queries, 3);
  bump(second.queries, 4);
  bump(second.reads_rerouted);
  bump(first.causal_read_waits, 2);
  std::vector<StatValue> totals = stat_values(WorkerStats{});
  add_stats(first, totals);
  add_stats(second, totals);
  EXPECT_EQ(totals.size(), 13u);
  EXPECT_EQ(totals.front().name, "connections_accepted");
  EXPECT_EQ(value_of(totals, "queries"), 7u);
  EXPECT_EQ(value_of(totals, "reads_rerouted"), 1u);
  EXPECT_EQ(value_of(totals, "causal_read_waits"), 2u);
  EXPECT_EQ(value_of(totals, "reads_retried"), 0u);
}

TEST(WorkerStatsTotals, AddToEmptyCopies) {
  WorkerStats stats;
  bump(stats.bytes_to_clients, 10);
  std::vector<StatValue> totals;
  add_stats(stats, totals);
  EXPECT_EQ(value_of(totals, "bytes_to_clients"), 10u);
}

}  // namespace
}  // namespace replproxy::proxy
