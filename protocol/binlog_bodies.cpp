#include "protocol/binlog_bodies.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "protocol/field_reader.h"

namespace replproxy::protocol::binlog {
namespace {

constexpr size_t kGtidListEntrySize = 16;

// The first three numbers of a version string ("10.11.19-MariaDB-log" -> 10, 11, 19); a missing
// number counts as 0.
std::array<unsigned, 3> split_version(std::string_view version) {
  std::array<unsigned, 3> parts{};
  const char* p = version.data();
  const char* end = p + version.size();
  for (unsigned& part : parts) {
    auto [next, ec] = std::from_chars(p, end, part);
    if (ec != std::errc()) {
      break;
    }
    p = next;
    if (p == end || *p != '.') {
      break;
    }
    ++p;
  }
  return parts;
}

bool is_all_zero(ByteView b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t v) { return v == 0; });
}

std::string_view until_nul(std::string_view s) { return s.substr(0, s.find('\0')); }

}  // namespace

// --- FORMAT_DESCRIPTION_EVENT

bool server_version_has_checksum_alg(std::string_view server_version) {
  const bool mariadb = server_version.find("MariaDB") != std::string_view::npos ||
                       server_version.find("-maria-") != std::string_view::npos;
  const std::array<unsigned, 3> since =
      mariadb ? std::array<unsigned, 3>{5, 3, 0} : std::array<unsigned, 3>{5, 6, 1};
  return split_version(server_version) >= since;
}

bool FormatDescription::own_checksum() const {
  return server_version_has_checksum_alg(server_version);
}

uint8_t FormatDescription::post_header_length(uint8_t type) const {
  if (type == 0 || type > post_header_lengths.size()) {
    return 0;
  }
  return post_header_lengths[type - 1];
}

Result<FormatDescription> decode_format_description_body(ByteView body) {
  FieldReader f(body);
  FormatDescription fde;
  fde.binlog_version = f.u16();
  fde.server_version = std::string(until_nul(f.fixed_string(kServerVersionSize)));
  fde.create_timestamp = f.u32();
  fde.header_length = f.u8();
  if (f.failed()) {
    return f.finish(std::move(fde));
  }
  if (fde.header_length < kEventHeaderSize) {
    return fail(CodecErrc::invalid_input);
  }
  const bool has_alg = server_version_has_checksum_alg(fde.server_version);
  if (has_alg && f.at_end()) {
    return fail(CodecErrc::not_enough_input);
  }
  ByteView rest = f.rest();
  if (has_alg) {
    fde.checksum_alg = static_cast<ChecksumAlg>(rest.back());
    rest = rest.first(rest.size() - 1);
  }
  fde.post_header_lengths.assign(rest.begin(), rest.end());
  return fde;
}

Result<FormatDescription> decode_format_description(ByteView whole_event) {
  auto header = decode_event_header(whole_event);
  if (!header) {
    return std::unexpected(header.error());
  }
  if (header->type != type_byte(EventType::format_description)) {
    return fail(CodecErrc::invalid_input);
  }
  // The server version decides whether the FDE ends with checksum_alg and a CRC32.
  constexpr size_t kVersionOffset = kEventHeaderSize + 2;
  if (header->event_size < kVersionOffset + kServerVersionSize) {
    return fail(CodecErrc::invalid_input);
  }
  if (whole_event.size() < kVersionOffset + kServerVersionSize) {
    return fail(CodecErrc::not_enough_input);
  }
  const std::string_view version =
      until_nul(as_chars(whole_event.subspan(kVersionOffset, kServerVersionSize)));
  auto view = split_event(whole_event, server_version_has_checksum_alg(version));
  if (!view) {
    return std::unexpected(view.error());
  }
  auto fde = decode_format_description_body(view->body);
  if (!fde && fde.error() == make_error_code(CodecErrc::not_enough_input)) {
    // The event is complete, so a body too short for its fields is malformed.
    return fail(CodecErrc::invalid_input);
  }
  return fde;
}

