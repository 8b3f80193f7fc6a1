// core::Crypto on OpenSSL 3 (mcu/auth/OpenSslCrypto): scrypt hashes and their encoding, random
// tokens, SHA-256 and HMAC-SHA256 against published vectors, and the signing key file.
#include "mcu/auth/OpenSslCrypto.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace mcu::auth {
namespace {

namespace fs = std::filesystem;

constexpr int kTestCost = 4;  // log2 N: fast enough for unit tests, same code path as 15

std::string bytesToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0x0f];
  }
  return out;
}

// Decodes base64url without padding through OpenSSL's own base64 decoder (a second route, not
// the code under test).
std::string fromBase64Url(std::string text) {
  for (char& c : text) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  const std::size_t padding = (4 - text.size() % 4) % 4;
  text.append(padding, '=');
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  EXPECT_GE(n, 0) << "not base64: " << text;
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n) - padding);
  return out;
}

std::string testKey(char fill = 'k') {
  return std::string(OpenSslCrypto::kSigningKeyBytes, fill);
}

// The encoding split at '$': "", "scrypt", params, salt, hash.
std::vector<std::string> fields(const std::string& encoded) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t end; (end = encoded.find('$', start)) != std::string::npos; start = end + 1) {
    out.push_back(encoded.substr(start, end - start));
  }
  out.push_back(encoded.substr(start));
  return out;
}

std::string joinFields(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "$" : "") + parts[i];
  return out;
}

// Changes one base64 character to another valid one.
std::string flipFirstChar(std::string text) {
  text[0] = text[0] == 'A' ? 'B' : 'A';
  return text;
}

class OpenSslCryptoTest : public ::testing::Test {
 protected:
  OpenSslCrypto crypto_{testKey(), kTestCost};
};

// ---- passwords ----

TEST_F(OpenSslCryptoTest, HashVerifiesAndIsSelfDescribing) {
  const std::string encoded = crypto_.hashPassword("correct horse battery");
  EXPECT_TRUE(encoded.starts_with("$scrypt$ln=4,r=8,p=1$")) << encoded;
  const auto parts = fields(encoded);
  ASSERT_EQ(parts.size(), 5u) << encoded;
  EXPECT_EQ(parts[3].size(), 22u);  // 16-byte salt, base64 without padding
  EXPECT_EQ(parts[4].size(), 43u);  // 32-byte hash
  EXPECT_TRUE(crypto_.verifyPassword("correct horse battery", encoded));
}

TEST_F(OpenSslCryptoTest, VerifiesRfc7914TestVector) {
  // RFC 7914 section 12, third vector (N = 16384, r = 8, p = 1): the first 32 of its 64 bytes,
  // which is what a 32-byte derivation gives (PBKDF2 output blocks are independent).
  // Salt "SodiumChloride".
  const std::string encoded =
      "$scrypt$ln=14,r=8,p=1$U29kaXVtQ2hsb3JpZGU$cCO9yzr9c0hGHAbNgf046/2o+7qQT44+qbVD9lRdofI";
  EXPECT_TRUE(crypto_.verifyPassword("pleaseletmein", encoded));
  EXPECT_FALSE(crypto_.verifyPassword("pleaseletmeim", encoded));
}

TEST_F(OpenSslCryptoTest, WrongPasswordFails) {
  const std::string encoded = crypto_.hashPassword("correct horse battery");
  EXPECT_FALSE(crypto_.verifyPassword("correct horse batterY", encoded));
  EXPECT_FALSE(crypto_.verifyPassword("", encoded));
  EXPECT_FALSE(crypto_.verifyPassword("correct horse battery ", encoded));
}

TEST_F(OpenSslCryptoTest, EachHashGetsItsOwnSalt) {
  const std::string a = crypto_.hashPassword("same password");
  const std::string b = crypto_.hashPassword("same password");
  EXPECT_NE(fields(a)[3], fields(b)[3]);
  EXPECT_NE(a, b);
  EXPECT_TRUE(crypto_.verifyPassword("same password", a));
  EXPECT_TRUE(crypto_.verifyPassword("same password", b));
}

TEST_F(OpenSslCryptoTest, TamperedHashOrSaltFails) {
  const auto parts = fields(crypto_.hashPassword("pass phrase"));
  auto hash = parts;
  hash[4] = flipFirstChar(hash[4]);
  EXPECT_FALSE(crypto_.verifyPassword("pass phrase", joinFields(hash)));
  auto salt = parts;
  salt[3] = flipFirstChar(salt[3]);
  EXPECT_FALSE(crypto_.verifyPassword("pass phrase", joinFields(salt)));
  // The last character of 32 bytes in base64 carries two unused bits: setting them must not yield
  // a second accepted spelling of the same hash.
  auto spare = parts;
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char& last = spare[4].back();
  last = alphabet[alphabet.find(last) ^ 1];
  EXPECT_FALSE(crypto_.verifyPassword("pass phrase", joinFields(spare)));
}

