// ResponseTracker on COM_QUERY responses: OK, ERR, result sets, multi-results, LOCAL INFILE,
// long rows and invalid frames.

#include "protocol/response_tracker.h"

#include <gtest/gtest.h>

#include "tests/unit/protocol/response_tracker_fixtures.h"

namespace replproxy::protocol::testing {
namespace {

class ResponseTrackerQueryTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  ResponseTracker tracker_{GetParam()};
  uint64_t caps() const { return GetParam(); }
  void SetUp() override { tracker_.start(command(Command::query, {'S', 'E', 'L'})); }
};

INSTANTIATE_TEST_SUITE_P(Capabilities, ResponseTrackerQueryTest,
                         ::testing::Values(kEofCaps, kDeprecateEofCaps), [](const auto& info) {
                           return (info.param & cap::kDeprecateEof) != 0 ? "DeprecateEof" : "Eof";
                         });

TEST_P(ResponseTrackerQueryTest, OkEndsResponse) {
  const Bytes wire = Wire()
                         .packet(ok_payload({.status = kAutocommit | status::kInTrans,
                                             .affected_rows = 3,
                                             .last_insert_id = 42,
                                             .warnings = 1}))
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
  const ResponseSummary& s = tracker_.summary();
  EXPECT_FALSE(s.error);
  EXPECT_EQ(s.status_flags, kAutocommit | status::kInTrans);
  EXPECT_EQ(s.affected_rows, 3u);
  EXPECT_EQ(s.last_insert_id, 42u);
  EXPECT_EQ(s.warnings, 1);
  EXPECT_EQ(s.result_sets, 0u);
}

TEST_P(ResponseTrackerQueryTest, ErrEndsResponse) {
  // MySQL protocol documentation, ERR_Packet: 1096 (HY000) "No tables used".
  const Bytes wire =
      hex({0x17, 0x00, 0x00, 0x01, 0xff, 0x48, 0x04, 0x23, 0x48, 0x59, 0x30, 0x30, 0x30, 0x4e,
           0x6f, 0x20, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x73, 0x20, 0x75, 0x73, 0x65, 0x64});
  EXPECT_TRUE(ends_with(tracker_, wire));
  const ResponseSummary& s = tracker_.summary();
  ASSERT_TRUE(s.error);
  ASSERT_TRUE(s.err.has_value());
  EXPECT_EQ(s.err->error_code, 1096);
  EXPECT_EQ(s.err->sql_state, "HY000");
  EXPECT_EQ(s.err->message, "No tables used");
}

TEST_P(ResponseTrackerQueryTest, ResultSetWithRows) {
  Wire wire;
  wire.columns(2, caps());
  for (int i = 0; i < 3; ++i) {
    wire.packet(text_row_payload({"a", "b"}));
  }
  wire.end_rows(caps(), kAutocommit | status::kInTrans);
  EXPECT_TRUE(ends_with(tracker_, wire.bytes()));
  EXPECT_FALSE(tracker_.summary().error);
  EXPECT_EQ(tracker_.summary().result_sets, 1u);
  EXPECT_EQ(tracker_.summary().status_flags, kAutocommit | status::kInTrans);
}

TEST_P(ResponseTrackerQueryTest, EmptyResultSet) {
  const Bytes wire = Wire().columns(3, caps()).end_rows(caps()).bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
  EXPECT_EQ(tracker_.summary().result_sets, 1u);
}

TEST_P(ResponseTrackerQueryTest, RowsMayStartWithNullOrEmptyString) {
  const Bytes wire = Wire()
                         .columns(1, caps())
                         .packet(hex({0xfb}))
                         .packet(hex({0x00}))
                         .packet(hex({0xfc, 0x01, 0x00, 'x'}))
                         .end_rows(caps())
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
}

TEST_P(ResponseTrackerQueryTest, ErrMidRowsEndsResponse) {
  const Bytes wire = Wire()
                         .columns(1, caps())
                         .packet(text_row_payload({"1"}))
                         .packet(err_payload(1317, "70100", "Query execution was interrupted"))
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
  ASSERT_TRUE(tracker_.summary().error);
  EXPECT_EQ(tracker_.summary().err->error_code, 1317);
}

TEST_P(ResponseTrackerQueryTest, ErrInsteadOfColumnDefinition) {
  const Bytes wire = Wire()
                         .packet(column_count_payload(2))
                         .packet(column_def_payload("a"))
                         .packet(err_payload(1927, "70100", "Connection was killed"))
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
  EXPECT_TRUE(tracker_.summary().error);
}

TEST_P(ResponseTrackerQueryTest, MultiStatementResults) {
  // SELECT 1; UPDATE t SET a = 1; SELECT 2
  const uint16_t more = kAutocommit | status::kMoreResultsExist;
  const Bytes wire = Wire()
                         .columns(1, caps(), more)
                         .packet(text_row_payload({"1"}))
                         .end_rows(caps(), more)
                         .packet(ok_payload({.status = more, .affected_rows = 5}))
                         .columns(1, caps())
                         .packet(text_row_payload({"2"}))
                         .end_rows(caps())
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
  EXPECT_EQ(tracker_.summary().result_sets, 2u);
  EXPECT_EQ(tracker_.summary().status_flags, kAutocommit);
  EXPECT_FALSE(tracker_.summary().error);
}

TEST_P(ResponseTrackerQueryTest, MultiStatementStopsAtErr) {
  const uint16_t more = kAutocommit | status::kMoreResultsExist;
  const Bytes wire = Wire()
                         .packet(ok_payload({.status = more, .affected_rows = 1}))
                         .packet(err_payload(1146, "42S02", "Table 'test.nope' doesn't exist"))
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
  EXPECT_TRUE(tracker_.summary().error);
  EXPECT_EQ(tracker_.summary().affected_rows, 1u);
}

TEST_P(ResponseTrackerQueryTest, StoredProcedureCall) {
  // CALL p(): two SELECTs inside the procedure, then the OK of the CALL itself.
  const uint16_t more = kAutocommit | status::kMoreResultsExist;
  const Bytes wire = Wire()
                         .columns(2, caps(), more)
                         .packet(text_row_payload({"1", "x"}))
                         .end_rows(caps(), more)
                         .columns(1, caps(), more)
                         .end_rows(caps(), more)
                         .packet(ok_payload({.status = kAutocommit}))
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
  EXPECT_EQ(tracker_.summary().result_sets, 2u);
  EXPECT_EQ(tracker_.summary().status_flags, kAutocommit);
}

TEST_P(ResponseTrackerQueryTest, StreamingLongMultiResultEndsOnlyAtTheLastFrame) {
  const uint16_t more = kAutocommit | status::kMoreResultsExist;
  Wire wire;
  constexpr int kResults = 20;
  for (int r = 0; r < kResults; ++r) {
    wire.columns(3, caps(), more);
    for (int i = 0; i < 50; ++i) {
      wire.packet(text_row_payload({std::to_string(i), "", "z"}));
    }
    wire.end_rows(caps(), more);
    wire.packet(ok_payload({.status = more, .affected_rows = 1}));
  }
  wire.packet(ok_payload({.status = kAutocommit | status::kInTrans, .last_insert_id = 7}));
  // Sequence ids wrap around many times here, which the tracker must not mind.
  EXPECT_TRUE(ends_with(tracker_, wire.bytes()));
  EXPECT_EQ(tracker_.summary().result_sets, static_cast<uint64_t>(kResults));
  EXPECT_EQ(tracker_.summary().last_insert_id, 7u);
  EXPECT_EQ(tracker_.summary().status_flags, kAutocommit | status::kInTrans);
}

TEST_P(ResponseTrackerQueryTest, LocalInfile) {
  // LOAD DATA LOCAL INFILE '/tmp/t.csv' INTO TABLE t
  Bytes request{0xfb};
  Writer(request).raw("/tmp/t.csv");
  EXPECT_TRUE(ends_with(tracker_, Wire().packet(request).bytes(), Next::send_local_infile));
  // The client sent its data as frames 2 and 3 (the last one empty); the server answers with 4.
  EXPECT_TRUE(
      ends_with(tracker_, Wire(4).packet(ok_payload({.affected_rows = 2, .warnings = 0})).bytes()));
  EXPECT_EQ(tracker_.summary().affected_rows, 2u);
}

TEST_P(ResponseTrackerQueryTest, LocalInfileRefused) {
  EXPECT_TRUE(
      ends_with(tracker_, Wire().packet(hex({0xfb, 'f'})).bytes(), Next::send_local_infile));
  EXPECT_TRUE(ends_with(tracker_, Wire(3)
                                      .packet(err_payload(2068, "HY000",
                                                          "LOAD DATA LOCAL INFILE is "
                                                          "forbidden"))
                                      .bytes()));
  EXPECT_TRUE(tracker_.summary().error);
}

TEST_P(ResponseTrackerQueryTest, LocalInfileInMultiStatement) {
  const uint16_t more = kAutocommit | status::kMoreResultsExist;
  EXPECT_TRUE(
      ends_with(tracker_, Wire().packet(hex({0xfb, 'f'})).bytes(), Next::send_local_infile));
  const Bytes rest = Wire(3)
                         .packet(ok_payload({.status = more, .affected_rows = 1}))
                         .columns(1, caps())
                         .end_rows(caps())
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, rest));
}