void encode_format_description(const FormatDescription& fde, Bytes& out) {
  const std::string_view version =
      std::string_view(fde.server_version).substr(0, kServerVersionSize);
  Writer w(out);
  w.u16(fde.binlog_version).raw(version).zeros(kServerVersionSize - version.size());
  w.u32(fde.create_timestamp).u8(fde.header_length);
  w.raw(ByteView(fde.post_header_lengths));
  if (server_version_has_checksum_alg(version)) {
    w.u8(static_cast<uint8_t>(fde.checksum_alg));
  }
}

// --- ROTATE_EVENT

Result<Rotate> decode_rotate(ByteView body) {
  FieldReader f(body);
  Rotate msg;
  msg.position = f.u64();
  msg.next_file = std::string(f.rest_string());
  return f.finish(std::move(msg));
}

void encode_rotate(const Rotate& msg, Bytes& out) {
  Writer(out).u64(msg.position).raw(msg.next_file);
}

// --- GTID_EVENT (MariaDB)

Result<MariaGtid> decode_maria_gtid(ByteView body) {
  if (body.size() < kMariaGtidMinBody) {
    return fail(CodecErrc::not_enough_input);
  }
  FieldReader f(body);
  MariaGtid msg;
  msg.seq_no = f.u64();
  msg.domain_id = f.u32();
  msg.flags = f.u8();
  if (msg.flags & FL_GROUP_COMMIT_ID) {
    msg.commit_id = f.u64();
  }
  if (msg.flags & (FL_PREPARED_XA | FL_COMPLETED_XA)) {
    XaXid xid;
    xid.format_id = static_cast<int32_t>(f.u32());
    xid.gtrid_length = f.u8();
    xid.bqual_length = f.u8();
    if (xid.gtrid_length > kMaxXidPartSize || xid.bqual_length > kMaxXidPartSize) {
      f.fail(CodecErrc::invalid_input);
    }
    xid.data = std::string(f.fixed_string(size_t{xid.gtrid_length} + xid.bqual_length));
    msg.xa = std::move(xid);
  }
  if (f.failed()) {
    return f.finish(std::move(msg));
  }
  const ByteView rest = f.rest();
  if (body.size() > kMariaGtidMinBody || !is_all_zero(rest)) {
    msg.extra.assign(rest.begin(), rest.end());
  }
  return msg;
}

void encode_maria_gtid(const MariaGtid& msg, Bytes& out) {
  const size_t start = out.size();
  Writer w(out);
  w.u64(msg.seq_no).u32(msg.domain_id).u8(msg.flags);
  if (msg.flags & FL_GROUP_COMMIT_ID) {
    w.u64(msg.commit_id.value_or(0));
  }
  if (msg.flags & (FL_PREPARED_XA | FL_COMPLETED_XA)) {
    const XaXid xid = msg.xa.value_or(XaXid{});
    w.u32(static_cast<uint32_t>(xid.format_id)).u8(xid.gtrid_length).u8(xid.bqual_length);
    w.raw(xid.data);
  }
  w.raw(ByteView(msg.extra));
  const size_t written = out.size() - start;
  if (written < kMariaGtidMinBody) {
    w.zeros(kMariaGtidMinBody - written);
  }
}

// --- GTID_LOG_EVENT (MySQL)

Result<MySqlGtid> decode_mysql_gtid(ByteView body) {
  FieldReader f(body);
  MySqlGtid msg;
  msg.flags = f.u8();
  const ByteView sid = f.bytes(msg.sid.size());
  std::copy(sid.begin(), sid.end(), msg.sid.begin());
  msg.gno = static_cast<int64_t>(f.u64());
  if (!f.at_end()) {
    if (f.u8() != kLogicalTimestampTypecode) {
      f.fail(CodecErrc::invalid_input);
    }
    MySqlLogicalTimestamps lt;
    lt.last_committed = static_cast<int64_t>(f.u64());
    lt.sequence_number = static_cast<int64_t>(f.u64());
    msg.logical_timestamps = lt;
    const ByteView rest = f.rest();
    msg.rest.assign(rest.begin(), rest.end());
  }
  return f.finish(std::move(msg));
}

