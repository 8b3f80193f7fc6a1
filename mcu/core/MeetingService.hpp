#pragma once
// Meetings, the organisation tree they invite from, bridge points' room links, who may join what,
// and who is connected (roll call). Pure logic over the Store, Crypto and Clock ports;
// thread-safe (one internal mutex): the REST API calls it from the HTTP threads, the conference
// model from the core executor.
//
// Lifecycle: scheduled --open--> open --first room joins--> live --close--> ended;
//            scheduled|open --cancel--> cancelled. ended and cancelled are final.
//            sweep() ends open|live meetings a grace period after endsAt, and scheduled ones
//            whose endsAt passed without their being opened.
// A bridge point may join a meeting that invites it (through its room link) while the meeting is
// open or live and not locked; with access "anyone", also whoever has the join code.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mcu/core/AuthService.hpp"
#include "mcu/core/OrgTree.hpp"
#include "mcu/core/RoomDirectory.hpp"
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
  UnixTime endsAt = 0;    // after startsAt, at most 24 h later, not in the past
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

// Told about every stored change of a meeting (state, lock, invitations, any edit), after it is
// stored and outside the service's lock, on the thread that made the change.
class MeetingListener {
 public:
  virtual ~MeetingListener() = default;
  virtual void onMeetingChanged(const Meeting& meeting) = 0;
};

class MeetingService : public RoomDirectory {
 public:
  MeetingService(Store& store, Crypto& crypto, const Clock& clock);
  void setListener(MeetingListener* listener);  // before use
  // Who checks chairs' tokens (RoomDirectory::authenticate); before use.
  void setAuth(AuthService* auth);

  // ---- organisation tree ----
  // At start: the store's latest tree, else the units `seed` returns (e.g. read from configs/),
  // saved as version 1. Throws OrgTreeError if the tree does not validate.
  void loadTree(const std::function<std::vector<Unit>()>& seed);
  void loadTree(const std::vector<Unit>& seed) {
    loadTree([&seed] { return seed; });
  }
  std::shared_ptr<const OrgTree> tree() const;
  std::int64_t treeVersion() const;
  // Admin only. Validates (OrgTreeError -> bad_field listing the problems); every unit id that
  // meetings or room links refer to must still resolve (as a live or former id), else bad_field
  // naming them. Returns the new version.
  std::int64_t importTree(const Caller& caller, const std::vector<Unit>& units);

  // ---- meetings (reads: every role; writes: admin, host) ----
  Meeting create(const Caller& caller, const MeetingDraft& draft);
  // Ended and cancelled meetings cannot be edited (bad_state). Once open, the join code is fixed;
  // once live, the start time too (bad_state). Invitations of an open or live meeting may change:
  // the listener hears of it, and rooms the meeting no longer admits are sent away.
  Meeting update(const Caller& caller, MeetingId id, const MeetingPatch& patch);
  Meeting cancel(const Caller& caller, MeetingId id);
  Meeting open(const Caller& caller, MeetingId id);
  Meeting close(const Caller& caller, MeetingId id);  // open|live -> ended; rooms are sent away
  Meeting setLocked(const Caller& caller, MeetingId id, bool locked) override;
  // Ends what the clock has left behind (the server calls it every config.schedule.sweepSeconds):
  // open or live meetings `grace` seconds after their end time, as close() does, and scheduled
  // meetings never opened once their end time has passed. Audited as the server
  // ("meeting.expire"); the listener hears each. Returns the meetings it ended.
  std::vector<Meeting> sweep(UnixTime grace);
  Meeting get(const Caller& caller, MeetingId id);
  std::vector<Meeting> list(const Caller& caller, const MeetingQuery& query);
  std::vector<RollEntry> roll(const Caller& caller, MeetingId id);

  // ---- room links (admin, host) ----
  // Makes a new secret for the unit (revoking the old link) and returns the secret, shown once.
  std::string issueRoomLink(const Caller& caller, const std::string& unitId);
  void revokeRoomLink(const Caller& caller, const std::string& unitId);
  std::vector<RoomLink> roomLinks(const Caller& caller);

  // ---- rooms (RoomDirectory, for the conference model; no caller) ----
  // unauthorized for an unknown secret, link_revoked for a revoked one.
  Landing landing(const std::string& roomSecret) override;
  // Errors: not_found (no such meeting), not_invited, meeting_closed (not open/live yet or any
  // more), meeting_locked. A room link admits to the meetings that invite its unit (or to any
  // meeting with access "anyone").
  Admission admit(const std::string& code, const std::string& roomSecret,
                  const std::string& guestName) override;
  void roomJoined(const Admission& admission) override;
  void roomLeft(const Admission& admission) override;
  // Invited through the unit's own id or one merged into it, or access "anyone".
  bool admits(const Meeting& meeting, const std::string& unitId) override;

  // A meeting from the config that is always open to anyone with its code (e.g. "demo"); not
  // stored, no roll. Its code cannot be taken by a stored meeting.
  void addStandingMeeting(const std::string& code, const std::string& title);

  Caller authenticate(const std::string& token) override;
  Meeting meetingByCode(const std::string& code) override;
  // setLocked (above) is also the RoomDirectory's.

  // Audit entries of the conference model (chair actions, joins) go through here too.
  void audit(const AuditEntry& entry) override;

 private:
  struct Presence {
    std::string name;
    int connections = 0;
    UnixTime firstJoinedAt = 0;
    UnixTime lastChangeAt = 0;
  };
  // Applies `change` to a stored meeting under the lock, stores it with an audit entry and
  // notifies the listener outside the lock. `change` throws ServiceError to refuse.
  Meeting transition(const Caller& caller, MeetingId id, const std::string& action,
                     const std::function<void(Meeting&)>& change);
  Meeting load(MeetingId id);  // not_found
  std::vector<std::string> expand(const InviteSelection& selection) const;
  void validate(const Meeting& meeting, bool checkStart) const;
  AuditEntry auditOf(const Caller& caller, const std::string& action, const std::string& target,
                     const std::string& detail = {}) const;
  std::string generateCode();
  // The unit's live id and the former ids that resolve to it.
  std::vector<std::string> idsOf(const Unit& unit) const;
  const RoomLink& activeLink(const std::string& secret, RoomLink& storage);
  void notify(const Meeting& meeting);

  Store& store_;
  Crypto& crypto_;
  const Clock& clock_;
  MeetingListener* listener_ = nullptr;
  AuthService* auth_ = nullptr;
  mutable std::mutex mutex_;
  std::shared_ptr<const OrgTree> tree_;
  std::int64_t treeVersion_ = 0;
  std::map<std::string, std::string> standing_;  // code -> title
  // meeting -> (unit id, or "guest:" + name) -> presence
  std::map<MeetingId, std::map<std::string, Presence>> presence_;
};

}  // namespace mcu::core
