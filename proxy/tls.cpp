#include "proxy/tls.h"

#include <openssl/err.h>

namespace replproxy::proxy {

std::string take_openssl_errors() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!text.empty()) {
      text += "; ";
    }
    text += buf;
  }
  return text.empty() ? "unknown TLS error" : text;
}

std::expected<SslCtxPtr, std::string> make_server_tls_context(const std::string& cert_file,
                                                              const std::string& key_file) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    return std::unexpected("cannot create TLS context: " + take_openssl_errors());
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
    return std::unexpected("cannot load TLS certificate '" + cert_file +
                           "': " + take_openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return std::unexpected("cannot load TLS key '" + key_file + "': " + take_openssl_errors());
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return std::unexpected("TLS key '" + key_file + "' does not match certificate '" +
                           cert_file + "'");
  }
  return ctx;
}

std::expected<SslCtxPtr, std::string> make_client_tls_context(const std::string& ca_file,
                                                              bool verify) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    return std::unexpected("cannot create TLS context: " + take_openssl_errors());
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (verify) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    const int loaded = ca_file.empty()
                           ? SSL_CTX_set_default_verify_paths(ctx.get())
                           : SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
    if (loaded != 1) {
      return std::unexpected("cannot load TLS CA '" + ca_file + "': " + take_openssl_errors());
    }
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  return ctx;
}

}  // namespace replproxy::proxy
