#include "protocol/binlog_event.h"

#include <gtest/gtest.h>

#include "binlog_fixtures.h"
#include "binlog_test_util.h"
#include "codec_test_util.h"

namespace replproxy::protocol::binlog {
namespace {

using protocol::test::expect_error;
using protocol::test::expect_prefixes_incomplete;
using protocol::test::Fixture;
using protocol::test::hex;
using protocol::test::to_hex;

// The XID_EVENT example of MariaDB's protocol docs (xid_event page), with its CRC32.
const Bytes kDocsXid =
    hex("ee b7 15 5a 10 01 00 00  00 1f 00 00 00 f2 0b 00"
        "00 00 00 66 00 00 00 00  00 00 00 09 30 45 a8");
// The GTID_LIST_EVENT example of the docs (gtid_list_event page): [0-10124-3584].
const Bytes kDocsGtidList =
    hex("a4 85 9e 59 a3 8c 27 00  00 2b 00 00 00 24 01 00"
        "00 00 00 01 00 00 00 00  00 00 00 8c 27 00 00 00"
        "0e 00 00 00 00 00 00 a8  f0 d8 b6");
// The ROTATE_EVENT example of the docs (rotate_event page), as sent in a dump (without the
// packet header and OK byte).
const Bytes kDocsRotate =
    hex("bc 4e 21 5a 04 d9 27 00  00 2f 00 00 00 c0 01 00"
        "00 00 00 04 00 00 00 00  00 00 00 6d 79 73 71 6c"
        "2d 62 69 6e 2e 30 30 30  30 31 39 b2 bc db bf");

class EventHeaderTest : public ::testing::TestWithParam<Fixture<EventHeader>> {};

TEST_P(EventHeaderTest, Fixture) {
  protocol::test::check_codec(
      GetParam(), [](ByteView b) { return decode_event_header(b); },
      [](const EventHeader& h, Bytes& out) { encode_event_header(h, out); });
}

// A header decodes from its 19 bytes whatever follows (complete_from = 19).
INSTANTIATE_TEST_SUITE_P(
    Fixtures, EventHeaderTest,
    ::testing::Values(Fixture<EventHeader>{"DocsXid",
                                           {1511372782, 16, 1, 31, 3058, 0},
                                           0,
                                           Bytes(kDocsXid.begin(), kDocsXid.begin() + 19),
                                           19},
                      Fixture<EventHeader>{"DocsRotate",
                                           {0x5a214ebc, 4, 10201, 47, 448, 0},
                                           0,
                                           Bytes(kDocsRotate.begin(), kDocsRotate.begin() + 19),
                                           19},
                      Fixture<EventHeader>{
                          "AllFieldsWide",
                          {0xfffffffe, 0xa2, 0x80000001, 0x7fffffff, 0xfffffff0,
                           LOG_EVENT_ARTIFICIAL_F | LOG_EVENT_SKIP_REPLICATION_F},
                          0,
                          hex("fe ff ff ff a2 01 00 00 80 ff ff ff 7f f0 ff ff ff 20 80"),
                          19}),
    protocol::test::FixtureName());

TEST(EventHeader, EventSizeBelowHeaderIsInvalid) {
  expect_error(decode_event_header(hex("00 00 00 00 10 01 00 00 00 12 00 00 00 00 00 00 00 00 00")),
               CodecErrc::invalid_input);
  expect_error(next_event_size(hex("00 00 00 00 10 01 00 00 00 00 00 00 00 00 00 00 00 00 00")),
               CodecErrc::invalid_input);
}

TEST(EventType, Names) {
  EXPECT_EQ(event_type_name(type_byte(EventType::query)), "QUERY_EVENT");
  EXPECT_EQ(event_type_name(type_byte(EventType::format_description)), "FORMAT_DESCRIPTION_EVENT");
  EXPECT_EQ(event_type_name(type_byte(EventType::gtid_mariadb)), "GTID_EVENT");
  EXPECT_EQ(event_type_name(type_byte(EventType::gtid_mysql)), "GTID_LOG_EVENT");
  EXPECT_EQ(event_type_name(type_byte(EventType::delete_rows_compressed)),
            "DELETE_ROWS_COMPRESSED_EVENT");
  EXPECT_EQ(event_type_name(150), "UNKNOWN_EVENT");
  EXPECT_EQ(event_type_name(255), "UNKNOWN_EVENT");
}

TEST(Checksum, Crc32OfKnownInput) {
  // The standard CRC-32 check value.
  EXPECT_EQ(binlog_crc32(as_bytes("123456789")), 0xcbf43926u);
  EXPECT_EQ(binlog_crc32(ByteView()), 0u);
}

TEST(Checksum, DocsExamplesMatch) {
  EXPECT_TRUE(checksum_matches(kDocsXid));
  EXPECT_TRUE(checksum_matches(kDocsGtidList));
  EXPECT_TRUE(checksum_matches(kDocsRotate));
  EXPECT_EQ(event_checksum(kDocsXid), 0xa8453009u);
}

TEST(Checksum, AnyFlippedBitFails) {
  for (size_t i = 0; i < kDocsXid.size(); ++i) {
    Bytes changed = kDocsXid;
    changed[i] ^= 0x04;
    EXPECT_FALSE(checksum_matches(changed)) << "byte " << i;
  }
}

TEST(Checksum, TooShortNeverMatches) {
  EXPECT_FALSE(checksum_matches(ByteView(kDocsXid).first(22)));
  EXPECT_FALSE(checksum_matches(ByteView()));
}

TEST(Checksum, EveryCapturedEventMatches) {
  const Bytes file = hex(test::kCrcFile);
  const test::FileEvents split = test::split_file(file);
  ASSERT_EQ(split.events.size(), 43u);
  for (size_t i = 0; i < split.events.size(); ++i) {
    EXPECT_TRUE(checksum_matches(split.events[i].whole)) << "event at " << split.offsets[i];
  }
}

// A server clears LOG_EVENT_BINLOG_IN_USE_F in the FDE when it closes the file, without
// rewriting the CRC: the CRC is over the FDE with the flag clear.
TEST(Checksum, InUseFdeIsChecksummedWithTheFlagClear) {
  const Bytes start = hex(test::kInUseFileStart);
  const ByteView fde = ByteView(start).subspan(4, 252);
  ASSERT_EQ(fde[kFlagsOffset], LOG_EVENT_BINLOG_IN_USE_F);
  EXPECT_TRUE(checksum_matches(fde));
  EXPECT_NE(binlog_crc32(fde.first(fde.size() - 4)), event_checksum(fde));
  // Once closed (flag cleared in place), the stored CRC still matches.
  Bytes closed(fde.begin(), fde.end());
  closed[kFlagsOffset] = 0;
  EXPECT_TRUE(checksum_matches(closed));
}

TEST(Checksum, RewriteLogPosRecomputesTheCrc) {
  Bytes event = kDocsXid;
  rewrite_log_pos(event, 0x01020304, /*has_checksum=*/true);
  EXPECT_EQ(decode_event_header(event)->log_pos, 0x01020304u);
  EXPECT_TRUE(checksum_matches(event));
  rewrite_log_pos(event, 3058, true);
  EXPECT_EQ(to_hex(event), to_hex(kDocsXid));
}

TEST(Checksum, RewriteLogPosWithoutChecksumLeavesTheTail) {
  const Bytes file = hex(test::kNoChecksumFile);
  const test::FileEvents split = test::split_file(file);
  const EventView& xid = split.events[8];
  ASSERT_TRUE(xid.is(EventType::xid));
  Bytes event(xid.whole.begin(), xid.whole.end());
  rewrite_log_pos(event, 9999, /*has_checksum=*/false);
  EXPECT_EQ(decode_event_header(event)->log_pos, 9999u);
  EXPECT_TRUE(std::equal(event.begin() + 17, event.end(), xid.whole.begin() + 17));
}

TEST(SplitEvent, DocsXidWithChecksum) {
  auto view = split_event(kDocsXid, true);
  ASSERT_TRUE(view.has_value()) << view.error().message();
  EXPECT_TRUE(view->is(EventType::xid));
  EXPECT_EQ(to_hex(view->body), "66 00 00 00 00 00 00 00");
  EXPECT_EQ(view->whole.size(), kDocsXid.size());
  EXPECT_EQ(view->header.event_size, 31u);
  // Every strict prefix is incomplete, one byte more is not this event.
  expect_prefixes_incomplete(kDocsXid, protocol::test::kWholeMessage,
                             [](ByteView b) { return split_event(b, true); });
  Bytes longer = kDocsXid;
  longer.push_back(0);
  expect_error(split_event(longer, true), CodecErrc::invalid_input);
}

TEST(SplitEvent, WithoutChecksumTheBodyKeepsTheTail) {
  auto view = split_event(kDocsXid, false);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->body.size(), 12u);
}

TEST(SplitEvent, Failures) {
  struct Case {
    std::string name;
    Bytes bytes;
    bool has_checksum;
    CodecErrc expected;
  };
  const Case cases[] = {
      {"empty", {}, true, CodecErrc::not_enough_input},
      {"size below header", hex("00 00 00 00 10 01 00 00 00 05 00 00 00 00 00 00 00 00 00"), false,
       CodecErrc::invalid_input},
      {"header only but checksum expected",
       hex("00 00 00 00 10 01 00 00 00 13 00 00 00 00 00 00 00 00 00"), true,
       CodecErrc::invalid_input},
      {"size 22 with checksum",
       hex("00 00 00 00 10 01 00 00 00 16 00 00 00 00 00 00 00 00 00 01 02 03"), true,
       CodecErrc::invalid_input},
      {"declares more", hex("00 00 00 00 10 01 00 00 00 20 00 00 00 00 00 00 00 00 00 01"), false,
       CodecErrc::not_enough_input},
      {"declares less", hex("00 00 00 00 10 01 00 00 00 13 00 00 00 00 00 00 00 00 00 01"), false,
       CodecErrc::invalid_input},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    expect_error(split_event(c.bytes, c.has_checksum), c.expected);
  }
}

TEST(SplitEvent, HeaderOnlyWithoutChecksumIsAnEmptyBody) {
  auto view = split_event(hex("00 00 00 00 03 01 00 00 00 13 00 00 00 00 00 00 00 00 00"), false);
  ASSERT_TRUE(view.has_value());
  EXPECT_TRUE(view->is(EventType::stop));
  EXPECT_TRUE(view->body.empty());
}

TEST(NextEventSize, ScansBothCapturedFiles) {
  const Bytes crc = hex(test::kCrcFile);
  const Bytes plain = hex(test::kNoChecksumFile);
  const test::FileEvents a = test::split_file(crc);
  const test::FileEvents b = test::split_file(plain);
  EXPECT_EQ(a.events.size(), 43u);
  EXPECT_EQ(a.offsets.back() + a.events.back().whole.size(), crc.size());
  EXPECT_TRUE(a.events.back().is(EventType::rotate));
  EXPECT_EQ(b.events.size(), 17u);
  EXPECT_EQ(b.offsets.back() + b.events.back().whole.size(), plain.size());
  // Each event's log_pos is where the next one starts.
  for (size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_EQ(a.events[i].header.log_pos, a.offsets[i] + a.events[i].whole.size());
  }
}

TEST(NextEventSize, IncompleteHeader) {
  expect_prefixes_incomplete(ByteView(kDocsXid).first(19), protocol::test::kWholeMessage,
                             [](ByteView b) { return next_event_size(b); });
  EXPECT_EQ(*next_event_size(ByteView(kDocsXid).first(19)), 31u);
  EXPECT_EQ(*next_event_size(kDocsXid), 31u);
}

// A reader that gets the file a byte at a time (as a socket may deliver it) finds the same
// events.
TEST(NextEventSize, StreamingOneByteAtATime) {
  const Bytes file = hex(test::kCrcFile);
  Bytes buffered;
  size_t events = 0;
  size_t consumed = 4;
  for (size_t i = 4; i < file.size(); ++i) {
    buffered.push_back(file[i]);
    auto size = next_event_size(buffered);
    if (!size) {
      ASSERT_EQ(size.error(), make_error_code(CodecErrc::not_enough_input));
      continue;
    }
    if (buffered.size() < *size) {
      expect_error(split_event(buffered, true), CodecErrc::not_enough_input);
      continue;
    }
    auto view = split_event(buffered, true);
    ASSERT_TRUE(view.has_value()) << "at " << consumed;
    EXPECT_TRUE(checksum_matches(view->whole));
    consumed += *size;
    buffered.clear();
    ++events;
  }
  EXPECT_EQ(events, 43u);
  EXPECT_TRUE(buffered.empty());
}

TEST(EncodeEvent, RebuildsTheDocsExamples) {
  auto xid = split_event(kDocsXid, true);
  Bytes out;
  encode_event(xid->header, xid->body, true, out);
  EXPECT_EQ(to_hex(out), to_hex(kDocsXid));

  auto rotate = split_event(kDocsRotate, true);
  EventHeader header = rotate->header;
  header.event_size = 0;  // computed by encode_event
  out.clear();
  encode_event(header, rotate->body, true, out);
  EXPECT_EQ(to_hex(out), to_hex(kDocsRotate));
}

TEST(EncodeEvent, WithoutChecksumAppends) {
  Bytes out = {0xaa};
  encode_event(EventHeader{1, 3, 2, 0, 42, 0}, ByteView(), false, out);
  EXPECT_EQ(to_hex(out), "aa 01 00 00 00 03 02 00 00 00 13 00 00 00 2a 00 00 00 00 00");
}

}  // namespace
}  // namespace replproxy::protocol::binlog