TEST_P(ResponseTrackerQueryTest, InvalidAfterLocalInfileRequest) {
  EXPECT_TRUE(ends_with(tracker_, Wire().packet(hex({0xfb})).bytes(), Next::send_local_infile));
  EXPECT_TRUE(rejects_at(tracker_, Wire(3).packet(column_count_payload(1)).bytes(), 1));
}

TEST_P(ResponseTrackerQueryTest, SessionStateChangesAccumulate) {
  // USE shop; SET autocommit = 0 under CLIENT_SESSION_TRACK.
  const uint16_t more = kAutocommit | status::kMoreResultsExist;
  const uint8_t schema = static_cast<uint8_t>(SessionTrackType::schema);
  const uint8_t variables = static_cast<uint8_t>(SessionTrackType::system_variables);
  const Bytes wire = Wire()
                         .packet(ok_with_state(more, {{schema, lenenc("shop")}}))
                         .packet(ok_with_state(status::kInTrans,
                                               {{variables, lenenc("autocommit") + lenenc("OFF")}}))
                         .bytes();
  ResponseTracker tracker(caps() | cap::kSessionTrack);
  tracker.start(command(Command::query));
  EXPECT_TRUE(ends_with(tracker, wire));
  const ResponseSummary& s = tracker.summary();
  ASSERT_EQ(s.session_state_changes.size(), 2u);
  EXPECT_EQ(s.session_state_changes[0], (SessionStateChange{schema, lenenc("shop")}));
  EXPECT_EQ(s.session_state_changes[1].type, variables);
  EXPECT_EQ(s.status_flags, status::kInTrans | status::kSessionStateChanged);
  EXPECT_EQ(s.status_flags & status::kAutocommit, 0);
}

