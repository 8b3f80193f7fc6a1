#pragma once
// The conference model: meetings, the rooms in them, and the negotiation state of each room's
// media leg. Runs on one serial executor; every public method must be called on it. Talks to the
// outside only through the ports it is given.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mcu/core/Config.hpp"
#include "mcu/core/Executor.hpp"
#include "mcu/core/LayoutEngine.hpp"
#include "mcu/core/Messages.hpp"
#include "mcu/core/Ports.hpp"
#include "mcu/core/RoomDirectory.hpp"
#include "mcu/core/SiteHealth.hpp"
#include "mcu/core/Text.hpp"  // utf8Length (callers and tests)

namespace mcu::core {

class Conference : public MediaEvents {
 public:
  // Without `rooms`, the config's meetings are the only ones (open ones admit anyone); with it,
  // every join is admitted by the directory (MeetingService), standing meetings included.
  Conference(const Config& config, Timers& timers, MediaPort& media, SignalPort& signal,
             RoomDirectory* rooms = nullptr);
  ~Conference() override;
  Conference(const Conference&) = delete;
  Conference& operator=(const Conference&) = delete;

  // ---- from the signaling layer ----
  void join(ConnectionId conn, RequestId req, const JoinRequest& request);
  void answer(ConnectionId conn, RequestId req, const std::string& sdp);
  void candidate(ConnectionId conn, RequestId req, int sdpMLineIndex, const std::string& cand);
  void setMuted(ConnectionId conn, RequestId req, MediaKind kind, bool muted);
  void leave(ConnectionId conn, RequestId req);
  void disconnected(ConnectionId conn);
  // Rooms: the hand queue and the roll call.
  void raiseHand(ConnectionId conn, RequestId req, bool raised);
  void answerRollCall(ConnectionId conn, RequestId req);
  // Chair consoles: attach with a login token, then control the meeting.
  void attachChair(ConnectionId conn, RequestId req, const std::string& token,
                   const std::string& meeting);
  void control(ConnectionId conn, RequestId req, const ControlRequest& request);

  // Monitoring (ConferenceMonitor.cpp): rooms report what their browser sees; monitor consoles
  // (technicians, admins) attach with a login token, get the health of every site each interval,
  // a site's history, and may ask a room to reconnect or to restart its media leg.
  void clientStats(ConnectionId conn, RequestId req, const ClientStats& stats);
  // A room's test call is over: what it measured goes to its site's event log (and the log).
  void testReport(ConnectionId conn, RequestId req, const TestReport& report);
  void attachMonitor(ConnectionId conn, RequestId req, const std::string& token);
  void monitorSite(ConnectionId conn, RequestId req, const std::string& site);
  void monitorAction(ConnectionId conn, RequestId req, const std::string& site,
                     MonitorAction action);
  // Called with every site event (joined, went red, ...), for the server's log.
  using SiteEventListener = std::function<void(const std::string& meeting, const std::string& site,
                                               const std::string& name, const SiteEvent& event)>;
  void setSiteEventListener(SiteEventListener listener) { siteEvents_ = std::move(listener); }
  const SiteMonitor& sites() const { return monitor_; }

  // ---- from the meeting service (posted to the core executor) ----
  // Opened: waiting rooms join. Ended or cancelled: rooms in it get meeting-ended and leave.
  // Edited: rooms it no longer admits get meeting-ended (reason "uninvited") and leave.
  void meetingChanged(const Meeting& meeting);

  // ---- from the media layer (MediaEvents) ----
  void onLocalOffer(const ParticipantId& participant, const std::string& sdp) override;
  void onLocalCandidate(const ParticipantId& participant, int sdpMLineIndex,
                        const std::string& candidate) override;
  void onLegState(const ParticipantId& participant, LegState state) override;
  void onLegError(const ParticipantId& participant, ErrorCode code,
                  const std::string& message) override;
  void onAudioLevel(const ParticipantId& participant, int level) override;
  void onShareState(const ParticipantId& participant, bool sharing) override;
  void onLegStats(const ParticipantId& participant, const LegStats& stats) override;

  // ---- queries (health, metrics, tests) ----
  struct RoomInfo {
    ParticipantId id;
    std::string name;
    std::string unitId;  // empty for a guest
    LegState legState = LegState::kNew;
    bool audioMuted = false;  // by the room itself
    bool videoMuted = false;
  };
  struct MeetingInfo {
    std::string code;
    std::string title;
    MeetingId meetingId = 0;                   // 0: a standing meeting
    std::vector<RoomInfo> rooms;               // join order
    std::vector<MediaPort::RungSample> rungs;  // best first
  };
  // Every meeting with rooms in it, by code; plus how many connections wait for a meeting.
  std::vector<MeetingInfo> snapshot() const;
  std::size_t waitingCount() const { return waiting_.size(); }
  std::vector<RosterEntry> roster(const std::string& meeting) const;
  std::size_t participantCount() const { return participants_.size(); }
  std::size_t liveMeetingCount() const;

