// The conference model (mcu/core/Conference) driven synchronously through fake ports.
#include "mcu/core/Conference.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/unit/core/FakePorts.hpp"
#include "tests/unit/core/Printers.hpp"

namespace mcu::core {
namespace {

using testing::FakeMediaPort;
using testing::FakeSignalPort;
using testing::FakeTimers;

const std::string kOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n";
const std::string kAnswer = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\n";
const std::string kCandidate = "candidate:1 1 UDP 2122252543 127.0.0.1 50000 typ host";
// 64 code points, 86 bytes of UTF-8 (NFC).
const std::string kVietnamese64 =
    "Điểm cầu Ủy ban nhân dân xã Bản Lầu, huyện Mường Khương, Lào Cai";

class ConferenceTest : public ::testing::Test {
 protected:
  ConferenceTest() {
    config_.meetings = {{"demo", "Phòng họp thử nghiệm", true},
                        {"other", "Another meeting", true},
                        {"closed", "Closed meeting", false}};
  }

  // Created on first use so a test can adjust config_ first.
  Conference& conf() {
    if (!conf_) conf_ = std::make_unique<Conference>(config_, timers_, media_, signal_);
    return *conf_;
  }

  // Joins and returns the participant id from the `joined` reply ("" on failure).
  ParticipantId join(ConnectionId conn, const std::string& name,
                     const std::string& meeting = "demo") {
    conf().join(conn, 1, JoinRequest{meeting, name, {}});
    const auto joined = signal_.to<JoinedMsg>(conn);
    if (joined.empty()) {
      ADD_FAILURE() << "connection " << conn << " did not join " << meeting;
      return {};
    }
    return joined.back().you;
  }
  ParticipantId joinOffered(ConnectionId conn, const std::string& name) {
    const ParticipantId id = join(conn, name);
    conf().onLocalOffer(id, kOffer);
    return id;
  }
  ParticipantId joinAnswered(ConnectionId conn, const std::string& name) {
    const ParticipantId id = joinOffered(conn, name);
    conf().answer(conn, 2, kAnswer);
    return id;
  }
  // The one error sent to `conn`; a failure if there were none or several.
  ErrorMsg onlyError(ConnectionId conn) {
    const auto errors = signal_.to<ErrorMsg>(conn);
    if (errors.size() != 1) {
      ADD_FAILURE() << "expected one error to connection " << conn << ", got " << errors.size();
      return ErrorMsg{std::nullopt, ErrorCode::kInternal, "none"};
    }
    return errors.front();
  }
  void expectJoinRejected(const std::string& name, ErrorCode code,
                          const std::string& meeting = "demo") {
    conf().join(99, 5, JoinRequest{meeting, name, {}});
    const ErrorMsg e = onlyError(99);
    EXPECT_EQ(e.code, code) << "got " << errorName(e.code) << " for name '" << name << "'";
    EXPECT_EQ(e.requestId, RequestId(5));
    EXPECT_TRUE(signal_.to<JoinedMsg>(99).empty());
    EXPECT_TRUE(media_.added.empty());
    EXPECT_TRUE(timers_.pending().empty());
    EXPECT_EQ(conf().participantCount(), 0u);
    signal_.clear();
  }
  std::vector<ParticipantId> layoutOrder(std::size_t index) const {
    std::vector<ParticipantId> ids;
    for (const auto& t : media_.layouts.at(index).tiles) ids.push_back(t.participant);
    return ids;
  }

  Config config_;
  FakeTimers timers_;
  FakeMediaPort media_;
  FakeSignalPort signal_;
  std::unique_ptr<Conference> conf_;  // last: destroyed before the fakes it uses
};

// ---------------------------------------------------------------- join

TEST_F(ConferenceTest, JoinRepliesJoinedWithRosterIncludingYou) {
  conf().join(1, 41, JoinRequest{"demo", "Xã Bản Lầu", {}});

  const auto joined = signal_.to<JoinedMsg>(1);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].requestId, RequestId(41));
  EXPECT_EQ(joined[0].meeting, "demo");
  EXPECT_EQ(joined[0].meetingTitle, "Phòng họp thử nghiệm");
  EXPECT_FALSE(joined[0].you.empty());
  EXPECT_EQ(joined[0].roster,
            (std::vector<RosterEntry>{{joined[0].you, "Xã Bản Lầu", false, false}}));
  // Then the size of its tile: the whole composite.
  const auto wanted = signal_.to<VideoWantedMsg>(1);
  ASSERT_EQ(wanted.size(), 1u);
  EXPECT_EQ(wanted[0].width, 1280);
  EXPECT_EQ(signal_.countTo(1), 2u);
  EXPECT_EQ(signal_.broadcasts, 0);
}

TEST_F(ConferenceTest, JoinAddsMediaLegAndFullCanvasLayout) {
  const ParticipantId id = join(1, "Xã Bản Lầu");

  ASSERT_EQ(media_.added.size(), 1u);
  EXPECT_EQ(media_.added[0].meeting, "demo");
  EXPECT_EQ(media_.added[0].participant, id);
  EXPECT_EQ(media_.added[0].displayName, "Xã Bản Lầu");
  ASSERT_EQ(media_.layouts.size(), 1u);
  EXPECT_EQ(media_.layouts[0].meeting, "demo");
  EXPECT_EQ(media_.layouts[0].tiles,
            (std::vector<TilePlacement>{{id, "Xã Bản Lầu", Rect{0, 0, 1280, 720}}}));
}

