#include "protocol/constants.h"

#include <array>

namespace replproxy::protocol {
namespace {

// Indexed by command byte; the table covers 0x00 .. 0x1f without gaps.
constexpr std::array<std::string_view, 0x20> kCommandNames = {
    "COM_SLEEP",
    "COM_QUIT",
    "COM_INIT_DB",
    "COM_QUERY",
    "COM_FIELD_LIST",
    "COM_CREATE_DB",
    "COM_DROP_DB",
    "COM_REFRESH",
    "COM_SHUTDOWN",
    "COM_STATISTICS",
    "COM_PROCESS_INFO",
    "COM_CONNECT",
    "COM_PROCESS_KILL",
    "COM_DEBUG",
    "COM_PING",
    "COM_TIME",
    "COM_DELAYED_INSERT",
    "COM_CHANGE_USER",
    "COM_BINLOG_DUMP",
    "COM_TABLE_DUMP",
    "COM_CONNECT_OUT",
    "COM_REGISTER_SLAVE",
    "COM_STMT_PREPARE",
    "COM_STMT_EXECUTE",
    "COM_STMT_SEND_LONG_DATA",
    "COM_STMT_CLOSE",
    "COM_STMT_RESET",
    "COM_SET_OPTION",
    "COM_STMT_FETCH",
    "COM_DAEMON",
    "COM_BINLOG_DUMP_GTID",
    "COM_RESET_CONNECTION",
};

static_assert(static_cast<size_t>(Command::reset_connection) + 1 == kCommandNames.size());

}  // namespace

std::string_view command_name(uint8_t command) {
  if (command < kCommandNames.size()) {
    return kCommandNames[command];
  }
  // MariaDB's commands outside the contiguous range (not in Command: replproxy does not
  // negotiate the capabilities that enable them, but logs should still name them).
  switch (command) {
    case 0xfa:
      return "COM_STMT_BULK_EXECUTE";
    case 0xfe:
      return "COM_MULTI";
    default:
      return "COM_UNKNOWN";
  }
}

}  // namespace replproxy::protocol
