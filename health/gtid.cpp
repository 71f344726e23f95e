#include "health/gtid.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <utility>

namespace replproxy::health {
namespace {

constexpr std::string_view kBlanks = " \t\r\n";
constexpr size_t kUuidLength = 36;
constexpr size_t kMaxTagLength = 32;

std::string_view trim(std::string_view text) {
  const size_t first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(kBlanks) - first + 1);
}

// Splits on `separator`; "a,,b" gives an empty middle part.
std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t at = text.find(separator); at != std::string_view::npos;
       at = text.find(separator, start)) {
    parts.push_back(text.substr(start, at - start));
    start = at + 1;
  }
  parts.push_back(text.substr(start));
  return parts;
}

// A decimal number that fills `text` exactly (no sign, no blanks).
template <class T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0])) == 0) {
    return false;
  }
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc{} && end == text.data() + text.size();
}

std::expected<MariadbGtid, std::string> parse_mariadb_gtid(std::string_view text) {
  const std::vector<std::string_view> parts = split(text, '-');
  MariadbGtid gtid;
  if (parts.size() != 3 || !parse_number(parts[0], gtid.domain) ||
      !parse_number(parts[1], gtid.server_id) || !parse_number(parts[2], gtid.seq)) {
    return std::unexpected("bad MariaDB GTID '" + std::string(text) +
                           "': expected DOMAIN-SERVER_ID-SEQUENCE");
  }
  return gtid;
}

bool is_uuid(std::string_view text) {
  if (text.size() != kUuidLength) {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    const bool ok =
        dash_position ? text[i] == '-' : std::isxdigit(static_cast<unsigned char>(text[i])) != 0;
    if (!ok) {
      return false;
    }
  }
  return true;
}

// MySQL 8.3+ tags: a letter or '_', then up to 31 letters, digits or '_'; case-insensitive.
bool is_tag(std::string_view text) {
  const auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  };
  return !text.empty() && text.size() <= kMaxTagLength &&
         std::isdigit(static_cast<unsigned char>(text[0])) == 0 && std::ranges::all_of(text, word);
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

std::expected<GtidInterval, std::string> parse_interval(std::string_view text) {
  const size_t dash = text.find('-');
  GtidInterval interval;
  bool ok = parse_number(text.substr(0, dash), interval.first);
  interval.last = interval.first;
  if (ok && dash != std::string_view::npos) {
    ok = parse_number(text.substr(dash + 1), interval.last);
  }
  if (!ok || interval.first == 0 || interval.last < interval.first) {
    return std::unexpected("bad GTID interval '" + std::string(text) + "'");
  }
  return interval;
}

using SourceKey = std::pair<std::string, std::string>;  // (uuid, tag)
using SourceMap = std::map<SourceKey, std::vector<GtidInterval>>;

// One "uuid:1-5:tag:7" element; a tag applies to the intervals after it.
std::expected<void, std::string> parse_mysql_element(std::string_view text, SourceMap& out) {
  const std::vector<std::string_view> parts = split(text, ':');
  if (!is_uuid(parts[0])) {
    return std::unexpected("bad server UUID '" + std::string(parts[0]) + "' in GTID set");
  }
  const std::string uuid = lower(parts[0]);
  std::string tag;
  bool has_interval = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (is_tag(parts[i])) {
      tag = lower(parts[i]);
      has_interval = false;
      continue;
    }
    auto interval = parse_interval(parts[i]);
    if (!interval) {
      return std::unexpected(interval.error());
    }
    out[{uuid, tag}].push_back(*interval);
    has_interval = true;
  }
  if (!has_interval) {
    return std::unexpected("no transactions after '" + std::string(text) + "' in GTID set");
  }
  return {};
}

// Sorts and merges overlapping and adjacent intervals.
std::vector<GtidInterval> normalized(std::vector<GtidInterval> intervals) {
  std::ranges::sort(intervals, {}, &GtidInterval::first);
  std::vector<GtidInterval> merged;
  for (const GtidInterval& interval : intervals) {
    if (!merged.empty() && interval.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, interval.last);
    } else {
      merged.push_back(interval);
    }
  }
  return merged;
}

// The parts of `a` not covered by `b`; both normalized.
std::vector<GtidInterval> subtract_intervals(const std::vector<GtidInterval>& a,
                                             const std::vector<GtidInterval>& b) {
  std::vector<GtidInterval> out;
  for (GtidInterval rest : a) {
    bool left = true;
    for (const GtidInterval& cut : b) {
      if (cut.last < rest.first || cut.first > rest.last) {
        continue;
      }
      if (cut.first > rest.first) {
        out.push_back({rest.first, cut.first - 1});
      }
      if (cut.last >= rest.last) {
        left = false;
        break;
      }
      rest.first = cut.last + 1;
    }
    if (left) {
      out.push_back(rest);
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& part : parts) {
    out += (out.empty() ? "" : ",") + part;
  }
  return out;
}

}  // namespace

