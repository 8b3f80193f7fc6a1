#include "mcu/auth/OpenSslCrypto.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace mcu::auth {

namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr unsigned kScryptR = 8;
constexpr unsigned kScryptP = 1;
// Bounds for the parameters of a stored hash: a corrupt or hostile row must not make a login
// allocate gigabytes or spin for minutes. 1 GiB is OpenSSL's own default ceiling.
constexpr int kMaxScryptCost = 20;
constexpr unsigned kMaxScryptR = 32;
constexpr unsigned kMaxScryptP = 16;
constexpr std::uint64_t kMaxScryptMemory = std::uint64_t{1} << 30;
constexpr std::size_t kMinSaltBytes = 8;  // what a stored hash may have; new ones get kSaltBytes
constexpr std::size_t kMaxSaltBytes = 64;

// ---- errors ----

// Drains OpenSSL's error queue into the exception, so the cause is not lost or left behind for an
// unrelated later call to trip over.
[[noreturn]] void throwOpenSsl(const std::string& what) {
  std::string message = what;
  while (unsigned long code = ERR_get_error()) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    message += "; ";
    message += text.data();
  }
  throw std::runtime_error(message);
}

[[noreturn]] void throwErrno(const std::string& what, const std::filesystem::path& path) {
  throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
}

// ---- RAII for OpenSSL contexts and file descriptors ----

struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};
struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, KdfCtxFree>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  // Closes now and reports the result (close can report a deferred write error).
  int close() {
    const int fd = std::exchange(fd_, -1);
    return fd >= 0 ? ::close(fd) : 0;
  }

 private:
  int fd_;
};

// ---- base64 (standard and url alphabets, no padding, strict decoding) ----

constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64Encode(std::string_view bytes, std::string_view alphabet) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out += alphabet[(bits >> count) & 0x3f];
    }
  }
  if (count > 0) out += alphabet[(bits << (6 - count)) & 0x3f];
  return out;
}

// nullopt for a character outside the alphabet, an impossible length, or unused trailing bits
// that are not zero (so every byte string has exactly one accepted encoding).
std::optional<std::string> base64Decode(std::string_view text, std::string_view alphabet) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const auto pos = alphabet.find(c);
    if (pos == std::string_view::npos) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(pos);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  if ((bits & ((1u << count) - 1)) != 0) return std::nullopt;
  return out;
}

std::string hex(const unsigned char* bytes, std::size_t size) {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 0x0f];
  }
  return out;
}

std::string randomBytes(std::size_t size) {
  if (size > static_cast<std::size_t>(INT_MAX)) throw std::invalid_argument("too many bytes");
  std::string out(size, '\0');
  if (size > 0 &&
      RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) != 1) {
    throwOpenSsl("RAND_bytes failed");
  }
  return out;
}

