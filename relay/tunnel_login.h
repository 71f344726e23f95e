#pragma once

// The MySQL login as a [[tunnels]] entry with protocol = "mysql" rewrites it: pure functions on
// payloads and frames, no socket (relay/tunnel_connection.cpp does the I/O).
//
// MySQL servers negotiate TLS in-band: the greeting offers CLIENT_SSL, the client answers with a
// 32-byte SSLRequest (sequence id 1), and the handshake response follows over TLS. The side of
// the tunnel that speaks TLS sees that extra SSLRequest and the other side does not, so every
// login packet's sequence id differs by one between the two sides until the login ends.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "protocol/handshake.h"
#include "protocol/wire.h"

namespace replproxy::relay {

// The SSLRequest (sequence id 1) the tunnel sends for its local client: the first 32 bytes of
// the client's own handshake response, with CLIENT_SSL. MariaDB parses the response that
// follows over TLS with the SSLRequest's capabilities, not with the response's, so they must be
// the client's exactly. nullopt when the response is not a HandshakeResponse41 (too short, or
// without CLIENT_PROTOCOL_41).
std::optional<protocol::Bytes> ssl_request_frame(protocol::ByteView response);

// Sets or clears CLIENT_SSL in a greeting's payload, in place (the rest stays byte for byte).
// False when the payload is too short to be a greeting.
bool set_greeting_ssl(std::span<uint8_t> payload, bool on);
// Sets or clears CLIENT_SSL in a HandshakeResponse41 payload, in place: the server reads the
// capabilities of the response it gets, and a plaintext server that sees CLIENT_SSL would start
// TLS. False when the payload is too short.
bool set_response_ssl(std::span<uint8_t> payload, bool on);

// Whether a server packet ends the login: OK or ERR. An AuthSwitchRequest (0xfe) or AuthMoreData
// (0x01) means the exchange goes on.
bool ends_login(protocol::ByteView payload);

// Error codes of the ERR packets the tunnel itself sends, as the proxy's client port uses them.
inline constexpr uint16_t kErrUnreachable = 1429;  // cannot reach `connect`, or not over TLS
inline constexpr uint16_t kErrTlsRequired = 3159;  // tls-to-plain: the client did not use TLS
inline constexpr uint16_t kErrProtocol = 1105;     // anything else the login cannot go on with

// A framed ERR packet (SQL state HY000) the tunnel sends to its local client, the message
// prefixed with "replproxy tunnel NAME: ".
protocol::Bytes tunnel_error_frame(uint8_t sequence_id, uint16_t code, std::string_view tunnel,
                                   std::string_view message);

}  // namespace replproxy::relay
