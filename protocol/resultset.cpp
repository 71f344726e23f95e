#include "protocol/resultset.h"

#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/packet.h"

namespace replproxy::protocol {

namespace {

constexpr std::string_view kCatalog = "def";
constexpr uint8_t kLengthOfFixedFields = 0x0c;
constexpr uint8_t kNullValue = 0xfb;

}  // namespace

void encode_column_definition(const ColumnDefinition& msg, Bytes& out) {
  Writer(out)
      .lenenc_string(kCatalog)
      .lenenc_string(msg.schema)
      .lenenc_string(msg.table)
      .lenenc_string(msg.org_table)
      .lenenc_string(msg.name)
      .lenenc_string(msg.org_name)
      .lenenc_int(kLengthOfFixedFields)
      .u16(msg.character_set)
      .u32(msg.column_length)
      .u8(msg.type)
      .u16(msg.flags)
      .u8(msg.decimals)
      .zeros(2);
}

void encode_text_row(const TextRow& row, Bytes& out) {
  Writer writer(out);
  for (const std::optional<std::string>& value : row) {
    if (value) {
      writer.lenenc_string(*value);
    } else {
      writer.u8(kNullValue);
    }
  }
}

Result<TextRow> decode_text_row(ByteView payload, size_t columns) {
  Reader reader(payload);
  TextRow row;
  row.reserve(columns);
  for (size_t i = 0; i < columns; ++i) {
    if (reader.remaining() > 0 && payload[payload.size() - reader.remaining()] == kNullValue) {
      (void)reader.u8();
      row.emplace_back(std::nullopt);
      continue;
    }
    auto value = reader.lenenc_string();
    if (!value) {
      return std::unexpected(value.error());
    }
    row.emplace_back(std::string(*value));
  }
  if (reader.remaining() != 0) {
    return fail(CodecErrc::invalid_input);
  }
  return row;
}

uint8_t encode_text_resultset(const std::vector<ColumnDefinition>& columns,
                              const std::vector<TextRow>& rows, uint64_t capabilities,
                              uint16_t status_flags, uint8_t sequence_id, Bytes& out) {
  const bool deprecate_eof = (capabilities & cap::kDeprecateEof) != 0;
  size_t begin = begin_packet(out);
  Writer(out).lenenc_int(columns.size());
  sequence_id = finish_packet(out, begin, sequence_id);
  for (const ColumnDefinition& column : columns) {
    begin = begin_packet(out);
    encode_column_definition(column, out);
    sequence_id = finish_packet(out, begin, sequence_id);
  }
  if (!deprecate_eof) {
    begin = begin_packet(out);
    encode_eof(EofPacket{0, status_flags}, capabilities, out);
    sequence_id = finish_packet(out, begin, sequence_id);
  }
  for (const TextRow& row : rows) {
    begin = begin_packet(out);
    encode_text_row(row, out);
    sequence_id = finish_packet(out, begin, sequence_id);
  }
  begin = begin_packet(out);
  if (deprecate_eof) {
    encode_ok(OkPacket{.header = 0xfe, .status_flags = status_flags}, capabilities, out);
  } else {
    encode_eof(EofPacket{0, status_flags}, capabilities, out);
  }
  return finish_packet(out, begin, sequence_id);
}

}  // namespace replproxy::protocol
