#pragma once

// The server side of the connection phase, shared by the client port and the admin port: the
// greeting with a fresh nonce, reading the client's answer (an SSLRequest or a
// HandshakeResponse41), and the switch to mysql_native_password for a client that offers another
// plugin. What to do with the answer (TLS, which accounts, what follows) is the session's.

#include <cstdint>
#include <optional>
#include <string>

#include "protocol/handshake.h"
#include "protocol/wire.h"
#include "proxy/stream.h"

namespace replproxy::proxy {

class ServerHandshake {
 public:
  enum class Reply { incomplete, malformed, ssl_request, response };

  // The framed greeting (sequence id 0); `sequence_id` becomes the one the answer must carry.
  protocol::Bytes greeting(std::string server_version, uint32_t connection_id,
                           uint64_t capabilities, uint8_t& sequence_id);
  // Reads and consumes the client's answer to the greeting from `stream`.
  Reply read_reply(Stream& stream, uint8_t& sequence_id, protocol::HandshakeResponse& response);
  // An AuthSwitchRequest to mysql_native_password with the greeting's nonce.
  protocol::Bytes auth_switch_request(uint8_t& sequence_id) const;
  // The client's answer to the switch (its scramble); nullopt while incomplete or, with
  // `malformed` set, when it cannot be read.
  std::optional<std::string> read_auth_switch_reply(Stream& stream, uint8_t& sequence_id,
                                                    bool& malformed);

  const std::string& nonce() const { return nonce_; }
  uint64_t capabilities() const { return capabilities_; }

 private:
  std::string nonce_;
  uint64_t capabilities_ = 0;
};

}  // namespace replproxy::proxy
