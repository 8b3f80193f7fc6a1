#include "mcu/core/Conference.hpp"

#include <algorithm>
#include <cctype>

#include "mcu/core/ServiceError.hpp"

namespace mcu::core {

Conference::Conference(const Config& config, Timers& timers, MediaPort& media, SignalPort& signal,
                       RoomDirectory* rooms)
    : config_(config),
      timers_(timers),
      media_(media),
      signal_(signal),
      rooms_(rooms),
      monitor_(HealthThresholds{config.monitor.lossPercent, config.monitor.jitterMs,
                                config.monitor.oneWayDelayMs, config.monitor.noMediaSeconds,
                                config.monitor.warnFraction},
               std::size_t(std::max(1, config.monitor.historySamples))) {}

Conference::~Conference() {
  *alive_ = false;
  if (monitorTimer_) timers_.cancel(*monitorTimer_);
  for (auto& [id, p] : participants_) cancelAnswerTimer(p);
}

// ---------------------------------------------------------------- signaling side

namespace {

// The protocol's error for a refusal from the room directory.
ErrorCode joinErrorOf(const ServiceError& e) {
  const std::string& c = e.code();
  if (c == "not_found") return ErrorCode::kUnknownMeeting;
  if (c == "meeting_closed") return ErrorCode::kMeetingClosed;
  if (c == "meeting_locked") return ErrorCode::kMeetingLocked;
  if (c == "not_invited" || c == "forbidden") return ErrorCode::kNotInvited;
  if (c == "link_revoked") return ErrorCode::kLinkRevoked;
  if (c == "unauthorized") return ErrorCode::kUnauthorized;
  return ErrorCode::kInternal;
}

// What the chair's bar is keyed by: a bridge point's unit, or a guest's name.
std::string barKey(const Admission& admission) {
  return admission.unitId.empty() ? "guest:" + admission.displayName : admission.unitId;
}

}  // namespace

void Conference::join(ConnectionId conn, RequestId req, const JoinRequest& request) {
  if (byConnection_.count(conn)) {
    return replyError(conn, req, ErrorCode::kAlreadyJoined, "this connection already joined");
  }
  if (waiting_.count(conn)) {
    return replyError(conn, req, ErrorCode::kAlreadyJoined, "this connection is already waiting");
  }
  std::string name;
  if (request.room.empty()) {
    name = trim(request.name);
    const int nameLength = utf8Length(name);
    if (name.empty() || nameLength < 0 || hasControlChars(name) ||
        nameLength > config_.limits.maxNameLength) {
      return replyError(conn, req, ErrorCode::kBadField,
                        "name must be 1-" + std::to_string(config_.limits.maxNameLength) +
                            " characters of valid UTF-8 text");
    }
  }
  Admission admission;
  try {
    if (request.test) {
      if (!admitTest(conn, req, request, name, admission)) return;
    } else {
      admission = admit(request, name);
    }
  } catch (const ServiceError& e) {
    if (e.code() == "meeting_closed" && tryWaiting(conn, req, request)) return;
    return replyError(conn, req, joinErrorOf(e), e.what());
  } catch (const std::exception& e) {
    return replyError(conn, req, ErrorCode::kInternal, "the meeting could not be looked up");
  }
  if (chairs_.count(conn)) {
    return replyError(conn, req, ErrorCode::kAlreadyJoined, "this connection is a chair console");
  }
  LiveMeeting& meeting = liveMeeting(admission.code, admission.title, admission.meetingId);
  if (request.test && !meeting.test) {
    meeting.test = true;
    media_.setSelfHearing(meeting.code, true);
  }
  if (meeting.barred.count(barKey(admission))) {
    dropIfIdle(admission.code);
    return replyError(conn, req, ErrorCode::kNotInvited,
                      "the chair removed this room from the meeting");
  }
  if (static_cast<int>(meeting.order.size()) >= config_.limits.maxRoomsPerMeeting) {
    dropIfIdle(admission.code);
    return replyError(conn, req, ErrorCode::kMeetingFull, "the meeting is full");
  }

  Participant p;
  p.id = "p" + std::to_string(nextParticipant_++);
  p.conn = conn;
  p.meeting = meeting.code;
  p.admission = admission;
  p.request = request;
  p.entry = RosterEntry{p.id, admission.displayName, false, false};
  const ParticipantId id = p.id;
  const RosterEntry entry = p.entry;
  const auto others = connectionsIn(meeting, id);
  participants_.emplace(id, std::move(p));
  byConnection_[conn] = id;
  monitorJoined(participants_.at(id));
  meeting.order.push_back(id);
  meeting.layout.addRoom(id, admission.displayName);
  if (meeting.test) armTestEnd(meeting);
  if (rooms_ && !meeting.test) {  // a test call is not presence at a meeting
    try {
      rooms_->roomJoined(admission);
    } catch (const std::exception&) {
      // The roll is informational; the room is in the meeting either way.
    }
  }

  signal_.send(conn, JoinedMsg{req, meeting.code, meeting.title, id, roster(meeting.code)});
  if (!others.empty()) signal_.broadcast(others, ParticipantJoinedMsg{entry});
  media_.addParticipant(meeting.code, id, admission.displayName);
  if (meeting.rollCallOpen) signal_.send(conn, RollCallMsg{true});
  if (!meeting.notice.empty()) signal_.send(conn, NoticeMsg{meeting.notice});
  applyLayout(meeting);
  tellVideoWanted(meeting, participants_.at(id));  // a room that joins off screen, unchanged tiles
  stateChanged(meeting, true);
  armAnswerTimer(participants_.at(id));
}

Admission Conference::admit(const JoinRequest& request, const std::string& guestName) {
  if (rooms_) return rooms_->admit(request.meeting, request.room, guestName);
  if (!request.room.empty()) {
    throw ServiceError(Status::kUnauthorized, "unauthorized", "room links are not enabled");
  }
  for (const auto& m : config_.meetings) {
    if (m.code != request.meeting) continue;
    if (!m.open) throw ServiceError(Status::kConflict, "meeting_closed", "the meeting is not open");
    return Admission{0, m.code, m.title, {}, guestName};
  }
  throw ServiceError(Status::kNotFound, "not_found", "no meeting with this code");
}

// A bridge point whose meeting is scheduled waits for it to open; anyone else is refused.
bool Conference::tryWaiting(ConnectionId conn, RequestId req, const JoinRequest& request) {
  if (!rooms_ || request.room.empty()) return false;
  std::optional<Meeting> meeting;
  std::string name;
  try {
    Landing landing = rooms_->landing(request.room);
    meeting = std::move(landing.meeting);
    name = std::move(landing.unitName);
  } catch (const std::exception&) {
    return false;
  }
  if (!meeting || meeting->state != MeetingState::kScheduled) return false;
  if (!request.meeting.empty() && request.meeting != meeting->code) return false;
  waiting_[conn] = Waiting{meeting->code, request, {}};
  signal_.send(conn, WaitingMsg{req, meeting->code, meeting->title, meeting->startsAt,
                                std::string(meetingStateName(meeting->state)), name});
  return true;
}

void Conference::meetingChanged(const Meeting& meeting) {
  const bool ended =
      meeting.state == MeetingState::kEnded || meeting.state == MeetingState::kCancelled;
  const bool open = meeting.state == MeetingState::kOpen || meeting.state == MeetingState::kLive;
  const std::string reason = meeting.state == MeetingState::kCancelled ? "cancelled" : "closed";
  // Waiting rooms: join now, or hear that the meeting will not happen.
  std::vector<std::pair<ConnectionId, JoinRequest>> toJoin;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const bool letIn = open && !meeting.locked && !isBarred(it->second);
    if (it->second.meeting != meeting.code || !(ended || letIn)) {
      ++it;
      continue;
    }
    if (ended) {
      signal_.send(it->first, MeetingEndedMsg{meeting.code, reason});
    } else {
      toJoin.emplace_back(it->first, it->second.request);
    }
    it = waiting_.erase(it);
  }
  for (const auto& [conn, request] : toJoin) join(conn, std::nullopt, request);
  auto it = meetings_.find(meeting.code);
  if (it == meetings_.end()) return;
  if (!ended) {
    it->second.locked = meeting.locked;
    // Rooms the edited meeting no longer admits (uninvited units; guests once access is
    // "invited") are sent away; each removal tells the chairs and may drop the idle meeting.
    std::vector<ParticipantId> uninvited;
    for (const auto& id : it->second.order) {
      const Participant* p = find(id);
      if (p && rooms_ && !rooms_->admits(meeting, p->admission.unitId)) uninvited.push_back(id);
    }
    if (uninvited.empty()) return stateChanged(it->second, true);
    for (const auto& id : uninvited) {
      const ConnectionId conn = find(id)->conn;
      removeParticipant(id);
      signal_.send(conn, MeetingEndedMsg{meeting.code, "uninvited"});
    }
    return;
  }
  it->second.barred.clear();  // the bars end with the meeting
  const std::vector<ConnectionId> chairs = it->second.chairs;
  for (ConnectionId c : chairs) {
    chairs_.erase(c);
    signal_.send(c, MeetingEndedMsg{meeting.code, reason});
  }
  it->second.chairs.clear();
  const std::vector<ParticipantId> inMeeting = it->second.order;
  for (const auto& id : inMeeting) {
    Participant* p = find(id);
    if (!p) continue;
    const ConnectionId conn = p->conn;
    removeParticipant(id);
    signal_.send(conn, MeetingEndedMsg{meeting.code, reason});
  }
  monitor_.meetingEnded(meeting.code);
  dropIfIdle(meeting.code);
}

