#pragma once
// Typed messages between the conference model and a client connection. The signaling layer
// turns these into JSON (docs/protocol.md); the core never sees JSON.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mcu/core/Errors.hpp"
#include "mcu/core/Ids.hpp"
#include "mcu/core/Layout.hpp"
#include "mcu/core/SiteHealth.hpp"

namespace mcu::core {

struct RosterEntry {
  ParticipantId id;
  std::string name;
  bool audioMuted = false;  // the room muted its own microphone
  bool videoMuted = false;
  bool chairMuted = false;  // the chair took its sound out of the mix
  bool handRaised = false;
  bool floor = false;  // the chair gave it the floor
  bool operator==(const RosterEntry&) const = default;
};

// ---- client -> server requests (already validated for shape by the signaling layer) ----
struct JoinRequest {
  std::string meeting;  // may be empty with `room`: the room's current meeting
  std::string name;     // ignored with `room`: the bridge point's unit name is used
  std::string room;     // a bridge point's room-link secret; empty for a guest
  // A test call: the room alone in a private meeting, seeing and hearing itself back.
  bool test = false;
};

// What a room measured during its test call (protocol message `test-report`).
struct TestReport {
  std::optional<double> roundTripMs;
  std::optional<double> lossPercent;
  std::optional<double> kbpsIn;
  std::optional<double> kbpsOut;
  bool camera = false;  // a camera sent frames
  int cameraWidth = 0;
  int cameraHeight = 0;
  bool microphone = false;
  std::optional<double> micLevel;  // 0..1, the loudest it picked up
  bool heardItself = false;        // its own sound came back through the server
};
// "rtt 12 ms, loss 0.0 %, 950 kb/s in, 300 kb/s out, camera 640x360, microphone 0.42, heard
// itself": the report as the event log and the server log keep it.
std::string describeTestReport(const TestReport& report);

// The chair console's commands (docs/protocol.md, "Chairing a live meeting").
enum class ControlAction {
  kMute,
  kMuteAll,
  kGrantFloor,
  kRevokeFloor,
  kLowerHand,
  kForceBig,
  kClearForced,
  kLayout,
  kPin,
  kUnpin,
  kRollCall,
  kLock,
  kRemove,
  kInviteBack,
  kNotice
};
struct ControlRequest {
  ControlAction action = ControlAction::kMute;
  ParticipantId room;                 // mute, grant-floor, lower-hand, force-big, pin, remove
  bool flag = false;                  // mute: muted; mute-all: muted; roll-call: open; lock: locked
  std::vector<ParticipantId> except;  // mute-all
  std::string layout;                 // layout: grid | speaker | presenter | 2+8 | 1+7
  int seat = 0;                       // pin, unpin
  std::string unitId;                 // invite-back (or a guest's name)
  std::string text;                   // notice
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
// The room is out of the meeting: the host closed or cancelled it, the chair removed the room,
// or an edit of the meeting no longer invites it.
struct MeetingEndedMsg {
  std::string meeting;
  std::string reason;  // "closed", "cancelled", "removed", "uninvited"
};
struct ChairJoinedMsg {
  RequestId requestId;
  std::string meeting;
  std::string title;
  std::string role;  // admin | host | technician
  bool canControl = false;
};
// A room the chair removed; `invite-back` with its unit id (or a guest's name) lifts the bar.
struct BarredRoom {
  std::string unitId;  // empty for a guest
  std::string name;
  bool operator==(const BarredRoom&) const = default;
};
// The whole live state of a meeting, for chair consoles.
struct MeetingStateMsg {
  struct Room {
    RosterEntry entry;
    std::string unitId;
    bool sharing = false;
    int level = 127;
    LegState media = LegState::kNew;
  };
  std::string meeting;
  std::string title;
  bool locked = false;
  std::string layoutKind;
  int canvasWidth = 0;
  int canvasHeight = 0;
  std::vector<TilePlacement> tiles;
  std::optional<ParticipantId> speaker;
  std::optional<ParticipantId> forced;
  std::optional<ParticipantId> floor;
  std::vector<ParticipantId> hands;
  bool rollCallOpen = false;
  std::vector<ParticipantId> rollCallAnswered;
  std::string notice;
  std::vector<Room> rooms;
  std::vector<std::pair<int, ParticipantId>> pins;  // seat -> room
  std::vector<BarredRoom> barred;                   // removed by the chair
};
struct RollCallMsg {
  bool open = false;
};
struct NoticeMsg {
  std::string text;
};
// Whether the room's camera is on the composite: off screen it is not decoded, so the room may
// stop sending it (and must start again, with a keyframe, when it is wanted). When wanted, the
// size of its tile in composite pixels: sending more than that is scaled away by the server, so
// the room may scale its camera down to it (less uplink, a cheaper decode).
struct VideoWantedMsg {
  bool wanted = true;
  int width = 0;  // 0 when not wanted
  int height = 0;
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

// ---- monitoring (docs/protocol.md, "Monitoring stream health") ----
// What a technician may ask of a room (monitor-action).
enum class MonitorAction { kReconnect, kRestartMedia };
// Sample and event times in these are the core's monotonic milliseconds; `clockOffsetMs` turns
// them into wall-clock time (ms since the epoch) when they are written out.
struct MonitorJoinedMsg {
  RequestId requestId;
  std::string role;
  int intervalMs = 0;
  HealthThresholds thresholds;
};
struct MonitorStateMsg {
  struct Meeting {
    std::string code;
    std::string title;
    std::vector<SiteView> sites;
  };
  std::int64_t atMs = 0;
  std::int64_t clockOffsetMs = 0;
  std::vector<Meeting> meetings;
};
struct MonitorSiteMsg {
  RequestId requestId;
  std::int64_t clockOffsetMs = 0;
  SiteView site;  // with its history and events
};
// A technician asked the room to reconnect, or to drop its peer connection for a fresh leg.
struct ReconnectMsg {};
struct RestartMediaMsg {};

using ServerMessage =
    std::variant<JoinedMsg, OfferMsg, CandidateMsg, ParticipantJoinedMsg, ParticipantLeftMsg,
                 ParticipantUpdatedMsg, MediaStateMsg, LeftMsg, AckMsg, ErrorMsg, WaitingMsg,
                 MeetingEndedMsg, ChairJoinedMsg, MeetingStateMsg, RollCallMsg, NoticeMsg,
                 VideoWantedMsg, MonitorJoinedMsg, MonitorStateMsg, MonitorSiteMsg, ReconnectMsg,
                 RestartMediaMsg>;

}  // namespace mcu::core
