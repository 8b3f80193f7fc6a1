#include "mcu/core/Messages.hpp"

#include <cstdio>

namespace mcu::core {

std::string_view mediaKindName(MediaKind kind) {
  return kind == MediaKind::kAudio ? "audio" : "video";
}

std::string_view legStateName(LegState state) {
  switch (state) {
    case LegState::kNew:
      return "new";
    case LegState::kConnecting:
      return "connecting";
    case LegState::kConnected:
      return "connected";
    case LegState::kDisconnected:
      return "disconnected";
    case LegState::kFailed:
      return "failed";
    case LegState::kClosed:
      return "closed";
  }
  return "new";
}

}  // namespace mcu::core

namespace mcu::core {

namespace {

std::string number(double value, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace

std::string describeTestReport(const TestReport& r) {
  std::string out;
  auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
  if (r.roundTripMs) add("rtt " + number(*r.roundTripMs, 0) + " ms");
  if (r.lossPercent) add("loss " + number(*r.lossPercent, 1) + " %");
  if (r.kbpsIn) add(number(*r.kbpsIn, 0) + " kb/s in");
  if (r.kbpsOut) add(number(*r.kbpsOut, 0) + " kb/s out");
  add(r.camera ? "camera " + std::to_string(r.cameraWidth) + "x" + std::to_string(r.cameraHeight)
               : std::string("no camera"));
  add(r.microphone ? "microphone " + number(r.micLevel.value_or(0), 2)
                   : std::string("no microphone"));
  add(r.heardItself ? "heard itself" : "did not hear itself");
  return out;
}

}  // namespace mcu::core
