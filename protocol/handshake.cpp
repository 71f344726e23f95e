#include "protocol/handshake.h"

#include <algorithm>

#include "protocol/connect_attributes.h"
#include "protocol/constants.h"
#include "protocol/field_reader.h"

namespace replproxy::protocol {
namespace {

constexpr uint8_t kProtocolVersion10 = 10;
constexpr size_t kNoncePart1Size = 8;
// auth_plugin_data_part_2 is at least 13 bytes: 12 bytes of nonce and a NUL.
constexpr size_t kMinNoncePart2Size = 13;
constexpr size_t kHandshakeReservedSize = 6;
constexpr size_t kResponseFillerSize = 19;
constexpr uint8_t kAuthSwitchHeader = 0xfe;
constexpr uint8_t kAuthMoreDataHeader = 0x01;

// The MariaDB extended capabilities travel in a field that MySQL fills with zeros; a peer says it
// is MySQL (and the field is to be ignored) by setting CLIENT_MYSQL.
uint64_t with_extended_capabilities(uint32_t low, uint32_t extended) {
  if (low & cap::kLongPassword) {
    return low;
  }
  return low | (static_cast<uint64_t>(extended) << 32);
}

uint32_t extended_capabilities(uint64_t capabilities) {
  if (capabilities & cap::kLongPassword) {
    return 0;
  }
  return static_cast<uint32_t>(capabilities >> 32);
}

// Width of auth_plugin_data_part_2 on the wire, NUL included.
size_t nonce_part2_width(uint64_t capabilities, uint8_t auth_plugin_data_len) {
  if (!(capabilities & cap::kPluginAuth) || auth_plugin_data_len <= kNoncePart1Size) {
    return kMinNoncePart2Size;
  }
  return std::max<size_t>(kMinNoncePart2Size, auth_plugin_data_len - kNoncePart1Size);
}

// Reads auth_plugin_data_part_2 and returns it without its trailing NUL.
std::string_view read_nonce_part2(FieldReader& f, size_t width) {
  std::string_view part2 = f.fixed_string(width);
  if (f.failed()) {
    return {};
  }
  if (part2.back() != '\0') {
    f.fail(CodecErrc::invalid_input);
    return {};
  }
  part2.remove_suffix(1);
  return part2;
}

}  // namespace

Result<InitialHandshake> decode_initial_handshake(ByteView payload) {
  FieldReader f(payload);
  InitialHandshake msg;
  if (f.u8() != kProtocolVersion10) {
    f.fail(CodecErrc::invalid_input);
  }
  msg.server_version = f.nul_string();
  msg.connection_id = f.u32();
  msg.auth_plugin_data = f.fixed_string(kNoncePart1Size);
  f.skip(1);  // filler
  uint32_t low = f.u16();
  msg.character_set = f.u8();
  msg.status_flags = f.u16();
  low |= static_cast<uint32_t>(f.u16()) << 16;
  const uint8_t auth_plugin_data_len = f.u8();
  f.skip(kHandshakeReservedSize);
  msg.capabilities = with_extended_capabilities(low, f.u32());
  if (msg.capabilities & cap::kSecureConnection) {
    msg.auth_plugin_data +=
        read_nonce_part2(f, nonce_part2_width(msg.capabilities, auth_plugin_data_len));
  }
  if (msg.capabilities & cap::kPluginAuth) {
    msg.auth_plugin_name = f.nul_string();
  }
  f.expect_end();
  return f.finish(std::move(msg));
}

void encode_initial_handshake(const InitialHandshake& msg, Bytes& out) {
  const uint64_t caps = msg.capabilities;
  std::string part1 = msg.auth_plugin_data.substr(0, kNoncePart1Size);
  part1.resize(kNoncePart1Size, '\0');
  std::string part2 = msg.auth_plugin_data.size() > kNoncePart1Size
                          ? msg.auth_plugin_data.substr(kNoncePart1Size)
                          : std::string();
  // Without CLIENT_PLUGIN_AUTH there is no length byte and part 2 has its minimum width.
  const size_t part2_width = (caps & cap::kPluginAuth)
                                 ? std::max(kMinNoncePart2Size, part2.size() + 1)
                                 : kMinNoncePart2Size;
  part2.resize(part2_width - 1, '\0');
  const uint8_t auth_plugin_data_len =
      (caps & cap::kPluginAuth)
          ? static_cast<uint8_t>(std::min<size_t>(0xff, kNoncePart1Size + part2_width))
          : 0;

  Writer w(out);
  w.u8(kProtocolVersion10)
      .nul_string(msg.server_version)
      .u32(msg.connection_id)
      .raw(part1)
      .u8(0)
      .u16(static_cast<uint16_t>(caps))
      .u8(msg.character_set)
      .u16(msg.status_flags)
      .u16(static_cast<uint16_t>(caps >> 16))
      .u8(auth_plugin_data_len)
      .zeros(kHandshakeReservedSize)
      .u32(extended_capabilities(caps));
  if (caps & cap::kSecureConnection) {
    w.raw(part2).u8(0);
  }
  if (caps & cap::kPluginAuth) {
    w.nul_string(msg.auth_plugin_name);
  }
}

bool is_ssl_request(ByteView payload) {
  if (payload.size() != kSslRequestSize) {
    return false;
  }
  Reader r(payload);
  auto caps = r.u32();
  return caps && (*caps & cap::kSsl);
}

namespace {

// The first 32 bytes shared by SSLRequest and HandshakeResponse41.
struct ResponsePrefix {
  uint64_t capabilities = 0;
  uint32_t max_packet_size = 0;
  uint8_t character_set = 0;
};

ResponsePrefix read_response_prefix(FieldReader& f) {
  ResponsePrefix p;
  const uint32_t low = f.u32();
  p.max_packet_size = f.u32();
  p.character_set = f.u8();
  f.skip(kResponseFillerSize);
  p.capabilities = with_extended_capabilities(low, f.u32());
  if (!(p.capabilities & cap::kProtocol41)) {
    f.fail(CodecErrc::invalid_input);  // HandshakeResponse320 is not supported
  }
  return p;
}

void write_response_prefix(const ResponsePrefix& p, Writer& w) {
  w.u32(static_cast<uint32_t>(p.capabilities))
      .u32(p.max_packet_size)
      .u8(p.character_set)
      .zeros(kResponseFillerSize)
      .u32(extended_capabilities(p.capabilities));
}

}  // namespace

Result<SslRequest> decode_ssl_request(ByteView payload) {
  FieldReader f(payload);
  const ResponsePrefix p = read_response_prefix(f);
  if (!(p.capabilities & cap::kSsl)) {
    f.fail(CodecErrc::invalid_input);
  }
  f.expect_end();
  return f.finish(SslRequest{p.capabilities, p.max_packet_size, p.character_set});
}

void encode_ssl_request(const SslRequest& msg, Bytes& out) {
  Writer w(out);
  write_response_prefix({msg.capabilities, msg.max_packet_size, msg.character_set}, w);
}

Result<HandshakeResponse> decode_handshake_response(ByteView payload) {
  FieldReader f(payload);
  const ResponsePrefix p = read_response_prefix(f);
  HandshakeResponse msg{p.capabilities, p.max_packet_size, p.character_set};
  const uint64_t caps = msg.capabilities;
  msg.username = f.nul_string();
  if (caps & cap::kPluginAuthLenencClientData) {
    msg.auth_response = f.lenenc_string();
  } else if (caps & cap::kSecureConnection) {
    msg.auth_response = f.fixed_string(f.u8());
  } else {
    msg.auth_response = f.nul_string();
  }
  if (caps & cap::kConnectWithDb) {
    msg.database = f.nul_string();
  }
  if (caps & cap::kPluginAuth) {
    msg.auth_plugin_name = f.nul_string();
  }
  if (caps & cap::kConnectAttrs) {
    std::string_view block = f.lenenc_string();
    if (!f.failed()) {
      msg.attributes = f.take(decode_connect_attributes(block));
    }
  }
  f.expect_end();
  return f.finish(std::move(msg));
}

void encode_handshake_response(const HandshakeResponse& msg, Bytes& out) {
  const uint64_t caps = msg.capabilities;
  Writer w(out);
  write_response_prefix({caps, msg.max_packet_size, msg.character_set}, w);
  w.nul_string(msg.username);
  if (caps & cap::kPluginAuthLenencClientData) {
    w.lenenc_string(msg.auth_response);
  } else if (caps & cap::kSecureConnection) {
    // A one-byte length: a longer response cannot be sent without the lenenc capability.
    const std::string_view auth = std::string_view(msg.auth_response).substr(0, 0xff);
    w.u8(static_cast<uint8_t>(auth.size())).raw(auth);
  } else {
    w.nul_string(msg.auth_response);
  }
  if (caps & cap::kConnectWithDb) {
    w.nul_string(msg.database);
  }
  if (caps & cap::kPluginAuth) {
    w.nul_string(msg.auth_plugin_name);
  }
  if (caps & cap::kConnectAttrs) {
    encode_connect_attributes(msg.attributes, w);
  }
}

Result<AuthSwitchRequest> decode_auth_switch_request(ByteView payload) {
  FieldReader f(payload);
  if (f.u8() != kAuthSwitchHeader) {
    f.fail(CodecErrc::invalid_input);
  }
  AuthSwitchRequest msg;
  msg.plugin_name = f.nul_string();
  std::string_view data = f.rest_string();
  if (msg.plugin_name == kNativePasswordPlugin && !data.empty() && data.back() == '\0') {
    data.remove_suffix(1);
  }
  msg.plugin_data = data;
  return f.finish(std::move(msg));
}

void encode_auth_switch_request(const AuthSwitchRequest& msg, Bytes& out) {
  Writer w(out);
  w.u8(kAuthSwitchHeader).nul_string(msg.plugin_name).raw(msg.plugin_data);
  if (msg.plugin_name == kNativePasswordPlugin) {
    w.u8(0);
  }
}

Result<AuthMoreData> decode_auth_more_data(ByteView payload) {
  FieldReader f(payload);
  if (f.u8() != kAuthMoreDataHeader) {
    f.fail(CodecErrc::invalid_input);
  }
  AuthMoreData msg;
  msg.data = f.rest_string();
  return f.finish(std::move(msg));
}

void encode_auth_more_data(const AuthMoreData& msg, Bytes& out) {
  Writer w(out);
  w.u8(kAuthMoreDataHeader).raw(msg.data);
}

}  // namespace replproxy::protocol
