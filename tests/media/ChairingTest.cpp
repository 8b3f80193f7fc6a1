// The media side of chairing, end to end through real webrtcbin legs on loopback: the chair's
// mute, audio levels, a room's shared screen as a second source, the notice line.
#include <gtest/gtest.h>

#include <algorithm>

#include "mcu/core/LayoutEngine.hpp"
#include "mcu/core/ServiceError.hpp"
#include "tests/media/MediaChecks.hpp"
#include "tests/media/MediaHarness.hpp"

namespace mcu::testing {
namespace {

using namespace std::chrono_literals;

// Runs on the strand, like every MediaPort call the core makes.
void chairMute(MediaHarness& h, const core::ParticipantId& id, bool muted) {
  h.onStrand([&] { h.media().setAudioMuted(id, muted); });
}

// Meetings that end right after the chair muted and unmuted a room, every mix running with
// several voices: each mute takes the room's branches out of the mixes, and the end stops them
// all. Releasing an audiomixer's pads while it mixed crashed the process now and then (GStreamer
// 1.22), taking every other meeting on the server with it. The crash is a race: this test
// exercises the path and fails on it, but may pass without the fix; the evidence is a repeat run
// (docs/architecture.md, "Taking a branch out of an audiomixer").
TEST(ChairingMediaTest, MeetingsEndCleanlyRightAfterTheChairMutes) {
  core::Config config = testConfig();
  config.audio.talkers = 4;
  for (int round = 0; round < 4; ++round) {
    MediaHarness h(config);
    h.join(1, "Huyện Bát Xát", {0xff0000, 440});
    TestPeer& b = h.join(2, "Xã Y Tý", {0x00ff00, 660});
    h.join(3, "Xã A Mú Sung", {0x0000ff, 880});
    ASSERT_TRUE(waitFor(
        [&] {
          return hears(b, {440, 880}, {660});
        },
        45s))
        << "round " << round << ": " << describeTones(b);
    const core::ParticipantId idA = h.participantId(1);
    chairMute(h, idA, true);
    ASSERT_TRUE(waitFor([&] { return hears(b, {880}, {440, 660}); })) << describeTones(b);
    chairMute(h, idA, false);
    ASSERT_TRUE(waitFor([&] { return hears(b, {440, 880}, {660}); })) << describeTones(b);
  }  // each round's meeting ends here, its mixes running
}

TEST(ChairingMediaTest, AChairMutedRoomLeavesEveryMixAndComesBack) {
  // Four rooms talk at once: with four talkers everyone is mixed, so each mix shows the mute.
  core::Config config = testConfig();
  config.audio.talkers = 4;
  MediaHarness h(config);
  TestPeer& a = h.join(1, "Huyện Bát Xát", {0xff0000, 440});
  TestPeer& b = h.join(2, "Xã Y Tý", {0x00ff00, 660});
  TestPeer& c = h.join(3, "Xã A Mú Sung", {0x0000ff, 880});
  ASSERT_TRUE(waitFor([&] { return hears(b, {440, 880}, {660}); }, 45s)) << describeTones(b);
  ASSERT_TRUE(waitFor([&] { return hears(c, {440, 660}, {880}); })) << describeTones(c);
  const core::ParticipantId idA = h.participantId(1);
  ASSERT_FALSE(idA.empty());

  chairMute(h, idA, true);
  EXPECT_TRUE(waitFor([&] { return hears(b, {880}, {440, 660}); })) << describeTones(b);
  EXPECT_TRUE(waitFor([&] { return hears(c, {660}, {440, 880}); })) << describeTones(c);
  EXPECT_TRUE(waitFor([&] { return hears(a, {660, 880}, {440}); })) << describeTones(a);

  // A room that connects while A is muted gets a mix without A from the start.
  const std::vector<double> all = {440, 550, 660, 880};
  TestPeer& d = h.join(4, "Xã Trịnh Tường", {0xffffff, 550});
  EXPECT_TRUE(waitFor(
      [&] {
        return hears(d, {660, 880}, {440, 550});
      },
      45s))
      << describeTones(d, all);
  EXPECT_TRUE(waitFor([&] { return hears(b, {550, 880}, {440, 660}); })) << describeTones(b, all);

  chairMute(h, idA, false);
  EXPECT_TRUE(waitFor([&] { return hears(b, {440, 550, 880}, {660}); })) << describeTones(b, all);
  EXPECT_TRUE(waitFor([&] { return hears(c, {440, 550, 660}, {880}); })) << describeTones(c, all);
  EXPECT_TRUE(waitFor([&] { return hears(d, {440, 660, 880}, {550}); })) << describeTones(d, all);
  for (core::ConnectionId conn : {1, 2, 3, 4}) EXPECT_TRUE(h.errorsTo(conn).empty());
}

// The last `n` levels reported for a room, once there are that many.
std::optional<std::vector<int>> lastLevels(MediaHarness& h, const core::ParticipantId& id,
                                           std::size_t n) {
  std::vector<int> all = h.audioLevels(id);
  if (all.size() < n) return std::nullopt;
  return std::vector<int>(all.end() - n, all.end());
}

bool levelsWithin(MediaHarness& h, const core::ParticipantId& id, int low, int high) {
  auto levels = lastLevels(h, id, 5);
  return levels &&
         std::all_of(levels->begin(), levels->end(), [&](int l) { return l >= low && l <= high; });
}

std::string describeLevels(MediaHarness& h, const core::ParticipantId& id) {
  std::string out = id + ":";
  auto levels = h.audioLevels(id);
  for (std::size_t i = levels.size() > 10 ? levels.size() - 10 : 0; i < levels.size(); ++i) {
    out += " " + std::to_string(levels[i]);
  }
  return out + " (" + std::to_string(levels.size()) + " reports)";
}

// A sine at 0.4 of full scale is -11 dBov RMS: level 11. Silence is 127.
constexpr int kToneLow = 5, kToneHigh = 20;
constexpr int kSilentFrom = 120;

TEST(ChairingMediaTest, AudioLevelsFollowWhatEachRoomSends) {
  MediaHarness h(testConfig(), {.coreSeesReports = false});
  TestPeer::Options talking{0xff0000, 440};
  TestPeer::Options silent{0x00ff00, 660};
  silent.toneVolume = 0;
  TestPeer& a = h.join(1, "Sở Giáo dục", talking);
  TestPeer& b = h.join(2, "Xã Nậm Chạc", silent);
  const core::ParticipantId idA = h.participantId(1);
  const core::ParticipantId idB = h.participantId(2);
  EXPECT_TRUE(waitFor([&] { return levelsWithin(h, idA, kToneLow, kToneHigh); }, 45s))
      << describeLevels(h, idA);
  EXPECT_TRUE(waitFor([&] { return levelsWithin(h, idB, kSilentFrom, core::kSilentLevel); }))
      << describeLevels(h, idB);

  // The rooms swap: A's microphone goes quiet, B starts talking.
  a.setToneVolume(0);
  b.setToneVolume(0.4);
  EXPECT_TRUE(waitFor([&] { return levelsWithin(h, idA, kSilentFrom, core::kSilentLevel); }))
      << describeLevels(h, idA);
  EXPECT_TRUE(waitFor([&] { return levelsWithin(h, idB, kToneLow, kToneHigh); }))
      << describeLevels(h, idB);
}

TEST(ChairingMediaTest, AChairMutedRoomStillReportsItsLevel) {
  MediaHarness h(testConfig(), {.coreSeesReports = false});
  h.join(1, "Sở Công Thương", {0xff0000, 440});
  TestPeer& b = h.join(2, "Xã Dền Sáng", {0x00ff00, 660});
  const core::ParticipantId idA = h.participantId(1);
  ASSERT_TRUE(waitFor([&] { return hears(b, {440}, {660}); }, 45s)) << describeTones(b);
  chairMute(h, idA, true);
  ASSERT_TRUE(waitFor([&] { return hears(b, {}, {440, 660}); })) << describeTones(b);
  // What the room sends, not what others hear: the core decides what a muted room's voice means.
  const std::size_t before = h.audioLevels(idA).size();
  EXPECT_TRUE(waitFor([&] {
    return h.audioLevels(idA).size() > before + 5 && levelsWithin(h, idA, kToneLow, kToneHigh);
  })) << describeLevels(h, idA);
}

// The room's latest share report, if any. A share stalled for two seconds on a loaded machine
// would be reported as ended and started again, so tests look at the latest state, not the count.
std::optional<bool> sharing(MediaHarness& h, const core::ParticipantId& id) {
  auto states = h.shareStates(id);
  if (states.empty()) return std::nullopt;
  return states.back();
}

// Two rooms on 640x360 placed by hand: pane 0 on the left, pane 1 on the right.
const core::Rect kLeft{0, 90, 320, 180};
const core::Rect kRight{320, 90, 320, 180};

TEST(ChairingMediaTest, ASharedScreenIsShownWhereTheLayoutPutsItWhileItLasts) {
  MediaHarness h(testConfig(), {.coreSeesReports = false});
  TestPeer::Options presenter{0xff0000, 440};
  presenter.shareColour = 0x0000ff;
  TestPeer& a = h.join(1, "Sở Kế hoạch", presenter);
  TestPeer& b = h.join(2, "Xã Lùng Phình", {0x00ff00, 660});
  const std::vector<Spot> grid = {{160, 170, Hue::kRed}, {480, 170, Hue::kGreen}};
  ASSERT_TRUE(waitFor([&] { return shows(a, grid) && shows(b, grid); }, 45s))
      << dump(b, "share-grid");
  const core::ParticipantId idA = h.participantId(1);
  const core::ParticipantId idB = h.participantId(2);
  EXPECT_TRUE(h.shareStates(idA).empty()) << "a share reported before any was sent";

  a.startShare();
  ASSERT_TRUE(waitFor([&] { return sharing(h, idA) == true; }));
  const std::string share = core::shareSourceId(idA);
  h.onStrand([&] {
    h.media().setLayout("demo", {{share, "Sở Kế hoạch (màn hình)", kLeft}, {idB, "B", kRight}});
  });
  const std::vector<Spot> shared = {{160, 170, Hue::kBlue}, {480, 170, Hue::kGreen}};
  for (TestPeer* p : {&a, &b}) {
    EXPECT_TRUE(waitFor([&] { return shows(*p, shared) && !anywhere(*p, Hue::kRed); }))
        << p->name() << " " << dump(*p, "share-shown-" + p->name());
  }

  // The browser replaces its screen track with none: frames stop, the m-line stays.
  a.stopShare();
  EXPECT_TRUE(waitFor([&] { return sharing(h, idA) == false; }))
      << h.shareStates(idA).size() << " share reports";
  for (TestPeer* p : {&a, &b}) {
    EXPECT_TRUE(waitFor([&] {
      return shows(*p, {{480, 170, Hue::kGreen}}) && !anywhere(*p, Hue::kBlue);
    })) << p->name()
        << " " << dump(*p, "share-ended-" + p->name());
  }

  // A new share on the same m-line: reported and shown again where the layout still puts it.
  a.startShare();
  EXPECT_TRUE(waitFor([&] { return sharing(h, idA) == true; }))
      << h.shareStates(idA).size() << " share reports";
  for (TestPeer* p : {&a, &b}) {
    EXPECT_TRUE(waitFor([&] { return shows(*p, shared); }))
        << p->name() << " " << dump(*p, "share-again-" + p->name());
  }
  EXPECT_TRUE(h.shareStates(idB).empty());

  // The room's REMB covers both its tiles: the screen on the whole 640x360 composite (1500 / 4)
  // plus its camera on a 320x180 tile (1500 / 16).
  h.onStrand([&] {
    h.media().setLayout("demo", {{share, "Sở Kế hoạch (màn hình)", core::Rect{0, 0, 640, 360}},
                                 {idA, "Sở Kế hoạch", kRight}});
  });
  EXPECT_TRUE(waitFor([&] { return a.rembKbps() == 375 + 93; }, 30s)) << a.rembKbps();
  EXPECT_TRUE(h.errorsTo(1).empty());
  EXPECT_TRUE(h.errorsTo(2).empty());
}

// Pixels of the frame's band [y0, y1) x [x0, x1) that are not of `hue`.
int pixelsOtherThan(const Frame& f, Hue hue, int x0, int x1, int y0, int y1) {
  int n = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      if (hueOf(f.at(x, y)) != hue) ++n;
    }
  }
  return n;
}