TEST_F(ConferenceTest, LayoutUsesTheConfiguredCanvas) {
  config_.video.width = 640;
  config_.video.height = 360;
  const ParticipantId a = join(1, "A");
  const ParticipantId b = join(2, "B");
  const ParticipantId c = join(3, "C");

  ASSERT_EQ(media_.layouts.size(), 3u);
  EXPECT_EQ(media_.layouts[2].tiles, (std::vector<TilePlacement>{
                                         {a, "A", Rect{0, 0, 320, 180}},
                                         {b, "B", Rect{320, 0, 320, 180}},
                                         {c, "C", Rect{160, 180, 320, 180}},
                                     }));
}

TEST_F(ConferenceTest, JoinArmsAnswerTimerWithConfiguredTimeout) {
  config_.limits.answerTimeoutMs = 1234;
  join(1, "A");

  const auto pending = timers_.pending();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(timers_.timer(pending[0]).delay, std::chrono::milliseconds(1234));
}

TEST_F(ConferenceTest, SecondJoinNotifiesOthersAndReflowsToTwoTiles) {
  const ParticipantId a = join(1, "A");
  signal_.clear();
  const ParticipantId b = join(2, "B");

  EXPECT_NE(a, b);
  const auto joined = signal_.to<JoinedMsg>(2);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0].roster,
            (std::vector<RosterEntry>{{a, "A", false, false}, {b, "B", false, false}}));
  const auto notified = signal_.to<ParticipantJoinedMsg>(1);
  ASSERT_EQ(notified.size(), 1u);
  EXPECT_EQ(notified[0].participant, (RosterEntry{b, "B", false, false}));
  EXPECT_TRUE(signal_.to<ParticipantJoinedMsg>(2).empty());

  ASSERT_EQ(media_.layouts.size(), 2u);
  EXPECT_EQ(media_.layouts[1].tiles, (std::vector<TilePlacement>{
                                         {a, "A", Rect{0, 180, 640, 360}},
                                         {b, "B", Rect{640, 180, 640, 360}},
                                     }));
}

TEST_F(ConferenceTest, MeetingsAreIsolated) {
  join(1, "A", "demo");
  signal_.clear();
  const ParticipantId b = join(2, "B", "other");

  EXPECT_EQ(signal_.countTo(1), 0u);
  EXPECT_EQ(signal_.to<JoinedMsg>(2).at(0).roster.size(), 1u);
  EXPECT_EQ(media_.added.back().meeting, "other");
  EXPECT_EQ(media_.layouts.back().meeting, "other");
  EXPECT_EQ(media_.layouts.back().tiles.size(), 1u);
  EXPECT_EQ(conf().liveMeetingCount(), 2u);
  EXPECT_EQ(conf().roster("other"), (std::vector<RosterEntry>{{b, "B", false, false}}));
}

TEST_F(ConferenceTest, ParticipantIdsAreNotReusedAfterLeaving) {
  const ParticipantId a = join(1, "A");
  conf().leave(1, 2);
  const ParticipantId again = join(1, "A");
  EXPECT_NE(again, a);
}

TEST_F(ConferenceTest, UnknownMeetingRejected) {
  expectJoinRejected("A", ErrorCode::kUnknownMeeting, "nope");
}

TEST_F(ConferenceTest, ClosedMeetingRejected) {
  expectJoinRejected("A", ErrorCode::kMeetingClosed, "closed");
}

TEST_F(ConferenceTest, FullMeetingRejectedUntilARoomLeaves) {
  config_.limits.maxRoomsPerMeeting = 2;
  join(1, "A");
  join(2, "B");
  signal_.clear();

  conf().join(3, 7, JoinRequest{"demo", "C", {}});
  EXPECT_EQ(onlyError(3).code, ErrorCode::kMeetingFull);
  EXPECT_EQ(onlyError(3).requestId, RequestId(7));
  EXPECT_EQ(conf().roster("demo").size(), 2u);
  EXPECT_EQ(signal_.countTo(1), 0u);

  conf().leave(1, 8);
  join(3, "C");
  EXPECT_EQ(conf().roster("demo").size(), 2u);
}

TEST_F(ConferenceTest, DefaultLimitAllows200RoomsOf25AreShown) {
  for (ConnectionId c = 1; c <= 200; ++c) join(c, "Room " + std::to_string(c));
  EXPECT_EQ(media_.layouts.back().tiles.size(), 25u);
  conf().join(201, 1, JoinRequest{"demo", "Room 201", {}});
  EXPECT_EQ(onlyError(201).code, ErrorCode::kMeetingFull);
}

