#pragma once

// Authentication methods. mysql_native_password is implemented; the AuthMethod split leaves room
// for caching_sha2_password and client_ed25519.
//
// mysql_native_password, with nonce N (20 bytes) and password P:
//   stage1 = SHA1(P), stage2 = SHA1(stage1)       (mysql.user stores "*" + hex(stage2))
//   client response = stage1 XOR SHA1(N + stage2)
// A proxy that knows only stage2 can check a response and recover stage1 from it:
//   stage1' = response XOR SHA1(N + stage2), valid iff SHA1(stage1') == stage2
// and with stage1 it can answer any other server's nonce.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/wire.h"

namespace replproxy::protocol {

using Sha1Digest = std::array<uint8_t, 20>;

Sha1Digest sha1(ByteView data);
Sha1Digest sha1(ByteView a, ByteView b);

// SHA1(password).
Sha1Digest native_password_stage1(std::string_view password);
// SHA1(SHA1(password)).
Sha1Digest native_password_stage2(std::string_view password);

// Parses "*" + 40 hex digits (either case) into stage2; invalid_input otherwise.
Result<Sha1Digest> parse_native_password_hash(std::string_view text);
// "*" + 40 uppercase hex digits, as in mysql.user.
std::string format_native_password_hash(const Sha1Digest& stage2);

// `nonce` is the server's scramble: MariaDB sends 20 bytes followed by a NUL, and only the first
// 20 bytes take part in the hash, so either form may be passed.
//
// Empty passwords: stage1 of "" is SHA1("") like any other, but a client whose password is empty
// sends an EMPTY response instead of 20 bytes, and MariaDB rejects a 20-byte response for an
// account without password (PASSWORD('') is '' there, not a hash).

// The client's 20-byte response to `nonce` from stage1, always 20 bytes. A caller logging in with
// a stage1 for which native_password_is_empty() holds must send an empty response instead.
std::string native_password_response(const Sha1Digest& stage1, std::string_view nonce);

// True when stage1 is SHA1(""), i.e. the password is empty.
bool native_password_is_empty(const Sha1Digest& stage1);

// Checks a client response against stage2; returns stage1 when it matches. An empty response
// matches only stage2 == native_password_stage2("") and then gives stage1 = SHA1(""); a 20-byte
// response is checked as above; any other length never matches.
std::optional<Sha1Digest> native_password_verify(std::string_view response, std::string_view nonce,
                                                 const Sha1Digest& stage2);

}  // namespace replproxy::protocol
