#include "proxy/stream.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <memory>

#include "proxy/tls.h"

namespace replproxy::proxy {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

struct WriteRequest {
  uv_write_t req;
  protocol::Bytes data;
  Stream* stream;
};

bool is_ip_literal(const std::string& host) {
  sockaddr_in6 a6;
  sockaddr_in a4;
  return uv_ip4_addr(host.c_str(), 0, &a4) == 0 || uv_ip6_addr(host.c_str(), 0, &a6) == 0;
}

}  // namespace

Stream::Stream(uv_loop_t* loop, Handler& handler) : loop_(loop), handler_(handler) {
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  connect_req_.data = this;
  shutdown_req_.data = this;
}

Stream::~Stream() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
  }
}

int Stream::accept_from(uv_stream_t* server) { return uv_accept(server, handle()); }

int Stream::connect(const sockaddr* addr) {
  return uv_tcp_connect(&connect_req_, &tcp_, addr, &Stream::on_connect);
}

void Stream::set_nodelay() { uv_tcp_nodelay(&tcp_, 1); }

int Stream::start_reading() {
  if (reading_ || closing_ || failed_ || peer_eof_) {
    return 0;
  }
  const int rc = uv_read_start(handle(), &Stream::on_alloc, &Stream::on_read);
  reading_ = rc == 0;
  return rc;
}

void Stream::stop_reading() {
  if (reading_ && !closing_) {
    uv_read_stop(handle());
  }
  reading_ = false;
}

void Stream::consume(size_t n) {
  in_begin_ += n;
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
  }
}

void Stream::unconsume(protocol::ByteView bytes) {
  if (in_begin_ >= bytes.size()) {
    in_begin_ -= bytes.size();
  } else {
    const size_t kept = in_end_ - in_begin_;
    protocol::Bytes joined;
    joined.reserve(bytes.size() + kept + kReadChunk);
    joined.insert(joined.end(), bytes.begin(), bytes.end());
    joined.insert(joined.end(), in_.begin() + static_cast<ptrdiff_t>(in_begin_),
                  in_.begin() + static_cast<ptrdiff_t>(in_end_));
    in_end_ = joined.size();
    joined.resize(joined.capacity());
    in_ = std::move(joined);
    in_begin_ = 0;
    return;
  }
  std::memcpy(in_.data() + in_begin_, bytes.data(), bytes.size());
}

void Stream::reserve_input(size_t n) {
  if (in_begin_ > 0 && in_begin_ >= in_.size() / 2) {
    // Move the unconsumed tail to the front before growing.
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  if (in_.size() - in_end_ < n) {
    in_.resize(in_end_ + n);
  }
}

void Stream::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* self = static_cast<Stream*>(h->data);
  if (self->ssl_ != nullptr) {
    self->cipher_in_.resize(kReadChunk);
    *buf = uv_buf_init(reinterpret_cast<char*>(self->cipher_in_.data()), kReadChunk);
    return;
  }
  self->reserve_input(kReadChunk);
  *buf = uv_buf_init(reinterpret_cast<char*>(self->in_.data() + self->in_end_), kReadChunk);
}

void Stream::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Stream*>(s->data);
  if (nread == UV_EOF) {
    self->end_of_input("connection closed by peer");
    return;
  }
  if (nread < 0) {
    self->fail(uv_strerror(static_cast<int>(nread)));
    return;
  }
  if (nread == 0) {
    return;
  }
  if (self->ssl_ != nullptr) {
    self->handle_ciphertext(buf->base, static_cast<size_t>(nread));
    return;
  }
  self->in_end_ += static_cast<size_t>(nread);
  self->handler_.on_readable(*self);
}

void Stream::handle_ciphertext(const char* data, size_t n) {
  BIO_write(rbio_, data, static_cast<int>(n));
  process_tls_input();
}

// Runs the handshake and decryption over whatever ciphertext the read BIO holds, and tells the
// handler what changed.
void Stream::process_tls_input() {
  const bool was_established = handshake_done_;
  if (!pump_tls()) {
    return;
  }
  if (!was_established && handshake_done_) {
    handler_.on_tls_ready(*this);
    if (closing_ || failed_) {
      return;
    }
  }
  if (handshake_done_ && in_end_ > in_begin_) {
    handler_.on_readable(*this);
  }
}