void Conference::answer(ConnectionId conn, RequestId req, const std::string& sdp) {
  Participant* p = participantOf(conn);
  if (!p) return replyError(conn, req, ErrorCode::kNotJoined, "join a meeting first");
  if (p->negotiation != Negotiation::kOffered) {
    return replyError(conn, req, ErrorCode::kNoSession, "no offer is waiting for an answer");
  }
  if (sdp.empty()) return replyError(conn, req, ErrorCode::kBadSdp, "empty SDP");
  p->negotiation = Negotiation::kAnswered;
  p->answerRequest = req;
  cancelAnswerTimer(*p);
  media_.setRemoteAnswer(p->id, sdp);
}

void Conference::candidate(ConnectionId conn, RequestId req, int sdpMLineIndex,
                           const std::string& cand) {
  Participant* p = participantOf(conn);
  if (!p) return replyError(conn, req, ErrorCode::kNotJoined, "join a meeting first");
  if (p->negotiation != Negotiation::kAnswered) {
    return replyError(conn, req, ErrorCode::kNoSession, "send the answer before candidates");
  }
  if (sdpMLineIndex < 0 || sdpMLineIndex > 15) {
    return replyError(conn, req, ErrorCode::kBadCandidate, "sdpMLineIndex out of range");
  }
  // An empty candidate is the end-of-candidates marker: nothing to hand to the media layer.
  if (cand.empty()) return;
  if (cand.rfind("candidate:", 0) != 0 && cand.rfind("a=candidate:", 0) != 0) {
    return replyError(conn, req, ErrorCode::kBadCandidate, "not an ICE candidate line");
  }
  media_.addRemoteCandidate(p->id, sdpMLineIndex, cand);
}