TEST_F(OpenSslCryptoTest, TamperedParametersFail) {
  const auto parts = fields(crypto_.hashPassword("pass phrase"));
  for (const char* params : {"ln=5,r=8,p=1", "ln=4,r=4,p=1", "ln=4,r=8,p=2"}) {
    auto changed = parts;
    changed[2] = params;
    EXPECT_FALSE(crypto_.verifyPassword("pass phrase", joinFields(changed))) << params;
  }
}

TEST_F(OpenSslCryptoTest, MalformedEncodingsAreFalseNotErrors) {
  const auto parts = fields(crypto_.hashPassword("pass phrase"));
  const std::string salt = parts[3];
  const std::string hash = parts[4];
  const std::vector<std::string> bad = {
      "",
      "$scrypt$",
      "plain text",
      "$argon2id$ln=4,r=8,p=1$" + salt + "$" + hash,
      "$scrypt$ln=4,r=8,p=1$" + salt,
      "$scrypt$ln=4,r=8,p=1$" + salt + "$" + hash + "$",
      "x$scrypt$ln=4,r=8,p=1$" + salt + "$" + hash,
      "$scrypt$ln=0,r=8,p=1$" + salt + "$" + hash,    // below bounds
      "$scrypt$ln=40,r=8,p=1$" + salt + "$" + hash,   // above bounds: would need terabytes
      "$scrypt$ln=20,r=32,p=1$" + salt + "$" + hash,  // over the memory ceiling
      "$scrypt$ln=4,r=8,p=99$" + salt + "$" + hash,
      "$scrypt$ln=04,r=8,p=1$" + salt + "$" + hash,  // leading zero
      "$scrypt$ln=-4,r=8,p=1$" + salt + "$" + hash,
      "$scrypt$r=8,ln=4,p=1$" + salt + "$" + hash,  // wrong order
      "$scrypt$ln=4,r=8$" + salt + "$" + hash,
      "$scrypt$ln=4,r=8,p=1,x=1$" + salt + "$" + hash,
      "$scrypt$ln=4,r=8,p=1$" + salt + "==$" + hash,          // padding is not part of the encoding
      "$scrypt$ln=4,r=8,p=1$" + salt + "$" + hash.substr(1),  // 31.x bytes
      "$scrypt$ln=4,r=8,p=1$" + salt + "$" + hash + "AAAA",   // 35 bytes
      "$scrypt$ln=4,r=8,p=1$" + salt.substr(12) + "$" + hash,  // 7-byte salt
      "$scrypt$ln=4,r=8,p=1$" + salt + "$" + hash.substr(0, 42) + "*",
      "$scrypt$ln=4,r=8,p=1$$" + hash,
  };
  for (const auto& encoded : bad) {
    EXPECT_FALSE(crypto_.verifyPassword("pass phrase", encoded)) << encoded;
  }
}

TEST_F(OpenSslCryptoTest, VerifyUsesTheStoredCostNotTheConfiguredOne) {
  const std::string encoded = crypto_.hashPassword("pass phrase");
  OpenSslCrypto stronger(testKey(), kTestCost + 2);
  EXPECT_TRUE(stronger.verifyPassword("pass phrase", encoded));
  EXPECT_TRUE(stronger.hashPassword("x").starts_with("$scrypt$ln=6,r=8,p=1$"));
}

TEST(OpenSslCryptoConstruction, RejectsBadKeyOrCost) {
  EXPECT_THROW(OpenSslCrypto(std::string(31, 'k'), kTestCost), std::invalid_argument);
  EXPECT_THROW(OpenSslCrypto(std::string(33, 'k'), kTestCost), std::invalid_argument);
  EXPECT_THROW(OpenSslCrypto(testKey(), 0), std::invalid_argument);
  EXPECT_THROW(OpenSslCrypto(testKey(), 21), std::invalid_argument);
}

// ---- tokens and digests ----

TEST_F(OpenSslCryptoTest, RandomTokensAreBase64UrlOfTheRightLengthAndDistinct) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  EXPECT_EQ(crypto_.randomToken(0), "");
  EXPECT_EQ(crypto_.randomToken(1).size(), 2u);
  EXPECT_EQ(crypto_.randomToken(16).size(), 22u);
  EXPECT_EQ(crypto_.randomToken(18).size(), 24u);
  EXPECT_EQ(crypto_.randomToken(32).size(), 43u);
  EXPECT_EQ(fromBase64Url(crypto_.randomToken(32)).size(), 32u);

  std::set<std::string> seen;
  std::set<char> used;
  for (int i = 0; i < 1000; ++i) {
    const std::string token = crypto_.randomToken(16);
    EXPECT_EQ(token.find_first_not_of(alphabet), std::string::npos) << token;
    seen.insert(token);
    used.insert(token.begin(), token.end());
  }
  EXPECT_EQ(seen.size(), 1000u);
  // 22 000 characters drawn from 64: every one of them shows up unless the source is broken.
  EXPECT_EQ(used.size(), 64u);
}

