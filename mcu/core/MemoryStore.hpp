#pragma once
// core::Store in memory (unit tests, and a server run without a database file). Same contract as
// mcu/store/SqliteStore, which the shared contract test (tests/unit/store) holds both to: every
// mutating call checks its unique keys before it changes anything, so a conflict leaves the store
// untouched; ids start at 1 and are never reused; like the SQLite foreign key, a session needs an
// existing account (StoreError). One mutex guards everything.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "mcu/core/Store.hpp"

namespace mcu::core {

class MemoryStore final : public Store {
 public:
  MemoryStore() = default;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  AccountId createAccount(const Account& account, const AuditEntry& audit) override;
  bool updateAccount(const Account& account, const AuditEntry& audit) override;
  std::optional<Account> account(AccountId id) override;
  std::optional<Account> accountByUsername(const std::string& username) override;
  std::vector<Account> accounts() override;

  void createSession(const Session& session) override;
  std::optional<Session> session(const std::string& id) override;
  void revokeSession(const std::string& id) override;
  void revokeSessionsOf(AccountId account) override;
  std::size_t purgeSessions(UnixTime now) override;

  std::optional<OrgTreeVersion> latestOrgTree() override;
  std::int64_t saveOrgTree(const std::vector<Unit>& units, UnixTime at, AccountId by,
                           const AuditEntry& audit) override;

  std::int64_t createRoomLink(const RoomLink& link, const AuditEntry& audit) override;
  bool revokeRoomLink(const std::string& unitId, UnixTime at, const AuditEntry& audit) override;
  std::optional<RoomLink> roomLinkByDigest(const std::string& digest) override;
  std::vector<RoomLink> activeRoomLinks() override;

  MeetingId createMeeting(const Meeting& meeting, const AuditEntry& audit) override;
  bool updateMeeting(const Meeting& meeting, const AuditEntry& audit) override;
  std::optional<Meeting> meeting(MeetingId id) override;
  std::optional<Meeting> meetingByCode(const std::string& code) override;
  std::vector<Meeting> meetings(const MeetingQuery& query) override;

  void appendAudit(const AuditEntry& entry) override;
  std::vector<AuditEntry> audit(std::int64_t beforeId, std::size_t limit) override;

 private:
  // Callers hold mutex_.
  void appendAuditLocked(const AuditEntry& entry);
  bool usernameTaken(const std::string& username, AccountId except) const;
  bool codeTaken(const std::string& code, MeetingId except) const;
  void revokeActiveLink(const std::string& unitId, UnixTime at);

  std::mutex mutex_;
  // Secondary keys (username, code, digest) are found by a scan: fine at test sizes, and a
  // single source of truth cannot drift out of step with an index.
  std::map<AccountId, Account> accounts_;
  std::map<std::string, Session> sessions_;
  std::vector<OrgTreeVersion> orgTrees_;  // version i + 1 at index i
  std::map<std::int64_t, RoomLink> roomLinks_;
  std::map<MeetingId, Meeting> meetings_;
  std::vector<AuditEntry> audit_;  // ascending ids
  AccountId nextAccountId_ = 1;
  std::int64_t nextRoomLinkId_ = 1;
  MeetingId nextMeetingId_ = 1;
  std::int64_t nextAuditId_ = 1;
};

}  // namespace mcu::core
