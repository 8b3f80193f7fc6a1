#pragma once
// What media tests check in what a TestPeer received: colours at spots of the composite, tones in
// the audio mix. Shared by the media test files.
#include <string>
#include <vector>

#include "mcu/core/Config.hpp"
#include "tests/media/TestPeer.hpp"

namespace mcu::testing {

enum class Hue { kRed, kGreen, kBlue, kOther };

inline Hue hueOf(Rgb p) {
  if (p.r > 150 && p.g < 100 && p.b < 100) return Hue::kRed;
  if (p.g > 150 && p.r < 100 && p.b < 100) return Hue::kGreen;
  if (p.b > 150 && p.r < 100 && p.g < 100) return Hue::kBlue;
  return Hue::kOther;
}

inline core::Config testConfig() {
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
inline bool shows(const TestPeer& peer, const std::vector<Spot>& spots) {
  auto f = peer.lastFrame();
  if (!f || f->width != 640 || f->height != 360 || f->rgb.empty()) return false;
  for (const auto& s : spots) {
    if (hueOf(f->mean(s.x, s.y, 4)) != s.hue) return false;
  }
  return true;
}

inline bool anywhere(const TestPeer& peer, Hue hue) {
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
inline std::string dump(const TestPeer& peer, const std::string& what) {
  auto f = peer.lastFrame();
  const std::string path = "failed-" + what + ".ppm";
  if (f && f->writePpm(path)) return "last frame saved to " + path;
  return "no frame";
}

inline constexpr double kPresent = 0.05;  // tones are sent at 0.4 of full scale
inline constexpr double kAbsent = 0.01;

inline bool hears(const TestPeer& peer, std::vector<double> present, std::vector<double> absent) {
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

inline std::string describeTones(const TestPeer& peer,
                                 const std::vector<double>& tones = {440, 660, 880}) {
  std::string out = peer.name() + ":";
  for (double hz : tones) {
    out += " " + std::to_string(int(hz)) + "Hz=" + std::to_string(peer.toneLevel(hz).value_or(-1));
  }
  return out;
}

}  // namespace mcu::testing
