// The mixer end to end through real webrtcbin legs on loopback: what each room sees and hears.
#include <gtest/gtest.h>

#include <filesystem>

#include "media/Mixer.hpp"
#include "tests/media/MediaChecks.hpp"
#include "tests/media/MediaHarness.hpp"

namespace mcu::testing {
namespace {

using namespace std::chrono_literals;

// 3 rooms on 640x360 use a 2x2 grid: (0,0) (320,0) on top, (160,180) centred below; 320x180 each.
const std::vector<Spot> kThreeRooms = {
    {160, 80, Hue::kRed}, {480, 80, Hue::kGreen}, {320, 260, Hue::kBlue}};
// 2 rooms: one row, centred vertically: (0,90) and (320,90).
const std::vector<Spot> kTwoRooms = {{160, 170, Hue::kRed}, {480, 170, Hue::kGreen}};

TEST(MixerMediaTest, EachRoomSeesEveryTileAndHearsEveryoneButItself) {
  MediaHarness h(testConfig());
  TestPeer& a = h.join(1, "Tỉnh Lào Cai", {0xff0000, 440});
  TestPeer& b = h.join(2, "Sở Y tế", {0x00ff00, 660});
  TestPeer& c = h.join(3, "Xã Bản Lầu", {0x0000ff, 880});

  for (TestPeer* p : {&a, &b, &c}) {
    EXPECT_TRUE(waitFor([&] { return shows(*p, kThreeRooms); }, 45s))
        << p->name() << " did not receive the 3-tile composite (frames=" << p->framesReceived()
        << ") " << dump(*p, "three-" + p->name());
  }
  EXPECT_TRUE(waitFor([&] { return hears(a, {660, 880}, {440}); })) << describeTones(a);
  EXPECT_TRUE(waitFor([&] { return hears(b, {440, 880}, {660}); })) << describeTones(b);
  EXPECT_TRUE(waitFor([&] { return hears(c, {440, 660}, {880}); })) << describeTones(c);

  // C leaves: the grid re-flows to two tiles, C's colour and tone are gone for the others.
  h.leave(3);
  for (TestPeer* p : {&a, &b}) {
    EXPECT_TRUE(waitFor([&] { return shows(*p, kTwoRooms) && !anywhere(*p, Hue::kBlue); }))
        << p->name() << " still shows the old layout";
  }
  EXPECT_TRUE(waitFor([&] { return hears(a, {660}, {440, 880}); })) << describeTones(a);
  EXPECT_TRUE(waitFor([&] { return hears(b, {440}, {660, 880}); })) << describeTones(b);
  EXPECT_TRUE(h.errorsTo(1).empty());
  EXPECT_TRUE(h.errorsTo(2).empty());
}

TEST(MixerMediaTest, BadAnswersAreRefusedAndTheMeetingCarriesOn) {
  MediaHarness h(testConfig());
  TestPeer& a = h.join(1, "Sở Xây dựng", {0xff0000, 440});
  ASSERT_TRUE(waitFor([&] { return a.framesReceived() > 0; }, 45s));

  // Connection 2 joins with no peer behind it and answers garbage, then a one-m-line SDP.
  h.onStrand([&] { h.conference().join(2, 7, core::JoinRequest{"demo", "Bad client", {}}); });
  ASSERT_TRUE(waitFor([&] {
    for (const auto& m : h.messagesTo(2)) {
      if (std::holds_alternative<core::OfferMsg>(m)) return true;
    }
    return false;
  }));
  h.onStrand([&] { h.conference().answer(2, 8, "this is not SDP"); });
  ASSERT_TRUE(waitFor([&] { return h.errorsTo(2).size() == 1; }));
  const std::string oneLine =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
      "c=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
      "a=fingerprint:sha-256 00:11\r\na=rtpmap:111 OPUS/48000/2\r\n";
  h.onStrand([&] { h.conference().answer(2, 9, oneLine); });
  ASSERT_TRUE(waitFor([&] { return h.errorsTo(2).size() == 2; }));
  EXPECT_EQ(h.errorsTo(2)[0], core::ErrorCode::kBadSdp);
  EXPECT_EQ(h.errorsTo(2)[1], core::ErrorCode::kBadSdp);

  // A keeps its picture; when connection 2 drops, A's composite is back to one full tile.
  const int before = a.framesReceived();
  EXPECT_TRUE(waitFor([&] { return a.framesReceived() > before + 10; }));
  h.onStrand([&] { h.conference().disconnected(2); });
  EXPECT_TRUE(waitFor([&] {
    return shows(a, {{320, 120, Hue::kRed}, {100, 60, Hue::kRed}});
  })) << dump(a, "single-tile");
  EXPECT_TRUE(h.errorsTo(1).empty());
}

TEST(MixerMediaTest, APeerThatVanishesLeavesTheOthersUntouched) {
  MediaHarness h(testConfig());
  TestPeer& a = h.join(1, "Phường Cốc Lếu", {0xff0000, 440});
  TestPeer& b = h.join(2, "Xã Tả Van", {0x00ff00, 660});
  ASSERT_TRUE(waitFor([&] { return shows(a, kTwoRooms) && hears(a, {660}, {440}); }, 45s))
      << describeTones(a);
  ASSERT_TRUE(waitFor([&] { return hears(b, {440}, {660}); })) << describeTones(b);
  EXPECT_EQ(h.media().liveMixers(), 1u);

  h.vanish(2);  // no leave: its pipeline just stops and the socket drops
  EXPECT_TRUE(waitFor([&] { return !anywhere(a, Hue::kGreen) && hears(a, {}, {660}); }))
      << describeTones(a) << " " << dump(a, "after-vanish");
  const int before = a.framesReceived();
  EXPECT_TRUE(waitFor([&] { return a.framesReceived() > before + 10; }));

  h.leave(1);  // the last room leaves: the meeting's pipeline goes away
  EXPECT_TRUE(waitFor([&] {
    std::size_t n = 1;
    h.onStrand([&] { n = h.media().liveMixers(); });
    return n == 0;
  }));
}

// A room that joins a meeting that has been running for a while: its own mix starts late, and
// must still start at once (regression: an aggregator started late began its output at zero).
TEST(MixerMediaTest, ALateJoinerHearsAndIsHeard) {
  MediaHarness h(testConfig());
  TestPeer& a = h.join(1, "UBND tỉnh", {0xff0000, 440});
  ASSERT_TRUE(waitFor([&] { return a.framesReceived() > 45; }, 45s));  // about 3 s of meeting
  TestPeer& b = h.join(2, "Xã Mường Hum", {0x00ff00, 660});
  EXPECT_TRUE(waitFor([&] { return hears(b, {440}, {660}); })) << describeTones(b);
  EXPECT_TRUE(waitFor([&] { return hears(a, {660}, {440}); })) << describeTones(a);
  EXPECT_TRUE(waitFor([&] { return shows(b, kTwoRooms); })) << dump(b, "late-joiner");
}

int threadCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

// Observes an element without keeping it alive.
struct Watched {
  std::string name;
  GWeakRef ref;
  Watched(GstElement* e, std::string n) : name(std::move(n)) { g_weak_ref_init(&ref, e); }
  ~Watched() { g_weak_ref_clear(&ref); }
  bool alive() {
    gpointer obj = g_weak_ref_get(&ref);
    if (obj) g_object_unref(obj);
    return obj != nullptr;
  }
};

std::string stillAlive(std::vector<std::unique_ptr<Watched>>& watched) {
  std::string out;
  for (auto& w : watched) {
    if (w->alive()) out += " " + w->name;
  }
  return out;
}

// Regression: every message the mixer's bus handler dropped was leaked, and with it a reference
// to the element that posted it, so each room's webrtcbin (two threads, sockets, ~12 MiB) and the
// meeting's encoder outlived the meeting.
// How many elements made by `factory` the meeting's pipeline holds now.
int countElements(MediaHarness& h, const char* factory) {
  int n = 0;
  h.onStrand([&] {
    auto mixer = h.media().mixerFor("demo");
    if (!mixer) return;
    GstIterator* it = gst_bin_iterate_recurse(GST_BIN(mixer->pipeline()));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      auto* e = GST_ELEMENT(g_value_get_object(&item));
      GstElementFactory* f = gst_element_get_factory(e);
      if (f && std::string(GST_OBJECT_NAME(f)) == factory) ++n;
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
  });
  return n;
}

// A room off screen costs no decoder; shown again, it is back at once because the server asks it
// for a keyframe (its own come only once a minute here, longer than the wait below).
TEST(MixerMediaTest, OnlyShownRoomsAreDecodedAndAShownRoomComesBackWithAKeyframe) {
  MediaHarness h(testConfig(), {.coreSeesReports = false});
  std::vector<TestPeer*> peers;
  const std::uint32_t colours[] = {0xff0000, 0x00ff00, 0x0000ff};
  const double tones[] = {440, 660, 880};
  for (int i = 0; i < 3; ++i) {
    TestPeer::Options o{colours[i], tones[i]};
    o.keyframeDistance = 15 * 60;
    peers.push_back(&h.join(i + 1, "Xã " + std::to_string(i + 1), o));
  }
  TestPeer& viewer = *peers[0];
  ASSERT_TRUE(waitFor([&] { return shows(viewer, kThreeRooms); }, 45s)) << dump(viewer, "three");
  EXPECT_EQ(countElements(h, "vp8dec"), 3);

  const core::Rect full{0, 0, 640, 360};
  auto showOnly = [&](int conn) {
    const core::ParticipantId id = h.participantId(conn);
    h.onStrand([&] { h.media().setLayout("demo", {{id, "", full}}); });
  };
  const std::vector<Spot> allRed = {{100, 100, Hue::kRed}, {540, 260, Hue::kRed}};
  const std::vector<Spot> allGreen = {{100, 100, Hue::kGreen}, {540, 260, Hue::kGreen}};
  showOnly(1);
  EXPECT_TRUE(waitFor([&] { return shows(viewer, allRed); })) << dump(viewer, "only-red");
  EXPECT_EQ(countElements(h, "vp8dec"), 1);

  // Green was decoded before, then not: its decoder starts again at a keyframe it asks for.
  const int requestsBefore = peers[1]->keyframeRequests();
  showOnly(2);
  EXPECT_TRUE(waitFor([&] { return peers[1]->keyframeRequests() > requestsBefore; }));
  EXPECT_TRUE(waitFor([&] { return shows(viewer, allGreen); }, 30s)) << dump(viewer, "only-green");
  EXPECT_EQ(countElements(h, "vp8dec"), 1);
  for (core::ConnectionId conn : {1, 2, 3}) EXPECT_TRUE(h.errorsTo(conn).empty());
}

// A still camera sends few keyframes of its own (here: one at its start, before anyone listens).
// When the server's first requests for one are lost on the way, the server keeps asking (the
// view repeats its request every second until a keyframe passes) and the room's tile does not
// stay blank for good.
TEST(MixerMediaTest, AShownRoomWhoseKeyframeRequestsAreLostAppearsOnceOneGetsThrough) {
  MediaHarness h(testConfig(), {.coreSeesReports = false});
  TestPeer& viewer = h.join(1, "Tỉnh", {0xff0000, 440});
  TestPeer::Options still{0x00ff00, 660};
  still.keyframeDistance = 15 * 600;  // none of its own during the test
  still.ignoreKeyframeRequests = 3;
  TestPeer& commune = h.join(2, "Xã Y Tý", still);
  const core::ParticipantId id = h.participantId(2);
  ASSERT_TRUE(waitFor([&] { return viewer.framesReceived() > 0; }, 45s));
  h.onStrand([&] { h.media().setLayout("demo", {{id, "", {0, 0, 640, 360}}}); });
  const std::vector<Spot> green = {{100, 100, Hue::kGreen}, {540, 260, Hue::kGreen}};
  EXPECT_TRUE(waitFor([&] { return shows(viewer, green); }, 30s)) << dump(viewer, "lost-pli");
  EXPECT_GT(commune.keyframeRequests(), 3);
}

// A still camera changes its picture while its uplink loses everything for a moment: the frame
// with the change never arrives, and what follows only says "no change" against it. The server
// notices the gap and asks for a keyframe (its depayloader: request-keyframe), so the new picture
// arrives instead of the old one staying for good.
TEST(MixerMediaTest, AfterLossOnARoomsUplinkItsTileCatchesUpWithAKeyframe) {
  MediaHarness h(testConfig(), {.coreSeesReports = false});
  TestPeer& viewer = h.join(1, "Tỉnh", {0x00ff00, 440});
  TestPeer::Options still{0xff0000, 660};
  still.keyframeDistance = 15 * 600;  // none of its own during the test
  TestPeer& commune = h.join(2, "Xã Y Tý", still);
  const core::ParticipantId id = h.participantId(2);
  ASSERT_TRUE(waitFor([&] { return viewer.framesReceived() > 0; }, 45s));
  h.onStrand([&] { h.media().setLayout("demo", {{id, "", {0, 0, 640, 360}}}); });
  const std::vector<Spot> red = {{100, 100, Hue::kRed}, {540, 260, Hue::kRed}};
  ASSERT_TRUE(waitFor([&] { return shows(viewer, red); }, 30s)) << dump(viewer, "before-loss");
  const int requests = commune.keyframeRequests();
  commune.setSendBlocked(true);
  commune.setColour(0x0000ff);
  const int before = viewer.framesReceived();
  ASSERT_TRUE(waitFor([&] { return viewer.framesReceived() > before + 8; }));  // ~0.5 s lost
  commune.setSendBlocked(false);
  const std::vector<Spot> blue = {{100, 100, Hue::kBlue}, {540, 260, Hue::kBlue}};
  EXPECT_TRUE(waitFor([&] { return shows(viewer, blue); }, 20s)) << dump(viewer, "after-loss");
  EXPECT_GT(commune.keyframeRequests(), requests);
}

TEST(MixerMediaTest, AnEndedMeetingLeavesNoElementsOrThreadsBehind) {
  MediaHarness h(testConfig());
  const int idle = threadCount();
  TestPeer& a = h.join(1, "Sở Tài chính", {0xff0000, 440});
  h.join(2, "Sở Nội vụ", {0x00ff00, 660});
  TestPeer::Options sharer{0x0000ff, 880};
  sharer.shareColour = 0xffffff;
  TestPeer& c = h.join(3, "Xã Sa Pả", sharer);
  ASSERT_TRUE(waitFor([&] { return shows(a, kThreeRooms); }, 45s)) << dump(a, "no-leaks");
  // Room 3 also shares its screen, which the core then shows: its decode chain and view must go
  // with the meeting too.
  c.startShare();
  const std::string shareView = h.participantId(3) + "-share-view-queue";
  ASSERT_TRUE(waitFor([&] {
    bool shown = false;
    h.onStrand([&] {
      GstElement* e =
          gst_bin_get_by_name(GST_BIN(h.media().mixerFor("demo")->pipeline()), shareView.c_str());
      shown = e != nullptr;
      if (e) gst_object_unref(e);
    });
    return shown;
  })) << "the share was not shown";

  std::vector<std::unique_ptr<Watched>> watched;
  h.onStrand([&] {
    GstElement* pipeline = h.media().mixerFor("demo")->pipeline();
    watched.push_back(std::make_unique<Watched>(pipeline, GST_OBJECT_NAME(pipeline)));
    GstIterator* it = gst_bin_iterate_elements(GST_BIN(pipeline));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      auto* e = GST_ELEMENT(g_value_get_object(&item));
      watched.push_back(std::make_unique<Watched>(e, GST_OBJECT_NAME(e)));
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
  });
  ASSERT_GT(watched.size(), 10u);

  for (core::ConnectionId conn : {1, 2, 3}) h.leave(conn);
  ASSERT_TRUE(waitFor([&] {
    std::size_t n = 1;
    h.onStrand([&] { n = h.media().liveMixers(); });
    return n == 0;
  }));
  EXPECT_TRUE(waitFor([&] { return stillAlive(watched).empty(); }))
      << "still alive after the meeting:" << stillAlive(watched);
  // Each room's webrtcbin alone runs two threads; a few shared ones (the system clock, GLib's
  // idle pool) may be started by the meeting and stay.
  constexpr int kShared = 3;
  EXPECT_TRUE(waitFor([&] { return threadCount() <= idle + kShared; }))
      << threadCount() << " threads after the meeting, " << idle << " before it";
}

}  // namespace
}  // namespace mcu::testing
