#include "protocol/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

namespace replproxy::protocol {
namespace {

constexpr size_t kNativeNonceSize = 20;
constexpr size_t kHashTextSize = 1 + 2 * std::tuple_size_v<Sha1Digest>;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// MariaDB sends the 20-byte nonce followed by a NUL; only the 20 bytes take part in the hash.
ByteView native_nonce(std::string_view nonce) {
  return as_bytes(nonce.substr(0, kNativeNonceSize));
}

Sha1Digest xor_digests(const Sha1Digest& a, const Sha1Digest& b) {
  Sha1Digest out;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = a[i] ^ b[i];
  }
  return out;
}

}  // namespace

Sha1Digest sha1(ByteView data) {
  Sha1Digest digest;
  // SHA-1 over memory cannot fail short of an allocation failure inside OpenSSL.
  EVP_Digest(data.data(), data.size(), digest.data(), nullptr, EVP_sha1(), nullptr);
  return digest;
}

Sha1Digest sha1(ByteView a, ByteView b) {
  Sha1Digest digest;
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx.get(), a.data(), a.size());
  EVP_DigestUpdate(ctx.get(), b.data(), b.size());
  EVP_DigestFinal_ex(ctx.get(), digest.data(), nullptr);
  return digest;
}

Sha1Digest native_password_stage1(std::string_view password) { return sha1(as_bytes(password)); }

Sha1Digest native_password_stage2(std::string_view password) {
  return sha1(native_password_stage1(password));
}

bool native_password_is_empty(const Sha1Digest& stage1) {
  return stage1 == native_password_stage1("");
}

Result<Sha1Digest> parse_native_password_hash(std::string_view text) {
  if (text.size() != kHashTextSize || text[0] != '*') {
    return fail(CodecErrc::invalid_input);
  }
  Sha1Digest stage2;
  for (size_t i = 0; i < stage2.size(); ++i) {
    const int high = hex_value(text[1 + 2 * i]);
    const int low = hex_value(text[2 + 2 * i]);
    if (high < 0 || low < 0) {
      return fail(CodecErrc::invalid_input);
    }
    stage2[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return stage2;
}

std::string format_native_password_hash(const Sha1Digest& stage2) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text = "*";
  text.reserve(kHashTextSize);
  for (uint8_t byte : stage2) {
    text.push_back(kHex[byte >> 4]);
    text.push_back(kHex[byte & 0x0f]);
  }
  return text;
}

std::string native_password_response(const Sha1Digest& stage1, std::string_view nonce) {
  const Sha1Digest stage2 = sha1(stage1);
  const Sha1Digest response = xor_digests(stage1, sha1(native_nonce(nonce), stage2));
  return std::string(as_chars(response));
}

std::optional<Sha1Digest> native_password_verify(std::string_view response, std::string_view nonce,
                                                 const Sha1Digest& stage2) {
  if (response.empty()) {
    if (stage2 == native_password_stage2("")) {
      return native_password_stage1("");
    }
    return std::nullopt;
  }
  if (response.size() != std::tuple_size_v<Sha1Digest>) {
    return std::nullopt;
  }
  Sha1Digest given;
  std::copy(response.begin(), response.end(), given.begin());
  const Sha1Digest stage1 = xor_digests(given, sha1(native_nonce(nonce), stage2));
  const Sha1Digest check = sha1(stage1);
  // Constant time, so the comparison does not tell an attacker how many bytes matched.
  if (CRYPTO_memcmp(check.data(), stage2.data(), check.size()) != 0) {
    return std::nullopt;
  }
  return stage1;
}

}  // namespace replproxy::protocol
