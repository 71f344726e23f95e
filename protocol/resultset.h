#pragma once

// Encoders for text result sets (the answer to COM_QUERY that returns rows), for servers the
// proxy itself implements, such as the admin interface. Encoders append the payload only, except
// encode_text_resultset(), which frames the whole sequence.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/wire.h"

namespace replproxy::protocol {

inline constexpr uint8_t kTypeLongLong = 0x08;
inline constexpr uint8_t kTypeVarString = 0xfd;
inline constexpr uint16_t kCharsetUtf8mb4GeneralCi = 45;
inline constexpr uint16_t kCharsetBinary = 63;
inline constexpr uint16_t kColumnFlagNotNull = 0x0001;
inline constexpr uint16_t kColumnFlagUnsigned = 0x0020;
inline constexpr uint16_t kColumnFlagBinary = 0x0080;

// Column definition (Protocol::ColumnDefinition41). Written without MariaDB's extended metadata,
// which the proxy never announces.
//
//   field                  width   notes
//   catalog                lenenc  always "def"
//   schema                 lenenc
//   table                  lenenc  alias
//   org_table              lenenc
//   name                   lenenc  alias
//   org_name               lenenc
//   length_of_fixed_fields lenenc  always 0x0c
//   character_set          2
//   column_length          4       maximum display length
//   type                   1       MYSQL_TYPE_*
//   flags                  2
//   decimals               1
//   filler                 2       0x00 0x00
struct ColumnDefinition {
  std::string schema;
  std::string table;
  std::string org_table;
  std::string name;
  std::string org_name;
  uint16_t character_set = kCharsetUtf8mb4GeneralCi;
  uint32_t column_length = 0;
  uint8_t type = kTypeVarString;
  uint16_t flags = 0;
  uint8_t decimals = 0;

  bool operator==(const ColumnDefinition&) const = default;
};
void encode_column_definition(const ColumnDefinition& msg, Bytes& out);

// A text result row: each value is a lenenc string, NULL is the single byte 0xfb.
using TextRow = std::vector<std::optional<std::string>>;
void encode_text_row(const TextRow& row, Bytes& out);
// Decodes a text row of `columns` values (a client of a server, e.g. the relay asking its
// primary). Fewer values than columns is not_enough_input; bytes left over are invalid_input.
Result<TextRow> decode_text_row(ByteView payload, size_t columns);

// A whole text result set, framed from `sequence_id` (1 when it answers a command):
//   column_count (lenenc int), a column definition per column,
//   EOF                                   unless CLIENT_DEPRECATE_EOF,
//   a row per row,
//   EOF, or under CLIENT_DEPRECATE_EOF an OK with header 0xfe.
// Returns the sequence id the next packet would carry.
uint8_t encode_text_resultset(const std::vector<ColumnDefinition>& columns,
                              const std::vector<TextRow>& rows, uint64_t capabilities,
                              uint16_t status_flags, uint8_t sequence_id, Bytes& out);

}  // namespace replproxy::protocol
