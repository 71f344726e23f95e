#pragma once

// Bodies of the binlog events a relay has to understand: FORMAT_DESCRIPTION, ROTATE, the GTID
// events of both servers, GTID_LIST, BINLOG_CHECKPOINT, XID, QUERY and HEARTBEAT. Every other
// type is carried opaquely (EventView::body). A body is what split_event() leaves between the
// 19-byte header and the checksum; encoders append just the body (encode_event() frames it).
//
// Bodies come out of complete events, so a caller that gets not_enough_input from a body decoder
// holds a truncated event and treats it as malformed. The decoders still say not_enough_input
// for a short body, like every decoder in protocol/, so that "every strict prefix is incomplete"
// is checked the same way everywhere.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/binlog_event.h"
#include "protocol/gtid.h"
#include "protocol/wire.h"

namespace replproxy::protocol::binlog {

// FORMAT_DESCRIPTION_EVENT (15), the first event of every binlog file and of every dump stream.
//
//   field                width  notes
//   binlog_version       2      4
//   server_version       50     NUL padded
//   create_timestamp     4      0 except in the first file after the server started
//   header_length        1      19
//   post_header_lengths  n      one byte per event type 1..n
//   checksum_alg         1      ChecksumAlg; only from servers with checksums (MySQL >= 5.6.1,
//                               MariaDB >= 5.3), else absent
//   checksum             4      the FDE's own CRC32, whenever checksum_alg is present (also when
//                               it says off: it tells how the FOLLOWING events end)
//
// Whether checksum_alg (and so the FDE's own checksum) is present depends only on the server
// version written in the FDE, never on a setting known from elsewhere.
struct FormatDescription {
  uint16_t binlog_version = 4;
  std::string server_version;  // without the NUL padding
  uint32_t create_timestamp = 0;
  uint8_t header_length = kEventHeaderSize;
  std::vector<uint8_t> post_header_lengths;  // [i] is the post-header length of type i + 1
  ChecksumAlg checksum_alg = ChecksumAlg::undefined;

  // The post-header length of `type`, 0 when the FDE lists none for it.
  uint8_t post_header_length(uint8_t type) const;
  // Whether the events after this FDE carry a CRC32.
  bool events_have_checksum() const { return checksum_alg == ChecksumAlg::crc32; }
  // Whether this FDE itself ends with a CRC32 (split_event(whole, own_checksum())): whenever its
  // server writes the checksum_alg byte, whatever the byte says.
  bool own_checksum() const;

  bool operator==(const FormatDescription&) const = default;
};
inline constexpr size_t kServerVersionSize = 50;

// True when a server of this version writes the checksum_alg byte (and a CRC32 on its FDE).
bool server_version_has_checksum_alg(std::string_view server_version);

// Decodes a whole FDE (header, body, own checksum if any); the type must be
// format_description and whole_event exactly event_size bytes. The checksum is not verified.
Result<FormatDescription> decode_format_description(ByteView whole_event);
// The same from a body without its checksum (split_event(whole, own_checksum())).
Result<FormatDescription> decode_format_description_body(ByteView body);
// Appends the body. The checksum_alg byte is written when the server version has one, so
// what the decoders read back is what was encoded; encode_event() adds the CRC.
void encode_format_description(const FormatDescription& fde, Bytes& out);

// ROTATE_EVENT (4): the next file and the position to read it from. The server sends an
// artificial one (log_pos 0, LOG_EVENT_ARTIFICIAL_F) first in every dump.
//
//   field      width        notes
//   position   8            4 at the start of the next file
//   next_file  string<EOF>  not NUL terminated
struct Rotate {
  uint64_t position = 4;
  std::string next_file;

  bool operator==(const Rotate&) const = default;
};
Result<Rotate> decode_rotate(ByteView body);
void encode_rotate(const Rotate& msg, Bytes& out);

// MariaDB GTID_EVENT (162), the start of an event group. The GTID is domain_id-server_id-seq_no
// with server_id from the event header.
//
//   field        width  condition
//   seq_no       8
//   domain_id    4
//   flags        1      FL_* below
//   commit_id    8      FL_GROUP_COMMIT_ID
//   format_id    4      FL_PREPARED_XA or FL_COMPLETED_XA: the XA transaction's XID
//   gtrid_len    1      "
//   bqual_len    1      "  (each at most 64)
//   xid_data     n      "  gtrid_len + bqual_len bytes
//   padding      0..6   zeros up to 19 bytes when the fields above are shorter
//   extra        rest   flags_extra and its fields (MariaDB 10.5+): kept opaque
//
// The body is at least 19 bytes. `extra` holds whatever follows the fields above, except a body
// of 19 bytes whose rest is all zeros (plain padding), where it stays empty; the encoder pads to
// 19 bytes, so decode -> encode gives back the same bytes.
inline constexpr uint8_t FL_STANDALONE = 1;
inline constexpr uint8_t FL_GROUP_COMMIT_ID = 2;
inline constexpr uint8_t FL_TRANSACTIONAL = 4;
inline constexpr uint8_t FL_ALLOW_PARALLEL = 8;
inline constexpr uint8_t FL_WAITED = 16;
inline constexpr uint8_t FL_DDL = 32;
inline constexpr uint8_t FL_PREPARED_XA = 64;
inline constexpr uint8_t FL_COMPLETED_XA = 128;
inline constexpr size_t kMariaGtidMinBody = 19;
inline constexpr size_t kMaxXidPartSize = 64;

struct XaXid {
  int32_t format_id = 0;
  uint8_t gtrid_length = 0;
  uint8_t bqual_length = 0;
  std::string data;  // gtrid_length + bqual_length bytes

