#pragma once

// The server side of the connection phase on the relay's replica port, over a blocking Channel:
// the greeting (the connection id in it is the one KILL names), TLS when the replica asks for it
// (or must), mysql_native_password against [[relay.users]] (with an auth switch for a client that
// offers another plugin), then OK or ERR 1045 as a MariaDB primary answers.

#include <openssl/ssl.h>

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

#include "config/config.h"
#include "relay/channel.h"

namespace replproxy::relay {

struct ReplicaLoginOptions {
  std::string server_version;  // as sent in the greeting ("5.5.5-10.11.0-MariaDB-replproxy")
  uint32_t connection_id = 0;
  const std::vector<config::User>* users = nullptr;
  SSL_CTX* tls = nullptr;  // null: TLS not offered
  bool require_tls = false;
  int timeout_ms = 10000;
};

struct ReplicaLogin {
  std::string user;
  uint64_t capabilities = 0;  // what both sides support
};

// Runs the connection phase. On a refused login the ERR has been sent already; the error text is
// for the log.
std::expected<ReplicaLogin, std::string> serve_replica_login(Channel& channel,
                                                             const ReplicaLoginOptions& options);

}  // namespace replproxy::relay
