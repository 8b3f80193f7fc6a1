#include "mcu/core/MeetingService.hpp"

#include <algorithm>
#include <set>

#include "mcu/core/Text.hpp"

namespace mcu::core {

namespace {

constexpr UnixTime kMaxDuration = 24 * 3600;
// How far in the past a new start time may lie: a meeting created "now" and submitted a few
// minutes later is still fine.
constexpr UnixTime kStartGrace = 15 * 60;
constexpr int kMaxTitle = 200;

ServiceError badField(const std::string& message) {
  return ServiceError(Status::kBadRequest, "bad_field", message);
}
ServiceError badState(const Meeting& m, const std::string& what) {
  return ServiceError(
      Status::kConflict, "bad_state",
      "cannot " + what + " a meeting that is " + std::string(meetingStateName(m.state)));
}

bool validCode(const std::string& code) {
  if (code.size() < 3 || code.size() > 32) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool isLive(MeetingState s) {
  return s == MeetingState::kOpen || s == MeetingState::kLive;
}
bool isFinal(MeetingState s) {
  return s == MeetingState::kEnded || s == MeetingState::kCancelled;
}

std::string meetingTarget(const Meeting& m) {
  return "meeting:" + (m.id ? std::to_string(m.id) : m.code);
}

}  // namespace

std::string_view rollStatusName(RollEntry::Status status) {
  switch (status) {
    case RollEntry::Status::kNeverJoined:
      return "never_joined";
    case RollEntry::Status::kConnected:
      return "connected";
    case RollEntry::Status::kLeft:
      return "left";
  }
  return "never_joined";
}

MeetingService::MeetingService(Store& store, Crypto& crypto, const Clock& clock)
    : store_(store), crypto_(crypto), clock_(clock) {}

void MeetingService::setListener(MeetingListener* listener) {
  listener_ = listener;
}

void MeetingService::setAuth(AuthService* auth) {
  auth_ = auth;
}

Caller MeetingService::authenticate(const std::string& token) {
  if (!auth_) throw ServiceError(Status::kUnauthorized, "unauthorized", "no accounts here");
  return auth_->authenticate(token);
}

Meeting MeetingService::meetingByCode(const std::string& code) {
  std::lock_guard lock(mutex_);
  if (auto it = standing_.find(code); it != standing_.end()) {
    Meeting m;
    m.code = code;
    m.title = it->second;
    m.state = MeetingState::kLive;
    m.access = MeetingAccess::kAnyone;
    return m;
  }
  auto m = store_.meetingByCode(code);
  if (!m) throw ServiceError(Status::kNotFound, "not_found", "no meeting with this code");
  return *m;
}

// ---------------------------------------------------------------- organisation tree

void MeetingService::loadTree(const std::function<std::vector<Unit>()>& seed) {
  std::lock_guard lock(mutex_);
  if (auto latest = store_.latestOrgTree()) {
    tree_ = std::make_shared<const OrgTree>(latest->units);
    treeVersion_ = latest->version;
    return;
  }
  auto tree = std::make_shared<const OrgTree>(seed());
  const UnixTime now = clock_.now();
  treeVersion_ = store_.saveOrgTree(
      tree->units(), now, 0,
      AuditEntry{0, now, 0, "server", "units.import", "units",
                 "seeded from the configuration: " + std::to_string(tree->size()) + " units"});
  tree_ = std::move(tree);
}

std::shared_ptr<const OrgTree> MeetingService::tree() const {
  std::lock_guard lock(mutex_);
  return tree_;
}

std::int64_t MeetingService::treeVersion() const {
  std::lock_guard lock(mutex_);
  return treeVersion_;
}

std::int64_t MeetingService::importTree(const Caller& caller, const std::vector<Unit>& units) {
  AuthService::require(caller, {Role::kAdmin});
  std::shared_ptr<const OrgTree> tree;
  try {
    tree = std::make_shared<const OrgTree>(units);
  } catch (const OrgTreeError& e) {
    throw badField(std::string("the tree is not valid: ") + e.what());
  }
  std::lock_guard lock(mutex_);
  // History must keep resolving: every unit a current meeting invites or a room link belongs to
  // has to stay, as itself or as a former id of the unit it merged into.
  std::set<std::string> missing;
  MeetingQuery current;
  current.states = {MeetingState::kScheduled, MeetingState::kOpen, MeetingState::kLive};
  for (const auto& m : store_.meetings(current)) {
    for (const auto& id : m.invited) {
      if (!tree->find(id)) missing.insert(id);
    }
  }
  for (const auto& link : store_.activeRoomLinks()) {
    if (!tree->find(link.unitId)) missing.insert(link.unitId);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& id : missing) list += (list.empty() ? "" : ", ") + id;
    throw badField(
        "units still invited to meetings or holding room links are missing (keep "
        "them, or list them under formerIds of the unit they merged into): " +
        list);
  }
  const UnixTime now = clock_.now();
  treeVersion_ = store_.saveOrgTree(
      tree->units(), now, caller.id,
      auditOf(caller, "units.import", "units", std::to_string(tree->size()) + " units"));
  tree_ = std::move(tree);
  return treeVersion_;
}

// ---------------------------------------------------------------- meetings

Meeting MeetingService::create(const Caller& caller, const MeetingDraft& draft) {
  AuthService::require(caller, {Role::kAdmin, Role::kHost});
  Meeting m;
  {
    std::lock_guard lock(mutex_);
    const UnixTime now = clock_.now();
    m.title = trim(draft.title);
    m.startsAt = draft.startsAt;
    m.endsAt = draft.endsAt;
    m.chairId = draft.chairId ? draft.chairId : caller.id;
    m.access = draft.access;
    m.state = MeetingState::kScheduled;
    m.invited = expand(draft.invite);
    m.createdBy = caller.id;
    m.createdAt = now;
    m.updatedAt = now;
    validate(m, true);
    const bool generated = draft.code.empty();
    for (int attempt = 0;; ++attempt) {
      m.code = generated ? generateCode() : draft.code;
      if (!validCode(m.code)) {
        throw badField("code must be 3-32 characters: lower-case letters, digits and '-'");
      }
      try {
        if (standing_.count(m.code)) throw StoreConflict("standing meeting");
        m.id = store_.createMeeting(
            m, auditOf(caller, "meeting.create", "meeting:" + m.code,
                       m.title + " (" + std::to_string(m.invited.size()) + " invited)"));
        break;
      } catch (const StoreConflict&) {
        if (!generated || attempt >= 5) {
          throw ServiceError(Status::kConflict, "duplicate_code",
                             "the join code '" + m.code + "' is already used by another meeting");
        }
      }
    }
  }
  return m;
}

Meeting MeetingService::update(const Caller& caller, MeetingId id, const MeetingPatch& patch) {
  AuthService::require(caller, {Role::kAdmin, Role::kHost});
  return transition(caller, id, "meeting.update", [&](Meeting& m) {
    if (isFinal(m.state)) throw badState(m, "edit");
    // Rooms and guests are joining with the code of an open meeting, and a live one has started.
    if (isLive(m.state) && patch.code && *patch.code != m.code) {
      throw ServiceError(Status::kConflict, "bad_state",
                         "the join code of an open or live meeting cannot change: rooms and "
                         "guests are joining with it");
    }
    if (m.state == MeetingState::kLive && patch.startsAt && *patch.startsAt != m.startsAt) {
      throw ServiceError(Status::kConflict, "bad_state",
                         "a live meeting has started: its start time cannot change");
    }
    bool startChanged = false;
    if (patch.title) m.title = trim(*patch.title);
    if (patch.startsAt) {
      startChanged = *patch.startsAt != m.startsAt;
      m.startsAt = *patch.startsAt;
    }
    if (patch.endsAt) m.endsAt = *patch.endsAt;
    if (patch.chairId) m.chairId = *patch.chairId ? *patch.chairId : caller.id;
    if (patch.access) m.access = *patch.access;
    if (patch.code) {
      if (!validCode(*patch.code)) {
        throw badField("code must be 3-32 characters: lower-case letters, digits and '-'");
      }
      if (standing_.count(*patch.code)) {
        throw ServiceError(Status::kConflict, "duplicate_code",
                           "the join code '" + *patch.code + "' is already used");
      }
      m.code = *patch.code;
    }
    if (patch.invite) m.invited = expand(*patch.invite);
    validate(m, startChanged);
  });
}

Meeting MeetingService::cancel(const Caller& caller, MeetingId id) {
  AuthService::require(caller, {Role::kAdmin, Role::kHost});
  return transition(caller, id, "meeting.cancel", [](Meeting& m) {
    if (m.state != MeetingState::kScheduled && m.state != MeetingState::kOpen) {
      throw badState(m, "cancel");
    }
    m.state = MeetingState::kCancelled;
  });
}

Meeting MeetingService::open(const Caller& caller, MeetingId id) {
  AuthService::require(caller, {Role::kAdmin, Role::kHost});
  return transition(caller, id, "meeting.open", [](Meeting& m) {
    if (isLive(m.state)) return;  // already open: nothing to do
    if (m.state != MeetingState::kScheduled) throw badState(m, "open");
    m.state = MeetingState::kOpen;
  });
}

Meeting MeetingService::close(const Caller& caller, MeetingId id) {
  AuthService::require(caller, {Role::kAdmin, Role::kHost});
  return transition(caller, id, "meeting.close", [](Meeting& m) {
    if (!isLive(m.state)) throw badState(m, "close");
    m.state = MeetingState::kEnded;
  });
}

Meeting MeetingService::setLocked(const Caller& caller, MeetingId id, bool locked) {
  AuthService::require(caller, {Role::kAdmin, Role::kHost});
  return transition(caller, id, locked ? "meeting.lock" : "meeting.unlock", [locked](Meeting& m) {
    if (isFinal(m.state)) throw badState(m, locked ? "lock" : "unlock");
    m.locked = locked;
  });
}

std::vector<Meeting> MeetingService::sweep(UnixTime grace) {
  std::vector<Meeting> ended;
  {
    std::lock_guard lock(mutex_);
    const UnixTime now = clock_.now();
    MeetingQuery current;
    current.to = now;  // started before now: the only ones that can have ended
    current.states = {MeetingState::kScheduled, MeetingState::kOpen, MeetingState::kLive};
    for (Meeting m : store_.meetings(current)) {
      const bool neverOpened = m.state == MeetingState::kScheduled;
      if (now < m.endsAt + (neverOpened ? 0 : grace)) continue;
      const std::string detail =
          neverOpened ? "never opened" : std::string(meetingStateName(m.state)) + " past its end";
      m.state = MeetingState::kEnded;
      m.updatedAt = now;
      if (store_.updateMeeting(
              m, AuditEntry{0, now, 0, "server", "meeting.expire", meetingTarget(m), detail})) {
        ended.push_back(std::move(m));
      }
    }
  }
  for (const auto& m : ended) notify(m);
  return ended;
}

Meeting MeetingService::get(const Caller&, MeetingId id) {
  std::lock_guard lock(mutex_);
  return load(id);
}

std::vector<Meeting> MeetingService::list(const Caller&, const MeetingQuery& query) {
  std::lock_guard lock(mutex_);
  return store_.meetings(query);
}

std::vector<RollEntry> MeetingService::roll(const Caller&, MeetingId id) {
  std::lock_guard lock(mutex_);
  const Meeting m = load(id);
  std::vector<RollEntry> out;
  const auto presentIt = presence_.find(id);
  const std::map<std::string, Presence> none;
  const auto& present = presentIt == presence_.end() ? none : presentIt->second;
  auto fill = [](RollEntry& e, const Presence& p) {
    e.connections = p.connections;
    e.firstJoinedAt = p.firstJoinedAt;
    e.lastChangeAt = p.lastChangeAt;
    e.status = p.connections > 0     ? RollEntry::Status::kConnected
               : p.firstJoinedAt > 0 ? RollEntry::Status::kLeft
                                     : RollEntry::Status::kNeverJoined;
  };
  std::set<std::string> listed;
  for (const auto& unitId : m.invited) {
    RollEntry e;
    const Unit* unit = tree_->find(unitId);
    e.unitId = unit ? unit->id : unitId;
    e.name = unit ? unit->name : unitId;
    e.invited = true;
    if (!listed.insert(e.unitId).second) continue;  // two invited units merged into one
    if (auto it = present.find(e.unitId); it != present.end()) fill(e, it->second);
    out.push_back(std::move(e));
  }
  for (const auto& [key, p] : present) {
    if (listed.count(key)) continue;
    RollEntry e;
    const bool guest = key.rfind("guest:", 0) == 0;
    e.unitId = guest ? std::string() : key;
    e.name = p.name;
    fill(e, p);
    out.push_back(std::move(e));
  }
  return out;
}

// ---------------------------------------------------------------- room links

std::string MeetingService::issueRoomLink(const Caller& caller, const std::string& unitId) {
  AuthService::require(caller, {Role::kAdmin, Role::kHost});
  std::lock_guard lock(mutex_);
  const Unit* unit = tree_->find(unitId);
  if (!unit) throw ServiceError(Status::kNotFound, "not_found", "no unit with id " + unitId);
  const std::string secret = crypto_.randomToken(24);
  RoomLink link;
  link.unitId = unit->id;
  link.secretDigest = crypto_.digest(secret);
  link.createdAt = clock_.now();
  link.createdBy = caller.id;
  store_.createRoomLink(link, auditOf(caller, "room-link.issue", "unit:" + unit->id));
  return secret;
}

void MeetingService::revokeRoomLink(const Caller& caller, const std::string& unitId) {
  AuthService::require(caller, {Role::kAdmin, Role::kHost});
  std::lock_guard lock(mutex_);
  const Unit* unit = tree_->find(unitId);
  const std::string id = unit ? unit->id : unitId;
  if (!store_.revokeRoomLink(id, clock_.now(), auditOf(caller, "room-link.revoke", "unit:" + id))) {
    throw ServiceError(Status::kNotFound, "not_found",
                       "unit " + unitId + " has no active room link");
  }
}

std::vector<RoomLink> MeetingService::roomLinks(const Caller& caller) {
  AuthService::require(caller, {Role::kAdmin, Role::kHost});
  std::lock_guard lock(mutex_);
  return store_.activeRoomLinks();
}

// ---------------------------------------------------------------- rooms

Landing MeetingService::landing(const std::string& roomSecret) {
  std::lock_guard lock(mutex_);
  RoomLink storage;
  const RoomLink& link = activeLink(roomSecret, storage);
  const Unit* unit = tree_->find(link.unitId);
  Landing out;
  out.unitId = unit ? unit->id : link.unitId;
  out.unitName = unit ? unit->name : link.unitId;
  const std::vector<std::string> ids = unit ? idsOf(*unit) : std::vector<std::string>{link.unitId};
  const UnixTime now = clock_.now();
  std::optional<Meeting> live, next;
  for (const auto& id : ids) {
    MeetingQuery q;
    q.invitedUnit = id;
    q.states = {MeetingState::kScheduled, MeetingState::kOpen, MeetingState::kLive};
    for (auto& m : store_.meetings(q)) {
      if (isLive(m.state)) {
        if (!live || m.startsAt < live->startsAt) live = m;
      } else if (m.endsAt > now && (!next || m.startsAt < next->startsAt)) {
        next = m;
      }
    }
  }
  out.meeting = live ? live : next;
  return out;
}

Admission MeetingService::admit(const std::string& code, const std::string& roomSecret,
                                const std::string& guestName) {
  if (roomSecret.empty()) {
    std::lock_guard lock(mutex_);
    if (auto it = standing_.find(code); it != standing_.end()) {
      return Admission{0, code, it->second, {}, guestName};
    }
  }
  Admission a;
  Meeting m;
  if (!roomSecret.empty()) {
    const Landing where = landing(roomSecret);
    a.unitId = where.unitId;
    a.displayName = where.unitName;
    std::lock_guard lock(mutex_);
    if (code.empty()) {
      if (!where.meeting) {
        throw ServiceError(Status::kConflict, "meeting_closed",
                           "no meeting is planned for this room");
      }
      m = *where.meeting;
    } else {
      auto found = store_.meetingByCode(code);
      if (!found) throw ServiceError(Status::kNotFound, "not_found", "no meeting with this code");
      m = *found;
      const Unit* unit = tree_->find(a.unitId);
      const auto ids = unit ? idsOf(*unit) : std::vector<std::string>{a.unitId};
      const bool invited = std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
        return std::binary_search(m.invited.begin(), m.invited.end(), id);
      });
      if (!invited && m.access != MeetingAccess::kAnyone) {
        throw ServiceError(Status::kForbidden, "not_invited",
                           "this room is not invited to this meeting");
      }
    }
  } else {
    std::lock_guard lock(mutex_);
    auto found = store_.meetingByCode(code);
    if (!found) throw ServiceError(Status::kNotFound, "not_found", "no meeting with this code");
    m = *found;
    if (m.access != MeetingAccess::kAnyone) {
      throw ServiceError(Status::kForbidden, "not_invited",
                         "this meeting admits invited bridge points only: use your room link");
    }
    a.displayName = guestName;
  }
  if (!isLive(m.state)) {
    throw ServiceError(Status::kConflict, "meeting_closed",
                       m.state == MeetingState::kScheduled ? "the meeting is not open yet"
                                                           : "the meeting is over");
  }
  if (m.locked) {
    throw ServiceError(Status::kConflict, "meeting_locked", "the meeting is locked");
  }
  a.meetingId = m.id;
  a.code = m.code;
  a.title = m.title;
  return a;
}

