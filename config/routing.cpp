// The [routing] table and its [[routing.rules]].

#include <algorithm>

#include "config/rule_pattern.h"
#include "config/sections.h"

namespace replproxy::config {

re2::RE2::Options rule_pattern_options() {
  re2::RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  return options;
}

namespace internal {
namespace {

constexpr EnumName<ReadFallback> kReadFallbacks[] = {
    {"primary", ReadFallback::primary},
    {"error", ReadFallback::error},
};

constexpr EnumName<Consistency> kConsistencies[] = {
    {"read_your_writes", Consistency::read_your_writes},
    {"eventual", Consistency::eventual},
    {"primary", Consistency::primary},
};

// A session that needs more distinct SET targets than this is better pinned to the primary than
// replayed on every new backend connection.
constexpr int64_t kMaxSessionHistory = 65536;

constexpr std::string_view kBackendPrefix = "backend:";

void read_optional(TableReader& reader, std::string_view key, std::optional<std::string>& out) {
  std::string text;
  if (reader.read_non_empty(key, text)) {
    out = std::move(text);
  }
}

void read_pattern(TableReader& reader, RoutingRule& rule) {
  std::string pattern;
  if (!reader.read_non_empty("match", pattern)) {
    return;
  }
  const re2::RE2 compiled(pattern, rule_pattern_options());
  if (!compiled.ok()) {
    reader.error_at("match", "'match' is not a valid regular expression " + quoted(pattern) + ": " +
                                 compiled.error());
    return;
  }
  rule.match = std::move(pattern);
}

// "primary", "replica" or "backend:NAME" where NAME is one of the [[backends]].
void read_target(TableReader& reader, const std::vector<Backend>& backends, RoutingRule& rule) {
  std::string text;
  if (!reader.read("target", text)) {
    return;
  }
  if (text == "primary" || text == "replica") {
    rule.target = text == "primary" ? RuleTarget::primary : RuleTarget::replica;
    return;
  }
  if (!text.starts_with(kBackendPrefix) || text.size() == kBackendPrefix.size()) {
    reader.error_at("target",
                    "'target' must be 'primary', 'replica' or 'backend:NAME'; got " + quoted(text));
    return;
  }
  const std::string name = text.substr(kBackendPrefix.size());
  if (std::ranges::find(backends, name, &Backend::name) == backends.end()) {
    reader.error_at("target", "'target' names backend " + quoted(name) +
                                  ", which is not defined in [[backends]]");
    return;
  }
  rule.target = RuleTarget::backend;
  rule.backend = name;
}

void read_rule(TableReader& reader, const std::vector<Backend>& backends, RoutingRule& rule) {
  rule.line = reader.line();
  read_optional(reader, "user", rule.user);
  read_optional(reader, "schema", rule.schema);
  read_pattern(reader, rule);
  if (!reader.has("user") && !reader.has("schema") && !reader.has("match")) {
    reader.error(reader.line(),
                 "a rule needs at least one of 'user', 'schema' or 'match' in [[routing.rules]]");
  }
  if (reader.require("target")) {
    read_target(reader, backends, rule);
  }
}

void read_rules(TableReader& routing, const std::vector<Backend>& backends,
                std::vector<RoutingRule>& out) {
  const toml::node* node = routing.find("rules");
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    routing.error_at("rules", "'rules' must be an array of tables, as in [[routing.rules]]");
    return;
  }
  for (const toml::node& entry : *array) {
    const toml::table* table = entry.as_table();
    if (table == nullptr) {
      routing.error(entry.source().begin.line, "each entry of 'rules' must be a table");
      continue;
    }
    TableReader reader(*table, "[[routing.rules]]", routing.diagnostics());
    read_rule(reader, backends, out.emplace_back());
    reader.report_unknown_keys();
  }
}

}  // namespace

void read_routing_section(TableReader& top, const std::vector<Backend>& backends,
                          RoutingSection& out) {
  const toml::table* table = top.read_table("routing");
  if (table == nullptr) {
    return;
  }
  TableReader reader(*table, "[routing]", top.diagnostics());
  read_enum(reader, "read_fallback", kReadFallbacks, out.read_fallback);
  reader.read("retry_reads", out.retry_reads);
  read_enum(reader, "consistency", kConsistencies, out.consistency);
  reader.read("causal_read_timeout_ms", out.causal_read_timeout_ms, 1, kU32Max);
  reader.read("max_session_history", out.max_session_history, 1, kMaxSessionHistory);
  read_rules(reader, backends, out.rules);
  reader.report_unknown_keys();
}

}  // namespace internal
}  // namespace replproxy::config
