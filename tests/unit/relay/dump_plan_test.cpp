#include "relay/dump_plan.h"

#include <gtest/gtest.h>

namespace replproxy::relay {
namespace {

namespace binlog = protocol::binlog;

binlog::GtidPosition pos(std::string_view text) { return *binlog::GtidPosition::parse(text); }

// Three files: the first from the very start, the second from 0-1-10, the third from 0-1-20
// (and domain 1 from 1-2-5 on).
std::vector<StoreFileInfo> files() {
  return {{1, "replproxy-bin.000001", 1000, pos(""), 0},
          {2, "replproxy-bin.000002", 2000, pos("0-1-10"), 0},
          {3, "replproxy-bin.000003", 300, pos("0-1-20,1-2-5"), 0}};
}

TEST(DumpPlan, GtidStateStartsInTheNewestFileItCovers) {
  const auto stored = pos("0-1-25,1-2-7");
  auto plan = plan_gtid_dump("0-1-15", files(), stored);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->file, 2u);
  EXPECT_EQ(plan->offset, 4u);
  EXPECT_TRUE(plan->gtid_mode);
  EXPECT_EQ(plan->state, pos("0-1-15"));

  plan = plan_gtid_dump("0-1-22,1-2-6", files(), stored);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->file, 3u);
  // Domain 1 not applied yet: file 3 starts after 1-2-5, so file 2 is needed.
  plan = plan_gtid_dump("0-1-22", files(), stored);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->file, 2u);
  plan = plan_gtid_dump("", files(), stored);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->file, 1u);
}

TEST(DumpPlan, AReplicaAheadOfTheRelayIsRefused) {
  auto plan = plan_gtid_dump("0-1-30", files(), pos("0-1-25"));
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code, 1236);
  EXPECT_EQ(plan.error().message,
            "Error: connecting slave requested to start from GTID 0-1-30, which is not in the "
            "master's binlog");
}

TEST(DumpPlan, PurgedFilesAreRefused) {
  std::vector<StoreFileInfo> left = files();
  left.erase(left.begin());  // file 1 purged
  auto plan = plan_gtid_dump("0-1-5", left, pos("0-1-25"));
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code, 1236);
  EXPECT_NE(plan.error().message.find("Could not find GTID state requested by slave"),
            std::string::npos);
}

TEST(DumpPlan, MalformedStateIsRefused) {
  auto plan = plan_gtid_dump("0-1", files(), pos("0-1-25"));
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code, 1236);
}

TEST(DumpPlan, AnEmptyStoreWaits) {
  auto plan = plan_gtid_dump("0-1-5", {}, pos(""));
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->file, 0u);
}

TEST(DumpPlan, FileAndPosition) {
  auto plan = plan_file_dump("replproxy-bin.000002", 1500, files());
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->file, 2u);
  EXPECT_EQ(plan->offset, 1500u);
  EXPECT_FALSE(plan->gtid_mode);
  plan = plan_file_dump("./replproxy-bin.000003", 4, files());
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->file, 3u);
  plan = plan_file_dump("", 4, files());
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->file, 1u);

  auto bad = plan_file_dump("mysql-bin.000001", 4, files());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message, "Could not find first log file name in binary log index file");
  bad = plan_file_dump("replproxy-bin.000003", 301, files());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message,
            "Client requested master to start replication from position > file size");
}

}  // namespace
}  // namespace replproxy::relay
