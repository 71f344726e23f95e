#pragma once

// One link of a tunnel: the accepted client stream and the stream to `connect`, as an explicit
// stage machine. The setup stages (connect, the MySQL greeting, the client's handshake response
// held back in plain-to-tls, the SSLRequest, the TLS handshake) run under the tunnel's connect_timeout_ms; a failure there is counted, logged once
// with the tunnel's name and the connection id, and (for protocol = "mysql", when the client can
// still read plaintext) told to the client as an ERR packet. There is never a plaintext
// fallback. Then, for protocol = "mysql", the login stage shifts sequence ids by one; after it
// the link is byte-transparent, back-pressured and propagates half-closes.
//
// Lifetime: owned by its Tunnel; it closes its two streams and its timer, and the last of their
// close callbacks hands it to Tunnel::release(), which frees it.

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "admin/results.h"
#include "proxy/stream.h"

namespace replproxy::relay {

class Tunnel;

class TunnelConnection final : public proxy::Stream::Handler {
 public:
  // Above this many bytes queued towards one side, the other side is no longer read; reading
  // resumes once the queue is below half of it.
  static constexpr size_t kHighWater = 1024 * 1024;

  TunnelConnection(Tunnel& tunnel, uint64_t id);
  ~TunnelConnection() override;

  // Accepts from the listener and starts the setup; on failure the connection closes itself.
  void start(uv_stream_t* listener);
  uint64_t id() const { return id_; }

  // Closes everything at once (the tunnel is shutting down).
  void abort();

 private:
  enum class Stage {
    resolving,           // looking up `connect`
    connecting,          // TCP connect to `connect`
    server_greeting,     // mysql: waiting for the server's greeting
    client_response,     // plain-to-tls mysql: waiting for the client's handshake response
    server_tls,          // plain-to-tls: TLS handshake with the server
    client_ssl_request,  // tls-to-plain mysql: waiting for the client's SSLRequest
    client_tls,          // tls-to-plain: TLS handshake with the client
    login,               // mysql: login packets relayed with shifted sequence ids
    forwarding,          // bytes as they come, both ways
    closing,
  };

  // Stream::Handler, for both streams.
  void on_connected(proxy::Stream& s, int status) override;
  void on_readable(proxy::Stream& s) override;
  void on_tls_ready(proxy::Stream& s) override;
  void on_write_done(proxy::Stream& s) override;
  void on_stream_error(proxy::Stream& s, std::string_view what) override;
  void on_peer_eof(proxy::Stream& s) override;
  void on_closed(proxy::Stream& s) override;

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_timeout(uv_timer_t* timer);
  static void on_timer_closed(uv_handle_t* handle);

  void connect_to(const sockaddr* addr);
  void server_connected();
  void on_server_greeting();
  void on_client_response();
  void on_client_ssl_request();
  void setup_done(Stage next);
  void relay_login_from_client();
  void relay_login_from_server();
  void forward(proxy::Stream& from, proxy::Stream& to);
  void apply_back_pressure(proxy::Stream& from, proxy::Stream& to);

  bool plain_to_tls() const;
  bool mysql() const;
  std::string_view stage_name() const;
  // A setup failure: counted by `reason`, logged, told to the client as an ERR with `code` when
  // it can read one (`code` 0: it cannot), then everything closes.
  void fail(admin::TunnelFailure reason, uint16_t code, const std::string& what);
  void close_all();
  void release_if_closed();

  Tunnel& tunnel_;
  const uint64_t id_;
  Stage stage_ = Stage::resolving;
  std::unique_ptr<proxy::Stream> client_;
  std::unique_ptr<proxy::Stream> server_;
  uv_timer_t timer_;
  uv_getaddrinfo_t resolve_req_;
  bool resolving_ = false;
  bool timer_open_ = true;
  bool failed_ = false;  // counted once
  int open_streams_ = 2;
  bool active_counted_ = false;
  // The sequence id an ERR to the client must carry: 0 before it sent anything, then one more
  // than its last packet's.
  uint8_t err_sequence_ = 0;
  bool first_client_packet_ = true;
  // plain-to-tls mysql: the client's handshake response, held until TLS with the server is up.
  protocol::Bytes response_;
};

}  // namespace replproxy::relay
