#include "protocol/connect_attributes.h"

namespace replproxy::protocol {

Result<ConnectAttributes> decode_connect_attributes(std::string_view block) {
  Reader pairs(as_bytes(block));
  ConnectAttributes attributes;
  while (!pairs.empty()) {
    auto key = pairs.lenenc_string();
    if (!key) {
      return fail(CodecErrc::invalid_input);
    }
    auto value = pairs.lenenc_string();
    if (!value) {
      return fail(CodecErrc::invalid_input);
    }
    attributes.emplace_back(std::string(*key), std::string(*value));
  }
  return attributes;
}

void encode_connect_attributes(const ConnectAttributes& attributes, Writer& w) {
  size_t total = 0;
  for (const auto& [key, value] : attributes) {
    total +=
        lenenc_int_size(key.size()) + key.size() + lenenc_int_size(value.size()) + value.size();
  }
  w.lenenc_int(total);
  for (const auto& [key, value] : attributes) {
    w.lenenc_string(key).lenenc_string(value);
  }
}

}  // namespace replproxy::protocol
