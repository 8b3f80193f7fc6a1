#include "mcu/core/MemoryStore.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace mcu::core {

namespace {

// A meeting's invitations are a set: stored sorted and without duplicates, as Meeting promises.
std::vector<std::string> normalisedInvitations(std::vector<std::string> units) {
  std::sort(units.begin(), units.end());
  units.erase(std::unique(units.begin(), units.end()), units.end());
  return units;
}

// revokedAt 0 means "active", so revoking at time 0 would silently keep the link active.
void requireRevocationTime(UnixTime at) {
  if (at <= 0) throw std::invalid_argument("room link revocation time must be positive");
}

bool overlaps(const Meeting& m, const MeetingQuery& q) {
  return m.startsAt < q.to && m.endsAt > q.from;
}

bool matches(const Meeting& m, const MeetingQuery& q) {
  if (!overlaps(m, q)) return false;
  if (!q.states.empty() && std::find(q.states.begin(), q.states.end(), m.state) == q.states.end())
    return false;
  return q.invitedUnit.empty() ||
         std::binary_search(m.invited.begin(), m.invited.end(), q.invitedUnit);
}

}  // namespace

// ---- accounts ----

AccountId MemoryStore::createAccount(const Account& account, const AuditEntry& audit) {
  std::lock_guard lock(mutex_);
  if (usernameTaken(account.username, 0))
    throw StoreConflict("username '" + account.username + "' is taken");
  Account stored = account;
  stored.id = nextAccountId_++;
  accounts_.emplace(stored.id, stored);
  appendAuditLocked(audit);
  return stored.id;
}

bool MemoryStore::updateAccount(const Account& account, const AuditEntry& audit) {
  std::lock_guard lock(mutex_);
  auto it = accounts_.find(account.id);
  if (it == accounts_.end()) return false;
  if (usernameTaken(account.username, account.id))
    throw StoreConflict("username '" + account.username + "' is taken");
  Account stored = account;
  stored.createdAt = it->second.createdAt;
  it->second = std::move(stored);
  appendAuditLocked(audit);
  return true;
}

std::optional<Account> MemoryStore::account(AccountId id) {
  std::lock_guard lock(mutex_);
  auto it = accounts_.find(id);
  if (it == accounts_.end()) return std::nullopt;
  return it->second;
}

std::optional<Account> MemoryStore::accountByUsername(const std::string& username) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, a] : accounts_) {
    if (a.username == username) return a;
  }
  return std::nullopt;
}

std::vector<Account> MemoryStore::accounts() {
  std::lock_guard lock(mutex_);
  std::vector<Account> out;
  for (const auto& [id, a] : accounts_) out.push_back(a);
  return out;
}

// ---- sessions ----

void MemoryStore::createSession(const Session& session) {
  std::lock_guard lock(mutex_);
  // SqliteStore's foreign key, mirrored so a test on this store sees the same failure.
  if (!accounts_.count(session.accountId))
    throw StoreError("session of unknown account " + std::to_string(session.accountId));
  if (!sessions_.emplace(session.id, session).second) throw StoreConflict("session id is taken");
}

std::optional<Session> MemoryStore::session(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second;
}

void MemoryStore::revokeSession(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(id); it != sessions_.end()) it->second.revoked = true;
}

void MemoryStore::revokeSessionsOf(AccountId account) {
  std::lock_guard lock(mutex_);
  for (auto& [id, s] : sessions_) {
    if (s.accountId == account) s.revoked = true;
  }
}

std::size_t MemoryStore::purgeSessions(UnixTime now) {
  std::lock_guard lock(mutex_);
  return std::erase_if(sessions_,
                       [now](const auto& entry) { return entry.second.expiresAt < now; });
}

// ---- organisation tree ----

std::optional<OrgTreeVersion> MemoryStore::latestOrgTree() {
  std::lock_guard lock(mutex_);
  if (orgTrees_.empty()) return std::nullopt;
  return orgTrees_.back();
}

std::int64_t MemoryStore::saveOrgTree(const std::vector<Unit>& units, UnixTime at, AccountId by,
                                      const AuditEntry& audit) {
  std::lock_guard lock(mutex_);
  const auto version = static_cast<std::int64_t>(orgTrees_.size()) + 1;
  orgTrees_.push_back(OrgTreeVersion{version, units, at, by});
  appendAuditLocked(audit);
  return version;
}

// ---- room links ----

std::int64_t MemoryStore::createRoomLink(const RoomLink& link, const AuditEntry& audit) {
  requireRevocationTime(link.createdAt);
  std::lock_guard lock(mutex_);
  for (const auto& [id, l] : roomLinks_) {
    if (l.secretDigest == link.secretDigest) throw StoreConflict("room link digest is taken");
  }
  revokeActiveLink(link.unitId, link.createdAt);
  RoomLink stored = link;
  stored.id = nextRoomLinkId_++;
  stored.revokedAt = 0;
  roomLinks_.emplace(stored.id, stored);
  appendAuditLocked(audit);
  return stored.id;
}

