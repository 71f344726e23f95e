#include "proxy/server_handshake.h"

#include "protocol/constants.h"
#include "protocol/packet.h"
#include "proxy/packets.h"

namespace replproxy::proxy {

protocol::Bytes ServerHandshake::greeting(std::string server_version, uint32_t connection_id,
                                          uint64_t capabilities, uint8_t& sequence_id) {
  nonce_ = make_nonce();
  capabilities_ = capabilities;
  protocol::InitialHandshake greeting;
  greeting.server_version = std::move(server_version);
  greeting.connection_id = connection_id;
  greeting.auth_plugin_data = nonce_;
  greeting.capabilities = capabilities;
  greeting.character_set = protocol::kUtf8mb4GeneralCi;
  greeting.status_flags = protocol::status::kAutocommit;
  greeting.auth_plugin_name = std::string(protocol::kNativePasswordPlugin);
  protocol::Bytes out;
  const size_t begin = protocol::begin_packet(out);
  protocol::encode_initial_handshake(greeting, out);
  sequence_id = protocol::finish_packet(out, begin, 0);
  return out;
}

ServerHandshake::Reply ServerHandshake::read_reply(Stream& stream, uint8_t& sequence_id,
                                                   protocol::HandshakeResponse& response) {
  auto packet = protocol::decode_packet(stream.input(), sequence_id);
  if (!packet) {
    return packet.error() == protocol::CodecErrc::not_enough_input ? Reply::incomplete
                                                                   : Reply::malformed;
  }
  const protocol::Bytes payload(packet->payload.begin(), packet->payload.end());
  sequence_id = static_cast<uint8_t>(packet->last_sequence_id + 1);
  stream.consume(packet->consumed);
  if (protocol::is_ssl_request(payload)) {
    return Reply::ssl_request;
  }
  auto decoded = protocol::decode_handshake_response(payload);
  if (!decoded) {
    return Reply::malformed;
  }
  response = std::move(*decoded);
  return Reply::response;
}

protocol::Bytes ServerHandshake::auth_switch_request(uint8_t& sequence_id) const {
  protocol::Bytes out;
  const size_t begin = protocol::begin_packet(out);
  protocol::encode_auth_switch_request({std::string(protocol::kNativePasswordPlugin), nonce_},
                                       out);
  sequence_id = protocol::finish_packet(out, begin, sequence_id);
  return out;
}

std::optional<std::string> ServerHandshake::read_auth_switch_reply(Stream& stream,
                                                                   uint8_t& sequence_id,
                                                                   bool& malformed) {
  auto packet = protocol::decode_packet(stream.input(), sequence_id);
  if (!packet) {
    malformed = packet.error() != protocol::CodecErrc::not_enough_input;
    return std::nullopt;
  }
  std::string response(protocol::as_chars(packet->payload));
  sequence_id = static_cast<uint8_t>(packet->last_sequence_id + 1);
  stream.consume(packet->consumed);
  return response;
}

}  // namespace replproxy::proxy
