#include "media/Srtp.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstring>

namespace mcu::media {

namespace {

constexpr std::size_t kKeyLen = 16;
constexpr std::size_t kSaltLen = 14;
constexpr std::size_t kAuthKeyLen = 20;

// RFC 3711 4.3.1: the AES-CM PRF with the master key, for one label (key derivation rate 0).
bool derive(const std::uint8_t* masterKey, const std::uint8_t* masterSalt, std::uint8_t label,
            std::uint8_t* out, std::size_t len) {
  std::array<std::uint8_t, 16> iv{};
  std::memcpy(iv.data(), masterSalt, kSaltLen);
  iv[7] ^= label;  // key_id = label || r (48 zero bits), right-aligned in the 112-bit salt
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::array<std::uint8_t, 32> zeros{};
  int n = 0;
  const bool ok = ctx && len <= zeros.size() &&
                  EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, masterKey, iv.data()) == 1 &&
                  EVP_EncryptUpdate(ctx, out, &n, zeros.data(), int(len)) == 1 &&
                  std::size_t(n) == len;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

}  // namespace

struct SrtpSender::Impl {
  std::size_t tagLen = 10;
  std::array<std::uint8_t, kSaltLen> salt{};
  EVP_CIPHER_CTX* cipher = nullptr;
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* hmac = nullptr;

  ~Impl() {
    EVP_CIPHER_CTX_free(cipher);
    EVP_MAC_CTX_free(hmac);
    EVP_MAC_free(mac);
  }
};

std::unique_ptr<SrtpSender> SrtpSender::create(Suite suite, const std::uint8_t* material,
                                               std::size_t size) {
  if (!material || size < kKeyLen + kSaltLen) return nullptr;
  auto impl = std::make_unique<Impl>();
  impl->tagLen = suite == Suite::kAesCm128HmacSha1_80 ? 10 : 4;
  std::array<std::uint8_t, kKeyLen> key{};
  std::array<std::uint8_t, kAuthKeyLen> authKey{};
  const std::uint8_t* masterKey = material;
  const std::uint8_t* masterSalt = material + kKeyLen;
  if (!derive(masterKey, masterSalt, 0x00, key.data(), key.size()) ||
      !derive(masterKey, masterSalt, 0x01, authKey.data(), authKey.size()) ||
      !derive(masterKey, masterSalt, 0x02, impl->salt.data(), impl->salt.size())) {
    return nullptr;
  }
  impl->cipher = EVP_CIPHER_CTX_new();
  impl->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  impl->hmac = impl->mac ? EVP_MAC_CTX_new(impl->mac) : nullptr;
  char digest[] = "SHA1";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  const bool ok =
      impl->cipher && impl->hmac &&
      EVP_EncryptInit_ex(impl->cipher, EVP_aes_128_ctr(), nullptr, key.data(), nullptr) == 1 &&
      EVP_MAC_init(impl->hmac, authKey.data(), authKey.size(), params) == 1;
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(authKey.data(), authKey.size());
  if (!ok) return nullptr;
  return std::unique_ptr<SrtpSender>(new SrtpSender(std::move(impl)));
}

SrtpSender::SrtpSender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SrtpSender::~SrtpSender() = default;

std::size_t SrtpSender::protect(std::uint8_t* packet, std::size_t size, std::uint32_t roc) {
  if (size < 12 || (packet[0] >> 6) != 2) return 0;
  std::size_t header = 12 + 4 * std::size_t(packet[0] & 0x0f);
  if (packet[0] & 0x10) {  // header extension: 4 bytes, then its length in 32-bit words
    if (size < header + 4) return 0;
    header += 4 + 4 * ((std::size_t(packet[header + 2]) << 8) | packet[header + 3]);
  }
  if (size < header) return 0;
  // RFC 3711 4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16).
  std::array<std::uint8_t, 16> iv{};
  std::memcpy(iv.data(), impl_->salt.data(), kSaltLen);
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= packet[8 + i];
  const std::uint8_t index[6] = {std::uint8_t(roc >> 24),
                                 std::uint8_t(roc >> 16),
                                 std::uint8_t(roc >> 8),
                                 std::uint8_t(roc),
                                 packet[2],
                                 packet[3]};
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= index[i];
  int n = 0;
  if (EVP_EncryptInit_ex(impl_->cipher, nullptr, nullptr, nullptr, iv.data()) != 1 ||
      EVP_EncryptUpdate(impl_->cipher, packet + header, &n, packet + header, int(size - header)) !=
          1) {
    return 0;
  }
  // RFC 3711 4.2: HMAC-SHA1 over the packet and the ROC, truncated.
  const std::uint8_t rocBytes[4] = {index[0], index[1], index[2], index[3]};
  std::array<std::uint8_t, 20> tag{};
  std::size_t tagSize = 0;
  if (EVP_MAC_init(impl_->hmac, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(impl_->hmac, packet, size) != 1 ||
      EVP_MAC_update(impl_->hmac, rocBytes, sizeof rocBytes) != 1 ||
      EVP_MAC_final(impl_->hmac, tag.data(), &tagSize, tag.size()) != 1) {
    return 0;
  }
  std::memcpy(packet + size, tag.data(), impl_->tagLen);
  return size + impl_->tagLen;
}

}  // namespace mcu::media