bool MemoryStore::revokeRoomLink(const std::string& unitId, UnixTime at, const AuditEntry& audit) {
  requireRevocationTime(at);
  std::lock_guard lock(mutex_);
  const bool hasActive = std::any_of(roomLinks_.begin(), roomLinks_.end(), [&](const auto& e) {
    return e.second.unitId == unitId && e.second.revokedAt == 0;
  });
  if (!hasActive) return false;
  revokeActiveLink(unitId, at);
  appendAuditLocked(audit);
  return true;
}

std::optional<RoomLink> MemoryStore::roomLinkByDigest(const std::string& digest) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, l] : roomLinks_) {
    if (l.secretDigest == digest) return l;
  }
  return std::nullopt;
}

std::vector<RoomLink> MemoryStore::activeRoomLinks() {
  std::lock_guard lock(mutex_);
  std::vector<RoomLink> out;
  for (const auto& [id, l] : roomLinks_) {
    if (l.revokedAt == 0) out.push_back(l);
  }
  std::sort(out.begin(), out.end(),
            [](const RoomLink& a, const RoomLink& b) { return a.unitId < b.unitId; });
  return out;
}

// ---- meetings ----

MeetingId MemoryStore::createMeeting(const Meeting& meeting, const AuditEntry& audit) {
  std::lock_guard lock(mutex_);
  if (codeTaken(meeting.code, 0))
    throw StoreConflict("meeting code '" + meeting.code + "' is taken");
  Meeting stored = meeting;
  stored.id = nextMeetingId_++;
  stored.invited = normalisedInvitations(meeting.invited);
  meetings_.emplace(stored.id, stored);
  appendAuditLocked(audit);
  return stored.id;
}

bool MemoryStore::updateMeeting(const Meeting& meeting, const AuditEntry& audit) {
  std::lock_guard lock(mutex_);
  auto it = meetings_.find(meeting.id);
  if (it == meetings_.end()) return false;
  if (codeTaken(meeting.code, meeting.id))
    throw StoreConflict("meeting code '" + meeting.code + "' is taken");
  Meeting stored = meeting;
  stored.createdBy = it->second.createdBy;
  stored.createdAt = it->second.createdAt;
  stored.invited = normalisedInvitations(meeting.invited);
  it->second = std::move(stored);
  appendAuditLocked(audit);
  return true;
}

std::optional<Meeting> MemoryStore::meeting(MeetingId id) {
  std::lock_guard lock(mutex_);
  auto it = meetings_.find(id);
  if (it == meetings_.end()) return std::nullopt;
  return it->second;
}

std::optional<Meeting> MemoryStore::meetingByCode(const std::string& code) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, m] : meetings_) {
    if (m.code == code) return m;
  }
  return std::nullopt;
}

std::vector<Meeting> MemoryStore::meetings(const MeetingQuery& query) {
  std::lock_guard lock(mutex_);
  std::vector<Meeting> out;
  for (const auto& [id, m] : meetings_) {
    if (matches(m, query)) out.push_back(m);
  }
  std::sort(out.begin(), out.end(), [](const Meeting& a, const Meeting& b) {
    return std::tie(a.startsAt, a.id) < std::tie(b.startsAt, b.id);
  });
  return out;
}

// ---- audit log ----

void MemoryStore::appendAudit(const AuditEntry& entry) {
  std::lock_guard lock(mutex_);
  appendAuditLocked(entry);
}

std::vector<AuditEntry> MemoryStore::audit(std::int64_t beforeId, std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::vector<AuditEntry> out;
  for (auto it = audit_.rbegin(); it != audit_.rend() && out.size() < limit; ++it) {
    if (beforeId == 0 || it->id < beforeId) out.push_back(*it);
  }
  return out;
}

// ---- private ----

void MemoryStore::appendAuditLocked(const AuditEntry& entry) {
  AuditEntry stored = entry;
  stored.id = nextAuditId_++;
  audit_.push_back(std::move(stored));
}

bool MemoryStore::usernameTaken(const std::string& username, AccountId except) const {
  return std::any_of(accounts_.begin(), accounts_.end(), [&](const auto& e) {
    return e.first != except && e.second.username == username;
  });
}

bool MemoryStore::codeTaken(const std::string& code, MeetingId except) const {
  return std::any_of(meetings_.begin(), meetings_.end(),
                     [&](const auto& e) { return e.first != except && e.second.code == code; });
}

void MemoryStore::revokeActiveLink(const std::string& unitId, UnixTime at) {
  for (auto& [id, l] : roomLinks_) {
    if (l.unitId == unitId && l.revokedAt == 0) l.revokedAt = at;
  }
}

}  // namespace mcu::core
