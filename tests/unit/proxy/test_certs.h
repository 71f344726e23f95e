#pragma once

// Self-signed certificates made at test time with OpenSSL, written as PEM files to a temporary
// directory. Each certificate is its own CA, valid for IP:127.0.0.1 and DNS:localhost.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace replproxy::proxy::test {

struct TestCert {
  std::string cert_file;
  std::string key_file;
};

namespace certs_internal {

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};

inline bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) {
    return false;
  }
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

inline bool write_pem(const std::string& path, const std::function<int(FILE*)>& write) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    return false;
  }
  const bool ok = write(f) == 1;
  return std::fclose(f) == 0 && ok;
}

}  // namespace certs_internal

// Makes a P-256 key and a self-signed certificate with common name `name` in `dir`.
inline TestCert make_self_signed_cert(const std::filesystem::path& dir, const std::string& name) {
  using namespace certs_internal;
  static long serial = 1;
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, X509Deleter> cert(X509_new());
  EXPECT_TRUE(key && cert);
  if (!key || !cert) {
    return {};
  }
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  EXPECT_TRUE(add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  EXPECT_TRUE(add_extension(cert.get(), NID_subject_key_identifier, "hash"));
  EXPECT_TRUE(add_extension(cert.get(), NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"));
  EXPECT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);

  TestCert out{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
  EXPECT_TRUE(write_pem(out.cert_file, [&](FILE* f) { return PEM_write_X509(f, cert.get()); }));
  EXPECT_TRUE(write_pem(out.key_file, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  }));
  return out;
}

// A fresh directory under the system temp directory, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rp_tls_XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) {
      path_ = pattern;
    }
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace replproxy::proxy::test
