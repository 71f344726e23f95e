#pragma once

// Connection phase messages: Initial Handshake v10, SSLRequest, HandshakeResponse41,
// AuthSwitchRequest, AuthMoreData. Decoders take a whole payload and reject bytes left over;
// encoders append the payload only: frame it with encode_packet() or begin/finish_packet().

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "protocol/wire.h"

namespace replproxy::protocol {

// Initial Handshake Packet, protocol version 10 (server -> client).
//
//   field                     width        condition
//   protocol_version          1            always 10
//   server_version            string<NUL>
//   connection_id             4
//   auth_plugin_data_part_1   8
//   filler                    1            0x00
//   capability_flags (low 16) 2
//   character_set             1
//   status_flags              2
//   capability_flags (hi 16)  2
//   auth_plugin_data_len      1            0 unless CLIENT_PLUGIN_AUTH
//   reserved                  6            zeros
//   mariadb_ext_capabilities  4            capabilities >> 32 (0 when CLIENT_MYSQL is set)
//   auth_plugin_data_part_2   max(13, auth_plugin_data_len - 8)   CLIENT_SECURE_CONNECTION
//   auth_plugin_name          string<NUL>  CLIENT_PLUGIN_AUTH
//
// The 20-byte scramble is part_1 + the first 12 bytes of part_2 (part_2 ends with a NUL; a part_2
// without it is invalid_input). The extended capabilities are read only when CLIENT_MYSQL (bit 0)
// is unset; with it set the upper 32 bits decode as 0 and encode as zeros.
struct InitialHandshake {
  std::string server_version;
  uint32_t connection_id = 0;
  std::string auth_plugin_data;  // the whole nonce, normally 20 bytes, without the trailing NUL
  uint64_t capabilities = 0;
  uint8_t character_set = 0;
  uint16_t status_flags = 0;
  std::string auth_plugin_name;

  bool operator==(const InitialHandshake&) const = default;
};
Result<InitialHandshake> decode_initial_handshake(ByteView payload);
void encode_initial_handshake(const InitialHandshake& msg, Bytes& out);

// HandshakeResponse41 (client -> server); an SSLRequest is its first 32 bytes.
//
//   field              width        condition
//   client_flag        4            low 32 capability bits
//   max_packet_size    4
//   character_set      1
//   filler             19           zeros
//   mariadb_ext_caps   4            capabilities >> 32 (zeros for MySQL)
//   -- an SSLRequest ends here (32 bytes) --
//   username           string<NUL>
//   auth_response      lenenc       CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
//                      1 + n        else CLIENT_SECURE_CONNECTION
//                      string<NUL>  else
//   database           string<NUL>  CLIENT_CONNECT_WITH_DB
//   client_plugin_name string<NUL>  CLIENT_PLUGIN_AUTH
//   attributes         lenenc total length, then lenenc key / lenenc value pairs
//                                   CLIENT_CONNECT_ATTRS
struct HandshakeResponse {
  uint64_t capabilities = 0;
  uint32_t max_packet_size = 0;
  uint8_t character_set = 0;
  std::string username;
  std::string auth_response;
  std::string database;
  std::string auth_plugin_name;
  std::vector<std::pair<std::string, std::string>> attributes;

  bool operator==(const HandshakeResponse&) const = default;
};

struct SslRequest {
  uint64_t capabilities = 0;
  uint32_t max_packet_size = 0;
  uint8_t character_set = 0;

  bool operator==(const SslRequest&) const = default;
};

inline constexpr size_t kSslRequestSize = 32;

// A 32-byte payload with CLIENT_SSL is an SSLRequest; anything longer is a HandshakeResponse41.
bool is_ssl_request(ByteView payload);
Result<SslRequest> decode_ssl_request(ByteView payload);
void encode_ssl_request(const SslRequest& msg, Bytes& out);
Result<HandshakeResponse> decode_handshake_response(ByteView payload);
void encode_handshake_response(const HandshakeResponse& msg, Bytes& out);

// AuthSwitchRequest (server -> client): 0xfe, plugin name string<NUL>, plugin data string<EOF>.
// For mysql_native_password the data is the 20-byte nonce followed by a NUL, which is stripped
// on decode and added on encode for that plugin only.
struct AuthSwitchRequest {
  std::string plugin_name;
  std::string plugin_data;

  bool operator==(const AuthSwitchRequest&) const = default;
};
Result<AuthSwitchRequest> decode_auth_switch_request(ByteView payload);
void encode_auth_switch_request(const AuthSwitchRequest& msg, Bytes& out);

// AuthMoreData (server -> client): 0x01, data string<EOF>.
struct AuthMoreData {
  std::string data;

  bool operator==(const AuthMoreData&) const = default;
};
Result<AuthMoreData> decode_auth_more_data(ByteView payload);
void encode_auth_more_data(const AuthMoreData& msg, Bytes& out);

}  // namespace replproxy::protocol
