#pragma once

// A scripted Stream owner for the Stream tests, and the fixture they share.

#include <gtest/gtest.h>
#include <uv.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/stream.h"
#include "uv_test_util.h"

namespace replproxy::proxy::test {

// A Stream::Handler that counts every callback and records what it saw; the test scripts its
// reactions. It owns its Stream and frees it from on_closed, as a real owner does, so a use after
// that is caught by the sanitizers.
class Peer final : public Stream::Handler {
 public:
  struct Counts {
    int connected = 0;
    int readable = 0;
    int tls_ready = 0;
    int write_done = 0;
    int errors = 0;
    int closed = 0;
  };

  explicit Peer(uv_loop_t* loop) : stream_(std::make_unique<Stream>(loop, *this)) {}

  Stream& stream() { return *stream_; }
  bool alive() const { return stream_ != nullptr; }
  void close() {
    if (stream_) {
      stream_->close();
    }
  }

  // Moves all of input() into received.
  void take_input() {
    const protocol::ByteView in = stream_->input();
    received.append(protocol::as_chars(in));
    stream_->consume(in.size());
  }

  // Scripted reactions. Defaults: on_read takes the input, on_error closes, the others do nothing.
  std::function<void(Peer&, int status)> on_connect;
  std::function<void(Peer&)> on_read;
  std::function<void(Peer&)> on_tls;
  std::function<void(Peer&)> on_write;
  std::function<void(Peer&, std::string_view)> on_error;

  Counts count;
  int connect_status = 1;  // not a libuv status: "never called"
  std::string received;
  std::vector<std::string> errors;
  std::vector<size_t> pending_after_write;  // pending_write_bytes() in each on_write_done

 private:
  void on_connected(Stream&, int status) override {
    ++count.connected;
    connect_status = status;
    if (on_connect) {
      on_connect(*this, status);
    }
  }
  void on_readable(Stream&) override {
    ++count.readable;
    if (on_read) {
      on_read(*this);
    } else {
      take_input();
    }
  }
  void on_tls_ready(Stream&) override {
    ++count.tls_ready;
    if (on_tls) {
      on_tls(*this);
    }
  }
  void on_write_done(Stream& s) override {
    ++count.write_done;
    pending_after_write.push_back(s.pending_write_bytes());
    if (on_write) {
      on_write(*this);
    }
  }
  void on_stream_error(Stream&, std::string_view what) override {
    ++count.errors;
    errors.emplace_back(what);
    if (on_error) {
      on_error(*this, what);
    } else {
      close();
    }
  }
  void on_closed(Stream& s) override {
    ++count.closed;
    EXPECT_EQ(&s, stream_.get());
    stream_.reset();  // nothing in Stream may touch itself after this callback
  }

  std::unique_ptr<Stream> stream_;
};

// Every queued write was reported: at most one on_write_done per write() (a write the kernel
// takes at once is never pending and not reported), and nothing pending after the last one.
inline void expect_flushed(const Peer& peer, size_t writes) {
  EXPECT_LE(static_cast<size_t>(peer.count.write_done), writes);
  if (!peer.pending_after_write.empty()) {
    EXPECT_EQ(peer.pending_after_write.back(), 0u);
  }
}

// A loop per test; every test ends with all handles closed and uv_loop_close() == 0.
class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }

  // Runs the loop; if it hangs, the watchdog closes these peers and the listener.
  void run(std::initializer_list<Peer*> peers, Listener* listener = nullptr,
           std::function<void()> also = {}) {
    std::vector<Peer*> owned(peers);
    run_loop(&loop_, [owned, listener, also] {
      for (Peer* p : owned) {
        p->close();
      }
      if (listener != nullptr) {
        listener->close();
      }
      if (also) {
        also();
      }
    });
  }

  // Accepts the listener's first connection into `server`, starts reading and stops listening.
  static std::function<void(Listener&)> accept_into(Peer& server) {
    return [&server](Listener& listener) {
      EXPECT_EQ(server.stream().accept_from(listener.handle()), 0);
      EXPECT_EQ(server.stream().start_reading(), 0);
      listener.close();
    };
  }

  uv_loop_t loop_;
};

// `n` bytes of a pattern that does not repeat with any small period, so a lost, duplicated or
// reordered chunk shows.
inline std::string pattern_bytes(size_t n, uint32_t seed = 2463534242u) {
  std::string out(n, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x);
  }
  return out;
}

}  // namespace replproxy::proxy::test
