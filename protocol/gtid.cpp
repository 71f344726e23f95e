#include "protocol/gtid.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace replproxy::protocol::binlog {
namespace {

// One decimal field: digits only (from_chars alone would accept a leading '-' for signed types
// and stop early on trailing junk), and no overflow of T.
template <class T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

std::string Gtid::to_string() const {
  return std::to_string(domain_id) + "-" + std::to_string(server_id) + "-" + std::to_string(seq_no);
}

Result<Gtid> parse_gtid(std::string_view text) {
  const size_t first = text.find('-');
  if (first == std::string_view::npos) {
    return fail(CodecErrc::invalid_input);
  }
  const size_t second = text.find('-', first + 1);
  if (second == std::string_view::npos) {
    return fail(CodecErrc::invalid_input);
  }
  Gtid gtid;
  if (!parse_number(text.substr(0, first), gtid.domain_id) ||
      !parse_number(text.substr(first + 1, second - first - 1), gtid.server_id) ||
      !parse_number(text.substr(second + 1), gtid.seq_no)) {
    return fail(CodecErrc::invalid_input);
  }
  return gtid;
}

Result<GtidPosition> GtidPosition::parse(std::string_view text) {
  GtidPosition position;
  if (trim(text).empty()) {
    return position;
  }
  while (true) {
    const size_t comma = text.find(',');
    auto gtid = parse_gtid(trim(text.substr(0, comma)));
    if (!gtid) {
      return std::unexpected(gtid.error());
    }
    if (position.find(gtid->domain_id)) {
      return fail(CodecErrc::invalid_input);
    }
    position.update(*gtid);
    if (comma == std::string_view::npos) {
      return position;
    }
    text.remove_prefix(comma + 1);
  }
}

std::string GtidPosition::to_string() const {
  std::string out;
  for (const Gtid& gtid : gtids_) {
    if (!out.empty()) {
      out.push_back(',');
    }
    out += gtid.to_string();
  }
  return out;
}

void GtidPosition::update(const Gtid& gtid) {
  auto it = std::lower_bound(gtids_.begin(), gtids_.end(), gtid.domain_id,
                             [](const Gtid& g, uint32_t domain) { return g.domain_id < domain; });
  if (it != gtids_.end() && it->domain_id == gtid.domain_id) {
    *it = gtid;
  } else {
    gtids_.insert(it, gtid);
  }
}

std::optional<Gtid> GtidPosition::find(uint32_t domain_id) const {
  auto it = std::lower_bound(gtids_.begin(), gtids_.end(), domain_id,
                             [](const Gtid& g, uint32_t domain) { return g.domain_id < domain; });
  if (it != gtids_.end() && it->domain_id == domain_id) {
    return *it;
  }
  return std::nullopt;
}

bool GtidPosition::includes(const Gtid& gtid) const {
  auto entry = find(gtid.domain_id);
  return entry && entry->seq_no >= gtid.seq_no;
}

}  // namespace replproxy::protocol::binlog
