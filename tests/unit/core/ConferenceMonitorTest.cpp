// The conference model's monitoring side: monitor consoles attach with a technician's or an
// admin's token, get every site's health each interval and one site's history, and ask a room to
// reconnect or to restart its media leg; rooms report what their browser sees.
#include <gtest/gtest.h>

#include "mcu/core/Conference.hpp"
#include "mcu/core/ServiceError.hpp"
#include "tests/unit/core/FakePorts.hpp"
#include "tests/unit/core/Printers.hpp"

namespace mcu::core {
namespace {

using testing::FakeMediaPort;
using testing::FakeSignalPort;
using testing::FakeTimers;

// Bridge points join meeting "hop" with a secret naming their unit; tokens name roles.
class Directory : public RoomDirectory {
 public:
  Landing landing(const std::string& secret) override {
    return Landing{secret, "Xã " + secret, std::nullopt};
  }
  Admission admit(const std::string&, const std::string& secret, const std::string&) override {
    if (secret.empty()) throw ServiceError(Status::kForbidden, "not_invited", "invited only");
    return Admission{5, "hop", "Họp trực tuyến", secret, "Xã " + secret};
  }
  void roomJoined(const Admission&) override { ++presence; }
  void roomLeft(const Admission&) override {}
  Caller authenticate(const std::string& token) override {
    if (token == "tech") return Caller{3, "ky-thuat", Role::kTechnician, "s3"};
    if (token == "admin") return Caller{1, "admin", Role::kAdmin, "s1"};
    if (token == "host") return Caller{2, "chu-tri", Role::kHost, "s2"};
    throw ServiceError(Status::kUnauthorized, "unauthorized", "bad token");
  }
  Meeting meetingByCode(const std::string&) override {
    throw ServiceError(Status::kNotFound, "not_found", "none");
  }
  Meeting setLocked(const Caller&, MeetingId, bool) override { return {}; }
  void audit(const AuditEntry& entry) override { audits.push_back(entry); }
  std::vector<AuditEntry> audits;
  int presence = 0;
};

class ConferenceMonitorTest : public ::testing::Test {
 protected:
  Config config_;
  FakeTimers timers_;
  FakeMediaPort media_;
  FakeSignalPort signal_;
  Directory rooms_;
  Conference conf_{config_, timers_, media_, signal_, &rooms_};
  std::vector<std::pair<std::string, SiteEvent>> logged_;