void Conference::setMuted(ConnectionId conn, RequestId req, MediaKind kind, bool muted) {
  Participant* p = participantOf(conn);
  if (!p) return replyError(conn, req, ErrorCode::kNotJoined, "join a meeting first");
  (kind == MediaKind::kAudio ? p->entry.audioMuted : p->entry.videoMuted) = muted;
  monitorExpect(*p);
  signal_.send(conn, AckMsg{req});
  auto& meeting = meetings_.at(p->meeting);
  const auto others = connectionsIn(meeting, p->id);
  if (!others.empty()) signal_.broadcast(others, ParticipantUpdatedMsg{p->entry});
}

void Conference::leave(ConnectionId conn, RequestId req) {
  if (waiting_.erase(conn)) return signal_.send(conn, LeftMsg{req});
  Participant* p = participantOf(conn);
  if (!p) return replyError(conn, req, ErrorCode::kNotJoined, "not in a meeting");
  removeParticipant(p->id);
  signal_.send(conn, LeftMsg{req});
}

void Conference::disconnected(ConnectionId conn) {
  waiting_.erase(conn);
  if (auto chair = chairs_.find(conn); chair != chairs_.end()) {
    const std::string code = chair->second.meeting;
    chairs_.erase(chair);
    if (auto it = meetings_.find(code); it != meetings_.end()) {
      auto& list = it->second.chairs;
      list.erase(std::remove(list.begin(), list.end(), conn), list.end());
      dropIfIdle(code);
    }
    return;
  }
  monitors_.erase(conn);
  if (Participant* p = participantOf(conn)) removeParticipant(p->id, /*dropped=*/true);
}

// ---------------------------------------------------------------- media side

void Conference::onLocalOffer(const ParticipantId& participant, const std::string& sdp) {
  Participant* p = find(participant);
  if (!p) return;  // left while the offer was being made
  p->negotiation = Negotiation::kOffered;
  signal_.send(p->conn, OfferMsg{sdp});
}

void Conference::onLocalCandidate(const ParticipantId& participant, int sdpMLineIndex,
                                  const std::string& candidate) {
  if (Participant* p = find(participant)) {
    signal_.send(p->conn, CandidateMsg{sdpMLineIndex, candidate});
  }
}

void Conference::onLegState(const ParticipantId& participant, LegState state) {
  Participant* p = find(participant);
  if (!p || p->legState == state) return;
  p->legState = state;
  monitor_.legState(participant, state, timers_.now().count());
  signal_.send(p->conn, MediaStateMsg{state});
  if (state == LegState::kFailed) {
    const ConnectionId conn = p->conn;
    removeParticipant(participant, /*dropped=*/true);
    replyError(conn, std::nullopt, ErrorCode::kMediaFailed,
               "the media connection failed; join again to retry");
  }
}

void Conference::onLegError(const ParticipantId& participant, ErrorCode code,
                            const std::string& message) {
  Participant* p = find(participant);
  if (!p) return;
  if (code == ErrorCode::kBadSdp && p->negotiation == Negotiation::kAnswered) {
    // The offer still stands: the client may answer again before the timeout.
    p->negotiation = Negotiation::kOffered;
    replyError(p->conn, p->answerRequest, code, message);
    armAnswerTimer(*p);
    return;
  }
  if (code == ErrorCode::kBadCandidate) {
    return replyError(p->conn, std::nullopt, code, message);
  }
  const ConnectionId conn = p->conn;
  removeParticipant(participant, /*dropped=*/true);
  replyError(conn, std::nullopt, code, message);
}

