#include "tests/e2e/raw_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace replproxy::e2e {

std::string frame(uint8_t sequence_id, std::string_view payload) {
  std::string out;
  out += static_cast<char>(payload.size() & 0xff);
  out += static_cast<char>((payload.size() >> 8) & 0xff);
  out += static_cast<char>((payload.size() >> 16) & 0xff);
  out += static_cast<char>(sequence_id);
  out += payload;
  return out;
}

bool send_all(int fd, std::string_view bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 5000) <= 0) {
      return false;
    }
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

ReadStatus read_exact(int fd, size_t n, std::string& out, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  out.clear();
  char buf[4096];
  while (out.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return ReadStatus::timeout;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    const ssize_t r = ::recv(fd, buf, std::min(sizeof(buf), n - out.size()), 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      continue;
    }
    if (r <= 0) {
      return ReadStatus::eof;  // orderly close or reset
    }
    out.append(buf, static_cast<size_t>(r));
  }
  return ReadStatus::ok;
}

ReadStatus read_packet(int fd, Packet& packet, std::chrono::milliseconds timeout) {
  std::string header;
  if (auto s = read_exact(fd, 4, header, timeout); s != ReadStatus::ok) {
    return s;
  }
  const size_t len = static_cast<uint8_t>(header[0]) | static_cast<uint8_t>(header[1]) << 8 |
                     static_cast<uint8_t>(header[2]) << 16;
  packet.sequence_id = static_cast<uint8_t>(header[3]);
  return read_exact(fd, len, packet.payload, timeout);
}

std::string expect_closed(int fd) {
  for (int i = 0; i < 4; ++i) {
    Packet p;
    const ReadStatus s = read_packet(fd, p);
    if (s == ReadStatus::eof) {
      return "";
    }
    if (s == ReadStatus::timeout) {
      return "the connection is still open after 5 s";
    }
    if (p.payload.empty() || static_cast<uint8_t>(p.payload[0]) != 0xff) {
      return "a non-ERR packet came back instead of the connection closing";
    }
  }
  return "more than 4 ERR packets";
}

int connect_raw(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t err_code(const Packet& p) {
  if (p.payload.size() < 3 || static_cast<uint8_t>(p.payload[0]) != 0xff) {
    return 0;
  }
  return static_cast<uint16_t>(static_cast<uint8_t>(p.payload[1]) |
                               static_cast<uint8_t>(p.payload[2]) << 8);
}

}  // namespace replproxy::e2e
