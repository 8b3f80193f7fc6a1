#pragma once
// Shared by the store tests: a unique temporary directory per test, sample values, and gtest
// printers so a failed comparison shows fields instead of raw bytes.
#include <stdlib.h>

#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mcu/core/Store.hpp"

namespace mcu::core {

// printers (found by argument-dependent lookup)
inline void PrintTo(const Account& a, std::ostream* os) {
  *os << "account " << a.id << " '" << a.username << "' (" << roleName(a.role) << ")";
}
inline void PrintTo(const Session& s, std::ostream* os) {
  *os << "session '" << s.id << "' of " << s.accountId << " until " << s.expiresAt
      << (s.revoked ? " revoked" : "");
}
inline void PrintTo(const RoomLink& l, std::ostream* os) {
  *os << "link " << l.id << " " << l.unitId << " '" << l.secretDigest << "' revokedAt "
      << l.revokedAt;
}
inline void PrintTo(const Meeting& m, std::ostream* os) {
  *os << "meeting " << m.id << " '" << m.code << "' [" << m.startsAt << ", " << m.endsAt << ") "
      << meetingStateName(m.state) << ", " << m.invited.size() << " invited";
}
inline void PrintTo(const AuditEntry& e, std::ostream* os) {
  *os << "audit " << e.id << " " << e.action << " " << e.target;
}

}  // namespace mcu::core

namespace mcu::store::test {

// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "mcu-store-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline core::AuditEntry auditEntry(std::string action, std::string target = {},
                                   core::UnixTime at = 1'700'000'000) {
  return core::AuditEntry{0, at, 1, "admin", std::move(action), std::move(target), "{\"k\":1}"};
}

inline core::Account sampleAccount(std::string username, core::Role role = core::Role::kHost) {
  core::Account a;
  a.username = std::move(username);
  a.displayName = "Người dùng " + a.username;  // UTF-8 survives the round trip
  a.role = role;
  a.passwordHash = "$scrypt$v1$salt$hash-" + a.username;
  a.mustChangePassword = true;
  a.createdAt = 1'700'000'000;
  return a;
}

inline core::Meeting sampleMeeting(std::string code, core::UnixTime startsAt, core::UnixTime endsAt,
                                   std::vector<std::string> invited = {}) {
  core::Meeting m;
  m.code = std::move(code);
  m.title = "Họp " + m.code;
  m.startsAt = startsAt;
  m.endsAt = endsAt;
  m.chairId = 2;
  m.access = core::MeetingAccess::kAnyone;
  m.invited = std::move(invited);
  m.createdBy = 1;
  m.createdAt = 1'700'000'000;
  m.updatedAt = 1'700'000'001;
  return m;
}

}  // namespace mcu::store::test
