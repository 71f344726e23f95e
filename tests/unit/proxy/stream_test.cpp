// Stream over plaintext TCP: ordering, consume(), back-pressure, write accounting, peer close and
// close_after_flush(). Each test runs a listener, an accepted Stream and a connecting Stream on
// one loop, counts every callback and ends with uv_loop_close() == 0.

#include "proxy/stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "stream_test_util.h"
#include "uv_test_util.h"

namespace replproxy::proxy {
namespace {

using protocol::as_bytes;
using protocol::as_chars;
using test::Deferred;
using test::Listener;
using test::pattern_bytes;
using test::Peer;
using test::RefusingPort;
using ::testing::ElementsAre;

class StreamTest : public test::LoopTest {};

TEST_F(StreamTest, EchoArrivesInOrderAndEveryCallbackIsCounted) {
  const std::string message = "hello, stream world";
  Peer server(&loop_);
  Peer client(&loop_);
  Listener listener(&loop_, accept_into(server));
  int server_writes = 0;
  server.on_read = [&](Peer& p) {
    const protocol::ByteView in = p.stream().input();
    p.received.append(as_chars(in));
    p.stream().write(in);  // copies: consume() may reuse the buffer
    ++server_writes;
    p.stream().consume(in.size());
    EXPECT_TRUE(p.stream().input().empty());
  };
  // The client consumes one byte at a time, so consume() is checked on every step.
  size_t pending_when_echoed = 1;
  client.on_read = [&](Peer& p) {
    while (!p.stream().input().empty()) {
      const protocol::ByteView before = p.stream().input();
      p.received.push_back(static_cast<char>(before[0]));
      p.stream().consume(1);
      EXPECT_EQ(p.stream().input().size(), before.size() - 1);
    }
    if (p.received.size() == message.size()) {
      pending_when_echoed = p.stream().pending_write_bytes();
      p.close();
    }
  };
  size_t pending_after_writes = 0;
  client.on_connect = [&](Peer& p, int status) {
    ASSERT_EQ(status, 0);
    EXPECT_EQ(p.stream().start_reading(), 0);
    EXPECT_TRUE(p.stream().reading());
    p.stream().write(as_bytes(std::string_view(message).substr(0, 5)));
    p.stream().write(protocol::Bytes(message.begin() + 5, message.end()));
    pending_after_writes = p.stream().pending_write_bytes();
  };
  ASSERT_EQ(client.stream().connect(listener.address()), 0);
  run({&server, &client}, &listener);

  EXPECT_EQ(server.received, message);
  EXPECT_EQ(client.received, message);
  // Bytes the kernel took at once are never pending; the rest is, until on_write_done.
  EXPECT_LE(pending_after_writes, message.size());
  EXPECT_EQ(pending_when_echoed, 0u);
  EXPECT_EQ(listener.connections(), 1);
  EXPECT_TRUE(listener.closed());
  EXPECT_EQ(client.count.connected, 1);
  EXPECT_EQ(client.connect_status, 0);
  test::expect_flushed(client, 2);
  EXPECT_EQ(client.count.errors, 0);
  EXPECT_EQ(client.count.tls_ready, 0);
  EXPECT_EQ(client.count.closed, 1);
  EXPECT_EQ(server.count.connected, 0);
  EXPECT_GE(server.count.readable, 1);
  test::expect_flushed(server, server_writes);
  EXPECT_THAT(server.errors, ElementsAre("connection closed by peer"));
  EXPECT_EQ(server.count.closed, 1);
  EXPECT_FALSE(server.alive());
  EXPECT_FALSE(client.alive());
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

TEST_F(StreamTest, LargeTransferSurvivesStopAndStartReading) {
  constexpr size_t kTotal = 8 << 20;
  constexpr size_t kChunk = 256 << 10;
  constexpr size_t kPauseAt = 1 << 20;
  const std::string data = pattern_bytes(kTotal);
  Peer server(&loop_);
  Peer client(&loop_);
  Deferred resume(&loop_);
  Listener listener(&loop_, accept_into(server));
  // The reader leaves input() alone until a megabyte has piled up, then stops reading and drains
  // it on a later loop iteration before it reads on: the writer has to wait for it.
  int pauses = 0;
  server.on_read = [&](Peer& p) {
    if (p.stream().input().size() < kPauseAt) {
      return;
    }
    ++pauses;
    p.stream().stop_reading();
    EXPECT_FALSE(p.stream().reading());
    resume.post([&p] {
      p.take_input();
      EXPECT_EQ(p.stream().start_reading(), 0);
      EXPECT_TRUE(p.stream().reading());
    });
  };
  server.on_error = [&](Peer& p, std::string_view) {
    p.take_input();
    p.close();
    resume.close();
  };
  client.on_connect = [&](Peer& p, int status) {
    ASSERT_EQ(status, 0);
    for (size_t offset = 0; offset < kTotal; offset += kChunk) {
      p.stream().write(as_bytes(std::string_view(data).substr(offset, kChunk)));
    }
    // More than the socket buffers take while the reader is not reading: some must queue.
    EXPECT_GT(p.stream().pending_write_bytes(), 0u);
    if (p.stream().pending_write_bytes() == 0) {
      p.close();
    }
  };
  client.on_write = [](Peer& p) {
    if (p.stream().pending_write_bytes() == 0) {
      p.close();
    }
  };
  ASSERT_EQ(client.stream().connect(listener.address()), 0);
  run({&server, &client}, &listener, [&] { resume.close(); });

  ASSERT_EQ(server.received.size(), kTotal);
  EXPECT_TRUE(server.received == data) << "the bytes arrived, but not intact or not in order";
  EXPECT_GE(pauses, 1);
  EXPECT_EQ(resume.posted(), pauses);
  EXPECT_TRUE(resume.closed());
  EXPECT_GE(client.count.write_done, 1);
  test::expect_flushed(client, kTotal / kChunk);
  EXPECT_EQ(client.count.errors, 0);
  EXPECT_EQ(client.count.closed, 1);
  EXPECT_THAT(server.errors, ElementsAre("connection closed by peer"));
  EXPECT_EQ(server.count.closed, 1);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

TEST_F(StreamTest, PeerCloseIsReportedOnceAndReadingDoesNotResume) {
  Peer server(&loop_);
  Peer client(&loop_);
  Deferred later(&loop_);
  Listener listener(&loop_, accept_into(server));
  client.on_connect = [](Peer& p, int status) {
    ASSERT_EQ(status, 0);
    p.close();
  };
  // The owner does not close at once: the failed stream must stay quiet until it does.
  int start_reading_rc = -1;
  server.on_error = [&](Peer& p, std::string_view) {
    EXPECT_FALSE(p.stream().reading());
    start_reading_rc = p.stream().start_reading();
    EXPECT_FALSE(p.stream().reading());
    later.post([&p, &later] {
      p.close();
      p.close();  // idempotent
      later.close();
    });
  };
  ASSERT_EQ(client.stream().connect(listener.address()), 0);
  run({&server, &client}, &listener, [&] { later.close(); });

  EXPECT_THAT(server.errors, ElementsAre("connection closed by peer"));
  EXPECT_EQ(start_reading_rc, 0);
  EXPECT_EQ(server.count.readable, 0);
  EXPECT_EQ(server.count.closed, 1);
  EXPECT_EQ(client.count.connected, 1);
  EXPECT_EQ(client.count.errors, 0);
  EXPECT_EQ(client.count.closed, 1);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

TEST_F(StreamTest, CloseAfterFlushDeliversQueuedDataFirst) {
  constexpr size_t kTotal = 16 << 20;  // more than the socket buffers take at once
  constexpr size_t kChunk = 1 << 20;
  const std::string data = pattern_bytes(kTotal, 7);
  Peer server(&loop_);
  Peer client(&loop_);
  size_t pending_at_close = 0;
  Listener listener(&loop_, [&](Listener& l) {
    ASSERT_EQ(server.stream().accept_from(l.handle()), 0);
    l.close();
    for (size_t offset = 0; offset < kTotal; offset += kChunk) {
      server.stream().write(as_bytes(std::string_view(data).substr(offset, kChunk)));
    }
    pending_at_close = server.stream().pending_write_bytes();
    server.stream().close_after_flush();
  });
  client.on_connect = [](Peer& p, int status) {
    ASSERT_EQ(status, 0);
    EXPECT_EQ(p.stream().start_reading(), 0);
  };
  ASSERT_EQ(client.stream().connect(listener.address()), 0);
  run({&server, &client}, &listener);

  EXPECT_GT(pending_at_close, 0u);
  ASSERT_EQ(client.received.size(), kTotal);
  EXPECT_TRUE(client.received == data);
  EXPECT_THAT(client.errors, ElementsAre("connection closed by peer"));
  EXPECT_EQ(client.count.closed, 1);
  // The write that empties the queue closes the stream instead of reporting on_write_done.
  EXPECT_LT(server.count.write_done, static_cast<int>(kTotal / kChunk));
  EXPECT_EQ(server.count.errors, 0);
  EXPECT_EQ(server.count.closed, 1);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

TEST_F(StreamTest, CloseAfterFlushWithNothingQueuedClosesAtOnce) {
  Peer server(&loop_);
  Peer client(&loop_);
  Listener listener(&loop_, [&](Listener& l) {
    ASSERT_EQ(server.stream().accept_from(l.handle()), 0);
    l.close();
    server.stream().close_after_flush();
    EXPECT_TRUE(server.stream().closing());
  });
  client.on_connect = [](Peer& p, int status) {
    ASSERT_EQ(status, 0);
    EXPECT_EQ(p.stream().start_reading(), 0);
  };
  ASSERT_EQ(client.stream().connect(listener.address()), 0);
  run({&server, &client}, &listener);

  EXPECT_EQ(server.count.closed, 1);
  EXPECT_EQ(server.count.write_done, 0);
  EXPECT_THAT(client.errors, ElementsAre("connection closed by peer"));
  EXPECT_EQ(client.count.closed, 1);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

TEST_F(StreamTest, ConnectToAPortNobodyListensOnReportsRefused) {
  RefusingPort refusing;
  Peer client(&loop_);
  client.on_connect = [](Peer& p, int) { p.close(); };
  ASSERT_EQ(client.stream().connect(refusing.address()), 0);
  run({&client});

  EXPECT_EQ(client.count.connected, 1);
  EXPECT_EQ(client.connect_status, UV_ECONNREFUSED);
  EXPECT_EQ(client.count.errors, 0);
  EXPECT_EQ(client.count.closed, 1);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

TEST_F(StreamTest, CloseCancelsQueuedWritesWithoutReportingThem) {
  constexpr size_t kTotal = 16 << 20;  // far more than the socket buffers take at once
  const std::string data = pattern_bytes(kTotal, 11);
  Peer server(&loop_);
  Peer client(&loop_);
  // Both ends close once the server has accepted (never reading) and the client has queued its
  // writes, whichever happens last.
  int ready = 0;
  auto close_both_when_ready = [&] {
    if (++ready == 2) {
      client.close();
      server.close();
    }
  };
  Listener listener(&loop_, [&](Listener& l) {
    ASSERT_EQ(server.stream().accept_from(l.handle()), 0);
    l.close();
    close_both_when_ready();
  });
  size_t pending_before_close = 0;
  client.on_connect = [&](Peer& p, int status) {
    ASSERT_EQ(status, 0);
    p.stream().write(as_bytes(data));
    pending_before_close = p.stream().pending_write_bytes();
    close_both_when_ready();
  };
  ASSERT_EQ(client.stream().connect(listener.address()), 0);
  run({&server, &client}, &listener);

  EXPECT_GT(pending_before_close, 0u);
  EXPECT_EQ(client.count.write_done, 0);
  EXPECT_EQ(client.count.errors, 0);
  EXPECT_EQ(client.count.closed, 1);
  EXPECT_EQ(server.count.closed, 1);
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

}  // namespace
}  // namespace replproxy::proxy
