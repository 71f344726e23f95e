#include "protocol/packet.h"

#include <algorithm>

namespace replproxy::protocol {

Result<FrameHeader> decode_frame_header(ByteView input) {
  if (input.size() < kFrameHeaderSize) {
    return fail(CodecErrc::not_enough_input);
  }
  FrameHeader h;
  h.payload_length = static_cast<uint32_t>(input[0]) | (static_cast<uint32_t>(input[1]) << 8) |
                     (static_cast<uint32_t>(input[2]) << 16);
  h.sequence_id = input[3];
  return h;
}

Result<DecodedFrame> decode_frame(ByteView input) {
  auto header = decode_frame_header(input);
  if (!header) {
    return std::unexpected(header.error());
  }
  const size_t total = kFrameHeaderSize + header->payload_length;
  if (input.size() < total) {
    return fail(CodecErrc::not_enough_input);
  }
  return DecodedFrame{total, Frame{header->sequence_id,
                                   input.subspan(kFrameHeaderSize, header->payload_length)}};
}

Result<DecodedPacket> decode_packet(ByteView input, std::optional<uint8_t> expected_sequence_id) {
  DecodedPacket packet;
  std::optional<uint8_t> expected = expected_sequence_id;
  bool first = true;
  for (;;) {
    auto decoded = decode_frame(input.subspan(packet.consumed));
    if (!decoded) {
      return std::unexpected(decoded.error());
    }
    const Frame& frame = decoded->frame;
    if (expected && frame.sequence_id != *expected) {
      return fail(CodecErrc::sequence_mismatch);
    }
    if (first) {
      packet.first_sequence_id = frame.sequence_id;
    }
    packet.last_sequence_id = frame.sequence_id;
    expected = static_cast<uint8_t>(frame.sequence_id + 1);
    packet.consumed += decoded->consumed;
    if (first && !frame.continues()) {
      packet.payload = frame.payload;
      return packet;
    }
    packet.joined.insert(packet.joined.end(), frame.payload.begin(), frame.payload.end());
    first = false;
    if (!frame.continues()) {
      packet.payload = packet.joined;
      return packet;
    }
  }
}

namespace {

void put_header(uint8_t* at, size_t length, uint8_t sequence_id) {
  at[0] = static_cast<uint8_t>(length);
  at[1] = static_cast<uint8_t>(length >> 8);
  at[2] = static_cast<uint8_t>(length >> 16);
  at[3] = sequence_id;
}

}  // namespace

uint8_t encode_packet(ByteView payload, uint8_t sequence_id, Bytes& out) {
  size_t offset = 0;
  for (;;) {
    const size_t chunk = std::min<size_t>(payload.size() - offset, kMaxFramePayload);
    const size_t at = out.size();
    out.resize(at + kFrameHeaderSize);
    put_header(out.data() + at, chunk, sequence_id++);
    out.insert(out.end(), payload.begin() + offset, payload.begin() + offset + chunk);
    offset += chunk;
    if (chunk < kMaxFramePayload) {
      return sequence_id;
    }
  }
}

size_t begin_packet(Bytes& out) {
  const size_t begin = out.size();
  out.resize(begin + kFrameHeaderSize);
  return begin;
}

uint8_t finish_packet(Bytes& out, size_t begin, uint8_t sequence_id) {
  const size_t length = out.size() - begin - kFrameHeaderSize;
  if (length < kMaxFramePayload) {
    put_header(out.data() + begin, length, sequence_id);
    return static_cast<uint8_t>(sequence_id + 1);
  }
  // Rare: a payload too large for one frame. Re-frame it through a copy.
  Bytes payload(out.begin() + begin + kFrameHeaderSize, out.end());
  out.resize(begin);
  return encode_packet(payload, sequence_id, out);
}

}  // namespace replproxy::protocol
