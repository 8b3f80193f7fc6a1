// The composite encoded once per rung, and each viewer on the rung its link carries: a viewer
// whose downlink loses packets ends on the small rung (its receiver reports say so), while the
// others keep the full size.
#include <gtest/gtest.h>

#include "media/Mixer.hpp"
#include "tests/media/MediaChecks.hpp"
#include "tests/media/MediaHarness.hpp"

namespace mcu::testing {
namespace {

using namespace std::chrono_literals;

std::optional<int> rungOf(MediaHarness& h, const core::ParticipantId& id) {
  std::optional<int> rung;
  h.onStrand([&] {
    if (auto mixer = h.media().mixerFor("demo")) rung = mixer->rungOf(id);
  });
  return rung;
}

// The two rooms' tiles side by side, at the frame's own scale (the layout is one row, centred).
bool showsTwoTiles(const TestPeer& peer, int width, int height) {
  auto f = peer.lastFrame();
  if (!f || f->width != width || f->height != height) return false;
  const int y = height * 170 / 360;
  return hueOf(f->mean(width / 4, y, 2)) == Hue::kRed &&
         hueOf(f->mean(width * 3 / 4, y, 2)) == Hue::kGreen;
}

TEST(RungsMediaTest, AViewerOnALossyLinkMovesToTheSmallRungWhileTheOthersKeepTheFullSize) {
  MediaHarness h(testConfig());  // 640x360, and the 320x180 rung below it
  TestPeer& a = h.join(1, "Tỉnh Lào Cai", {0xff0000, 440});
  TestPeer& b = h.join(2, "Xã Y Tý", {0x00ff00, 660});
  for (TestPeer* p : {&a, &b}) {
    ASSERT_TRUE(waitFor([&] { return showsTwoTiles(*p, 640, 360); }, 45s))
        << p->name() << " " << dump(*p, "rungs-start-" + p->name());
  }
  const core::ParticipantId idA = h.participantId(1), idB = h.participantId(2);
  EXPECT_EQ(rungOf(h, idA), 0);
  EXPECT_EQ(rungOf(h, idB), 0);

  b.setReceiveLoss(0.3);
  EXPECT_TRUE(waitFor([&] { return rungOf(h, idB) == 1; }, 45s));
  // The small rung's own keyframe starts it: the whole picture, at its size.
  EXPECT_TRUE(waitFor([&] { return showsTwoTiles(b, 320, 180); }, 30s)) << dump(b, "rungs-small");
  EXPECT_EQ(rungOf(h, idA), 0);
  const int before = a.framesReceived();
  EXPECT_TRUE(waitFor([&] {
    return a.framesReceived() > before + 10 && showsTwoTiles(a, 640, 360);
  })) << dump(a, "rungs-full");
  std::vector<media::Mixer::RungStats> stats;
  h.onStrand([&] { stats = h.media().mixerFor("demo")->rungStats(); });
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].viewers, 1);
  EXPECT_EQ(stats[1].viewers, 1);
  EXPECT_GT(stats[1].bytes, 0u);
  for (core::ConnectionId conn : {1, 2}) EXPECT_TRUE(h.errorsTo(conn).empty());
}