void Conference::onAudioLevel(const ParticipantId& participant, int level) {
  Participant* p = find(participant);
  if (!p) return;
  p->level = std::clamp(level, 0, kSilentLevel);
  monitor_.audioLevel(participant, p->level);
  LiveMeeting& meeting = meetings_.at(p->meeting);
  // A room the chair silenced cannot take the big pane by talking.
  const int heard = p->entry.chairMuted || p->entry.audioMuted ? kSilentLevel : p->level;
  meeting.layout.onAudioLevel(participant, heard, timers_.now());
  applyLayout(meeting);
  stateChanged(meeting);
}

void Conference::onShareState(const ParticipantId& participant, bool sharing) {
  Participant* p = find(participant);
  if (!p || p->sharing == sharing) return;
  p->sharing = sharing;
  LiveMeeting& meeting = meetings_.at(p->meeting);
  if (sharing) {
    meeting.layout.startShare(participant);
  } else {
    meeting.layout.stopShare(participant);
  }
  applyLayout(meeting);
  stateChanged(meeting, true);
}

// ---------------------------------------------------------------- hands, roll call, chairs

void Conference::raiseHand(ConnectionId conn, RequestId req, bool raised) {
  Participant* p = participantOf(conn);
  if (!p) return replyError(conn, req, ErrorCode::kNotJoined, "join a meeting first");
  LiveMeeting& meeting = meetings_.at(p->meeting);
  auto& hands = meeting.hands;
  const bool queued = std::find(hands.begin(), hands.end(), p->id) != hands.end();
  if (raised && !queued) hands.push_back(p->id);
  if (!raised && queued) hands.erase(std::remove(hands.begin(), hands.end(), p->id), hands.end());
  signal_.send(conn, AckMsg{req});
  if (p->entry.handRaised != raised) {
    p->entry.handRaised = raised;
    updateEntry(meeting, *p);
  }
  stateChanged(meeting, true);
}

void Conference::answerRollCall(ConnectionId conn, RequestId req) {
  Participant* p = participantOf(conn);
  if (!p) return replyError(conn, req, ErrorCode::kNotJoined, "join a meeting first");
  LiveMeeting& meeting = meetings_.at(p->meeting);
  if (!meeting.rollCallOpen) {
    return replyError(conn, req, ErrorCode::kNotAllowed, "no roll call is open");
  }
  p->rollCallAnswered = true;
  signal_.send(conn, AckMsg{req});
  stateChanged(meeting, true);
}

void Conference::attachChair(ConnectionId conn, RequestId req, const std::string& token,
                             const std::string& code) {
  if (byConnection_.count(conn) || waiting_.count(conn) || chairs_.count(conn)) {
    return replyError(conn, req, ErrorCode::kAlreadyJoined, "this connection is already in use");
  }
  if (!rooms_) return replyError(conn, req, ErrorCode::kNotAllowed, "no chairs on this server");
  Caller caller;
  Meeting meeting;
  try {
    caller = rooms_->authenticate(token);
    meeting = rooms_->meetingByCode(code);
  } catch (const ServiceError& e) {
    const ErrorCode c =
        e.code() == "not_found" ? ErrorCode::kUnknownMeeting : ErrorCode::kUnauthorized;
    return replyError(conn, req, c, e.what());
  } catch (const std::exception&) {
    return replyError(conn, req, ErrorCode::kInternal, "the meeting could not be looked up");
  }
  if (meeting.state != MeetingState::kOpen && meeting.state != MeetingState::kLive) {
    return replyError(conn, req, ErrorCode::kMeetingClosed, "the meeting is not open");
  }
  const bool canControl = caller.role == Role::kAdmin || caller.role == Role::kHost;
  LiveMeeting& live = liveMeeting(meeting.code, meeting.title, meeting.id);
  live.locked = meeting.locked;
  live.chairs.push_back(conn);
  chairs_[conn] = Chair{meeting.code, caller, canControl};
  signal_.send(conn, ChairJoinedMsg{req, meeting.code, meeting.title,
                                    std::string(roleName(caller.role)), canControl});
  signal_.send(conn, stateOf(live));
}

void Conference::control(ConnectionId conn, RequestId req, const ControlRequest& request) {
  auto it = chairs_.find(conn);
  if (it == chairs_.end()) {
    return replyError(conn, req, ErrorCode::kNotAllowed, "attach as a chair first");
  }
  Chair& chair = it->second;
  if (!chair.canControl) {
    return replyError(conn, req, ErrorCode::kForbidden, "this account may watch, not chair");
  }
  LiveMeeting& meeting = meetings_.at(chair.meeting);
  try {
    runControl(chair, meeting, request);
  } catch (const RequestError& e) {
    return replyError(conn, req, e.code(), e.what());
  } catch (const ServiceError& e) {
    const ErrorCode c =
        e.status() == Status::kForbidden ? ErrorCode::kForbidden : ErrorCode::kNotAllowed;
    return replyError(conn, req, c, e.what());
  }
  signal_.send(conn, AckMsg{req});
  applyLayout(meeting);
  stateChanged(meeting, true);
}

