#pragma once

// The properties every codec fuzz target checks, in one place: whatever decodes re-encodes to
// bytes that decode to the same value, and no strict prefix of decodable input is invalid_input
// (incomplete is not malformed). Each target defines target_name() for the abort message.

#include <cstdio>
#include <cstdlib>

#include "protocol/error.h"
#include "protocol/wire.h"

namespace replproxy::fuzz {

// "fuzz_codec", ...: defined once by each target.
const char* target_name();

// Prefixes are checked on small inputs only, to keep the check quadratic in little.
inline constexpr size_t kMaxPrefixCheck = 256;

[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "%s: %s\n", target_name(), what);
  std::abort();
}

template <class Decode>
void check_prefixes(protocol::ByteView input, Decode decode) {
  if (input.size() > kMaxPrefixCheck) {
    return;
  }
  for (size_t n = 0; n < input.size(); ++n) {
    auto prefix = decode(input.first(n));
    if (!prefix && prefix.error() == make_error_code(protocol::CodecErrc::invalid_input)) {
      violated("a strict prefix of decodable input is invalid_input");
    }
  }
}

template <class Decode, class Encode>
void round_trip(protocol::ByteView input, Decode decode, Encode encode) {
  auto first = decode(input);
  if (!first) {
    return;
  }
  protocol::Bytes encoded;
  encode(*first, encoded);
  auto second = decode(protocol::ByteView(encoded));
  if (!second) {
    violated("re-encoded input does not decode");
  }
  if (!(*second == *first)) {
    violated("re-encoded input decodes to another value");
  }
  check_prefixes(input, decode);
}

}  // namespace replproxy::fuzz
