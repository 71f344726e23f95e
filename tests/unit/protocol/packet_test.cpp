#include "protocol/packet.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "codec_test_util.h"
#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/handshake.h"

namespace replproxy::protocol {
namespace {

using test::hex;

struct FrameCase {
  std::string name;
  uint8_t sequence_id;
  Bytes payload;
  Bytes bytes;  // the framed packet
};

class FramingTest : public ::testing::TestWithParam<FrameCase> {};

TEST_P(FramingTest, EncodesToExactBytes) {
  Bytes out;
  const uint8_t next = encode_packet(GetParam().payload, GetParam().sequence_id, out);
  EXPECT_EQ(test::to_hex(out), test::to_hex(GetParam().bytes));
  EXPECT_EQ(next, static_cast<uint8_t>(GetParam().sequence_id + 1));
}

TEST_P(FramingTest, BeginFinishWritesTheSameBytes) {
  Bytes out;
  const size_t begin = begin_packet(out);
  out.insert(out.end(), GetParam().payload.begin(), GetParam().payload.end());
  const uint8_t next = finish_packet(out, begin, GetParam().sequence_id);
  EXPECT_EQ(test::to_hex(out), test::to_hex(GetParam().bytes));
  EXPECT_EQ(next, static_cast<uint8_t>(GetParam().sequence_id + 1));
}

TEST_P(FramingTest, DecodesAndConsumesAll) {
  auto packet = decode_packet(GetParam().bytes, GetParam().sequence_id);
  ASSERT_TRUE(packet) << packet.error().message();
  EXPECT_EQ(packet->consumed, GetParam().bytes.size());
  EXPECT_EQ(packet->first_sequence_id, GetParam().sequence_id);
  EXPECT_EQ(packet->last_sequence_id, GetParam().sequence_id);
  EXPECT_EQ(test::to_hex(packet->payload), test::to_hex(GetParam().payload));
}

TEST_P(FramingTest, EveryStrictPrefixIsIncomplete) {
  test::expect_prefixes_incomplete(GetParam().bytes, test::kWholeMessage,
                                   [](ByteView b) { return decode_packet(b); });
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, FramingTest,
    ::testing::Values(
        // The COM_QUERY example of the MySQL protocol docs.
        FrameCase{"ComQuery", 0,
                  hex("03 73 65 6c 65 63 74 20 40 40 76 65 72 73 69 6f 6e 5f 63"
                      "6f 6d 6d 65 6e 74 20 6c 69 6d 69 74 20 31"),
                  hex("21 00 00 00 03 73 65 6c 65 63 74 20 40 40 76 65 72 73 69 6f 6e 5f 63"
                      "6f 6d 6d 65 6e 74 20 6c 69 6d 69 74 20 31")},
        // An OK from the docs, the server's second packet of the exchange.
        FrameCase{"Ok", 2, hex("00 00 00 02 00 00 00"), hex("07 00 00 02 00 00 00 02 00 00 00")},
        FrameCase{"EmptyPayload", 5, {}, hex("00 00 00 05")},
        FrameCase{"SequenceWraps", 255, hex("0e"), hex("01 00 00 ff 0e")}),
    test::FixtureName());

TEST(Framing, FrameHeaderNeedsFourBytes) {
  test::expect_error(decode_frame_header(hex("01 00 00")), CodecErrc::not_enough_input);
  auto h = decode_frame_header(hex("03 02 01 07"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->payload_length, 0x010203u);
  EXPECT_EQ(h->sequence_id, 7);
}

TEST(Framing, DecodeFrameLeavesFollowingBytes) {
  const Bytes bytes = hex("01 00 00 00 0e 01 00 00 01 01");
  auto frame = decode_frame(bytes);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->consumed, 5u);
  EXPECT_EQ(frame->frame.sequence_id, 0);
  EXPECT_EQ(test::to_hex(frame->frame.payload), "0e");
  EXPECT_FALSE(frame->frame.continues());
}

TEST(Framing, SequenceMismatch) {
  test::expect_error(decode_packet(hex("01 00 00 03 0e"), 2), CodecErrc::sequence_mismatch);
}

// A payload of exactly 16 MiB - 1 bytes must be followed by an empty frame, else the reader
// would wait for a continuation that never comes.
TEST(Framing, MaxFramePayloadEndsWithAnEmptyFrame) {
  const Bytes payload(kMaxFramePayload, 'a');
  Bytes out;
  EXPECT_EQ(encode_packet(payload, 0, out), 2);
  ASSERT_EQ(out.size(), kFrameHeaderSize + kMaxFramePayload + kFrameHeaderSize);
  EXPECT_EQ(test::to_hex(ByteView(out).first(4)), "ff ff ff 00");
  EXPECT_EQ(test::to_hex(ByteView(out).last(4)), "00 00 00 01");

  auto packet = decode_packet(out, 0);
  ASSERT_TRUE(packet) << packet.error().message();
  EXPECT_EQ(packet->consumed, out.size());
  EXPECT_EQ(packet->first_sequence_id, 0);
  EXPECT_EQ(packet->last_sequence_id, 1);
  EXPECT_EQ(packet->payload.size(), kMaxFramePayload);

  // Without the closing empty frame the packet is incomplete.
  test::expect_error(decode_packet(ByteView(out).first(out.size() - 1)),
                     CodecErrc::not_enough_input);
  test::expect_error(decode_packet(ByteView(out).first(kFrameHeaderSize + kMaxFramePayload)),
                     CodecErrc::not_enough_input);
}

TEST(Framing, ContinuationFramesAreJoined) {
  Bytes payload(kMaxFramePayload, 'a');
  payload.insert(payload.end(), {'b', 'c', 'd'});
  Bytes out;
  EXPECT_EQ(encode_packet(payload, 254, out), 0) << "the sequence id wraps across frames";
  EXPECT_EQ(test::to_hex(ByteView(out).subspan(kFrameHeaderSize + kMaxFramePayload)),
            "03 00 00 ff 62 63 64");

  auto packet = decode_packet(out, 254);
  ASSERT_TRUE(packet) << packet.error().message();
  EXPECT_EQ(packet->first_sequence_id, 254);
  EXPECT_EQ(packet->last_sequence_id, 255);
  ASSERT_EQ(packet->payload.size(), payload.size());
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), packet->payload.begin()));
  EXPECT_EQ(packet->payload.data(), packet->joined.data()) << "a joined payload is owned";

  // The continuation frame must carry the next sequence id.
  out[kFrameHeaderSize + kMaxFramePayload + 3] = 7;
  test::expect_error(decode_packet(out), CodecErrc::sequence_mismatch);
}

