// The mixer end to end through real webrtcbin legs on loopback: what each room sees and hears.
#include <gtest/gtest.h>

#include <filesystem>

#include "media/Mixer.hpp"
#include "tests/media/MediaHarness.hpp"

namespace mcu::testing {
namespace {

using namespace std::chrono_literals;

enum class Hue { kRed, kGreen, kBlue, kOther };

Hue hueOf(Rgb p) {
  if (p.r > 150 && p.g < 100 && p.b < 100) return Hue::kRed;
  if (p.g > 150 && p.r < 100 && p.b < 100) return Hue::kGreen;
  if (p.b > 150 && p.r < 100 && p.g < 100) return Hue::kBlue;
  return Hue::kOther;
}

core::Config testConfig() {
  core::Config c;
  c.video.width = 640;
  c.video.height = 360;
  c.video.fps = 15;
  c.video.bitrateKbps = 600;
  c.video.vp8CpuUsed = 16;
  c.ice.addresses = {"127.0.0.1"};
  return c;
}

struct Spot {
  int x, y;
  Hue hue;
};

// The peer's latest composite frame has each hue at its spot.
bool shows(const TestPeer& peer, const std::vector<Spot>& spots) {
  auto f = peer.lastFrame();
  if (!f || f->width != 640 || f->height != 360 || f->rgb.empty()) return false;
  for (const auto& s : spots) {
    if (hueOf(f->mean(s.x, s.y, 4)) != s.hue) return false;
  }
  return true;
}

bool anywhere(const TestPeer& peer, Hue hue) {
  auto f = peer.lastFrame();
  if (!f || f->rgb.empty()) return true;  // unknown counts as present
  for (int y = 2; y < f->height; y += 4) {
    for (int x = 2; x < f->width; x += 4) {
      if (hueOf(f->mean(x, y, 1)) == hue) return true;
    }
  }
  return false;
}

// Saves the peer's last frame next to the test binary and says where, for the failure message.
std::string dump(const TestPeer& peer, const std::string& what) {
  auto f = peer.lastFrame();
  const std::string path = "failed-" + what + ".ppm";
  if (f && f->writePpm(path)) return "last frame saved to " + path;
  return "no frame";
}

constexpr double kPresent = 0.05;  // tones are sent at 0.4 of full scale
constexpr double kAbsent = 0.01;

bool hears(const TestPeer& peer, std::vector<double> present, std::vector<double> absent) {
  for (double hz : present) {
    auto level = peer.toneLevel(hz);
    if (!level || *level < kPresent) return false;
  }
  for (double hz : absent) {
    auto level = peer.toneLevel(hz);
    if (!level || *level > kAbsent) return false;
  }
  return true;
}

std::string describeTones(const TestPeer& peer) {
  std::string out = peer.name() + ":";
  for (double hz : {440.0, 660.0, 880.0}) {
    out += " " + std::to_string(int(hz)) + "Hz=" + std::to_string(peer.toneLevel(hz).value_or(-1));
  }
  return out;
}

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
TEST(MixerMediaTest, AnEndedMeetingLeavesNoElementsOrThreadsBehind) {
  MediaHarness h(testConfig());
  const int idle = threadCount();
  TestPeer& a = h.join(1, "Sở Tài chính", {0xff0000, 440});
  h.join(2, "Sở Nội vụ", {0x00ff00, 660});
  h.join(3, "Xã Sa Pả", {0x0000ff, 880});
  ASSERT_TRUE(waitFor([&] { return shows(a, kThreeRooms); }, 45s)) << dump(a, "no-leaks");

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
