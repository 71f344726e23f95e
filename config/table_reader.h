#pragma once

// Typed, error-collecting access to TOML tables (internal to config/; the only toml++ user).

#include <toml++/toml.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "config/address.h"

namespace replproxy::config::internal {

inline constexpr int64_t kU32Max = std::numeric_limits<uint32_t>::max();

// "'key'", the way messages quote a key.
inline std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Collects "FILE:LINE: message" errors. They are handed out in line order, so that the list reads
// like the file whatever order the checks ran in.
class Diagnostics {
 public:
  explicit Diagnostics(std::string_view source_name) : source_name_(source_name) {}

  void error(uint32_t line, std::string message);
  bool empty() const { return entries_.empty(); }
  std::vector<std::string> take_messages();

 private:
  struct Entry {
    uint32_t line;
    std::string message;
  };

  std::string source_name_;
  std::vector<Entry> entries_;
};

// Reads the keys of one table into typed fields. A value of the wrong type or out of range is
// reported and leaves the field unchanged. The reader remembers every key it was asked about, so
// that report_unknown_keys() can flag the rest (typos must not be silently ignored).
class TableReader {
 public:
  // `name` is how messages refer to the table, e.g. "[proxy]" or "[[users]]".
  TableReader(const toml::table& table, std::string name, Diagnostics& diagnostics);

  // Each returns true when the key is present and valid, false when absent or invalid.
  bool read(std::string_view key, std::string& out);
  bool read(std::string_view key, bool& out);
  bool read(std::string_view key, uint32_t& out, int64_t min, int64_t max);
  bool read(std::string_view key, Address& out, HostKind kind);
  // A string that must not be empty (file names, versions).
  bool read_non_empty(std::string_view key, std::string& out);

  // The node under `key` (now a known key), or nullptr.
  const toml::node* find(std::string_view key);
  bool has(std::string_view key) { return find(key) != nullptr; }
  // The table under `key`, or nullptr when absent or not a table (reported).
  const toml::table* read_table(std::string_view key);
  // Reports a missing key at the table's line; returns whether it is present.
  bool require(std::string_view key);

  // Line of the table's header (1 for the top level).
  uint32_t line() const;
  // Line of `key`, or of the table when the key is absent.
  uint32_t line_of(std::string_view key) const;
  void error_at(std::string_view key, std::string message);
  void error(uint32_t line, std::string message) { diagnostics_.error(line, std::move(message)); }

  void report_unknown_keys();

  const std::string& name() const { return name_; }
  Diagnostics& diagnostics() { return diagnostics_; }

 private:
  const toml::table& table_;
  std::string name_;
  Diagnostics& diagnostics_;
  std::vector<std::string> known_;
};

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

// Reads a string that must be one of `names`; reports "'key' must be one of a, b; got 'x'".
template <class E, size_t N>
bool read_enum(TableReader& reader, std::string_view key, const EnumName<E> (&names)[N], E& out) {
  std::string text;
  if (!reader.read(key, text)) {
    return false;
  }
  std::string allowed;
  for (const EnumName<E>& name : names) {
    if (name.name == text) {
      out = name.value;
      return true;
    }
    allowed += (allowed.empty() ? "" : ", ") + std::string(name.name);
  }
  reader.error_at(key, quoted(key) + " must be one of " + allowed + "; got " + quoted(text));
  return false;
}

}  // namespace replproxy::config::internal
