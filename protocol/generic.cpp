#include "protocol/generic.h"

#include "protocol/constants.h"
#include "protocol/field_reader.h"

namespace replproxy::protocol {
namespace {

constexpr uint8_t kOkHeader = 0x00;
constexpr uint8_t kEofHeader = 0xfe;
constexpr uint8_t kErrHeader = 0xff;
constexpr char kSqlStateMarker = '#';
constexpr size_t kSqlStateSize = 5;

// Parses the session_state_info block, which arrived whole: an entry that does not fit it is
// invalid_input.
Result<std::vector<SessionStateChange>> decode_session_state(std::string_view block) {
  Reader r(as_bytes(block));
  std::vector<SessionStateChange> changes;
  while (!r.empty()) {
    auto type = r.u8();
    if (!type) {
      return fail(CodecErrc::invalid_input);
    }
    auto data = r.lenenc_string();
    if (!data) {
      return fail(CodecErrc::invalid_input);
    }
    changes.push_back(SessionStateChange{*type, std::string(*data)});
  }
  return changes;
}

void encode_session_state(const std::vector<SessionStateChange>& changes, Writer& w) {
  size_t total = 0;
  for (const auto& change : changes) {
    total += 1 + lenenc_int_size(change.data.size()) + change.data.size();
  }
  w.lenenc_int(total);
  for (const auto& change : changes) {
    w.u8(change.type).lenenc_string(change.data);
  }
}

// Reads status_flags and warnings, whose presence depends on the capabilities.
void read_status(FieldReader& f, uint64_t capabilities, uint16_t& status, uint16_t& warnings) {
  if (capabilities & cap::kProtocol41) {
    status = f.u16();
    warnings = f.u16();
  } else if (capabilities & cap::kTransactions) {
    status = f.u16();
  }
}

}  // namespace

Result<OkPacket> decode_ok(ByteView payload, uint64_t capabilities) {
  FieldReader f(payload);
  OkPacket msg;
  msg.header = f.u8();
  if (msg.header != kOkHeader && msg.header != kEofHeader) {
    f.fail(CodecErrc::invalid_input);
  }
  msg.affected_rows = f.lenenc_int();
  msg.last_insert_id = f.lenenc_int();
  read_status(f, capabilities, msg.status_flags, msg.warnings);
  if (f.at_end()) {
    return f.finish(std::move(msg));
  }
  msg.info = f.lenenc_string();
  if ((capabilities & cap::kSessionTrack) && (msg.status_flags & status::kSessionStateChanged)) {
    std::string_view block = f.lenenc_string();
    if (!f.failed()) {
      msg.session_state_changes = f.take(decode_session_state(block));
    }
  }
  f.expect_end();
  return f.finish(std::move(msg));
}

void encode_ok(const OkPacket& msg, uint64_t capabilities, Bytes& out) {
  // State changes are only on the wire when the status flag announces them.
  uint16_t status_flags = msg.status_flags;
  if (!msg.session_state_changes.empty()) {
    status_flags |= status::kSessionStateChanged;
  }
  Writer w(out);
  w.u8(msg.header).lenenc_int(msg.affected_rows).lenenc_int(msg.last_insert_id);
  if (capabilities & cap::kProtocol41) {
    w.u16(status_flags).u16(msg.warnings);
  } else if (capabilities & cap::kTransactions) {
    w.u16(status_flags);
  }
  if (!(capabilities & cap::kSessionTrack)) {
    if (!msg.info.empty()) {
      w.lenenc_string(msg.info);
    }
    return;
  }
  const bool state_changed = status_flags & status::kSessionStateChanged;
  if (!msg.info.empty() || state_changed) {
    w.lenenc_string(msg.info);
  }
  if (state_changed) {
    encode_session_state(msg.session_state_changes, w);
  }
}

Result<ErrPacket> decode_err(ByteView payload, uint64_t capabilities) {
  FieldReader f(payload);
  if (f.u8() != kErrHeader) {
    f.fail(CodecErrc::invalid_input);
  }
  ErrPacket msg;
  msg.error_code = f.u16();
  if ((capabilities & cap::kProtocol41) && f.peek() == static_cast<uint8_t>(kSqlStateMarker)) {
    f.skip(1);
    msg.sql_state = f.fixed_string(kSqlStateSize);
  }
  msg.message = f.rest_string();
  return f.finish(std::move(msg));
}

void encode_err(const ErrPacket& msg, uint64_t capabilities, Bytes& out) {
  Writer w(out);
  w.u8(kErrHeader).u16(msg.error_code);
  if ((capabilities & cap::kProtocol41) && !msg.sql_state.empty()) {
    std::string sql_state = msg.sql_state.substr(0, kSqlStateSize);
    sql_state.resize(kSqlStateSize, '0');
    w.u8(kSqlStateMarker).raw(sql_state);
  }
  w.raw(msg.message);
}

Result<EofPacket> decode_eof(ByteView payload, uint64_t capabilities) {
  FieldReader f(payload);
  if (f.u8() != kEofHeader) {
    f.fail(CodecErrc::invalid_input);
  }
  EofPacket msg;
  if (capabilities & cap::kProtocol41) {
    msg.warnings = f.u16();
    msg.status_flags = f.u16();
  }
  f.expect_end();
  return f.finish(std::move(msg));
}

void encode_eof(const EofPacket& msg, uint64_t capabilities, Bytes& out) {
  Writer w(out);
  w.u8(kEofHeader);
  if (capabilities & cap::kProtocol41) {
    w.u16(msg.warnings).u16(msg.status_flags);
  }
}

Result<TrackedVariable> decode_tracked_variable(std::string_view data) {
  // The entry's data arrived whole, so a short read means the lengths disagree.
  Reader r(as_bytes(data));
  auto name = r.lenenc_string();
  if (!name) {
    return fail(CodecErrc::invalid_input);
  }
  auto value = r.lenenc_string();
  if (!value || !r.empty()) {
    return fail(CodecErrc::invalid_input);
  }
  return TrackedVariable{std::string(*name), std::string(*value)};
}

Result<std::string> decode_tracked_schema(std::string_view data) {
  Reader r(as_bytes(data));
  auto name = r.lenenc_string();
  if (!name || !r.empty()) {
    return fail(CodecErrc::invalid_input);
  }
  return std::string(*name);
}

}  // namespace replproxy::protocol