  bool operator==(const XaXid&) const = default;
};

struct MariaGtid {
  uint64_t seq_no = 0;
  uint32_t domain_id = 0;
  uint8_t flags = 0;
  std::optional<uint64_t> commit_id;  // present iff FL_GROUP_COMMIT_ID
  std::optional<XaXid> xa;            // present iff FL_PREPARED_XA or FL_COMPLETED_XA
  Bytes extra;

  Gtid gtid(uint32_t server_id) const { return Gtid{domain_id, server_id, seq_no}; }
  bool standalone() const { return flags & FL_STANDALONE; }
  bool operator==(const MariaGtid&) const = default;
};
// The encoder follows `flags`: it writes commit_id (0 if empty) under FL_GROUP_COMMIT_ID and
// the XID (an empty one if absent) under the XA flags. The decoder checks the XID's lengths.
Result<MariaGtid> decode_maria_gtid(ByteView body);
void encode_maria_gtid(const MariaGtid& msg, Bytes& out);

// MySQL GTID_LOG_EVENT (33) and ANONYMOUS_GTID_LOG_EVENT (34).
//
//   field            width  condition
//   flags            1      1 = may contain statement-based changes
//   sid              16     the source server's UUID
//   gno              8      transaction number (0 for anonymous)
//   lt_type          1      if bytes remain; must be 2 (logical timestamps)
//   last_committed   8      lt_type 2
//   sequence_number  8      lt_type 2
//   rest             n      commit timestamps, transaction length, server versions: opaque
struct MySqlLogicalTimestamps {
  int64_t last_committed = 0;
  int64_t sequence_number = 0;

  bool operator==(const MySqlLogicalTimestamps&) const = default;
};
inline constexpr uint8_t kLogicalTimestampTypecode = 2;

struct MySqlGtid {
  uint8_t flags = 0;
  std::array<uint8_t, 16> sid{};
  int64_t gno = 0;
  std::optional<MySqlLogicalTimestamps> logical_timestamps;
  Bytes rest;  // only after logical timestamps

  bool operator==(const MySqlGtid&) const = default;
};
Result<MySqlGtid> decode_mysql_gtid(ByteView body);
void encode_mysql_gtid(const MySqlGtid& msg, Bytes& out);

// MariaDB GTID_LIST_EVENT (163): the binlog state at the start of a file (after the FDE).
//
//   field            width  notes
//   count_and_flags  4      low 28 bits: number of GTIDs; top 4 bits: flags
//   gtids            16 n   domain_id 4, server_id 4, seq_no 8 each
struct GtidList {
  uint8_t flags = 0;  // the top 4 bits of count_and_flags, shifted down (0..15)
  std::vector<Gtid> gtids;

  bool operator==(const GtidList&) const = default;
};
inline constexpr uint32_t kGtidListCountMask = 0x0fffffff;
Result<GtidList> decode_gtid_list(ByteView body);
void encode_gtid_list(const GtidList& msg, Bytes& out);

// MariaDB BINLOG_CHECKPOINT_EVENT (161).
//
//   field     width  notes
//   name_len  4
//   log_file  n      the oldest file still needed for crash recovery
struct BinlogCheckpoint {
  std::string log_file;

  bool operator==(const BinlogCheckpoint&) const = default;
};
Result<BinlogCheckpoint> decode_binlog_checkpoint(ByteView body);
void encode_binlog_checkpoint(const BinlogCheckpoint& msg, Bytes& out);

// XID_EVENT (16): the commit of a transaction of an XA-capable engine.
//
//   field  width
//   xid    8
struct Xid {
  uint64_t xid = 0;

  bool operator==(const Xid&) const = default;
};
Result<Xid> decode_xid(ByteView body);
void encode_xid(const Xid& msg, Bytes& out);

// QUERY_EVENT (2). Borrowed views into the body.
//
//   field            width        notes
//   thread_id        4
//   exec_time        4
//   schema_len       1
//   error_code       2
//   status_vars_len  2            (the 13-byte post-header of every v4 server)
//   status_vars      n            kept raw
//   schema           schema_len   then a NUL
//   query            string<EOF>
struct Query {
  uint32_t thread_id = 0;
  uint32_t exec_time = 0;
  uint16_t error_code = 0;
  ByteView status_vars;
  std::string_view schema;  // at most 255 bytes
  std::string_view query;

  bool operator==(const Query& other) const;
};
Result<Query> decode_query(ByteView body);
void encode_query(const Query& msg, Bytes& out);

// HEARTBEAT_LOG_EVENT (27): sent by the primary when the dump is idle; the body is the current
// binlog file name, the header's log_pos the position in it. HEARTBEAT_LOG_EVENT_V2 (41) stays
// opaque.
struct Heartbeat {
  std::string_view log_file;

  bool operator==(const Heartbeat&) const = default;
};
Result<Heartbeat> decode_heartbeat(ByteView body);
void encode_heartbeat(const Heartbeat& msg, Bytes& out);

}  // namespace replproxy::protocol::binlog