std::expected<std::vector<MariadbGtid>, std::string> parse_mariadb_gtid_list(
    std::string_view text) {
  std::vector<MariadbGtid> list;
  if (trim(text).empty()) {
    return list;
  }
  for (std::string_view entry : split(text, ',')) {
    auto gtid = parse_mariadb_gtid(trim(entry));
    if (!gtid) {
      return std::unexpected(gtid.error());
    }
    list.push_back(*gtid);
  }
  return list;
}

std::string to_string(const MariadbGtid& gtid) {
  return std::to_string(gtid.domain) + "-" + std::to_string(gtid.server_id) + "-" +
         std::to_string(gtid.seq);
}

std::expected<MysqlGtidSet, std::string> parse_mysql_gtid_set(std::string_view text) {
  SourceMap sources;
  if (!trim(text).empty()) {
    for (std::string_view element : split(text, ',')) {
      auto parsed = parse_mysql_element(trim(element), sources);
      if (!parsed) {
        return std::unexpected(parsed.error());
      }
    }
  }
  MysqlGtidSet set;
  for (auto& [key, intervals] : sources) {
    set.push_back({key.first, key.second, normalized(std::move(intervals))});
  }
  return set;
}

std::string to_string(const MysqlGtidSet& set) {
  std::string out;
  const std::string* uuid = nullptr;
  for (const MysqlGtidSource& source : set) {
    if (uuid == nullptr || *uuid != source.uuid) {
      out += (out.empty() ? "" : ",") + source.uuid;
      uuid = &source.uuid;
    }
    if (!source.tag.empty()) {
      out += ":" + source.tag;
    }
    for (const GtidInterval& interval : source.intervals) {
      out += ":" + std::to_string(interval.first);
      if (interval.last != interval.first) {
        out += "-" + std::to_string(interval.last);
      }
    }
  }
  return out;
}

MysqlGtidSet subtract(const MysqlGtidSet& a, const MysqlGtidSet& b) {
  MysqlGtidSet out;
  for (const MysqlGtidSource& source : a) {
    const auto other = std::ranges::find_if(
        b, [&](const MysqlGtidSource& s) { return s.uuid == source.uuid && s.tag == source.tag; });
    std::vector<GtidInterval> rest = other == b.end()
                                         ? source.intervals
                                         : subtract_intervals(source.intervals, other->intervals);
    if (!rest.empty()) {
      out.push_back({source.uuid, source.tag, std::move(rest)});
    }
  }
  return out;
}

std::string_view mariadb_gtid_state(const ProbeResult& probe) {
  if (!probe.gtid_binlog_state.empty()) {
    return probe.gtid_binlog_state;
  }
  return probe.gtid_binlog_pos.empty() ? std::string_view(probe.gtid_current_pos)
                                       : std::string_view(probe.gtid_binlog_pos);
}

std::expected<std::string, std::string> mariadb_errant_gtids(std::string_view primary_state,
                                                             std::string_view replica_state,
                                                             uint32_t replica_server_id) {
  auto primary = parse_mariadb_gtid_list(primary_state);
  auto replica = parse_mariadb_gtid_list(replica_state);
  if (!primary || !replica) {
    return std::unexpected(!primary ? "primary: " + primary.error()
                                    : "replica: " + replica.error());
  }
  std::vector<std::string> errant;
  for (const MariadbGtid& gtid : *replica) {
    bool known = false;
    uint64_t primary_seq = 0;
    for (const MariadbGtid& p : *primary) {
      if (p.domain == gtid.domain && p.server_id == gtid.server_id) {
        known = true;
        primary_seq = std::max(primary_seq, p.seq);
      }
    }
    if (!known || (gtid.server_id == replica_server_id && primary_seq < gtid.seq)) {
      errant.push_back(to_string(gtid));
    }
  }
  return join(errant);
}

std::expected<std::string, std::string> mysql_errant_gtids(std::string_view primary_executed,
                                                           std::string_view primary_uuid,
                                                           std::string_view replica_executed) {
  auto primary = parse_mysql_gtid_set(primary_executed);
  auto replica = parse_mysql_gtid_set(replica_executed);
  if (!primary || !replica) {
    return std::unexpected(!primary ? "primary: " + primary.error()
                                    : "replica: " + replica.error());
  }
  const std::string own = lower(trim(primary_uuid));
  std::erase_if(*replica, [&](const MysqlGtidSource& source) { return source.uuid == own; });
  return to_string(subtract(*replica, *primary));
}

std::expected<std::string, std::string> errant_gtids(const ProbeResult& primary,
                                                     const ProbeResult& replica) {
  if (primary.is_mariadb != replica.is_mariadb) {
    return std::unexpected("cannot compare the GTIDs of a MariaDB and a MySQL server");
  }
  if (!replica.is_mariadb) {
    return mysql_errant_gtids(primary.gtid_executed, primary.server_uuid, replica.gtid_executed);
  }
  return mariadb_errant_gtids(mariadb_gtid_state(primary), mariadb_gtid_state(replica),
                              replica.server_id);
}

}  // namespace replproxy::health