// Runs the handshake and decrypts what it can. False when the stream failed.
bool Stream::pump_tls() {
  if (!handshake_done_) {
    const int rc = SSL_do_handshake(ssl_);
    flush_tls_output();
    if (rc != 1) {
      const int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        return true;
      }
      std::string what = "TLS handshake failed: " + take_openssl_errors();
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        what += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
      }
      fail(what);
      return false;
    }
    handshake_done_ = true;
  }
  for (;;) {
    reserve_input(kReadChunk);
    const int n = SSL_read(ssl_, in_.data() + in_end_, static_cast<int>(kReadChunk));
    if (n > 0) {
      in_end_ += static_cast<size_t>(n);
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    flush_tls_output();
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      return true;
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      if (!half_close_) {
        fail("TLS connection closed by peer");
        return false;
      }
      // What was decrypted before the close_notify goes to the handler first.
      if (in_end_ > in_begin_) {
        handler_.on_readable(*this);
      }
      end_of_input("TLS connection closed by peer");
      return false;
    }
    fail("TLS read failed: " + take_openssl_errors());
    return false;
  }
}

void Stream::flush_tls_output() {
  const size_t pending = BIO_ctrl_pending(wbio_);
  if (pending == 0) {
    return;
  }
  protocol::Bytes out(pending);
  const int n = BIO_read(wbio_, out.data(), static_cast<int>(pending));
  if (n > 0) {
    out.resize(static_cast<size_t>(n));
    send_raw(std::move(out));
  }
}

void Stream::write(protocol::ByteView plain) {
  if (closing_ || failed_ || plain.empty()) {
    return;
  }
  if (ssl_ == nullptr) {
    const size_t sent = try_send(plain);
    if (sent < plain.size()) {
      queue_send(protocol::Bytes(plain.begin() + sent, plain.end()));
    }
    return;
  }
  if (SSL_write(ssl_, plain.data(), static_cast<int>(plain.size())) <= 0) {
    fail("TLS write failed: " + take_openssl_errors());
    return;
  }
  flush_tls_output();
}

void Stream::write(protocol::Bytes&& plain) {
  if (ssl_ == nullptr) {
    send_raw(std::move(plain));
  } else {
    write(protocol::ByteView(plain));
  }
}

void Stream::send_raw(protocol::Bytes&& bytes) {
  if (closing_ || failed_ || bytes.empty()) {
    return;
  }
  const size_t sent = try_send(bytes);
  if (sent == bytes.size()) {
    return;
  }
  if (sent > 0) {
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(sent));
  }
  queue_send(std::move(bytes));
}

// Writes what the kernel takes right now, when nothing is queued ahead (order must hold). Most
// writes complete here, without a request allocation or a callback.
size_t Stream::try_send(protocol::ByteView bytes) {
  if (pending_write_bytes_ > 0) {
    return 0;
  }
  uv_buf_t buf = uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())),
                             static_cast<unsigned>(bytes.size()));
  const int n = uv_try_write(handle(), &buf, 1);
  // On any error (EAGAIN or worse) the bytes are queued; a broken socket then reports through
  // the write callback, never inside the caller's own write().
  return n > 0 ? static_cast<size_t>(n) : 0;
}

void Stream::queue_send(protocol::Bytes&& bytes) {
  if (closing_ || failed_) {
    return;
  }
  auto req = std::make_unique<WriteRequest>();
  req->data = std::move(bytes);
  req->stream = this;
  req->req.data = req.get();
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(req->data.data()),
                             static_cast<unsigned>(req->data.size()));
  const size_t size = req->data.size();
  const int rc = uv_write(&req->req, handle(), &buf, 1, &Stream::on_write);
  if (rc != 0) {
    fail(uv_strerror(rc));
    return;
  }
  pending_write_bytes_ += size;
  req.release();  // freed in on_write
}

