#pragma once
// core::Store on an embedded SQLite file: the server's database.
//
// One connection, guarded by one mutex (SQLite serialises writers anyway, and a single connection
// keeps the prepared-statement cache simple). The file runs in WAL mode with synchronous=FULL and
// foreign keys on; every mutating call is one BEGIN IMMEDIATE transaction holding the change and
// its audit row, so a killed process leaves either all of a call or none of it.
//
// The schema is versioned: opening a file applies, each in its own transaction, the migration
// steps it has not seen yet, and refuses (StoreError) a file written by a newer build.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mcu/core/Store.hpp"

namespace mcu::store {

class SqliteConnection;  // the sqlite3 handle and its statement cache (SqliteStore.cpp)

class SqliteStore final : public core::Store {
 public:
  // The schema version this build writes: the number of migration steps it knows.
  static constexpr std::int64_t kSchemaVersion = 1;

  // Opens or creates the database at `path` (and its parent directory); ":memory:" gives a
  // private in-memory database. Throws core::StoreError when the file cannot be opened or set up,
  // or when its schema is newer than kSchemaVersion.
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  core::AccountId createAccount(const core::Account& account,
                                const core::AuditEntry& audit) override;
  bool updateAccount(const core::Account& account, const core::AuditEntry& audit) override;
  std::optional<core::Account> account(core::AccountId id) override;
  std::optional<core::Account> accountByUsername(const std::string& username) override;
  std::vector<core::Account> accounts() override;

  void createSession(const core::Session& session) override;
  std::optional<core::Session> session(const std::string& id) override;
  void revokeSession(const std::string& id) override;
  void revokeSessionsOf(core::AccountId account) override;
  std::size_t purgeSessions(core::UnixTime now) override;

  std::optional<core::OrgTreeVersion> latestOrgTree() override;
  std::int64_t saveOrgTree(const std::vector<core::Unit>& units, core::UnixTime at,
                           core::AccountId by, const core::AuditEntry& audit) override;

  std::int64_t createRoomLink(const core::RoomLink& link, const core::AuditEntry& audit) override;
  bool revokeRoomLink(const std::string& unitId, core::UnixTime at,
                      const core::AuditEntry& audit) override;
  std::optional<core::RoomLink> roomLinkByDigest(const std::string& digest) override;
  std::vector<core::RoomLink> activeRoomLinks() override;

  core::MeetingId createMeeting(const core::Meeting& meeting,
                                const core::AuditEntry& audit) override;
  bool updateMeeting(const core::Meeting& meeting, const core::AuditEntry& audit) override;
  std::optional<core::Meeting> meeting(core::MeetingId id) override;
  std::optional<core::Meeting> meetingByCode(const std::string& code) override;
  std::vector<core::Meeting> meetings(const core::MeetingQuery& query) override;

  void appendAudit(const core::AuditEntry& entry) override;
  std::vector<core::AuditEntry> audit(std::int64_t beforeId, std::size_t limit) override;

 private:
  std::mutex mutex_;  // guards db_: one call at a time on the connection
  std::unique_ptr<SqliteConnection> db_;
};

}  // namespace mcu::store
