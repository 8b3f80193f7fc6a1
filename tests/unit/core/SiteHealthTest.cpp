#include "mcu/core/SiteHealth.hpp"

#include <gtest/gtest.h>

namespace mcu::core {
namespace {

// A site sending 50 audio + 100 video packets a second, read every 2 s as the media layer does.
class SiteHealthTest : public ::testing::Test {
 protected:
  SiteMonitor monitor{HealthThresholds{}};
  std::int64_t now = 100'000;
  LegStats stats;
  std::string key = SiteMonitor::siteKey("hop-tinh", "xa-y-ty", "Xã Y Tý");

  void SetUp() override {
    monitor.joined(key, "p1", "hop-tinh", "Xã Y Tý", "xa-y-ty", now);
    monitor.legState("p1", LegState::kConnected, now);
  }
  // One 2 s interval: the counters grow as a healthy site's do, with `lossPercent` of its
  // packets lost and the given round trip and jitter; then the tick.
  std::vector<std::pair<std::string, SiteEvent>> interval(double lossPercent = 0, double rttMs = 20,
                                                          double jitterMs = 4, bool audio = true) {
    now += 2000;
    const std::uint64_t packets = 300;
    const auto lost = std::uint64_t(packets * lossPercent / 100.0);
    stats.packetsIn += packets - lost;
    stats.packetsLostIn += std::int64_t(lost);
    if (audio) stats.audioBytesIn += 16'000;
    stats.videoBytesIn += 250'000;
    stats.bytesOut += 260'000;
    stats.roundTripMs = rttMs;
    stats.jitterInMs = jitterMs;
    stats.rung = "1280x720";
    stats.candidateType = "host";
    stats.estimateKbps = 1800;
    monitor.legStats("p1", stats, now - 1990);
    return monitor.tick(now);
  }
  SiteView view() { return *monitor.site(key); }
  std::vector<std::string> metrics() {
    std::vector<std::string> out;
    for (const auto& r : view().reasons) out.push_back(r.metric);
    return out;
  }
};

TEST_F(SiteHealthTest, AHealthySiteIsGreenWithRatesFromItsCounters) {
  for (int i = 0; i < 4; ++i) interval();
  const SiteView v = view();
  EXPECT_EQ(v.state, Health::kGreen);
  EXPECT_TRUE(v.reasons.empty());
  ASSERT_TRUE(v.latest);
  EXPECT_NEAR(v.latest->kbpsIn, (16'000 + 250'000) * 8 / 2000.0, 1);
  EXPECT_NEAR(v.latest->kbpsOut, 260'000 * 8 / 2000.0, 1);
  EXPECT_EQ(v.latest->lossPercent, 0);
  EXPECT_EQ(v.latest->oneWayDelayMs, 10);
  EXPECT_EQ(v.latest->estimateKbps, 1800);
  EXPECT_EQ(v.rung, "1280x720");
  EXPECT_EQ(v.candidateType, "host");
  EXPECT_EQ(v.history.size(), 4u);
  ASSERT_EQ(v.events.size(), 1u);
  EXPECT_EQ(v.events[0].kind, "joined");
}

TEST_F(SiteHealthTest, LossAndDelayBeyondTheLinesTurnItRedAndItRecoversWhenTheyGo) {
  interval();
  interval();
  const auto events = interval(5, 2 * 160);
  EXPECT_EQ(view().state, Health::kRed);
  EXPECT_EQ(metrics(), (std::vector<std::string>{"loss", "delay"}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, key);
  EXPECT_EQ(events[0].second.kind, "red");
  EXPECT_EQ(events[0].second.detail, "loss 5.0 %, delay 160 ms");

  const auto back = interval();
  EXPECT_EQ(view().state, Health::kGreen);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].second.kind, "recovered");
}

TEST_F(SiteHealthTest, EveryEventReachesTheNextTicksListOnce) {
  const auto first = interval();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].second.kind, "joined");
  monitor.left("p1", true, now);
  const auto second = monitor.tick(now += 2000);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].second.kind, "dropped");
  EXPECT_EQ(second[1].second.kind, "red");
  EXPECT_TRUE(monitor.tick(now += 2000).empty());
}

