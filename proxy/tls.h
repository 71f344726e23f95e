#pragma once

// OpenSSL contexts for both sides of the proxy. A context is built once at start (or reload) and
// shared read-only by the workers; sessions create their SSL* from it.

#include <openssl/ssl.h>

#include <expected>
#include <memory>
#include <string>

namespace replproxy::proxy {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// Server side (towards clients): certificate chain and key from PEM files, TLS 1.2 or newer.
std::expected<SslCtxPtr, std::string> make_server_tls_context(const std::string& cert_file,
                                                              const std::string& key_file);

// Client side (towards backends): verifies the peer against `ca_file` (or the system store when
// empty) when `verify` is set.
std::expected<SslCtxPtr, std::string> make_client_tls_context(const std::string& ca_file,
                                                              bool verify);

// Loads a PEM certificate chain and its private key into `ctx` (a server's certificate, or the
// certificate a client offers when the server asks for one).
std::expected<void, std::string> use_certificate(SSL_CTX* ctx, const std::string& cert_file,
                                                 const std::string& key_file);

// Server side: asks every client for a certificate and refuses the handshake unless one comes
// that `ca_file` verifies.
std::expected<void, std::string> require_client_certificates(SSL_CTX* ctx,
                                                             const std::string& ca_file);

// The text of OpenSSL's error queue, emptied.
std::string take_openssl_errors();

}  // namespace replproxy::proxy