// Off screen a room is not decoded: it is told so (and told again when it is back on screen),
// once per change, and only rooms whose state changed are told. A shown room is told the size
// of its tile whenever that changes (it need not send more).
TEST_F(ConferenceTest, RoomsOffScreenAreToldTheirCameraIsNotWantedAndBackOnScreenThatItIs) {
  for (ConnectionId c = 1; c <= 25; ++c) join(c, "Room " + std::to_string(c));
  const int w = config_.video.width, h = config_.video.height;
  for (ConnectionId c = 1; c <= 25; ++c) {
    const auto told = signal_.to<VideoWantedMsg>(c);
    ASSERT_FALSE(told.empty()) << c;
    for (const auto& m : told) EXPECT_TRUE(m.wanted) << c;
    // A 5 x 5 grid now: a fifth of the composite each way, or a little less.
    EXPECT_GT(told.back().width, w / 6) << c;
    EXPECT_LE(told.back().width, w / 5) << c;
    EXPECT_GT(told.back().height, h / 6) << c;
    EXPECT_LE(told.back().height, h / 5) << c;
  }
  signal_.clear();
  join(26, "Room 26");
  join(27, "Room 27");
  std::vector<ConnectionId> hidden;
  for (ConnectionId c = 1; c <= 27; ++c) {
    const auto told = signal_.to<VideoWantedMsg>(c);
    if (told.empty()) continue;
    ASSERT_EQ(told.size(), 1u) << c;
    if (told[0].wanted) {
      EXPECT_GE(c, 26u) << "only a newcomer shown is told its tile";
      EXPECT_GT(told[0].width, 0);
      continue;
    }
    EXPECT_EQ(told[0].width, 0) << c;
    hidden.push_back(c);
  }
  ASSERT_EQ(hidden.size(), 2u);
  // A shown room leaves: one hidden room takes its pane and is told it is wanted again.
  ConnectionId leaver = 1;
  while (std::find(hidden.begin(), hidden.end(), leaver) != hidden.end()) ++leaver;
  signal_.clear();
  conf().leave(leaver, 9);
  int toldWanted = 0;
  for (ConnectionId c : hidden) {
    for (const auto& m : signal_.to<VideoWantedMsg>(c)) toldWanted += m.wanted ? 1 : 0;
  }
  EXPECT_EQ(toldWanted, 1);
  for (ConnectionId c = 1; c <= 27; ++c) {
    if (std::find(hidden.begin(), hidden.end(), c) == hidden.end()) {
      EXPECT_TRUE(signal_.to<VideoWantedMsg>(c).empty()) << c;
    }
  }
}

// The tile a room is told follows the layout: alone it fills the composite, and with a second
// room beside it both are told their smaller tiles; nothing is said while the size stays.
TEST_F(ConferenceTest, AShownRoomIsToldTheSizeOfItsTileWhenItChanges) {
  join(1, "Tỉnh");
  auto told = signal_.to<VideoWantedMsg>(1);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_TRUE(told[0].wanted);
  EXPECT_EQ(told[0].width, config_.video.width);
  EXPECT_EQ(told[0].height, config_.video.height);
  signal_.clear();
  join(2, "Xã");
  for (ConnectionId c : {1u, 2u}) {
    told = signal_.to<VideoWantedMsg>(c);
    ASSERT_EQ(told.size(), 1u) << c;
    EXPECT_TRUE(told[0].wanted);
    EXPECT_LT(told[0].width, config_.video.width) << c;
    EXPECT_GT(told[0].width, config_.video.width / 3) << c;
  }
  signal_.clear();
  join(3, "Huyện");  // still a 2 x 2 grid: the first two keep their size
  EXPECT_TRUE(signal_.to<VideoWantedMsg>(1).empty());
  EXPECT_TRUE(signal_.to<VideoWantedMsg>(2).empty());
  EXPECT_EQ(signal_.to<VideoWantedMsg>(3).size(), 1u);
}

TEST_F(ConferenceTest, SecondJoinOnOneConnectionIsAlreadyJoined) {
  join(1, "A");
  signal_.clear();
  const auto layouts = media_.layouts.size();

  conf().join(1, 9, JoinRequest{"other", "A again", {}});
  EXPECT_EQ(onlyError(1).code, ErrorCode::kAlreadyJoined);
  EXPECT_EQ(onlyError(1).requestId, RequestId(9));
  EXPECT_EQ(media_.added.size(), 1u);
  EXPECT_EQ(media_.layouts.size(), layouts);
  EXPECT_EQ(conf().participantCount(), 1u);
}

// ---------------------------------------------------------------- names

TEST_F(ConferenceTest, EmptyNameRejected) {
  expectJoinRejected("", ErrorCode::kBadField);
}

TEST_F(ConferenceTest, WhitespaceOnlyNameRejected) {
  expectJoinRejected(" \t\r\n ", ErrorCode::kBadField);
}

TEST_F(ConferenceTest, NameOver64CodePointsRejected) {
  expectJoinRejected(std::string(65, 'a'), ErrorCode::kBadField);
  expectJoinRejected(kVietnamese64 + "x", ErrorCode::kBadField);
}

TEST_F(ConferenceTest, NameLimitFollowsConfig) {
  config_.limits.maxNameLength = 3;
  expectJoinRejected("Lầuu", ErrorCode::kBadField);
  EXPECT_FALSE(join(1, "Lầu").empty());
}

TEST_F(ConferenceTest, InvalidUtf8NameRejected) {
  expectJoinRejected("Xa\xC3", ErrorCode::kBadField);       // truncated sequence
  expectJoinRejected("Xa\x80y", ErrorCode::kBadField);      // lone continuation byte
  expectJoinRejected("Xa\xC0\xA0y", ErrorCode::kBadField);  // overlong space
  expectJoinRejected("Xa\xFF\xFEy", ErrorCode::kBadField);  // never valid
}

