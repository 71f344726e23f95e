#pragma once

// One TCP connection on a worker loop, with an optional TLS layer. TLS sits below the codec: the
// socket moves ciphertext through memory BIOs and the owner only ever sees plaintext in input().
// Switching to TLS after an SSLRequest is a state change of the stream, not a second code path.
//
// Lifetime: the owner holds the Stream and frees it only after Handler::on_closed, which libuv
// calls from the close callback, never from inside a read or write callback.

#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "protocol/wire.h"

namespace replproxy::proxy {

class Stream {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // An outbound connect() finished; status is 0 or a libuv error.
    virtual void on_connected(Stream&, int /*status*/) {}
    // New plaintext is in input().
    virtual void on_readable(Stream&) = 0;
    // The TLS handshake started by start_tls_*() completed.
    virtual void on_tls_ready(Stream&) {}
    // A write completed; pending_write_bytes() went down.
    virtual void on_write_done(Stream&) {}
    // The peer closed, or a read, write or TLS error happened. The stream stops reading.
    virtual void on_stream_error(Stream&, std::string_view what) = 0;
    // With set_half_close(true) only: the peer finished sending (a TCP FIN, or a TLS
    // close_notify). The stream stops reading; writing still works.
    virtual void on_peer_eof(Stream&) {}
    // The handle is closed: the owner may free the Stream now.
    virtual void on_closed(Stream&) = 0;
  };

  Stream(uv_loop_t* loop, Handler& handler);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  uv_stream_t* handle() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  int accept_from(uv_stream_t* server);
  int connect(const sockaddr* addr);
  int start_reading();
  void stop_reading();
  bool reading() const { return reading_; }

  // Plaintext received and not yet consumed.
  protocol::ByteView input() const {
    return {in_.data() + in_begin_, in_end_ - in_begin_};
  }
  // The same bytes, writable: lets a session patch ids in place before forwarding a frame.
  std::span<uint8_t> mutable_input() { return {in_.data() + in_begin_, in_end_ - in_begin_}; }
  void consume(size_t n);
  // Puts bytes back in front of input(), as if they had not been consumed yet: a read that is
  // retried on another backend is dispatched again from the client's input.
  void unconsume(protocol::ByteView bytes);

  // Sends plaintext to the peer (encrypted first when TLS is on). What the kernel takes at once
  // is written synchronously and gets no on_write_done; the rest is queued. Errors are reported
  // later through on_stream_error, never from inside write().
  void write(protocol::ByteView plain);
  void write(protocol::Bytes&& plain);
  size_t pending_write_bytes() const { return pending_write_bytes_; }

  // Starts TLS as the server. Bytes already in input() are the client's first TLS records and are
  // processed at once, so on_tls_ready / on_readable / on_stream_error may fire from inside.
  bool start_tls_server(SSL_CTX* ctx);
  // Starts TLS as the client. `host` is checked against the certificate when `verify` is set.
  bool start_tls_client(SSL_CTX* ctx, const std::string& host, bool verify);
  bool tls_active() const { return ssl_ != nullptr; }
  bool tls_established() const { return ssl_ != nullptr && handshake_done_; }
  std::string tls_cipher() const;
  std::string tls_version() const;

  // By default the peer's end of data is an error (on_stream_error). A byte tunnel that must
  // propagate half-closes turns this on to get on_peer_eof instead.
  void set_half_close(bool on) { half_close_ = on; }
  bool peer_eof() const { return peer_eof_; }
  // Ends our direction once the queued writes are sent: a TLS close_notify when TLS is up, then
  // a TCP FIN. Reading goes on. Idempotent.
  void shutdown_write();

  // Closes the handle now; queued writes are cancelled. Idempotent.
  void close();
  // Closes once every queued write has reached the kernel.
  void close_after_flush();
  bool closing() const { return closing_; }

  std::string peer_address() const;
  void set_nodelay();

 private:
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_connect(uv_connect_t* req, int status);
  static void on_close(uv_handle_t* h);
  static void on_shutdown(uv_shutdown_t* req, int status);

  void reserve_input(size_t n);
  void handle_ciphertext(const char* data, size_t n);
  void process_tls_input();
  bool pump_tls();
  void flush_tls_output();
  void send_raw(protocol::Bytes&& bytes);
  size_t try_send(protocol::ByteView bytes);
  void queue_send(protocol::Bytes&& bytes);
  void fail(std::string_view what);
  void end_of_input(std::string_view what);

  uv_loop_t* loop_;
  Handler& handler_;
  uv_tcp_t tcp_;
  uv_connect_t connect_req_;
  uv_shutdown_t shutdown_req_;
  bool reading_ = false;
  bool half_close_ = false;
  bool peer_eof_ = false;
  bool shutdown_requested_ = false;
  bool closing_ = false;
  bool close_after_flush_ = false;
  bool failed_ = false;

  protocol::Bytes in_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  size_t pending_write_bytes_ = 0;

  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // ciphertext from the peer, owned by ssl_
  BIO* wbio_ = nullptr;  // ciphertext to the peer, owned by ssl_
  bool handshake_done_ = false;
  protocol::Bytes cipher_in_;
};

}  // namespace replproxy::proxy
