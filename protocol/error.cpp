#include "protocol/error.h"

#include <string>

namespace replproxy::protocol {
namespace {

class CodecCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "replproxy.codec"; }
  std::string message(int ev) const override {
    switch (static_cast<CodecErrc>(ev)) {
      case CodecErrc::not_enough_input:
        return "not enough input";
      case CodecErrc::invalid_input:
        return "invalid input";
      case CodecErrc::sequence_mismatch:
        return "packet sequence id out of order";
      case CodecErrc::unsupported:
        return "unsupported message";
    }
    return "unknown codec error";
  }
};

}  // namespace

const std::error_category& codec_category() noexcept {
  static const CodecCategory category;
  return category;
}

}  // namespace replproxy::protocol