namespace {

std::string_view controlName(ControlAction a) {
  switch (a) {
    case ControlAction::kMute:
      return "mute";
    case ControlAction::kMuteAll:
      return "mute-all";
    case ControlAction::kGrantFloor:
      return "grant-floor";
    case ControlAction::kRevokeFloor:
      return "revoke-floor";
    case ControlAction::kLowerHand:
      return "lower-hand";
    case ControlAction::kForceBig:
      return "force-big";
    case ControlAction::kClearForced:
      return "clear-forced";
    case ControlAction::kLayout:
      return "layout";
    case ControlAction::kPin:
      return "pin";
    case ControlAction::kUnpin:
      return "unpin";
    case ControlAction::kRollCall:
      return "roll-call";
    case ControlAction::kLock:
      return "lock";
    case ControlAction::kRemove:
      return "remove";
    case ControlAction::kInviteBack:
      return "invite-back";
    case ControlAction::kNotice:
      return "notice";
  }
  return "?";
}

std::optional<LayoutKind> parseLayoutKind(const std::string& name) {
  if (name == "grid") return LayoutKind::kGrid;
  if (name == "speaker") return LayoutKind::kActiveSpeaker;
  if (name == "presenter") return LayoutKind::kPresenter;
  if (name == "2+8") return LayoutKind::kTwoPlusEight;
  if (name == "1+7") return LayoutKind::kOnePlusSeven;
  return std::nullopt;
}

std::string_view layoutKindName(LayoutKind kind) {
  switch (kind) {
    case LayoutKind::kGrid:
      return "grid";
    case LayoutKind::kActiveSpeaker:
      return "speaker";
    case LayoutKind::kPresenter:
      return "presenter";
    case LayoutKind::kTwoPlusEight:
      return "2+8";
    case LayoutKind::kOnePlusSeven:
      return "1+7";
  }
  return "grid";
}

constexpr int kMaxNotice = 200;

}  // namespace

Conference::Participant& Conference::roomIn(const LiveMeeting& meeting, const ParticipantId& id) {
  if (std::find(meeting.order.begin(), meeting.order.end(), id) == meeting.order.end()) {
    throw RequestError(ErrorCode::kNotAllowed, "no room '" + id + "' in this meeting");
  }
  return participants_.at(id);
}