TEST_F(ConferenceTest, ControlCharactersInNameRejected) {
  expectJoinRejected("Xã\tBản", ErrorCode::kBadField);
  expectJoinRejected("Xã\nBản", ErrorCode::kBadField);
  const char withNul[] = "Xã\0Bản";
  expectJoinRejected(std::string(withNul, sizeof withNul - 1), ErrorCode::kBadField);
  expectJoinRejected("Xã\x1b[31mBản", ErrorCode::kBadField);
  expectJoinRejected("Xã\x7f", ErrorCode::kBadField);
}

// U+0000 written as a three-byte overlong form: not valid UTF-8, and a control character.
TEST_F(ConferenceTest, OverlongEncodedControlCharacterInNameRejected) {
  expectJoinRejected("Xa\xE0\x80\x80y", ErrorCode::kBadField);
}

// U+0080..U+009F are control characters (Cc) too; NEL (U+0085) is a line break.
TEST_F(ConferenceTest, C1ControlCharactersInNameRejected) {
  expectJoinRejected(
      "Xã\xC2\x85"
      "Bản",
      ErrorCode::kBadField);
  expectJoinRejected(
      "Xã\xC2\x9B"
      "31mBản",
      ErrorCode::kBadField);
}

TEST_F(ConferenceTest, Vietnamese64CodePointNameAcceptedAndTrimmed) {
  ASSERT_EQ(utf8Length(kVietnamese64), 64);
  ASSERT_GT(kVietnamese64.size(), 64u);
  const ParticipantId id = join(1, "  \t" + kVietnamese64 + " \r\n");

  EXPECT_EQ(signal_.to<JoinedMsg>(1).at(0).roster.at(0).name, kVietnamese64);
  EXPECT_EQ(conf().roster("demo").at(0).name, kVietnamese64);
  EXPECT_EQ(media_.added.at(0).displayName, kVietnamese64);
  EXPECT_EQ(media_.layouts.at(0).tiles.at(0).label, kVietnamese64);
  EXPECT_EQ(conf().roster("demo").at(0).id, id);
}

TEST_F(ConferenceTest, InnerSpacesOfNameKept) {
  join(1, "  Xã  Bản Lầu ");
  EXPECT_EQ(conf().roster("demo").at(0).name, "Xã  Bản Lầu");
}

// ---------------------------------------------------------------- offer / answer

TEST_F(ConferenceTest, LocalOfferSentAsOfferMsg) {
  const ParticipantId id = join(1, "A");
  conf().onLocalOffer(id, kOffer);

  const auto offers = signal_.to<OfferMsg>(1);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].sdp, kOffer);
}

TEST_F(ConferenceTest, LocalCandidateSentAsCandidateMsg) {
  const ParticipantId id = joinOffered(1, "A");
  conf().onLocalCandidate(id, 1, kCandidate);

  const auto cands = signal_.to<CandidateMsg>(1);
  ASSERT_EQ(cands.size(), 1u);
  EXPECT_EQ(cands[0].sdpMLineIndex, 1);
  EXPECT_EQ(cands[0].candidate, kCandidate);
}

TEST_F(ConferenceTest, AnswerBeforeOfferIsNoSession) {
  join(1, "A");
  conf().answer(1, 3, kAnswer);

  EXPECT_EQ(onlyError(1).code, ErrorCode::kNoSession);
  EXPECT_EQ(onlyError(1).requestId, RequestId(3));
  EXPECT_TRUE(media_.answers.empty());
  EXPECT_EQ(timers_.pending().size(), 1u);
}

TEST_F(ConferenceTest, AnswerGoesToMediaAndCancelsTheAnswerTimer) {
  const ParticipantId id = joinOffered(1, "A");
  ASSERT_EQ(timers_.pending().size(), 1u);
  conf().answer(1, 3, kAnswer);

  ASSERT_EQ(media_.answers.size(), 1u);
  EXPECT_EQ(media_.answers[0].participant, id);
  EXPECT_EQ(media_.answers[0].sdp, kAnswer);
  EXPECT_TRUE(timers_.pending().empty());
  EXPECT_TRUE(signal_.to<ErrorMsg>(1).empty());
}

TEST_F(ConferenceTest, SecondAnswerToOneOfferIsNoSession) {
  joinAnswered(1, "A");
  conf().answer(1, 4, kAnswer);

  EXPECT_EQ(onlyError(1).code, ErrorCode::kNoSession);
  EXPECT_EQ(onlyError(1).requestId, RequestId(4));
  EXPECT_EQ(media_.answers.size(), 1u);
}

TEST_F(ConferenceTest, EmptyAnswerIsBadSdpAndTheOfferStands) {
  joinOffered(1, "A");
  conf().answer(1, 3, "");

  EXPECT_EQ(onlyError(1).code, ErrorCode::kBadSdp);
  EXPECT_EQ(onlyError(1).requestId, RequestId(3));
  EXPECT_TRUE(media_.answers.empty());
  conf().answer(1, 4, kAnswer);
  EXPECT_EQ(media_.answers.size(), 1u);
}

