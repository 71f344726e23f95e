#include "relay/tunnel_login.h"

#include <algorithm>

#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/packet.h"

namespace replproxy::relay {
namespace {

namespace cap = protocol::cap;

void set_bit(uint8_t& byte, uint8_t mask, bool on) {
  byte = static_cast<uint8_t>(on ? (byte | mask) : (byte & ~mask));
}

}  // namespace

std::optional<protocol::Bytes> ssl_request_frame(protocol::ByteView response) {
  if (response.size() <= protocol::kSslRequestSize ||
      (response[1] & (cap::kProtocol41 >> 8)) == 0) {
    return std::nullopt;
  }
  protocol::Bytes payload(response.begin(), response.begin() + protocol::kSslRequestSize);
  set_response_ssl(payload, true);
  protocol::Bytes frame;
  protocol::encode_packet(payload, 1, frame);
  return frame;
}

// Initial Handshake v10: protocol_version 1, server_version string<NUL>, connection_id 4,
// auth_plugin_data_part_1 8, filler 1, then the low 16 capability bits (CLIENT_SSL is bit 11,
// the 4th bit of their second byte).
bool set_greeting_ssl(std::span<uint8_t> payload, bool on) {
  if (payload.empty() || payload[0] != 10) {
    return false;
  }
  const auto nul = std::find(payload.begin() + 1, payload.end(), uint8_t{0});
  if (nul == payload.end()) {
    return false;
  }
  const size_t caps = static_cast<size_t>(nul - payload.begin()) + 1 + 4 + 8 + 1;
  if (payload.size() < caps + 2) {
    return false;
  }
  set_bit(payload[caps + 1], static_cast<uint8_t>(cap::kSsl >> 8), on);
  return true;
}

// HandshakeResponse41 starts with the low 32 capability bits, little-endian.
bool set_response_ssl(std::span<uint8_t> payload, bool on) {
  if (payload.size() < 4) {
    return false;
  }
  set_bit(payload[1], static_cast<uint8_t>(cap::kSsl >> 8), on);
  return true;
}

bool ends_login(protocol::ByteView payload) {
  return protocol::is_ok_payload(payload) || protocol::is_err_payload(payload);
}

protocol::Bytes tunnel_error_frame(uint8_t sequence_id, uint16_t code, std::string_view tunnel,
                                   std::string_view message) {
  protocol::Bytes payload;
  protocol::encode_err({.error_code = code,
                        .sql_state = "HY000",
                        .message = "replproxy tunnel " + std::string(tunnel) + ": " +
                                   std::string(message)},
                       cap::kProtocol41, payload);
  protocol::Bytes frame;
  protocol::encode_packet(payload, sequence_id, frame);
  return frame;
}

}  // namespace replproxy::relay
