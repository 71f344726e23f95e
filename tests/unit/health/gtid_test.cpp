#include "health/gtid.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace replproxy::health {
namespace {

constexpr std::string_view kUuidA = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
constexpr std::string_view kUuidB = "4f2a7c88-0b1d-11ee-8a6b-0242ac120002";

std::string a(std::string_view rest) { return std::string(kUuidA) + std::string(rest); }
std::string b(std::string_view rest) { return std::string(kUuidB) + std::string(rest); }

TEST(MariadbGtidList, Parses) {
  const auto list = parse_mariadb_gtid_list("0-1-15,1-2-3");
  ASSERT_TRUE(list.has_value()) << list.error();
  EXPECT_EQ(*list, (std::vector<MariadbGtid>{{0, 1, 15}, {1, 2, 3}}));
}

TEST(MariadbGtidList, EmptyAndBlanks) {
  EXPECT_EQ(parse_mariadb_gtid_list("").value(), std::vector<MariadbGtid>{});
  EXPECT_EQ(parse_mariadb_gtid_list(" \n").value(), std::vector<MariadbGtid>{});
  EXPECT_EQ(parse_mariadb_gtid_list(" 0-1-1 ,\n0-2-4294967296 ").value(),
            (std::vector<MariadbGtid>{{0, 1, 1}, {0, 2, 4294967296}}));
  EXPECT_EQ(parse_mariadb_gtid_list("4294967295-4294967295-18446744073709551615").value(),
            (std::vector<MariadbGtid>{{4294967295u, 4294967295u, 18446744073709551615ull}}));
}

TEST(MariadbGtidList, Rejects) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"0-1", "bad MariaDB GTID '0-1': expected DOMAIN-SERVER_ID-SEQUENCE"},
      {"0-1-2-3", "bad MariaDB GTID '0-1-2-3': expected DOMAIN-SERVER_ID-SEQUENCE"},
      {"a-1-1", "bad MariaDB GTID 'a-1-1': expected DOMAIN-SERVER_ID-SEQUENCE"},
      {"0-1-1,", "bad MariaDB GTID '': expected DOMAIN-SERVER_ID-SEQUENCE"},
      {"0--1-1", "bad MariaDB GTID '0--1-1': expected DOMAIN-SERVER_ID-SEQUENCE"},
      {"0-+1-1", "bad MariaDB GTID '0-+1-1': expected DOMAIN-SERVER_ID-SEQUENCE"},
      {"0-4294967296-1", "bad MariaDB GTID '0-4294967296-1': expected DOMAIN-SERVER_ID-SEQUENCE"},
      {"0-1-1 0-2-2", "bad MariaDB GTID '0-1-1 0-2-2': expected DOMAIN-SERVER_ID-SEQUENCE"},
  };
  for (const auto& [text, message] : cases) {
    const auto list = parse_mariadb_gtid_list(text);
    ASSERT_FALSE(list.has_value()) << text;
    EXPECT_EQ(list.error(), message);
  }
}

TEST(MariadbGtid, ToString) { EXPECT_EQ(to_string(MariadbGtid{1, 22, 333}), "1-22-333"); }

TEST(MysqlGtidSet, ParsesAsMysqlPrintsIt) {
  const auto set = parse_mysql_gtid_set(a(":1-5:7-9,\n") + b(":1-3"));
  ASSERT_TRUE(set.has_value()) << set.error();
  EXPECT_EQ(*set, (MysqlGtidSet{{std::string(kUuidA), "", {{1, 5}, {7, 9}}},
                                {std::string(kUuidB), "", {{1, 3}}}}));
}

TEST(MysqlGtidSet, NormalizesCaseOrderAndOverlaps) {
  std::string upper(kUuidB);
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const auto set = parse_mysql_gtid_set(upper + ":7:1-3:4-5:2-4, " + a(":10"));
  ASSERT_TRUE(set.has_value()) << set.error();
  EXPECT_EQ(*set, (MysqlGtidSet{{std::string(kUuidA), "", {{10, 10}}},
                                {std::string(kUuidB), "", {{1, 5}, {7, 7}}}}));
  EXPECT_EQ(to_string(*set), a(":10,") + b(":1-5:7"));
}

TEST(MysqlGtidSet, Tags) {
  const auto set = parse_mysql_gtid_set(a(":1-3:Batch_1:5:7-8,") + a(":other:1"));
  ASSERT_TRUE(set.has_value()) << set.error();
  EXPECT_EQ(*set, (MysqlGtidSet{{std::string(kUuidA), "", {{1, 3}}},
                                {std::string(kUuidA), "batch_1", {{5, 5}, {7, 8}}},
                                {std::string(kUuidA), "other", {{1, 1}}}}));
  EXPECT_EQ(to_string(*set), a(":1-3:batch_1:5:7-8:other:1"));
}

