#pragma once

// Small helpers to build the packets the proxy itself sends.

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/generic.h"
#include "protocol/packet.h"

namespace replproxy::proxy {

// Appends a framed ERR packet.
void append_err(protocol::Bytes& out, uint8_t sequence_id, uint16_t code,
                std::string_view sql_state, std::string_view message, uint64_t capabilities);

// Appends a framed OK packet with the given status flags.
void append_ok(protocol::Bytes& out, uint8_t sequence_id, uint16_t status_flags,
               uint64_t capabilities);

// A 20-byte nonce of printable characters for a greeting (some clients treat it as a C string).
std::string make_nonce();

}  // namespace replproxy::proxy
