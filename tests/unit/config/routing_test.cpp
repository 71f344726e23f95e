// The [routing] table and [[routing.rules]].

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "tests/unit/config/config_test_util.h"

namespace replproxy::config {
namespace {

using test::errors_of;
using test::kSource;
using test::parse_valid;

// Appended after the text under test, so that its line numbers start at 1.
std::string with_user_and_backends(std::string_view head) {
  return std::string(head) +
         "[[users]]\nname = \"app\"\npassword = \"app\"\n"
         "[[backends]]\nname = \"db1\"\naddress = \"127.0.0.1:3307\"\n"
         "[[backends]]\nname = \"db2\"\naddress = \"127.0.0.1:3308\"\nrole = \"replica\"\n";
}

TEST(RoutingConfig, Defaults) {
  const Config config = parse_valid(with_user_and_backends(""));
  EXPECT_EQ(config.routing.read_fallback, ReadFallback::primary);
  EXPECT_TRUE(config.routing.retry_reads);
  EXPECT_EQ(config.routing.consistency, Consistency::read_your_writes);
  EXPECT_EQ(config.routing.causal_read_timeout_ms, 1000u);
  EXPECT_EQ(config.routing.max_session_history, 64u);
  EXPECT_TRUE(config.routing.rules.empty());
  EXPECT_EQ(parse_valid(with_user_and_backends("[routing]\n")).routing.max_session_history, 64u);
}

constexpr std::string_view kFullRouting = R"([routing]
read_fallback = "error"
retry_reads = false
consistency = "eventual"
causal_read_timeout_ms = 1
max_session_history = 65536
[[routing.rules]]
match = '^SELECT .* FROM reports\b'
target = "replica"

[[routing.rules]]
user = "report"
schema = "analytics"
target = "backend:db2"

[[routing.rules]]
schema = "shop"
target = "primary"
)";

TEST(RoutingConfig, EveryKey) {
  const Config config = parse_valid(with_user_and_backends(kFullRouting));
  const RoutingSection& routing = config.routing;
  EXPECT_EQ(routing.read_fallback, ReadFallback::error);
  EXPECT_FALSE(routing.retry_reads);
  EXPECT_EQ(routing.consistency, Consistency::eventual);
  EXPECT_EQ(routing.causal_read_timeout_ms, 1u);
  EXPECT_EQ(routing.max_session_history, 65536u);
  ASSERT_EQ(routing.rules.size(), 3u);
  const RoutingRule& reports = routing.rules[0];
  EXPECT_EQ(reports.match, "^SELECT .* FROM reports\\b");
  EXPECT_EQ(reports.user, std::nullopt);
  EXPECT_EQ(reports.schema, std::nullopt);
  EXPECT_EQ(reports.target, RuleTarget::replica);
  EXPECT_EQ(reports.line, 7u);
  const RoutingRule& report_user = routing.rules[1];
  EXPECT_EQ(report_user.user, "report");
  EXPECT_EQ(report_user.schema, "analytics");
  EXPECT_EQ(report_user.match, std::nullopt);
  EXPECT_EQ(report_user.target, RuleTarget::backend);
  EXPECT_EQ(report_user.backend, "db2");
  EXPECT_EQ(report_user.line, 11u);
  EXPECT_EQ(routing.rules[2].target, RuleTarget::primary);
  EXPECT_EQ(routing.rules[2].schema, "shop");
}

TEST(RoutingConfig, EveryEnumValue) {
  const std::pair<std::string_view, Consistency> consistencies[] = {
      {"read_your_writes", Consistency::read_your_writes},
      {"eventual", Consistency::eventual},
      {"primary", Consistency::primary}};
  for (const auto& [name, value] : consistencies) {
    const Config config = parse_valid(
        with_user_and_backends("[routing]\nconsistency = \"" + std::string(name) + "\"\n"));
    EXPECT_EQ(config.routing.consistency, value) << name;
  }
  EXPECT_EQ(parse_valid(with_user_and_backends("[routing]\nread_fallback = \"primary\"\n"))
                .routing.read_fallback,
            ReadFallback::primary);
}

TEST(RoutingConfig, RulesWithoutARoutingHeaderAndInline) {
  Config config = parse_valid(
      with_user_and_backends("[[routing.rules]]\nuser = \"app\"\ntarget = \"backend:db1\"\n"));
  ASSERT_EQ(config.routing.rules.size(), 1u);
  EXPECT_EQ(config.routing.rules[0].backend, "db1");
  config = parse_valid(
      with_user_and_backends("routing = { rules = [{ match = \"x\", target = \"primary\" }] }\n"));
  ASSERT_EQ(config.routing.rules.size(), 1u);
  EXPECT_EQ(config.routing.rules[0].match, "x");
}

// The backend a rule names may be defined after the rule.
TEST(RoutingConfig, RuleMayNameABackendDefinedLater) {
  const Config config = parse_valid(
      "[[routing.rules]]\nuser = \"a\"\ntarget = \"backend:late\"\n"
      "[[users]]\nname = \"a\"\npassword = \"a\"\n"
      "[[backends]]\nname = \"late\"\naddress = \"h:1\"\n");
  EXPECT_EQ(config.routing.rules[0].backend, "late");
}

struct RejectCase {
  std::string name;
  std::string text;
  std::vector<std::string> messages;
};

std::vector<RejectCase> routing_table_cases() {
  const auto routing = [](std::string name, std::string lines, std::string message) {
    return RejectCase{std::move(name),
                      with_user_and_backends("[routing]\n" + lines + "\n"),
                      {"test.toml:" + std::move(message)}};
  };
  return {
      {"RoutingNotATable",
       with_user_and_backends("routing = \"primary\"\n"),
       {"test.toml:1: 'routing' must be a table, as in [routing]"}},
      routing("ReadFallbackUnknown", "read_fallback = \"replica\"",
              "2: 'read_fallback' must be one of primary, error; got 'replica'"),
      routing("ReadFallbackNotAString", "read_fallback = false",
              "2: 'read_fallback' must be a string"),
      routing("RetryReadsNotABoolean", "retry_reads = \"yes\"",
              "2: 'retry_reads' must be a boolean (true or false)"),
      routing("ConsistencyUnknown", "consistency = \"strong\"",
              "2: 'consistency' must be one of read_your_writes, eventual, primary; got 'strong'"),
      routing("ConsistencyWrongCase", "consistency = \"Eventual\"",
              "2: 'consistency' must be one of read_your_writes, eventual, primary; got "
              "'Eventual'"),
      routing("CausalReadTimeoutZero", "causal_read_timeout_ms = 0",
              "2: 'causal_read_timeout_ms' must be at least 1, got 0"),
      routing("CausalReadTimeoutNotAnInteger", "causal_read_timeout_ms = \"1s\"",
              "2: 'causal_read_timeout_ms' must be an integer"),
      routing("MaxSessionHistoryZero", "max_session_history = 0",
              "2: 'max_session_history' must be between 1 and 65536, got 0"),
      routing("MaxSessionHistoryTooLarge", "max_session_history = 65537",
              "2: 'max_session_history' must be between 1 and 65536, got 65537"),
      routing("UnknownRoutingKey", "fallback = \"primary\"",
              "2: unknown key 'fallback' in [routing]"),
      routing("RulesNotAnArray", "rules = \"x\"",
              "2: 'rules' must be an array of tables, as in [[routing.rules]]"),
      routing("RuleEntryNotATable", "rules = [\n  1,\n]",
              "3: each entry of 'rules' must be a table"),
      {"RulesSingleTable",
       with_user_and_backends("[routing.rules]\nmatch = \"x\"\ntarget = \"primary\"\n"),
       {"test.toml:1: 'rules' must be an array of tables, as in [[routing.rules]]"}},
  };
}

std::vector<RejectCase> rule_cases() {
  const auto rule = [](std::string name, std::string lines, std::string message) {
    return RejectCase{std::move(name),
                      with_user_and_backends("[[routing.rules]]\n" + lines + "\n"),
                      {"test.toml:" + std::move(message)}};
  };
  const std::string target = "\ntarget = \"primary\"";
  return {
      rule("RuleWithoutTarget", "user = \"app\"",
           "1: missing required key 'target' in [[routing.rules]]"),
      rule("RuleWithoutCondition", "target = \"replica\"",
           "1: a rule needs at least one of 'user', 'schema' or 'match' in [[routing.rules]]"),
      rule("RuleTargetUnknown", "user = \"app\"\ntarget = \"master\"",
           "3: 'target' must be 'primary', 'replica' or 'backend:NAME'; got 'master'"),
      rule("RuleTargetWrongCase", "user = \"app\"\ntarget = \"Primary\"",
           "3: 'target' must be 'primary', 'replica' or 'backend:NAME'; got 'Primary'"),
      rule("RuleTargetBackendWithoutName", "user = \"app\"\ntarget = \"backend:\"",
           "3: 'target' must be 'primary', 'replica' or 'backend:NAME'; got 'backend:'"),
      rule("RuleTargetUnknownBackend", "user = \"app\"\ntarget = \"backend:db9\"",
           "3: 'target' names backend 'db9', which is not defined in [[backends]]"),
      rule("RuleTargetNotAString", "user = \"app\"\ntarget = 1", "3: 'target' must be a string"),
      rule("RuleMatchUnclosedGroup", "match = \"(unclosed\"" + target,
           "2: 'match' is not a valid regular expression '(unclosed': missing ): (unclosed"),
      rule("RuleMatchBadRepetition", "match = 'a**'" + target,
           "2: 'match' is not a valid regular expression 'a**': bad repetition operator: **"),
      rule("RuleMatchBadRange", "match = '[z-a]'" + target,
           "2: 'match' is not a valid regular expression '[z-a]': invalid character class "
           "range: z-a"),
      rule("RuleMatchEmpty", "match = \"\"" + target, "2: 'match' must not be empty"),
      rule("RuleMatchNotAString", "match = 1" + target, "2: 'match' must be a string"),
      rule("RuleUserEmpty", "user = \"\"" + target, "2: 'user' must not be empty"),
      rule("RuleSchemaNotAString", "schema = [\"a\"]" + target, "2: 'schema' must be a string"),
      rule("UnknownRuleKey", "user = \"app\"" + target + "\npriority = 1",
           "4: unknown key 'priority' in [[routing.rules]]"),
  };
}

void PrintTo(const RejectCase& c, std::ostream* out) { *out << c.name; }

std::vector<RejectCase> all_cases() {
  std::vector<RejectCase> all = routing_table_cases();
  for (RejectCase& c : rule_cases()) {
    all.push_back(std::move(c));
  }
  return all;
}

class RoutingConfigRejects : public ::testing::TestWithParam<RejectCase> {};

TEST_P(RoutingConfigRejects, WithExactMessages) {
  EXPECT_EQ(errors_of(GetParam().text), GetParam().messages) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(Rules, RoutingConfigRejects, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(RoutingConfig, ReportsEveryRuleErrorInLineOrder) {
  const std::string text = with_user_and_backends(
      "[routing]\n"                  // 1
      "consistency = \"strong\"\n"   // 2
      "[[routing.rules]]\n"          // 3
      "match = \"(\"\n"              // 4
      "target = \"backend:nope\"\n"  // 5
      "[[routing.rules]]\n"          // 6
      "target = \"replica\"\n");     // 7
  EXPECT_EQ(errors_of(text),
            (std::vector<std::string>{
                "test.toml:2: 'consistency' must be one of read_your_writes, eventual, primary; "
                "got 'strong'",
                "test.toml:4: 'match' is not a valid regular expression '(': missing ): (",
                "test.toml:5: 'target' names backend 'nope', which is not defined in [[backends]]",
                "test.toml:6: a rule needs at least one of 'user', 'schema' or 'match' in "
                "[[routing.rules]]",
            }));
}

}  // namespace
}  // namespace replproxy::config
