#pragma once
// What the server keeps across restarts: accounts and their sessions, the organisation tree's
// versions, bridge points' room links, meetings with their invitations, and the audit log.
// Pure types and one interface; mcu/store/SqliteStore implements it on an embedded SQLite file,
// core::MemoryStore in memory (unit tests). A server database can be added behind the same
// interface later.
//
// Contract for every implementation:
// - each mutating call is one transaction: it happens completely (with its audit entry, when it
//   takes one) or not at all, also when the process is killed in the middle;
// - implementations are thread-safe (calls may come from several threads);
// - times are Unix seconds (UTC); ids are assigned by the store, starting at 1;
// - failures of the medium throw StoreError; a unique key taken throws StoreConflict and leaves
//   the store unchanged.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mcu/core/OrgTree.hpp"

namespace mcu::core {

using UnixTime = std::int64_t;  // seconds since 1970-01-01T00:00:00Z
using AccountId = std::int64_t;
using MeetingId = std::int64_t;

enum class Role { kAdmin, kHost, kTechnician };
// "admin", "host", "technician"
std::string_view roleName(Role role);
std::optional<Role> parseRole(std::string_view name);

struct Account {
  AccountId id = 0;
  std::string username;  // unique, case-sensitive, [a-z0-9._-]{1,64}
  std::string displayName;
  Role role = Role::kHost;
  std::string passwordHash;  // Crypto::hashPassword's self-describing encoding
  bool disabled = false;
  bool mustChangePassword = false;
  UnixTime createdAt = 0;
  bool operator==(const Account&) const = default;
};

// A login session; the bearer token names it and carries its expiry (AuthService).
struct Session {
  std::string id;  // random, unique
  AccountId accountId = 0;
  UnixTime createdAt = 0;
  UnixTime expiresAt = 0;
  bool revoked = false;
  bool operator==(const Session&) const = default;
};

// One imported version of the organisation tree. Versions only grow; the latest is the tree.
struct OrgTreeVersion {
  std::int64_t version = 0;
  std::vector<Unit> units;  // in OrgTree::units() order
  UnixTime importedAt = 0;
  AccountId importedBy = 0;  // 0: the server (seeded from configs/)
};

// A bridge point's secret link. Only a digest of the secret is stored: the secret itself is shown
// once, when the link is made. A unit has at most one active link; making a new one revokes the
// old one in the same transaction.
struct RoomLink {
  std::int64_t id = 0;
  std::string unitId;
  std::string secretDigest;  // Crypto::digest(secret), unique
  UnixTime createdAt = 0;
  AccountId createdBy = 0;
  UnixTime revokedAt = 0;  // 0: active
  bool operator==(const RoomLink&) const = default;
};

enum class MeetingState { kScheduled, kOpen, kLive, kEnded, kCancelled };
// "scheduled", "open", "live", "ended", "cancelled"
std::string_view meetingStateName(MeetingState state);
std::optional<MeetingState> parseMeetingState(std::string_view name);

enum class MeetingAccess {
  kInvited,  // only invited bridge points, through their room links
  kAnyone,   // invited bridge points, and anyone who has the join code
};
// "invited", "anyone"
std::string_view meetingAccessName(MeetingAccess access);
std::optional<MeetingAccess> parseMeetingAccess(std::string_view name);

struct Meeting {
  MeetingId id = 0;
  std::string code;  // join code, unique over all meetings ever: [a-z0-9-]{3,32}
  std::string title;
  UnixTime startsAt = 0;
  UnixTime endsAt = 0;
  AccountId chairId = 0;  // 0: none
  MeetingState state = MeetingState::kScheduled;
  MeetingAccess access = MeetingAccess::kInvited;
  bool locked = false;               // no room may join (those in stay)
  std::vector<std::string> invited;  // unit ids, sorted, unique
  AccountId createdBy = 0;
  UnixTime createdAt = 0;
  UnixTime updatedAt = 0;
  bool operator==(const Meeting&) const = default;
};

struct MeetingQuery {
  // Meetings whose [startsAt, endsAt) overlaps [from, to).
  UnixTime from = INT64_MIN;
  UnixTime to = INT64_MAX;
  std::vector<MeetingState> states;  // empty: any
  std::string invitedUnit;           // empty: any
};

struct AuditEntry {
  std::int64_t id = 0;  // assigned by the store
  UnixTime at = 0;
  AccountId actorId = 0;  // 0: not an account (the server, or a room)
  std::string actor;      // "admin", "room:lc.xa.ban-lau", "server"
  std::string action;     // "meeting.create", "meeting.open", "account.login-failed", ...
  std::string target;     // "meeting:12", "account:3", "unit:lc.xa.ban-lau", ""
  std::string detail;     // short free text (may be JSON)
  bool operator==(const AuditEntry&) const = default;
};

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A unique key (username, meeting code, session id, secret digest) is already taken.
class StoreConflict : public StoreError {
 public:
  using StoreError::StoreError;
};

class Store {
 public:
  virtual ~Store() = default;

