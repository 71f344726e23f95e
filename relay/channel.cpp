#include "relay/channel.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstring>

#include "protocol/packet.h"
#include "proxy/tls.h"

namespace replproxy::relay {
namespace {

using Clock = std::chrono::steady_clock;

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// Milliseconds left until `deadline`, for poll(); -1 stays "no limit".
int remaining_ms(int timeout_ms, Clock::time_point deadline) {
  if (timeout_ms < 0) {
    return -1;
  }
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

std::string errno_text(int err) { return std::strerror(err); }

std::string address_text(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {};
  uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "?";
}

}  // namespace

Channel::Channel(int fd) : fd_(fd) {
  set_nonblocking(fd_);
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

Channel::~Channel() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::expected<std::unique_ptr<Channel>, std::string> Channel::connect(
    const config::Address& address, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(address.port);
  if (const int rc = getaddrinfo(address.host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return std::unexpected("cannot resolve " + address.host + ": " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = errno_text(errno);
      continue;
    }
    auto channel = std::make_unique<Channel>(fd);
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = errno_text(errno);
      continue;
    }
    if (auto waited = channel->wait_io(true, remaining_ms(timeout_ms, deadline)); !waited) {
      last_error = waited.error();
      continue;
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last_error = errno_text(err);
      continue;
    }
    freeaddrinfo(found);
    return channel;
  }
  freeaddrinfo(found);
  return std::unexpected("cannot connect to " + address.to_string() + ": " + last_error);
}

std::expected<void, std::string> Channel::wait_io(bool want_write, int timeout_ms) {
  pollfd p{fd_, static_cast<short>(want_write ? POLLOUT : POLLIN), 0};
  for (;;) {
    const int rc = ::poll(&p, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    if (rc < 0) {
      return std::unexpected(errno_text(errno));
    }
    if (rc == 0) {
      return std::unexpected(std::string("timed out"));
    }
    return {};
  }
}

std::expected<void, std::string> Channel::start_tls_client(SSL_CTX* ctx,
                                                           const std::string& verify_host,
                                                           int timeout_ms) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) {
    return std::unexpected("TLS: " + proxy::take_openssl_errors());
  }
  SSL_set_fd(ssl_, fd_);
  in6_addr ip6{};
  in_addr ip4{};
  const bool is_ip = inet_pton(AF_INET, verify_host.c_str(), &ip4) == 1 ||
                     inet_pton(AF_INET6, verify_host.c_str(), &ip6) == 1;
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), verify_host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, verify_host.c_str());
    SSL_set1_host(ssl_, verify_host.c_str());
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const int rc = SSL_connect(ssl_);
    if (rc == 1) {
      return {};
    }
    const int err = SSL_get_error(ssl_, rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      std::string why = proxy::take_openssl_errors();
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        why = X509_verify_cert_error_string(verify);
      }
      return std::unexpected("TLS handshake failed: " + why);
    }
    if (auto w = wait_io(err == SSL_ERROR_WANT_WRITE, remaining_ms(timeout_ms, deadline)); !w) {
      return std::unexpected("TLS handshake: " + w.error());
    }
  }
}

std::expected<void, std::string> Channel::start_tls_server(SSL_CTX* ctx, int timeout_ms) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr) {
    return std::unexpected("TLS: " + proxy::take_openssl_errors());
  }
  SSL_set_fd(ssl_, fd_);
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const int rc = SSL_accept(ssl_);
    if (rc == 1) {
      return {};
    }
    const int err = SSL_get_error(ssl_, rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      return std::unexpected("TLS handshake failed: " + proxy::take_openssl_errors());
    }
    if (auto w = wait_io(err == SSL_ERROR_WANT_WRITE, remaining_ms(timeout_ms, deadline)); !w) {
      return std::unexpected("TLS handshake: " + w.error());
    }
  }
}

std::string Channel::cipher() const {
  return ssl_ != nullptr ? SSL_get_cipher_name(ssl_) : "";
}

std::string Channel::peer() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return "?";
  }
  return address_text(ss);
}

void Channel::shutdown() { ::shutdown(fd_, SHUT_RDWR); }

bool Channel::packet_buffered() const {
  const protocol::ByteView view(in_.data() + in_start_, in_.size() - in_start_);
  return protocol::decode_packet(view).has_value();
}

size_t Channel::frame_bytes_missing() const {
  const size_t have = in_.size() - in_start_;
  if (have < 4) {
    return 4 - have;
  }
  const size_t length = in_[in_start_] | (in_[in_start_ + 1] << 8) | (in_[in_start_ + 2] << 16);
  return 4 + length > have ? std::min<size_t>(4 + length - have, 64 * 1024) : 1;
}

