#pragma once

// `replproxy --ping HOST:PORT`: is a MySQL server (replproxy's own client or admin port, or a
// backend) answering? It connects, reads the server's greeting (Initial Handshake v10) and
// closes without logging in, so it needs no account: what a container HEALTHCHECK or a
// Kubernetes probe runs. A blocking POSIX-socket client, which is fine for a command-line tool
// that does one thing and exits; it never runs inside the proxy's event loops.

#include <chrono>
#include <cstdint>
#include <expected>
#include <ostream>
#include <string>
#include <string_view>

#include "config/config.h"

namespace replproxy::proxy {

inline constexpr std::chrono::milliseconds kPingTimeout{3000};

// What the greeting said.
struct PingReply {
  std::string server_version;
  uint32_t connection_id = 0;
};

// Resolves `target`, connects and reads the greeting, all within `timeout`. On failure, the
// reason: the resolver's or the socket's error, a timeout, an ERR the server sent instead of a
// greeting (e.g. 1040 when max_connections is reached), or a malformed greeting.
std::expected<PingReply, std::string> ping(const config::Address& target,
                                           std::chrono::milliseconds timeout);

// The --ping command: parses HOST:PORT and pings it. Writes one line, to `out` when the server
// greeted ("HOST:PORT: ok (server version V, connection id N)") and to `err` otherwise
// ("HOST:PORT: REASON"). Returns the exit status: 0 when the server greeted, 1 otherwise.
int ping_command(std::string_view target, std::chrono::milliseconds timeout, std::ostream& out,
                 std::ostream& err);

}  // namespace replproxy::proxy