void MeetingService::roomJoined(const Admission& admission) {
  if (!admission.meetingId) return;
  std::optional<Meeting> changed;
  {
    std::lock_guard lock(mutex_);
    const UnixTime now = clock_.now();
    const std::string key =
        admission.unitId.empty() ? "guest:" + admission.displayName : admission.unitId;
    Presence& p = presence_[admission.meetingId][key];
    p.name = admission.displayName;
    ++p.connections;
    if (!p.firstJoinedAt) p.firstJoinedAt = now;
    p.lastChangeAt = now;
    if (auto m = store_.meeting(admission.meetingId); m && m->state == MeetingState::kOpen) {
      m->state = MeetingState::kLive;
      m->updatedAt = now;
      store_.updateMeeting(*m, AuditEntry{0, now, 0, "room:" + key, "meeting.live",
                                          meetingTarget(*m), "first room joined"});
      changed = std::move(m);
    }
  }
  if (changed) notify(*changed);
}

void MeetingService::roomLeft(const Admission& admission) {
  if (!admission.meetingId) return;
  std::lock_guard lock(mutex_);
  const std::string key =
      admission.unitId.empty() ? "guest:" + admission.displayName : admission.unitId;
  auto it = presence_.find(admission.meetingId);
  if (it == presence_.end()) return;
  auto p = it->second.find(key);
  if (p == it->second.end() || p->second.connections == 0) return;
  --p->second.connections;
  p->second.lastChangeAt = clock_.now();
}

