#pragma once
// The cryptography and the clock the services need, as ports: mcu/auth implements Crypto with
// OpenSSL 3 (scrypt, HMAC-SHA256, SHA-256, the OS random source); unit tests use fast fakes.
#include <cstddef>
#include <string>
#include <string_view>

#include "mcu/core/Store.hpp"

namespace mcu::core {

class Crypto {
 public:
  virtual ~Crypto() = default;
  // A self-describing, salted, memory-hard hash ("$scrypt$ln=15,r=8,p=1$SALT$HASH").
  virtual std::string hashPassword(std::string_view password) = 0;
  // Constant-time check; false for a malformed encoding.
  virtual bool verifyPassword(std::string_view password, std::string_view encoded) = 0;
  // `bytes` random bytes from the OS, base64url without padding.
  virtual std::string randomToken(std::size_t bytes) = 0;
  // SHA-256 of `secret`, lower-case hex (what the store keeps of a room link's secret).
  virtual std::string digest(std::string_view secret) = 0;
  // HMAC-SHA256 of `payload` under the server's signing key, base64url without padding.
  virtual std::string sign(std::string_view payload) = 0;
  // Constant-time comparison against sign(payload).
  virtual bool verifySignature(std::string_view payload, std::string_view signature) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixTime now() const = 0;
};

}  // namespace mcu::core
