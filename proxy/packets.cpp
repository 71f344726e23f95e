#include "proxy/packets.h"

#include <openssl/rand.h>

namespace replproxy::proxy {

void append_err(protocol::Bytes& out, uint8_t sequence_id, uint16_t code,
                std::string_view sql_state, std::string_view message, uint64_t capabilities) {
  protocol::ErrPacket err;
  err.error_code = code;
  err.sql_state = std::string(sql_state);
  err.message = std::string(message);
  const size_t begin = protocol::begin_packet(out);
  protocol::encode_err(err, capabilities, out);
  protocol::finish_packet(out, begin, sequence_id);
}

void append_ok(protocol::Bytes& out, uint8_t sequence_id, uint16_t status_flags,
               uint64_t capabilities) {
  protocol::OkPacket ok;
  ok.status_flags = status_flags;
  const size_t begin = protocol::begin_packet(out);
  protocol::encode_ok(ok, capabilities, out);
  protocol::finish_packet(out, begin, sequence_id);
}

std::string make_nonce() {
  uint8_t raw[20];
  RAND_bytes(raw, sizeof(raw));
  std::string nonce(20, '\0');
  for (size_t i = 0; i < nonce.size(); ++i) {
    nonce[i] = static_cast<char>(33 + raw[i] % 94);
  }
  return nonce;
}

}  // namespace replproxy::proxy