bool constantTimeEqual(std::string_view a, std::string_view b) {
  // The lengths are public (fixed by the algorithm), only the contents must not leak.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---- the password hash encoding ----

struct ScryptParams {
  int logN = 0;
  unsigned r = 0;
  unsigned p = 0;
};

struct ParsedHash {
  ScryptParams params;
  std::string salt;
  std::string hash;
};

// A decimal in [1, max] without sign or leading zeros.
std::optional<unsigned> parseBounded(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 9 || text[0] == '0') return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

// Consumes "<name>=<number>" from the front of `text`.
std::optional<unsigned> takeParam(std::string_view& text, std::string_view name, unsigned max) {
  if (text.substr(0, name.size()) != name || text.substr(name.size(), 1) != "=") {
    return std::nullopt;
  }
  text.remove_prefix(name.size() + 1);
  const auto end = std::min(text.find(','), text.size());
  auto value = parseBounded(text.substr(0, end), max);
  text.remove_prefix(end);
  return value;
}

std::optional<ScryptParams> parseParams(std::string_view text) {
  ScryptParams params;
  auto logN = takeParam(text, "ln", kMaxScryptCost);
  if (!logN || !text.starts_with(',')) return std::nullopt;
  text.remove_prefix(1);
  auto r = takeParam(text, "r", kMaxScryptR);
  if (!r || !text.starts_with(',')) return std::nullopt;
  text.remove_prefix(1);
  auto p = takeParam(text, "p", kMaxScryptP);
  if (!p || !text.empty()) return std::nullopt;
  params = {static_cast<int>(*logN), *r, *p};
  if ((std::uint64_t{128} * params.r << params.logN) > kMaxScryptMemory) return std::nullopt;
  return params;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::optional<ParsedHash> parseEncoded(std::string_view encoded) {
  const auto parts = split(encoded, '$');  // "", "scrypt", params, salt, hash
  if (parts.size() != 5 || !parts[0].empty() || parts[1] != "scrypt") return std::nullopt;
  auto params = parseParams(parts[2]);
  auto salt = base64Decode(parts[3], kStdAlphabet);
  auto hash = base64Decode(parts[4], kStdAlphabet);
  if (!params || !salt || !hash) return std::nullopt;
  if (salt->size() < kMinSaltBytes || salt->size() > kMaxSaltBytes || hash->size() != kHashBytes) {
    return std::nullopt;
  }
  return ParsedHash{*params, std::move(*salt), std::move(*hash)};
}

// ---- the signing key file ----

// The key, nullopt when the file does not exist.
std::optional<std::string> readKeyFile(const std::filesystem::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throwErrno("cannot open signing key file", file);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throwErrno("cannot stat signing key file", file);
  if (!S_ISREG(st.st_mode)) {
    throw std::runtime_error("signing key file " + file.string() + " is not a regular file");
  }
  if (st.st_size != static_cast<off_t>(OpenSslCrypto::kSigningKeyBytes)) {
    throw std::runtime_error("signing key file " + file.string() + " holds " +
                             std::to_string(st.st_size) + " bytes instead of " +
                             std::to_string(OpenSslCrypto::kSigningKeyBytes) +
                             "; remove it to create a new key (every login session will end)");
  }
  std::string key(OpenSslCrypto::kSigningKeyBytes, '\0');
  std::size_t done = 0;
  while (done < key.size()) {
    const ssize_t n = ::read(fd.get(), key.data() + done, key.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throwErrno("cannot read signing key file", file);
    if (n == 0) throw std::runtime_error("signing key file " + file.string() + " shrank");
    done += static_cast<std::size_t>(n);
  }
  return key;
}

void writeAll(int fd, std::string_view bytes, const std::filesystem::path& file) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throwErrno("cannot write", file);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Moves `from` to `to` unless `to` exists; false when it does. Prefers renameat2's
// RENAME_NOREPLACE and falls back to link+unlink on file systems without it: a plain rename()
// would silently replace a key another process published meanwhile, splitting the two processes'
// tokens.
bool renameNoReplace(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return true;
  }
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS) throwErrno("cannot rename signing key file to", to);
  if (::link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) return false;
    throwErrno("cannot link signing key file to", to);
  }
  ::unlink(from.c_str());
  return true;
}

void syncDirectory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) throwErrno("cannot sync directory", dir);
}

// Writes `key` to a new file named `file`; false when `file` appeared meanwhile.
bool publishKeyFile(const std::filesystem::path& file, std::string_view key) {
  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  std::string temp = (dir / ("." + file.filename().string() + ".XXXXXX")).string();
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));  // mode 0600
  if (!fd) throwErrno("cannot create a temporary file for", file);
  struct Remove {  // the temporary file, unless it was renamed away
    const std::string& path;
    bool armed = true;
    ~Remove() {
      if (armed) ::unlink(path.c_str());
    }
  } remove{temp};
  if (::fchmod(fd.get(), S_IRUSR | S_IWUSR) != 0) throwErrno("cannot chmod", temp);
  writeAll(fd.get(), key, temp);
  if (::fsync(fd.get()) != 0) throwErrno("cannot sync", temp);
  if (fd.close() != 0) throwErrno("cannot close", temp);
  if (!renameNoReplace(temp, file)) return false;
  remove.armed = false;
  syncDirectory(dir);
  return true;
}

}  // namespace

// ---- construction ----

void OpenSslCrypto::KdfFree::operator()(EVP_KDF* kdf) const {
  EVP_KDF_free(kdf);
}
void OpenSslCrypto::MacFree::operator()(EVP_MAC* mac) const {
  EVP_MAC_free(mac);
}

