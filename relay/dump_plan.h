#pragma once

// Where a replica's dump starts in the relay's files, decided the way a MariaDB primary decides
// it (pure logic over the store's file list):
//   GTID state S (@slave_connect_state): the newest file whose starting GTID_LIST S already
//   covers in every domain; the dump then skips the groups S includes. A replica that has GTIDs
//   the relay never stored, or whose files were purged, gets error 1236 with MariaDB's text.
//   File and position (no GTID state, e.g. mariadb-binlog): that file, from that offset.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/gtid.h"
#include "relay/binlog_store.h"

namespace replproxy::relay {

// ER_MASTER_FATAL_ERROR_READING_BINLOG: what a primary sends instead of the stream.
inline constexpr uint16_t kFatalErrorReadingBinlog = 1236;

struct DumpPlan {
  uint32_t file = 0;     // file number to start in; 0: the store has no file yet (wait for one)
  uint64_t offset = 4;   // 4: from the FORMAT_DESCRIPTION on; else an event offset in `file`
  bool gtid_mode = false;
  protocol::binlog::GtidPosition state;  // gtid_mode: the groups to skip
};

struct DumpRefusal {
  uint16_t code = kFatalErrorReadingBinlog;
  std::string message;
};

// `files`: oldest first, as BinlogStore::files(). `stored`: the store's GTID position.
std::expected<DumpPlan, DumpRefusal> plan_gtid_dump(std::string_view connect_state,
                                                    const std::vector<StoreFileInfo>& files,
                                                    const protocol::binlog::GtidPosition& stored);

// `file` may carry a directory ("./replproxy-bin.000002"); only its last component counts. An
// empty name starts at the oldest file.
std::expected<DumpPlan, DumpRefusal> plan_file_dump(std::string_view file, uint64_t position,
                                                    const std::vector<StoreFileInfo>& files);

}  // namespace replproxy::relay
