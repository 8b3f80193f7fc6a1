// The conference model admitting rooms through a RoomDirectory (the meeting service in the
// server): bridge points with room links, waiting for a meeting to open, being sent away when
// the host closes it, and the presence reports the roll is built from.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mcu/core/Conference.hpp"
#include "mcu/core/ServiceError.hpp"
#include "tests/unit/core/FakePorts.hpp"
#include "tests/unit/core/Printers.hpp"

namespace mcu::core {
namespace {

using testing::FakeMediaPort;
using testing::FakeSignalPort;
using testing::FakeTimers;

// A directory of two bridge points and one meeting whose state a test sets.
class FakeRooms : public RoomDirectory {
 public:
  FakeRooms() {
    meeting.id = 7;
    meeting.code = "giao-ban";
    meeting.title = "Giao ban tuần";
    meeting.startsAt = 1800000000;
    meeting.endsAt = 1800003600;
    meeting.invited = {"lc.xa.ban-lau", "lc.xa.coc-san"};
  }

  Landing landing(const std::string& secret) override {
    if (secret == "revoked") throw ServiceError(Status::kForbidden, "link_revoked", "revoked");
    auto it = units.find(secret);
    if (it == units.end()) throw ServiceError(Status::kUnauthorized, "unauthorized", "bad link");
    const bool invited = std::find(meeting.invited.begin(), meeting.invited.end(), it->second) !=
                         meeting.invited.end();
    Landing l{it->second, "name of " + it->second, std::nullopt};
    if (invited && meeting.state != MeetingState::kEnded) l.meeting = meeting;
    return l;
  }
  Admission admit(const std::string& code, const std::string& secret,
                  const std::string& guestName) override {
    if (secret.empty()) {
      if (code != meeting.code) throw ServiceError(Status::kNotFound, "not_found", "no meeting");
      throw ServiceError(Status::kForbidden, "not_invited", "invited rooms only");
    }
    const Landing l = landing(secret);
    if (!code.empty() && code != meeting.code) {
      throw ServiceError(Status::kNotFound, "not_found", "no meeting");
    }
    if (!l.meeting) throw ServiceError(Status::kForbidden, "not_invited", "not invited");
    if (meeting.state != MeetingState::kOpen && meeting.state != MeetingState::kLive) {
      throw ServiceError(Status::kConflict, "meeting_closed", "not open");
    }
    if (meeting.locked) throw ServiceError(Status::kConflict, "meeting_locked", "locked");
    return Admission{meeting.id, meeting.code, meeting.title, l.unitId, l.unitName};
  }
  void roomJoined(const Admission& a) override { joined.push_back(a.unitId); }
  void roomLeft(const Admission& a) override { left.push_back(a.unitId); }
  Caller authenticate(const std::string& token) override {
    if (token == "host-token") return Caller{2, "chu-tri", Role::kHost, "s2"};
    if (token == "tech-token") return Caller{3, "ky-thuat", Role::kTechnician, "s3"};
    throw ServiceError(Status::kUnauthorized, "unauthorized", "bad token");
  }
  Meeting meetingByCode(const std::string& code) override {
    if (code != meeting.code) throw ServiceError(Status::kNotFound, "not_found", "no meeting");
    return meeting;
  }
  // Audited here, as MeetingService does (the same entry as a lock through the REST API).
  Meeting setLocked(const Caller& caller, MeetingId, bool locked) override {
    if (caller.role == Role::kTechnician) {
      throw ServiceError(Status::kForbidden, "forbidden", "no");
    }
    meeting.locked = locked;
    audits.push_back(AuditEntry{0, 0, caller.id, caller.username,
                                locked ? "meeting.lock" : "meeting.unlock",
                                "meeting:" + std::to_string(meeting.id), ""});
    return meeting;
  }
  void audit(const AuditEntry& entry) override { audits.push_back(entry); }

  Meeting meeting;
  std::map<std::string, std::string> units = {
      {"s-ban-lau", "lc.xa.ban-lau"}, {"s-coc-san", "lc.xa.coc-san"}, {"s-other", "lc.xa.other"}};
  std::vector<std::string> joined, left;
  std::vector<AuditEntry> audits;
};

class ConferenceRoomsTest : public ::testing::Test {
 protected:
  ConferenceRoomsTest() : conf_(config_, timers_, media_, signal_, &rooms_) {}