TEST_F(ConferenceTest, AnswerTimeoutRemovesTheParticipant) {
  const ParticipantId a = join(1, "A");
  const ParticipantId b = joinAnswered(2, "B");
  conf().onLocalOffer(a, kOffer);
  signal_.clear();
  const auto pending = timers_.pending();
  ASSERT_EQ(pending.size(), 1u);

  timers_.fire(pending[0]);

  const ErrorMsg e = onlyError(1);
  EXPECT_EQ(e.code, ErrorCode::kAnswerTimeout);
  EXPECT_EQ(e.requestId, std::nullopt);
  ASSERT_EQ(media_.removed.size(), 1u);
  EXPECT_EQ(media_.removed[0].participant, a);
  EXPECT_EQ(signal_.to<ParticipantLeftMsg>(2).at(0).id, a);
  EXPECT_EQ(conf().roster("demo"), (std::vector<RosterEntry>{{b, "B", false, false}}));
  EXPECT_EQ(layoutOrder(media_.layouts.size() - 1), std::vector<ParticipantId>{b});
}

TEST_F(ConferenceTest, AnswerTimeoutAlsoCoversAnOfferThatNeverCame) {
  join(1, "A");
  timers_.fire(timers_.pending().at(0));
  EXPECT_EQ(onlyError(1).code, ErrorCode::kAnswerTimeout);
  EXPECT_EQ(conf().participantCount(), 0u);
}

TEST_F(ConferenceTest, BadSdpFromMediaRepliesToTheAnswerAndTheOfferStands) {
  const ParticipantId id = joinOffered(1, "A");
  conf().answer(1, 17, kAnswer);
  signal_.clear();

  conf().onLegError(id, ErrorCode::kBadSdp, "answer does not match the offer");

  const ErrorMsg e = onlyError(1);
  EXPECT_EQ(e.code, ErrorCode::kBadSdp);
  EXPECT_EQ(e.requestId, RequestId(17));
  EXPECT_EQ(e.message, "answer does not match the offer");
  EXPECT_EQ(conf().participantCount(), 1u);
  EXPECT_TRUE(media_.removed.empty());
  EXPECT_EQ(timers_.pending().size(), 1u);  // the client gets a fresh timeout to answer again

  conf().answer(1, 18, kAnswer);
  EXPECT_EQ(media_.answers.size(), 2u);
  EXPECT_EQ(signal_.to<ErrorMsg>(1).size(), 1u);
  EXPECT_TRUE(timers_.pending().empty());
}

TEST_F(ConferenceTest, AnswerTimeoutAfterBadSdpRemovesTheParticipant) {
  const ParticipantId id = joinAnswered(1, "A");
  conf().onLegError(id, ErrorCode::kBadSdp, "bad");
  signal_.clear();

  timers_.fire(timers_.pending().at(0));
  EXPECT_EQ(onlyError(1).code, ErrorCode::kAnswerTimeout);
  EXPECT_EQ(conf().participantCount(), 0u);
}

// ---------------------------------------------------------------- candidates

TEST_F(ConferenceTest, CandidateBeforeAnswerIsNoSession) {
  joinOffered(1, "A");
  conf().candidate(1, 6, 0, kCandidate);

  EXPECT_EQ(onlyError(1).code, ErrorCode::kNoSession);
  EXPECT_EQ(onlyError(1).requestId, RequestId(6));
  EXPECT_TRUE(media_.candidates.empty());
}

TEST_F(ConferenceTest, CandidateAfterAnswerGoesToMedia) {
  const ParticipantId id = joinAnswered(1, "A");
  conf().candidate(1, 6, 0, kCandidate);
  conf().candidate(1, 7, 1, "a=" + kCandidate);

  ASSERT_EQ(media_.candidates.size(), 2u);
  EXPECT_EQ(media_.candidates[0].participant, id);
  EXPECT_EQ(media_.candidates[0].sdpMLineIndex, 0);
  EXPECT_EQ(media_.candidates[0].candidate, kCandidate);
  EXPECT_EQ(media_.candidates[1].sdpMLineIndex, 1);
  EXPECT_EQ(media_.candidates[1].candidate, "a=" + kCandidate);
  EXPECT_TRUE(signal_.to<ErrorMsg>(1).empty());
}

TEST_F(ConferenceTest, MalformedCandidateIsBadCandidate) {
  joinAnswered(1, "A");
  conf().candidate(1, 6, 0, "1 1 UDP 2122252543 127.0.0.1 50000 typ host");

  EXPECT_EQ(onlyError(1).code, ErrorCode::kBadCandidate);
  EXPECT_EQ(onlyError(1).requestId, RequestId(6));
  EXPECT_TRUE(media_.candidates.empty());
  EXPECT_EQ(conf().participantCount(), 1u);
}

TEST_F(ConferenceTest, CandidateWithMLineIndexOutOfRangeIsBadCandidate) {
  joinAnswered(1, "A");
  conf().candidate(1, 6, -1, kCandidate);
  conf().candidate(1, 7, 16, kCandidate);

  const auto errors = signal_.to<ErrorMsg>(1);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code, ErrorCode::kBadCandidate);
  EXPECT_EQ(errors[1].code, ErrorCode::kBadCandidate);
  EXPECT_TRUE(media_.candidates.empty());
}

TEST_F(ConferenceTest, EmptyCandidateIsEndOfCandidatesAndIgnored) {
  joinAnswered(1, "A");
  signal_.clear();
  conf().candidate(1, 6, 0, "");

  EXPECT_EQ(signal_.countTo(1), 0u);
  EXPECT_TRUE(media_.candidates.empty());
}