std::expected<bool, std::string> Channel::fill(int timeout_ms, int wake_fd, Woken* woken) {
  uint8_t buffer[64 * 1024];
  for (;;) {
    ssize_t n = 0;
    int want = POLLIN;
    if (ssl_ != nullptr) {
      const int rc = SSL_read(ssl_, buffer, sizeof buffer);
      if (rc > 0) {
        n = rc;
      } else {
        const int err = SSL_get_error(ssl_, rc);
        if (err == SSL_ERROR_ZERO_RETURN) {
          return std::unexpected(std::string("the peer closed the connection"));
        }
        if (err == SSL_ERROR_WANT_WRITE) {
          want = POLLOUT;
        } else if (err != SSL_ERROR_WANT_READ) {
          return std::unexpected("TLS read failed: " + proxy::take_openssl_errors());
        }
        n = -1;
        errno = EAGAIN;
      }
    } else {
      n = ::recv(fd_, buffer, exact_reads_ ? frame_bytes_missing() : sizeof buffer, 0);
      if (n == 0) {
        return std::unexpected(std::string("the peer closed the connection"));
      }
    }
    if (n > 0) {
      if (in_start_ > 0 && in_start_ == in_.size()) {
        in_.clear();
        in_start_ = 0;
      }
      in_.insert(in_.end(), buffer, buffer + n);
      return true;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return std::unexpected("read failed: " + errno_text(errno));
    }
    pollfd p[2] = {{fd_, static_cast<short>(want), 0}, {wake_fd, POLLIN, 0}};
    const int rc = ::poll(p, wake_fd >= 0 ? 2 : 1, timeout_ms);
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    if (rc < 0) {
      return std::unexpected("poll failed: " + errno_text(errno));
    }
    if (rc == 0) {
      if (woken != nullptr) {
        *woken = Woken::timeout;
      }
      return false;
    }
    if (wake_fd >= 0 && (p[1].revents & POLLIN) != 0 && (p[0].revents == 0)) {
      if (woken != nullptr) {
        *woken = Woken::wake_fd;
      }
      return false;
    }
  }
}

std::expected<std::optional<Packet>, std::string> Channel::read_packet(int timeout_ms,
                                                                       int wake_fd, Woken* woken) {
  if (woken != nullptr) {
    *woken = Woken::no;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
  for (;;) {
    const protocol::ByteView view(in_.data() + in_start_, in_.size() - in_start_);
    auto decoded = protocol::decode_packet(view);
    if (decoded) {
      Packet packet;
      packet.sequence_id = decoded->first_sequence_id;
      packet.last_sequence_id = decoded->last_sequence_id;
      packet.payload.assign(decoded->payload.begin(), decoded->payload.end());
      in_start_ += decoded->consumed;
      if (in_start_ == in_.size()) {
        in_.clear();
        in_start_ = 0;
      } else if (in_start_ > (1u << 20)) {
        in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(in_start_));
        in_start_ = 0;
      }
      return packet;
    }
    if (decoded.error() != protocol::CodecErrc::not_enough_input) {
      return std::unexpected(std::string("malformed packet framing"));
    }
    auto filled = fill(remaining_ms(timeout_ms, deadline), wake_fd, woken);
    if (!filled) {
      return std::unexpected(filled.error());
    }
    if (!*filled) {
      return std::optional<Packet>{};
    }
  }
}

std::expected<void, std::string> Channel::write(protocol::ByteView bytes, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = 0;
    bool want_write = true;
    const size_t chunk = std::min<size_t>(bytes.size() - done, 1u << 30);
    if (ssl_ != nullptr) {
      const int rc = SSL_write(ssl_, bytes.data() + done, static_cast<int>(chunk));
      if (rc > 0) {
        n = rc;
      } else {
        const int err = SSL_get_error(ssl_, rc);
        if (err == SSL_ERROR_WANT_READ) {
          want_write = false;
        } else if (err != SSL_ERROR_WANT_WRITE) {
          return std::unexpected("TLS write failed: " + proxy::take_openssl_errors());
        }
        n = -1;
        errno = EAGAIN;
      }
    } else {
      n = ::send(fd_, bytes.data() + done, chunk, MSG_NOSIGNAL);
    }
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return std::unexpected("write failed: " + errno_text(errno));
    }
    if (auto w = wait_io(want_write, remaining_ms(timeout_ms, deadline)); !w) {
      return std::unexpected("write: " + w.error());
    }
  }
  return {};
}

std::expected<void, std::string> Channel::write_packet(protocol::ByteView payload,
                                                       uint8_t& sequence_id, int timeout_ms) {
  protocol::Bytes framed;
  framed.reserve(payload.size() + 8);
  sequence_id = protocol::encode_packet(payload, sequence_id, framed);
  return write(framed, timeout_ms);
}

std::expected<int, std::string> listen_tcp(const config::Address& address) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(address.port);
    len = sizeof *in4;
  } else if (inet_pton(AF_INET6, address.host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    len = sizeof *in6;
  } else {
    return std::unexpected("cannot listen on " + address.to_string() + ": not an IP address");
  }
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::unexpected("cannot listen on " + address.to_string() + ": " + errno_text(errno));
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 64) != 0) {
    const int err = errno;
    ::close(fd);
    return std::unexpected("cannot listen on " + address.to_string() + ": " + errno_text(err));
  }
  set_nonblocking(fd);
  return fd;
}

}  // namespace replproxy::relay
