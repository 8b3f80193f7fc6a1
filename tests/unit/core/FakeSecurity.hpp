#pragma once
// Deterministic, instant stand-ins for the core's Crypto and Clock ports, shared by the unit tests
// of the services and of the REST API.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "mcu/core/Security.hpp"

namespace mcu::core::testing {

// A clock that moves only when a test moves it.
class FakeClock : public Clock {
 public:
  explicit FakeClock(UnixTime start = 1800000000) : t(start) {}  // 2027-01-15T08:00:00Z
  UnixTime now() const override { return t; }
  void advance(UnixTime seconds) { t += seconds; }
  UnixTime t;
};

// "Hashes" are tagged plain text; the signature depends on every byte of the payload (FNV-1a), so
// a tampered token fails as it would with HMAC, and never contains a dot, as base64url does not.
class FakeCrypto : public Crypto {
 public:
  std::string hashPassword(std::string_view p) override { return "h:" + std::string(p); }
  bool verifyPassword(std::string_view p, std::string_view encoded) override {
    ++verifications;
    lastVerified = encoded;
    return encoded == "h:" + std::string(p);
  }
  // Unique, base64url alphabet, about as long as the real thing.
  std::string randomToken(std::size_t bytes) override {
    std::string token = "Rnd" + std::to_string(++counter) + "_";
    token.resize(std::max(token.size(), (bytes * 4 + 2) / 3), 'x');
    return token;
  }
  std::string digest(std::string_view s) override { return "d:" + std::string(s); }
  std::string sign(std::string_view payload) override {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : "key|" + std::string(payload)) h = (h ^ c) * 1099511628211ull;
    return "S" + std::to_string(h);
  }
  bool verifySignature(std::string_view p, std::string_view s) override { return s == sign(p); }

  int counter = 0;
  int verifications = 0;
  std::string lastVerified;
};

}  // namespace mcu::core::testing
