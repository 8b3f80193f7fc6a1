#pragma once
// core::Crypto on OpenSSL 3: scrypt password hashes (EVP_KDF "SCRYPT"), HMAC-SHA256 token
// signatures (EVP_MAC), SHA-256 digests and the OS random source. Thread-safe: the fetched
// algorithms are shared read-only, every call makes its own OpenSSL context.
//
// Password hash encoding (PHC style, base64 with the standard alphabet and no padding):
//   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>
// with a 16-byte random salt and a 32-byte hash. Verification honours the parameters the hash was
// made with (within bounds), so raising the cost later does not invalidate stored hashes.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "mcu/core/Security.hpp"

// OpenSSL's opaque types, so this header does not pull in OpenSSL.
struct evp_kdf_st;
struct evp_mac_st;

namespace mcu::auth {

class OpenSslCrypto final : public core::Crypto {
 public:
  static constexpr std::size_t kSigningKeyBytes = 32;
  static constexpr int kDefaultScryptCost = 15;  // log2 N: 32 MiB and ~0.1 s per hash

  // `signingKey` must hold exactly kSigningKeyBytes bytes; `scryptCost` is log2 N for new hashes
  // (1..20; tests use a small one). std::invalid_argument otherwise.
  explicit OpenSslCrypto(std::string signingKey, int scryptCost = kDefaultScryptCost);
  ~OpenSslCrypto() override;
  OpenSslCrypto(const OpenSslCrypto&) = delete;
  OpenSslCrypto& operator=(const OpenSslCrypto&) = delete;

  // Reads the signing key from `file`, or, when there is no such file, creates one holding
  // kSigningKeyBytes random bytes with mode 0600. Creation is atomic: a temporary file in the same
  // directory is written, synced and renamed into place without replacing a key another process
  // created meanwhile. std::runtime_error for a file of the wrong size or an I/O failure.
  static std::string loadOrCreateSigningKey(const std::filesystem::path& file);

  std::string hashPassword(std::string_view password) override;
  bool verifyPassword(std::string_view password, std::string_view encoded) override;
  std::string randomToken(std::size_t bytes) override;
  std::string digest(std::string_view secret) override;
  std::string sign(std::string_view payload) override;
  bool verifySignature(std::string_view payload, std::string_view signature) override;

 private:
  struct KdfFree {
    void operator()(evp_kdf_st* kdf) const;
  };
  struct MacFree {
    void operator()(evp_mac_st* mac) const;
  };

  std::string scrypt(std::string_view password, std::string_view salt, int logN, unsigned r,
                     unsigned p) const;
  std::string hmac(std::string_view payload) const;

  std::string key_;
  int scryptCost_;
  std::unique_ptr<evp_kdf_st, KdfFree> scryptKdf_;
  std::unique_ptr<evp_mac_st, MacFree> hmacMac_;
};

}  // namespace mcu::auth
