#pragma once

// A connected TCP socket, plaintext or TLS, for the relay's threads (the upstream link and the
// replicas' dump connections). Those links are few and long-lived and each has a thread of its
// own, like a MariaDB server's dump threads; the channel uses a non-blocking descriptor with
// poll(), so that every wait has a deadline and can be cut short by a wake descriptor (an eventfd
// the store or the syncer writes to) or by shutdown() from another thread.
//
// One thread reads and writes a channel; only shutdown() may be called from another.

#include <openssl/ssl.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "protocol/wire.h"

namespace replproxy::relay {

struct Packet {
  uint8_t sequence_id = 0;       // of its first frame
  uint8_t last_sequence_id = 0;  // of its last frame (the next packet carries this + 1)
  protocol::Bytes payload;       // frames joined
};

class Channel {
 public:
  // Takes ownership of a connected socket (made non-blocking here).
  explicit Channel(int fd);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Resolves `address` and connects within `timeout_ms`.
  static std::expected<std::unique_ptr<Channel>, std::string> connect(const config::Address& address,
                                                                      int timeout_ms);

  // TLS on the connected socket, within `timeout_ms`. Client side: `verify_host` is checked
  // against the certificate when the context verifies (an IP literal as an IP).
  std::expected<void, std::string> start_tls_client(SSL_CTX* ctx, const std::string& verify_host,
                                                    int timeout_ms);
  std::expected<void, std::string> start_tls_server(SSL_CTX* ctx, int timeout_ms);
  bool tls() const { return ssl_ != nullptr; }
  std::string cipher() const;

  enum class Woken : uint8_t { no, timeout, wake_fd };
  // The next whole logical packet. Waits up to `timeout_ms` (-1: no limit) and returns early
  // when `wake_fd` (>= 0) becomes readable; then the result holds no packet and `woken` says why.
  // An error for a closed or failed connection (the message says which).
  std::expected<std::optional<Packet>, std::string> read_packet(int timeout_ms, int wake_fd = -1,
                                                                Woken* woken = nullptr);
  // Plaintext reads stop at the end of the frame being read, so that nothing after it is taken
  // off the socket: a server must leave the TLS ClientHello that follows an SSLRequest (often in
  // the same segment) to OpenSSL.
  void set_exact_reads(bool on) { exact_reads_ = on; }
  // True when a whole packet is already buffered (read_packet would not wait).
  bool packet_buffered() const;

  // Writes every byte within `timeout_ms`.
  std::expected<void, std::string> write(protocol::ByteView bytes, int timeout_ms);
  // Frames `payload` from `sequence_id` (which becomes the next id) and writes it.
  std::expected<void, std::string> write_packet(protocol::ByteView payload, uint8_t& sequence_id,
                                                int timeout_ms);

  // From any thread: makes every wait of the owning thread return with an error.
  void shutdown();
  int fd() const { return fd_; }
  // "host:port" of the peer.
  std::string peer() const;

 private:
  // Reads what is there (at most one poll wait); false on timeout or wake.
  std::expected<bool, std::string> fill(int timeout_ms, int wake_fd, Woken* woken);
  std::expected<void, std::string> wait_io(bool want_write, int timeout_ms);
  size_t frame_bytes_missing() const;

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  protocol::Bytes in_;
  size_t in_start_ = 0;
  bool exact_reads_ = false;
};

// A listening TCP socket (blocking accept with poll, so that stop can interrupt it).
std::expected<int, std::string> listen_tcp(const config::Address& address);

}  // namespace replproxy::relay
