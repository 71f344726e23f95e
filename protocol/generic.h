#pragma once

// Generic response packets: OK, ERR, EOF, including session-state tracking in OK. Encoders append
// the payload only: frame it with encode_packet() or begin_packet()/finish_packet().

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/wire.h"

namespace replproxy::protocol {

// One entry of the session state info in an OK packet.
//   type  1       SESSION_TRACK_* below
//   data  lenenc  type-specific; kept raw here, helpers below parse the common ones.
enum class SessionTrackType : uint8_t {
  system_variables = 0,
  schema = 1,
  state_change = 2,
  gtids = 3,
  transaction_characteristics = 4,
  transaction_state = 5,
};

struct SessionStateChange {
  uint8_t type = 0;
  std::string data;

  bool operator==(const SessionStateChange&) const = default;
};

// OK packet.
//
//   field               width        condition
//   header              1            0x00 (0xfe when it ends a result set under DEPRECATE_EOF)
//   affected_rows       lenenc
//   last_insert_id      lenenc
//   status_flags        2            CLIENT_PROTOCOL_41 (or CLIENT_TRANSACTIONS)
//   warnings            2            CLIENT_PROTOCOL_41
//   info                lenenc       only if bytes remain (MariaDB's layout, and what both
//                                    servers send and both client libraries read; MySQL's
//                                    docs say string<EOF> without CLIENT_SESSION_TRACK)
//   session_state_info  lenenc       CLIENT_SESSION_TRACK and SERVER_SESSION_STATE_CHANGED:
//                                    a list of {type 1, data lenenc}
//
// MariaDB omits the info field under CLIENT_SESSION_TRACK when it is empty and no state changed;
// the decoder accepts both, the encoder writes it only when info or state changes are present.
// The encoder sets SERVER_SESSION_STATE_CHANGED in status_flags when session_state_changes is not
// empty, and writes the (possibly empty) block whenever that flag is set, as MariaDB does.
struct OkPacket {
  uint8_t header = 0x00;
  uint64_t affected_rows = 0;
  uint64_t last_insert_id = 0;
  uint16_t status_flags = 0;
  uint16_t warnings = 0;
  std::string info;
  std::vector<SessionStateChange> session_state_changes;

  bool operator==(const OkPacket&) const = default;
};
Result<OkPacket> decode_ok(ByteView payload, uint64_t capabilities);
void encode_ok(const OkPacket& msg, uint64_t capabilities, Bytes& out);

// ERR packet.
//
//   field           width        condition
//   header          1            0xff
//   error_code      2
//   sql_state       '#' + 5      CLIENT_PROTOCOL_41 (the marker is optional on the wire)
//   error_message   string<EOF>
struct ErrPacket {
  uint16_t error_code = 0;
  std::string sql_state;  // 5 characters, or empty when the marker was absent
  std::string message;

  bool operator==(const ErrPacket&) const = default;
};
Result<ErrPacket> decode_err(ByteView payload, uint64_t capabilities);
void encode_err(const ErrPacket& msg, uint64_t capabilities, Bytes& out);

// EOF packet: 0xfe, then warnings (2) and status_flags (2) under CLIENT_PROTOCOL_41. A payload
// starting with 0xfe is an EOF only when shorter than 9 bytes.
struct EofPacket {
  uint16_t warnings = 0;
  uint16_t status_flags = 0;

  bool operator==(const EofPacket&) const = default;
};
Result<EofPacket> decode_eof(ByteView payload, uint64_t capabilities);
void encode_eof(const EofPacket& msg, uint64_t capabilities, Bytes& out);

inline bool is_ok_payload(ByteView p) { return !p.empty() && p[0] == 0x00; }
inline bool is_err_payload(ByteView p) { return !p.empty() && p[0] == 0xff; }
inline bool is_eof_payload(ByteView p) { return !p.empty() && p[0] == 0xfe && p.size() < 9; }

// Parses the data of a system_variables entry (lenenc name, lenenc value).
struct TrackedVariable {
  std::string name;
  std::string value;

  bool operator==(const TrackedVariable&) const = default;
};
Result<TrackedVariable> decode_tracked_variable(std::string_view data);
// Parses the data of a schema entry (lenenc name).
Result<std::string> decode_tracked_schema(std::string_view data);

}  // namespace replproxy::protocol