  void SetUp() override {
    conf_.setSiteEventListener([this](const std::string&, const std::string& site,
                                      const std::string&,
                                      const SiteEvent& e) { logged_.emplace_back(site, e); });
  }
  ParticipantId joinRoom(ConnectionId conn, const std::string& unit) {
    conf_.join(conn, 1, JoinRequest{"", "", unit});
    const auto joined = signal_.to<JoinedMsg>(conn);
    EXPECT_EQ(joined.size(), 1u);
    const ParticipantId id = joined.empty() ? "" : joined.back().you;
    conf_.onLocalOffer(id, "v=0 offer");
    conf_.answer(conn, 2, "v=0 answer");
    conf_.onLegState(id, LegState::kConnected);
    return id;
  }
  // One monitor interval: the clock moves on and the tick fires.
  void tick() {
    timers_.clock += std::chrono::milliseconds(config_.monitor.intervalMs);
    const auto ticks = timers_.monitorTicks();
    ASSERT_EQ(ticks.size(), 1u);
    timers_.fire(ticks[0]);
  }
  ErrorCode errorTo(ConnectionId conn) {
    const auto errors = signal_.to<ErrorMsg>(conn);
    return errors.empty() ? ErrorCode::kInternal : errors.back().code;
  }
};

TEST_F(ConferenceMonitorTest, OnlyTechniciansAndAdminsMayMonitor) {
  joinRoom(1, "ban-lau");
  conf_.attachMonitor(50, 7, "tech");
  ASSERT_EQ(signal_.to<MonitorJoinedMsg>(50).size(), 1u);
  EXPECT_EQ(signal_.to<MonitorJoinedMsg>(50)[0].role, "technician");
  EXPECT_EQ(signal_.to<MonitorJoinedMsg>(50)[0].intervalMs, 2000);
  ASSERT_EQ(signal_.to<MonitorStateMsg>(50).size(), 1u);  // at once, not after an interval
  conf_.attachMonitor(51, 7, "admin");
  EXPECT_EQ(signal_.to<MonitorJoinedMsg>(51).size(), 1u);

  conf_.attachMonitor(52, 7, "host");
  EXPECT_EQ(errorTo(52), ErrorCode::kForbidden);
  conf_.attachMonitor(53, 7, "ban-lau");  // a room link's secret is no login token
  EXPECT_EQ(errorTo(53), ErrorCode::kUnauthorized);
  conf_.attachMonitor(1, 7, "tech");  // a room's own connection
  EXPECT_EQ(errorTo(1), ErrorCode::kAlreadyJoined);
  conf_.attachMonitor(50, 8, "tech");
  EXPECT_EQ(errorTo(50), ErrorCode::kAlreadyJoined);
  for (ConnectionId c : {52, 53}) {
    signal_.clear();
    conf_.monitorSite(c, 9, "hop/unit:ban-lau");
    EXPECT_EQ(errorTo(c), ErrorCode::kNotAllowed);
    EXPECT_TRUE(signal_.to<MonitorSiteMsg>(c).empty());
  }
}

TEST_F(ConferenceMonitorTest, EveryIntervalPollsTheMediaAndSendsOneStateToAllMonitors) {
  const ParticipantId a = joinRoom(1, "ban-lau");
  joinRoom(2, "coc-san");
  conf_.attachMonitor(50, 1, "tech");
  conf_.attachMonitor(51, 1, "admin");
  LegStats stats;
  stats.audioBytesIn = 1000;
  stats.packetsIn = 100;
  conf_.onLegStats(a, stats);
  tick();
  EXPECT_EQ(media_.statsPolls, 1);
  stats.audioBytesIn += 8000;
  stats.videoBytesIn += 100'000;
  stats.packetsIn += 200;
  stats.packetsLostIn += 10;
  stats.roundTripMs = 60;
  stats.rung = "1280x720";
  timers_.clock += std::chrono::milliseconds(1000);
  conf_.onLegStats(a, stats);
  signal_.clear();
  tick();
  EXPECT_EQ(signal_.broadcasts, 1);  // one message for both monitors
  const auto states = signal_.to<MonitorStateMsg>(51);
  ASSERT_EQ(states.size(), 1u);
  ASSERT_EQ(states[0].meetings.size(), 1u);
  const auto& meeting = states[0].meetings[0];
  EXPECT_EQ(meeting.code, "hop");
  EXPECT_EQ(meeting.title, "Họp trực tuyến");
  ASSERT_EQ(meeting.sites.size(), 2u);
  const SiteView& site = meeting.sites[0];
  EXPECT_EQ(site.key, "hop/unit:ban-lau");
  EXPECT_EQ(site.name, "Xã ban-lau");
  EXPECT_EQ(site.participant, a);
  EXPECT_EQ(site.state, Health::kRed);  // 10 of 210 packets lost
  ASSERT_TRUE(site.latest);
  EXPECT_NEAR(*site.latest->lossPercent, 100.0 * 10 / 210, 0.01);
  EXPECT_EQ(site.latest->oneWayDelayMs, 30);
  EXPECT_EQ(site.rung, "1280x720");
  // Logged: both joined, then ban-lau went red for its loss (coc-san for sending nothing at all).
  ASSERT_GE(logged_.size(), 3u);
  EXPECT_EQ(logged_[0].second.kind, "joined");
  EXPECT_EQ(logged_[1].second.kind, "joined");
  EXPECT_EQ(logged_[2].first, "hop/unit:ban-lau");
  EXPECT_EQ(logged_[2].second.kind, "red");
  EXPECT_EQ(logged_[2].second.detail.rfind("loss 4.8 %", 0), 0u) << logged_[2].second.detail;
}

TEST_F(ConferenceMonitorTest, ADroppedRoomIsLoggedAndKeptAsRedAndNobodyTicksWhenAllIsForgotten) {
  joinRoom(1, "ban-lau");
  tick();
  conf_.disconnected(1);
  tick();
  ASSERT_GE(logged_.size(), 3u);
  EXPECT_EQ(logged_[1].second.kind, "dropped");
  EXPECT_EQ(logged_[2].second.kind, "red");
  conf_.attachMonitor(50, 1, "tech");
  const auto state = signal_.to<MonitorStateMsg>(50).at(0);
  ASSERT_EQ(state.meetings.at(0).sites.size(), 1u);
  EXPECT_FALSE(state.meetings[0].sites[0].present);
  conf_.disconnected(50);
  // The dropped site is watched until it is forgotten, then the tick stops.
  for (int i = 0; i < 61 && !timers_.monitorTicks().empty(); ++i) tick();
  EXPECT_TRUE(timers_.monitorTicks().empty());
  EXPECT_TRUE(conf_.sites().empty());
}

TEST_F(ConferenceMonitorTest, ASitesHistoryAndEventsOnRequest) {
  joinRoom(1, "ban-lau");
  conf_.attachMonitor(50, 1, "tech");
  tick();
  tick();
  conf_.monitorSite(50, 4, "hop/unit:ban-lau");
  const auto replies = signal_.to<MonitorSiteMsg>(50);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].requestId, RequestId(4));
  EXPECT_EQ(replies[0].site.history.size(), 2u);
  ASSERT_FALSE(replies[0].site.events.empty());
  EXPECT_EQ(replies[0].site.events[0].kind, "joined");
  conf_.monitorSite(50, 5, "hop/unit:nowhere");
  EXPECT_EQ(errorTo(50), ErrorCode::kNotAllowed);
}