void Conference::runControl(Chair& chair, LiveMeeting& meeting, const ControlRequest& r) {
  std::string detail = r.room;
  switch (r.action) {
    case ControlAction::kMute:
      setChairMuted(meeting, roomIn(meeting, r.room), r.flag);
      break;
    case ControlAction::kMuteAll:
      for (const auto& id : meeting.order) {
        if (std::find(r.except.begin(), r.except.end(), id) != r.except.end()) continue;
        setChairMuted(meeting, participants_.at(id), r.flag);
      }
      detail.clear();
      break;
    case ControlAction::kGrantFloor: {
      Participant& p = roomIn(meeting, r.room);
      if (meeting.floor && *meeting.floor != p.id) {
        Participant& previous = participants_.at(*meeting.floor);
        previous.entry.floor = false;
        setChairMuted(meeting, previous, true);
        updateEntry(meeting, previous);
      }
      meeting.floor = p.id;
      meeting.hands.erase(std::remove(meeting.hands.begin(), meeting.hands.end(), p.id),
                          meeting.hands.end());
      p.entry.handRaised = false;
      p.entry.floor = true;
      setChairMuted(meeting, p, false);
      updateEntry(meeting, p);
      meeting.forced = p.id;
      meeting.layout.forceBig(p.id);
      break;
    }
    case ControlAction::kRevokeFloor:
      if (meeting.floor) {
        Participant& holder = participants_.at(*meeting.floor);
        detail = holder.id;
        holder.entry.floor = false;
        setChairMuted(meeting, holder, true);
        updateEntry(meeting, holder);
        if (meeting.forced == holder.id) {
          meeting.forced.reset();
          meeting.layout.clearForced();
        }
        meeting.floor.reset();
      }
      break;
    case ControlAction::kLowerHand: {
      Participant& p = roomIn(meeting, r.room);
      meeting.hands.erase(std::remove(meeting.hands.begin(), meeting.hands.end(), p.id),
                          meeting.hands.end());
      if (p.entry.handRaised) {
        p.entry.handRaised = false;
        updateEntry(meeting, p);
      }
      break;
    }
    case ControlAction::kForceBig:
      roomIn(meeting, r.room);
      meeting.forced = r.room;
      meeting.layout.forceBig(r.room);
      break;
    case ControlAction::kClearForced:
      meeting.forced.reset();
      meeting.layout.clearForced();
      break;
    case ControlAction::kLayout: {
      const auto kind = parseLayoutKind(r.layout);
      if (!kind) throw RequestError(ErrorCode::kBadField, "unknown layout '" + r.layout + "'");
      meeting.layout.setKind(*kind);
      detail = r.layout;
      break;
    }
    case ControlAction::kPin:
      if (r.seat < 0 || r.seat >= 25) throw RequestError(ErrorCode::kBadField, "seat: 0..24");
      roomIn(meeting, r.room);
      meeting.layout.pin(r.seat, r.room);
      break;
    case ControlAction::kUnpin:
      if (r.seat < 0 || r.seat >= 25) throw RequestError(ErrorCode::kBadField, "seat: 0..24");
      meeting.layout.unpin(r.seat);
      detail = std::to_string(r.seat);
      break;
    case ControlAction::kRollCall: {
      meeting.rollCallOpen = r.flag;
      if (r.flag) {
        for (const auto& id : meeting.order) participants_.at(id).rollCallAnswered = false;
      }
      const auto rooms = roomConnections(meeting);
      if (!rooms.empty()) signal_.broadcast(rooms, RollCallMsg{r.flag});
      detail = r.flag ? "open" : "closed";
      break;
    }
    case ControlAction::kLock:
      if (!meeting.meetingId) {
        throw RequestError(ErrorCode::kNotAllowed, "a standing meeting cannot be locked");
      }
      rooms_->setLocked(chair.caller, meeting.meetingId, r.flag);
      meeting.locked = r.flag;
      detail = r.flag ? "locked" : "unlocked";
      break;
    case ControlAction::kRemove: {
      Participant& p = roomIn(meeting, r.room);
      detail = p.entry.name;
      removeRoom(meeting, p);
      break;
    }
    case ControlAction::kInviteBack:
      inviteBack(meeting, r.unitId);
      detail = r.unitId;
      break;
    case ControlAction::kNotice: {
      const int length = utf8Length(r.text);
      if (length < 0 || length > kMaxNotice || hasControlChars(r.text)) {
        throw RequestError(ErrorCode::kBadField,
                           "notice: up to " + std::to_string(kMaxNotice) + " characters of text");
      }
      meeting.notice = r.text;
      media_.setNotice(meeting.code, r.text);
      const auto rooms = roomConnections(meeting);
      if (!rooms.empty()) signal_.broadcast(rooms, NoticeMsg{r.text});
      detail = r.text;
      break;
    }
  }
  // The meeting service records a lock itself (meeting.lock, as when the REST API locks).
  if (r.action != ControlAction::kLock) audit(chair, meeting, r.action, detail);
}

void Conference::audit(const Chair& chair, const LiveMeeting& meeting, ControlAction action,
                       const std::string& detail) {
  if (!rooms_) return;
  try {
    rooms_->audit(AuditEntry{
        0, 0, chair.caller.id, chair.caller.username, "chair." + std::string(controlName(action)),
        "meeting:" + (meeting.meetingId ? std::to_string(meeting.meetingId) : meeting.code),
        detail});
  } catch (const std::exception&) {
    // The action happened; a failed audit write is the store's problem, logged there.
  }
}

// The room is sent away and its unit (or guest name) barred. Its connection stays open, waiting:
// an unattended bridge point has nobody to click "join" when the chair invites it back.
void Conference::removeRoom(LiveMeeting& meeting, Participant& p) {
  const ConnectionId conn = p.conn;
  const std::string key = barKey(p.admission);
  meeting.barred[key] = BarredRoom{p.admission.unitId, p.entry.name};
  waiting_[conn] = Waiting{meeting.code, p.request, key};
  const std::string code = meeting.code;
  removeParticipant(p.id);
  signal_.send(conn, MeetingEndedMsg{code, "removed"});
}

// Lifts the bar; the room's page, if it still waits, joins at once (when the meeting is locked:
// as soon as it is unlocked).
void Conference::inviteBack(LiveMeeting& meeting, const std::string& unitIdOrName) {
  std::string key = unitIdOrName;
  if (!meeting.barred.count(key)) key = "guest:" + unitIdOrName;
  if (!meeting.barred.erase(key) || meeting.locked) return;
  std::vector<std::pair<ConnectionId, JoinRequest>> toJoin;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second.meeting == meeting.code && it->second.barKey == key) {
      toJoin.emplace_back(it->first, it->second.request);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [conn, request] : toJoin) join(conn, std::nullopt, request);
}

bool Conference::isBarred(const Waiting& waiting) const {
  if (waiting.barKey.empty()) return false;
  auto it = meetings_.find(waiting.meeting);
  return it != meetings_.end() && it->second.barred.count(waiting.barKey) > 0;
}

void Conference::setChairMuted(LiveMeeting& meeting, Participant& p, bool muted) {
  if (p.entry.chairMuted == muted) return;
  p.entry.chairMuted = muted;
  media_.setAudioMuted(p.id, muted);
  if (muted) meeting.layout.onAudioLevel(p.id, kSilentLevel, timers_.now());
  updateEntry(meeting, p);
}

