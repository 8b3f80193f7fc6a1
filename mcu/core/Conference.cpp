#include "mcu/core/Conference.hpp"

#include <algorithm>
#include <cctype>

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

Conference::Conference(const Config& config, Timers& timers, MediaPort& media, SignalPort& signal)
    : config_(config), timers_(timers), media_(media), signal_(signal) {
  for (const auto& m : config.meetings) meetings_[m.code] = Meeting{m, {}};
}

Conference::~Conference() {
  *alive_ = false;
  for (auto& [id, p] : participants_) cancelAnswerTimer(p);
}

// ---------------------------------------------------------------- signaling side

void Conference::join(ConnectionId conn, RequestId req, const JoinRequest& request) {
  if (byConnection_.count(conn)) {
    return replyError(conn, req, ErrorCode::kAlreadyJoined, "this connection already joined");
  }
  const std::string name = trim(request.name);
  const int nameLength = utf8Length(name);
  if (name.empty() || nameLength < 0 || hasControlChars(name) ||
      nameLength > config_.limits.maxNameLength) {
    return replyError(conn, req, ErrorCode::kBadField,
                      "name must be 1-" + std::to_string(config_.limits.maxNameLength) +
                          " characters of valid UTF-8 text");
  }
  auto it = meetings_.find(request.meeting);
  if (it == meetings_.end()) {
    return replyError(conn, req, ErrorCode::kUnknownMeeting, "no meeting with this code");
  }
  Meeting& meeting = it->second;
  if (!meeting.config.open) {
    return replyError(conn, req, ErrorCode::kMeetingClosed, "the meeting is not open");
  }
  if (static_cast<int>(meeting.order.size()) >= config_.limits.maxRoomsPerMeeting) {
    return replyError(conn, req, ErrorCode::kMeetingFull, "the meeting is full");
  }

  Participant p;
  p.id = "p" + std::to_string(nextParticipant_++);
  p.conn = conn;
  p.meeting = meeting.config.code;
  p.entry = RosterEntry{p.id, name, false, false};
  const ParticipantId id = p.id;
  const RosterEntry entry = p.entry;
  const auto others = connectionsIn(meeting, id);
  participants_.emplace(id, std::move(p));
  byConnection_[conn] = id;
  meeting.order.push_back(id);

  signal_.send(conn, JoinedMsg{req, meeting.config.code, meeting.config.title, id,
                               roster(meeting.config.code)});
  if (!others.empty()) signal_.broadcast(others, ParticipantJoinedMsg{entry});
  media_.addParticipant(meeting.config.code, id, name);
  applyLayout(meeting);
  armAnswerTimer(participants_.at(id));
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
  Participant* p = participantOf(conn);
  if (!p) return replyError(conn, req, ErrorCode::kNotJoined, "not in a meeting");
  removeParticipant(p->id);
  signal_.send(conn, LeftMsg{req});
}

void Conference::disconnected(ConnectionId conn) {
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

// ---------------------------------------------------------------- queries

bool Conference::hasMeeting(const std::string& code) const {
  return meetings_.count(code) > 0;
}

std::vector<RosterEntry> Conference::roster(const std::string& meeting) const {
  std::vector<RosterEntry> out;
  auto it = meetings_.find(meeting);
  if (it == meetings_.end()) return out;
  for (const auto& id : it->second.order) out.push_back(participants_.at(id).entry);
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
  Meeting& meeting = meetings_.at(p.meeting);
  meeting.order.erase(std::remove(meeting.order.begin(), meeting.order.end(), id),
                      meeting.order.end());
  media_.removeParticipant(p.meeting, id);
  byConnection_.erase(p.conn);
  participants_.erase(it);
  const auto others = connectionsIn(meeting, id);
  if (!others.empty()) signal_.broadcast(others, ParticipantLeftMsg{id});
  if (!meeting.order.empty()) applyLayout(meeting);
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

void Conference::applyLayout(const Meeting& meeting) {
  const auto rects =
      gridLayout(static_cast<int>(meeting.order.size()), config_.video.width, config_.video.height);
  std::vector<TilePlacement> tiles;
  tiles.reserve(rects.size());
  for (std::size_t i = 0; i < rects.size(); ++i) {
    const auto& p = participants_.at(meeting.order[i]);
    tiles.push_back(TilePlacement{p.id, p.entry.name, rects[i]});
  }
  media_.setLayout(meeting.config.code, tiles);
}

std::vector<ConnectionId> Conference::connectionsIn(const Meeting& meeting,
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
