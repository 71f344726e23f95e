#include "config/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace replproxy::config {

std::string Address::to_string() const {
  const std::string port_text = std::to_string(port);
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + port_text;
  }
  return host + ":" + port_text;
}

namespace internal {
namespace {

constexpr size_t kMaxHostNameLength = 253;
constexpr size_t kMaxLabelLength = 63;

struct HostPort {
  std::string_view host;
  std::string_view port;
  bool bracketed = false;
};

bool is_ip(int family, std::string_view text) {
  unsigned char buffer[sizeof(in6_addr)];
  const std::string terminated(text);
  return inet_pton(family, terminated.c_str(), buffer) == 1;
}

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// A label of a host name: letters, digits and '-', not at either end (RFC 1123).
bool is_label(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength || label.front() == '-' ||
      label.back() == '-') {
    return false;
  }
  return std::ranges::all_of(
      label, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-'; });
}

bool is_host_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxHostNameLength) {
    return false;
  }
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    if (!is_label(name.substr(start, dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

// Digits and dots only: meant as an IPv4 address, so not to be read as a host name.
bool looks_like_ipv4(std::string_view text) {
  return std::ranges::all_of(text, [](char c) { return is_digit(c) || c == '.'; });
}

std::expected<HostPort, std::string> split_host_port(std::string_view text) {
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return std::unexpected("missing ']' after the IPv6 address");
    }
    const std::string_view rest = text.substr(close + 1);
    if (!rest.starts_with(':')) {
      return std::unexpected("expected [IPV6]:PORT");
    }
    return HostPort{text.substr(1, close - 1), rest.substr(1), true};
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return std::unexpected("expected HOST:PORT");
  }
  const std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos) {
    return std::unexpected("an IPv6 address must be in brackets, as in [::1]:6033");
  }
  return HostPort{host, text.substr(colon + 1), false};
}

std::expected<uint16_t, std::string> parse_port(std::string_view text) {
  if (text.empty()) {
    return std::unexpected("missing port");
  }
  if (text.size() > 5 || !std::ranges::all_of(text, is_digit)) {
    return std::unexpected("port '" + std::string(text) + "' is not a number");
  }
  unsigned value = 0;
  for (char c : text) {
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < 1 || value > 65535) {
    return std::unexpected("port " + std::to_string(value) + " is out of range 1..65535");
  }
  return static_cast<uint16_t>(value);
}

// Returns an empty string when the host is acceptable for `kind`, the reason otherwise.
std::string check_host(const HostPort& parts, HostKind kind) {
  const std::string host(parts.host);
  if (host.empty()) {
    return "missing host";
  }
  if (parts.bracketed) {
    return is_ip(AF_INET6, host) ? "" : "'" + host + "' is not an IPv6 address";
  }
  if (is_ip(AF_INET, host)) {
    return "";
  }
  if (looks_like_ipv4(host)) {
    return "'" + host + "' is not a valid IPv4 address";
  }
  if (kind == HostKind::ip_literal) {
    return "the host must be an IP address, not a name (a listener binds to it)";
  }
  return is_host_name(host) ? "" : "'" + host + "' is not a valid host name";
}

}  // namespace

std::expected<Address, std::string> parse_address(std::string_view text, HostKind kind) {
  const auto parts = split_host_port(text);
  if (!parts) {
    return std::unexpected(parts.error());
  }
  if (std::string reason = check_host(*parts, kind); !reason.empty()) {
    return std::unexpected(std::move(reason));
  }
  const auto port = parse_port(parts->port);
  if (!port) {
    return std::unexpected(port.error());
  }
  return Address{std::string(parts->host), *port};
}

}  // namespace internal

std::expected<Address, std::string> parse_host_port(std::string_view text) {
  return internal::parse_address(text, internal::HostKind::name_or_ip);
}

}  // namespace replproxy::config
