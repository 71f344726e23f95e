#pragma once

// Packet framing.
//
//   field          width  notes
//   payload_length 3      little-endian; 0xffffff means "a continuation frame follows"
//   sequence_id    1      starts at 0 for each command, +1 per frame in either direction
//   payload        n
//
// A logical packet of 16 MiB - 1 bytes or more is split into frames of 0xffffff bytes followed
// by a shorter frame (possibly empty) that ends it.

#include <cstdint>

#include "protocol/wire.h"

namespace replproxy::protocol {

inline constexpr size_t kFrameHeaderSize = 4;
inline constexpr uint32_t kMaxFramePayload = 0xffffff;

struct Frame {
  uint8_t sequence_id = 0;
  ByteView payload;  // borrowed from the input
  // True when payload is kMaxFramePayload long, i.e. the logical packet continues in the next
  // frame.
  bool continues() const { return payload.size() == kMaxFramePayload; }
};

struct FrameHeader {
  uint32_t payload_length = 0;
  uint8_t sequence_id = 0;
};

// Reads just the 4-byte header; not_enough_input if fewer than 4 bytes.
Result<FrameHeader> decode_frame_header(ByteView input);

// Decodes one frame. Returns the bytes consumed (header + payload) and the frame, or
// not_enough_input while the frame is incomplete.
struct DecodedFrame {
  size_t consumed = 0;
  Frame frame;
};
Result<DecodedFrame> decode_frame(ByteView input);

// A logical packet reassembled from one or more frames. `payload` is borrowed when the packet
// fits one frame and owned (joined) when it spans several.
struct DecodedPacket {
  size_t consumed = 0;
  uint8_t first_sequence_id = 0;
  uint8_t last_sequence_id = 0;
  Bytes joined;         // only used for multi-frame packets
  ByteView payload;     // points into the input or into `joined`
};

// Decodes one logical packet. When `expected_sequence_id` is given, the first frame must carry it
// and each further frame the next one (mod 256), else sequence_mismatch.
Result<DecodedPacket> decode_packet(ByteView input,
                                    std::optional<uint8_t> expected_sequence_id = std::nullopt);

// Appends `payload` framed as one logical packet, starting at `sequence_id`. Returns the sequence
// id that the next packet in this exchange must carry.
uint8_t encode_packet(ByteView payload, uint8_t sequence_id, Bytes& out);

// Starts a frame in `out` whose header is patched by finish_packet; lets encoders write the
// payload in place without a temporary. Payloads of kMaxFramePayload or more are split then.
size_t begin_packet(Bytes& out);
uint8_t finish_packet(Bytes& out, size_t begin, uint8_t sequence_id);

}  // namespace replproxy::protocol