  void joinWithLink(ConnectionId conn, const std::string& secret, const std::string& code = {}) {
    conf_.join(conn, 1, JoinRequest{code, "ignored", secret});
  }
  ErrorCode errorTo(ConnectionId conn) {
    const auto errors = signal_.to<ErrorMsg>(conn);
    if (errors.size() != 1) {
      ADD_FAILURE() << "expected one error, got " << errors.size();
      return ErrorCode::kInternal;
    }
    return errors.front().code;
  }

  Config config_;
  FakeTimers timers_;
  FakeMediaPort media_;
  FakeSignalPort signal_;
  FakeRooms rooms_;
  Conference conf_;
};

TEST_F(ConferenceRoomsTest, AnInvitedRoomJoinsAnOpenMeetingUnderItsUnitName) {
  rooms_.meeting.state = MeetingState::kOpen;
  joinWithLink(1, "s-ban-lau");
  const auto joined = signal_.to<JoinedMsg>(1);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].meeting, "giao-ban");
  EXPECT_EQ(joined[0].roster.at(0).name, "name of lc.xa.ban-lau");
  ASSERT_EQ(media_.added.size(), 1u);
  EXPECT_EQ(media_.added[0].meeting, "giao-ban");
  EXPECT_EQ(rooms_.joined, std::vector<std::string>{"lc.xa.ban-lau"});
}

TEST_F(ConferenceRoomsTest, RefusalsCarryTheirProtocolCodes) {
  rooms_.meeting.state = MeetingState::kOpen;
  joinWithLink(1, "s-other");
  EXPECT_EQ(errorTo(1), ErrorCode::kNotInvited);
  joinWithLink(2, "revoked");
  EXPECT_EQ(errorTo(2), ErrorCode::kLinkRevoked);
  joinWithLink(3, "no-such-secret");
  EXPECT_EQ(errorTo(3), ErrorCode::kUnauthorized);
  conf_.join(4, 1, JoinRequest{"giao-ban", "Khách", ""});
  EXPECT_EQ(errorTo(4), ErrorCode::kNotInvited);
  conf_.join(5, 1, JoinRequest{"nope", "Khách", ""});
  EXPECT_EQ(errorTo(5), ErrorCode::kUnknownMeeting);
  rooms_.meeting.locked = true;
  joinWithLink(6, "s-ban-lau");
  EXPECT_EQ(errorTo(6), ErrorCode::kMeetingLocked);
  EXPECT_TRUE(media_.added.empty());
  EXPECT_EQ(conf_.participantCount(), 0u);
}

TEST_F(ConferenceRoomsTest, ARoomWaitsForItsScheduledMeetingAndJoinsWhenItOpens) {
  joinWithLink(1, "s-ban-lau");
  const auto waiting = signal_.to<WaitingMsg>(1);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].requestId, RequestId(1));
  EXPECT_EQ(waiting[0].meeting, "giao-ban");
  EXPECT_EQ(waiting[0].startsAt, 1800000000);
  EXPECT_EQ(waiting[0].name, "name of lc.xa.ban-lau");
  EXPECT_TRUE(signal_.to<JoinedMsg>(1).empty());
  EXPECT_TRUE(media_.added.empty());

  // Another meeting opening does not concern it.
  Meeting other = rooms_.meeting;
  other.code = "khac";
  other.state = MeetingState::kOpen;
  conf_.meetingChanged(other);
  EXPECT_TRUE(signal_.to<JoinedMsg>(1).empty());

  rooms_.meeting.state = MeetingState::kOpen;
  conf_.meetingChanged(rooms_.meeting);
  const auto joined = signal_.to<JoinedMsg>(1);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].requestId, std::nullopt);
  EXPECT_EQ(joined[0].meeting, "giao-ban");
  EXPECT_EQ(media_.added.size(), 1u);
}

TEST_F(ConferenceRoomsTest, AWaitingRoomMayLeaveOrVanish) {
  joinWithLink(1, "s-ban-lau");
  joinWithLink(2, "s-coc-san");
  conf_.leave(1, 9);
  EXPECT_EQ(signal_.to<LeftMsg>(1).size(), 1u);
  conf_.disconnected(2);
  rooms_.meeting.state = MeetingState::kOpen;
  conf_.meetingChanged(rooms_.meeting);
  EXPECT_TRUE(media_.added.empty());
  EXPECT_TRUE(signal_.to<JoinedMsg>(1).empty());
}

