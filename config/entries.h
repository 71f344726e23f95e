#pragma once

// Arrays of tables ([[users]], [[backends]], [[relay.users]], ...): reading each entry with its
// own TableReader, and reporting a name used twice (internal to config/).

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "config/table_reader.h"

namespace replproxy::config::internal {

// Names seen so far in one array, with the line of each, to report the second use of a name.
class UniqueNames {
 public:
  explicit UniqueNames(std::string kind) : kind_(std::move(kind)) {}

  void add(TableReader& reader, const std::string& name) {
    const auto it = std::ranges::find(seen_, name, &Seen::name);
    if (it != seen_.end()) {
      reader.error_at("name", "duplicate " + kind_ + " name " + quoted(name) +
                                  " (first defined at line " + std::to_string(it->line) + ")");
      return;
    }
    seen_.push_back({name, reader.line_of("name")});
  }

 private:
  struct Seen {
    std::string name;
    uint32_t line;
  };

  std::string kind_;
  std::vector<Seen> seen_;
};

// How an array of tables is named in messages and whether it may be absent.
struct EntryRules {
  std::string_view path;  // the array as the file writes it, e.g. "relay.users"
  bool at_least_one = true;
};

// The entries of [[path]] under `key` of `parent`, or nullptr after reporting why there are none
// (absent and empty are fine when !rules.at_least_one).
const toml::array* read_entries(TableReader& parent, std::string_view key, std::string_view kind,
                                const EntryRules& rules);

// Calls `read_entry(reader)` for each table in [[path]].
template <class ReadEntry>
void for_each_entry(TableReader& parent, std::string_view key, std::string_view kind,
                    const EntryRules& rules, ReadEntry read_entry) {
  const toml::array* array = read_entries(parent, key, kind, rules);
  if (array == nullptr) {
    return;
  }
  const std::string path(rules.path.empty() ? key : rules.path);
  for (const toml::node& node : *array) {
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      parent.error(node.source().begin.line, "each entry of " + quoted(path) + " must be a table");
      continue;
    }
    TableReader reader(*table, "[[" + path + "]]", parent.diagnostics());
    read_entry(reader);
    reader.report_unknown_keys();
  }
}

}  // namespace replproxy::config::internal