TEST_F(SiteHealthTest, HalfwayToALineIsAmber) {
  interval();
  interval(0, 2 * 80, 20);  // 80 ms one way, 20 ms jitter: past half of 150 and of 30
  EXPECT_EQ(view().state, Health::kAmber);
  EXPECT_EQ(metrics(), (std::vector<std::string>{"jitter", "delay"}));
  EXPECT_EQ(view().events.back().kind, "amber");
}

TEST_F(SiteHealthTest, TheLossTheRoomReportsForWhatItReceivesCountsToo) {
  interval();
  stats.lossOutPercent = 3;
  interval();
  EXPECT_EQ(view().state, Health::kRed);
  EXPECT_EQ(metrics(), std::vector<std::string>{"loss"});
}

TEST_F(SiteHealthTest, ASiteThatStopsSendingAudioIsFlaggedAfterFiveSecondsUnlessItMutedItself) {
  interval();
  interval(0, 20, 4, false);
  EXPECT_EQ(view().state, Health::kGreen);  // 2 s without audio: not yet
  interval(0, 20, 4, false);
  interval(0, 20, 4, false);  // 6 s
  EXPECT_EQ(view().state, Health::kRed);
  EXPECT_EQ(metrics(), std::vector<std::string>{"no-audio"});

  monitor.expect("p1", /*audioMuted=*/true, false, true, now);
  interval(0, 20, 4, false);
  EXPECT_EQ(view().state, Health::kGreen);
  // Unmuting gives it the grace period again before silence counts.
  monitor.expect("p1", false, false, true, now);
  interval(0, 20, 4, false);
  EXPECT_EQ(view().state, Health::kGreen);
  interval(0, 20, 4, false);
  interval(0, 20, 4, false);
  EXPECT_EQ(metrics(), std::vector<std::string>{"no-audio"});
}

// webrtcbin's RTP session forgets a source that stayed quiet for some seconds and counts it
// from zero when it comes back: a count lower than the last reading is audio flowing again,
// not silence until it passes the old total.
TEST_F(SiteHealthTest, AudioThatComesBackWithItsCountStartedAgainClearsTheFlag) {
  for (int i = 0; i < 10; ++i) interval();  // 160 kB of audio counted
  const std::uint64_t before = stats.audioBytesIn;
  for (int i = 0; i < 4; ++i) interval(0, 20, 4, false);  // quiet: the count stands still
  EXPECT_EQ(metrics(), std::vector<std::string>{"no-audio"});
  stats.audioBytesIn = 0;  // forgotten, and met again in the next interval
  interval();              // back: 16 kB, far below what was counted before
  ASSERT_LT(stats.audioBytesIn, before);
  EXPECT_EQ(view().state, Health::kGreen);
  EXPECT_NEAR(view().latest->kbpsIn, (16'000 + 250'000) * 8 / 2000.0, 1);
}

TEST_F(SiteHealthTest, NoVideoIsExpectedFromACameraOffTheComposite) {
  interval();
  monitor.expect("p1", false, false, /*videoWanted=*/false, now);
  const std::uint64_t frozen = stats.videoBytesIn;
  for (int i = 0; i < 4; ++i) {
    interval();
    stats.videoBytesIn = frozen;
  }
  EXPECT_EQ(view().state, Health::kGreen);
  monitor.expect("p1", false, false, true, now);
  for (int i = 0; i < 4; ++i) {
    interval();
    stats.videoBytesIn = frozen;
  }
  EXPECT_EQ(metrics(), std::vector<std::string>{"no-video"});
}

