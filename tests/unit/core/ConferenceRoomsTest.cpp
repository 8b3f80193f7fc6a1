// The conference model admitting rooms through a RoomDirectory (the meeting service in the
// server): bridge points with room links, waiting for a meeting to open, being sent away when
// the host closes it, and the presence reports the roll is built from.
#include <gtest/gtest.h>

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

  Meeting meeting;
  std::map<std::string, std::string> units = {
      {"s-ban-lau", "lc.xa.ban-lau"}, {"s-coc-san", "lc.xa.coc-san"}, {"s-other", "lc.xa.other"}};
  std::vector<std::string> joined, left;
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
