#pragma once

// Helpers for the binlog tests: splitting a captured file into its events and building events.

#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "codec_test_util.h"
#include "protocol/binlog_bodies.h"
#include "protocol/binlog_event.h"

namespace replproxy::protocol::binlog::test {

using protocol::test::hex;

// A file's events, borrowed from `file`, which must outlive them. The checksum setting comes from
// the file's FDE, as a reader of a real file learns it.
struct FileEvents {
  std::vector<EventView> events;
  std::vector<size_t> offsets;
};

inline FileEvents split_file(ByteView file) {
  FileEvents out;
  EXPECT_TRUE(std::equal(std::begin(kBinlogMagic), std::end(kBinlogMagic), file.begin()));
  size_t pos = sizeof(kBinlogMagic);
  bool has_checksum = false;
  while (pos < file.size()) {
    auto size = next_event_size(file.subspan(pos));
    if (!size) {
      ADD_FAILURE() << "at " << pos << ": " << size.error().message();
      break;
    }
    const ByteView whole = file.subspan(pos, *size);
    if (whole[kTypeOffset] == type_byte(EventType::format_description)) {
      auto fde = decode_format_description(whole);
      if (!fde) {
        ADD_FAILURE() << "FDE at " << pos << ": " << fde.error().message();
        break;
      }
      has_checksum = fde->events_have_checksum();
      auto view = split_event(whole, fde->own_checksum());
      out.events.push_back(*view);
    } else {
      auto view = split_event(whole, has_checksum);
      if (!view) {
        ADD_FAILURE() << "at " << pos << ": " << view.error().message();
        break;
      }
      out.events.push_back(*view);
    }
    out.offsets.push_back(pos);
    pos += *size;
  }
  return out;
}

// Builds whole events for sequences no captured file has (MySQL, old servers); the deque keeps
// the bytes of earlier events in place while later ones are added.
class EventBuilder {
 public:
  EventView add(EventType type, ByteView body, uint32_t server_id = 1) {
    Bytes& bytes = storage_.emplace_back();
    EventHeader header{1700000000, type_byte(type), server_id, 0, 0, 0};
    encode_event(header, body, /*has_checksum=*/true, bytes);
    return *split_event(bytes, true);
  }
  EventView query(std::string_view text) {
    Bytes body;
    encode_query(Query{7, 0, 0, {}, "", text}, body);
    return add(EventType::query, body);
  }
  EventView maria_gtid(uint32_t domain, uint32_t server_id, uint64_t seq, uint8_t flags) {
    Bytes body;
    encode_maria_gtid(MariaGtid{seq, domain, flags, {}, {}, {}}, body);
    return add(EventType::gtid_mariadb, body, server_id);
  }
  EventView mysql_gtid(int64_t gno) {
    Bytes body;
    MySqlGtid g;
    g.flags = 1;
    g.sid[0] = 0x3e;
    g.gno = gno;
    g.logical_timestamps = MySqlLogicalTimestamps{gno - 1, gno};
    encode_mysql_gtid(g, body);
    return add(EventType::gtid_mysql, body);
  }
  EventView xid(uint64_t xid) {
    Bytes body;
    encode_xid(Xid{xid}, body);
    return add(EventType::xid, body);
  }
  EventView opaque(EventType type) { return add(type, hex("01 02 03")); }

 private:
  std::deque<Bytes> storage_;
};

}  // namespace replproxy::protocol::binlog::test
