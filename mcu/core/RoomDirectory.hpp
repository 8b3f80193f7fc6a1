#pragma once
// What the conference model asks about rooms before letting them in: which meeting a room may
// join, and where a bridge point's room link lands. MeetingService implements it; Conference
// holds it (optional: without one, only the config's standing meetings exist).
// Methods throw ServiceError for a refusal (codes: unauthorized, link_revoked, not_found,
// not_invited, meeting_closed, meeting_locked).
#include <algorithm>
#include <optional>
#include <string>

#include "mcu/core/AuthService.hpp"
#include "mcu/core/Store.hpp"

namespace mcu::core {

// What the conference model gets when a room may join.
struct Admission {
  MeetingId meetingId = 0;  // 0: a standing meeting from the config (no roll)
  std::string code;
  std::string title;
  std::string unitId;       // empty for a guest (joined with the code)
  std::string displayName;  // the unit's name for a bridge point, the given name for a guest
};

// Where a room link lands: its unit and its current or next meeting.
struct Landing {
  std::string unitId;
  std::string unitName;
  std::optional<Meeting>
      meeting;  // open/live first, else the next scheduled; none: nothing planned
};

class RoomDirectory {
 public:
  virtual ~RoomDirectory() = default;
  // The bridge point's unit and its current or next meeting.
  virtual Landing landing(const std::string& roomSecret) = 0;
  // With a secret: the bridge point joins `code`, or its current meeting when `code` is empty.
  // Without: a guest joins `code` as `guestName` (meetings with access "anyone" only).
  virtual Admission admit(const std::string& code, const std::string& roomSecret,
                          const std::string& guestName) = 0;
  // Presence, for the roll: the first join of an open meeting makes it live.
  virtual void roomJoined(const Admission& admission) = 0;
  virtual void roomLeft(const Admission& admission) = 0;
  // Whether `meeting`, as just edited, still admits a room of this unit that is in it (empty
  // unitId: a guest): access "anyone", or the unit is invited. This default compares ids as
  // they are; MeetingService also resolves merged units' former ids.
  virtual bool admits(const Meeting& meeting, const std::string& unitId) {
    if (meeting.access == MeetingAccess::kAnyone) return true;
    return !unitId.empty() &&
           std::binary_search(meeting.invited.begin(), meeting.invited.end(), unitId);
  }

  // ---- for the chair's console (a host or admin attached to a live meeting) ----
  // Who holds this token (unauthorized, token_expired).
  virtual Caller authenticate(const std::string& token) = 0;
  // The meeting with this code, standing meetings included (id 0); not_found otherwise.
  virtual Meeting meetingByCode(const std::string& code) = 0;
  // Locks or unlocks the meeting on the chair's behalf (checks the role, audited).
  virtual Meeting setLocked(const Caller& caller, MeetingId id, bool locked) = 0;
  // Records a chair action in the audit log.
  virtual void audit(const AuditEntry& entry) = 0;
};

}  // namespace mcu::core