TEST_F(ConferenceRoomsTest, ClosingTheMeetingSendsEveryRoomAwayAndEndsTheMix) {
  rooms_.meeting.state = MeetingState::kLive;
  joinWithLink(1, "s-ban-lau");
  joinWithLink(2, "s-coc-san");
  ASSERT_EQ(conf_.participantCount(), 2u);
  rooms_.meeting.state = MeetingState::kEnded;
  conf_.meetingChanged(rooms_.meeting);
  for (ConnectionId c : {1, 2}) {
    const auto ended = signal_.to<MeetingEndedMsg>(c);
    ASSERT_EQ(ended.size(), 1u) << c;
    EXPECT_EQ(ended[0].reason, "closed");
  }
  EXPECT_EQ(media_.removed.size(), 2u);
  EXPECT_EQ(conf_.participantCount(), 0u);
  EXPECT_EQ(conf_.liveMeetingCount(), 0u);
  EXPECT_EQ(rooms_.left.size(), 2u);
  // The connections may join again (e.g. the next meeting).
  rooms_.meeting.state = MeetingState::kOpen;
  joinWithLink(1, "s-ban-lau");
  EXPECT_EQ(conf_.participantCount(), 1u);
}

TEST_F(ConferenceRoomsTest, CancellingTellsWaitingRooms) {
  joinWithLink(1, "s-ban-lau");
  rooms_.meeting.state = MeetingState::kCancelled;
  conf_.meetingChanged(rooms_.meeting);
  const auto ended = signal_.to<MeetingEndedMsg>(1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, "cancelled");
  EXPECT_TRUE(media_.added.empty());
}

TEST_F(ConferenceRoomsTest, AnEditThatNoLongerInvitesARoomSendsItAway) {
  rooms_.meeting.state = MeetingState::kLive;
  joinWithLink(1, "s-ban-lau");
  joinWithLink(2, "s-coc-san");
  conf_.attachChair(3, 1, "host-token", "giao-ban");
  ASSERT_EQ(conf_.participantCount(), 2u);

  // Access "anyone" admits rooms whether invited or not: nobody leaves.
  rooms_.meeting.access = MeetingAccess::kAnyone;
  rooms_.meeting.invited = {"lc.xa.coc-san"};
  conf_.meetingChanged(rooms_.meeting);
  EXPECT_EQ(conf_.participantCount(), 2u);

  rooms_.meeting.access = MeetingAccess::kInvited;
  conf_.meetingChanged(rooms_.meeting);
  const auto ended = signal_.to<MeetingEndedMsg>(1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].meeting, "giao-ban");
  EXPECT_EQ(ended[0].reason, "uninvited");
  EXPECT_TRUE(signal_.to<MeetingEndedMsg>(2).empty());
  EXPECT_TRUE(signal_.to<MeetingEndedMsg>(3).empty());  // the chair stays
  EXPECT_EQ(conf_.participantCount(), 1u);
  EXPECT_EQ(media_.removed.size(), 1u);
  EXPECT_EQ(rooms_.left, std::vector<std::string>{"lc.xa.ban-lau"});
  const auto state = signal_.to<MeetingStateMsg>(3);
  ASSERT_FALSE(state.empty());
  ASSERT_EQ(state.back().rooms.size(), 1u);
  EXPECT_EQ(state.back().rooms[0].unitId, "lc.xa.coc-san");

  // The last invited room dropped too: the chair stays attached to the empty meeting.
  rooms_.meeting.invited = {};
  conf_.meetingChanged(rooms_.meeting);
  EXPECT_EQ(signal_.to<MeetingEndedMsg>(2).size(), 1u);
  EXPECT_EQ(conf_.participantCount(), 0u);
  EXPECT_TRUE(signal_.to<MeetingEndedMsg>(3).empty());
  EXPECT_TRUE(signal_.to<MeetingStateMsg>(3).back().rooms.empty());
}

TEST_F(ConferenceRoomsTest, LockingKeepsWaitingRoomsWaiting) {
  joinWithLink(1, "s-ban-lau");
  rooms_.meeting.state = MeetingState::kOpen;
  rooms_.meeting.locked = true;
  conf_.meetingChanged(rooms_.meeting);
  EXPECT_TRUE(signal_.to<JoinedMsg>(1).empty());
  rooms_.meeting.locked = false;
  conf_.meetingChanged(rooms_.meeting);
  EXPECT_EQ(signal_.to<JoinedMsg>(1).size(), 1u);
}

TEST_F(ConferenceRoomsTest, LeavingReportsPresence) {
  rooms_.meeting.state = MeetingState::kOpen;
  joinWithLink(1, "s-ban-lau");
  conf_.leave(1, 2);
  EXPECT_EQ(rooms_.left, std::vector<std::string>{"lc.xa.ban-lau"});
}

}  // namespace
}  // namespace mcu::core

