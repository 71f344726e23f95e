// libFuzzer target for the binlog codec: event splitting, checksums, every body decoder, GTID
// text and the transaction tracker.
//
// Input: the first byte's low bit says whether events carry a CRC32 (until an FDE says
// otherwise); the rest is a stream of whole events as a binlog file holds them after its magic.
// Properties checked, any violation aborts:
//   - whatever decodes re-encodes to bytes that decode to the same value;
//   - no strict prefix of a decodable body or FDE is invalid_input;
//   - split_event's views lie inside the event; rewrite_log_pos leaves a matching checksum;
//   - the tracker never reports a group end without a group, nor both outside and in a group.
// Run it on a scratch copy of the seeds, e.g.
//   mkdir -p /tmp/binlog && build-fuzz/fuzz_binlog -max_total_time=60 /tmp/binlog \
//       tests/fuzz/corpus/binlog

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "protocol/binlog_bodies.h"
#include "protocol/binlog_event.h"
#include "protocol/binlog_transaction.h"
#include "protocol/gtid.h"
#include "tests/fuzz/fuzz_properties.h"

namespace replproxy::protocol::binlog {
namespace {

using fuzz::check_prefixes;
using fuzz::round_trip;
using fuzz::violated;

// Every body decoder, whatever the type says: bodies of one type must not crash another's.
void fuzz_bodies(ByteView body) {
  round_trip(body, decode_format_description_body, encode_format_description);
  round_trip(body, decode_rotate, encode_rotate);
  round_trip(body, decode_maria_gtid, encode_maria_gtid);
  round_trip(body, decode_mysql_gtid, encode_mysql_gtid);
  round_trip(body, decode_gtid_list, encode_gtid_list);
  round_trip(body, decode_binlog_checkpoint, encode_binlog_checkpoint);
  round_trip(body, decode_xid, encode_xid);
  round_trip(body, decode_query, encode_query);
  round_trip(body, decode_heartbeat, encode_heartbeat);
}

void fuzz_whole_fde(ByteView whole) {
  auto fde = decode_format_description(whole);
  if (!fde) {
    return;
  }
  auto header = decode_event_header(whole);
  Bytes body;
  encode_format_description(*fde, body);
  Bytes event;
  encode_event(*header, body, fde->own_checksum(), event);
  auto again = decode_format_description(event);
  if (!again || !(*again == *fde)) {
    violated("re-encoded FDE decodes to another value");
  }
  check_prefixes(whole, decode_format_description);
}

void fuzz_event(ByteView whole, bool has_checksum) {
  for (bool checksum : {has_checksum, !has_checksum}) {
    auto view = split_event(whole, checksum);
    if (!view) {
      continue;
    }
    if (view->whole.size() != whole.size() ||
        view->body.size() + kEventHeaderSize + (checksum ? kChecksumSize : 0) != whole.size()) {
      violated("split_event's views do not add up");
    }
    fuzz_bodies(view->body);
    if (checksum) {
      (void)checksum_matches(whole);
      Bytes copy(whole.begin(), whole.end());
      rewrite_log_pos(copy, 12345, true);
      if (!checksum_matches(copy) || decode_event_header(copy)->log_pos != 12345) {
        violated("rewrite_log_pos left a bad checksum");
      }
    }
  }
}

void fuzz_tracker(TransactionTracker& tracker, const EventView& event) {
  const bool was_in_group = tracker.in_group();
  auto role = tracker.on_event(event);
  if (!role) {
    if (tracker.in_group() != was_in_group) {
      violated("a failed event changed the tracker's state");
    }
    return;
  }
  if (role->outside_group && (role->starts_group || role->ends_group)) {
    violated("an event both outside and in a group");
  }
  if (role->ends_group && !role->starts_group && !was_in_group) {
    violated("a group ended that never started");
  }
  if (role->interrupts_group && !was_in_group) {
    violated("interrupted a group that was not open");
  }
  if ((role->ends_group && tracker.in_group()) ||
      (role->starts_group && !role->ends_group && !tracker.in_group())) {
    violated("in_group() disagrees with the role");
  }
}

void fuzz_gtid_text(ByteView input) {
  auto pos = GtidPosition::parse(as_chars(input));
  if (pos) {
    auto again = GtidPosition::parse(pos->to_string());
    if (!again || !(*again == *pos)) {
      violated("GTID position does not round-trip");
    }
  }
  auto gtid = parse_gtid(as_chars(input));
  if (gtid && parse_gtid(gtid->to_string()) != gtid) {
    violated("GTID does not round-trip");
  }
}

}  // namespace
}  // namespace replproxy::protocol::binlog

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace replproxy::protocol;
  using namespace replproxy::protocol::binlog;
  if (size == 0) {
    return 0;
  }
  bool has_checksum = data[0] & 1;
  ByteView stream(data + 1, size - 1);
  fuzz_gtid_text(stream.first(std::min<size_t>(stream.size(), 200)));
  TransactionTracker tracker;
  while (!stream.empty()) {
    auto event_size = next_event_size(stream);
    if (!event_size || *event_size > stream.size()) {
      fuzz_bodies(stream);
      break;
    }
    const ByteView whole = stream.first(*event_size);
    stream = stream.subspan(*event_size);
    if (whole[kTypeOffset] == type_byte(EventType::format_description)) {
      fuzz_whole_fde(whole);
      if (auto fde = decode_format_description(whole)) {
        has_checksum = fde->events_have_checksum();
        if (auto view = split_event(whole, fde->own_checksum())) {
          fuzz_tracker(tracker, *view);
        }
      }
      continue;
    }
    fuzz_event(whole, has_checksum);
    if (auto view = split_event(whole, has_checksum)) {
      fuzz_tracker(tracker, *view);
    }
  }
  return 0;
}

const char* replproxy::fuzz::target_name() { return "fuzz_binlog"; }
