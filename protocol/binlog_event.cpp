#include "protocol/binlog_event.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>

#include "protocol/field_reader.h"

namespace replproxy::protocol::binlog {
namespace {

struct TypeName {
  EventType type;
  std::string_view name;
};

constexpr TypeName kTypeNames[] = {
    {EventType::unknown, "UNKNOWN_EVENT"},
    {EventType::start_v3, "START_EVENT_V3"},
    {EventType::query, "QUERY_EVENT"},
    {EventType::stop, "STOP_EVENT"},
    {EventType::rotate, "ROTATE_EVENT"},
    {EventType::intvar, "INTVAR_EVENT"},
    {EventType::load, "LOAD_EVENT"},
    {EventType::slave, "SLAVE_EVENT"},
    {EventType::create_file, "CREATE_FILE_EVENT"},
    {EventType::append_block, "APPEND_BLOCK_EVENT"},
    {EventType::exec_load, "EXEC_LOAD_EVENT"},
    {EventType::delete_file, "DELETE_FILE_EVENT"},
    {EventType::new_load, "NEW_LOAD_EVENT"},
    {EventType::rand, "RAND_EVENT"},
    {EventType::user_var, "USER_VAR_EVENT"},
    {EventType::format_description, "FORMAT_DESCRIPTION_EVENT"},
    {EventType::xid, "XID_EVENT"},
    {EventType::begin_load_query, "BEGIN_LOAD_QUERY_EVENT"},
    {EventType::execute_load_query, "EXECUTE_LOAD_QUERY_EVENT"},
    {EventType::table_map, "TABLE_MAP_EVENT"},
    {EventType::pre_ga_write_rows, "PRE_GA_WRITE_ROWS_EVENT"},
    {EventType::pre_ga_update_rows, "PRE_GA_UPDATE_ROWS_EVENT"},
    {EventType::pre_ga_delete_rows, "PRE_GA_DELETE_ROWS_EVENT"},
    {EventType::write_rows_v1, "WRITE_ROWS_EVENT_V1"},
    {EventType::update_rows_v1, "UPDATE_ROWS_EVENT_V1"},
    {EventType::delete_rows_v1, "DELETE_ROWS_EVENT_V1"},
    {EventType::incident, "INCIDENT_EVENT"},
    {EventType::heartbeat, "HEARTBEAT_LOG_EVENT"},
    {EventType::ignorable, "IGNORABLE_LOG_EVENT"},
    {EventType::rows_query, "ROWS_QUERY_LOG_EVENT"},
    {EventType::write_rows, "WRITE_ROWS_EVENT"},
    {EventType::update_rows, "UPDATE_ROWS_EVENT"},
    {EventType::delete_rows, "DELETE_ROWS_EVENT"},
    {EventType::gtid_mysql, "GTID_LOG_EVENT"},
    {EventType::anonymous_gtid, "ANONYMOUS_GTID_LOG_EVENT"},
    {EventType::previous_gtids, "PREVIOUS_GTIDS_LOG_EVENT"},
    {EventType::transaction_context, "TRANSACTION_CONTEXT_EVENT"},
    {EventType::view_change, "VIEW_CHANGE_EVENT"},
    {EventType::xa_prepare, "XA_PREPARE_LOG_EVENT"},
    {EventType::partial_update_rows, "PARTIAL_UPDATE_ROWS_EVENT"},
    {EventType::transaction_payload, "TRANSACTION_PAYLOAD_EVENT"},
    {EventType::heartbeat_v2, "HEARTBEAT_LOG_EVENT_V2"},
    {EventType::gtid_tagged, "GTID_TAGGED_LOG_EVENT"},
    {EventType::annotate_rows, "ANNOTATE_ROWS_EVENT"},
    {EventType::binlog_checkpoint, "BINLOG_CHECKPOINT_EVENT"},
    {EventType::gtid_mariadb, "GTID_EVENT"},
    {EventType::gtid_list, "GTID_LIST_EVENT"},
    {EventType::start_encryption, "START_ENCRYPTION_EVENT"},
    {EventType::query_compressed, "QUERY_COMPRESSED_EVENT"},
    {EventType::write_rows_compressed_v1, "WRITE_ROWS_COMPRESSED_EVENT_V1"},
    {EventType::update_rows_compressed_v1, "UPDATE_ROWS_COMPRESSED_EVENT_V1"},
    {EventType::delete_rows_compressed_v1, "DELETE_ROWS_COMPRESSED_EVENT_V1"},
    {EventType::write_rows_compressed, "WRITE_ROWS_COMPRESSED_EVENT"},
    {EventType::update_rows_compressed, "UPDATE_ROWS_COMPRESSED_EVENT"},
    {EventType::delete_rows_compressed, "DELETE_ROWS_COMPRESSED_EVENT"},
};

void store_u32(std::span<uint8_t> bytes, size_t offset, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) {
    bytes[offset + i] = static_cast<uint8_t>(v >> (8 * i));
  }
}

uint32_t load_u32(ByteView bytes, size_t offset) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(bytes[offset + i]) << (8 * i);
  }
  return v;
}

}  // namespace

