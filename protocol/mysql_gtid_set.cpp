#include "protocol/mysql_gtid_set.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <limits>

#include "protocol/field_reader.h"

namespace replproxy::protocol {
namespace {

constexpr size_t kUuidSize = 16;
constexpr size_t kUuidTextSize = 36;
constexpr int64_t kMaxEnd = std::numeric_limits<int64_t>::max();
constexpr std::string_view kWhitespace = " \t\r\n";

bool intervals_valid(const std::vector<MySqlGtidInterval>& intervals) {
  int64_t previous_end = 1;
  for (const MySqlGtidInterval& iv : intervals) {
    if (iv.start < previous_end || iv.start >= iv.end) {
      return false;
    }
    previous_end = iv.end;
  }
  return !intervals.empty();
}

std::string_view trim(std::string_view s) {
  const size_t first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(kWhitespace) - first + 1);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool is_dash_position(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", any case.
Result<std::array<uint8_t, kUuidSize>> parse_uuid(std::string_view text) {
  std::array<uint8_t, kUuidSize> uuid{};
  if (text.size() != kUuidTextSize) {
    return fail(CodecErrc::invalid_input);
  }
  size_t nibbles = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_dash_position(i)) {
      if (text[i] != '-') {
        return fail(CodecErrc::invalid_input);
      }
      continue;
    }
    const int v = hex_value(text[i]);
    if (v < 0) {
      return fail(CodecErrc::invalid_input);
    }
    uuid[nibbles / 2] |= static_cast<uint8_t>(nibbles % 2 == 0 ? v << 4 : v);
    ++nibbles;
  }
  return uuid;
}

void format_uuid(const std::array<uint8_t, kUuidSize>& uuid, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out.push_back('-');
    }
    out.push_back(kHex[uuid[i] >> 4]);
    out.push_back(kHex[uuid[i] & 0x0f]);
  }
}

// A transaction number in text: decimal digits only, 1 .. kMaxEnd - 1 (so that the exclusive end
// still fits).
Result<int64_t> parse_number(std::string_view text) {
  if (text.empty() || text[0] < '0' || text[0] > '9') {
    return fail(CodecErrc::invalid_input);
  }
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v >= kMaxEnd) {
    return fail(CodecErrc::invalid_input);
  }
  return v;
}

// "N" or "N-M", inclusive, into [N, M + 1).
Result<MySqlGtidInterval> parse_interval(std::string_view text) {
  if (!text.empty() && std::isalpha(static_cast<unsigned char>(text[0]))) {
    return fail(CodecErrc::unsupported);  // a MySQL 8.3 tag
  }
  const size_t dash = text.find('-');
  auto start = parse_number(text.substr(0, dash));
  auto last = dash == std::string_view::npos ? start : parse_number(text.substr(dash + 1));
  if (!start || !last) {
    return fail(CodecErrc::invalid_input);
  }
  return MySqlGtidInterval{*start, *last + 1};
}

// "<uuid>:<interval>[:<interval>...]".
Result<MySqlGtidSid> parse_sid(std::string_view text) {
  MySqlGtidSid sid;
  auto uuid = parse_uuid(text.substr(0, kUuidTextSize));
  if (!uuid) {
    return std::unexpected(uuid.error());
  }
  sid.uuid = *uuid;
  std::string_view rest = text.substr(kUuidTextSize);
  if (rest.empty()) {
    return fail(CodecErrc::invalid_input);
  }
  while (!rest.empty()) {
    if (rest[0] != ':') {
      return fail(CodecErrc::invalid_input);
    }
    rest.remove_prefix(1);
    const size_t next = std::min(rest.find(':'), rest.size());
    auto interval = parse_interval(rest.substr(0, next));
    if (!interval) {
      return std::unexpected(interval.error());
    }
    sid.intervals.push_back(*interval);
    rest.remove_prefix(next);
  }
  return sid;
}

MySqlGtidSid decode_sid(FieldReader& f) {
  MySqlGtidSid sid;
  std::string_view uuid = f.fixed_string(kUuidSize);
  std::copy(uuid.begin(), uuid.end(), sid.uuid.begin());
  const uint64_t n_intervals = f.u64();
  // Bounded by the input: a read past the end stops the loop with not_enough_input, so a huge
  // count costs no memory up front.
  for (uint64_t i = 0; i < n_intervals && !f.failed(); ++i) {
    MySqlGtidInterval iv;
    iv.start = static_cast<int64_t>(f.u64());
    iv.end = static_cast<int64_t>(f.u64());
    if (!f.failed()) {
      sid.intervals.push_back(iv);
    }
  }
  return sid;
}

}  // namespace

bool is_valid_mysql_gtid_set(const MySqlGtidSet& set) {
  for (size_t i = 0; i < set.sids.size(); ++i) {
    if (!intervals_valid(set.sids[i].intervals)) {
      return false;
    }
    for (size_t j = 0; j < i; ++j) {
      if (set.sids[j].uuid == set.sids[i].uuid) {
        return false;
      }
    }
  }
  return true;
}

Result<MySqlGtidSet> decode_mysql_gtid_set(ByteView data) {
  FieldReader f(data);
  MySqlGtidSet set;
  const uint64_t n_sids = f.u64();
  for (uint64_t i = 0; i < n_sids && !f.failed(); ++i) {
    MySqlGtidSid sid = decode_sid(f);
    if (!f.failed()) {
      set.sids.push_back(std::move(sid));
    }
  }
  f.expect_end();
  if (!f.failed() && !is_valid_mysql_gtid_set(set)) {
    f.fail(CodecErrc::invalid_input);
  }
  return f.finish(std::move(set));
}

void encode_mysql_gtid_set(const MySqlGtidSet& set, Bytes& out) {
  Writer w(out);
  w.u64(set.sids.size());
  for (const MySqlGtidSid& sid : set.sids) {
    w.raw(ByteView(sid.uuid)).u64(sid.intervals.size());
    for (const MySqlGtidInterval& iv : sid.intervals) {
      w.u64(static_cast<uint64_t>(iv.start)).u64(static_cast<uint64_t>(iv.end));
    }
  }
}

Result<MySqlGtidSet> parse_mysql_gtid_set(std::string_view text) {
  MySqlGtidSet set;
  if (trim(text).empty()) {
    return set;
  }
  for (;;) {
    const size_t comma = text.find(',');
    auto sid = parse_sid(trim(text.substr(0, comma)));
    if (!sid) {
      return std::unexpected(sid.error());
    }
    set.sids.push_back(std::move(*sid));
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  if (!is_valid_mysql_gtid_set(set)) {
    return fail(CodecErrc::invalid_input);
  }
  return set;
}

std::string format_mysql_gtid_set(const MySqlGtidSet& set) {
  std::string out;
  for (const MySqlGtidSid& sid : set.sids) {
    if (!out.empty()) {
      out.push_back(',');
    }
    format_uuid(sid.uuid, out);
    for (const MySqlGtidInterval& iv : sid.intervals) {
      out.push_back(':');
      // Unsigned arithmetic: no overflow even for an invalid set's values.
      const uint64_t last = static_cast<uint64_t>(iv.end) - 1;
      out += std::to_string(iv.start);
      if (last != static_cast<uint64_t>(iv.start)) {
        out.push_back('-');
        out += std::to_string(static_cast<int64_t>(last));
      }
    }
  }
  return out;
}

}  // namespace replproxy::protocol
