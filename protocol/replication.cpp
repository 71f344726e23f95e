#include "protocol/replication.h"

#include "protocol/constants.h"
#include "protocol/field_reader.h"

namespace replproxy::protocol {
namespace {

constexpr uint8_t kStreamEventStatus = 0x00;
constexpr uint8_t kEofHeader = 0xfe;
constexpr uint8_t kErrHeader = 0xff;
constexpr uint8_t kSemiSyncIndicator = 0xef;
constexpr uint8_t kSemiSyncAckRequested = 0x01;
constexpr size_t kMaxShortString = 0xff;
// The binlog event header's size and where in it event_size lies (v4 events: timestamp 4,
// type 1, server_id 4, event_size 4, log_pos 4, flags 2).
constexpr size_t kEventHeaderSize = 19;
constexpr size_t kEventSizeOffset = 9;

void expect_command(FieldReader& f, Command command) {
  if (f.u8() != static_cast<uint8_t>(command)) {
    f.fail(CodecErrc::invalid_input);
  }
}

void write_short_string(Writer& w, std::string_view s) {
  s = s.substr(0, kMaxShortString);
  w.u8(static_cast<uint8_t>(s.size())).raw(s);
}

// Checks that `event` is exactly one event long, by its header's event_size.
Result<void> check_event_length(ByteView event) {
  if (event.size() < kEventHeaderSize) {
    return fail(CodecErrc::not_enough_input);
  }
  Reader r(event.subspan(kEventSizeOffset));
  const uint32_t event_size = *r.u32();
  if (event_size < kEventHeaderSize || event.size() > event_size) {
    return fail(CodecErrc::invalid_input);
  }
  if (event.size() < event_size) {
    return fail(CodecErrc::not_enough_input);
  }
  return {};
}

Result<DumpPacket> decode_stream_event(ByteView payload, bool semi_sync) {
  FieldReader f(payload);
  DumpPacket msg;
  f.u8();  // the status byte, checked by the caller
  if (semi_sync) {
    if (f.u8() != kSemiSyncIndicator) {
      f.fail(CodecErrc::invalid_input);
    }
    const uint8_t flag = f.u8();
    if (flag > kSemiSyncAckRequested) {
      f.fail(CodecErrc::invalid_input);
    }
    msg.ack_requested = flag == kSemiSyncAckRequested;
  }
  msg.event = f.rest();
  if (!f.failed()) {
    auto length = check_event_length(msg.event);
    if (!length) {
      return std::unexpected(length.error());
    }
  }
  return f.finish(msg);
}

}  // namespace

Result<RegisterSlave> decode_register_slave(ByteView payload) {
  FieldReader f(payload);
  expect_command(f, Command::register_slave);
  RegisterSlave msg;
  msg.server_id = f.u32();
  msg.hostname = f.fixed_string(f.u8());
  msg.user = f.fixed_string(f.u8());
  msg.password = f.fixed_string(f.u8());
  msg.port = f.u16();
  msg.rank = f.u32();
  msg.master_id = f.u32();
  f.expect_end();
  return f.finish(std::move(msg));
}

void encode_register_slave(const RegisterSlave& msg, Bytes& out) {
  Writer w(out);
  w.u8(static_cast<uint8_t>(Command::register_slave)).u32(msg.server_id);
  write_short_string(w, msg.hostname);
  write_short_string(w, msg.user);
  write_short_string(w, msg.password);
  w.u16(msg.port).u32(msg.rank).u32(msg.master_id);
}

Result<BinlogDump> decode_binlog_dump(ByteView payload) {
  FieldReader f(payload);
  expect_command(f, Command::binlog_dump);
  BinlogDump msg;
  msg.position = f.u32();
  msg.flags = f.u16();
  msg.server_id = f.u32();
  msg.file = f.rest_string();
  return f.finish(std::move(msg));
}

void encode_binlog_dump(const BinlogDump& msg, Bytes& out) {
  Writer(out)
      .u8(static_cast<uint8_t>(Command::binlog_dump))
      .u32(msg.position)
      .u16(msg.flags)
      .u32(msg.server_id)
      .raw(msg.file);
}

Result<BinlogDumpGtid> decode_binlog_dump_gtid(ByteView payload) {
  FieldReader f(payload);
  expect_command(f, Command::binlog_dump_gtid);
  BinlogDumpGtid msg;
  msg.flags = f.u16();
  msg.server_id = f.u32();
  msg.file = f.fixed_string(f.u32());
  msg.position = f.u64();
  if (msg.flags & binlog_dump_flag::kThroughGtid) {
    std::string_view data = f.fixed_string(f.u32());
    if (!f.failed()) {
      // The block arrived whole, so a set that runs past it is malformed, not incomplete.
      auto gtids = decode_mysql_gtid_set(as_bytes(data));
      if (!gtids && gtids.error() == make_error_code(CodecErrc::not_enough_input)) {
        f.fail(CodecErrc::invalid_input);
      }
      msg.gtids = f.take(std::move(gtids));
    }
  }
  f.expect_end();
  return f.finish(std::move(msg));
}

void encode_binlog_dump_gtid(const BinlogDumpGtid& msg, Bytes& out) {
  uint16_t flags = msg.flags & ~binlog_dump_flag::kThroughGtid;
  if (msg.gtids) {
    flags |= binlog_dump_flag::kThroughGtid;
  }
  Writer w(out);
  w.u8(static_cast<uint8_t>(Command::binlog_dump_gtid)).u16(flags).u32(msg.server_id);
  w.u32(static_cast<uint32_t>(msg.file.size())).raw(msg.file).u64(msg.position);
  if (msg.gtids) {
    // data_size is patched in once the set is written, so it is the count of what was written.
    const size_t size_at = out.size();
    w.u32(0);
    encode_mysql_gtid_set(*msg.gtids, out);
    const uint32_t size = static_cast<uint32_t>(out.size() - size_at - 4);
    for (size_t i = 0; i < 4; ++i) {
      out[size_at + i] = static_cast<uint8_t>(size >> (8 * i));
    }
  }
}

Result<DumpPacket> decode_dump_packet(ByteView payload, bool semi_sync, uint64_t capabilities) {
  if (payload.empty()) {
    return fail(CodecErrc::not_enough_input);
  }
  switch (payload[0]) {
    case kStreamEventStatus:
      return decode_stream_event(payload, semi_sync);
    case kEofHeader: {
      if (!is_eof_payload(payload)) {
        return fail(CodecErrc::invalid_input);
      }
      auto eof = decode_eof(payload, capabilities);
      if (!eof) {
        return std::unexpected(eof.error());
      }
      DumpPacket msg;
      msg.kind = DumpPacket::Kind::eof;
      msg.eof = *eof;
      return msg;
    }
    case kErrHeader: {
      auto err = decode_err(payload, capabilities);
      if (!err) {
        return std::unexpected(err.error());
      }
      DumpPacket msg;
      msg.kind = DumpPacket::Kind::error;
      msg.error = std::move(*err);
      return msg;
    }
    default:
      return fail(CodecErrc::invalid_input);
  }
}

void encode_dump_event(ByteView event, std::optional<bool> semi_sync_ack, Bytes& out) {
  Writer w(out);
  w.u8(kStreamEventStatus);
  if (semi_sync_ack) {
    w.u8(kSemiSyncIndicator).u8(*semi_sync_ack ? kSemiSyncAckRequested : 0);
  }
  w.raw(event);
}

void encode_dump_packet(const DumpPacket& msg, bool semi_sync, uint64_t capabilities, Bytes& out) {
  switch (msg.kind) {
    case DumpPacket::Kind::event:
      encode_dump_event(msg.event, semi_sync ? std::optional(msg.ack_requested) : std::nullopt,
                        out);
      return;
    case DumpPacket::Kind::eof:
      encode_eof(msg.eof, capabilities, out);
      return;
    case DumpPacket::Kind::error:
      encode_err(msg.error, capabilities, out);
      return;
  }
}

Result<SemiSyncAck> decode_semi_sync_ack(ByteView payload) {
  FieldReader f(payload);
  if (f.u8() != kSemiSyncIndicator) {
    f.fail(CodecErrc::invalid_input);
  }
  SemiSyncAck msg;
  msg.position = f.u64();
  msg.file = f.rest_string();
  return f.finish(std::move(msg));
}

void encode_semi_sync_ack(const SemiSyncAck& msg, Bytes& out) {
  Writer(out).u8(kSemiSyncIndicator).u64(msg.position).raw(msg.file);
}

}  // namespace replproxy::protocol