// ---------------------------------------------------------------- mute

TEST_F(ConferenceTest, MuteAcksAndNotifiesOthers) {
  const ParticipantId a = join(1, "A");
  join(2, "B");
  signal_.clear();

  conf().setMuted(1, 12, MediaKind::kAudio, true);

  EXPECT_EQ(signal_.to<AckMsg>(1).at(0).requestId, RequestId(12));
  EXPECT_EQ(signal_.countTo(1), 1u);
  const auto updated = signal_.to<ParticipantUpdatedMsg>(2);
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_EQ(updated[0].participant, (RosterEntry{a, "A", true, false}));
  EXPECT_EQ(conf().roster("demo").at(0), (RosterEntry{a, "A", true, false}));
}

TEST_F(ConferenceTest, VideoMuteAndUnmuteTrackedSeparately) {
  const ParticipantId a = join(1, "A");
  conf().setMuted(1, 1, MediaKind::kVideo, true);
  conf().setMuted(1, 2, MediaKind::kAudio, true);
  conf().setMuted(1, 3, MediaKind::kAudio, false);

  EXPECT_EQ(conf().roster("demo").at(0), (RosterEntry{a, "A", false, true}));
  EXPECT_EQ(signal_.to<AckMsg>(1).size(), 3u);
}

TEST_F(ConferenceTest, MuteWhenAloneAcksWithoutBroadcast) {
  join(1, "A");
  signal_.clear();
  conf().setMuted(1, 12, MediaKind::kVideo, true);

  EXPECT_EQ(signal_.to<AckMsg>(1).size(), 1u);
  EXPECT_EQ(signal_.broadcasts, 0);
}

TEST_F(ConferenceTest, LaterJoinerSeesMuteStateInRoster) {
  const ParticipantId a = join(1, "A");
  conf().setMuted(1, 1, MediaKind::kAudio, true);
  join(2, "B");
  EXPECT_EQ(signal_.to<JoinedMsg>(2).at(0).roster.at(0), (RosterEntry{a, "A", true, false}));
}

// ---------------------------------------------------------------- not joined

TEST_F(ConferenceTest, RequestsBeforeJoinAreNotJoined) {
  conf().answer(1, 1, kAnswer);
  conf().candidate(1, 2, 0, kCandidate);
  conf().setMuted(1, 3, MediaKind::kAudio, true);
  conf().leave(1, 4);

  const auto errors = signal_.to<ErrorMsg>(1);
  ASSERT_EQ(errors.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(errors[i].code, ErrorCode::kNotJoined) << i;
    EXPECT_EQ(errors[i].requestId, RequestId(i + 1)) << i;
  }
  EXPECT_EQ(signal_.countTo(1), 4u);
  EXPECT_EQ(media_.callCount(), 0u);
}

TEST_F(ConferenceTest, RequestsAfterLeaveAreNotJoined) {
  joinAnswered(1, "A");
  conf().leave(1, 3);
  signal_.clear();

  conf().candidate(1, 4, 0, kCandidate);
  conf().leave(1, 5);
  const auto errors = signal_.to<ErrorMsg>(1);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code, ErrorCode::kNotJoined);
  EXPECT_EQ(errors[1].code, ErrorCode::kNotJoined);
}

// ---------------------------------------------------------------- leave / disconnect

TEST_F(ConferenceTest, LeaveRepliesLeftAndNotifiesOthers) {
  const ParticipantId a = join(1, "A");
  join(2, "B");
  signal_.clear();

  conf().leave(1, 21);

  const auto left = signal_.to<LeftMsg>(1);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].requestId, RequestId(21));
  EXPECT_EQ(signal_.countTo(1), 1u);
  const auto gone = signal_.to<ParticipantLeftMsg>(2);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].id, a);
}

TEST_F(ConferenceTest, LeaveRemovesMediaLegAndReflowsLayout) {
  const ParticipantId a = join(1, "A");
  const ParticipantId b = join(2, "B");
  const ParticipantId c = join(3, "C");
  const auto layoutsBefore = media_.layouts.size();

  conf().leave(2, 1);

  ASSERT_EQ(media_.removed.size(), 1u);
  EXPECT_EQ(media_.removed[0].meeting, "demo");
  EXPECT_EQ(media_.removed[0].participant, b);
  ASSERT_EQ(media_.layouts.size(), layoutsBefore + 1);
  EXPECT_EQ(media_.layouts.back().tiles, (std::vector<TilePlacement>{
                                             {a, "A", Rect{0, 180, 640, 360}},
                                             {c, "C", Rect{640, 180, 640, 360}},
                                         }));
  EXPECT_EQ(conf().roster("demo"),
            (std::vector<RosterEntry>{{a, "A", false, false}, {c, "C", false, false}}));
}

TEST_F(ConferenceTest, LastLeaveEndsTheMeetingWithoutLayout) {
  const ParticipantId a = join(1, "A");
  const auto layoutsBefore = media_.layouts.size();
  conf().leave(1, 1);

  EXPECT_EQ(media_.removed.size(), 1u);
  EXPECT_EQ(media_.layouts.size(), layoutsBefore);
  EXPECT_EQ(signal_.broadcasts, 0);
  EXPECT_EQ(conf().liveMeetingCount(), 0u);
  join(2, "B");  // the meeting is still there to join
}

