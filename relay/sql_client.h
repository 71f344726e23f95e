#pragma once

// The client side of the MySQL protocol over a relay Channel, with the codec: the login
// (mysql_native_password, optional TLS) and text queries. The relay's upstream link uses it to
// log in to the primary as a replica and to run its setup queries.

#include <openssl/ssl.h>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "protocol/handshake.h"
#include "protocol/resultset.h"
#include "relay/channel.h"

namespace replproxy::relay {

struct LoginOptions {
  std::string user;
  std::string password;
  SSL_CTX* tls = nullptr;   // non-null: TLS is required (a server without it is an error)
  std::string verify_host;  // checked against the certificate when the context verifies
  int timeout_ms = 10000;
};

struct QueryResult {
  std::vector<std::string> columns;    // empty for an OK
  std::vector<protocol::TextRow> rows;
};

class SqlClient {
 public:
  explicit SqlClient(Channel& channel) : channel_(channel) {}

  // Reads the greeting and logs in. The error says what failed ("access denied: <the server's
  // message>", "TLS handshake failed: ...").
  std::expected<void, std::string> login(const LoginOptions& options);
  const protocol::InitialHandshake& greeting() const { return greeting_; }
  uint64_t capabilities() const { return capabilities_; }

  // A text query; an ERR from the server is an error "ERROR <code>: <message>".
  std::expected<QueryResult, std::string> query(const std::string& sql, int timeout_ms = 10000);
  // The first row's first value of a query, or nullopt when it returns no row or NULL.
  std::expected<std::optional<std::string>, std::string> query_value(const std::string& sql);
  // Sends a command packet (sequence id 0) and reads the OK; an ERR is an error.
  std::expected<void, std::string> command_ok(const protocol::Bytes& payload, int timeout_ms = 10000);

 private:
  std::expected<Packet, std::string> read(int timeout_ms);

  Channel& channel_;
  protocol::InitialHandshake greeting_;
  uint64_t capabilities_ = 0;
};

}  // namespace replproxy::relay
