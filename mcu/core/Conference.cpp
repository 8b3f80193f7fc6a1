#include "mcu/core/Conference.hpp"

#include <algorithm>
#include <cctype>

#include "mcu/core/ServiceError.hpp"

namespace mcu::core {

namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// C0 controls, DEL, and C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F). s is valid UTF-8.
bool hasControlChars(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x20 || u == 0x7f) return true;
    if (u == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0) return true;
  }
  return false;
}

}  // namespace

int utf8Length(const std::string& s) {
  int count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // RFC 3629: the second byte's range depends on the first
    if (c < 0x80)
      extra = 0;
    else if (c >= 0xC2 && c <= 0xDF)
      extra = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return -1;
    }
    if (s.size() - i <= extra) return -1;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return -1;
    }
    i += extra + 1;
  }
  return count;
}

Conference::Conference(const Config& config, Timers& timers, MediaPort& media, SignalPort& signal,
                       RoomDirectory* rooms)
    : config_(config), timers_(timers), media_(media), signal_(signal), rooms_(rooms) {}

Conference::~Conference() {
  *alive_ = false;
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
    admission = admit(request, name);
  } catch (const ServiceError& e) {
    if (e.code() == "meeting_closed" && tryWaiting(conn, req, request)) return;
    return replyError(conn, req, joinErrorOf(e), e.what());
  } catch (const std::exception& e) {
    return replyError(conn, req, ErrorCode::kInternal, "the meeting could not be looked up");
  }
  LiveMeeting& meeting = meetings_[admission.code];
  if (meeting.code.empty()) {
    meeting.code = admission.code;
    meeting.title = admission.title;
  }
  if (static_cast<int>(meeting.order.size()) >= config_.limits.maxRoomsPerMeeting) {
    if (meeting.order.empty()) meetings_.erase(admission.code);
    return replyError(conn, req, ErrorCode::kMeetingFull, "the meeting is full");
  }

  Participant p;
  p.id = "p" + std::to_string(nextParticipant_++);
  p.conn = conn;
  p.meeting = meeting.code;
  p.admission = admission;
  p.entry = RosterEntry{p.id, admission.displayName, false, false};
  const ParticipantId id = p.id;
  const RosterEntry entry = p.entry;
  const auto others = connectionsIn(meeting, id);
  participants_.emplace(id, std::move(p));
  byConnection_[conn] = id;
  meeting.order.push_back(id);
  if (rooms_) {
    try {
      rooms_->roomJoined(admission);
    } catch (const std::exception&) {
      // The roll is informational; the room is in the meeting either way.
    }
  }

  signal_.send(conn, JoinedMsg{req, meeting.code, meeting.title, id, roster(meeting.code)});
  if (!others.empty()) signal_.broadcast(others, ParticipantJoinedMsg{entry});
  media_.addParticipant(meeting.code, id, admission.displayName);
  applyLayout(meeting);
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
  waiting_[conn] = Waiting{meeting->code, request};
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
    if (it->second.meeting != meeting.code || !(ended || (open && !meeting.locked))) {
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
  if (!ended) return;
  auto it = meetings_.find(meeting.code);
  if (it == meetings_.end()) return;
  const std::vector<ParticipantId> inMeeting = it->second.order;
  for (const auto& id : inMeeting) {
    Participant* p = find(id);
    if (!p) continue;
    const ConnectionId conn = p->conn;
    removeParticipant(id);
    signal_.send(conn, MeetingEndedMsg{meeting.code, reason});
  }
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
  if (Participant* p = participantOf(conn)) removeParticipant(p->id);
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
  signal_.send(p->conn, MediaStateMsg{state});
  if (state == LegState::kFailed) {
    const ConnectionId conn = p->conn;
    removeParticipant(participant);
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
  removeParticipant(participant);
  replyError(conn, std::nullopt, code, message);
}

void Conference::onAudioLevel(const ParticipantId&, int) {}

void Conference::onShareState(const ParticipantId&, bool) {}

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
    MeetingInfo info{code, meeting.title, 0, {}};
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

void Conference::removeParticipant(ParticipantId id) {
  auto it = participants_.find(id);
  if (it == participants_.end()) return;
  Participant& p = it->second;
  cancelAnswerTimer(p);
  auto meetingIt = meetings_.find(p.meeting);
  LiveMeeting& meeting = meetingIt->second;
  if (rooms_) {
    try {
      rooms_->roomLeft(p.admission);
    } catch (const std::exception&) {
    }
  }
  meeting.order.erase(std::remove(meeting.order.begin(), meeting.order.end(), id),
                      meeting.order.end());
  media_.removeParticipant(p.meeting, id);
  byConnection_.erase(p.conn);
  participants_.erase(it);
  const auto others = connectionsIn(meeting, id);
  if (!others.empty()) signal_.broadcast(others, ParticipantLeftMsg{id});
  if (!meeting.order.empty()) {
    applyLayout(meeting);
  } else {
    meetings_.erase(meetingIt);
  }
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
                                     removeParticipant(id);
                                     replyError(conn, std::nullopt, ErrorCode::kAnswerTimeout,
                                                "no answer to the offer in time; join again");
                                   });
}

void Conference::cancelAnswerTimer(Participant& p) {
  if (p.answerTimer) timers_.cancel(*p.answerTimer);
  p.answerTimer.reset();
}

void Conference::applyLayout(const LiveMeeting& meeting) {
  const auto rects =
      gridLayout(static_cast<int>(meeting.order.size()), config_.video.width, config_.video.height);
  std::vector<TilePlacement> tiles;
  tiles.reserve(rects.size());
  for (std::size_t i = 0; i < rects.size(); ++i) {
    const auto& p = participants_.at(meeting.order[i]);
    tiles.push_back(TilePlacement{p.id, p.entry.name, rects[i]});
  }
  media_.setLayout(meeting.code, tiles);
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
