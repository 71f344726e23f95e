#pragma once

// Capability flags, server status flags, command bytes and other protocol constants.
// Capabilities are carried as 64 bits: the low 32 are MySQL's, the high 32 are MariaDB's extended
// capabilities (sent in the last 4 filler bytes of the handshake when CLIENT_MYSQL is unset).

#include <cstdint>
#include <string_view>

namespace replproxy::protocol {

namespace cap {
inline constexpr uint64_t kLongPassword = 1ULL << 0;  // MariaDB: CLIENT_MYSQL
inline constexpr uint64_t kFoundRows = 1ULL << 1;
inline constexpr uint64_t kLongFlag = 1ULL << 2;
inline constexpr uint64_t kConnectWithDb = 1ULL << 3;
inline constexpr uint64_t kNoSchema = 1ULL << 4;
inline constexpr uint64_t kCompress = 1ULL << 5;
inline constexpr uint64_t kOdbc = 1ULL << 6;
inline constexpr uint64_t kLocalFiles = 1ULL << 7;
inline constexpr uint64_t kIgnoreSpace = 1ULL << 8;
inline constexpr uint64_t kProtocol41 = 1ULL << 9;
inline constexpr uint64_t kInteractive = 1ULL << 10;
inline constexpr uint64_t kSsl = 1ULL << 11;
inline constexpr uint64_t kIgnoreSigpipe = 1ULL << 12;
inline constexpr uint64_t kTransactions = 1ULL << 13;
inline constexpr uint64_t kReserved = 1ULL << 14;
inline constexpr uint64_t kSecureConnection = 1ULL << 15;
inline constexpr uint64_t kMultiStatements = 1ULL << 16;
inline constexpr uint64_t kMultiResults = 1ULL << 17;
inline constexpr uint64_t kPsMultiResults = 1ULL << 18;
inline constexpr uint64_t kPluginAuth = 1ULL << 19;
inline constexpr uint64_t kConnectAttrs = 1ULL << 20;
inline constexpr uint64_t kPluginAuthLenencClientData = 1ULL << 21;
inline constexpr uint64_t kCanHandleExpiredPasswords = 1ULL << 22;
inline constexpr uint64_t kSessionTrack = 1ULL << 23;
inline constexpr uint64_t kDeprecateEof = 1ULL << 24;
inline constexpr uint64_t kOptionalResultsetMetadata = 1ULL << 25;
inline constexpr uint64_t kZstdCompression = 1ULL << 26;
inline constexpr uint64_t kQueryAttributes = 1ULL << 27;
inline constexpr uint64_t kMultiFactorAuth = 1ULL << 28;
inline constexpr uint64_t kSslVerifyServerCert = 1ULL << 30;
inline constexpr uint64_t kRememberOptions = 1ULL << 31;
// MariaDB extended capabilities.
inline constexpr uint64_t kMariadbProgress = 1ULL << 32;
inline constexpr uint64_t kMariadbComMulti = 1ULL << 33;
inline constexpr uint64_t kMariadbStmtBulkOperations = 1ULL << 34;
inline constexpr uint64_t kMariadbExtendedMetadata = 1ULL << 35;
inline constexpr uint64_t kMariadbCacheMetadata = 1ULL << 36;
}  // namespace cap

namespace status {
inline constexpr uint16_t kInTrans = 0x0001;
inline constexpr uint16_t kAutocommit = 0x0002;
inline constexpr uint16_t kMoreResultsExist = 0x0008;
inline constexpr uint16_t kNoGoodIndexUsed = 0x0010;
inline constexpr uint16_t kNoIndexUsed = 0x0020;
inline constexpr uint16_t kCursorExists = 0x0040;
inline constexpr uint16_t kLastRowSent = 0x0080;
inline constexpr uint16_t kDbDropped = 0x0100;
inline constexpr uint16_t kNoBackslashEscapes = 0x0200;
inline constexpr uint16_t kMetadataChanged = 0x0400;
inline constexpr uint16_t kQueryWasSlow = 0x0800;
inline constexpr uint16_t kPsOutParams = 0x1000;
inline constexpr uint16_t kInTransReadonly = 0x2000;
inline constexpr uint16_t kSessionStateChanged = 0x4000;
}  // namespace status

enum class Command : uint8_t {
  sleep = 0x00,
  quit = 0x01,
  init_db = 0x02,
  query = 0x03,
  field_list = 0x04,
  create_db = 0x05,
  drop_db = 0x06,
  refresh = 0x07,
  shutdown = 0x08,
  statistics = 0x09,
  process_info = 0x0a,
  connect = 0x0b,
  process_kill = 0x0c,
  debug = 0x0d,
  ping = 0x0e,
  time = 0x0f,
  delayed_insert = 0x10,
  change_user = 0x11,
  binlog_dump = 0x12,
  table_dump = 0x13,
  connect_out = 0x14,
  register_slave = 0x15,
  stmt_prepare = 0x16,
  stmt_execute = 0x17,
  stmt_send_long_data = 0x18,
  stmt_close = 0x19,
  stmt_reset = 0x1a,
  set_option = 0x1b,
  stmt_fetch = 0x1c,
  daemon = 0x1d,
  binlog_dump_gtid = 0x1e,
  reset_connection = 0x1f,
};

// A name for logs ("COM_QUERY"); "COM_UNKNOWN" for bytes that are no command.
std::string_view command_name(uint8_t command);

// Server error codes replproxy sends itself.
namespace errc {
inline constexpr uint16_t kConCount = 1040;          // ER_CON_COUNT_ERROR, 08004
inline constexpr uint16_t kHandshake = 1043;         // ER_HANDSHAKE_ERROR, 08S01
inline constexpr uint16_t kAccessDenied = 1045;      // ER_ACCESS_DENIED_ERROR, 28000
inline constexpr uint16_t kUnknownCom = 1047;        // ER_UNKNOWN_COM_ERROR, 08S01
inline constexpr uint16_t kServerShutdown = 1053;    // ER_SERVER_SHUTDOWN, 08S01
inline constexpr uint16_t kNetReadError = 1158;      // ER_NET_READ_ERROR, 08S01
inline constexpr uint16_t kNetPacketsOutOfOrder = 1156;  // ER_NET_PACKETS_OUT_OF_ORDER, 08S01
inline constexpr uint16_t kOptionPreventsStatement = 1290;  // ER_OPTION_PREVENTS_STATEMENT
inline constexpr uint16_t kConnectToForeignDataSource = 1429;  // ER_CONNECT_TO_FOREIGN_DATA_SOURCE
inline constexpr uint16_t kConnectionKilled = 1927;  // ER_CONNECTION_KILLED, 70100
inline constexpr uint16_t kSecureTransportRequired = 3159;  // ER_SECURE_TRANSPORT_REQUIRED
}  // namespace errc

inline constexpr std::string_view kNativePasswordPlugin = "mysql_native_password";
inline constexpr uint8_t kUtf8mb4GeneralCi = 45;

}  // namespace replproxy::protocol