TEST(MysqlGtidSet, Empty) {
  EXPECT_EQ(parse_mysql_gtid_set("").value(), MysqlGtidSet{});
  EXPECT_EQ(parse_mysql_gtid_set("\n").value(), MysqlGtidSet{});
  EXPECT_EQ(to_string(MysqlGtidSet{}), "");
}

TEST(MysqlGtidSet, Rejects) {
  const std::pair<std::string, std::string> cases[] = {
      {"not-a-uuid:1", "bad server UUID 'not-a-uuid' in GTID set"},
      {"3e11fa47x71ca-11e1-9e33-c80aa9429562:1",
       "bad server UUID '3e11fa47x71ca-11e1-9e33-c80aa9429562' in GTID set"},
      {a(""), "no transactions after '" + a("") + "' in GTID set"},
      {a(":tag"), "no transactions after '" + a(":tag") + "' in GTID set"},
      {a(":1:tag"), "no transactions after '" + a(":1:tag") + "' in GTID set"},
      {a(":5-3"), "bad GTID interval '5-3'"},
      {a(":0"), "bad GTID interval '0'"},
      {a(":1-"), "bad GTID interval '1-'"},
      {a(":"), "bad GTID interval ''"},
      {a(":1,"), "bad server UUID '' in GTID set"},
  };
  for (const auto& [text, message] : cases) {
    const auto set = parse_mysql_gtid_set(text);
    ASSERT_FALSE(set.has_value()) << text;
    EXPECT_EQ(set.error(), message);
  }
}

TEST(MysqlGtidSet, Subtract) {
  const auto set = [](std::string text) { return parse_mysql_gtid_set(text).value(); };
  const std::tuple<std::string, std::string, std::string> cases[] = {
      {a(":1-10"), a(":1-10"), ""},
      {a(":1-10"), a(":1-4"), a(":5-10")},
      {a(":1-10"), a(":3-4:8"), a(":1-2:5-7:9-10")},
      {a(":1-10"), a(":5-20"), a(":1-4")},
      {a(":1-10"), b(":1-10"), a(":1-10")},
      {a(":1-3:x:1-3"), a(":1-3"), a(":x:1-3")},
      {a(":1-3,") + b(":4"), "", a(":1-3,") + b(":4")},
      {"", a(":1"), ""},
  };
  for (const auto& [left, right, expected] : cases) {
    EXPECT_EQ(to_string(subtract(set(left), set(right))), expected) << left << " - " << right;
  }
}

struct MariadbErrantCase {
  std::string name;
  std::string primary;
  std::string replica;
  uint32_t replica_server_id;
  std::string errant;
};

TEST(MariadbErrantGtids, Rules) {
  const MariadbErrantCase cases[] = {
      {"Same", "0-1-100", "0-1-100", 2, ""},
      {"BothEmpty", "", "", 2, ""},
      {"ReplicaBehind", "0-1-100", "0-1-90", 2, ""},
      // The primary's probe may be older than the replica's.
      {"ReplicaAheadUnderThePrimarysId", "0-1-100", "0-1-120", 2, ""},
      {"OwnWriteUnknownToThePrimary", "0-1-100", "0-1-100,0-2-101", 2, "0-2-101"},
      {"OwnOldWritesThePrimaryHas", "0-1-300,0-2-101", "0-1-300,0-2-101", 2, ""},
      {"OwnNewerWriteAfterBeingPrimary", "0-1-300,0-2-101", "0-1-300,0-2-301", 2, "0-2-301"},
      {"ForeignServerUnknown", "0-1-100", "0-1-100,0-7-50", 2, "0-7-50"},
      {"ForeignServerAheadIsNotErrant", "0-1-100,0-7-40", "0-1-100,0-7-50", 2, ""},
      {"UnknownDomain", "0-1-100", "0-1-100,5-1-3", 2, "5-1-3"},
      {"Several", "0-1-100", "0-3-7,0-1-100,1-2-4", 2, "0-3-7,1-2-4"},
      {"EmptyPrimary", "", "0-1-5", 2, "0-1-5"},
  };
  for (const MariadbErrantCase& c : cases) {
    const auto errant = mariadb_errant_gtids(c.primary, c.replica, c.replica_server_id);
    ASSERT_TRUE(errant.has_value()) << c.name << ": " << errant.error();
    EXPECT_EQ(*errant, c.errant) << c.name;
  }
}