TEST_F(OpenSslCryptoTest, DigestIsSha256Hex) {
  // FIPS 180-2 appendix B.1 and the empty message.
  EXPECT_EQ(crypto_.digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(crypto_.digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// ---- signatures ----

TEST(OpenSslCryptoSignature, MatchesRfc4231TestCase2) {
  // Test case 2's key is "Jefe". HMAC pads any key shorter than the 64-byte block with zeros, so
  // "Jefe" followed by 28 zero bytes is the same key in the 32-byte form the class requires.
  std::string key = "Jefe";
  key.resize(OpenSslCrypto::kSigningKeyBytes, '\0');
  OpenSslCrypto crypto(key, kTestCost);
  const std::string signature = crypto.sign("what do ya want for nothing?");
  EXPECT_EQ(signature.find_first_of("+/="), std::string::npos) << signature;
  EXPECT_EQ(bytesToHex(fromBase64Url(signature)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_TRUE(crypto.verifySignature("what do ya want for nothing?", signature));
}

TEST(OpenSslCryptoSignature, AgreesWithOneShotHmac) {
  std::mt19937 random(7);
  std::string key(OpenSslCrypto::kSigningKeyBytes, '\0');
  for (char& c : key) c = static_cast<char>(random());
  OpenSslCrypto crypto(key, kTestCost);
  const std::string payload = "v1.session.1700000000";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  ASSERT_NE(
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &size),
      nullptr);
  EXPECT_EQ(fromBase64Url(crypto.sign(payload)), std::string(reinterpret_cast<char*>(mac), size));
}

TEST_F(OpenSslCryptoTest, VerifySignatureRejectsAnythingElse) {
  const std::string signature = crypto_.sign("payload");
  EXPECT_TRUE(crypto_.verifySignature("payload", signature));
  EXPECT_FALSE(crypto_.verifySignature("payloaD", signature));
  EXPECT_FALSE(crypto_.verifySignature("payload", flipFirstChar(signature)));
  EXPECT_FALSE(crypto_.verifySignature("payload", signature.substr(1)));
  EXPECT_FALSE(crypto_.verifySignature("payload", signature + "A"));
  EXPECT_FALSE(crypto_.verifySignature("payload", ""));
  OpenSslCrypto otherKey(testKey('o'), kTestCost);
  EXPECT_FALSE(otherKey.verifySignature("payload", signature));
}

// ---- the signing key file ----

class SigningKeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    dir_ = fs::temp_directory_path() /
           ("mcu-auth-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(SigningKeyFileTest, CreatedPrivateThenReused) {
  const fs::path file = dir_ / "signing.key";
  const std::string key = OpenSslCrypto::loadOrCreateSigningKey(file);
  EXPECT_EQ(key.size(), OpenSslCrypto::kSigningKeyBytes);

  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(OpenSslCrypto::kSigningKeyBytes));
  // Only the key file is left: the temporary file was renamed, not copied.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);

  EXPECT_EQ(OpenSslCrypto::loadOrCreateSigningKey(file), key);
  EXPECT_NE(OpenSslCrypto::loadOrCreateSigningKey(dir_ / "other.key"), key);
  // The key works: what one instance signs, another one made from the file accepts.
  OpenSslCrypto a(key, kTestCost);
  OpenSslCrypto b(OpenSslCrypto::loadOrCreateSigningKey(file), kTestCost);
  EXPECT_TRUE(b.verifySignature("payload", a.sign("payload")));
}

TEST_F(SigningKeyFileTest, WrongSizeIsRefusedAndLeftAlone) {
  const fs::path file = dir_ / "signing.key";
  std::ofstream(file, std::ios::binary) << std::string(31, 'x');
  try {
    OpenSslCrypto::loadOrCreateSigningKey(file);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("31 bytes"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(fs::file_size(file), 31u);

  std::ofstream(dir_ / "empty.key", std::ios::binary);
  EXPECT_THROW(OpenSslCrypto::loadOrCreateSigningKey(dir_ / "empty.key"), std::runtime_error);
}

TEST_F(SigningKeyFileTest, MissingDirectoryOrNonFileIsAnError) {
  EXPECT_THROW(OpenSslCrypto::loadOrCreateSigningKey(dir_ / "no-such-dir" / "signing.key"),
               std::runtime_error);
  EXPECT_THROW(OpenSslCrypto::loadOrCreateSigningKey(dir_), std::runtime_error);
}

}  // namespace
}  // namespace mcu::auth