// Everyone in the meeting, the room itself included, learns the room's new state.
void Conference::updateEntry(LiveMeeting& meeting, Participant& p) {
  const auto rooms = roomConnections(meeting);
  if (!rooms.empty()) signal_.broadcast(rooms, ParticipantUpdatedMsg{p.entry});
}

Conference::LiveMeeting& Conference::liveMeeting(const std::string& code, const std::string& title,
                                                 MeetingId meetingId) {
  LiveMeeting& meeting = meetings_[code];
  if (meeting.code.empty()) {
    meeting.code = code;
    meeting.title = title;
    meeting.meetingId = meetingId;
  }
  return meeting;
}

// A meeting with neither rooms nor chairs is forgotten (its chair state with it), unless the
// chair barred rooms from it: the bars last until invited back or the meeting ends.
void Conference::dropIfIdle(const std::string& code) {
  auto it = meetings_.find(code);
  if (it == meetings_.end() || !it->second.order.empty() || !it->second.chairs.empty() ||
      !it->second.barred.empty()) {
    return;
  }
  if (it->second.stateTimer) timers_.cancel(*it->second.stateTimer);
  if (it->second.testTimer) timers_.cancel(*it->second.testTimer);
  if (!it->second.notice.empty()) media_.setNotice(code, {});
  if (it->second.test) media_.setSelfHearing(code, false);
  meetings_.erase(it);
}

// Chairs see changes at once when someone acted (urgent), at most ~3 times a second otherwise
// (audio levels move all the time).
void Conference::stateChanged(LiveMeeting& meeting, bool urgent) {
  if (meeting.chairs.empty()) return;
  if (urgent) return sendState(meeting);
  meeting.stateDirty = true;
  if (meeting.stateTimer) return;
  std::weak_ptr<bool> alive = alive_;
  const std::string code = meeting.code;
  meeting.stateTimer = timers_.schedule(std::chrono::milliseconds(300), [this, alive, code] {
    if (alive.expired() || !*alive.lock()) return;
    auto it = meetings_.find(code);
    if (it == meetings_.end()) return;
    it->second.stateTimer.reset();
    if (it->second.stateDirty) sendState(it->second);
  });
}

void Conference::sendState(LiveMeeting& meeting) {
  meeting.stateDirty = false;
  if (meeting.stateTimer) {
    timers_.cancel(*meeting.stateTimer);
    meeting.stateTimer.reset();
  }
  if (!meeting.chairs.empty()) signal_.broadcast(meeting.chairs, stateOf(meeting));
}

MeetingStateMsg Conference::stateOf(const LiveMeeting& meeting) const {
  MeetingStateMsg m;
  m.meeting = meeting.code;
  m.title = meeting.title;
  m.locked = meeting.locked;
  m.layoutKind = std::string(layoutKindName(meeting.layout.kind()));
  m.canvasWidth = config_.video.width;
  m.canvasHeight = config_.video.height;
  m.tiles = meeting.shownTiles;
  m.speaker = meeting.layout.speaker();
  m.forced = meeting.forced;
  m.floor = meeting.floor;
  m.hands = meeting.hands;
  m.rollCallOpen = meeting.rollCallOpen;
  m.notice = meeting.notice;
  m.pins.assign(meeting.layout.pins().begin(), meeting.layout.pins().end());
  for (const auto& [key, room] : meeting.barred) m.barred.push_back(room);
  for (const auto& id : meeting.order) {
    const Participant& p = participants_.at(id);
    if (p.rollCallAnswered) m.rollCallAnswered.push_back(id);
    m.rooms.push_back(
        MeetingStateMsg::Room{p.entry, p.admission.unitId, p.sharing, p.level, p.legState});
  }
  return m;
}

std::vector<ConnectionId> Conference::roomConnections(const LiveMeeting& meeting) const {
  return connectionsIn(meeting, {});
}

// ---------------------------------------------------------------- queries

std::vector<RosterEntry> Conference::roster(const std::string& meeting) const {
  std::vector<RosterEntry> out;
  auto it = meetings_.find(meeting);
  if (it == meetings_.end()) return out;
  for (const auto& id : it->second.order) out.push_back(participants_.at(id).entry);
  return out;
}

std::vector<Conference::MeetingInfo> Conference::snapshot() const {
  std::vector<MeetingInfo> out;
  out.reserve(meetings_.size());
  for (const auto& [code, meeting] : meetings_) {
    MeetingInfo info{code, meeting.title, 0, {}, media_.rungStats(code)};
    for (const auto& id : meeting.order) {
      const Participant& p = participants_.at(id);
      info.meetingId = p.admission.meetingId;
      info.rooms.push_back(RoomInfo{p.id, p.entry.name, p.admission.unitId, p.legState,
                                    p.entry.audioMuted, p.entry.videoMuted});
    }
    out.push_back(std::move(info));
  }
  return out;
}