bool MeetingService::admits(const Meeting& meeting, const std::string& unitId) {
  if (meeting.access == MeetingAccess::kAnyone) return true;
  if (unitId.empty()) return false;
  std::lock_guard lock(mutex_);
  const Unit* unit = tree_->find(unitId);
  return std::any_of(meeting.invited.begin(), meeting.invited.end(), [&](const std::string& id) {
    return id == unitId || (unit && tree_->find(id) == unit);
  });
}

void MeetingService::addStandingMeeting(const std::string& code, const std::string& title) {
  std::lock_guard lock(mutex_);
  standing_[code] = title;
}

void MeetingService::audit(const AuditEntry& entry) {
  std::lock_guard lock(mutex_);
  AuditEntry stamped = entry;
  if (!stamped.at) stamped.at = clock_.now();
  store_.appendAudit(stamped);
}

// ---------------------------------------------------------------- internals

Meeting MeetingService::transition(const Caller& caller, MeetingId id, const std::string& action,
                                   const std::function<void(Meeting&)>& change) {
  Meeting m;
  {
    std::lock_guard lock(mutex_);
    m = load(id);
    const Meeting before = m;
    change(m);
    if (m == before) return m;
    m.updatedAt = clock_.now();
    try {
      if (!store_.updateMeeting(m, auditOf(caller, action, meetingTarget(m)))) {
        throw ServiceError(Status::kNotFound, "not_found",
                           "no meeting with id " + std::to_string(id));
      }
    } catch (const StoreConflict&) {
      throw ServiceError(Status::kConflict, "duplicate_code",
                         "the join code '" + m.code + "' is already used by another meeting");
    }
  }
  notify(m);
  return m;
}