// ---------------------------------------------------------------- chairing (issue 4)

namespace mcu::core {
namespace {

using namespace std::chrono_literals;

class ConferenceChairTest : public ConferenceRoomsTest {
 protected:
  ConferenceChairTest() {
    rooms_.meeting.state = MeetingState::kLive;
    joinWithLink(1, "s-ban-lau");
    joinWithLink(2, "s-coc-san");
    a_ = signal_.to<JoinedMsg>(1).at(0).you;
    b_ = signal_.to<JoinedMsg>(2).at(0).you;
    conf_.attachChair(10, 1, "host-token", "giao-ban");
    signal_.clear();
  }
  void control(ControlRequest r, ConnectionId chair = 10) { conf_.control(chair, 5, r); }
  ControlRequest action(ControlAction a, const ParticipantId& room = {}) {
    ControlRequest r;
    r.action = a;
    r.room = room;
    return r;
  }
  MeetingStateMsg lastState(ConnectionId chair = 10) {
    const auto states = signal_.to<MeetingStateMsg>(chair);
    if (states.empty()) {
      ADD_FAILURE() << "no meeting-state";
      return {};
    }
    return states.back();
  }
  std::optional<RosterEntry> lastEntryOf(ConnectionId conn, const ParticipantId& id) {
    std::optional<RosterEntry> out;
    for (const auto& m : signal_.to<ParticipantUpdatedMsg>(conn)) {
      if (m.participant.id == id) out = m.participant;
    }
    return out;
  }
  const std::vector<TilePlacement>& lastTiles() { return media_.layouts.back().tiles; }

  ParticipantId a_, b_;
};

TEST_F(ConferenceChairTest, AChairAttachesWithItsLoginAndSeesTheMeeting) {
  conf_.attachChair(11, 3, "host-token", "giao-ban");
  const auto joined = signal_.to<ChairJoinedMsg>(11);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].requestId, RequestId(3));
  EXPECT_TRUE(joined[0].canControl);
  EXPECT_EQ(joined[0].role, "host");
  const MeetingStateMsg state = lastState(11);
  ASSERT_EQ(state.rooms.size(), 2u);
  EXPECT_EQ(state.rooms[0].entry.name, "name of lc.xa.ban-lau");
  EXPECT_EQ(state.rooms[0].unitId, "lc.xa.ban-lau");
  EXPECT_EQ(state.layoutKind, "grid");
  EXPECT_EQ(state.tiles.size(), 2u);
  EXPECT_EQ(state.canvasWidth, config_.video.width);
}

TEST_F(ConferenceChairTest, BadChairsAreRefused) {
  conf_.attachChair(20, 1, "forged", "giao-ban");
  EXPECT_EQ(errorTo(20), ErrorCode::kUnauthorized);
  conf_.attachChair(21, 1, "host-token", "nope");
  EXPECT_EQ(errorTo(21), ErrorCode::kUnknownMeeting);
  conf_.attachChair(1, 1, "host-token", "giao-ban");  // a room's connection
  EXPECT_EQ(errorTo(1), ErrorCode::kAlreadyJoined);
  conf_.control(22, 1, action(ControlAction::kClearForced));  // never attached
  EXPECT_EQ(errorTo(22), ErrorCode::kNotAllowed);
  signal_.clear();
  conf_.control(1, 1, action(ControlAction::kClearForced));  // a room may not chair
  EXPECT_EQ(errorTo(1), ErrorCode::kNotAllowed);

  // A technician watches; every control is forbidden.
  conf_.attachChair(23, 1, "tech-token", "giao-ban");
  EXPECT_FALSE(signal_.to<ChairJoinedMsg>(23).at(0).canControl);
  conf_.control(23, 1, action(ControlAction::kMute, a_));
  EXPECT_EQ(errorTo(23), ErrorCode::kForbidden);
  EXPECT_TRUE(media_.audioMuted.empty());

  control(action(ControlAction::kMute, "p999"));
  EXPECT_EQ(errorTo(10), ErrorCode::kNotAllowed);
}