  // ---- accounts ----
  // Returns the new id. StoreConflict when the username is taken.
  virtual AccountId createAccount(const Account& account, const AuditEntry& audit) = 0;
  // Replaces every field but id and createdAt; false (and no audit entry) if there is no such id.
  // StoreConflict when renamed to a taken username.
  virtual bool updateAccount(const Account& account, const AuditEntry& audit) = 0;
  virtual std::optional<Account> account(AccountId id) = 0;
  virtual std::optional<Account> accountByUsername(const std::string& username) = 0;
  virtual std::vector<Account> accounts() = 0;  // by id

  // ---- sessions ----
  virtual void createSession(const Session& session) = 0;  // StoreConflict on a taken id
  virtual std::optional<Session> session(const std::string& id) = 0;
  virtual void revokeSession(const std::string& id) = 0;  // no-op for an unknown id
  virtual void revokeSessionsOf(AccountId account) = 0;
  // Deletes sessions that expired before `now`; returns how many.
  virtual std::size_t purgeSessions(UnixTime now) = 0;

  // ---- organisation tree ----
  virtual std::optional<OrgTreeVersion> latestOrgTree() = 0;
  // Stores a new version; returns its number (1 for the first).
  virtual std::int64_t saveOrgTree(const std::vector<Unit>& units, UnixTime at, AccountId by,
                                   const AuditEntry& audit) = 0;

  // ---- room links ----
  // Revokes the unit's active link (revokedAt = link.createdAt) and adds this one; returns its id.
  virtual std::int64_t createRoomLink(const RoomLink& link, const AuditEntry& audit) = 0;
  // Revokes the unit's active link; false (and no audit entry) when it has none.
  virtual bool revokeRoomLink(const std::string& unitId, UnixTime at, const AuditEntry& audit) = 0;
  // Active or revoked: the caller tells them apart.
  virtual std::optional<RoomLink> roomLinkByDigest(const std::string& digest) = 0;
  // Active links only, by unit id.
  virtual std::vector<RoomLink> activeRoomLinks() = 0;

  // ---- meetings ----
  // Returns the new id. StoreConflict when the code is taken.
  virtual MeetingId createMeeting(const Meeting& meeting, const AuditEntry& audit) = 0;
  // Replaces every field but id, createdBy and createdAt, invitations included; false (and no
  // audit entry) if there is no such id. StoreConflict when the code is taken.
  virtual bool updateMeeting(const Meeting& meeting, const AuditEntry& audit) = 0;
  virtual std::optional<Meeting> meeting(MeetingId id) = 0;
  virtual std::optional<Meeting> meetingByCode(const std::string& code) = 0;
  // Ordered by startsAt, then id.
  virtual std::vector<Meeting> meetings(const MeetingQuery& query) = 0;

  // ---- audit log ----
  virtual void appendAudit(const AuditEntry& entry) = 0;
  // Newest first: entries with id < beforeId (0: from the newest), at most `limit`.
  virtual std::vector<AuditEntry> audit(std::int64_t beforeId, std::size_t limit) = 0;
};

}  // namespace mcu::core
