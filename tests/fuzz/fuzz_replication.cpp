// libFuzzer target for the replication command and stream layer (protocol/replication.h) and
// MySQL's GTID set (protocol/mysql_gtid_set.h).
//
// Input: the first byte picks the semi-sync mode (bit 0) and whether the connection has
// CLIENT_PROTOCOL_41 (bit 1); the rest is fed to every decoder as a payload, and as text to the
// GTID set parser. Properties checked, any violation aborts:
//   - whatever decodes re-encodes to bytes that decode to the same value;
//   - no strict prefix of a decodable payload is invalid_input (incomplete is not malformed);
//   - a decoded or parsed GTID set is valid, and its text form parses back to it.
// Run it on a scratch copy of the seeds, e.g.
//   mkdir -p /tmp/replication && build-fuzz/fuzz_replication -max_total_time=60 \
//       /tmp/replication tests/fuzz/corpus/replication

#include <cstdio>
#include <cstdlib>

#include "protocol/constants.h"
#include "protocol/mysql_gtid_set.h"
#include "protocol/replication.h"
#include "tests/fuzz/fuzz_properties.h"

namespace replproxy::protocol {
namespace {

using fuzz::check_prefixes;
using fuzz::round_trip;
using fuzz::violated;

void check_gtid_set(const MySqlGtidSet& set) {
  if (!is_valid_mysql_gtid_set(set)) {
    violated("an invalid GTID set was accepted");
  }
  auto reparsed = parse_mysql_gtid_set(format_mysql_gtid_set(set));
  if (!reparsed || *reparsed != set) {
    violated("GTID set text form does not parse back");
  }
}

void fuzz_gtid_set(ByteView p) {
  round_trip(p, decode_mysql_gtid_set, encode_mysql_gtid_set);
  if (auto set = decode_mysql_gtid_set(p)) {
    check_gtid_set(*set);
  }
  if (auto set = parse_mysql_gtid_set(as_chars(p))) {
    check_gtid_set(*set);
  }
}

void fuzz_commands(ByteView p) {
  round_trip(p, decode_register_slave, encode_register_slave);
  round_trip(p, decode_binlog_dump, encode_binlog_dump);
  round_trip(p, decode_binlog_dump_gtid, encode_binlog_dump_gtid);
  if (auto dump = decode_binlog_dump_gtid(p); dump && dump->gtids) {
    check_gtid_set(*dump->gtids);
  }
  round_trip(p, decode_semi_sync_ack, encode_semi_sync_ack);
}

void fuzz_stream(ByteView p, bool semi_sync, uint64_t caps) {
  round_trip(
      p, [=](ByteView b) { return decode_dump_packet(b, semi_sync, caps); },
      [=](const DumpPacket& m, Bytes& out) { encode_dump_packet(m, semi_sync, caps, out); });
}

}  // namespace
}  // namespace replproxy::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace replproxy::protocol;
  if (size == 0) {
    return 0;
  }
  const bool semi_sync = data[0] & 0x01;
  const uint64_t caps = (data[0] & 0x02) ? cap::kProtocol41 : 0;
  const ByteView payload(data + 1, size - 1);
  fuzz_gtid_set(payload);
  fuzz_commands(payload);
  fuzz_stream(payload, semi_sync, caps);
  return 0;
}

const char* replproxy::fuzz::target_name() { return "fuzz_replication"; }
