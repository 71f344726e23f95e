#pragma once

// Builders for server responses fed to the ResponseTracker tests. Payloads are written field by
// field with the Writer (not with the generic encoders under test elsewhere), then framed.

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/constants.h"
#include "protocol/packet.h"
#include "protocol/response_tracker.h"
#include "protocol/wire.h"

namespace replproxy::protocol::testing {

using Next = ResponseTracker::Next;

inline constexpr uint64_t kBaseCaps = cap::kLongPassword | cap::kProtocol41 | cap::kTransactions |
                                      cap::kSecureConnection | cap::kMultiStatements |
                                      cap::kMultiResults | cap::kPsMultiResults | cap::kPluginAuth;
// What a classic client negotiates: EOF packets after column definitions and rows.
inline constexpr uint64_t kEofCaps = kBaseCaps;
// What a modern client negotiates: no EOF after column definitions, OK_FE after rows.
inline constexpr uint64_t kDeprecateEofCaps = kBaseCaps | cap::kDeprecateEof | cap::kSessionTrack;

inline constexpr uint16_t kAutocommit = status::kAutocommit;

inline Bytes hex(std::initializer_list<uint8_t> bytes) { return Bytes(bytes); }

inline Bytes command(Command c, std::initializer_list<uint8_t> rest = {}) {
  Bytes out{static_cast<uint8_t>(c)};
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

// COM_STMT_EXECUTE: statement_id 4, flags 1, iteration_count 4.
inline Bytes execute_command(uint32_t statement_id, uint8_t flags) {
  Bytes out;
  Writer(out).u8(static_cast<uint8_t>(Command::stmt_execute)).u32(statement_id).u8(flags).u32(1);
  return out;
}

struct Ok {
  uint16_t status = kAutocommit;
  uint64_t affected_rows = 0;
  uint64_t last_insert_id = 0;
  uint16_t warnings = 0;
  uint8_t header = 0x00;
};

inline Bytes ok_payload(const Ok& ok) {
  Bytes out;
  Writer(out)
      .u8(ok.header)
      .lenenc_int(ok.affected_rows)
      .lenenc_int(ok.last_insert_id)
      .u16(ok.status)
      .u16(ok.warnings);
  return out;
}

// An OK under CLIENT_SESSION_TRACK whose session state info holds `entries` ({type, data}).
inline Bytes ok_with_state(uint16_t status,
                           std::initializer_list<std::pair<uint8_t, std::string>> entries,
                           uint8_t header = 0x00) {
  Bytes state;
  Writer sw(state);
  for (const auto& [type, data] : entries) {
    sw.u8(type).lenenc_string(data);
  }
  Bytes out;
  Writer(out)
      .u8(header)
      .lenenc_int(0)
      .lenenc_int(0)
      .u16(status | status::kSessionStateChanged)
      .u16(0)
      .lenenc_string("")
      .lenenc_string(as_chars(state));
  return out;
}

inline std::string lenenc(std::string_view s) {
  Bytes out;
  Writer(out).lenenc_string(s);
  return std::string(as_chars(out));
}

inline Bytes eof_payload(uint16_t status = kAutocommit, uint16_t warnings = 0) {
  Bytes out;
  Writer(out).u8(0xfe).u16(warnings).u16(status);
  return out;
}

inline Bytes err_payload(uint16_t code, std::string_view sql_state, std::string_view message) {
  Bytes out;
  Writer(out).u8(0xff).u16(code).u8('#').raw(sql_state).raw(message);
  return out;
}

inline Bytes column_count_payload(uint64_t count) {
  Bytes out;
  Writer(out).lenenc_int(count);
  return out;
}

// A VARCHAR column of a utf8mb4 table t in schema test.
inline Bytes column_def_payload(std::string_view name) {
  Bytes out;
  Writer(out)
      .lenenc_string("def")
      .lenenc_string("test")
      .lenenc_string("t")
      .lenenc_string("t")
      .lenenc_string(name)
      .lenenc_string(name)
      .lenenc_int(0x0c)
      .u16(kUtf8mb4GeneralCi)
      .u32(1020)
      .u8(0xfd)
      .u16(0)
      .u8(0)
      .u16(0);
  return out;
}

inline Bytes text_row_payload(std::initializer_list<std::string_view> values) {
  Bytes out;
  Writer w(out);
  for (auto v : values) {
    w.lenenc_string(v);
  }
  return out;
}

// A binary row of one non-NULL VARCHAR: header 0x00, NULL bitmap (1 byte), value.
inline Bytes binary_row_payload(std::string_view value) {
  Bytes out;
  Writer(out).u8(0x00).u8(0x00).lenenc_string(value);
  return out;
}

// Frames payloads as a server would, numbering them from `first_sequence_id`.
class Wire {
 public:
  explicit Wire(uint8_t first_sequence_id = 1) : sequence_id_(first_sequence_id) {}

  Wire& packet(const Bytes& payload) {
    sequence_id_ = encode_packet(payload, sequence_id_, bytes_);
    return *this;
  }
  Wire& raw(const Bytes& bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  // column count, definitions and (without DEPRECATE_EOF) the EOF that ends them.
  Wire& columns(size_t count, uint64_t capabilities, uint16_t status = kAutocommit) {
    packet(column_count_payload(count));
    for (size_t i = 0; i < count; ++i) {
      packet(column_def_payload("c" + std::to_string(i)));
    }
    if ((capabilities & cap::kDeprecateEof) == 0) {
      packet(eof_payload(status));
    }
    return *this;
  }
  // The packet that ends rows: OK_FE under DEPRECATE_EOF, EOF otherwise.
  Wire& end_rows(uint64_t capabilities, uint16_t status = kAutocommit) {
    if ((capabilities & cap::kDeprecateEof) != 0) {
      return packet(ok_payload({.status = status, .header = 0xfe}));
    }
    return packet(eof_payload(status));
  }

  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
  uint8_t sequence_id_;
};

// The outcome of feeding every frame of a wire image: the first outcome other than read_more
// (or read_more if there was none), and at which frame it came.
struct Outcome {
  Result<Next> last = Next::read_more;
  size_t frames_fed = 0;
  size_t frames_total = 0;
};

inline Outcome feed_wire(ResponseTracker& tracker, ByteView wire) {
  Outcome outcome;
  bool stopped = false;
  size_t offset = 0;
  while (offset < wire.size()) {
    auto decoded = decode_frame(wire.subspan(offset));
    if (!decoded) {
      ADD_FAILURE() << "fixture is not a sequence of whole frames";
      break;
    }
    offset += decoded->consumed;
    ++outcome.frames_total;
    if (stopped) {
      continue;
    }
    ++outcome.frames_fed;
    outcome.last = tracker.feed(decoded->frame);
    stopped = !outcome.last || *outcome.last != Next::read_more;
  }
  return outcome;
}

// Feeds the whole wire image and checks that `expected` comes with its last frame and every
// earlier frame asked for more.
inline ::testing::AssertionResult ends_with(ResponseTracker& tracker, const Bytes& wire,
                                            Next expected = Next::done) {
  const Outcome outcome = feed_wire(tracker, wire);
  if (!outcome.last) {
    return ::testing::AssertionFailure()
           << "frame " << outcome.frames_fed << " of " << outcome.frames_total
           << " failed: " << outcome.last.error().message();
  }
  if (*outcome.last != expected || outcome.frames_fed != outcome.frames_total) {
    return ::testing::AssertionFailure()
           << "outcome " << static_cast<int>(*outcome.last) << " at frame " << outcome.frames_fed
           << " of " << outcome.frames_total << ", expected " << static_cast<int>(expected)
           << " at the last";
  }
  return ::testing::AssertionSuccess();
}

inline bool rejected(const Result<Next>& r) {
  return !r && r.error() == make_error_code(CodecErrc::invalid_input);
}

// Feeds every frame of the wire image, even after the response ended, and checks that frame
// number `bad_frame` (1-based) is the first one rejected as invalid input.
inline ::testing::AssertionResult rejects_at(ResponseTracker& tracker, const Bytes& wire,
                                             size_t bad_frame) {
  size_t offset = 0;
  for (size_t index = 1; offset < wire.size(); ++index) {
    auto decoded = decode_frame(ByteView(wire).subspan(offset));
    if (!decoded) {
      return ::testing::AssertionFailure() << "fixture is not a sequence of whole frames";
    }
    offset += decoded->consumed;
    const Result<Next> next = tracker.feed(decoded->frame);
    if (next) {
      continue;
    }
    if (next.error() != make_error_code(CodecErrc::invalid_input) || index != bad_frame) {
      return ::testing::AssertionFailure() << next.error().message() << " at frame " << index
                                           << ", expected invalid input at frame " << bad_frame;
    }
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no frame rejected";
}

}  // namespace replproxy::protocol::testing
