#include "protocol/gtid.h"

#include <gtest/gtest.h>

#include "codec_test_util.h"

namespace replproxy::protocol::binlog {
namespace {

using protocol::test::expect_error;

TEST(Gtid, ParsesAndPrints) {
  struct Case {
    std::string_view text;
    Gtid gtid;
  };
  const Case cases[] = {
      {"0-1-5", {0, 1, 5}},
      {"0-10124-3584", {0, 10124, 3584}},
      {"4294967295-4294967295-18446744073709551615",
       {4294967295u, 4294967295u, 18446744073709551615ull}},
      {"1-2-0", {1, 2, 0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.text));
    auto gtid = parse_gtid(c.text);
    ASSERT_TRUE(gtid.has_value());
    EXPECT_EQ(*gtid, c.gtid);
    EXPECT_EQ(gtid->to_string(), c.text);
  }
}

TEST(Gtid, Failures) {
  for (std::string_view text :
       {"", "0", "0-1", "0-1-", "-1-5", "0--5", "0-1-5-6", "a-1-5", "0-1-5x", " 0-1-5", "0-1-+5",
        "0-1--5", "4294967296-1-5", "0-4294967296-5", "0-1-18446744073709551616"}) {
    SCOPED_TRACE(std::string(text));
    expect_error(parse_gtid(text), CodecErrc::invalid_input);
  }
}

TEST(GtidPosition, ParsesInDomainOrder) {
  auto pos = GtidPosition::parse("1-2-3,0-1-5");
  ASSERT_TRUE(pos.has_value());
  ASSERT_EQ(pos->gtids().size(), 2u);
  EXPECT_EQ(pos->gtids()[0], (Gtid{0, 1, 5}));
  EXPECT_EQ(pos->gtids()[1], (Gtid{1, 2, 3}));
  EXPECT_EQ(pos->to_string(), "0-1-5,1-2-3");
}

TEST(GtidPosition, ToleratesWhitespace) {
  auto pos = GtidPosition::parse("  0-1-5 ,\t1-2-3\n");
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(pos->to_string(), "0-1-5,1-2-3");
}

TEST(GtidPosition, EmptyIsEmpty) {
  for (std::string_view text : {"", "   ", "\n"}) {
    auto pos = GtidPosition::parse(text);
    ASSERT_TRUE(pos.has_value());
    EXPECT_TRUE(pos->empty());
    EXPECT_EQ(pos->to_string(), "");
  }
}

TEST(GtidPosition, Failures) {
  for (std::string_view text :
       {"0-1-5,0-2-6", "0-1-5,", ",0-1-5", "0-1-5,,1-1-1", "0-1-5 1-1-1", "x", "0-1-5;1-1-1"}) {
    SCOPED_TRACE(std::string(text));
    expect_error(GtidPosition::parse(text), CodecErrc::invalid_input);
  }
}

TEST(GtidPosition, UpdateReplacesItsDomain) {
  GtidPosition pos;
  pos.update({2, 1, 10});
  pos.update({0, 1, 5});
  pos.update({1, 3, 7});
  EXPECT_EQ(pos.to_string(), "0-1-5,1-3-7,2-1-10");
  pos.update({1, 4, 8});
  EXPECT_EQ(pos.to_string(), "0-1-5,1-4-8,2-1-10");
  // A lower sequence number replaces too: update() sets, it does not take the maximum.
  pos.update({0, 1, 2});
  EXPECT_EQ(pos.to_string(), "0-1-2,1-4-8,2-1-10");
}

TEST(GtidPosition, FindAndIncludes) {
  auto pos = GtidPosition::parse("0-1-5,1-2-3");
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(pos->find(1), (Gtid{1, 2, 3}));
  EXPECT_FALSE(pos->find(2).has_value());
  EXPECT_TRUE(pos->includes({0, 1, 5}));
  EXPECT_TRUE(pos->includes({0, 9, 4}));  // the server id does not matter
  EXPECT_FALSE(pos->includes({0, 1, 6}));
  EXPECT_FALSE(pos->includes({2, 1, 1}));  // a domain the position has not seen
  EXPECT_FALSE(GtidPosition().includes({0, 1, 0}));
}

TEST(GtidPosition, Equality) {
  EXPECT_EQ(*GtidPosition::parse("1-2-3,0-1-5"), *GtidPosition::parse("0-1-5, 1-2-3"));
  EXPECT_NE(*GtidPosition::parse("0-1-5"), *GtidPosition::parse("0-1-6"));
}

}  // namespace
}  // namespace replproxy::protocol::binlog