TEST(ChairingMediaTest, TheNoticeIsDrawnAcrossTheBottomOfTheComposite) {
  MediaHarness h(testConfig());
  TestPeer& a = h.join(1, "Xã Pa Cheo", {0xff0000, 440});
  // One room fills the canvas; its name sits at the bottom left, the notice is centred.
  ASSERT_TRUE(waitFor(
      [&] {
        return shows(a, {{320, 180, Hue::kRed}, {320, 340, Hue::kRed}});
      },
      45s))
      << dump(a, "notice-before");
  auto band = [&] {
    auto f = a.lastFrame();
    return f && f->width == 640 ? pixelsOtherThan(*f, Hue::kRed, 220, 420, 320, 360) : -1;
  };
  ASSERT_EQ(band(), 0) << dump(a, "notice-band-before");

  h.onStrand([&] {
    h.media().setNotice("demo", "Thông báo: 14 giờ họp trực tuyến — đề nghị các điểm cầu ổn định");
  });
  EXPECT_TRUE(waitFor([&] { return band() > 500; })) << band() << " " << dump(a, "notice-on");
  EXPECT_TRUE(shows(a, {{320, 180, Hue::kRed}})) << dump(a, "notice-middle");

  h.onStrand([&] { h.media().setNotice("demo", ""); });
  EXPECT_TRUE(waitFor([&] { return band() == 0; })) << band() << " " << dump(a, "notice-off");
}

}  // namespace
}  // namespace mcu::testing