 private:
  enum class Negotiation { kAwaitingOffer, kOffered, kAnswered };
  struct Participant {
    ParticipantId id;
    ConnectionId conn = 0;
    std::string meeting;
    Admission admission;
    JoinRequest request;  // how it joined: the server joins it again when it is invited back
    RosterEntry entry;
    Negotiation negotiation = Negotiation::kAwaitingOffer;
    LegState legState = LegState::kNew;
    RequestId answerRequest;
    std::optional<TimerId> answerTimer;
    int level = kSilentLevel;
    bool sharing = false;
    bool rollCallAnswered = false;
    bool videoWanted = true;  // its camera is on the composite (as the room was last told)
    Rect wantedTile;          // the size of its tile as last told (0 x 0: not yet / not shown)
    std::int64_t clientStatsAtMs = -1'000'000;  // its last `stats` taken (one a second)
  };
  struct LiveMeeting {
    std::string code;
    std::string title;
    MeetingId meetingId = 0;
    std::vector<ParticipantId> order;  // join order
    LayoutEngine layout;
    std::vector<TilePlacement> shownTiles;  // what the media layer was last told
    std::vector<ConnectionId> chairs;       // attached chair consoles
    std::vector<ParticipantId> hands;       // raised, oldest first
    std::optional<ParticipantId> floor;
    std::optional<ParticipantId> forced;  // "everyone sees this room"
    bool locked = false;
    bool rollCallOpen = false;
    std::string notice;
    std::map<std::string, BarredRoom> barred;  // removed by the chair: by unit id, "guest:" + name
    bool stateDirty = false;
    std::optional<TimerId> stateTimer;
    bool test = false;  // a test call: one room, hearing itself, ended after a while
    std::optional<TimerId> testTimer;
  };
  struct Chair {
    std::string meeting;
    Caller caller;
    bool canControl = false;
  };
  // A bridge point that asked to join a meeting that is not open yet, or a room the chair
  // removed (barKey set), waiting on its open connection to be invited back.
  struct Waiting {
    std::string meeting;
    JoinRequest request;
    std::string barKey;
  };

  Admission admit(const JoinRequest& request, const std::string& guestName);
  bool tryWaiting(ConnectionId conn, RequestId req, const JoinRequest& request);
  Participant* participantOf(ConnectionId conn);
  Participant* find(const ParticipantId& id);
  // `dropped`: it vanished (connection lost, media failed, no answer) rather than leaving.
  void removeParticipant(ParticipantId id, bool dropped = false);
  void armAnswerTimer(Participant& p);
  void cancelAnswerTimer(Participant& p);
  LiveMeeting& liveMeeting(const std::string& code, const std::string& title, MeetingId meetingId);
  void dropIfIdle(const std::string& code);
  void applyLayout(LiveMeeting& meeting);
  void tellVideoWanted(const LiveMeeting& meeting, Participant& participant);
  void updateEntry(LiveMeeting& meeting, Participant& p);
  void setChairMuted(LiveMeeting& meeting, Participant& p, bool muted);
  void runControl(Chair& chair, LiveMeeting& meeting, const ControlRequest& request);
  void removeRoom(LiveMeeting& meeting, Participant& p);
  void inviteBack(LiveMeeting& meeting, const std::string& unitIdOrName);
  bool isBarred(const Waiting& waiting) const;
  void audit(const Chair& chair, const LiveMeeting& meeting, ControlAction action,
             const std::string& detail);
  Participant& roomIn(const LiveMeeting& meeting, const ParticipantId& id);
  void stateChanged(LiveMeeting& meeting, bool urgent = false);
  void sendState(LiveMeeting& meeting);
  MeetingStateMsg stateOf(const LiveMeeting& meeting) const;
  std::vector<ConnectionId> roomConnections(const LiveMeeting& meeting) const;
  // Test calls (ConferenceMonitor.cpp).
  bool admitTest(ConnectionId conn, RequestId req, const JoinRequest& request,
                 const std::string& guestName, Admission& admission);
  void armTestEnd(LiveMeeting& meeting);
  std::vector<ConnectionId> connectionsIn(const LiveMeeting& meeting,
                                          const ParticipantId& except) const;
  void replyError(ConnectionId conn, RequestId req, ErrorCode code, const std::string& message);
  // Monitoring (ConferenceMonitor.cpp).
  void monitorJoined(const Participant& p);
  void monitorExpect(const Participant& p);
  void ensureMonitorTick();
  void monitorTick();
  MonitorStateMsg monitorState() const;
  std::int64_t clockOffsetMs() const;

  const Config& config_;
  Timers& timers_;
  MediaPort& media_;
  SignalPort& signal_;
  RoomDirectory* rooms_;
  std::map<std::string, LiveMeeting> meetings_;  // meetings with rooms in them, by code
  std::map<ConnectionId, Waiting> waiting_;
  std::map<ConnectionId, Chair> chairs_;
  std::map<ParticipantId, Participant> participants_;
  std::map<ConnectionId, ParticipantId> byConnection_;
  std::uint64_t nextParticipant_ = 1;
  std::uint64_t nextTestCall_ = 1;
  SiteMonitor monitor_;
  std::map<ConnectionId, Caller> monitors_;  // attached monitor consoles
  std::optional<TimerId> monitorTimer_;
  SiteEventListener siteEvents_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace mcu::core
