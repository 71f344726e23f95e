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
  if (auto loaded = use_certificate(ctx.get(), cert_file, key_file); !loaded) {
    return std::unexpected(loaded.error());
  }
  return ctx;
}

std::expected<void, std::string> use_certificate(SSL_CTX* ctx, const std::string& cert_file,
                                                 const std::string& key_file) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return std::unexpected("cannot load TLS certificate '" + cert_file +
                           "': " + take_openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return std::unexpected("cannot load TLS key '" + key_file + "': " + take_openssl_errors());
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return std::unexpected("TLS key '" + key_file + "' does not match certificate '" +
                           cert_file + "'");
  }
  return {};
}

std::expected<void, std::string> require_client_certificates(SSL_CTX* ctx,
                                                             const std::string& ca_file) {
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    return std::unexpected("cannot load TLS CA '" + ca_file + "': " + take_openssl_errors());
  }
  // The CA names tell clients which certificate to offer.
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str());
  if (names != nullptr) {
    SSL_CTX_set_client_CA_list(ctx, names);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // Session resumption with verified peers needs a context id, else OpenSSL refuses it.
  static constexpr unsigned char kSessionContext[] = "replproxy";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return {};
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
