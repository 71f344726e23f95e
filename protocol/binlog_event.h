#pragma once

// Binlog events (binlog format v4, MySQL >= 5.0 and every MariaDB): the common header, event
// types, the optional CRC32 trailer and splitting a byte stream or file into events. Sans-IO like
// the rest of protocol/: callers own the bytes, views borrow them.
//
// An event on the wire (after the 0x00 OK byte of a binlog-dump packet) and in a binlog file:
//
//   field       width  notes
//   timestamp   4      seconds since the epoch, when the statement started
//   type        1      EventType below
//   server_id   4      the server that first wrote the event (kept when replicated)
//   event_size  4      header + body + checksum
//   log_pos     4      position of the NEXT event in the writer's file; 0 for artificial events
//   flags       2      LOG_EVENT_*_F below
//   body        n      post-header (fixed per type, lengths listed in the FDE) + payload
//   checksum    4      CRC32 (zlib polynomial) of all preceding bytes, only under binlog_checksum
//                      = CRC32 as announced by the FORMAT_DESCRIPTION_EVENT
//
// A binlog file starts with the 4 magic bytes fe 'b' 'i' 'n', then events back to back.

#include <cstdint>
#include <span>
#include <string_view>

#include "protocol/wire.h"

namespace replproxy::protocol::binlog {

inline constexpr size_t kEventHeaderSize = 19;
inline constexpr size_t kChecksumSize = 4;
inline constexpr uint8_t kBinlogMagic[4] = {0xfe, 'b', 'i', 'n'};
// Offsets of the header fields inside an event.
inline constexpr size_t kTypeOffset = 4;
inline constexpr size_t kEventSizeOffset = 9;
inline constexpr size_t kLogPosOffset = 13;
inline constexpr size_t kFlagsOffset = 17;

enum class EventType : uint8_t {
  unknown = 0,
  start_v3 = 1,
  query = 2,
  stop = 3,
  rotate = 4,
  intvar = 5,
  load = 6,
  slave = 7,
  create_file = 8,
  append_block = 9,
  exec_load = 10,
  delete_file = 11,
  new_load = 12,
  rand = 13,
  user_var = 14,
  format_description = 15,
  xid = 16,
  begin_load_query = 17,
  execute_load_query = 18,
  table_map = 19,
  pre_ga_write_rows = 20,
  pre_ga_update_rows = 21,
  pre_ga_delete_rows = 22,
  write_rows_v1 = 23,
  update_rows_v1 = 24,
  delete_rows_v1 = 25,
  incident = 26,
  heartbeat = 27,
  ignorable = 28,
  rows_query = 29,
  write_rows = 30,
  update_rows = 31,
  delete_rows = 32,
  gtid_mysql = 33,
  anonymous_gtid = 34,
  previous_gtids = 35,
  transaction_context = 36,
  view_change = 37,
  xa_prepare = 38,
  partial_update_rows = 39,
  transaction_payload = 40,
  heartbeat_v2 = 41,
  gtid_tagged = 42,
  annotate_rows = 160,
  binlog_checkpoint = 161,
  gtid_mariadb = 162,
  gtid_list = 163,
  start_encryption = 164,
  query_compressed = 165,
  write_rows_compressed_v1 = 166,
  update_rows_compressed_v1 = 167,
  delete_rows_compressed_v1 = 168,
  write_rows_compressed = 169,
  update_rows_compressed = 170,
  delete_rows_compressed = 171,
};

// The server's name for a type ("QUERY_EVENT", ...), or "UNKNOWN_EVENT" for a number no server
// uses. Types are compared as raw bytes so that events of a newer server pass through.
std::string_view event_type_name(uint8_t type);

inline constexpr uint8_t type_byte(EventType t) { return static_cast<uint8_t>(t); }

// Header flags.
inline constexpr uint16_t LOG_EVENT_BINLOG_IN_USE_F = 0x0001;  // FDE of a file still written
inline constexpr uint16_t LOG_EVENT_THREAD_SPECIFIC_F = 0x0004;
inline constexpr uint16_t LOG_EVENT_SUPPRESS_USE_F = 0x0008;
inline constexpr uint16_t LOG_EVENT_ARTIFICIAL_F = 0x0020;  // made up by the sender, not in a file
inline constexpr uint16_t LOG_EVENT_RELAY_LOG_F = 0x0040;
inline constexpr uint16_t LOG_EVENT_IGNORABLE_F = 0x0080;  // a reader may skip an unknown type
inline constexpr uint16_t LOG_EVENT_SKIP_REPLICATION_F = 0x8000;

enum class ChecksumAlg : uint8_t { off = 0, crc32 = 1, undefined = 255 };

struct EventHeader {
  uint32_t timestamp = 0;
  uint8_t type = 0;
  uint32_t server_id = 0;
  uint32_t event_size = 0;
  uint32_t log_pos = 0;
  uint16_t flags = 0;

  bool operator==(const EventHeader&) const = default;
};

// Decodes the 19-byte header at the start of `bytes` (more may follow); not_enough_input when
// fewer than 19 bytes, invalid_input when event_size is below the header size.
Result<EventHeader> decode_event_header(ByteView bytes);
void encode_event_header(const EventHeader& header, Bytes& out);

// CRC32 as binlog_checksum=CRC32 computes it (zlib's crc32, initial value 0).
uint32_t binlog_crc32(ByteView bytes);

// The checksum a server stores for `whole_event` (which includes its 4 trailing checksum bytes,
// ignored here). A FORMAT_DESCRIPTION_EVENT is checksummed with LOG_EVENT_BINLOG_IN_USE_F cleared,
// because the server clears that flag in place when it closes the file without rewriting the
// CRC; the event's bytes are not modified. Requires whole_event.size() >= 19 + 4.
uint32_t event_checksum(ByteView whole_event);

// True when the last 4 bytes (little endian) equal event_checksum(). False for events too short
// to carry a header and a checksum.
bool checksum_matches(ByteView whole_event);

// Sets the header's log_pos and, when has_checksum, recomputes the trailing CRC32 (e.g. when a
// relay writes a received event at another position of its own file). Requires a whole event
// of at least 19 (+4) bytes.
void rewrite_log_pos(std::span<uint8_t> whole_event, uint32_t log_pos, bool has_checksum);

// Recomputes the trailing CRC32 of an event whose bytes were changed in place.
void rewrite_checksum(std::span<uint8_t> whole_event);

// One event, borrowed from the caller's bytes.
struct EventView {
  EventHeader header;
  ByteView body;   // without header and checksum
  ByteView whole;  // header + body + checksum, exactly event_size bytes

  EventType type() const { return static_cast<EventType>(header.type); }
  bool is(EventType t) const { return header.type == type_byte(t); }
};

// Splits one complete event. `whole_event` must be exactly event_size bytes: fewer is
// not_enough_input, more (or an event_size below 19, or 23 with a checksum) is invalid_input.
// The checksum is not verified here: call checksum_matches() where it matters.
Result<EventView> split_event(ByteView whole_event, bool has_checksum);

// For scanning a binlog file or a stream of events: the size of the event starting at
// `bytes` (which may hold less or more than that event). not_enough_input while the header is
// incomplete, invalid_input when event_size < 19. The caller checks it has that many bytes.
Result<size_t> next_event_size(ByteView bytes);

// Appends a whole event: `header` with event_size computed from the body (its event_size field
// is ignored), the body, and the CRC32 when has_checksum.
void encode_event(const EventHeader& header, ByteView body, bool has_checksum, Bytes& out);

}  // namespace replproxy::protocol::binlog