std::size_t Conference::liveMeetingCount() const {
  return static_cast<std::size_t>(std::count_if(
      meetings_.begin(), meetings_.end(), [](const auto& kv) { return !kv.second.order.empty(); }));
}

// ---------------------------------------------------------------- internals

Conference::Participant* Conference::participantOf(ConnectionId conn) {
  auto it = byConnection_.find(conn);
  return it == byConnection_.end() ? nullptr : find(it->second);
}

Conference::Participant* Conference::find(const ParticipantId& id) {
  auto it = participants_.find(id);
  return it == participants_.end() ? nullptr : &it->second;
}

void Conference::removeParticipant(ParticipantId id, bool dropped) {
  auto it = participants_.find(id);
  if (it == participants_.end()) return;
  Participant& p = it->second;
  cancelAnswerTimer(p);
  monitor_.left(id, dropped, timers_.now().count());
  auto meetingIt = meetings_.find(p.meeting);
  LiveMeeting& meeting = meetingIt->second;
  if (rooms_ && !meeting.test) {
    try {
      rooms_->roomLeft(p.admission);
    } catch (const std::exception&) {
    }
  }
  meeting.order.erase(std::remove(meeting.order.begin(), meeting.order.end(), id),
                      meeting.order.end());
  meeting.hands.erase(std::remove(meeting.hands.begin(), meeting.hands.end(), id),
                      meeting.hands.end());
  if (meeting.floor == id) meeting.floor.reset();
  if (meeting.forced == id) meeting.forced.reset();
  meeting.layout.removeRoom(id);
  media_.removeParticipant(p.meeting, id);
  byConnection_.erase(p.conn);
  participants_.erase(it);
  const auto others = connectionsIn(meeting, id);
  if (!others.empty()) signal_.broadcast(others, ParticipantLeftMsg{id});
  if (!meeting.order.empty()) applyLayout(meeting);
  stateChanged(meeting, true);
  dropIfIdle(meeting.code);
}

void Conference::armAnswerTimer(Participant& p) {
  cancelAnswerTimer(p);
  std::weak_ptr<bool> alive = alive_;
  const ParticipantId id = p.id;
  p.answerTimer = timers_.schedule(std::chrono::milliseconds(config_.limits.answerTimeoutMs),
                                   [this, alive, id] {
                                     if (alive.expired() || !*alive.lock()) return;
                                     Participant* q = find(id);
                                     if (!q || q->negotiation == Negotiation::kAnswered) return;
                                     q->answerTimer.reset();
                                     const ConnectionId conn = q->conn;
                                     removeParticipant(id, /*dropped=*/true);
                                     replyError(conn, std::nullopt, ErrorCode::kAnswerTimeout,
                                                "no answer to the offer in time; join again");
                                   });
}

void Conference::cancelAnswerTimer(Participant& p) {
  if (p.answerTimer) timers_.cancel(*p.answerTimer);
  p.answerTimer.reset();
}

void Conference::applyLayout(LiveMeeting& meeting) {
  std::vector<TilePlacement> tiles =
      meeting.layout.compute(config_.video.width, config_.video.height, timers_.now());
  if (tiles == meeting.shownTiles) return;
  meeting.shownTiles = std::move(tiles);
  media_.setLayout(meeting.code, meeting.shownTiles);
  for (const auto& id : meeting.order) tellVideoWanted(meeting, participants_.at(id));
  stateChanged(meeting);
}

// A room off screen is not decoded: tell it when that changes, so it can stop sending its camera
// until it is shown again. A shown room is told the size of its tile whenever that changes, so
// it can send no more than the composite shows of it.
void Conference::tellVideoWanted(const LiveMeeting& meeting, Participant& p) {
  auto tile = std::find_if(meeting.shownTiles.begin(), meeting.shownTiles.end(),
                           [&](const TilePlacement& t) { return t.participant == p.id; });
  const bool shown = tile != meeting.shownTiles.end();
  const Rect size = shown ? Rect{0, 0, tile->rect.width, tile->rect.height} : Rect{};
  if (shown == p.videoWanted && size == p.wantedTile) return;
  const bool wantedChanged = shown != p.videoWanted;
  p.videoWanted = shown;
  p.wantedTile = size;
  if (wantedChanged) monitorExpect(p);
  signal_.send(p.conn, VideoWantedMsg{shown, size.width, size.height});
}

std::vector<ConnectionId> Conference::connectionsIn(const LiveMeeting& meeting,
                                                    const ParticipantId& except) const {
  std::vector<ConnectionId> out;
  for (const auto& id : meeting.order) {
    if (id != except) out.push_back(participants_.at(id).conn);
  }
  return out;
}

void Conference::replyError(ConnectionId conn, RequestId req, ErrorCode code,
                            const std::string& message) {
  signal_.send(conn, ErrorMsg{req, code, message});
}

}  // namespace mcu::core