Meeting MeetingService::load(MeetingId id) {
  auto m = store_.meeting(id);
  if (!m)
    throw ServiceError(Status::kNotFound, "not_found", "no meeting with id " + std::to_string(id));
  return *m;
}

std::vector<std::string> MeetingService::expand(const InviteSelection& selection) const {
  std::set<std::string> ids;
  for (const auto& id : selection.units) {
    const Unit* u = tree_->find(id);
    if (!u) throw badField("invite: no unit with id '" + id + "'");
    if (!u->active) throw badField("invite: unit '" + id + "' is inactive");
    ids.insert(u->id);
  }
  for (const auto& id : selection.subtrees) {
    if (!tree_->find(id)) throw badField("invite: no unit with id '" + id + "'");
    for (const Unit* u : tree_->subtree(id)) {
      if (u->active) ids.insert(u->id);
    }
  }
  for (const auto& name : selection.kinds) {
    const auto kind = parseUnitKind(name);
    if (!kind) throw badField("invite: unknown kind '" + name + "'");
    for (const Unit* u : tree_->ofKind(*kind)) {
      if (u->active) ids.insert(u->id);
    }
  }
  return {ids.begin(), ids.end()};
}

void MeetingService::validate(const Meeting& m, bool checkStart) const {
  const int titleLength = utf8Length(m.title);
  if (m.title.empty() || titleLength < 0 || titleLength > kMaxTitle) {
    throw badField("title must be 1-" + std::to_string(kMaxTitle) + " characters of text");
  }
  if (hasControlChars(m.title)) throw badField("title must not contain control characters");
  if (m.endsAt <= m.startsAt) {
    throw ServiceError(Status::kBadRequest, "bad_time", "the meeting must end after it starts");
  }
  if (m.endsAt - m.startsAt > kMaxDuration) {
    throw ServiceError(Status::kBadRequest, "bad_time", "a meeting lasts at most 24 hours");
  }
  const UnixTime now = clock_.now();
  if (m.endsAt <= now) {
    throw ServiceError(Status::kBadRequest, "bad_time", "the meeting would end in the past");
  }
  if (checkStart && m.startsAt < now - kStartGrace) {
    throw ServiceError(Status::kBadRequest, "bad_time", "the start time is in the past");
  }
  if (m.chairId) {
    auto chair = store_.account(m.chairId);
    if (!chair || chair->disabled || chair->role == Role::kTechnician) {
      throw badField("chairId must be an enabled admin or host account");
    }
  }
}