TEST_F(ConferenceChairTest, MutingTakesARoomOutOfTheMixAndEveryoneSeesIt) {
  ControlRequest mute = action(ControlAction::kMute, a_);
  mute.flag = true;
  control(mute);
  EXPECT_EQ(signal_.to<AckMsg>(10).size(), 1u);
  EXPECT_TRUE(media_.audioMuted.at(a_));
  for (ConnectionId c : {1, 2}) {
    const auto entry = lastEntryOf(c, a_);
    ASSERT_TRUE(entry) << c;
    EXPECT_TRUE(entry->chairMuted) << c;  // the room itself learns it too
  }
  EXPECT_TRUE(lastState().rooms[0].entry.chairMuted);
  ASSERT_EQ(rooms_.audits.size(), 1u);
  EXPECT_EQ(rooms_.audits[0].action, "chair.mute");
  EXPECT_EQ(rooms_.audits[0].actor, "chu-tri");

  mute.flag = false;
  control(mute);
  EXPECT_FALSE(media_.audioMuted.at(a_));
}

TEST_F(ConferenceChairTest, MuteAllSparesTheExceptions) {
  ControlRequest all = action(ControlAction::kMuteAll);
  all.flag = true;
  all.except = {a_};
  control(all);
  EXPECT_EQ(media_.audioMuted.count(a_), 0u);
  EXPECT_TRUE(media_.audioMuted.at(b_));
}

TEST_F(ConferenceChairTest, HandsQueueAndTheFloorGoesToOneRoomAtATime) {
  conf_.raiseHand(2, 7, true);
  conf_.raiseHand(1, 8, true);
  EXPECT_EQ(signal_.to<AckMsg>(2).size(), 1u);
  EXPECT_EQ(lastState().hands, (std::vector<ParticipantId>{b_, a_}));
  EXPECT_TRUE(lastEntryOf(2, b_)->handRaised);

  ControlRequest layout = action(ControlAction::kLayout);
  layout.layout = "speaker";
  control(layout);
  control(action(ControlAction::kGrantFloor, b_));
  MeetingStateMsg state = lastState();
  EXPECT_EQ(state.floor, b_);
  EXPECT_EQ(state.hands, std::vector<ParticipantId>{a_});
  const auto entry = lastEntryOf(2, b_);
  EXPECT_TRUE(entry->floor);
  EXPECT_FALSE(entry->handRaised);
  EXPECT_FALSE(entry->chairMuted);
  EXPECT_EQ(lastTiles().at(0).participant, b_);  // everyone sees the speaker big

  // The next one: the previous holder is muted again.
  control(action(ControlAction::kGrantFloor, a_));
  EXPECT_TRUE(media_.audioMuted.at(b_));
  EXPECT_FALSE(lastEntryOf(2, b_)->floor);
  EXPECT_EQ(lastState().floor, a_);
  EXPECT_EQ(lastTiles().at(0).participant, a_);

  control(action(ControlAction::kRevokeFloor));
  EXPECT_TRUE(media_.audioMuted.at(a_));
  EXPECT_EQ(lastState().floor, std::nullopt);
  EXPECT_EQ(lastState().forced, std::nullopt);

  conf_.raiseHand(1, 9, true);
  control(action(ControlAction::kLowerHand, a_));
  EXPECT_TRUE(lastState().hands.empty());
  EXPECT_FALSE(lastEntryOf(1, a_)->handRaised);
}

TEST_F(ConferenceChairTest, EveryoneSeesTheForcedRoomInTheBigPane) {
  ControlRequest layout = action(ControlAction::kLayout);
  layout.layout = "presenter";
  control(layout);
  control(action(ControlAction::kForceBig, b_));
  EXPECT_EQ(lastTiles().at(0).participant, b_);
  EXPECT_GT(lastTiles().at(0).rect.width, lastTiles().at(1).rect.width);
  EXPECT_EQ(lastState().layoutKind, "presenter");
  EXPECT_EQ(lastState().forced, b_);
  control(action(ControlAction::kClearForced));
  EXPECT_EQ(lastState().forced, std::nullopt);

  layout.layout = "3x3";
  control(layout);
  EXPECT_EQ(errorTo(10), ErrorCode::kBadField);
}

TEST_F(ConferenceChairTest, VoiceSwitchingMovesTheSpeakerBigAfterItsHoldTime) {
  ControlRequest layout = action(ControlAction::kLayout);
  layout.layout = "speaker";
  control(layout);
  ASSERT_EQ(lastTiles().at(0).participant, a_);  // nobody spoke: join order
  // B talks steadily; a cough of A's does not count.
  for (int i = 0; i < 12; ++i) {
    timers_.clock += 100ms;
    conf_.onAudioLevel(b_, 30);
    conf_.onAudioLevel(a_, i == 3 ? 20 : kSilentLevel);
  }
  EXPECT_EQ(lastTiles().at(0).participant, b_);
  // A state for chairs follows within the throttle window, carrying the levels.
  std::vector<TimerId> throttle;
  for (TimerId t : timers_.pending()) {
    if (timers_.timer(t).delay < 1s) throttle.push_back(t);  // not the answer timeouts
  }
  ASSERT_EQ(throttle.size(), 1u);
  signal_.clear();
  timers_.fire(throttle[0]);
  const MeetingStateMsg state = lastState();
  EXPECT_EQ(state.speaker, b_);
  EXPECT_EQ(state.rooms[1].level, 30);
}

