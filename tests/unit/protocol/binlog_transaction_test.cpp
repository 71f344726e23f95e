#include "protocol/binlog_transaction.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "binlog_fixtures.h"
#include "binlog_test_util.h"

namespace replproxy::protocol::binlog {
namespace {

using protocol::test::hex;
using test::EventBuilder;

// The role of one event as a compact string: "S" starts, "E" ends, "SE" both, "O" outside any
// group, "-" inside one; "!" when it interrupts an open group; "@D-S-N" for the GTID.
std::string describe(const EventRole& role) {
  std::string s;
  if (role.outside_group) {
    s += "O";
  }
  if (role.interrupts_group) {
    s += "!";
  }
  if (role.starts_group) {
    s += "S";
  }
  if (role.ends_group) {
    s += "E";
  }
  if (s.empty()) {
    s = "-";
  }
  if (role.gtid) {
    s += "@" + role.gtid->to_string();
  }
  return s;
}

struct Step {
  std::string_view type;  // event_type_name, to make the table readable
  std::string role;
};

void expect_roles(const std::vector<EventView>& events, const std::vector<Step>& expected) {
  ASSERT_EQ(events.size(), expected.size());
  TransactionTracker tracker;
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    EXPECT_EQ(event_type_name(events[i].header.type), expected[i].type);
    auto role = tracker.on_event(events[i]);
    ASSERT_TRUE(role.has_value()) << role.error().message();
    EXPECT_EQ(describe(*role), expected[i].role);
  }
  EXPECT_FALSE(tracker.in_group());
}

// The whole captured CRC32 file, event by event.
TEST(TransactionTracker, CapturedFileWithChecksums) {
  const Bytes file = hex(test::kCrcFile);
  expect_roles(test::split_file(file).events,
               {
                   {"FORMAT_DESCRIPTION_EVENT", "O"},
                   {"GTID_LIST_EVENT", "O"},
                   {"BINLOG_CHECKPOINT_EVENT", "O"},
                   {"BINLOG_CHECKPOINT_EVENT", "O"},
                   // CREATE DATABASE: standalone
                   {"GTID_EVENT", "S@0-1-16"},
                   {"QUERY_EVENT", "E"},
                   // CREATE TABLE (InnoDB): standalone
                   {"GTID_EVENT", "S@0-1-17"},
                   {"QUERY_EVENT", "E"},
                   // BEGIN; INSERT; UPDATE; COMMIT
                   {"GTID_EVENT", "S@0-1-18"},
                   {"ANNOTATE_ROWS_EVENT", "-"},
                   {"TABLE_MAP_EVENT", "-"},
                   {"WRITE_ROWS_EVENT_V1", "-"},
                   {"ANNOTATE_ROWS_EVENT", "-"},
                   {"TABLE_MAP_EVENT", "-"},
                   {"UPDATE_ROWS_EVENT_V1", "-"},
                   {"XID_EVENT", "E"},
                   // CREATE TABLE (MyISAM)
                   {"GTID_EVENT", "S@0-1-19"},
                   {"QUERY_EVENT", "E"},
                   // MyISAM insert in row format: ends with a COMMIT query
                   {"GTID_EVENT", "S@0-1-20"},
                   {"ANNOTATE_ROWS_EVENT", "-"},
                   {"TABLE_MAP_EVENT", "-"},
                   {"WRITE_ROWS_EVENT_V1", "-"},
                   {"QUERY_EVENT", "E"},
                   // Statement format with RAND() and a user variable
                   {"GTID_EVENT", "S@0-1-21"},
                   {"INTVAR_EVENT", "-"},
                   {"RAND_EVENT", "-"},
                   {"USER_VAR_EVENT", "-"},
                   {"QUERY_EVENT", "-"},
                   {"QUERY_EVENT", "E"},
                   // XA PREPARE: ends at XA_PREPARE_LOG_EVENT
                   {"GTID_EVENT", "S@0-1-22"},
                   {"ANNOTATE_ROWS_EVENT", "-"},
                   {"TABLE_MAP_EVENT", "-"},
                   {"WRITE_ROWS_EVENT_V1", "-"},
                   {"QUERY_EVENT", "-"},
                   {"XA_PREPARE_LOG_EVENT", "E"},
                   // XA COMMIT: a group of its own
                   {"GTID_EVENT", "S@0-1-23"},
                   {"QUERY_EVENT", "E"},
                   // DELETE
                   {"GTID_EVENT", "S@0-1-24"},
                   {"ANNOTATE_ROWS_EVENT", "-"},
                   {"TABLE_MAP_EVENT", "-"},
                   {"DELETE_ROWS_EVENT_V1", "-"},
                   {"XID_EVENT", "E"},
                   {"ROTATE_EVENT", "O"},
               });
}

TEST(TransactionTracker, CapturedFileWithoutChecksums) {
  const Bytes file = hex(test::kNoChecksumFile);
  expect_roles(test::split_file(file).events, {
                                                  {"FORMAT_DESCRIPTION_EVENT", "O"},
                                                  {"GTID_LIST_EVENT", "O"},
                                                  {"BINLOG_CHECKPOINT_EVENT", "O"},
                                                  {"BINLOG_CHECKPOINT_EVENT", "O"},
                                                  {"GTID_EVENT", "S@0-1-25"},
                                                  {"ANNOTATE_ROWS_EVENT", "-"},
                                                  {"TABLE_MAP_EVENT", "-"},
                                                  {"WRITE_ROWS_EVENT_V1", "-"},
                                                  {"XID_EVENT", "E"},
                                                  {"GTID_EVENT", "S@0-1-26"},
                                                  {"QUERY_EVENT", "E"},
                                                  {"GTID_EVENT", "S@0-1-27"},
                                                  {"ANNOTATE_ROWS_EVENT", "-"},
                                                  {"TABLE_MAP_EVENT", "-"},
                                                  {"WRITE_ROWS_EVENT_V1", "-"},
                                                  {"QUERY_EVENT", "E"},
                                                  {"ROTATE_EVENT", "O"},
                                              });
}

// A file cut in the middle of 0-1-18 (as after a crash): the tracker is still in the group,
// and the last complete GTID is where to resume.
TEST(TransactionTracker, TruncatedFileLeavesTheGroupOpen) {
  const Bytes file = hex(test::kCrcFile);
  const auto split = test::split_file(file);
  TransactionTracker tracker;
  size_t last_boundary = 0;
  for (size_t i = 0; i < 13; ++i) {
    auto role = tracker.on_event(split.events[i]);
    ASSERT_TRUE(role.has_value());
    if (role->ends_group || (role->outside_group && !tracker.in_group())) {
      last_boundary = split.offsets[i] + split.events[i].whole.size();
    }
  }
  EXPECT_TRUE(tracker.in_group());
  EXPECT_EQ(tracker.open_gtid(), (Gtid{0, 1, 18}));
  EXPECT_EQ(tracker.last_complete_gtid(), (Gtid{0, 1, 17}));
  EXPECT_EQ(last_boundary, 729u);  // where GTID 0-1-18 starts: truncate here
}

TEST(TransactionTracker, MySqlTransactionAndDdl) {
  EventBuilder b;
  expect_roles({b.opaque(EventType::format_description), b.opaque(EventType::previous_gtids),
                b.mysql_gtid(1), b.query("BEGIN"), b.opaque(EventType::table_map),
                b.opaque(EventType::write_rows), b.xid(9), b.mysql_gtid(2),
                b.query("CREATE TABLE t (a INT)"), b.mysql_gtid(3), b.query("BEGIN"),
                b.opaque(EventType::rows_query), b.opaque(EventType::table_map),
                b.opaque(EventType::write_rows), b.query("COMMIT")},
               {{"FORMAT_DESCRIPTION_EVENT", "O"},
                {"PREVIOUS_GTIDS_LOG_EVENT", "O"},
                {"GTID_LOG_EVENT", "S"},
                {"QUERY_EVENT", "-"},
                {"TABLE_MAP_EVENT", "-"},
                {"WRITE_ROWS_EVENT", "-"},
                {"XID_EVENT", "E"},
                {"GTID_LOG_EVENT", "S"},
                {"QUERY_EVENT", "E"},
                {"GTID_LOG_EVENT", "S"},
                {"QUERY_EVENT", "-"},
                {"ROWS_QUERY_LOG_EVENT", "-"},
                {"TABLE_MAP_EVENT", "-"},
                {"WRITE_ROWS_EVENT", "-"},
                {"QUERY_EVENT", "E"}});
}

// MySQL's XA PREPARE: GTID, XA START, rows, XA END, XA_PREPARE_LOG_EVENT; XA COMMIT alone.
TEST(TransactionTracker, MySqlXa) {
  EventBuilder b;
  expect_roles({b.mysql_gtid(4), b.query("XA START X'78',X'',1"), b.opaque(EventType::table_map),
                b.opaque(EventType::write_rows), b.query("XA END X'78',X'',1"),
                b.opaque(EventType::xa_prepare), b.mysql_gtid(5), b.query("XA COMMIT X'78',X'',1")},
               {{"GTID_LOG_EVENT", "S"},
                {"QUERY_EVENT", "-"},
                {"TABLE_MAP_EVENT", "-"},
                {"WRITE_ROWS_EVENT", "-"},
                {"QUERY_EVENT", "-"},
                {"XA_PREPARE_LOG_EVENT", "E"},
                {"GTID_LOG_EVENT", "S"},
                {"QUERY_EVENT", "E"}});
}

TEST(TransactionTracker, MySqlCompressedTransactionIsOneEvent) {
  EventBuilder b;
  expect_roles({b.mysql_gtid(6), b.opaque(EventType::transaction_payload)},
               {{"GTID_LOG_EVENT", "S"}, {"TRANSACTION_PAYLOAD_EVENT", "E"}});
}

TEST(TransactionTracker, WithoutGtids) {
  EventBuilder b;
  expect_roles({b.query("BEGIN"), b.opaque(EventType::table_map), b.opaque(EventType::write_rows),
                b.xid(3), b.query("DROP TABLE t"), b.opaque(EventType::incident)},
               {{"QUERY_EVENT", "S"},
                {"TABLE_MAP_EVENT", "-"},
                {"WRITE_ROWS_EVENT", "-"},
                {"XID_EVENT", "E"},
                {"QUERY_EVENT", "SE"},
                {"INCIDENT_EVENT", "SE"}});
}

// Statement texts, and savepoints that do not end anything.
TEST(TransactionTracker, StatementTexts) {
  EventBuilder b;
  expect_roles(
      {b.maria_gtid(0, 1, 1, FL_TRANSACTIONAL), b.query("SAVEPOINT a"), b.query("ROLLBACK TO a"),
       b.query("ROLLBACK TO SAVEPOINT a"), b.query("  rollback \n"), b.maria_gtid(0, 1, 2, 0),
       b.query("INSERT INTO t VALUES (1)"), b.query("commit"), b.maria_gtid(0, 1, 3, 0),
       b.query("COMMIT WORK"), b.query("XA  rollback X'61'"), b.maria_gtid(0, 1, 4, 0),
       b.query("XACOMMIT"), b.query("Xa Commit X'61'")},
      {{"GTID_EVENT", "S@0-1-1"},
       {"QUERY_EVENT", "-"},
       {"QUERY_EVENT", "-"},
       {"QUERY_EVENT", "-"},
       {"QUERY_EVENT", "E"},
       {"GTID_EVENT", "S@0-1-2"},
       {"QUERY_EVENT", "-"},
       {"QUERY_EVENT", "E"},
       {"GTID_EVENT", "S@0-1-3"},
       {"QUERY_EVENT", "-"},
       {"QUERY_EVENT", "E"},
       {"GTID_EVENT", "S@0-1-4"},
       {"QUERY_EVENT", "-"},
       {"QUERY_EVENT", "E"}});
}

TEST(TransactionTracker, StandaloneSkipsWhatPrecedesTheStatement) {
  EventBuilder b;
  expect_roles({b.maria_gtid(1, 2, 7, FL_STANDALONE | FL_DDL), b.opaque(EventType::annotate_rows),
                b.opaque(EventType::intvar), b.query("CREATE TABLE t2 LIKE t")},
               {{"GTID_EVENT", "S@1-2-7"},
                {"ANNOTATE_ROWS_EVENT", "-"},
                {"INTVAR_EVENT", "-"},
                {"QUERY_EVENT", "E"}});
}

// Heartbeats and other events outside groups leave an open group alone; a GTID while a group is
// open means that group was cut off.
TEST(TransactionTracker, InterruptionsAndOutsideEvents) {
  EventBuilder b;
  TransactionTracker tracker;
  const std::vector<EventView> events = {
      b.maria_gtid(0, 1, 10, FL_TRANSACTIONAL), b.opaque(EventType::table_map),
      b.opaque(EventType::heartbeat),           b.maria_gtid(0, 1, 11, FL_TRANSACTIONAL),
      b.opaque(EventType::write_rows),          b.xid(1)};
  expect_roles(events, {{"GTID_EVENT", "S@0-1-10"},
                        {"TABLE_MAP_EVENT", "-"},
                        {"HEARTBEAT_LOG_EVENT", "O"},
                        {"GTID_EVENT", "!S@0-1-11"},
                        {"WRITE_ROWS_EVENT", "-"},
                        {"XID_EVENT", "E"}});
  for (const EventView& e : events) {
    ASSERT_TRUE(tracker.on_event(e).has_value());
  }
  // 0-1-10 never completed.
  EXPECT_EQ(tracker.last_complete_gtid(), (Gtid{0, 1, 11}));
}

TEST(TransactionTracker, ResetForgetsTheOpenGroup) {
  EventBuilder b;
  TransactionTracker tracker;
  ASSERT_TRUE(tracker.on_event(b.maria_gtid(0, 1, 1, 0)).has_value());
  ASSERT_TRUE(tracker.on_event(b.xid(1)).has_value());
  ASSERT_TRUE(tracker.on_event(b.maria_gtid(0, 1, 2, 0)).has_value());
  EXPECT_TRUE(tracker.in_group());
  tracker.reset();
  EXPECT_FALSE(tracker.in_group());
  EXPECT_FALSE(tracker.open_gtid().has_value());
  EXPECT_EQ(tracker.last_complete_gtid(), (Gtid{0, 1, 1}));
  auto role = tracker.on_event(b.maria_gtid(0, 1, 2, 0));
  ASSERT_TRUE(role.has_value());
  EXPECT_FALSE(role->interrupts_group);
}

TEST(TransactionTracker, MalformedGtidIsAnError) {
  EventBuilder b;
  TransactionTracker tracker;
  auto role = tracker.on_event(b.add(EventType::gtid_mariadb, hex("01 02 03")));
  ASSERT_FALSE(role.has_value());
  EXPECT_FALSE(tracker.in_group());
  EXPECT_FALSE(tracker.on_event(b.add(EventType::query, hex("01"))).has_value());
}

TEST(TransactionTracker, Texts) {
  EXPECT_TRUE(ends_transaction("COMMIT"));
  EXPECT_TRUE(ends_transaction(" Rollback\t"));
  EXPECT_TRUE(ends_transaction("XA COMMIT X'31',X'',1 ONE PHASE"));
  EXPECT_TRUE(ends_transaction("XA ROLLBACK X'31'"));
  EXPECT_FALSE(ends_transaction("ROLLBACK TO x"));
  EXPECT_FALSE(ends_transaction("COMMITTED"));
  EXPECT_FALSE(ends_transaction("XA END X'31'"));
  EXPECT_FALSE(ends_transaction(""));
  EXPECT_TRUE(begins_transaction("BEGIN"));
  EXPECT_TRUE(begins_transaction("XA START X'31'"));
  EXPECT_FALSE(begins_transaction("BEGIN WORK"));
  EXPECT_FALSE(begins_transaction("XA STARTX"));
}

}  // namespace
}  // namespace replproxy::protocol::binlog