OpenSslCrypto::OpenSslCrypto(std::string signingKey, int scryptCost)
    : key_(std::move(signingKey)), scryptCost_(scryptCost) {
  if (key_.size() != kSigningKeyBytes) {
    throw std::invalid_argument("the signing key must be " + std::to_string(kSigningKeyBytes) +
                                " bytes, not " + std::to_string(key_.size()));
  }
  if (scryptCost_ < 1 || scryptCost_ > kMaxScryptCost) {
    throw std::invalid_argument("scrypt cost (log2 N) must be in 1.." +
                                std::to_string(kMaxScryptCost));
  }
  // Fetched once: fetching is a locked lookup in OpenSSL's provider store.
  scryptKdf_.reset(EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_SCRYPT, nullptr));
  if (!scryptKdf_) throwOpenSsl("cannot fetch the SCRYPT KDF");
  hmacMac_.reset(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
  if (!hmacMac_) throwOpenSsl("cannot fetch the HMAC MAC");
}

OpenSslCrypto::~OpenSslCrypto() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

std::string OpenSslCrypto::loadOrCreateSigningKey(const std::filesystem::path& file) {
  if (auto key = readKeyFile(file)) return std::move(*key);
  std::string key(kSigningKeyBytes, '\0');
  if (RAND_priv_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) !=
      1) {
    throwOpenSsl("RAND_priv_bytes failed");
  }
  if (publishKeyFile(file, key)) return key;
  // Another process created the file first: use its key, so both accept the same tokens.
  if (auto theirs = readKeyFile(file)) return std::move(*theirs);
  throw std::runtime_error("signing key file " + file.string() + " vanished while created");
}

// ---- passwords ----

std::string OpenSslCrypto::scrypt(std::string_view password, std::string_view salt, int logN,
                                  unsigned r, unsigned p) const {
  KdfCtxPtr ctx(EVP_KDF_CTX_new(scryptKdf_.get()));
  if (!ctx) throwOpenSsl("EVP_KDF_CTX_new failed");
  std::uint64_t n = std::uint64_t{1} << logN;
  std::uint32_t r32 = r;
  std::uint32_t p32 = p;
  std::uint64_t maxMemory = kMaxScryptMemory + (std::uint64_t{1} << 20);  // + OpenSSL's overhead
  // OSSL_PARAM wants non-const pointers but does not write through octet-string inputs.
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxMemory),
      OSSL_PARAM_construct_end(),
  };
  std::string out(kHashBytes, '\0');
  if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(), params) !=
      1) {
    throwOpenSsl("scrypt failed");
  }
  return out;
}

std::string OpenSslCrypto::hashPassword(std::string_view password) {
  const std::string salt = randomBytes(kSaltBytes);
  const std::string hash = scrypt(password, salt, scryptCost_, kScryptR, kScryptP);
  return "$scrypt$ln=" + std::to_string(scryptCost_) + ",r=" + std::to_string(kScryptR) +
         ",p=" + std::to_string(kScryptP) + "$" + base64Encode(salt, kStdAlphabet) + "$" +
         base64Encode(hash, kStdAlphabet);
}

bool OpenSslCrypto::verifyPassword(std::string_view password, std::string_view encoded) {
  const auto parsed = parseEncoded(encoded);
  if (!parsed) return false;
  const auto& params = parsed->params;
  return constantTimeEqual(scrypt(password, parsed->salt, params.logN, params.r, params.p),
                           parsed->hash);
}

// ---- tokens, digests, signatures ----

std::string OpenSslCrypto::randomToken(std::size_t bytes) {
  return base64Encode(randomBytes(bytes), kUrlAlphabet);
}

std::string OpenSslCrypto::digest(std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  if (EVP_Digest(secret.data(), secret.size(), md.data(), &size, EVP_sha256(), nullptr) != 1) {
    throwOpenSsl("SHA-256 failed");
  }
  return hex(md.data(), size);
}

std::string OpenSslCrypto::hmac(std::string_view payload) const {
  MacCtxPtr ctx(EVP_MAC_CTX_new(hmacMac_.get()));
  if (!ctx) throwOpenSsl("EVP_MAC_CTX_new failed");
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end(),
  };
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t size = 0;
  if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key_.data()), key_.size(),
                   params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(payload.data()),
                     payload.size()) != 1 ||
      EVP_MAC_final(ctx.get(), mac.data(), &size, mac.size()) != 1) {
    throwOpenSsl("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

std::string OpenSslCrypto::sign(std::string_view payload) {
  return base64Encode(hmac(payload), kUrlAlphabet);
}

bool OpenSslCrypto::verifySignature(std::string_view payload, std::string_view signature) {
  // Compare the encodings: base64url without padding has one spelling per MAC (sign() makes
  // it), so a different string is a different MAC.
  return constantTimeEqual(sign(payload), signature);
}

}  // namespace mcu::auth
