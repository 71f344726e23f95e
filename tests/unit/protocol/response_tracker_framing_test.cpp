// ResponseTracker on long packets split into 0xffffff-byte frames, and on frames that cannot
// occur where they arrive.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/response_tracker.h"
#include "tests/unit/protocol/response_tracker_fixtures.h"

namespace replproxy::protocol::testing {
namespace {

class ResponseTrackerLongPacketTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  ResponseTracker tracker_{GetParam()};
  uint64_t caps() const { return GetParam(); }
  void SetUp() override { tracker_.start(command(Command::query)); }
};

INSTANTIATE_TEST_SUITE_P(Capabilities, ResponseTrackerLongPacketTest,
                         ::testing::Values(kEofCaps, kDeprecateEofCaps), [](const auto& info) {
                           return (info.param & cap::kDeprecateEof) != 0 ? "DeprecateEof" : "Eof";
                         });

// The second value of this row ends with bytes that, framed alone, look like an EOF (and, under
// DEPRECATE_EOF, like an OK_FE). The row is 0xffffff + 7 bytes long, so exactly those 7 bytes
// make up its continuation frame, which must be taken as data.
TEST_P(ResponseTrackerLongPacketTest, ContinuationStartingWithFeDoesNotEndRows) {
  const std::string terminator_lookalike("\xfe\x00\x00\x02\x00\x00\x00", 7);
  Bytes row;
  Writer(row)
      .lenenc_string(std::string(0xfffff0, 'a'))
      .lenenc_string("0123456789" + terminator_lookalike);
  ASSERT_EQ(row.size(), kMaxFramePayload + 7);

  const Bytes wire = Wire().columns(2, caps()).packet(row).end_rows(caps()).bytes();
  const Outcome outcome = feed_wire(tracker_, wire);
  ASSERT_TRUE(outcome.last);
  EXPECT_EQ(*outcome.last, Next::done);
  EXPECT_EQ(outcome.frames_fed, outcome.frames_total);
  EXPECT_EQ(tracker_.summary().status_flags, kAutocommit);
}

// A text row whose first value is 16 MiB starts with the lenenc prefix 0xfe; its first frame is
// a full one, so it is a row and not a terminator.
TEST_P(ResponseTrackerLongPacketTest, TextRowStartingWithFe) {
  Bytes row;
  Writer(row).lenenc_string(std::string(0x1000000, 'v'));
  ASSERT_EQ(row[0], 0xfe);
  ASSERT_GT(row.size(), kMaxFramePayload);
  const Bytes wire = Wire()
                         .columns(1, caps())
                         .packet(row)
                         .packet(text_row_payload({"short"}))
                         .end_rows(caps())
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
}

// A row of exactly 0xffffff bytes is followed by an empty frame that ends it.
TEST_P(ResponseTrackerLongPacketTest, RowOfExactlyOneFullFrame) {
  Bytes row;
  Writer(row).lenenc_string(std::string(kMaxFramePayload - 4, 'r'));
  ASSERT_EQ(row.size(), kMaxFramePayload);
  const Bytes wire = Wire().columns(1, caps()).packet(row).end_rows(caps()).bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
}

TEST_P(ResponseTrackerLongPacketTest, LongColumnDefinitionCountsOnce) {
  Bytes def;
  Writer(def).lenenc_string("def").lenenc_string(std::string(kMaxFramePayload, 's'));
  Wire wire;
  wire.packet(column_count_payload(2)).packet(def).packet(column_def_payload("b"));
  if ((caps() & cap::kDeprecateEof) == 0) {
    wire.packet(eof_payload());
  }
  wire.packet(text_row_payload({"1", "2"})).end_rows(caps());
  EXPECT_TRUE(ends_with(tracker_, wire.bytes()));
}

// When the last packet of a response is long, the response ends with its last frame.
TEST_P(ResponseTrackerLongPacketTest, ResponseEndingWithALongPacket) {
  tracker_.start(command(Command::stmt_prepare));
  Bytes prepare_ok;
  Writer(prepare_ok).u8(0x00).u32(5).u16(1).u16(0).u8(0).u16(0);
  Bytes def;
  Writer(def).lenenc_string("def").lenenc_string(std::string(kMaxFramePayload, 's'));
  Wire wire;
  wire.packet(prepare_ok).packet(def);
  if ((caps() & cap::kDeprecateEof) == 0) {
    wire.packet(eof_payload());
  }
  EXPECT_TRUE(ends_with(tracker_, wire.bytes()));
  EXPECT_EQ(tracker_.summary().statement_id, 5u);
}

TEST_P(ResponseTrackerLongPacketTest, BinaryRowSpanningFrames) {
  tracker_.start(execute_command(1, 0));
  const std::string lookalike("\xfe\x00\x00\x02\x00\x00\x00", 7);
  // Header 0x00, NULL bitmap, then two values; the continuation frame is the lookalike.
  Bytes row;
  Writer(row)
      .u8(0x00)
      .u8(0x00)
      .lenenc_string(std::string(0xffffee, 'b'))
      .lenenc_string("0123456789" + lookalike);
  ASSERT_EQ(row.size(), kMaxFramePayload + 7);
  const Bytes wire = Wire().columns(2, caps()).packet(row).end_rows(caps()).bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
}

// Packets that must be decoded whole cannot span frames.
TEST_P(ResponseTrackerLongPacketTest, FullFrameWhereAStatusPacketIsExpected) {
  Bytes full(kMaxFramePayload, 'x');
  full[0] = 0x00;
  EXPECT_TRUE(rejected(tracker_.feed(Frame{1, full})));

  tracker_.start(command(Command::ping));
  EXPECT_TRUE(rejected(tracker_.feed(Frame{1, full})));

  tracker_.start(command(Command::query));
  ASSERT_TRUE(ends_with(tracker_, Wire().columns(1, caps()).bytes(), Next::read_more));
  full[0] = 0xff;
  EXPECT_TRUE(rejected(tracker_.feed(Frame{4, full})));
}

TEST(ResponseTrackerFramingTest, FeedBeforeStartIsInvalid) {
  ResponseTracker tracker(kEofCaps);
  EXPECT_FALSE(tracker.expects_response());
  const Bytes ok = ok_payload({});
  EXPECT_TRUE(rejected(tracker.feed(Frame{1, ok})));
}

TEST(ResponseTrackerFramingTest, FramesAfterAnInvalidOneAreRejected) {
  ResponseTracker tracker(kEofCaps);
  tracker.start(command(Command::query));
  const Bytes zero_columns = hex({0xfc, 0x00, 0x00});
  const Bytes ok = ok_payload({});
  EXPECT_TRUE(rejected(tracker.feed(Frame{1, zero_columns})));
  EXPECT_TRUE(rejected(tracker.feed(Frame{2, ok})));
}

TEST(ResponseTrackerFramingTest, SequenceIdsAreNotChecked) {
  ResponseTracker tracker(kEofCaps);
  tracker.start(command(Command::query));
  const Bytes count = column_count_payload(1);
  const Bytes def = column_def_payload("a");
  const Bytes eof = eof_payload();
  EXPECT_EQ(tracker.feed(Frame{9, count}), Next::read_more);
  EXPECT_EQ(tracker.feed(Frame{9, def}), Next::read_more);
  EXPECT_EQ(tracker.feed(Frame{0, eof}), Next::read_more);
  EXPECT_EQ(tracker.feed(Frame{200, eof}), Next::done);
}

struct InvalidCase {
  const char* name;
  uint64_t capabilities;
  Bytes command;
  Bytes wire;
  size_t bad_frame;
};

std::vector<InvalidCase> invalid_cases() {
  const Bytes query = command(Command::query);
  const Bytes ok = ok_payload({});
  return {
      {"empty first packet", kEofCaps, query, Wire().packet({}).bytes(), 1},
      {"column count 0", kEofCaps, query, Wire().packet(hex({0xfc, 0x00, 0x00})).bytes(), 1},
      {"column count with trailing bytes", kEofCaps, query,
       Wire().packet(hex({0x01, 0x00})).bytes(), 1},
      {"EOF as first packet", kEofCaps, query, Wire().packet(eof_payload()).bytes(), 1},
      {"truncated OK", kEofCaps, query, Wire().packet(hex({0x00, 0x00})).bytes(), 1},
      {"truncated ERR", kEofCaps, query, Wire().packet(hex({0xff, 0x01})).bytes(), 1},
      {"OK instead of a column definition", kEofCaps, query,
       Wire().packet(column_count_payload(2)).packet(column_def_payload("a")).packet(ok).bytes(),
       3},
      {"EOF instead of a column definition", kEofCaps, query,
       Wire()
           .packet(column_count_payload(2))
           .packet(column_def_payload("a"))
           .packet(eof_payload())
           .bytes(),
       3},
      {"empty column definition", kDeprecateEofCaps, query,
       Wire().packet(column_count_payload(1)).packet({}).bytes(), 2},
      {"row instead of the columns EOF", kEofCaps, query,
       Wire()
           .packet(column_count_payload(1))
           .packet(column_def_payload("a"))
           .packet(text_row_payload({"1"}))
           .bytes(),
       3},
      {"empty row", kDeprecateEofCaps, query,
       Wire().columns(1, kDeprecateEofCaps).packet({}).bytes(), 3},
      {"0xfe packet of 9 bytes ending rows without DEPRECATE_EOF", kEofCaps, query,
       Wire().columns(1, kEofCaps).packet(hex({0xfe, 0, 0, 2, 0, 0, 0, 0, 0})).bytes(), 4},
      {"undecodable OK_FE", kDeprecateEofCaps, query,
       Wire()
           .columns(1, kDeprecateEofCaps)
           .packet(hex({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}))
           .bytes(),
       3},
      {"frame after the end", kEofCaps, query, Wire().packet(ok).packet(ok).bytes(), 2},
      {"binary row not starting with 0x00", kEofCaps, execute_command(1, 0),
       Wire().columns(1, kEofCaps).packet(text_row_payload({"1"})).bytes(), 4},
      {"row as answer to COM_PING", kEofCaps, command(Command::ping),
       Wire().packet(text_row_payload({"1"})).bytes(), 1},
      {"empty answer to COM_PING", kEofCaps, command(Command::ping), Wire().packet({}).bytes(), 1},
      {"long EOF answering COM_SET_OPTION without DEPRECATE_EOF", kEofCaps,
       command(Command::set_option, {0, 0}),
       Wire().packet(hex({0xfe, 0, 0, 2, 0, 0, 0, 0, 0})).bytes(), 1},
      {"PREPARE_OK of 10 bytes", kEofCaps, command(Command::stmt_prepare),
       Wire().packet(hex({0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0})).bytes(), 1},
      {"column definition instead of the params EOF", kEofCaps, command(Command::stmt_prepare),
       Wire()
           .packet(hex({0x00, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}))
           .packet(column_def_payload("?"))
           .packet(column_def_payload("?"))
           .bytes(),
       3},
      {"OK instead of a field list definition", kEofCaps, command(Command::field_list),
       Wire().packet(column_def_payload("a")).packet(ok).bytes(), 2},
      {"frame after COM_STATISTICS", kEofCaps, command(Command::statistics),
       Wire().packet(hex({'U', 'p'})).packet(hex({'t'})).bytes(), 2},
      {"frame after COM_QUIT", kEofCaps, command(Command::quit), Wire().packet(ok).bytes(), 1},
  };
}

TEST(ResponseTrackerFramingTest, InvalidFrames) {
  for (const InvalidCase& c : invalid_cases()) {
    SCOPED_TRACE(c.name);
    ResponseTracker tracker(c.capabilities);
    tracker.start(c.command);
    EXPECT_TRUE(rejects_at(tracker, c.wire, c.bad_frame));
  }
}

}  // namespace
}  // namespace replproxy::protocol::testing