TEST_F(ConferenceMonitorTest, ATechnicianAsksARoomToReconnectOrToRestartItsMedia) {
  const ParticipantId a = joinRoom(1, "ban-lau");
  conf_.attachMonitor(50, 1, "tech");
  conf_.monitorAction(50, 6, "hop/unit:ban-lau", MonitorAction::kReconnect);
  EXPECT_EQ(signal_.to<ReconnectMsg>(1).size(), 1u);
  EXPECT_EQ(signal_.to<AckMsg>(50).size(), 1u);

  const std::size_t added = media_.added.size();
  conf_.monitorAction(50, 7, "hop/unit:ban-lau", MonitorAction::kRestartMedia);
  EXPECT_EQ(signal_.to<RestartMediaMsg>(1).size(), 1u);
  ASSERT_EQ(media_.added.size(), added + 1);  // a fresh leg for the same room
  EXPECT_EQ(media_.added.back().participant, a);
  EXPECT_EQ(media_.removed.back().participant, a);
  EXPECT_EQ(media_.layouts.back().tiles.size(), 1u);  // placed again
  // The new leg's offer is answered as at joining.
  conf_.onLocalOffer(a, "v=0 new offer");
  EXPECT_EQ(signal_.to<OfferMsg>(1).back().sdp, "v=0 new offer");
  conf_.answer(1, 8, "v=0 new answer");
  EXPECT_EQ(media_.answers.back().sdp, "v=0 new answer");
  EXPECT_EQ(signal_.to<AckMsg>(50).size(), 2u);
  ASSERT_EQ(rooms_.audits.size(), 2u);
  EXPECT_EQ(rooms_.audits[0].action, "monitor.reconnect");
  EXPECT_EQ(rooms_.audits[1].action, "monitor.restart-media");
  EXPECT_EQ(rooms_.audits[1].actor, "ky-thuat");

  conf_.leave(1, 9);
  conf_.monitorAction(50, 10, "hop/unit:ban-lau", MonitorAction::kReconnect);
  EXPECT_EQ(errorTo(50), ErrorCode::kNotAllowed);
  conf_.monitorAction(60, 11, "hop/unit:ban-lau", MonitorAction::kReconnect);
  EXPECT_EQ(errorTo(60), ErrorCode::kNotAllowed);  // not a monitor
}

TEST_F(ConferenceMonitorTest, RoomsReportWhatTheirBrowserSeesAtMostOnceASecond) {
  const ParticipantId a = joinRoom(1, "ban-lau");
  ClientStats c;
  c.fpsIn = 25;
  c.widthIn = 1280;
  c.roundTripMs = 400;
  conf_.clientStats(1, std::nullopt, c);
  c.roundTripMs = 10;
  conf_.clientStats(1, std::nullopt, c);  // too soon: ignored
  tick();
  auto site = conf_.sites().site("hop/unit:ban-lau");
  ASSERT_TRUE(site);
  EXPECT_EQ(site->latest->oneWayDelayMs, 200);
  EXPECT_EQ(site->widthIn, 1280);
  EXPECT_EQ(site->state, Health::kRed);
  conf_.clientStats(9, 3, c);
  EXPECT_EQ(errorTo(9), ErrorCode::kNotJoined);
  (void)a;
}

