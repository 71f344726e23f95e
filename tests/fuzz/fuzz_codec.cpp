// libFuzzer target for the protocol codec: packet framing and every message decoder.
//
// Input: the first byte picks the negotiated capabilities (one bit per capability that changes a
// layout), the rest is fed to every decoder as a payload and to decode_packet() as a stream.
// Properties checked, any violation aborts:
//   - whatever decodes re-encodes to bytes that decode to the same value;
//   - no strict prefix of a decodable payload is invalid_input (incomplete is not malformed);
//   - decode_packet() never consumes more than it was given.
// Run it on a scratch copy of the seeds, e.g.
//   mkdir -p /tmp/corpus && build-fuzz/fuzz_codec -max_total_time=60 /tmp/corpus \
//       tests/fuzz/corpus/codec

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <vector>

#include "protocol/auth.h"
#include "protocol/commands.h"
#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/handshake.h"
#include "protocol/packet.h"
#include "tests/fuzz/fuzz_properties.h"

namespace replproxy::protocol {
namespace {

using fuzz::check_prefixes;
using fuzz::round_trip;
using fuzz::violated;

uint64_t capabilities_from(uint8_t selector) {
  constexpr uint64_t kBits[] = {cap::kProtocol41,       cap::kTransactions, cap::kSessionTrack,
                                cap::kSecureConnection, cap::kPluginAuth,   cap::kConnectAttrs};
  uint64_t caps = 0;
  for (size_t i = 0; i < std::size(kBits); ++i) {
    if (selector & (1u << i)) {
      caps |= kBits[i];
    }
  }
  return caps;
}

void fuzz_packet(ByteView input) {
  auto packet = decode_packet(input);
  if (!packet) {
    return;
  }
  if (packet->consumed > input.size()) {
    violated("decode_packet consumed more than its input");
  }
  Bytes framed;
  encode_packet(packet->payload, packet->first_sequence_id, framed);
  auto again = decode_packet(framed, packet->first_sequence_id);
  if (!again || again->consumed != framed.size() ||
      !std::ranges::equal(again->payload, packet->payload)) {
    violated("re-framed packet differs");
  }
}

void fuzz_connection_phase(ByteView p) {
  round_trip(p, decode_initial_handshake, encode_initial_handshake);
  round_trip(p, decode_ssl_request, encode_ssl_request);
  round_trip(p, decode_handshake_response, encode_handshake_response);
  round_trip(p, decode_auth_switch_request, encode_auth_switch_request);
  round_trip(p, decode_auth_more_data, encode_auth_more_data);
  (void)is_ssl_request(p);
}

void fuzz_tracked_state(const std::vector<SessionStateChange>& changes) {
  for (const SessionStateChange& change : changes) {
    if (auto v = decode_tracked_variable(change.data)) {
      Bytes out;
      Writer(out).lenenc_string(v->name).lenenc_string(v->value);
      if (decode_tracked_variable(as_chars(out)) != v) {
        violated("tracked variable does not round-trip");
      }
    }
    if (auto s = decode_tracked_schema(change.data)) {
      Bytes out;
      Writer(out).lenenc_string(*s);
      if (decode_tracked_schema(as_chars(out)) != s) {
        violated("tracked schema does not round-trip");
      }
    }
  }
}

void fuzz_responses(ByteView p, uint64_t caps) {
  const auto decode_ok_caps = [caps](ByteView b) { return decode_ok(b, caps); };
  round_trip(p, decode_ok_caps, [caps](const OkPacket& m, Bytes& out) { encode_ok(m, caps, out); });
  round_trip(
      p, [caps](ByteView b) { return decode_err(b, caps); },
      [caps](const ErrPacket& m, Bytes& out) { encode_err(m, caps, out); });
  round_trip(
      p, [caps](ByteView b) { return decode_eof(b, caps); },
      [caps](const EofPacket& m, Bytes& out) { encode_eof(m, caps, out); });
  if (auto ok = decode_ok_caps(p)) {
    fuzz_tracked_state(ok->session_state_changes);
  }
}

void fuzz_commands(ByteView p, uint64_t caps) {
  round_trip(p, decode_com_query,
             [](const ComQuery& m, Bytes& out) { encode_com_query(m.query, out); });
  round_trip(p, decode_com_init_db,
             [](const ComInitDb& m, Bytes& out) { encode_com_init_db(m.schema, out); });
  round_trip(p, decode_com_field_list, encode_com_field_list);
  round_trip(p, decode_com_set_option,
             [](const ComSetOption& m, Bytes& out) { encode_com_set_option(m.option, out); });
  round_trip(p, decode_com_stmt_prepare,
             [](const ComStmtPrepare& m, Bytes& out) { encode_com_stmt_prepare(m.query, out); });
  round_trip(p, decode_com_stmt_execute, encode_com_stmt_execute);
  round_trip(p, decode_com_stmt_close,
             [](const ComStmtId& m, Bytes& out) { encode_com_stmt_close(m.statement_id, out); });
  round_trip(p, decode_com_stmt_reset,
             [](const ComStmtId& m, Bytes& out) { encode_com_stmt_reset(m.statement_id, out); });
  round_trip(p, decode_com_stmt_fetch, encode_com_stmt_fetch);
  round_trip(p, decode_com_stmt_send_long_data, encode_com_stmt_send_long_data);
  round_trip(
      p, [caps](ByteView b) { return decode_com_change_user(b, caps); },
      [caps](const ComChangeUser& m, Bytes& out) { encode_com_change_user(m, caps, out); });
  (void)command_name(p.empty() ? 0 : p[0]);
}

void fuzz_password_hash(ByteView p) {
  auto stage2 = parse_native_password_hash(as_chars(p));
  if (stage2 && parse_native_password_hash(format_native_password_hash(*stage2)) != stage2) {
    violated("password hash does not round-trip");
  }
}

}  // namespace
}  // namespace replproxy::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace replproxy::protocol;
  if (size == 0) {
    return 0;
  }
  const uint64_t caps = capabilities_from(data[0]);
  const ByteView payload(data + 1, size - 1);
  fuzz_packet(payload);
  fuzz_connection_phase(payload);
  fuzz_responses(payload, caps);
  fuzz_commands(payload, caps);
  fuzz_password_hash(payload);
  return 0;
}

const char* replproxy::fuzz::target_name() { return "fuzz_codec"; }
