#pragma once

// The [[routing.rules]] of the configuration, with their patterns compiled once (RE2). Matching
// is const and RE2 is thread-safe for matching, so one RuleMatcher serves every worker.

#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace re2 {
class RE2;
}

namespace replproxy::router {

class RuleMatcher {
 public:
  // Compiles every rule's pattern; an invalid one (config/ rejects them at load, so only for
  // hand-made rules) gives "rule N: RE2's message".
  static std::expected<RuleMatcher, std::string> compile(std::vector<config::RoutingRule> rules);

  RuleMatcher();  // no rules
  RuleMatcher(RuleMatcher&&) noexcept;
  RuleMatcher& operator=(RuleMatcher&&) noexcept;
  ~RuleMatcher();

  // The index of the first rule whose conditions all hold: `user` and `schema` compared exactly,
  // `match` searched in `statement_text` (Classification::statement_text).
  std::optional<size_t> match(std::string_view user, std::string_view schema,
                              std::string_view statement_text) const;

  const config::RoutingRule& rule(size_t index) const { return rules_[index]; }
  size_t size() const { return rules_.size(); }

 private:
  std::vector<config::RoutingRule> rules_;
  std::vector<std::unique_ptr<re2::RE2>> patterns_;  // null for rules without `match`
};

}  // namespace replproxy::router
