#include "signaling/Certificate.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "signaling/Log.hpp"

namespace mcu::signaling {

namespace {

const Log kLog{"signaling.tls"};
constexpr long kValiditySeconds = 365L * 24 * 60 * 60;

// Stateless deleters so each OpenSSL object is released exactly once.
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using FilePtr = std::unique_ptr<std::FILE, FileClose>;

[[noreturn]] void fail(const std::string& what) {
  char detail[256] = "";
  ERR_error_string_n(ERR_get_error(), detail, sizeof detail);
  throw std::runtime_error("TLS certificate: " + what + ": " + detail);
}

void check(int ok, const char* what) {
  if (ok != 1) fail(what);
}

// Opens for writing with the given mode from the start, so the key is never world-readable.
FilePtr openForWrite(const std::filesystem::path& path, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot write " + path.string());
  ::fchmod(fd, mode);  // O_CREAT's mode does not apply to a file that already existed
  std::FILE* f = ::fdopen(fd, "w");
  if (!f) {
    ::close(fd);
    throw std::runtime_error("cannot write " + path.string());
  }
  return FilePtr(f);
}

void addExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) fail("extension");
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(ok, "add extension");
}

void setSubject(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0),
        "subject");
  check(X509_set_issuer_name(cert, name), "issuer");
}

X509Ptr makeCertificate(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  if (!cert) fail("X509_new");
  check(X509_set_version(cert.get(), 2), "version");  // 2 means X.509 v3 (extensions)
  // A random serial: browsers reject two certificates with one issuer and serial.
  BIGNUM* serial = BN_new();
  check(BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "serial");
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);  // tolerate small clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds);
  check(X509_set_pubkey(cert.get(), key), "public key");
  setSubject(cert.get());
  addExtension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  addExtension(cert.get(), NID_key_usage, "critical,digitalSignature");
  addExtension(cert.get(), NID_ext_key_usage, "serverAuth");
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) fail("sign");
  return cert;
}

void writeNewPair(const std::filesystem::path& certPath, const std::filesystem::path& keyPath) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail("EC key generation");
  X509Ptr cert = makeCertificate(key.get());
  {
    FilePtr keyFile = openForWrite(keyPath, 0600);
    check(PEM_write_PrivateKey(keyFile.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr),
          "write key");
  }
  FilePtr certFile = openForWrite(certPath, 0644);
  check(PEM_write_X509(certFile.get(), cert.get()), "write certificate");
}

// True when both files exist, the certificate parses and is still valid for a day.
bool usable(const std::filesystem::path& certPath, const std::filesystem::path& keyPath) {
  std::error_code ec;
  if (!std::filesystem::exists(certPath, ec) || !std::filesystem::exists(keyPath, ec)) {
    return false;
  }
  FilePtr f(std::fopen(certPath.c_str(), "r"));
  if (!f) return false;
  X509Ptr cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!cert) return false;
  std::time_t tomorrow = std::time(nullptr) + 24 * 60 * 60;
  return X509_cmp_time(X509_get0_notAfter(cert.get()), &tomorrow) > 0;
}

}  // namespace

TlsFiles ensureCertificate(const core::Config::Server& server) {
  if (!server.certFile.empty()) {
    return {server.certFile, server.keyFile.empty() ? server.certFile : server.keyFile};
  }
  const std::filesystem::path dir(server.stateDir);
  std::filesystem::create_directories(dir);
  const auto certPath = dir / "cert.pem";
  const auto keyPath = dir / "key.pem";
  if (!usable(certPath, keyPath)) {
    writeNewPair(certPath, keyPath);
    kLog.info("created self-signed certificate " + certPath.string());
  }
  ERR_clear_error();
  return {certPath.string(), keyPath.string()};
}

}  // namespace mcu::signaling