void encode_mysql_gtid(const MySqlGtid& msg, Bytes& out) {
  Writer w(out);
  w.u8(msg.flags).raw(ByteView(msg.sid)).u64(static_cast<uint64_t>(msg.gno));
  if (msg.logical_timestamps) {
    w.u8(kLogicalTimestampTypecode)
        .u64(static_cast<uint64_t>(msg.logical_timestamps->last_committed))
        .u64(static_cast<uint64_t>(msg.logical_timestamps->sequence_number))
        .raw(ByteView(msg.rest));
  }
}

// --- GTID_LIST_EVENT

Result<GtidList> decode_gtid_list(ByteView body) {
  FieldReader f(body);
  GtidList msg;
  const uint32_t count_and_flags = f.u32();
  msg.flags = static_cast<uint8_t>(count_and_flags >> 28);
  const size_t count = count_and_flags & kGtidListCountMask;
  // The count comes from the peer: reserve only what the bytes at hand can hold.
  msg.gtids.reserve(std::min(count, body.size() / kGtidListEntrySize));
  for (size_t i = 0; i < count && !f.failed(); ++i) {
    Gtid gtid;
    gtid.domain_id = f.u32();
    gtid.server_id = f.u32();
    gtid.seq_no = f.u64();
    msg.gtids.push_back(gtid);
  }
  f.expect_end();
  return f.finish(std::move(msg));
}

void encode_gtid_list(const GtidList& msg, Bytes& out) {
  Writer w(out);
  w.u32(static_cast<uint32_t>(msg.flags) << 28 |
        (static_cast<uint32_t>(msg.gtids.size()) & kGtidListCountMask));
  for (const Gtid& gtid : msg.gtids) {
    w.u32(gtid.domain_id).u32(gtid.server_id).u64(gtid.seq_no);
  }
}

// --- BINLOG_CHECKPOINT_EVENT

Result<BinlogCheckpoint> decode_binlog_checkpoint(ByteView body) {
  FieldReader f(body);
  BinlogCheckpoint msg;
  const uint32_t length = f.u32();
  msg.log_file = std::string(f.fixed_string(length));
  f.expect_end();
  return f.finish(std::move(msg));
}

void encode_binlog_checkpoint(const BinlogCheckpoint& msg, Bytes& out) {
  Writer(out).u32(static_cast<uint32_t>(msg.log_file.size())).raw(msg.log_file);
}

// --- XID_EVENT

Result<Xid> decode_xid(ByteView body) {
  FieldReader f(body);
  Xid msg;
  msg.xid = f.u64();
  f.expect_end();
  return f.finish(msg);
}

void encode_xid(const Xid& msg, Bytes& out) { Writer(out).u64(msg.xid); }

// --- QUERY_EVENT

bool Query::operator==(const Query& other) const {
  return thread_id == other.thread_id && exec_time == other.exec_time &&
         error_code == other.error_code && as_chars(status_vars) == as_chars(other.status_vars) &&
         schema == other.schema && query == other.query;
}

Result<Query> decode_query(ByteView body) {
  FieldReader f(body);
  Query msg;
  msg.thread_id = f.u32();
  msg.exec_time = f.u32();
  const uint8_t schema_length = f.u8();
  msg.error_code = f.u16();
  const uint16_t status_length = f.u16();
  msg.status_vars = f.bytes(status_length);
  msg.schema = f.fixed_string(schema_length);
  if (f.u8() != 0 && !f.failed()) {
    f.fail(CodecErrc::invalid_input);
  }
  msg.query = f.rest_string();
  return f.finish(msg);
}

void encode_query(const Query& msg, Bytes& out) {
  const std::string_view schema = msg.schema.substr(0, 255);
  Writer w(out);
  w.u32(msg.thread_id).u32(msg.exec_time).u8(static_cast<uint8_t>(schema.size()));
  w.u16(msg.error_code).u16(static_cast<uint16_t>(msg.status_vars.size()));
  w.raw(msg.status_vars).nul_string(schema).raw(msg.query);
}

// --- HEARTBEAT_LOG_EVENT

Result<Heartbeat> decode_heartbeat(ByteView body) { return Heartbeat{as_chars(body)}; }

void encode_heartbeat(const Heartbeat& msg, Bytes& out) { Writer(out).raw(msg.log_file); }

}  // namespace replproxy::protocol::binlog
