// libFuzzer target for ResponseTracker: feeds arbitrary server frames for every kind of command.
// The tracker must never crash, and must keep its contract: once a response is done (or a frame
// was rejected), no further frame is accepted until the next start().
//
// Input layout:
//   byte 0   which command is started (index into kCommands)
//   byte 1   capability bits: 1 DEPRECATE_EOF, 2 SESSION_TRACK, 4 PROTOCOL_41, 8 TRANSACTIONS
//   byte 2   COM_STMT_EXECUTE flags (bit 0 asks for a cursor)
//   then frames, each a little-endian u16 length and that many payload bytes (fewer at the end
//   of the input). Length 0xffff stands for a full 0xffffff-byte frame, whose first byte is the
//   next input byte; it makes the following frame a continuation.
// When the tracker reports done or rejects a frame, the next frame is fed to a newly started
// tracker, using the next input byte as its command.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <vector>

#include "protocol/constants.h"
#include "protocol/packet.h"
#include "protocol/response_tracker.h"

namespace {

using replproxy::protocol::Bytes;
using replproxy::protocol::ByteView;
using replproxy::protocol::Command;
using replproxy::protocol::Frame;
using replproxy::protocol::kMaxFramePayload;
using replproxy::protocol::ResponseTracker;
namespace cap = replproxy::protocol::cap;

constexpr Command kCommands[] = {
    Command::query,        Command::stmt_execute,     Command::stmt_prepare,
    Command::stmt_fetch,   Command::field_list,       Command::statistics,
    Command::ping,         Command::set_option,       Command::init_db,
    Command::quit,         Command::stmt_close,       Command::stmt_send_long_data,
    Command::process_info, Command::reset_connection, Command::change_user,
};
constexpr size_t kFullFrameMarker = 0xffff;

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  uint8_t byte() { return empty() ? 0 : data_[pos_++]; }
  ByteView take(size_t n) {
    const size_t available = size_ - pos_;
    const ByteView view(data_ + pos_, n < available ? n : available);
    pos_ += view.size();
    return view;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

uint64_t capabilities_from(uint8_t bits) {
  uint64_t caps = 0;
  if (bits & 1) caps |= cap::kDeprecateEof;
  if (bits & 2) caps |= cap::kSessionTrack;
  if (bits & 4) caps |= cap::kProtocol41;
  if (bits & 8) caps |= cap::kTransactions;
  return caps;
}

void start(ResponseTracker& tracker, uint8_t selector, uint8_t execute_flags) {
  const Command command = kCommands[selector % std::size(kCommands)];
  Bytes payload{static_cast<uint8_t>(command), 1, 0, 0, 0, execute_flags, 1, 0, 0, 0};
  tracker.start(payload);
}

// The tracker is built for one response at a time; a frame after the end must be refused.
void check_refuses_more(ResponseTracker& tracker) {
  static const uint8_t ok[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
  if (tracker.feed(Frame{0, ByteView(ok)})) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Only its first byte is ever looked at; the rest of a long frame is filler.
  static Bytes full_frame(kMaxFramePayload, 0x00);

  Input input(data, size);
  const uint8_t selector = input.byte();
  ResponseTracker tracker(capabilities_from(input.byte()));
  const uint8_t execute_flags = input.byte();
  start(tracker, selector, execute_flags);

  while (!input.empty()) {
    const size_t length = input.byte() | (static_cast<size_t>(input.byte()) << 8);
    Frame frame;
    if (length == kFullFrameMarker) {
      full_frame[0] = input.byte();
      frame.payload = full_frame;
    } else {
      frame.payload = input.take(length);
    }
    auto next = tracker.feed(frame);
    if (!next || *next == ResponseTracker::Next::done) {
      check_refuses_more(tracker);
      start(tracker, input.byte(), execute_flags);
    }
  }
  return 0;
}