TEST_P(ResponseTrackerQueryTest, ProcessInfoIsAResultSet) {
  ResponseTracker tracker(caps());
  tracker.start(command(Command::process_info));
  EXPECT_TRUE(ends_with(tracker, Wire().columns(8, caps()).end_rows(caps()).bytes()));
}

TEST_P(ResponseTrackerQueryTest, StartResetsTheSummary) {
  EXPECT_TRUE(ends_with(tracker_, Wire().packet(err_payload(1064, "42000", "syntax")).bytes()));
  tracker_.start(command(Command::query));
  EXPECT_FALSE(tracker_.summary().error);
  EXPECT_TRUE(ends_with(tracker_, Wire().columns(1, caps()).end_rows(caps()).bytes()));
  EXPECT_FALSE(tracker_.summary().error);
  EXPECT_EQ(tracker_.summary().result_sets, 1u);
}

// A "SELECT 1" answered by MariaDB, without CLIENT_DEPRECATE_EOF: column count, the column
// definition (def, "", "", "", "1", "", 0x0c, binary charset 63, length 1, LONG, NOT_NULL |
// BINARY, 0 decimals), EOF, the row "1", EOF; status SERVER_STATUS_AUTOCOMMIT.
TEST(ResponseTrackerLiteralTest, SelectOneWithEof) {
  const Bytes wire = hex({0x01, 0x00, 0x00, 0x01, 0x01,                                //
                          0x17, 0x00, 0x00, 0x02, 0x03, 0x64, 0x65, 0x66, 0x00, 0x00,  //
                          0x00, 0x01, 0x31, 0x00, 0x0c, 0x3f, 0x00, 0x01, 0x00, 0x00,  //
                          0x00, 0x03, 0x81, 0x00, 0x00, 0x00, 0x00,                    //
                          0x05, 0x00, 0x00, 0x03, 0xfe, 0x00, 0x00, 0x02, 0x00,        //
                          0x02, 0x00, 0x00, 0x04, 0x01, 0x31,                          //
                          0x05, 0x00, 0x00, 0x05, 0xfe, 0x00, 0x00, 0x02, 0x00});
  ResponseTracker tracker(kEofCaps);
  tracker.start(command(Command::query));
  EXPECT_TRUE(ends_with(tracker, wire));
  EXPECT_EQ(tracker.summary().status_flags, kAutocommit);
  EXPECT_EQ(tracker.summary().result_sets, 1u);
}

