#include "proxy/ping.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "protocol/constants.h"
#include "protocol/generic.h"
#include "protocol/handshake.h"
#include "protocol/packet.h"

namespace replproxy::proxy {
namespace {

using Clock = std::chrono::steady_clock;

// A real greeting is about a hundred bytes; a peer that announces more is not a MySQL server, and
// waiting for all of it would only hold the probe until its timeout.
constexpr size_t kMaxGreetingSize = 64 * 1024;

// A socket closed when it goes out of scope.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

struct AddrInfoFree {
  void operator()(addrinfo* list) const { freeaddrinfo(list); }
};

// Rounded up, so that a wait never ends before the deadline.
int millis_left(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits until `fd` is ready for `events`; false on timeout (errno = ETIMEDOUT) or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, millis_left(deadline));
    if (n > 0) {
      return true;
    }
    if (n == 0) {
      errno = ETIMEDOUT;
      return false;
    }
    if (errno != EINTR) {
      return false;
    }
  }
}

// A non-blocking connect to one resolved address; the socket, or the reason it failed.
std::expected<int, std::string> connect_one(const addrinfo& ai, Clock::time_point deadline) {
  const int fd =
      ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) {
    return std::unexpected(std::string("socket: ") + std::strerror(errno));
  }
  Socket owner(fd);
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      return std::unexpected(std::string("connect: ") + std::strerror(errno));
    }
    if (!wait_for(fd, POLLOUT, deadline)) {
      return std::unexpected(errno == ETIMEDOUT ? std::string("connect: timed out")
                                                : std::string("poll: ") + std::strerror(errno));
    }
    int error = 0;
    socklen_t len = sizeof(error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      return std::unexpected(std::string("connect: ") + std::strerror(error));
    }
  }
  return owner.release();
}

// Connects to the first address of `target` that accepts; the last failure otherwise.
std::expected<int, std::string> connect_to(const config::Address& target,
                                           Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(target.port);
  if (const int rc = ::getaddrinfo(target.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    return std::unexpected(std::string("cannot resolve ") + target.host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, AddrInfoFree> owner(list);
  std::string last_error = "no address";
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    auto fd = connect_one(*ai, deadline);
    if (fd) {
      return fd;
    }
    last_error = fd.error();
  }
  return std::unexpected(last_error);
}

// Reads until one whole packet (the greeting, sequence id 0) has arrived.
std::expected<protocol::Bytes, std::string> read_first_packet(int fd, Clock::time_point deadline) {
  protocol::Bytes input;
  uint8_t buffer[4096];
  for (;;) {
    auto packet = protocol::decode_packet(input, 0);
    if (packet) {
      return protocol::Bytes(packet->payload.begin(), packet->payload.end());
    }
    if (packet.error() != protocol::CodecErrc::not_enough_input) {
      return std::unexpected("malformed packet instead of a greeting (" + packet.error().message() +
                             ")");
    }
    if (auto header = protocol::decode_frame_header(input);
        header && header->payload_length > kMaxGreetingSize) {
      return std::unexpected("a " + std::to_string(header->payload_length) +
                             "-byte packet instead of a greeting");
    }
    if (!wait_for(fd, POLLIN, deadline)) {
      return std::unexpected(errno == ETIMEDOUT ? std::string("no greeting before the timeout")
                                                : std::string("poll: ") + std::strerror(errno));
    }
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) {
      return std::unexpected(std::string("connection closed before the greeting"));
    }
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
      return std::unexpected(std::string("recv: ") + std::strerror(errno));
    }
    if (n > 0) {
      input.insert(input.end(), buffer, buffer + n);
    }
  }
}

// A server that will not talk to us sends an ERR instead of a greeting; its SQL state marker is
// optional there, which decoding with CLIENT_PROTOCOL_41 allows for.
std::expected<PingReply, std::string> parse_greeting(protocol::ByteView payload) {
  if (protocol::is_err_payload(payload)) {
    auto err = protocol::decode_err(payload, protocol::cap::kProtocol41);
    if (!err) {
      return std::unexpected(std::string("malformed ERR instead of a greeting"));
    }
    return std::unexpected("server refused the connection: ERROR " +
                           std::to_string(err->error_code) + ": " + err->message);
  }
  auto greeting = protocol::decode_initial_handshake(payload);
  if (!greeting) {
    return std::unexpected(std::string("not a MySQL protocol 10 greeting"));
  }
  return PingReply{greeting->server_version, greeting->connection_id};
}

}  // namespace

std::expected<PingReply, std::string> ping(const config::Address& target,
                                           std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto fd = connect_to(target, deadline);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  Socket socket(*fd);
  auto payload = read_first_packet(socket.get(), deadline);
  if (!payload) {
    return std::unexpected(payload.error());
  }
  return parse_greeting(*payload);
}

int ping_command(std::string_view target, std::chrono::milliseconds timeout, std::ostream& out,
                 std::ostream& err) {
  auto address = config::parse_host_port(target);
  if (!address) {
    err << target << ": " << address.error() << "\n";
    return 1;
  }
  auto reply = ping(*address, timeout);
  if (!reply) {
    err << target << ": " << reply.error() << "\n";
    return 1;
  }
  out << target << ": ok (server version " << reply->server_version << ", connection id "
      << reply->connection_id << ")\n";
  return 0;
}

}  // namespace replproxy::proxy
