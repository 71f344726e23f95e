// ResponseTracker on the responses to prepared-statement commands, COM_FIELD_LIST,
// COM_STATISTICS, simple commands and commands without a response.

#include <gtest/gtest.h>

#include "protocol/response_tracker.h"
#include "tests/unit/protocol/response_tracker_fixtures.h"

namespace replproxy::protocol::testing {
namespace {

constexpr uint8_t kCursorReadOnly = 0x01;

// PREPARE_OK: 0x00, statement_id 4, num_columns 2, num_params 2, reserved 1, warnings 2.
Bytes prepare_ok(uint32_t statement_id, uint16_t columns, uint16_t params, uint16_t warnings = 0) {
  Bytes out;
  Writer(out).u8(0x00).u32(statement_id).u16(columns).u16(params).u8(0).u16(warnings);
  return out;
}

class ResponseTrackerStmtTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  ResponseTracker tracker_{GetParam()};
  uint64_t caps() const { return GetParam(); }
  bool eof() const { return (caps() & cap::kDeprecateEof) == 0; }

  // Definitions, plus their EOF without DEPRECATE_EOF when there are any.
  void definitions(Wire& wire, uint16_t count) {
    for (uint16_t i = 0; i < count; ++i) {
      wire.packet(column_def_payload("?"));
    }
    if (count > 0 && eof()) {
      wire.packet(eof_payload());
    }
  }
};

INSTANTIATE_TEST_SUITE_P(Capabilities, ResponseTrackerStmtTest,
                         ::testing::Values(kEofCaps, kDeprecateEofCaps), [](const auto& info) {
                           return (info.param & cap::kDeprecateEof) != 0 ? "DeprecateEof" : "Eof";
                         });

TEST_P(ResponseTrackerStmtTest, PrepareWithParamsAndColumns) {
  tracker_.start(command(Command::stmt_prepare, {'S', 'E', 'L'}));
  Wire wire;
  wire.packet(prepare_ok(7, 3, 2, 1));
  definitions(wire, 2);
  definitions(wire, 3);
  EXPECT_TRUE(ends_with(tracker_, wire.bytes()));
  const ResponseSummary& s = tracker_.summary();
  EXPECT_EQ(s.statement_id, 7u);
  EXPECT_EQ(s.num_params, 2);
  EXPECT_EQ(s.num_columns, 3);
  EXPECT_EQ(s.warnings, 1);
  EXPECT_FALSE(s.error);
}

TEST_P(ResponseTrackerStmtTest, PrepareShapes) {
  struct Shape {
    uint16_t params;
    uint16_t columns;
  };
  for (const Shape shape : {Shape{0, 0}, Shape{1, 0}, Shape{0, 1}, Shape{300, 2}}) {
    SCOPED_TRACE(::testing::Message()
                 << shape.params << " params, " << shape.columns << " columns");
    tracker_.start(command(Command::stmt_prepare));
    Wire wire;
    wire.packet(prepare_ok(1, shape.columns, shape.params));
    definitions(wire, shape.params);
    definitions(wire, shape.columns);
    EXPECT_TRUE(ends_with(tracker_, wire.bytes()));
    EXPECT_EQ(tracker_.summary().num_params, shape.params);
    EXPECT_EQ(tracker_.summary().num_columns, shape.columns);
  }
}

TEST_P(ResponseTrackerStmtTest, PrepareOkWithoutWarningCount) {
  tracker_.start(command(Command::stmt_prepare));
  Bytes ok = prepare_ok(3, 1, 0);
  ok.resize(9);
  Wire wire;
  wire.packet(ok);
  definitions(wire, 1);
  EXPECT_TRUE(ends_with(tracker_, wire.bytes()));
  EXPECT_EQ(tracker_.summary().statement_id, 3u);
}

TEST_P(ResponseTrackerStmtTest, PrepareErr) {
  tracker_.start(command(Command::stmt_prepare));
  EXPECT_TRUE(
      ends_with(tracker_, Wire().packet(err_payload(1064, "42000", "You have an error")).bytes()));
  EXPECT_TRUE(tracker_.summary().error);
  EXPECT_EQ(tracker_.summary().statement_id, 0u);
}

// MySQL protocol documentation, Binary Protocol Resultset: one VAR_STRING column "col1" and the
// row "foobar".
TEST(ResponseTrackerLiteralTest, BinaryResultSetFromProtocolDocs) {
  const Bytes wire =
      hex({0x01, 0x00, 0x00, 0x01, 0x01, 0x1a, 0x00, 0x00, 0x02, 0x03, 0x64, 0x65, 0x66, 0x00,
           0x00, 0x00, 0x04, 0x63, 0x6f, 0x6c, 0x31, 0x00, 0x0c, 0x08, 0x00, 0x06, 0x00, 0x00,
           0x00, 0xfd, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x05, 0x00, 0x00, 0x03, 0xfe, 0x00, 0x00,
           0x02, 0x00, 0x09, 0x00, 0x00, 0x04, 0x00, 0x00, 0x06, 0x66, 0x6f, 0x6f, 0x62, 0x61,
           0x72, 0x05, 0x00, 0x00, 0x05, 0xfe, 0x00, 0x00, 0x02, 0x00});
  ResponseTracker tracker(kEofCaps);
  tracker.start(execute_command(1, 0));
  EXPECT_TRUE(ends_with(tracker, wire));
  EXPECT_EQ(tracker.summary().result_sets, 1u);
}

TEST_P(ResponseTrackerStmtTest, ExecuteWithoutCursor) {
  tracker_.start(execute_command(7, 0));
  const Bytes wire = Wire()
                         .columns(1, caps())
                         .packet(binary_row_payload("a"))
                         .packet(binary_row_payload("b"))
                         .end_rows(caps())
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
}

TEST_P(ResponseTrackerStmtTest, ExecuteOpeningACursorEndsAfterColumns) {
  tracker_.start(execute_command(7, kCursorReadOnly));
  const uint16_t cursor = kAutocommit | status::kCursorExists;
  Wire wire;
  wire.packet(column_count_payload(2));
  wire.packet(column_def_payload("a")).packet(column_def_payload("b"));
  // The EOF, or under DEPRECATE_EOF the OK_FE, that announces the cursor.
  wire.end_rows(caps(), cursor);
  EXPECT_TRUE(ends_with(tracker_, wire.bytes()));
  EXPECT_EQ(tracker_.summary().status_flags, cursor);
  EXPECT_EQ(tracker_.summary().result_sets, 1u);
}

TEST_P(ResponseTrackerStmtTest, ExecuteWithCursorFlagButNoCursorOpened) {
  tracker_.start(execute_command(7, kCursorReadOnly));
  const Bytes wire =
      Wire().columns(1, caps()).packet(binary_row_payload("a")).end_rows(caps()).bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
}

TEST_P(ResponseTrackerStmtTest, ExecuteWithCursorFlagOnAnUpdate) {
  tracker_.start(execute_command(7, kCursorReadOnly));
  EXPECT_TRUE(ends_with(tracker_, Wire().packet(ok_payload({.affected_rows = 4})).bytes()));
  EXPECT_EQ(tracker_.summary().affected_rows, 4u);
}

TEST_P(ResponseTrackerStmtTest, ExecuteCallWithOutParams) {
  // CALL p(?) with an OUT parameter: a result set, the OUT parameters, then the CALL's OK.
  tracker_.start(execute_command(7, 0));
  const uint16_t more = kAutocommit | status::kMoreResultsExist;
  const Bytes wire = Wire()
                         .columns(1, caps(), more)
                         .packet(binary_row_payload("a"))
                         .end_rows(caps(), more)
                         .columns(1, caps(), more | status::kPsOutParams)
                         .packet(binary_row_payload("out"))
                         .end_rows(caps(), more | status::kPsOutParams)
                         .packet(ok_payload({}))
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
  EXPECT_EQ(tracker_.summary().result_sets, 2u);
}

TEST_P(ResponseTrackerStmtTest, Fetch) {
  tracker_.start(command(Command::stmt_fetch, {7, 0, 0, 0, 2, 0, 0, 0}));
  const uint16_t cursor = kAutocommit | status::kCursorExists;
  const Bytes wire = Wire()
                         .packet(binary_row_payload("a"))
                         .packet(binary_row_payload("b"))
                         .end_rows(caps(), cursor)
                         .bytes();
  EXPECT_TRUE(ends_with(tracker_, wire));
  EXPECT_EQ(tracker_.summary().status_flags, cursor);

  tracker_.start(command(Command::stmt_fetch, {7, 0, 0, 0, 2, 0, 0, 0}));
  EXPECT_TRUE(ends_with(tracker_, Wire().end_rows(caps(), cursor | status::kLastRowSent).bytes()));
  EXPECT_NE(tracker_.summary().status_flags & status::kLastRowSent, 0);
}

TEST_P(ResponseTrackerStmtTest, FetchErr) {
  tracker_.start(command(Command::stmt_fetch, {9, 0, 0, 0, 1, 0, 0, 0}));
  EXPECT_TRUE(ends_with(
      tracker_, Wire().packet(err_payload(1243, "HY000", "Unknown prepared statement")).bytes()));
  EXPECT_TRUE(tracker_.summary().error);
}

TEST_P(ResponseTrackerStmtTest, FieldList) {
  tracker_.start(command(Command::field_list, {'t', 0}));
  Wire wire;
  wire.packet(column_def_payload("a")).packet(column_def_payload("b"));
  wire.end_rows(caps());
  EXPECT_TRUE(ends_with(tracker_, wire.bytes()));
  EXPECT_EQ(tracker_.summary().status_flags, kAutocommit);

  tracker_.start(command(Command::field_list, {'t', 0}));
  EXPECT_TRUE(ends_with(tracker_, Wire().end_rows(caps()).bytes()));

  tracker_.start(command(Command::field_list, {'n', 0}));
  EXPECT_TRUE(ends_with(
      tracker_, Wire().packet(err_payload(1146, "42S02", "Table 'test.n' doesn't exist")).bytes()));
  EXPECT_TRUE(tracker_.summary().error);
}

TEST_P(ResponseTrackerStmtTest, Statistics) {
  tracker_.start(command(Command::statistics));
  Bytes text;
  Writer(text).raw("Uptime: 10  Threads: 1  Questions: 2  Slow queries: 0  Opens: 17");
  EXPECT_TRUE(ends_with(tracker_, Wire().packet(text).bytes()));
  EXPECT_FALSE(tracker_.summary().error);
}

TEST_P(ResponseTrackerStmtTest, SimpleCommands) {
  for (Command c :
       {Command::ping, Command::init_db, Command::reset_connection, Command::stmt_reset,
        Command::refresh, Command::process_kill, Command::create_db, Command::drop_db}) {
    SCOPED_TRACE(command_name(static_cast<uint8_t>(c)));
    tracker_.start(command(c, {1, 0, 0, 0}));
    EXPECT_TRUE(tracker_.expects_response());
    EXPECT_TRUE(ends_with(tracker_, Wire().packet(ok_payload({})).bytes()));
    EXPECT_FALSE(tracker_.summary().error);

    tracker_.start(command(c, {1, 0, 0, 0}));
    EXPECT_TRUE(ends_with(tracker_, Wire().packet(err_payload(1045, "28000", "no")).bytes()));
    EXPECT_TRUE(tracker_.summary().error);
  }
}

// COM_SET_OPTION and COM_DEBUG are answered with an EOF, which becomes an OK_FE under
// DEPRECATE_EOF.
TEST_P(ResponseTrackerStmtTest, SimpleCommandsAnsweredByEof) {
  for (Command c : {Command::set_option, Command::debug, Command::shutdown}) {
    SCOPED_TRACE(command_name(static_cast<uint8_t>(c)));
    tracker_.start(command(c, {0, 0}));
    EXPECT_TRUE(ends_with(tracker_, Wire().end_rows(caps()).bytes()));
    EXPECT_EQ(tracker_.summary().status_flags, kAutocommit);
  }
}

TEST_P(ResponseTrackerStmtTest, InitDbReportsTheNewSchema) {
  ResponseTracker tracker(caps() | cap::kSessionTrack);
  tracker.start(command(Command::init_db, {'s', 'h', 'o', 'p'}));
  const uint8_t schema = static_cast<uint8_t>(SessionTrackType::schema);
  EXPECT_TRUE(ends_with(
      tracker, Wire().packet(ok_with_state(kAutocommit, {{schema, lenenc("shop")}})).bytes()));
  ASSERT_EQ(tracker.summary().session_state_changes.size(), 1u);
  EXPECT_EQ(tracker.summary().session_state_changes[0].data, lenenc("shop"));
}

// MORE_RESULTS only chains responses to commands that can return several results.
TEST_P(ResponseTrackerStmtTest, SimpleCommandIgnoresMoreResults) {
  tracker_.start(command(Command::ping));
  const uint16_t more = kAutocommit | status::kMoreResultsExist;
  EXPECT_TRUE(ends_with(tracker_, Wire().packet(ok_payload({.status = more})).bytes()));
}

TEST_P(ResponseTrackerStmtTest, CommandsWithoutResponse) {
  for (Command c : {Command::quit, Command::stmt_close, Command::stmt_send_long_data}) {
    SCOPED_TRACE(command_name(static_cast<uint8_t>(c)));
    tracker_.start(command(c, {1, 0, 0, 0}));
    EXPECT_FALSE(tracker_.expects_response());
    const Bytes ok = ok_payload({});
    EXPECT_TRUE(rejected(tracker_.feed(Frame{1, ok})));
  }
  tracker_.start(command(Command::query));
  EXPECT_TRUE(tracker_.expects_response());
  tracker_.start({});
  EXPECT_FALSE(tracker_.expects_response());
}

}  // namespace
}  // namespace replproxy::protocol::testing
