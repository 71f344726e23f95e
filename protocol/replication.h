#pragma once

// The replication command and stream layer: what a replica sends to register and ask for the
// binlog, the packets of the binlog network stream that answers it, and the semi-sync ACK. The
// events inside the stream are the binlog event codec's (protocol/binlog_event.h); this layer
// only unwraps them. Encoders append the payload only: frame it with encode_packet() or
// begin_packet()/finish_packet(). docs/relay-protocol.md has the whole exchange as observed
// between MariaDB 10.11 servers, with the captured bytes the tests use.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "protocol/generic.h"
#include "protocol/mysql_gtid_set.h"
#include "protocol/wire.h"

namespace replproxy::protocol {

// COM_REGISTER_SLAVE: the replica announces itself; the primary answers OK or ERR and lists it
// in SHOW SLAVE HOSTS. MariaDB sends it after its setup queries and before COM_BINLOG_DUMP.
//
//   field      width  notes
//   command    1      0x15
//   server_id  4
//   hostname   1 + n  report_host (a one-byte length, then the bytes)
//   user       1 + n  report_user, usually empty
//   password   1 + n  report_password, usually empty
//   port       2      report_port
//   rank       4      unused, 0
//   master_id  4      unused, 0
//
// The encoder truncates a string field to 255 bytes, the most its length byte can say.
struct RegisterSlave {
  uint32_t server_id = 0;
  std::string hostname;
  std::string user;
  std::string password;
  uint16_t port = 0;
  uint32_t rank = 0;
  uint32_t master_id = 0;

  bool operator==(const RegisterSlave&) const = default;
};
Result<RegisterSlave> decode_register_slave(ByteView payload);
void encode_register_slave(const RegisterSlave& msg, Bytes& out);

// Flags of COM_BINLOG_DUMP and COM_BINLOG_DUMP_GTID. 0x02 means one thing in each: MariaDB
// reads it in COM_BINLOG_DUMP as "send ANNOTATE_ROWS events", MySQL in COM_BINLOG_DUMP_GTID as
// "through position".
namespace binlog_dump_flag {
// Instead of waiting for new events at the end of the binlog, send EOF and end the stream.
inline constexpr uint16_t kNonBlock = 0x01;
// MariaDB: send ANNOTATE_ROWS events (the statement text before row events).
inline constexpr uint16_t kSendAnnotateRows = 0x02;
// MySQL, COM_BINLOG_DUMP_GTID only.
inline constexpr uint16_t kThroughPosition = 0x02;
inline constexpr uint16_t kThroughGtid = 0x04;
}  // namespace binlog_dump_flag

// COM_BINLOG_DUMP: start the binlog network stream at a file and position.
//
//   field      width        notes
//   command    1            0x12
//   position   4            where to start in `file`; 4 is the first event after the magic
//   flags      2            binlog_dump_flag
//   server_id  4            the replica's; 0 from mariadb-binlog
//   file       string<EOF>  may be empty
//
// MariaDB in GTID mode (MASTER_USE_GTID=slave_pos or current_pos) sets @slave_connect_state to
// the GTID position before this command, and the primary then ignores `file` and `position`.
// The replica still fills them from its master.info: observed from 10.11, an empty file and
// position 4 right after a CHANGE MASTER that changed host or port (which resets them), else the
// file and end position of the last event it received. Its flags are kSendAnnotateRows (0x02);
// mariadb-binlog sends 0x03 (kNonBlock added) and server id 0.
struct BinlogDump {
  uint32_t position = 0;
  uint16_t flags = 0;
  uint32_t server_id = 0;
  std::string file;

  bool operator==(const BinlogDump&) const = default;
};
Result<BinlogDump> decode_binlog_dump(ByteView payload);
void encode_binlog_dump(const BinlogDump& msg, Bytes& out);

// COM_BINLOG_DUMP_GTID (MySQL 5.6+; MariaDB does not implement it): start the stream after the
// transactions the replica already has.
//
//   field      width  condition / notes
//   command    1      0x1e
//   flags      2      binlog_dump_flag
//   server_id  4
//   file_size  4
//   file       n      file_size bytes; a GTID replica sends none
//   position   8      a GTID replica sends 4
//   data_size  4      flags & kThroughGtid
//   gtids      n      flags & kThroughGtid: data_size bytes, a MySqlGtidSet in binary form
//
// The encoder writes the GTID block exactly when `gtids` holds a set, and sets or clears
// kThroughGtid in the flags it writes to match; data_size is counted from the bytes written.
struct BinlogDumpGtid {
  uint16_t flags = 0;
  uint32_t server_id = 0;
  std::string file;
  uint64_t position = 0;
  std::optional<MySqlGtidSet> gtids;

