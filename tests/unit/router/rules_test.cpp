#include "router/rules.h"

#include <gtest/gtest.h>

#include "router/topology.h"

namespace replproxy::router {
namespace {

config::RoutingRule rule(std::optional<std::string> user, std::optional<std::string> schema,
                         std::optional<std::string> match) {
  return {std::move(user), std::move(schema), std::move(match), config::RuleTarget::primary, "", 0};
}

TEST(RuleMatcher, EmptyMatchesNothing) {
  const RuleMatcher rules;
  EXPECT_EQ(rules.size(), 0u);
  EXPECT_EQ(rules.match("app", "shop", "SELECT 1"), std::nullopt);
}

TEST(RuleMatcher, EveryGivenConditionMustHold) {
  auto rules = RuleMatcher::compile({
      rule("report", std::nullopt, std::nullopt),
      rule(std::nullopt, "analytics", "^select"),
      rule("app", "shop", std::nullopt),
  });
  ASSERT_TRUE(rules.has_value()) << rules.error();
  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ(rules->match("report", "", "UPDATE t SET a = 1"), 0u);
  EXPECT_EQ(rules->match("REPORT", "", "SELECT 1"), std::nullopt);  // user names are exact
  EXPECT_EQ(rules->match("x", "analytics", "SELECT 1"), 1u);
  EXPECT_EQ(rules->match("x", "analytics", "UPDATE t"), std::nullopt);
  EXPECT_EQ(rules->match("x", "Analytics", "SELECT 1"), std::nullopt);
  EXPECT_EQ(rules->match("app", "shop", "SELECT 1"), 2u);
  EXPECT_EQ(rules->match("app", "", "SELECT 1"), std::nullopt);
  EXPECT_EQ(rules->rule(1).schema, "analytics");
}

TEST(RuleMatcher, PatternsAreUnanchoredAndCaseInsensitive) {
  auto rules = RuleMatcher::compile({rule(std::nullopt, std::nullopt, "from\\s+reports\\b")});
  ASSERT_TRUE(rules.has_value());
  EXPECT_EQ(rules->match("", "", "SELECT * FROM  Reports WHERE 1"), 0u);
  EXPECT_EQ(rules->match("", "", "SELECT * FROM reports_old"), std::nullopt);
  EXPECT_EQ(rules->match("", "", "SELECT 1 -- from reports\xff\xfe"), 0u);
  EXPECT_EQ(rules->match("", "", std::string_view("from\0reports", 12)), std::nullopt);
}

TEST(RuleMatcher, TheFirstMatchingRuleWins) {
  auto rules = RuleMatcher::compile(
      {rule(std::nullopt, std::nullopt, "a"), rule(std::nullopt, std::nullopt, "a")});
  ASSERT_TRUE(rules.has_value());
  EXPECT_EQ(rules->match("", "", "a"), 0u);
}

TEST(RuleMatcher, InvalidPatternIsAnError) {
  auto rules = RuleMatcher::compile(
      {rule(std::nullopt, std::nullopt, "ok"), rule(std::nullopt, std::nullopt, "(unclosed")});
  ASSERT_FALSE(rules.has_value());
  EXPECT_EQ(rules.error(), "rule 2: missing ): (unclosed");
}

TEST(RuleMatcher, MovesKeepCompiledPatterns) {
  auto compiled = RuleMatcher::compile({rule(std::nullopt, std::nullopt, "x")});
  ASSERT_TRUE(compiled.has_value());
  RuleMatcher moved = std::move(*compiled);
  RuleMatcher assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.match("", "", "xyz"), 0u);
}

TEST(ReplicaBalancer, SmoothWeightedRoundRobin) {
  std::vector<BackendView> backends = {{"p", config::BackendRole::primary, 9, true},
                                       {"a", config::BackendRole::replica, 5, true},
                                       {"b", config::BackendRole::replica, 1, true},
                                       {"c", config::BackendRole::replica, 1, true}};
  ReplicaBalancer balancer;
  std::string order;
  for (int i = 0; i < 7; ++i) {
    order += backends[*balancer.pick({backends})].name;
  }
  EXPECT_EQ(order, "aabacaa");  // nginx's example: never three of a in a row at the start
}

TEST(ReplicaBalancer, SkipsUnusableAndZeroWeightReplicas) {
  std::vector<BackendView> backends = {{"a", config::BackendRole::replica, 1, true},
                                       {"b", config::BackendRole::replica, 0, true},
                                       {"c", config::BackendRole::replica, 1, false}};
  ReplicaBalancer balancer;
  EXPECT_EQ(balancer.pick({backends}), 0u);
  EXPECT_EQ(balancer.pick({backends}), 0u);
  backends[0].usable = false;
  EXPECT_EQ(balancer.pick({backends}), std::nullopt);
  EXPECT_EQ(balancer.pick({}), std::nullopt);
}

TEST(ReplicaBalancer, AdaptsToAChangedTopology) {
  std::vector<BackendView> backends = {{"a", config::BackendRole::replica, 1, true},
                                       {"b", config::BackendRole::replica, 1, true}};
  ReplicaBalancer balancer;
  EXPECT_EQ(balancer.pick({backends}), 0u);
  backends.push_back({"c", config::BackendRole::replica, 1, true});
  EXPECT_EQ(balancer.pick({backends}), 0u);  // restarts from zero
  EXPECT_EQ(balancer.pick({backends}), 1u);
  EXPECT_EQ(balancer.pick({backends}), 2u);
}

TEST(TopologyView, FindsPrimaryAndNames) {
  const std::vector<BackendView> backends = {{"r", config::BackendRole::replica, 1, true},
                                             {"p", config::BackendRole::primary, 1, false}};
  const TopologyView topology{backends};
  EXPECT_EQ(topology.primary(), 1u);
  EXPECT_EQ(topology.find("r"), 0u);
  EXPECT_EQ(topology.find("x"), std::nullopt);
  EXPECT_TRUE(topology.usable(0));
  EXPECT_FALSE(topology.usable(1));
  EXPECT_FALSE(topology.usable(2));
  EXPECT_TRUE(topology.is_replica(0));
  EXPECT_FALSE(topology.is_replica(5));
}

}  // namespace
}  // namespace replproxy::router