TEST_F(ConferenceTest, LeaveCancelsTheAnswerTimer) {
  joinOffered(1, "A");
  conf().leave(1, 1);
  EXPECT_TRUE(timers_.pending().empty());
}

TEST_F(ConferenceTest, ConnectionMayJoinAgainAfterLeaving) {
  join(1, "A");
  conf().leave(1, 1);
  join(1, "A2", "other");
  EXPECT_EQ(conf().roster("other").at(0).name, "A2");
  EXPECT_TRUE(conf().roster("demo").empty());
}

TEST_F(ConferenceTest, DisconnectMidNegotiationRemovesTheParticipant) {
  const ParticipantId a = joinOffered(1, "A");
  const ParticipantId b = joinAnswered(2, "B");
  signal_.clear();

  conf().disconnected(1);

  EXPECT_EQ(signal_.countTo(1), 0u);
  EXPECT_EQ(signal_.to<ParticipantLeftMsg>(2).at(0).id, a);
  ASSERT_EQ(media_.removed.size(), 1u);
  EXPECT_EQ(media_.removed[0].participant, a);
  EXPECT_EQ(layoutOrder(media_.layouts.size() - 1), std::vector<ParticipantId>{b});
  EXPECT_TRUE(timers_.pending().empty());
  EXPECT_EQ(conf().participantCount(), 1u);
}

TEST_F(ConferenceTest, DisconnectOfAConnectionThatNeverJoinedIsIgnored) {
  join(1, "A");
  signal_.clear();
  const auto mediaCalls = media_.callCount();
  conf().disconnected(7);
  EXPECT_TRUE(signal_.sent.empty());
  EXPECT_EQ(media_.callCount(), mediaCalls);
}

TEST_F(ConferenceTest, OfferArrivingAfterLeaveIsDropped) {
  const ParticipantId a = join(1, "A");
  conf().disconnected(1);
  signal_.clear();
  conf().onLocalOffer(a, kOffer);
  EXPECT_TRUE(signal_.sent.empty());
}

// ---------------------------------------------------------------- leg state and errors

TEST_F(ConferenceTest, LegStateChangesForwardedOnce) {
  const ParticipantId a = joinAnswered(1, "A");
  conf().onLegState(a, LegState::kConnecting);
  conf().onLegState(a, LegState::kConnected);
  conf().onLegState(a, LegState::kConnected);

  const auto states = signal_.to<MediaStateMsg>(1);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].state, LegState::kConnecting);
  EXPECT_EQ(states[1].state, LegState::kConnected);
}

TEST_F(ConferenceTest, LegFailedIsMediaFailedAndRemovesTheParticipant) {
  const ParticipantId a = joinAnswered(1, "A");
  const ParticipantId b = joinAnswered(2, "B");
  signal_.clear();

  conf().onLegState(a, LegState::kFailed);

  EXPECT_EQ(signal_.to<MediaStateMsg>(1).at(0).state, LegState::kFailed);
  const ErrorMsg e = onlyError(1);
  EXPECT_EQ(e.code, ErrorCode::kMediaFailed);
  EXPECT_EQ(e.requestId, std::nullopt);
  EXPECT_EQ(media_.removed.at(0).participant, a);
  EXPECT_EQ(signal_.to<ParticipantLeftMsg>(2).at(0).id, a);
  EXPECT_EQ(conf().roster("demo"), (std::vector<RosterEntry>{{b, "B", false, false}}));
}

TEST_F(ConferenceTest, LegBadCandidateErrorKeepsTheParticipant) {
  const ParticipantId a = joinAnswered(1, "A");
  signal_.clear();
  conf().onLegError(a, ErrorCode::kBadCandidate, "rejected by the ICE agent");

  const ErrorMsg e = onlyError(1);
  EXPECT_EQ(e.code, ErrorCode::kBadCandidate);
  EXPECT_EQ(e.requestId, std::nullopt);
  EXPECT_EQ(conf().participantCount(), 1u);
  EXPECT_TRUE(media_.removed.empty());
}

TEST_F(ConferenceTest, OtherLegErrorsRemoveTheParticipant) {
  const ParticipantId a = joinAnswered(1, "A");
  signal_.clear();
  conf().onLegError(a, ErrorCode::kMediaFailed, "pipeline error");

  EXPECT_EQ(onlyError(1).code, ErrorCode::kMediaFailed);
  EXPECT_EQ(onlyError(1).message, "pipeline error");
  EXPECT_EQ(conf().participantCount(), 0u);
  EXPECT_EQ(media_.removed.at(0).participant, a);
}

TEST_F(ConferenceTest, BadSdpBeforeAnyAnswerRemovesTheParticipant) {
  const ParticipantId a = joinOffered(1, "A");
  signal_.clear();
  conf().onLegError(a, ErrorCode::kBadSdp, "could not create the offer");

  EXPECT_EQ(onlyError(1).code, ErrorCode::kBadSdp);
  EXPECT_EQ(onlyError(1).requestId, std::nullopt);
  EXPECT_EQ(conf().participantCount(), 0u);
}

