#include "protocol/replication.h"

#include <gtest/gtest.h>

#include "codec_test_util.h"
#include "protocol/constants.h"
#include "protocol/packet.h"

namespace replproxy::protocol {
namespace {

using test::cat;
using test::Fixture;
using test::hex;
using test::text;

// Fixtures named "captured" are payloads a MariaDB 10.11 replica, mariadb-binlog or primary sent
// on 127.0.0.1 (docs/relay-protocol.md tells how they were captured); "docs" ones are the
// examples of the MariaDB and MySQL protocol docs; "assembled" ones are built field by field.

// --- COM_REGISTER_SLAVE ---------------------------------------------------------------------

void check_register_slave(const Fixture<RegisterSlave>& f) {
  test::check_codec(f, decode_register_slave, encode_register_slave);
}

TEST(RegisterSlave, Fixtures) {
  // server_id 2, report_host 127.0.0.1, report_port 29399.
  check_register_slave({"captured",
                        {2, "127.0.0.1", "", "", 29399, 0, 0},
                        0,
                        hex("15 02 00 00 00 09 31 32 37 2e 30 2e 30 2e 31 00 00 d7 72"
                            "00 00 00 00 00 00 00 00")});
  check_register_slave({"docs",
                        {10101, "slave_n_1", "", "", 23241, 0, 0},
                        0,
                        hex("15 75 27 00 00 09 73 6c 61 76 65 5f 6e 5f 31 00 00 c9 5a"
                            "00 00 00 00 00 00 00 00")});
  check_register_slave({"assembled, every field",
                        {0x01020304, "h", "u", "pw", 0x0506, 7, 0x08090a0b},
                        0,
                        cat({hex("15 04 03 02 01"), hex("01"), text("h"), hex("01"), text("u"),
                             hex("02"), text("pw"), hex("06 05 07 00 00 00 0b 0a 09 08")})});
  check_register_slave({"assembled, empty", {}, 0, cat({hex("15"), Bytes(17, 0)})});
}

TEST(RegisterSlave, EncoderTruncatesLongStrings) {
  RegisterSlave msg;
  msg.hostname = std::string(300, 'h');
  Bytes out;
  encode_register_slave(msg, out);
  auto decoded = decode_register_slave(out);
  ASSERT_TRUE(decoded) << decoded.error().message();
  EXPECT_EQ(decoded->hostname, std::string(255, 'h'));
}

TEST(RegisterSlave, Failures) {
  test::expect_error(decode_register_slave(hex("12 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                                               "00 00 00")),
                     CodecErrc::invalid_input);
  // A hostname length past the end of the packet.
  test::expect_error(decode_register_slave(hex("15 02 00 00 00 ff 41 42")),
                     CodecErrc::not_enough_input);
}

// --- COM_BINLOG_DUMP ------------------------------------------------------------------------

void check_binlog_dump(const Fixture<BinlogDump>& f) {
  test::check_codec(f, decode_binlog_dump, encode_binlog_dump);
}

// The file name is string<EOF>, so every prefix from the end of server_id on decodes.
constexpr size_t kBinlogDumpFixed = 11;

TEST(BinlogDump, Fixtures) {
  const Fixture<BinlogDump> fixtures[] = {
      // The replica's first dump after CHANGE MASTER changed the port, MASTER_USE_GTID=slave_pos.
      {"captured, GTID, fresh master.info",
       {4, binlog_dump_flag::kSendAnnotateRows, 2, ""},
       0,
       hex("12 04 00 00 00 02 00 02 00 00 00"),
       kBinlogDumpFixed},
      // The same replica after STOP SLAVE; START SLAVE: the last file and position it received.
      {"captured, GTID, restart",
       {3489, binlog_dump_flag::kSendAnnotateRows, 2, "mysql-bin.000001"},
       0,
       cat({hex("12 a1 0d 00 00 02 00 02 00 00 00"), text("mysql-bin.000001")}),
       kBinlogDumpFixed},
      {"captured, mariadb-binlog",
       {3489, binlog_dump_flag::kNonBlock | binlog_dump_flag::kSendAnnotateRows, 0,
        "mysql-bin.000001"},
       0,
       cat({hex("12 a1 0d 00 00 03 00 00 00 00 00"), text("mysql-bin.000001")}),
       kBinlogDumpFixed},
      {"docs",
       {1588, binlog_dump_flag::kSendAnnotateRows, 10101, "mysql-bin.000034"},
       0,
       cat({hex("12 34 06 00 00 02 00 75 27 00 00"), text("mysql-bin.000034")}),
       kBinlogDumpFixed},
  };
  for (const auto& f : fixtures) {
    check_binlog_dump(f);
  }
}

TEST(BinlogDump, Failures) {
  test::expect_error(decode_binlog_dump(hex("1e 04 00 00 00 02 00 02 00 00 00")),
                     CodecErrc::invalid_input);
  test::expect_error(decode_binlog_dump(hex("12 04 00 00 00 02 00 02 00 00")),
                     CodecErrc::not_enough_input);
}

// --- COM_BINLOG_DUMP_GTID -------------------------------------------------------------------

const MySqlGtidSet kOneSid{{{{0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8,
                              0x0a, 0xa9, 0x42, 0x95, 0x62},
                             {{1, 6}, {7, 10}}}}};
const Bytes kOneSidBinary = cat({
    hex("01 00 00 00 00 00 00 00"),
    hex("3e 11 fa 47 71 ca 11 e1 9e 33 c8 0a a9 42 95 62"),
    hex("02 00 00 00 00 00 00 00"),
    hex("01 00 00 00 00 00 00 00  06 00 00 00 00 00 00 00"),
    hex("07 00 00 00 00 00 00 00  0a 00 00 00 00 00 00 00"),
});

// What a MySQL 8 replica with server_id 2 and gtid_executed 3e11fa47-...:1-5:7-9 sends, assembled
// after the MySQL docs (no MySQL server on Debian to capture one).
const Bytes kDumpGtid = cat({
    hex("1e 04 00 02 00 00 00"),     // command, flags kThroughGtid, server_id 2
    hex("00 00 00 00"),              // no file name
    hex("04 00 00 00 00 00 00 00"),  // position 4
    hex("40 00 00 00"),              // data_size 64
    kOneSidBinary,
});

void check_binlog_dump_gtid(const Fixture<BinlogDumpGtid>& f) {
  test::check_codec(f, decode_binlog_dump_gtid, encode_binlog_dump_gtid);
}

TEST(BinlogDumpGtid, Fixtures) {
  check_binlog_dump_gtid(
      {"assembled, GTID", {binlog_dump_flag::kThroughGtid, 2, "", 4, kOneSid}, 0, kDumpGtid});
  check_binlog_dump_gtid({"assembled, empty set",
                          {binlog_dump_flag::kThroughGtid, 2, "", 4, MySqlGtidSet{}},
                          0,
                          hex("1e 04 00 02 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00"
                              "08 00 00 00 00 00 00 00 00 00 00 00")});
  check_binlog_dump_gtid({"assembled, file and position",
                          {binlog_dump_flag::kNonBlock, 3, "binlog.000002", 0x1234, std::nullopt},
                          0,
                          cat({hex("1e 01 00 03 00 00 00 0d 00 00 00"), text("binlog.000002"),
                               hex("34 12 00 00 00 00 00 00")})});
}

TEST(BinlogDumpGtid, EncoderMakesTheFlagMatchTheSet) {
  Bytes out;
  encode_binlog_dump_gtid({0, 2, "", 4, kOneSid}, out);
  EXPECT_EQ(test::to_hex(out), test::to_hex(kDumpGtid));
  out.clear();
  encode_binlog_dump_gtid({binlog_dump_flag::kThroughGtid, 2, "", 4, std::nullopt}, out);
  EXPECT_EQ(test::to_hex(out), "1e 00 00 02 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00");
}

TEST(BinlogDumpGtid, Failures) {
  // The GTID block is delimited by data_size: a set running past it is malformed.
  Bytes short_block = kDumpGtid;
  short_block[19] = 0x30;
  short_block.resize(short_block.size() - 16);
  test::expect_error(decode_binlog_dump_gtid(short_block), CodecErrc::invalid_input);
  // ... and one that stops short of it leaves bytes over.
  Bytes long_block = cat({kDumpGtid, hex("00")});
  long_block[19] = 0x41;
  test::expect_error(decode_binlog_dump_gtid(long_block), CodecErrc::invalid_input);
  // An invalid set (interval end 1, before its start 1).
  Bytes bad_set = kDumpGtid;
  bad_set[23 + 32 + 8] = 0x01;
  test::expect_error(decode_binlog_dump_gtid(bad_set), CodecErrc::invalid_input);
  // A file name length past the end.
  test::expect_error(decode_binlog_dump_gtid(hex("1e 00 00 02 00 00 00 ff ff ff ff 00")),
                     CodecErrc::not_enough_input);
  test::expect_error(
      decode_binlog_dump_gtid(cat({hex("12"), Bytes(kDumpGtid.begin() + 1, kDumpGtid.end())})),
      CodecErrc::invalid_input);
}

// --- The binlog network stream --------------------------------------------------------------

constexpr uint64_t kCaps = cap::kProtocol41 | cap::kTransactions | cap::kSecureConnection;

// Captured from a 10.11 primary after a dump with @rpl_semi_sync_slave=1: the artificial ROTATE
// (timestamp 0, LOG_EVENT_ARTIFICIAL_F) that starts every stream, and the XID event that ends a
// transaction, flagged for ACK.
const Bytes kRotateEvent =
    hex("00 00 00 00 04 01 00 00 00 2f 00 00 00 00 00 00 00 20 00 04 00 00 00 00 00 00 00 6d 79 73"
        "71 6c 2d 62 69 6e 2e 30 30 30 30 30 31 1f 0e ac 68");
const Bytes kXidEvent =
    hex("f3 ce 0f 6b 10 01 00 00 00 1f 00 00 00 a1 0d 00 00 00 00 3f 00 00 00 00 00 00 00 81 95 13"
        "3d");
// A HEARTBEAT event (type 0x1b) as the idle primary sent it 5 s into a semi-sync dump.
const Bytes kHeartbeatEvent =
    hex("00 00 00 00 1b 01 00 00 00 27 00 00 00 51 0f 00 00 00 00 6d 79 73 71 6c 2d 62 69 6e 2e 30"
        "30 30 30 30 31 d9 5a c8 81");
// The XID of another transaction, from a dump without semi-sync.
const Bytes kAsyncXidEvent =
    hex("09 cf 0f 6b 10 01 00 00 00 1f 00 00 00 79 0e 00 00 00 00 4f 00 00 00 00 00 00 00 88 12 27"
        "9d");

struct StreamFixture {
  Fixture<DumpPacket> fixture;
  bool semi_sync = false;
};

void check_dump_packet(const StreamFixture& s) {
  const bool semi_sync = s.semi_sync;
  const uint64_t caps = s.fixture.capabilities;
  test::check_codec(
      s.fixture, [=](ByteView b) { return decode_dump_packet(b, semi_sync, caps); },
      [=](const DumpPacket& m, Bytes& out) { encode_dump_packet(m, semi_sync, caps, out); });
}

DumpPacket event_packet(const Bytes& event, bool ack_requested) {
  DumpPacket p;
  p.event = event;
  p.ack_requested = ack_requested;
  return p;
}

TEST(DumpPacket, Events) {
  // Events are delimited by their event_size, so every strict prefix is incomplete.
  check_dump_packet({{"captured, semi-sync, rotate", event_packet(kRotateEvent, false), kCaps,
                      cat({hex("00 ef 00"), kRotateEvent})},
                     true});
  check_dump_packet({{"captured, semi-sync, ACK requested", event_packet(kXidEvent, true), kCaps,
                      cat({hex("00 ef 01"), kXidEvent})},
                     true});
  check_dump_packet({{"captured, semi-sync, heartbeat", event_packet(kHeartbeatEvent, false), kCaps,
                      cat({hex("00 ef 00"), kHeartbeatEvent})},
                     true});
  check_dump_packet({{"captured, async", event_packet(kAsyncXidEvent, false), kCaps,
                      cat({hex("00"), kAsyncXidEvent})},
                     false});
}

TEST(DumpPacket, EofAndError) {
  DumpPacket eof;
  eof.kind = DumpPacket::Kind::eof;
  eof.eof = {0, status::kAutocommit};
  // mariadb-binlog's dump with kNonBlock, at the end of the binlog.
  check_dump_packet({{"captured, eof", eof, kCaps, hex("fe 00 00 02 00")}, false});
  check_dump_packet({{"captured, eof, semi-sync", eof, kCaps, hex("fe 00 00 02 00")}, true});

  DumpPacket err;
  err.kind = DumpPacket::Kind::error;
  err.error = {1236, "HY000", "Could not find first log file name in binary log index file"};
  // The message is string<EOF>: from the error code on, prefixes decode.
  check_dump_packet({{"assembled, error 1236", err, kCaps,
                      cat({hex("ff d4 04 23 48 59 30 30 30"), text(err.error.message)}), 3},
                     true});
}

TEST(DumpPacket, Failures) {
  Bytes short_size = kXidEvent;  // event_size 0x10, less than a header
  short_size[9] = 0x10;
  Bytes long_size = kXidEvent;  // event_size 0x20, one more than the bytes
  long_size[9] = 0x20;
  const struct {
    std::string name;
    Bytes bytes;
    bool semi_sync;
    CodecErrc error;
  } cases[] = {
      {"empty", {}, false, CodecErrc::not_enough_input},
      {"unknown status", cat({hex("01"), kXidEvent}), false, CodecErrc::invalid_input},
      {"semi-sync indicator missing", cat({hex("00 ee 00"), kXidEvent}), true,
       CodecErrc::invalid_input},
      {"semi-sync indicator absent", cat({hex("00"), kXidEvent}), true, CodecErrc::invalid_input},
      {"unknown semi-sync flag", cat({hex("00 ef 02"), kXidEvent}), true, CodecErrc::invalid_input},
      {"event_size below the header", cat({hex("00"), short_size}), false,
       CodecErrc::invalid_input},
      {"event cut short", cat({hex("00"), long_size}), false, CodecErrc::not_enough_input},
      {"event shorter than a header", hex("00 01 02 03"), false, CodecErrc::not_enough_input},
      {"0xfe with 9 bytes", hex("fe 00 00 00 00 00 00 00 00"), false, CodecErrc::invalid_input},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test::expect_error(decode_dump_packet(c.bytes, c.semi_sync, kCaps), c.error);
  }
  // Reading a semi-sync stream as if it were not never yields an event.
  EXPECT_FALSE(decode_dump_packet(cat({hex("00 ef 00"), kRotateEvent}), false, kCaps));
}

TEST(DumpPacket, EncodeDumpEvent) {
  Bytes out;
  encode_dump_event(kXidEvent, true, out);
  EXPECT_EQ(test::to_hex(out), test::to_hex(cat({hex("00 ef 01"), kXidEvent})));
  out.clear();
  encode_dump_event(kXidEvent, false, out);
  EXPECT_EQ(test::to_hex(out), test::to_hex(cat({hex("00 ef 00"), kXidEvent})));
  out.clear();
  encode_dump_event(kXidEvent, std::nullopt, out);
  EXPECT_EQ(test::to_hex(out), test::to_hex(cat({hex("00"), kXidEvent})));
}

// Frames captured packets as the primary sent them (sequence ids 1, 2, ...) and feeds the stream
// one byte at a time, as a socket might deliver it.
TEST(DumpPacket, StreamOneByteAtATime) {
  const Bytes payloads[] = {
      cat({hex("00 ef 00"), kRotateEvent}),
      cat({hex("00 ef 00"), kHeartbeatEvent}),
      cat({hex("00 ef 01"), kXidEvent}),
  };
  Bytes stream;
  uint8_t seq = 1;
  for (const Bytes& p : payloads) {
    seq = encode_packet(p, seq, stream);
  }
  Bytes buffer;
  std::vector<DumpPacket> received;
  std::vector<Bytes> storage;  // keeps decoded payloads alive for the borrowed events
  uint8_t expected_seq = 1;
  for (uint8_t byte : stream) {
    buffer.push_back(byte);
    auto packet = decode_packet(buffer, expected_seq);
    if (!packet) {
      ASSERT_EQ(packet.error(), make_error_code(CodecErrc::not_enough_input));
      continue;
    }
    expected_seq = static_cast<uint8_t>(packet->last_sequence_id + 1);
    storage.emplace_back(packet->payload.begin(), packet->payload.end());
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(packet->consumed));
    auto msg = decode_dump_packet(storage.back(), true, kCaps);
    ASSERT_TRUE(msg) << msg.error().message();
    received.push_back(*msg);
  }
  EXPECT_TRUE(buffer.empty());
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[0], event_packet(kRotateEvent, false));
  EXPECT_EQ(received[1], event_packet(kHeartbeatEvent, false));
  EXPECT_EQ(received[2], event_packet(kXidEvent, true));
}

// An event whose packet payload spans frames: only the first frame has the status and semi-sync
// bytes; decode_packet() joins the frames and decode_dump_packet() takes the joined payload.
Bytes big_event(size_t size) {
  Bytes event(size, 0x5a);
  for (size_t i = 0; i < 4; ++i) {
    event[9 + i] = static_cast<uint8_t>(size >> (8 * i));
  }
  return event;
}

TEST(DumpPacket, EventSpanningFrames) {
  for (size_t event_size : {kMaxFramePayload - 3, kMaxFramePayload + 100}) {
    SCOPED_TRACE(event_size);
    const Bytes event = big_event(event_size);
    Bytes payload;
    encode_dump_event(event, true, payload);
    Bytes stream;
    EXPECT_EQ(encode_packet(payload, 5, stream), 7) << "two frames, the second maybe empty";
    auto first = decode_frame(stream);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->frame.payload[0], 0x00);
    EXPECT_TRUE(first->frame.continues());
    // One frame alone is not the packet.
    test::expect_error(decode_packet(ByteView(stream).first(first->consumed), 5),
                       CodecErrc::not_enough_input);
    auto packet = decode_packet(stream, 5);
    ASSERT_TRUE(packet) << packet.error().message();
    EXPECT_EQ(packet->consumed, stream.size());
    auto msg = decode_dump_packet(packet->payload, true, kCaps);
    ASSERT_TRUE(msg) << msg.error().message();
    EXPECT_TRUE(msg->ack_requested);
    EXPECT_EQ(msg->event.size(), event.size());
    if (payload.size() == kMaxFramePayload) {
      // The payload fills the first frame exactly, and an empty frame ends the packet.
      EXPECT_EQ(test::to_hex(ByteView(stream).subspan(first->consumed)), "00 00 00 06");
    } else {
      // Decoding the first frame's bytes alone waits for the rest of the event.
      test::expect_error(decode_dump_packet(first->frame.payload, true, kCaps),
                         CodecErrc::not_enough_input);
    }
  }
}

// --- Semi-sync ACK --------------------------------------------------------------------------

void check_ack(const Fixture<SemiSyncAck>& f) {
  test::check_codec(f, decode_semi_sync_ack, encode_semi_sync_ack);
}

TEST(SemiSyncAck, Fixtures) {
  const Fixture<SemiSyncAck> fixtures[] = {
      // The replica's ACKs for the XID above (log_pos 0x0da1) and for the DDL before it (0x0cba).
      {"captured",
       {0x0da1, "mysql-bin.000001"},
       0,
       cat({hex("ef a1 0d 00 00 00 00 00 00"), text("mysql-bin.000001")}),
       9},
      {"captured, DDL",
       {0x0cba, "mysql-bin.000001"},
       0,
       cat({hex("ef ba 0c 00 00 00 00 00 00"), text("mysql-bin.000001")}),
       9},
      {"assembled, large position",
       {0x0102030405060708, ""},
       0,
       hex("ef 08 07 06 05 04 03 02 01"),
       9},
  };
  for (const auto& f : fixtures) {
    check_ack(f);
  }
}

TEST(SemiSyncAck, Failures) {
  test::expect_error(decode_semi_sync_ack(hex("ee a1 0d 00 00 00 00 00 00")),
                     CodecErrc::invalid_input);
  test::expect_error(decode_semi_sync_ack(hex("ef a1 0d 00 00 00 00 00")),
                     CodecErrc::not_enough_input);
  EXPECT_TRUE(is_semi_sync_ack_payload(hex("ef")));
  EXPECT_FALSE(is_semi_sync_ack_payload(hex("01")));
  EXPECT_FALSE(is_semi_sync_ack_payload({}));
}

}  // namespace
}  // namespace replproxy::protocol