// A room joining a running meeting gets its first picture from a keyframe its join asks of its
// rung's encoder, not from the next periodic one (a minute away here), and attaching its leg to
// the shared encoder does not stall the pictures everyone else receives.
TEST(RungsMediaTest, AViewerJoiningMidMeetingGetsAPictureAtOnceWithoutFreezingTheOthers) {
  core::Config config = testConfig();
  config.video.keyframeIntervalMs = 60000;
  MediaHarness h(config);
  TestPeer::Options red{0xff0000, 440}, green{0x00ff00, 660}, blue{0x0000ff, 880};
  for (auto* o : {&red, &green, &blue}) o->keyframeDistance = 900;  // cameras: one a minute
  TestPeer& a = h.join(1, "UBND tỉnh", red);
  TestPeer& b = h.join(2, "Xã Bản Xèo", green);
  for (TestPeer* p : {&a, &b}) {
    ASSERT_TRUE(waitFor([&] { return showsTwoTiles(*p, 640, 360); }, 45s))
        << p->name() << " " << dump(*p, "midjoin-start-" + p->name());
  }
  const int beforeA = a.framesReceived(), beforeB = b.framesReceived();
  a.resetFrameGaps();
  b.resetFrameGaps();
  const auto joined = std::chrono::steady_clock::now();
  TestPeer& c = h.join(3, "Xã Pa Cheo", blue);
  auto allThree = [](const TestPeer& p) {
    auto f = p.lastFrame();
    return f && !f->rgb.empty() && anywhere(p, Hue::kRed) && anywhere(p, Hue::kGreen) &&
           anywhere(p, Hue::kBlue);
  };
  ASSERT_TRUE(waitFor([&] { return c.framesReceived() > 0; }, 20s))
      << "no picture for the room that joined";
  const auto firstFrame = std::chrono::steady_clock::now() - joined;
  std::printf("mid-meeting join: first composite frame %lld ms after the join\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(firstFrame).count()));
  for (TestPeer* p : {&a, &b, &c}) {
    EXPECT_TRUE(waitFor([&] { return allThree(*p); }, 30s))
        << p->name() << " " << dump(*p, "midjoin-three-" + p->name());
  }
  // The others kept receiving pictures through the join: some seconds' worth, none late by more
  // than a second (a stall of the shared encoder or a lost reference frame would be seconds).
  EXPECT_TRUE(waitFor(
      [&] { return a.framesReceived() > beforeA + 45 && b.framesReceived() > beforeB + 45; }));
  for (TestPeer* p : {&a, &b}) {
    EXPECT_LT(p->longestFrameGap(), 1000ms) << p->name() << " froze while a room joined";
  }
  for (core::ConnectionId conn : {1, 2, 3}) EXPECT_TRUE(h.errorsTo(conn).empty());
}

// A viewer whose ICE connects but whose DTLS handshake never completes: webrtcbin blocks whatever
// is pushed into such a leg, so its send branches must not hang on the rung's and the mix's
// shared tees (whose one thread sends to every viewer) until its keys are set. The others'
// pictures and sound carry on.
TEST(RungsMediaTest, AViewerStuckInItsDtlsHandshakeDoesNotStallTheOthers) {
  MediaHarness h(testConfig());
  TestPeer& a = h.join(1, "UBND tỉnh", {0xff0000, 440});
  TestPeer& b = h.join(2, "Xã Bản Xèo", {0x00ff00, 660});
  for (TestPeer* p : {&a, &b}) {
    ASSERT_TRUE(waitFor([&] { return showsTwoTiles(*p, 640, 360); }, 45s))
        << p->name() << " " << dump(*p, "dtls-start-" + p->name());
  }
  TestPeer::Options stuck{0x0000ff, 880};
  stuck.sendBlocked = true;
  h.join(3, "Xã Pa Cheo", stuck);
  // Its ICE connects while its DTLS never will.
  auto iceConnected = [&] {
    bool connected = false;
    h.onStrand([&] {
      auto mixer = h.media().mixerFor("demo");
      const std::string name = h.participantId(3) + "-webrtc";
      GstElement* webrtc =
          mixer ? gst_bin_get_by_name(GST_BIN(mixer->pipeline()), name.c_str()) : nullptr;
      if (!webrtc) return;
      int state = 0;
      g_object_get(webrtc, "ice-connection-state", &state, nullptr);
      connected = state == 2 /* connected */ || state == 3 /* completed */;
      gst_object_unref(webrtc);
    });
    return connected;
  };
  ASSERT_TRUE(waitFor(iceConnected, 30s));
  EXPECT_EQ(rungOf(h, h.participantId(3)), std::nullopt) << "its leg hangs on a rung already";
  a.resetFrameGaps();
  b.resetFrameGaps();
  const int beforeA = a.framesReceived(), beforeB = b.framesReceived();
  const std::size_t audioA = a.audioSamplesReceived();
  EXPECT_TRUE(waitFor([&] {
    return a.framesReceived() > beforeA + 45 && b.framesReceived() > beforeB + 45;
  })) << "the others' pictures stopped";
  for (TestPeer* p : {&a, &b}) {
    EXPECT_LT(p->longestFrameGap(), 1000ms) << p->name() << " froze";
  }
  EXPECT_GT(a.audioSamplesReceived(), audioA + 48000) << "the others' sound stopped";
  EXPECT_TRUE(showsTwoTiles(a, 640, 360)) << dump(a, "dtls-after");
}

// A browser with no feedback about its uplink stays near its start rate (~300 kb/s), whatever the
// composite shows of its camera. The server's RTCP to each room carries a REMB with the bitrate
// its tile needs (in proportion to the tile's area: 1500 kb/s for a whole 1280x720 composite,
// at least 150), and follows the layout.
TEST(RungsMediaTest, EachCameraIsToldByRembTheBitrateItsTileNeeds) {
  MediaHarness h(testConfig());  // a 640x360 composite: a quarter of 1280x720
  TestPeer& a = h.join(1, "UBND tỉnh", {0xff0000, 440});
  // Alone, its tile is the whole composite: 1500 / 4.
  EXPECT_TRUE(waitFor([&] { return a.rembKbps() == 375; }, 45s)) << a.rembKbps();
  TestPeer& b = h.join(2, "Xã Bản Xèo", {0x00ff00, 660});
  // Two in a 2 x 2 grid: a quarter each (94 kb/s), raised to the floor.
  EXPECT_TRUE(waitFor([&] { return a.rembKbps() == 150 && b.rembKbps() == 150; }, 45s))
      << a.rembKbps() << " " << b.rembKbps();
}

}  // namespace
}  // namespace mcu::testing