TEST_F(ConferenceChairTest, AChairMutedRoomCannotTakeTheBigPaneByTalking) {
  ControlRequest layout = action(ControlAction::kLayout);
  layout.layout = "speaker";
  control(layout);
  ControlRequest mute = action(ControlAction::kMute, b_);
  mute.flag = true;
  control(mute);
  for (int i = 0; i < 30; ++i) {
    timers_.clock += 100ms;
    conf_.onAudioLevel(b_, 10);
  }
  EXPECT_EQ(lastTiles().at(0).participant, a_);
}

TEST_F(ConferenceChairTest, RollCall) {
  conf_.answerRollCall(1, 3);
  EXPECT_EQ(errorTo(1), ErrorCode::kNotAllowed);
  signal_.clear();
  ControlRequest open = action(ControlAction::kRollCall);
  open.flag = true;
  control(open);
  for (ConnectionId c : {1, 2}) EXPECT_TRUE(signal_.to<RollCallMsg>(c).at(0).open);
  conf_.answerRollCall(2, 4);
  EXPECT_EQ(lastState().rollCallAnswered, std::vector<ParticipantId>{b_});
  EXPECT_TRUE(lastState().rollCallOpen);
  open.flag = false;
  control(open);
  EXPECT_FALSE(signal_.to<RollCallMsg>(1).back().open);
  // Reopening clears the answers.
  open.flag = true;
  control(open);
  EXPECT_TRUE(lastState().rollCallAnswered.empty());
}

ControlRequest inviteBack(const std::string& unitId) {
  ControlRequest back;
  back.action = ControlAction::kInviteBack;
  back.unitId = unitId;
  return back;
}

TEST_F(ConferenceChairTest, ARemovedRoomStaysOutUntilInvitedBack) {
  control(action(ControlAction::kRemove, a_));
  const auto ended = signal_.to<MeetingEndedMsg>(1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, "removed");
  EXPECT_EQ(conf_.participantCount(), 1u);
  EXPECT_EQ(lastState().barred,
            (std::vector<BarredRoom>{{"lc.xa.ban-lau", "name of lc.xa.ban-lau"}}));
  // From another connection (say its page was reloaded) the unit is refused.
  signal_.clear();
  joinWithLink(3, "s-ban-lau");
  EXPECT_EQ(errorTo(3), ErrorCode::kNotInvited);
  control(inviteBack("lc.xa.ban-lau"));
  EXPECT_TRUE(lastState().barred.empty());
  signal_.clear();
  joinWithLink(3, "s-ban-lau");
  EXPECT_EQ(signal_.to<JoinedMsg>(3).size(), 1u);
}

// An unattended bridge point has nobody to click "join": the page that was removed keeps its
// connection and the server lets it in again the moment the chair invites it back.
TEST_F(ConferenceChairTest, ARemovedPageWaitsOnItsConnectionAndIsLetInWhenInvitedBack) {
  control(action(ControlAction::kRemove, a_));
  EXPECT_EQ(conf_.waitingCount(), 1u);
  signal_.clear();
  control(inviteBack("lc.xa.ban-lau"));
  const auto joined = signal_.to<JoinedMsg>(1);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].requestId, std::nullopt);  // unasked, as when a meeting opens
  EXPECT_EQ(joined[0].roster.size(), 2u);
  EXPECT_EQ(conf_.participantCount(), 2u);
  EXPECT_EQ(conf_.waitingCount(), 0u);
  EXPECT_EQ(lastState().rooms.size(), 2u);
  EXPECT_EQ(lastState().rooms[1].unitId, "lc.xa.ban-lau");
  EXPECT_EQ(signal_.to<ParticipantJoinedMsg>(2).size(), 1u);
}

