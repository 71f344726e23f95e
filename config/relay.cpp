// The [relay] table and its [[relay.users]]: the embedded binlog relay.

#include <charconv>
#include <cmath>
#include <limits>

#include "config/entries.h"
#include "config/sections.h"

namespace replproxy::config::internal {
namespace {

constexpr EnumName<RelaySync> kSyncPolicies[] = {
    {"every_event", RelaySync::every_event},
    {"group", RelaySync::group},
    {"none", RelaySync::none},
};

// MySQL's max_binlog_size has the same floor: smaller files would hold hardly one transaction.
constexpr uint64_t kMinFileSize = 4096;
// Files are addressed with 64-bit offsets; beyond this a value is surely a typo.
constexpr uint64_t kMaxSize = uint64_t{1} << 50;
// A group flush waits at most a second: longer would stall every semi-sync commit.
constexpr int64_t kMaxGroupSyncUs = 1'000'000;

struct SizeUnit {
  std::string_view suffix;
  uint64_t factor;
};

// Binary units as MySQL reads K/M/G in sizes, spelled both ways.
constexpr SizeUnit kSizeUnits[] = {
    {"TiB", uint64_t{1} << 40}, {"GiB", uint64_t{1} << 30}, {"MiB", uint64_t{1} << 20},
    {"KiB", uint64_t{1} << 10}, {"T", uint64_t{1} << 40},   {"G", uint64_t{1} << 30},
    {"M", uint64_t{1} << 20},   {"K", uint64_t{1} << 10},   {"B", 1},
};

// "1GiB", "512M", "4096" (bytes), or nullopt.
std::optional<uint64_t> parse_size(std::string_view text) {
  uint64_t factor = 1;
  for (const SizeUnit& unit : kSizeUnits) {
    if (text.ends_with(unit.suffix)) {
      factor = unit.factor;
      text.remove_suffix(unit.suffix.size());
      break;
    }
  }
  while (!text.empty() && text.back() == ' ') {
    text.remove_suffix(1);
  }
  uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      number > std::numeric_limits<uint64_t>::max() / factor) {
    return std::nullopt;
  }
  return number * factor;
}

// A size given as a string with a unit or as an integer number of bytes, within [min, kMaxSize].
void read_size(TableReader& reader, std::string_view key, uint64_t min, uint64_t& out) {
  const toml::node* node = reader.find(key);
  if (node == nullptr) {
    return;
  }
  std::optional<uint64_t> size;
  if (const auto* integer = node->as_integer(); integer != nullptr && integer->get() >= 0) {
    size = static_cast<uint64_t>(integer->get());
  } else if (const auto* text = node->as_string(); text != nullptr) {
    size = parse_size(text->get());
  }
  if (!size) {
    reader.error_at(key, quoted(key) +
                             " must be a size such as \"1GiB\", \"512MiB\" or a number of bytes");
    return;
  }
  if (*size < min || *size > kMaxSize) {
    reader.error_at(key, quoted(key) + " must be between " + std::to_string(min) + " and " +
                             std::to_string(kMaxSize) + " bytes, got " + std::to_string(*size));
    return;
  }
  out = *size;
}

void read_days(TableReader& reader, std::string_view key, double& out) {
  const toml::node* node = reader.find(key);
  if (node == nullptr) {
    return;
  }
  const std::optional<double> days = node->value<double>();
  if (!days || !std::isfinite(*days) || *days < 0 || *days > 36500) {
    reader.error_at(key, quoted(key) + " must be a number of days between 0 and 36500");
    return;
  }
  out = *days;
}

// "primary" or "backend:NAME" naming a configured backend.
void read_source(TableReader& reader, const std::vector<Backend>& backends, RelaySection& out) {
  std::string source;
  if (!reader.read("source", source)) {
    return;
  }
  if (source == "primary") {
    out.follow_primary = true;
    return;
  }
  constexpr std::string_view kPrefix = "backend:";
  if (!source.starts_with(kPrefix)) {
    reader.error_at("source",
                    "'source' must be \"primary\" or \"backend:NAME\"; got " + quoted(source));
    return;
  }
  const std::string name = source.substr(kPrefix.size());
  const bool known = std::ranges::any_of(backends, [&](const Backend& b) { return b.name == name; });
  if (!known) {
    reader.error_at("source", "'source' names backend " + quoted(name) +
                                  ", which is not defined in [[backends]]");
    return;
  }
  out.follow_primary = false;
  out.source_backend = name;
}

void read_upstream(TableReader& reader, RelaySection& out) {
  if (reader.require("upstream_user")) {
    reader.read_non_empty("upstream_user", out.upstream_user);
  }
  reader.read("upstream_password", out.upstream_password);
  const bool tls_valid = reader.read("upstream_tls", out.upstream_tls) || !reader.has("upstream_tls");
  reader.read_non_empty("upstream_tls_ca", out.upstream_tls_ca);
  reader.read("upstream_tls_verify", out.upstream_tls_verify);
  if (tls_valid && !out.upstream_tls) {
    for (std::string_view key : {"upstream_tls_ca", "upstream_tls_verify"}) {
      if (reader.has(key)) {
        reader.error_at(key, quoted(key) + " has no effect without 'upstream_tls = true'");
      }
    }
  }
  reader.read("upstream_heartbeat_ms", out.upstream_heartbeat_ms, 100, 4'294'967);
  reader.read("upstream_retry_ms", out.upstream_retry_ms, 10, kU32Max);
}

void read_downstream_tls(TableReader& reader, RelaySection& out) {
  reader.read_non_empty("tls_cert", out.tls_cert);
  reader.read_non_empty("tls_key", out.tls_key);
  reader.read("require_tls", out.require_tls);
  const bool has_cert = reader.has("tls_cert");
  const bool has_key = reader.has("tls_key");
  if (has_cert != has_key) {
    const std::string_view given = has_cert ? "tls_cert" : "tls_key";
    const std::string_view missing = has_cert ? "tls_key" : "tls_cert";
    reader.error_at(given, quoted(given) + " is set but " + quoted(missing) +
                               " is not: give both or neither");
  }
  if (out.require_tls && !(has_cert && has_key)) {
    reader.error_at("require_tls", "'require_tls = true' needs 'tls_cert' and 'tls_key'");
  }
}

void read_relay_users(TableReader& reader, RelaySection& out) {
  UniqueNames names("relay user");
  for_each_entry(reader, "users", "relay user", {.path = "relay.users"}, [&](TableReader& entry) {
    User& user = out.users.emplace_back();
    if (entry.require("name") && entry.read_non_empty("name", user.name)) {
      names.add(entry, user.name);
    }
    read_password(entry, user);
  });
}

}  // namespace

void read_relay_section(TableReader& top, const std::vector<Backend>& backends, RelaySection& out) {
  const toml::table* table = top.read_table("relay");
  if (table == nullptr) {
    return;
  }
  TableReader reader(*table, "[relay]", top.diagnostics());
  out.enabled = true;
  reader.read("enabled", out.enabled);
  reader.read("listen", out.listen, HostKind::ip_literal);
  if (reader.require("server_id")) {
    reader.read("server_id", out.server_id, 1, kU32Max);
  }
  if (reader.require("datadir")) {
    reader.read_non_empty("datadir", out.datadir);
  }
  read_source(reader, backends, out);
  read_upstream(reader, out);
  reader.read("semi_sync", out.semi_sync);
  read_enum(reader, "sync", kSyncPolicies, out.sync);
  reader.read("group_sync_us", out.group_sync_us, 0, kMaxGroupSyncUs);
  read_size(reader, "max_file_size", kMinFileSize, out.max_file_size);
  read_days(reader, "expire_logs_days", out.expire_logs_days);
  read_size(reader, "max_total_size", 0, out.max_total_size);
  read_downstream_tls(reader, out);
  read_relay_users(reader, out);
  reader.report_unknown_keys();
}

}  // namespace replproxy::config::internal