// The same with CLIENT_DEPRECATE_EOF: no EOF after the definition, an OK_FE (affected rows 0,
// last insert id 0, AUTOCOMMIT, 0 warnings) after the row.
TEST(ResponseTrackerLiteralTest, SelectOneWithDeprecateEof) {
  const Bytes wire = hex({0x01, 0x00, 0x00, 0x01, 0x01,                                //
                          0x17, 0x00, 0x00, 0x02, 0x03, 0x64, 0x65, 0x66, 0x00, 0x00,  //
                          0x00, 0x01, 0x31, 0x00, 0x0c, 0x3f, 0x00, 0x01, 0x00, 0x00,  //
                          0x00, 0x03, 0x81, 0x00, 0x00, 0x00, 0x00,                    //
                          0x02, 0x00, 0x00, 0x03, 0x01, 0x31,                          //
                          0x07, 0x00, 0x00, 0x04, 0xfe, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00});
  ResponseTracker tracker(kDeprecateEofCaps);
  tracker.start(command(Command::query));
  EXPECT_TRUE(ends_with(tracker, wire));
  EXPECT_EQ(tracker.summary().status_flags, kAutocommit);
}

// MySQL protocol documentation, Text Resultset: SELECT @@version_comment.
TEST(ResponseTrackerLiteralTest, VersionCommentFromProtocolDocs) {
  const Bytes wire =
      hex({0x01, 0x00, 0x00, 0x01, 0x01, 0x27, 0x00, 0x00, 0x02, 0x03, 0x64, 0x65, 0x66, 0x00, 0x00,
           0x00, 0x11, 0x40, 0x40, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x5f, 0x63, 0x6f, 0x6d,
           0x6d, 0x65, 0x6e, 0x74, 0x00, 0x0c, 0x08, 0x00, 0x1c, 0x00, 0x00, 0x00, 0xfd, 0x00, 0x00,
           0x1f, 0x00, 0x00, 0x05, 0x00, 0x00, 0x03, 0xfe, 0x00, 0x00, 0x02, 0x00, 0x1d, 0x00, 0x00,
           0x04, 0x1c, 0x4d, 0x79, 0x53, 0x51, 0x4c, 0x20, 0x43, 0x6f, 0x6d, 0x6d, 0x75, 0x6e, 0x69,
           0x74, 0x79, 0x20, 0x53, 0x65, 0x72, 0x76, 0x65, 0x72, 0x20, 0x28, 0x47, 0x50, 0x4c, 0x29,
           0x05, 0x00, 0x00, 0x05, 0xfe, 0x00, 0x00, 0x02, 0x00});
  ResponseTracker tracker(kEofCaps);
  tracker.start(command(Command::query));
  EXPECT_TRUE(ends_with(tracker, wire));
}

TEST(ResponseTrackerLiteralTest, OkFromProtocolDocs) {
  ResponseTracker tracker(kEofCaps);
  tracker.start(command(Command::query));
  EXPECT_TRUE(
      ends_with(tracker, hex({0x07, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00})));
  EXPECT_EQ(tracker.summary().status_flags, kAutocommit);
}

// Under DEPRECATE_EOF the OK_FE that ends rows carries session state and is 9 bytes or longer;
// it still ends the rows since its frame is shorter than 0xffffff.
TEST(ResponseTrackerLiteralTest, LongOkFeEndsRows) {
  const uint8_t schema = static_cast<uint8_t>(SessionTrackType::schema);
  const Bytes ok_fe = ok_with_state(kAutocommit, {{schema, lenenc("inventory")}}, 0xfe);
  ASSERT_GE(ok_fe.size(), 9u);
  ResponseTracker tracker(kDeprecateEofCaps);
  tracker.start(command(Command::query));
  EXPECT_TRUE(ends_with(tracker, Wire().columns(1, kDeprecateEofCaps).packet(ok_fe).bytes()));
  ASSERT_EQ(tracker.summary().session_state_changes.size(), 1u);
  EXPECT_EQ(tracker.summary().session_state_changes[0].type, schema);
}

// A server that sends a classic EOF although DEPRECATE_EOF was negotiated is tolerated.
TEST(ResponseTrackerLiteralTest, ClassicEofUnderDeprecateEof) {
  ResponseTracker tracker(kDeprecateEofCaps);
  tracker.start(command(Command::query));
  EXPECT_TRUE(ends_with(
      tracker, Wire().columns(1, kDeprecateEofCaps).packet(eof_payload(kAutocommit, 2)).bytes()));
  EXPECT_EQ(tracker.summary().warnings, 2);
}

}  // namespace
}  // namespace replproxy::protocol::testing