TEST_F(ConferenceChairTest, ARoomInvitedBackIntoALockedMeetingJoinsWhenItIsUnlocked) {
  control(action(ControlAction::kRemove, a_));
  ControlRequest lock = action(ControlAction::kLock);
  lock.flag = true;
  control(lock);
  signal_.clear();
  control(inviteBack("lc.xa.ban-lau"));
  EXPECT_TRUE(signal_.to<JoinedMsg>(1).empty());
  EXPECT_TRUE(signal_.to<ErrorMsg>(1).empty());
  // Other changes of the meeting do not let it in either.
  rooms_.meeting.title = "Giao ban tuần (sửa)";
  conf_.meetingChanged(rooms_.meeting);
  EXPECT_TRUE(signal_.to<JoinedMsg>(1).empty());
  lock.flag = false;
  control(lock);
  conf_.meetingChanged(rooms_.meeting);  // the meeting service reports the unlock
  EXPECT_EQ(signal_.to<JoinedMsg>(1).size(), 1u);
}

TEST_F(ConferenceChairTest, ARemovedRoomIsNotLetInByOtherMeetingChanges) {
  control(action(ControlAction::kRemove, a_));
  signal_.clear();
  conf_.meetingChanged(rooms_.meeting);
  EXPECT_TRUE(signal_.to<JoinedMsg>(1).empty());
  EXPECT_EQ(conf_.waitingCount(), 1u);
}

TEST_F(ConferenceChairTest, TheBarOutlivesAnIdleMeetingAndEndsWithIt) {
  control(action(ControlAction::kRemove, a_));
  conf_.disconnected(1);
  conf_.disconnected(10);
  conf_.leave(2, 3);
  EXPECT_EQ(conf_.waitingCount(), 0u);
  signal_.clear();
  joinWithLink(4, "s-ban-lau");
  EXPECT_EQ(errorTo(4), ErrorCode::kNotInvited);
  // A page still waiting when the meeting closes hears it; the next meeting has no bar.
  joinWithLink(5, "s-coc-san");
  conf_.attachChair(11, 1, "host-token", "giao-ban");
  control(action(ControlAction::kRemove, signal_.to<JoinedMsg>(5).at(0).you), 11);
  signal_.clear();
  rooms_.meeting.state = MeetingState::kEnded;
  conf_.meetingChanged(rooms_.meeting);
  ASSERT_EQ(signal_.to<MeetingEndedMsg>(5).size(), 1u);
  EXPECT_EQ(signal_.to<MeetingEndedMsg>(5)[0].reason, "closed");
  EXPECT_EQ(conf_.waitingCount(), 0u);
  rooms_.meeting.state = MeetingState::kLive;
  joinWithLink(6, "s-ban-lau");
  EXPECT_EQ(signal_.to<JoinedMsg>(6).size(), 1u);
}

// Every control the chair uses leaves one entry in the audit log; the lock's is the meeting
// service's own (meeting.lock), not a second one.
TEST_F(ConferenceChairTest, EveryControlIsAuditedOnce) {
  conf_.raiseHand(2, 1, true);
  ControlRequest r;
  const auto run = [&](ControlAction a, const std::function<void(ControlRequest&)>& set = {}) {
    r = action(a);
    if (set) set(r);
    control(r);
  };
  run(ControlAction::kMute, [&](auto& c) {
    c.room = a_;
    c.flag = true;
  });
  run(ControlAction::kMuteAll, [&](auto& c) { c.flag = false; });
  run(ControlAction::kGrantFloor, [&](auto& c) { c.room = b_; });
  run(ControlAction::kRevokeFloor);
  run(ControlAction::kLowerHand, [&](auto& c) { c.room = b_; });
  run(ControlAction::kForceBig, [&](auto& c) { c.room = a_; });
  run(ControlAction::kClearForced);
  run(ControlAction::kLayout, [&](auto& c) { c.layout = "1+7"; });
  run(ControlAction::kPin, [&](auto& c) {
    c.seat = 3;
    c.room = a_;
  });
  run(ControlAction::kUnpin, [&](auto& c) { c.seat = 3; });
  run(ControlAction::kRollCall, [&](auto& c) { c.flag = true; });
  run(ControlAction::kLock, [&](auto& c) { c.flag = true; });
  run(ControlAction::kNotice, [&](auto& c) { c.text = "Nghỉ giải lao 10 phút"; });
  run(ControlAction::kRemove, [&](auto& c) { c.room = b_; });
  run(ControlAction::kInviteBack, [&](auto& c) { c.unitId = "lc.xa.coc-san"; });
  EXPECT_EQ(signal_.to<AckMsg>(10).size(), 15u);
  EXPECT_TRUE(signal_.to<ErrorMsg>(10).empty());
  std::vector<std::string> actions;
  for (const auto& e : rooms_.audits) {
    actions.push_back(e.action);
    EXPECT_EQ(e.actor, "chu-tri") << e.action;
    EXPECT_EQ(e.target, "meeting:7") << e.action;
  }
  EXPECT_EQ(actions, (std::vector<std::string>{
                         "chair.mute", "chair.mute-all", "chair.grant-floor", "chair.revoke-floor",
                         "chair.lower-hand", "chair.force-big", "chair.clear-forced",
                         "chair.layout", "chair.pin", "chair.unpin", "chair.roll-call",
                         "meeting.lock", "chair.notice", "chair.remove", "chair.invite-back"}));
  // What was done to whom.
  EXPECT_EQ(rooms_.audits[0].detail, a_);
  EXPECT_EQ(rooms_.audits[7].detail, "1+7");
  EXPECT_EQ(rooms_.audits[13].detail, "name of lc.xa.coc-san");
  EXPECT_EQ(rooms_.audits[14].detail, "lc.xa.coc-san");
}

