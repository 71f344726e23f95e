#pragma once

// Parsing of "HOST:PORT" addresses (internal to config/).

#include <expected>
#include <string>
#include <string_view>

#include "config/config.h"

namespace replproxy::config::internal {

enum class HostKind {
  ip_literal,  // a listener binds to it, so it must be an address, not a name
  name_or_ip,  // a backend may be reached by host name
};

// Parses "HOST:PORT", IPv6 as "[HOST]:PORT", with a port in 1..65535. On failure, the reason
// (without the text itself), e.g. "expected HOST:PORT".
std::expected<Address, std::string> parse_address(std::string_view text, HostKind kind);

}  // namespace replproxy::config::internal