TEST_F(SiteHealthTest, APageThatDecodesNoPictureIsRed) {
  interval();
  ClientStats c;
  c.fpsIn = 0;
  c.roundTripMs = 30;
  for (int i = 0; i < 4; ++i) {
    monitor.clientStats("p1", c, now);
    interval();
  }
  EXPECT_EQ(metrics(), std::vector<std::string>{"no-picture"});
  c.fpsIn = 24;
  c.widthIn = 1280;
  c.heightIn = 720;
  monitor.clientStats("p1", c, now);
  interval();
  EXPECT_EQ(view().state, Health::kGreen);
  EXPECT_EQ(view().latest->fpsIn, 24);
  EXPECT_EQ(view().widthIn, 1280);
}

TEST_F(SiteHealthTest, ADroppedSiteStaysRedUntilItReconnectsWithItsHistory) {
  interval();
  interval();
  monitor.left("p1", /*dropped=*/true, now);
  monitor.tick(now += 2000);
  EXPECT_EQ(view().state, Health::kRed);
  EXPECT_FALSE(view().present);
  EXPECT_EQ(metrics(), std::vector<std::string>{"dropped"});

  monitor.joined(key, "p2", "hop-tinh", "Xã Y Tý", "xa-y-ty", now);
  monitor.legState("p2", LegState::kConnected, now);
  EXPECT_FALSE(monitor.keyOf("p1"));
  EXPECT_EQ(monitor.keyOf("p2"), key);
  monitor.tick(now += 2000);
  const SiteView v = view();
  EXPECT_TRUE(v.present);
  EXPECT_EQ(v.participant, "p2");
  EXPECT_EQ(v.state, Health::kGreen);
  EXPECT_EQ(v.history.size(), 3u);  // two before the drop, one after
  std::vector<std::string> kinds;
  for (const auto& e : v.events) kinds.push_back(e.kind);
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"joined", "dropped", "red", "reconnected", "recovered"}));
}

TEST_F(SiteHealthTest, SitesThatLeftAreForgottenAfterAWhileAndHistoryIsBounded) {
  SiteMonitor small{HealthThresholds{}, 3, 2};
  small.joined("k", "p9", "m", "A", "", now);
  for (int i = 0; i < 5; ++i) small.tick(now += 2000);
  EXPECT_EQ(small.site("k")->history.size(), 3u);
  small.note("p9", "test-call", "rtt 20 ms", now);
  small.note("p9", "test-call", "rtt 21 ms", now);
  EXPECT_EQ(small.site("k")->events.size(), 2u);
  small.left("p9", false, now);
  small.tick(now + SiteMonitor::kLeftKeepMs - 1);
  EXPECT_TRUE(small.site("k"));
  small.tick(now + SiteMonitor::kLeftKeepMs);
  EXPECT_FALSE(small.site("k"));
  EXPECT_TRUE(small.sites().empty());
}

TEST_F(SiteHealthTest, ALegThatFailsIsRedAndOneStillConnectingIsAmberAfterAWhile) {
  monitor.legState("p1", LegState::kFailed, now);
  monitor.tick(now += 2000);
  EXPECT_EQ(metrics(), std::vector<std::string>{"media"});
  EXPECT_EQ(view().state, Health::kRed);

  monitor.joined("k2", "p2", "hop-tinh", "B", "", now);
  monitor.tick(now += 2000);
  EXPECT_EQ(monitor.site("k2")->state, Health::kGreen);
  monitor.tick(now += 4000);
  EXPECT_EQ(monitor.site("k2")->state, Health::kAmber);
}

TEST_F(SiteHealthTest, AnEndedMeetingsSitesAreForgotten) {
  monitor.joined("other", "p3", "khac", "C", "", now);
  monitor.meetingEnded("hop-tinh");
  ASSERT_EQ(monitor.sites().size(), 1u);
  EXPECT_EQ(monitor.sites()[0].key, "other");
  EXPECT_FALSE(monitor.keyOf("p1"));
}

}  // namespace
}  // namespace mcu::core