TEST(MariadbErrantGtids, BadInput) {
  EXPECT_EQ(mariadb_errant_gtids("x", "0-1-1", 2).error(),
            "primary: bad MariaDB GTID 'x': expected DOMAIN-SERVER_ID-SEQUENCE");
  EXPECT_EQ(mariadb_errant_gtids("0-1-1", "0-1", 2).error(),
            "replica: bad MariaDB GTID '0-1': expected DOMAIN-SERVER_ID-SEQUENCE");
}

TEST(MysqlErrantGtids, Rules) {
  const std::tuple<std::string, std::string, std::string, std::string> cases[] = {
      // primary_executed, primary_uuid, replica_executed, errant
      {a(":1-100"), std::string(kUuidA), a(":1-100"), ""},
      {a(":1-100"), std::string(kUuidA), a(":1-90"), ""},
      // The primary's own transactions the replica has and its (older) probe has not.
      {a(":1-100"), std::string(kUuidA), a(":1-120"), ""},
      {a(":1-100"), std::string(kUuidA), a(":1-100,\n") + b(":1-2"), b(":1-2")},
      {a(":1-100,") + b(":1-5"), std::string(kUuidA), a(":1-100,") + b(":1-7"), b(":6-7")},
      {a(":1-100,") + b(":1-5:9"), std::string(kUuidA), b(":1-9"), b(":6-8")},
      // Another server's transactions are errant even when they are a newer range.
      {a(":1-100,") + b(":1-5"), std::string(kUuidB), a(":1-101"), a(":101")},
      {"", std::string(kUuidA), "", ""},
  };
  for (const auto& [primary, uuid, replica, errant] : cases) {
    const auto found = mysql_errant_gtids(primary, uuid, replica);
    ASSERT_TRUE(found.has_value()) << found.error();
    EXPECT_EQ(*found, errant) << primary << " / " << replica;
  }
  std::string upper(kUuidA);
  for (char& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  EXPECT_EQ(mysql_errant_gtids(a(":1-100"), upper, a(":1-120")).value(), "");
}

TEST(MysqlErrantGtids, BadInput) {
  EXPECT_EQ(mysql_errant_gtids("x:1", "", "").error(), "primary: bad server UUID 'x' in GTID set");
  EXPECT_EQ(mysql_errant_gtids("", "", a(":0")).error(), "replica: bad GTID interval '0'");
}

TEST(ErrantGtids, MariadbPrefersBinlogState) {
  ProbeResult primary;
  primary.server_id = 1;
  primary.gtid_binlog_state = "0-1-100,0-2-50";
  primary.gtid_binlog_pos = "0-1-100";
  ProbeResult replica;
  replica.server_id = 3;
  replica.gtid_binlog_state = "0-2-50,0-1-100";
  replica.gtid_binlog_pos = "0-1-100";
  // With gtid_binlog_pos alone, the primary would seem not to know 0-2-50.
  EXPECT_EQ(errant_gtids(primary, replica).value(), "");
  primary.gtid_binlog_state.clear();
  EXPECT_EQ(errant_gtids(primary, replica).value(), "0-2-50");
  EXPECT_EQ(mariadb_gtid_state(primary), "0-1-100");
}

TEST(ErrantGtids, MariadbFallsBackToCurrentPos) {
  ProbeResult primary;
  primary.gtid_current_pos = "0-1-100";
  ProbeResult replica;
  replica.server_id = 3;
  replica.gtid_current_pos = "0-3-101";
  EXPECT_EQ(mariadb_gtid_state(replica), "0-3-101");
  EXPECT_EQ(errant_gtids(primary, replica).value(), "0-3-101");
}

TEST(ErrantGtids, Mysql) {
  ProbeResult primary;
  primary.is_mariadb = false;
  primary.server_uuid = std::string(kUuidA);
  primary.gtid_executed = a(":1-10");
  ProbeResult replica = primary;
  replica.server_uuid = std::string(kUuidB);
  replica.gtid_executed = a(":1-12,\n") + b(":1");
  EXPECT_EQ(errant_gtids(primary, replica).value(), b(":1"));
}

TEST(ErrantGtids, MixedFlavoursAreNotCompared) {
  ProbeResult primary;
  ProbeResult replica;
  replica.is_mariadb = false;
  EXPECT_EQ(errant_gtids(primary, replica).error(),
            "cannot compare the GTIDs of a MariaDB and a MySQL server");
}

}  // namespace
}  // namespace replproxy::health
