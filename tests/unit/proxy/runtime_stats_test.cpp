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
  EXPECT_EQ(totals.size(), 20u);
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

TEST(WorkerStatsLatency, BucketsByUpperBound) {
  WorkerStats first;
  WorkerStats second;
  first.observe_latency(50'000);          // 50 us: the first bucket (<= 100 us)
  first.observe_latency(100'000);         // exactly the bound: still the first
  second.observe_latency(1'500'000);      // 1.5 ms: (1 ms, 2.5 ms]
  second.observe_latency(60'000'000'000);  // a minute: above every bound
  admin::LatencyHistogram histogram;
  add_latency(first, histogram);
  add_latency(second, histogram);
  ASSERT_EQ(histogram.bounds_seconds.size(), 16u);
  ASSERT_EQ(histogram.counts.size(), 17u);
  EXPECT_EQ(histogram.counts[0], 2u);
  EXPECT_EQ(histogram.counts[4], 1u);
  EXPECT_EQ(histogram.counts[16], 1u);
  EXPECT_EQ(histogram.count, 4u);
  EXPECT_NEAR(histogram.sum_seconds, 60.00165, 1e-9);
}

TEST(BackendCounterTable, SumsByNameAcrossWorkers) {
  BackendCounterTable first;
  BackendCounterTable second;
  BackendCounters& a = first.get("db2");
  EXPECT_EQ(&a, &first.get("db2"));  // the same entry: sessions keep a pointer to it
  bump(a.queries[static_cast<size_t>(admin::Route::replica)], 3);
  a.connections.fetch_add(2);
  BackendCounters& b = second.get("db2");
  bump(b.queries[static_cast<size_t>(admin::Route::replica)]);
  bump(b.errors);
  bump(second.get("db1").queries[static_cast<size_t>(admin::Route::primary)], 5);
  std::map<std::string, BackendCounterTable::Totals, std::less<>> totals;
  first.add_to(totals);
  second.add_to(totals);
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals["db2"].queries[static_cast<size_t>(admin::Route::replica)], 4u);
  EXPECT_EQ(totals["db2"].errors, 1u);
  EXPECT_EQ(totals["db2"].connections, 2);
  EXPECT_EQ(totals["db1"].queries[static_cast<size_t>(admin::Route::primary)], 5u);
}

}  // namespace
}  // namespace replproxy::proxy