// ---------------------------------------------------------------- the chair through the Conference

namespace mcu::testing {
namespace {

// A directory with the standing meeting "demo" open to anyone, and one host login.
class DemoRooms : public core::RoomDirectory {
 public:
  core::Landing landing(const std::string&) override {
    throw core::ServiceError(core::Status::kUnauthorized, "unauthorized", "no room links here");
  }
  core::Admission admit(const std::string& code, const std::string&,
                        const std::string& guestName) override {
    if (code != "demo") throw core::ServiceError(core::Status::kNotFound, "not_found", "no");
    return core::Admission{0, "demo", "Demo", {}, guestName};
  }
  void roomJoined(const core::Admission&) override {}
  void roomLeft(const core::Admission&) override {}
  core::Caller authenticate(const std::string& token) override {
    if (token != "host") throw core::ServiceError(core::Status::kUnauthorized, "unauthorized", "");
    return core::Caller{1, "chu-tri", core::Role::kHost, "s1"};
  }
  core::Meeting meetingByCode(const std::string& code) override {
    core::Meeting m;
    m.code = code;
    m.title = "Demo";
    m.state = core::MeetingState::kLive;
    return m;
  }
  core::Meeting setLocked(const core::Caller&, core::MeetingId, bool) override {
    throw core::ServiceError(core::Status::kConflict, "bad_state", "standing meeting");
  }
  void audit(const core::AuditEntry&) override {}
};

constexpr core::ConnectionId kChair = 100;

void chairControl(MediaHarness& h, core::ControlRequest request) {
  h.onStrand([&] { h.conference().control(kChair, 7, request); });
}

core::ControlRequest speakerLayout() {
  core::ControlRequest r;
  r.action = core::ControlAction::kLayout;
  r.layout = "speaker";
  return r;
}

// The centre of the speaker layout's big pane on the 640x360 test canvas (three rooms: a strip of
// two below it).
Spot bigPane(Hue hue) {
  const core::Rect big = core::speakerLayout(2, 640, 360).at(0);
  return Spot{big.x + big.width / 2, big.y + big.height / 2, hue};
}

TEST(ChairingMediaTest, EveryoneSeesTheRoomTheChairPutsInTheBigPane) {
  DemoRooms rooms;
  MediaHarness h(testConfig(), {.coreSeesReports = false, .rooms = &rooms});
  TestPeer& a = h.join(1, "UBND tỉnh", {0xff0000, 440});
  TestPeer& b = h.join(2, "Xã Bản Lầu", {0x00ff00, 660});
  TestPeer& c = h.join(3, "Sở Y tế", {0x0000ff, 880});
  h.onStrand([&] { h.conference().attachChair(kChair, 1, "host", "demo"); });
  chairControl(h, speakerLayout());
  // Nobody spoke: the first room to join is big.
  for (TestPeer* p : {&a, &b, &c}) {
    EXPECT_TRUE(waitFor([&] { return shows(*p, {bigPane(Hue::kRed)}); }, 45s))
        << dump(*p, "force-before");
  }
  core::ControlRequest force;
  force.action = core::ControlAction::kForceBig;
  force.room = h.participantId(3);
  chairControl(h, force);
  for (TestPeer* p : {&a, &b, &c}) {
    EXPECT_TRUE(waitFor([&] { return shows(*p, {bigPane(Hue::kBlue)}); }))
        << dump(*p, "force-after");
  }
}

// How long a switch may take: the switch delay (0.7 s) and the hold time (2 s) of the default
// SpeakerSwitching, plus level reports and frames through real pipelines on a loaded machine. Far
// below the 30 s a stuck switch would need to pass waitFor's default.
constexpr auto kSwitchBound = 10s;

TEST(ChairingMediaTest, VoiceSwitchingMovesTheSpeakerIntoTheBigPane) {
  DemoRooms rooms;
  MediaHarness h(testConfig(), {.coreSeesReports = true, .rooms = &rooms});
  TestPeer::Options red{0xff0000, 440};
  TestPeer::Options green{0x00ff00, 660};
  TestPeer::Options blue{0x0000ff, 880};
  red.toneVolume = green.toneVolume = blue.toneVolume = 0;  // everyone silent at first
  TestPeer& a = h.join(1, "UBND tỉnh", red);
  TestPeer& b = h.join(2, "Xã Bản Lầu", green);
  h.join(3, "Sở Y tế", blue);
  h.onStrand([&] { h.conference().attachChair(kChair, 1, "host", "demo"); });
  chairControl(h, speakerLayout());
  ASSERT_TRUE(waitFor([&] { return shows(a, {bigPane(Hue::kRed)}); }, 45s))
      << dump(a, "voice-before");
  // Silent for longer than the switch delay, the third room stays small.
  EXPECT_FALSE(waitFor([&] { return shows(a, {bigPane(Hue::kBlue)}); }, 3s))
      << dump(a, "voice-silent");
  // It starts talking: after the switch delay it is big for everyone.
  h.peer(3).setToneVolume(0.4);
  EXPECT_TRUE(waitFor([&] { return shows(a, {bigPane(Hue::kBlue)}); }, kSwitchBound))
      << dump(a, "voice-blue");
  // It stops and the second room talks: the big pane follows (after the hold time).
  h.peer(3).setToneVolume(0);
  b.setToneVolume(0.4);
  EXPECT_TRUE(waitFor([&] { return shows(a, {bigPane(Hue::kGreen)}); }, kSwitchBound))
      << dump(a, "voice-green");
}

TEST(ChairingMediaTest, AShareTakesThePresenterPaneAndStoppingRestoresTheGrid) {
  DemoRooms rooms;
  MediaHarness h(testConfig(), {.coreSeesReports = true, .rooms = &rooms});
  TestPeer::Options presenter{0xff0000, 440};
  presenter.shareColour = 0x0000ff;
  TestPeer& a = h.join(1, "Sở Kế hoạch", presenter);
  TestPeer& b = h.join(2, "Xã Lùng Phình", {0x00ff00, 660});
  const std::vector<Spot> grid = {{160, 170, Hue::kRed}, {480, 170, Hue::kGreen}};
  ASSERT_TRUE(waitFor([&] { return shows(b, grid); }, 45s)) << dump(b, "presenter-grid");
  // Sharing: the Conference switches to presenter with the screen in the big pane.
  a.startShare();
  const core::Rect big = core::presenterLayout(2, 640, 360).at(0);
  const Spot screen{big.x + big.width / 2, big.y + big.height / 2, Hue::kBlue};
  EXPECT_TRUE(waitFor([&] { return shows(b, {screen}) && shows(a, {screen}); }))
      << dump(b, "presenter-share");
  // Stopping restores the grid the chair had.
  a.stopShare();
  EXPECT_TRUE(waitFor([&] { return shows(b, grid); })) << dump(b, "presenter-after");
}

}  // namespace
}  // namespace mcu::testing