TEST(Framing, FinishPacketSplitsLargePayloads) {
  Bytes out = hex("aa");  // bytes already in the buffer stay in front
  const size_t begin = begin_packet(out);
  out.resize(out.size() + kMaxFramePayload + 1, 'z');
  EXPECT_EQ(finish_packet(out, begin, 3), 5);
  ASSERT_EQ(out.size(), 1 + 2 * kFrameHeaderSize + kMaxFramePayload + 1);
  EXPECT_EQ(test::to_hex(ByteView(out).first(5)), "aa ff ff ff 03");
  EXPECT_EQ(test::to_hex(ByteView(out).last(5)), "01 00 00 04 7a");
}

// A server's opening exchange as it arrives from a socket, one byte at a time: each decoder
// must keep saying "not enough input" until its packet is complete, then decode it exactly.
TEST(Streaming, ByteAtATimeThroughDecodePacket) {
  InitialHandshake greeting;
  greeting.server_version = "5.5.5-10.11.19-MariaDB";
  greeting.connection_id = 7;
  greeting.auth_plugin_data = "abcdefghijklmnopqrst";
  greeting.capabilities = cap::kProtocol41 | cap::kSecureConnection | cap::kPluginAuth |
                          cap::kSessionTrack | cap::kMariadbProgress;
  greeting.character_set = kUtf8mb4GeneralCi;
  greeting.status_flags = status::kAutocommit;
  greeting.auth_plugin_name = "mysql_native_password";
  const uint64_t caps = greeting.capabilities;
  const OkPacket ok{0x00, 1, 2, status::kAutocommit, 0, "done", {}};
  const ErrPacket err{errc::kAccessDenied, "28000", "Access denied"};

  Bytes stream;
  Bytes payload;
  encode_initial_handshake(greeting, payload);
  encode_packet(payload, 0, stream);
  payload.clear();
  encode_ok(ok, caps, payload);
  encode_packet(payload, 2, stream);
  payload.clear();
  encode_err(err, caps, payload);
  encode_packet(payload, 1, stream);
  encode_packet({}, 0, stream);

  Bytes buffer;
  std::vector<Bytes> payloads;
  std::vector<uint8_t> sequence_ids;
  for (uint8_t byte : stream) {
    buffer.push_back(byte);
    auto packet = decode_packet(buffer);
    if (!packet) {
      ASSERT_EQ(packet.error(), make_error_code(CodecErrc::not_enough_input));
      continue;
    }
    payloads.emplace_back(packet->payload.begin(), packet->payload.end());
    sequence_ids.push_back(packet->first_sequence_id);
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(packet->consumed));
  }
  EXPECT_TRUE(buffer.empty());
  ASSERT_EQ(payloads.size(), 4u);
  EXPECT_EQ(sequence_ids, (std::vector<uint8_t>{0, 2, 1, 0}));
  EXPECT_EQ(decode_initial_handshake(payloads[0]).value(), greeting);
  EXPECT_EQ(decode_ok(payloads[1], caps).value(), ok);
  EXPECT_EQ(decode_err(payloads[2], caps).value(), err);
  EXPECT_TRUE(payloads[3].empty());
}

}  // namespace
}  // namespace replproxy::protocol
