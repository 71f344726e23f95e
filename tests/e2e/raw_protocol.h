#pragma once

// Raw MySQL-protocol I/O on a socket, for what a well-behaved client library will not send:
// malformed frames, unknown commands, bytes glued together in one segment. Works on blocking and
// non-blocking sockets alike (every wait goes through poll).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace replproxy::e2e {

using namespace std::chrono_literals;

// A frame: 3-byte little-endian payload length, sequence id, payload.
std::string frame(uint8_t sequence_id, std::string_view payload);

// Sends all of BYTES in one send() where the kernel allows it; false on error or a 5 s stall.
bool send_all(int fd, std::string_view bytes);

enum class ReadStatus { ok, eof, timeout };

// Reads exactly N bytes into OUT.
ReadStatus read_exact(int fd, size_t n, std::string& out, std::chrono::milliseconds timeout);

struct Packet {
  uint8_t sequence_id = 0;
  std::string payload;
};

ReadStatus read_packet(int fd, Packet& packet, std::chrono::milliseconds timeout = 5s);

// Reads until the peer closes; every packet before that must be an ERR packet. "" when the
// connection closed as expected, else what happened instead.
std::string expect_closed(int fd);

// A blocking TCP connection to 127.0.0.1:PORT, or -1.
int connect_raw(int port);

// The error code of an ERR packet, 0 for anything else.
uint16_t err_code(const Packet& p);

}  // namespace replproxy::e2e