AuditEntry MeetingService::auditOf(const Caller& caller, const std::string& action,
                                   const std::string& target, const std::string& detail) const {
  return AuditEntry{0, clock_.now(), caller.id, caller.username, action, target, detail};
}

std::string MeetingService::generateCode() {
  // Eight characters from [a-z0-9]: easy to read out on a phone call.
  static constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  std::string code;
  while (code.size() < 8) {
    for (char c : crypto_.randomToken(16)) {
      const auto lower = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      if (kAlphabet.find(lower) != std::string_view::npos && code.size() < 8) code += lower;
    }
  }
  return code.substr(0, 4) + "-" + code.substr(4);
}

std::vector<std::string> MeetingService::idsOf(const Unit& unit) const {
  std::vector<std::string> ids{unit.id};
  ids.insert(ids.end(), unit.formerIds.begin(), unit.formerIds.end());
  return ids;
}

const RoomLink& MeetingService::activeLink(const std::string& secret, RoomLink& storage) {
  auto link = secret.empty() ? std::nullopt : store_.roomLinkByDigest(crypto_.digest(secret));
  if (!link) {
    throw ServiceError(Status::kUnauthorized, "unauthorized", "this room link is not valid");
  }
  if (link->revokedAt) {
    throw ServiceError(Status::kForbidden, "link_revoked",
                       "this room link was replaced or revoked; ask the host for the new one");
  }
  storage = std::move(*link);
  return storage;
}

void MeetingService::notify(const Meeting& meeting) {
  if (listener_) listener_->onMeetingChanged(meeting);
}

}  // namespace mcu::core
