#include "mcu/core/Messages.hpp"

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
