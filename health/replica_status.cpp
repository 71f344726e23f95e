#include "health/replica_status.h"

#include <algorithm>
#include <charconv>
#include <string>

namespace replproxy::health {
namespace {

// One field of ReplicaStatus and the column names that fill it.
enum class Field {
  source_host,
  source_port,
  source_server_id,
  io_running,
  sql_running,
  seconds_behind,
  last_io_error,
  last_sql_error,
  gtid_io_pos,
  executed_gtid_set,
};

struct Column {
  std::string_view name;
  Field field;
};

// MariaDB names first, then MySQL 8.0.22+ names. Retrieved_Gtid_Set is MySQL's counterpart of
// MariaDB's Gtid_IO_Pos: what the IO thread has received.
constexpr Column kColumns[] = {
    {"Master_Host", Field::source_host},
    {"Master_Port", Field::source_port},
    {"Master_Server_Id", Field::source_server_id},
    {"Slave_IO_Running", Field::io_running},
    {"Slave_SQL_Running", Field::sql_running},
    {"Seconds_Behind_Master", Field::seconds_behind},
    {"Last_IO_Error", Field::last_io_error},
    {"Last_SQL_Error", Field::last_sql_error},
    {"Gtid_IO_Pos", Field::gtid_io_pos},
    {"Source_Host", Field::source_host},
    {"Source_Port", Field::source_port},
    {"Source_Server_Id", Field::source_server_id},
    {"Replica_IO_Running", Field::io_running},
    {"Replica_SQL_Running", Field::sql_running},
    {"Seconds_Behind_Source", Field::seconds_behind},
    {"Retrieved_Gtid_Set", Field::gtid_io_pos},
    {"Executed_Gtid_Set", Field::executed_gtid_set},
};

template <class T>
std::optional<T> number(std::string_view text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

void set_field(Field field, std::optional<std::string_view> value, ReplicaStatus& out) {
  const std::string_view text = value.value_or("");
  switch (field) {
    case Field::source_host:
      out.source_host = text;
      break;
    case Field::source_port:
      out.source_port = number<uint16_t>(text).value_or(0);
      break;
    case Field::source_server_id:
      out.source_server_id = number<uint32_t>(text).value_or(0);
      break;
    case Field::io_running:
      out.io_running = text == "Yes";  // "Connecting" and "Preparing" are not running yet
      break;
    case Field::sql_running:
      out.sql_running = text == "Yes";
      break;
    case Field::seconds_behind:
      out.seconds_behind = value ? number<uint64_t>(text) : std::nullopt;
      break;
    case Field::last_io_error:
      out.last_io_error = text;
      break;
    case Field::last_sql_error:
      out.last_sql_error = text;
      break;
    case Field::gtid_io_pos:
      out.gtid_io_pos = text;
      break;
    case Field::executed_gtid_set:
      out.executed_gtid_set = text;
      break;
  }
}

}  // namespace

ReplicaStatus parse_replica_status(std::span<const std::string_view> column_names,
                                   std::span<const std::optional<std::string_view>> values) {
  ReplicaStatus status;
  const size_t count = std::min(column_names.size(), values.size());
  for (size_t i = 0; i < count; ++i) {
    for (const Column& column : kColumns) {
      if (column.name == column_names[i]) {
        set_field(column.field, values[i], status);
        break;
      }
    }
  }
  return status;
}

}  // namespace replproxy::health