TEST_F(ConferenceMonitorTest, MutingItselfOrLeavingTheCompositeIsNotMissingMedia) {
  const ParticipantId a = joinRoom(1, "ban-lau");
  conf_.setMuted(1, 3, MediaKind::kAudio, true);
  conf_.setMuted(1, 4, MediaKind::kVideo, true);
  for (int i = 0; i < 4; ++i) tick();  // 8 s without a byte
  EXPECT_EQ(conf_.sites().site("hop/unit:ban-lau")->state, Health::kGreen);
  conf_.setMuted(1, 5, MediaKind::kAudio, false);
  for (int i = 0; i < 3; ++i) tick();
  const auto site = conf_.sites().site("hop/unit:ban-lau");
  ASSERT_EQ(site->reasons.size(), 1u);
  EXPECT_EQ(site->reasons[0].metric, "no-audio");
  (void)a;
}

TEST_F(ConferenceMonitorTest, ATestCallIsAPrivateMeetingWhereTheRoomHearsItselfThenAReport) {
  conf_.join(1, 3, JoinRequest{"", "", "ban-lau", /*test=*/true});
  const auto joined = signal_.to<JoinedMsg>(1);
  ASSERT_EQ(joined.size(), 1u);
  const std::string code = joined[0].meeting;
  EXPECT_EQ(code.rfind("test-", 0), 0u) << code;
  EXPECT_EQ(joined[0].meetingTitle, "Gọi thử: Xã ban-lau");
  EXPECT_EQ(media_.selfHearing[code], true);
  EXPECT_EQ(media_.added.back().meeting, code);
  EXPECT_EQ(rooms_.presence, 0);  // not presence at a meeting (the roll)
  const ParticipantId id = joined[0].you;
  conf_.onLocalOffer(id, "v=0");
  conf_.answer(1, 4, "v=0 answer");
  conf_.onLegState(id, LegState::kConnected);

  TestReport report;
  report.roundTripMs = 12;
  report.lossPercent = 0;
  report.kbpsIn = 950;
  report.camera = true;
  report.cameraWidth = 640;
  report.cameraHeight = 360;
  report.microphone = true;
  report.micLevel = 0.42;
  report.heardItself = true;
  conf_.testReport(1, 5, report);
  EXPECT_EQ(signal_.to<AckMsg>(1).back().requestId, RequestId(5));
  const auto site = conf_.sites().site("test/unit:ban-lau");
  ASSERT_TRUE(site);
  EXPECT_EQ(site->meeting, code);
  ASSERT_EQ(site->events.back().kind, "test-call");
  EXPECT_EQ(site->events.back().detail,
            "rtt 12 ms, loss 0.0 %, 950 kb/s in, camera 640x360, microphone 0.42, heard itself");

  // It ends by itself: the room is told, the meeting and its self-hearing go.
  TimerId end = 0;
  for (TimerId t : timers_.pending()) {
    if (timers_.timer(t).delay == std::chrono::seconds(config_.limits.testCallSeconds)) end = t;
  }
  ASSERT_NE(end, 0u);
  timers_.fire(end);
  ASSERT_EQ(signal_.to<MeetingEndedMsg>(1).size(), 1u);
  EXPECT_EQ(signal_.to<MeetingEndedMsg>(1)[0].reason, "test-over");
  EXPECT_EQ(conf_.participantCount(), 0u);
  EXPECT_EQ(media_.selfHearing[code], false);
  EXPECT_EQ(conf_.liveMeetingCount(), 0u);
}

TEST_F(ConferenceMonitorTest, TestCallsAreLimitedAndReportsBelongToThem) {
  config_.limits.maxTestCalls = 2;
  conf_.join(1, 1, JoinRequest{"", "", "a", true});
  conf_.join(2, 1, JoinRequest{"", "Khách", "", true});  // a guest needs no meeting code
  conf_.join(3, 1, JoinRequest{"", "", "c", true});
  EXPECT_EQ(signal_.to<JoinedMsg>(1).size(), 1u);
  EXPECT_EQ(signal_.to<JoinedMsg>(2).size(), 1u);
  EXPECT_NE(signal_.to<JoinedMsg>(1)[0].meeting, signal_.to<JoinedMsg>(2)[0].meeting);
  EXPECT_EQ(errorTo(3), ErrorCode::kMeetingFull);
  conf_.leave(1, 2);
  conf_.join(3, 2, JoinRequest{"", "", "c", true});
  EXPECT_EQ(signal_.to<JoinedMsg>(3).size(), 1u);

  joinRoom(4, "d");  // in the real meeting
  conf_.testReport(4, 6, TestReport{});
  EXPECT_EQ(errorTo(4), ErrorCode::kNotAllowed);
  conf_.testReport(9, 7, TestReport{});
  EXPECT_EQ(errorTo(9), ErrorCode::kNotJoined);
}

}  // namespace
}  // namespace mcu::core
