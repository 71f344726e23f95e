#pragma once

// Connection attributes (CLIENT_CONNECT_ATTRS), shared by HandshakeResponse41 and
// COM_CHANGE_USER:
//
//   field      width   notes
//   length     lenenc  total length of the pairs that follow
//   key        lenenc  repeated until `length` bytes are used
//   value      lenenc

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/wire.h"

namespace replproxy::protocol {

using ConnectAttributes = std::vector<std::pair<std::string, std::string>>;

// Parses the pairs of a block whose length prefix the caller has already read (so the block is
// complete): a pair that does not fit it is invalid_input.
Result<ConnectAttributes> decode_connect_attributes(std::string_view block);
// Writes the whole block, length prefix included.
void encode_connect_attributes(const ConnectAttributes& attributes, Writer& w);

}  // namespace replproxy::protocol
