#include "router/rules.h"

#include <re2/re2.h>

#include "config/rule_pattern.h"

namespace replproxy::router {

RuleMatcher::RuleMatcher() = default;
RuleMatcher::RuleMatcher(RuleMatcher&&) noexcept = default;
RuleMatcher& RuleMatcher::operator=(RuleMatcher&&) noexcept = default;
RuleMatcher::~RuleMatcher() = default;

std::expected<RuleMatcher, std::string> RuleMatcher::compile(
    std::vector<config::RoutingRule> rules) {
  RuleMatcher matcher;
  for (size_t i = 0; i < rules.size(); ++i) {
    std::unique_ptr<re2::RE2> pattern;
    if (rules[i].match) {
      pattern = std::make_unique<re2::RE2>(*rules[i].match, config::rule_pattern_options());
      if (!pattern->ok()) {
        return std::unexpected("rule " + std::to_string(i + 1) + ": " + pattern->error());
      }
    }
    matcher.patterns_.push_back(std::move(pattern));
  }
  matcher.rules_ = std::move(rules);
  return matcher;
}

std::optional<size_t> RuleMatcher::match(std::string_view user, std::string_view schema,
                                         std::string_view statement_text) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const config::RoutingRule& rule = rules_[i];
    if ((rule.user && *rule.user != user) || (rule.schema && *rule.schema != schema)) {
      continue;
    }
    if (patterns_[i] != nullptr &&
        !re2::RE2::PartialMatch(re2::StringPiece(statement_text.data(), statement_text.size()),
                                *patterns_[i])) {
      continue;
    }
    return i;
  }
  return std::nullopt;
}

}  // namespace replproxy::router
