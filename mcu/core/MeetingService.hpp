#pragma once
// Meetings, the organisation tree they invite from, bridge points' room links, who may join what,
// and who is connected (roll call). Pure logic over the Store, Crypto and Clock ports;
// thread-safe (one internal mutex): the REST API calls it from the HTTP threads, the conference
// model from the core executor.
//
// Lifecycle: scheduled --open--> open --first room joins--> live --close--> ended;
//            scheduled|open --cancel--> cancelled. ended and cancelled are final.
// A bridge point may join a meeting that invites it (through its room link) while the meeting is
// open or live and not locked; with access "anyone", also whoever has the join code.
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mcu/core/AuthService.hpp"
#include "mcu/core/OrgTree.hpp"
#include "mcu/core/Security.hpp"
#include "mcu/core/ServiceError.hpp"
#include "mcu/core/Store.hpp"

namespace mcu::core {

// Which bridge points a meeting invites. Expanded when the meeting is saved: later tree changes
// do not add or remove invitations (merged units still resolve through their former ids).
struct InviteSelection {
  std::vector<std::string> units;     // these units exactly
  std::vector<std::string> subtrees;  // these units and every active unit below them
  std::vector<std::string> kinds;     // every active unit of these kinds ("commune", "ward", ...)
  bool empty() const { return units.empty() && subtrees.empty() && kinds.empty(); }
};

struct MeetingDraft {
  std::string title;  // 1..200 characters
  UnixTime startsAt = 0;
  UnixTime endsAt = 0;  // after startsAt, at most 24 h later, not in the past
  AccountId chairId = 0;  // 0: the creator; must be an enabled admin or host account
  MeetingAccess access = MeetingAccess::kInvited;
  std::string code;  // empty: generated; else [a-z0-9-]{3,32}, unique
  InviteSelection invite;
};

struct MeetingPatch {
  std::optional<std::string> title;
  std::optional<UnixTime> startsAt;
  std::optional<UnixTime> endsAt;
  std::optional<AccountId> chairId;
  std::optional<MeetingAccess> access;
  std::optional<std::string> code;
  std::optional<InviteSelection> invite;  // replaces the invitations
};

// One row of a meeting's roll: an invited bridge point or a guest who joined with the code.
struct RollEntry {
  enum class Status { kNeverJoined, kConnected, kLeft };
  std::string unitId;  // empty for a guest
  std::string name;
  bool invited = false;
  Status status = Status::kNeverJoined;
  UnixTime firstJoinedAt = 0;  // 0: never
  UnixTime lastChangeAt = 0;
  int connections = 0;  // rooms connected now under this unit (usually 0 or 1)
};
std::string_view rollStatusName(RollEntry::Status status);  // never_joined, connected, left

// What the conference model gets when a room may join.
struct Admission {
  MeetingId meetingId = 0;
  std::string code;
  std::string title;
  std::string unitId;       // empty for a guest (joined with the code)
  std::string displayName;  // the unit's name for a bridge point, the given name for a guest
};

// Where a room link lands: its unit and its current or next meeting.
struct Landing {
  std::string unitId;
  std::string unitName;
  std::optional<Meeting> meeting;  // open/live first, else the next scheduled; none: nothing planned
};

// Told about every change of a meeting's state, lock or deletion, after the change is stored
// and outside the service's lock, on the thread that made the change.
class MeetingListener {
 public:
  virtual ~MeetingListener() = default;
  virtual void onMeetingChanged(const Meeting& meeting) = 0;
};

class MeetingService {
 public:
  MeetingService(Store& store, Crypto& crypto, const Clock& clock);
  void setListener(MeetingListener* listener);  // before use

  // ---- organisation tree ----
  // At start: the store's latest tree, else `seed` saved as version 1. Throws OrgTreeError if the
  // stored tree no longer validates.
  void loadTree(const std::vector<Unit>& seed);
  std::shared_ptr<const OrgTree> tree() const;
  std::int64_t treeVersion() const;
  // Admin only. Validates (OrgTreeError -> bad_field listing the problems); every unit id that
  // meetings or room links refer to must still resolve (as a live or former id), else bad_field
  // naming them. Returns the new version.
  std::int64_t importTree(const Caller& caller, const std::vector<Unit>& units);

  // ---- meetings (reads: every role; writes: admin, host) ----
  Meeting create(const Caller& caller, const MeetingDraft& draft);
  // Only scheduled or open meetings can be edited (bad_state).
  Meeting update(const Caller& caller, MeetingId id, const MeetingPatch& patch);
  Meeting cancel(const Caller& caller, MeetingId id);
  Meeting open(const Caller& caller, MeetingId id);
  Meeting close(const Caller& caller, MeetingId id);  // open|live -> ended; rooms are sent away
  Meeting setLocked(const Caller& caller, MeetingId id, bool locked);
  Meeting get(const Caller& caller, MeetingId id);
  std::vector<Meeting> list(const Caller& caller, const MeetingQuery& query);
  std::vector<RollEntry> roll(const Caller& caller, MeetingId id);

  // ---- room links (admin, host) ----
  // Makes a new secret for the unit (revoking the old link) and returns the secret, shown once.
  std::string issueRoomLink(const Caller& caller, const std::string& unitId);
  void revokeRoomLink(const Caller& caller, const std::string& unitId);
  std::vector<RoomLink> roomLinks(const Caller& caller);

  // ---- rooms (the conference model; no caller) ----
  // link_revoked / unauthorized for a bad secret.
  Landing landing(const std::string& roomSecret);
  // With a secret: the bridge point joins `code`, or its current meeting when `code` is empty.
  // Without: a guest joins `code` with `guestName`. Errors: not_found (no such meeting),
  // not_invited, meeting_closed (not open/live yet or any more), meeting_locked.
  Admission admit(const std::string& code, const std::string& roomSecret,
                  const std::string& guestName);
  // Presence, for the roll and the live state: the first join of an open meeting makes it live.
  void roomJoined(MeetingId meeting, const std::string& unitId, const std::string& name);
  void roomLeft(MeetingId meeting, const std::string& unitId, const std::string& name);

  // Audit entries of the conference model (chair actions, joins) go through here too.
  void audit(const AuditEntry& entry);

 private:
  // ... implementation state
  struct Presence {
    std::string name;
    int connections = 0;
    UnixTime firstJoinedAt = 0;
    UnixTime lastChangeAt = 0;
  };
  Meeting transition(const Caller& caller, MeetingId id, const char* action,
                     const std::function<void(Meeting&)>& change);
  void notify(const Meeting& meeting);

  Store& store_;
  Crypto& crypto_;
  const Clock& clock_;
  MeetingListener* listener_ = nullptr;
  mutable std::mutex mutex_;
  std::shared_ptr<const OrgTree> tree_;
  std::int64_t treeVersion_ = 0;
  // meeting -> (unit id, or "guest:" + name) -> presence
  std::map<MeetingId, std::map<std::string, Presence>> presence_;
};

}  // namespace mcu::core
