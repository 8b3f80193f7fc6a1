#pragma once
// Typed messages between the conference model and a client connection. The signaling layer
// turns these into JSON (docs/protocol.md); the core never sees JSON.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mcu/core/Errors.hpp"

namespace mcu::core {

using ConnectionId = std::uint64_t;
using ParticipantId = std::string;
// Client-chosen correlation id echoed in replies; absent when the client sent none.
using RequestId = std::optional<std::int64_t>;

enum class MediaKind { kAudio, kVideo };
std::string_view mediaKindName(MediaKind kind);

enum class LegState { kNew, kConnecting, kConnected, kDisconnected, kFailed, kClosed };
std::string_view legStateName(LegState state);

struct RosterEntry {
  ParticipantId id;
  std::string name;
  bool audioMuted = false;
  bool videoMuted = false;
  bool operator==(const RosterEntry&) const = default;
};

// ---- client -> server requests (already validated for shape by the signaling layer) ----
struct JoinRequest {
  std::string meeting;  // may be empty with `room`: the room's current meeting
  std::string name;     // ignored with `room`: the bridge point's unit name is used
  std::string room;     // a bridge point's room-link secret; empty for a guest
};

// ---- server -> client messages ----
struct JoinedMsg {
  RequestId requestId;
  std::string meeting;
  std::string meetingTitle;
  ParticipantId you;
  std::vector<RosterEntry> roster;  // includes you
};
// The room's meeting is not open yet; it is joined automatically when the host opens it.
struct WaitingMsg {
  RequestId requestId;
  std::string meeting;  // code
  std::string title;
  std::int64_t startsAt = 0;  // Unix seconds
  std::string state;          // "scheduled"
  std::string name;           // the waiting bridge point's name
};
// The host closed or cancelled the meeting; the room is out of it.
struct MeetingEndedMsg {
  std::string meeting;
  std::string reason;  // "closed", "cancelled"
};
struct OfferMsg {
  std::string sdp;
};
struct CandidateMsg {
  int sdpMLineIndex = 0;
  std::string candidate;
};
struct ParticipantJoinedMsg {
  RosterEntry participant;
};
struct ParticipantLeftMsg {
  ParticipantId id;
};
struct ParticipantUpdatedMsg {
  RosterEntry participant;
};
struct MediaStateMsg {
  LegState state;
};
struct LeftMsg {
  RequestId requestId;
};
struct AckMsg {
  RequestId requestId;
};
struct ErrorMsg {
  RequestId requestId;
  ErrorCode code;
  std::string message;
};

using ServerMessage = std::variant<JoinedMsg, OfferMsg, CandidateMsg, ParticipantJoinedMsg,
                                   ParticipantLeftMsg, ParticipantUpdatedMsg, MediaStateMsg,
                                   LeftMsg, AckMsg, ErrorMsg, WaitingMsg, MeetingEndedMsg>;

}  // namespace mcu::core