// "Forbid a room to speak" is the chair's mute: the room cannot lift it itself, but it may still
// raise its hand (that is how it asks), and the floor allows it again.
TEST_F(ConferenceChairTest, AForbiddenRoomCannotUnmuteItselfButMayAskForTheFloor) {
  ControlRequest forbid = action(ControlAction::kMute, b_);
  forbid.flag = true;
  control(forbid);
  conf_.setMuted(2, 6, MediaKind::kAudio, false);  // the room's own microphone button
  EXPECT_TRUE(media_.audioMuted.at(b_));
  EXPECT_TRUE(lastEntryOf(2, b_)->chairMuted);
  conf_.raiseHand(2, 7, true);
  EXPECT_EQ(lastState().hands, std::vector<ParticipantId>{b_});
  control(action(ControlAction::kGrantFloor, b_));
  EXPECT_FALSE(media_.audioMuted.at(b_));
  EXPECT_FALSE(lastEntryOf(2, b_)->chairMuted);
}

TEST_F(ConferenceChairTest, NoticesGoOnTheCompositeAndToTheRooms) {
  ControlRequest notice = action(ControlAction::kNotice);
  notice.text = "Đề nghị các điểm cầu tắt micro khi không phát biểu";
  control(notice);
  EXPECT_EQ(media_.notices.at("giao-ban"), notice.text);
  EXPECT_EQ(signal_.to<NoticeMsg>(2).at(0).text, notice.text);
  EXPECT_EQ(lastState().notice, notice.text);
  notice.text = std::string(201, 'a');
  control(notice);
  EXPECT_EQ(errorTo(10), ErrorCode::kBadField);
  notice.text = "a\nb";
  signal_.clear();
  control(notice);
  EXPECT_EQ(errorTo(10), ErrorCode::kBadField);
}

TEST_F(ConferenceChairTest, LockingGoesThroughTheMeetingService) {
  ControlRequest lock = action(ControlAction::kLock);
  lock.flag = true;
  control(lock);
  EXPECT_TRUE(rooms_.meeting.locked);
  EXPECT_TRUE(lastState().locked);
}

TEST_F(ConferenceChairTest, AShareTakesThePresenterPaneAndStoppingRestoresTheLayout) {
  conf_.onShareState(a_, true);
  ASSERT_FALSE(lastTiles().empty());
  EXPECT_EQ(lastTiles().at(0).participant, shareSourceId(a_));
  EXPECT_EQ(lastState().layoutKind, "presenter");
  EXPECT_TRUE(lastState().rooms[0].sharing);
  conf_.onShareState(a_, false);
  EXPECT_EQ(lastState().layoutKind, "grid");
  for (const auto& t : lastTiles()) EXPECT_NE(t.participant, shareSourceId(a_));
}

TEST_F(ConferenceChairTest, ChairsLeaveQuietlyAndTheMeetingIsForgottenWhenIdle) {
  conf_.disconnected(10);
  signal_.clear();
  conf_.raiseHand(1, 1, true);
  EXPECT_TRUE(signal_.to<MeetingStateMsg>(10).empty());
  conf_.leave(1, 2);
  conf_.leave(2, 2);
  EXPECT_EQ(conf_.liveMeetingCount(), 0u);
  EXPECT_TRUE(conf_.snapshot().empty());
}

TEST_F(ConferenceChairTest, ClosingTheMeetingTellsTheChairsToo) {
  rooms_.meeting.state = MeetingState::kEnded;
  conf_.meetingChanged(rooms_.meeting);
  EXPECT_EQ(signal_.to<MeetingEndedMsg>(10).size(), 1u);
  EXPECT_TRUE(conf_.snapshot().empty());
}

}  // namespace
}  // namespace mcu::core