std::string_view event_type_name(uint8_t type) {
  for (const TypeName& t : kTypeNames) {
    if (type_byte(t.type) == type) {
      return t.name;
    }
  }
  return "UNKNOWN_EVENT";
}

Result<EventHeader> decode_event_header(ByteView bytes) {
  if (bytes.size() < kEventHeaderSize) {
    return fail(CodecErrc::not_enough_input);
  }
  FieldReader f(bytes.first(kEventHeaderSize));
  EventHeader h;
  h.timestamp = f.u32();
  h.type = f.u8();
  h.server_id = f.u32();
  h.event_size = f.u32();
  h.log_pos = f.u32();
  h.flags = f.u16();
  if (h.event_size < kEventHeaderSize) {
    f.fail(CodecErrc::invalid_input);
  }
  return f.finish(h);
}

void encode_event_header(const EventHeader& header, Bytes& out) {
  Writer(out)
      .u32(header.timestamp)
      .u8(header.type)
      .u32(header.server_id)
      .u32(header.event_size)
      .u32(header.log_pos)
      .u16(header.flags);
}

uint32_t binlog_crc32(ByteView bytes) {
  // zlib takes uInt lengths; feed huge inputs in pieces.
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), std::numeric_limits<uInt>::max());
    crc = crc32(crc, bytes.data(), static_cast<uInt>(n));
    bytes = bytes.subspan(n);
  }
  return static_cast<uint32_t>(crc);
}

uint32_t event_checksum(ByteView whole_event) {
  const ByteView covered = whole_event.first(whole_event.size() - kChecksumSize);
  if (covered[kTypeOffset] != type_byte(EventType::format_description) ||
      !(covered[kFlagsOffset] & LOG_EVENT_BINLOG_IN_USE_F)) {
    return binlog_crc32(covered);
  }
  std::array<uint8_t, kEventHeaderSize> header;
  std::copy_n(covered.begin(), kEventHeaderSize, header.begin());
  header[kFlagsOffset] &= static_cast<uint8_t>(~LOG_EVENT_BINLOG_IN_USE_F);
  uLong crc = crc32(0L, header.data(), static_cast<uInt>(header.size()));
  const ByteView rest = covered.subspan(kEventHeaderSize);
  return static_cast<uint32_t>(crc32(crc, rest.data(), static_cast<uInt>(rest.size())));
}

bool checksum_matches(ByteView whole_event) {
  if (whole_event.size() < kEventHeaderSize + kChecksumSize) {
    return false;
  }
  return event_checksum(whole_event) == load_u32(whole_event, whole_event.size() - kChecksumSize);
}

void rewrite_checksum(std::span<uint8_t> whole_event) {
  store_u32(whole_event, whole_event.size() - kChecksumSize, event_checksum(whole_event));
}

void rewrite_log_pos(std::span<uint8_t> whole_event, uint32_t log_pos, bool has_checksum) {
  store_u32(whole_event, kLogPosOffset, log_pos);
  if (has_checksum) {
    rewrite_checksum(whole_event);
  }
}

Result<EventView> split_event(ByteView whole_event, bool has_checksum) {
  auto header = decode_event_header(whole_event);
  if (!header) {
    return std::unexpected(header.error());
  }
  const size_t trailer = has_checksum ? kChecksumSize : 0;
  if (header->event_size < kEventHeaderSize + trailer) {
    return fail(CodecErrc::invalid_input);
  }
  if (whole_event.size() < header->event_size) {
    return fail(CodecErrc::not_enough_input);
  }
  if (whole_event.size() > header->event_size) {
    return fail(CodecErrc::invalid_input);
  }
  EventView view;
  view.header = *header;
  view.whole = whole_event;
  view.body =
      whole_event.subspan(kEventHeaderSize, whole_event.size() - kEventHeaderSize - trailer);
  return view;
}

Result<size_t> next_event_size(ByteView bytes) {
  auto header = decode_event_header(bytes);
  if (!header) {
    return std::unexpected(header.error());
  }
  return static_cast<size_t>(header->event_size);
}

void encode_event(const EventHeader& header, ByteView body, bool has_checksum, Bytes& out) {
  const size_t start = out.size();
  EventHeader h = header;
  h.event_size =
      static_cast<uint32_t>(kEventHeaderSize + body.size() + (has_checksum ? kChecksumSize : 0));
  encode_event_header(h, out);
  Writer(out).raw(body);
  if (has_checksum) {
    Writer(out).u32(0);
    rewrite_checksum(std::span<uint8_t>(out).subspan(start));
  }
}

}  // namespace replproxy::protocol::binlog
