#include "health/snapshot.h"

#include <gtest/gtest.h>

namespace replproxy::health {
namespace {

TEST(SnapshotFind, ByNameWhateverTheIndex) {
  Snapshot s;
  s.backends = {{.name = "db1"}, {.name = "db2"}};
  s.primary = 1;
  EXPECT_EQ(s.find("db2", 1), &s.backends[1]);  // the hint is right
  EXPECT_EQ(s.find("db2", 0), &s.backends[1]);  // a reload moved it
  EXPECT_EQ(s.find("db1"), &s.backends[0]);
  EXPECT_EQ(s.find("db3", 0), nullptr);  // added by a reload, not probed yet
  ASSERT_NE(s.primary_name(), nullptr);
  EXPECT_EQ(*s.primary_name(), "db2");
  s.primary.reset();
  EXPECT_EQ(s.primary_name(), nullptr);
  s.primary = 7;  // out of range: no primary rather than a bad read
  EXPECT_EQ(s.primary_name(), nullptr);
}

}  // namespace
}  // namespace replproxy::health