  bool operator==(const BinlogDumpGtid&) const = default;
};
Result<BinlogDumpGtid> decode_binlog_dump_gtid(ByteView payload);
void encode_binlog_dump_gtid(const BinlogDumpGtid& msg, Bytes& out);

// One packet of the binlog network stream, the primary's answer to a dump command.
//
//   kind   payload
//   event  0x00, [0xef, ack flag 1] when the replica asked for semi-sync, then one whole event
//   eof    an EOF packet (0xfe, fewer than 9 bytes): the end of the binlog under kNonBlock
//   error  an ERR packet (0xff): the primary refuses or ends the stream, e.g. 1236
//          ER_MASTER_FATAL_ERROR_READING_BINLOG for a position it does not have
//
// Semi-sync: a replica asks for it with SET @rpl_semi_sync_slave=1 before the dump command;
// from then on every event packet carries the 2-byte header, even when the primary has
// rpl_semi_sync_master_enabled OFF (then the flag is always 0; observed on 10.11). So the caller
// says whether it asked; the header is never guessed from the bytes, since an event's first byte
// (the timestamp's lowest) may well be 0xef. Flag 0x01 asks the replica to send a SemiSyncAck;
// MariaDB sets it on the last event of a transaction (XID, or the QUERY of a DDL).
//
// Sequence ids: the stream continues the dump command's exchange (command 0, first event 1, +1
// per packet, wrapping at 256), except that after an event flagged for ACK the primary starts
// again at 1 for the next packet, as if the ACK (sent with sequence id 0) had been a new command.
// A relay serving MariaDB replicas must do the same, or they fail with "packets out of order".
//
// Large events: when the payload (the event + 1, or + 3 with semi-sync) reaches 0xffffff bytes,
// the primary splits it over several frames; only the first frame carries the 0x00 status and the
// semi-sync header, the others are raw continuation bytes. decode_dump_packet() wants the whole
// logical payload: run decode_packet() (protocol/packet.h) on the stream, which waits with
// not_enough_input until the frame shorter than 0xffffff bytes that ends the packet has arrived
// and joins the frames; pass the expected sequence id so a gap is a sequence_mismatch. Sending,
// encode_dump_event() the whole payload and let encode_packet()/finish_packet() split it (a
// payload of exactly 0xffffff bytes gets an empty last frame).
//
// An event is only delimited here: the 19-byte event header's event_size (offset 9, 4 bytes,
// checksum included) must equal the bytes that follow the status and semi-sync bytes, so a cut
// payload is not_enough_input and extra bytes invalid_input. Everything else about the event is
// the binlog event codec's.
struct DumpPacket {
  enum class Kind : uint8_t { event, eof, error };

  Kind kind = Kind::event;
  bool ack_requested = false;  // event only: the semi-sync flag was 0x01
  ByteView event;              // event only: the raw event, borrowed from the payload
  EofPacket eof;               // eof only
  ErrPacket error;             // error only

  // Compares the event bytes, not where they are stored.
  bool operator==(const DumpPacket& o) const {
    return kind == o.kind && ack_requested == o.ack_requested &&
           std::ranges::equal(event, o.event) && eof == o.eof && error == o.error;
  }
};
// `semi_sync`: the replica set @rpl_semi_sync_slave=1. `capabilities` are the connection's, for
// the EOF and ERR layouts.
Result<DumpPacket> decode_dump_packet(ByteView payload, bool semi_sync, uint64_t capabilities);
// An event packet: the status byte, the semi-sync header when `semi_sync_ack` holds a value (its
// flag: true asks for an ACK), the event.
void encode_dump_event(ByteView event, std::optional<bool> semi_sync_ack, Bytes& out);
// Any stream packet, as decode_dump_packet() reads it with the same `semi_sync`.
void encode_dump_packet(const DumpPacket& msg, bool semi_sync, uint64_t capabilities, Bytes& out);

// The semi-sync ACK, replica to primary, after an event flagged for it arrived whole.
//
//   field     width        notes
//   header    1            0xef
//   position  8            the end position of the acknowledged event (its header's log_pos)
//   file      string<EOF>  the binlog file it is in; no checksum
//
// It is a packet of its own with sequence id 0 (observed from MariaDB 10.11, and what the MariaDB
// docs' captures show), not the next id of the stream, and the primary sends no reply to it.
struct SemiSyncAck {
  uint64_t position = 0;
  std::string file;

  bool operator==(const SemiSyncAck&) const = default;
};
Result<SemiSyncAck> decode_semi_sync_ack(ByteView payload);
void encode_semi_sync_ack(const SemiSyncAck& msg, Bytes& out);

// True for a payload that starts like a SemiSyncAck, what a primary reads from a replica during
// a semi-sync dump (the other thing it may read is COM_QUIT).
inline bool is_semi_sync_ack_payload(ByteView p) { return !p.empty() && p[0] == 0xef; }

}  // namespace replproxy::protocol