TEST_F(ConferenceTest, EventsForUnknownParticipantIgnored) {
  join(1, "A");
  signal_.clear();
  const auto mediaCalls = media_.callCount();

  conf().onLocalOffer("p999", kOffer);
  conf().onLocalCandidate("p999", 0, kCandidate);
  conf().onLegState("p999", LegState::kFailed);
  conf().onLegError("p999", ErrorCode::kMediaFailed, "boom");

  EXPECT_TRUE(signal_.sent.empty());
  EXPECT_EQ(media_.callCount(), mediaCalls);
  EXPECT_EQ(conf().participantCount(), 1u);
}

// ---------------------------------------------------------------- request ids, lifetime

TEST_F(ConferenceTest, AbsentRequestIdStaysAbsent) {
  conf().join(1, std::nullopt, JoinRequest{"demo", "A", {}});
  EXPECT_EQ(signal_.to<JoinedMsg>(1).at(0).requestId, std::nullopt);
  conf().setMuted(1, std::nullopt, MediaKind::kAudio, true);
  EXPECT_EQ(signal_.to<AckMsg>(1).at(0).requestId, std::nullopt);
  conf().answer(1, std::nullopt, kAnswer);
  EXPECT_EQ(onlyError(1).requestId, std::nullopt);
  conf().leave(1, std::nullopt);
  EXPECT_EQ(signal_.to<LeftMsg>(1).at(0).requestId, std::nullopt);
}

TEST_F(ConferenceTest, LargeRequestIdsEchoedExactly) {
  const std::int64_t big = 9007199254740993;  // not representable as a double
  conf().join(1, big, JoinRequest{"demo", "A", {}});
  conf().setMuted(1, -big, MediaKind::kAudio, true);
  EXPECT_EQ(signal_.to<JoinedMsg>(1).at(0).requestId, RequestId(big));
  EXPECT_EQ(signal_.to<AckMsg>(1).at(0).requestId, RequestId(-big));
}

TEST_F(ConferenceTest, DestructionCancelsPendingTimers) {
  join(1, "A");
  join(2, "B");
  ASSERT_EQ(timers_.pending().size(), 2u);
  conf_.reset();
  EXPECT_TRUE(timers_.pending().empty());
}

// ---------------------------------------------------------------- utf8Length

TEST(Utf8LengthTest, CountsCodePoints) {
  EXPECT_EQ(utf8Length(""), 0);
  EXPECT_EQ(utf8Length("abc"), 3);
  EXPECT_EQ(utf8Length("Lầu"), 3);               // 3-byte ầ
  EXPECT_EQ(utf8Length("\xC2\xA9"), 1);          // U+00A9, 2 bytes
  EXPECT_EQ(utf8Length("\xE2\x82\xAC"), 1);      // U+20AC, 3 bytes
  EXPECT_EQ(utf8Length("\xF0\x9F\x98\x80"), 1);  // U+1F600, 4 bytes
  EXPECT_EQ(utf8Length("\xF4\x8F\xBF\xBF"), 1);  // U+10FFFF, the last code point
  EXPECT_EQ(utf8Length(kVietnamese64), 64);
  EXPECT_EQ(utf8Length(std::string("a\0b", 3)), 3);
}

TEST(Utf8LengthTest, RejectsTruncatedSequences) {
  EXPECT_EQ(utf8Length("\xC3"), -1);
  EXPECT_EQ(utf8Length("a\xE1\xBA"), -1);
  EXPECT_EQ(utf8Length("\xF0\x9F\x98"), -1);
}

TEST(Utf8LengthTest, RejectsStrayAndInvalidBytes) {
  EXPECT_EQ(utf8Length("\x80"), -1);  // continuation without a lead byte
  EXPECT_EQ(utf8Length("a\xBFz"), -1);
  EXPECT_EQ(utf8Length("\xC3\x28"), -1);  // lead byte followed by a non-continuation
  EXPECT_EQ(utf8Length("\xFE"), -1);
  EXPECT_EQ(utf8Length("\xFF"), -1);
  EXPECT_EQ(utf8Length("\xF5\x80\x80\x80"), -1);  // lead byte above U+10FFFF
}

TEST(Utf8LengthTest, RejectsOverlongTwoByteForms) {
  EXPECT_EQ(utf8Length("\xC0\x80"), -1);
  EXPECT_EQ(utf8Length("\xC1\xBF"), -1);
}

TEST(Utf8LengthTest, RejectsOverlongThreeAndFourByteForms) {
  EXPECT_EQ(utf8Length("\xE0\x80\x80"), -1);      // U+0000
  EXPECT_EQ(utf8Length("\xE0\x9F\xBF"), -1);      // U+07FF
  EXPECT_EQ(utf8Length("\xF0\x80\x80\x80"), -1);  // U+0000
  EXPECT_EQ(utf8Length("\xF0\x8F\xBF\xBF"), -1);  // U+FFFF
}

TEST(Utf8LengthTest, RejectsSurrogates) {
  EXPECT_EQ(utf8Length("\xED\xA0\x80"), -1);  // U+D800
  EXPECT_EQ(utf8Length("\xED\xBF\xBF"), -1);  // U+DFFF
  EXPECT_EQ(utf8Length("\xED\x9F\xBF"), 1);   // U+D7FF is fine
}

TEST(Utf8LengthTest, RejectsCodePointsAboveU10FFFF) {
  EXPECT_EQ(utf8Length("\xF4\x90\x80\x80"), -1);  // U+110000
}

}  // namespace
}  // namespace mcu::core
