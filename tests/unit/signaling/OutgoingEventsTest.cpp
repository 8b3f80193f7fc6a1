// signaling/OutgoingEvents: the messages the conference sends become counts for /metrics and log
// lines that carry the room's meeting and site.
#include "signaling/OutgoingEvents.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/unit/signaling/StderrCapture.hpp"

namespace mcu::signaling {
namespace {

using nlohmann::json;

class InlineExecutor : public core::Executor {
 public:
  void post(std::function<void()> fn) override { fn(); }
};

class OutgoingEventsTest : public ::testing::Test {
 protected:
  std::vector<json> logLines() {
    std::vector<json> out;
    for (const auto& line : capture_.lines()) out.push_back(json::parse(line));
    return out;
  }
  std::uint64_t errors(core::ErrorCode code) const {
    return state_.metrics.errorsSent(static_cast<std::size_t>(code));
  }

  core::Config config_;
  InlineExecutor executor_;
  ServerState state_{config_, executor_};
  OutgoingEvents events_{state_};
  StderrCapture capture_;
};

TEST_F(OutgoingEventsTest, AJoinIsCountedAndLoggedWithItsMeetingAndSite) {
  events_.sent(7, core::JoinedMsg{1, "demo", "Phòng họp", "p3", {}});
  EXPECT_EQ(state_.metrics.joins(), 1u);
  const auto lines = logLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["msg"], "room joined");
  EXPECT_EQ(lines[0]["level"], "info");
  EXPECT_EQ(lines[0]["meeting"], "demo");
  EXPECT_EQ(lines[0]["site"], "p3");
  EXPECT_EQ(lines[0]["conn"], 7);
}

TEST_F(OutgoingEventsTest, ErrorsAreCountedByCodeAndCarryTheRoomWhenThereIsOne) {
  events_.sent(1, core::ErrorMsg{std::nullopt, core::ErrorCode::kUnknownMeeting, "no such"});
  events_.sent(2, core::JoinedMsg{1, "tinh", "", "p9", {}});
  events_.sent(2, core::ErrorMsg{5, core::ErrorCode::kBadSdp, "bad answer"});
  events_.sent(2, core::ErrorMsg{6, core::ErrorCode::kBadSdp, "bad again"});
  EXPECT_EQ(errors(core::ErrorCode::kUnknownMeeting), 1u);
  EXPECT_EQ(errors(core::ErrorCode::kBadSdp), 2u);
  EXPECT_EQ(errors(core::ErrorCode::kMeetingFull), 0u);

  const auto lines = logLines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["msg"], "error sent");
  EXPECT_EQ(lines[0]["level"], "warn");
  EXPECT_EQ(lines[0]["code"], "unknown_meeting");
  EXPECT_EQ(lines[0]["detail"], "no such");
  EXPECT_FALSE(lines[0].contains("id"));
  EXPECT_FALSE(lines[0].contains("meeting"));
  EXPECT_EQ(lines[2]["code"], "bad_sdp");
  EXPECT_EQ(lines[2]["id"], 5);
  EXPECT_EQ(lines[2]["meeting"], "tinh");
  EXPECT_EQ(lines[2]["site"], "p9");
}

TEST_F(OutgoingEventsTest, LeavingEndsTheRoomsPresence) {
  events_.sent(3, core::JoinedMsg{1, "demo", "", "p1", {}});
  events_.sent(3, core::LeftMsg{2});
  events_.sent(3, core::ErrorMsg{3, core::ErrorCode::kNotJoined, "not joined"});
  events_.sent(4, core::JoinedMsg{1, "demo", "", "p2", {}});
  events_.sent(4, core::MeetingEndedMsg{"demo", "closed"});
  const auto lines = logLines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[1]["msg"], "room left");
  EXPECT_EQ(lines[1]["site"], "p1");
  EXPECT_FALSE(lines[2].contains("meeting")) << lines[2];
  EXPECT_EQ(lines[4]["msg"], "meeting ended for room");
  EXPECT_EQ(lines[4]["reason"], "closed");
  EXPECT_EQ(lines[4]["site"], "p2");
}

TEST_F(OutgoingEventsTest, OtherMessagesAreNeitherCountedNorLogged) {
  events_.sent(1, core::OfferMsg{"v=0"});
  events_.sent(1, core::ParticipantLeftMsg{"p4"});
  events_.sent(1, core::LeftMsg{1});  // a waiting room that left: no room to name
  EXPECT_EQ(state_.metrics.joins(), 0u);
  EXPECT_TRUE(logLines().empty());
}

}  // namespace
}  // namespace mcu::signaling