void Stream::on_write(uv_write_t* r, int status) {
  std::unique_ptr<WriteRequest> req(static_cast<WriteRequest*>(r->data));
  Stream* self = req->stream;
  self->pending_write_bytes_ -= req->data.size();
  if (status == UV_ECANCELED) {
    return;  // closing
  }
  if (status != 0) {
    self->fail(uv_strerror(status));
    if (self->close_after_flush_) {
      self->close();
    }
    return;
  }
  if (self->close_after_flush_ && self->pending_write_bytes_ == 0) {
    self->close();
    return;
  }
  self->handler_.on_write_done(*self);
}

void Stream::on_connect(uv_connect_t* req, int status) {
  auto* self = static_cast<Stream*>(req->data);
  if (status == UV_ECANCELED) {
    return;
  }
  self->handler_.on_connected(*self, status);
}

bool Stream::start_tls_server(SSL_CTX* ctx) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) {
    return false;
  }
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_accept_state(ssl_);
  // Whatever the client sent after its SSLRequest is already TLS (often its ClientHello, read
  // together with the request): run the handshake on it now rather than wait for another read.
  if (in_end_ > in_begin_) {
    BIO_write(rbio_, in_.data() + in_begin_, static_cast<int>(in_end_ - in_begin_));
    in_begin_ = in_end_ = 0;
    process_tls_input();
  }
  return !failed_;
}

bool Stream::start_tls_client(SSL_CTX* ctx, const std::string& host, bool verify) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) {
    return false;
  }
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_connect_state(ssl_);
  if (is_ip_literal(host)) {
    if (verify) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
    }
  } else {
    SSL_set_tlsext_host_name(ssl_, host.c_str());
    if (verify) {
      SSL_set1_host(ssl_, host.c_str());
    }
  }
  pump_tls();
  return !failed_;
}

std::string Stream::tls_cipher() const {
  return ssl_ != nullptr ? SSL_get_cipher_name(ssl_) : "";
}

std::string Stream::tls_version() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

void Stream::fail(std::string_view what) {
  if (failed_ || closing_) {
    return;
  }
  failed_ = true;
  stop_reading();
  handler_.on_stream_error(*this, what);
}

void Stream::end_of_input(std::string_view what) {
  if (!half_close_) {
    fail(what);
    return;
  }
  if (failed_ || closing_ || peer_eof_) {
    return;
  }
  peer_eof_ = true;
  stop_reading();
  handler_.on_peer_eof(*this);
}

void Stream::shutdown_write() {
  if (closing_ || failed_ || shutdown_requested_) {
    return;
  }
  shutdown_requested_ = true;
  if (ssl_ != nullptr && handshake_done_) {
    SSL_shutdown(ssl_);
    flush_tls_output();
  }
  // libuv sends the FIN after the writes queued before it.
  const int rc = uv_shutdown(&shutdown_req_, handle(), &Stream::on_shutdown);
  if (rc != 0) {
    fail(uv_strerror(rc));
  }
}

void Stream::on_shutdown(uv_shutdown_t* req, int status) {
  auto* self = static_cast<Stream*>(req->data);
  if (status != 0 && status != UV_ECANCELED) {
    self->fail(uv_strerror(status));
  }
}

void Stream::close() {
  if (closing_) {
    return;
  }
  stop_reading();
  closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &Stream::on_close);
}

void Stream::close_after_flush() {
  if (pending_write_bytes_ == 0 || failed_) {
    close();
  } else {
    close_after_flush_ = true;
    stop_reading();
  }
}

void Stream::on_close(uv_handle_t* h) {
  auto* self = static_cast<Stream*>(h->data);
  self->handler_.on_closed(*self);
}

std::string Stream::peer_address() const {
  sockaddr_storage addr{};
  int len = sizeof(addr);
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "?";
  }
  char ip[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    uv_ip6_name(a, ip, sizeof(ip));
    port = ntohs(a->sin6_port);
    return "[" + std::string(ip) + "]:" + std::to_string(port);
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&addr);
  uv_ip4_name(a, ip, sizeof(ip));
  port = ntohs(a->sin_port);
  return std::string(ip) + ":" + std::to_string(port);
}

}  // namespace replproxy::proxy
