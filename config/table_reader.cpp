#include "config/table_reader.h"

#include <algorithm>

namespace replproxy::config::internal {

void Diagnostics::error(uint32_t line, std::string message) {
  entries_.push_back({line, std::move(message)});
}

std::vector<std::string> Diagnostics::take_messages() {
  std::ranges::stable_sort(entries_, {}, &Entry::line);
  std::vector<std::string> messages;
  messages.reserve(entries_.size());
  for (const Entry& entry : entries_) {
    messages.push_back(source_name_ + ":" + std::to_string(entry.line) + ": " + entry.message);
  }
  entries_.clear();
  return messages;
}

TableReader::TableReader(const toml::table& table, std::string name, Diagnostics& diagnostics)
    : table_(table), name_(std::move(name)), diagnostics_(diagnostics) {}

const toml::node* TableReader::find(std::string_view key) {
  if (std::ranges::find(known_, key) == known_.end()) {
    known_.emplace_back(key);
  }
  return table_.get(key);
}

const toml::table* TableReader::read_table(std::string_view key) {
  const toml::node* node = find(key);
  if (node != nullptr && !node->is_table()) {
    error_at(key, quoted(key) + " must be a table, as in [" + std::string(key) + "]");
  }
  return node == nullptr ? nullptr : node->as_table();
}

bool TableReader::require(std::string_view key) {
  if (has(key)) {
    return true;
  }
  error(line(), "missing required key " + quoted(key) + " in " + name_);
  return false;
}

uint32_t TableReader::line() const { return std::max<uint32_t>(1, table_.source().begin.line); }

uint32_t TableReader::line_of(std::string_view key) const {
  const auto it = table_.find(key);
  return it == table_.end() ? line() : it->first.source().begin.line;
}

void TableReader::error_at(std::string_view key, std::string message) {
  error(line_of(key), std::move(message));
}

bool TableReader::read(std::string_view key, std::string& out) {
  const toml::node* node = find(key);
  if (node == nullptr) {
    return false;
  }
  if (!node->is_string()) {
    error_at(key, quoted(key) + " must be a string");
    return false;
  }
  out = node->as_string()->get();
  return true;
}

bool TableReader::read(std::string_view key, bool& out) {
  const toml::node* node = find(key);
  if (node == nullptr) {
    return false;
  }
  if (!node->is_boolean()) {
    error_at(key, quoted(key) + " must be a boolean (true or false)");
    return false;
  }
  out = node->as_boolean()->get();
  return true;
}

namespace {

std::string range_message(std::string_view key, int64_t min, int64_t max, int64_t value) {
  const std::string got = ", got " + std::to_string(value);
  // Without a limit of its own, the type's maximum is not worth stating unless it was exceeded.
  if (max == kU32Max) {
    return value < min ? quoted(key) + " must be at least " + std::to_string(min) + got
                       : quoted(key) + " must be at most " + std::to_string(max) + got;
  }
  return quoted(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
         got;
}

}  // namespace

bool TableReader::read(std::string_view key, uint32_t& out, int64_t min, int64_t max) {
  const toml::node* node = find(key);
  if (node == nullptr) {
    return false;
  }
  if (!node->is_integer()) {
    error_at(key, quoted(key) + " must be an integer");
    return false;
  }
  const int64_t value = node->as_integer()->get();
  if (value < min || value > max) {
    error_at(key, range_message(key, min, max, value));
    return false;
  }
  out = static_cast<uint32_t>(value);
  return true;
}

bool TableReader::read(std::string_view key, Address& out, HostKind kind) {
  std::string text;
  if (!read(key, text)) {
    return false;
  }
  auto address = parse_address(text, kind);
  if (!address) {
    error_at(key, quoted(key) + " is not a valid address " + quoted(text) + ": " + address.error());
    return false;
  }
  out = std::move(*address);
  return true;
}

bool TableReader::read_non_empty(std::string_view key, std::string& out) {
  std::string text;
  if (!read(key, text)) {
    return false;
  }
  if (text.empty()) {
    error_at(key, quoted(key) + " must not be empty");
    return false;
  }
  out = std::move(text);
  return true;
}

void TableReader::report_unknown_keys() {
  for (auto&& [key, node] : table_) {
    if (std::ranges::find(known_, key.str()) == known_.end()) {
      error(key.source().begin.line, "unknown key " + quoted(key.str()) + " in " + name_);
    }
  }
}

}  // namespace replproxy::config::internal
