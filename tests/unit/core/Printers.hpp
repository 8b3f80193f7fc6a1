#pragma once
// gtest printers for core value types, so a failed expectation shows "bad_field" or
// "{0, 90, 320x180}" instead of raw bytes. Found by argument-dependent lookup.
#include <ostream>

#include "mcu/core/Errors.hpp"
#include "mcu/core/Layout.hpp"
#include "mcu/core/Messages.hpp"

namespace mcu::core {

inline void PrintTo(ErrorCode code, std::ostream* os) {
  *os << errorName(code);
}
inline void PrintTo(LegState state, std::ostream* os) {
  *os << legStateName(state);
}
inline void PrintTo(MediaKind kind, std::ostream* os) {
  *os << mediaKindName(kind);
}
inline void PrintTo(const Rect& r, std::ostream* os) {
  *os << "{" << r.x << ", " << r.y << ", " << r.width << "x" << r.height << "}";
}
inline void PrintTo(const TilePlacement& t, std::ostream* os) {
  *os << t.participant << " '" << t.label << "' ";
  PrintTo(t.rect, os);
}
inline void PrintTo(const RosterEntry& e, std::ostream* os) {
  *os << e.id << " '" << e.name << "'" << (e.audioMuted ? " audio-muted" : "")
      << (e.videoMuted ? " video-muted" : "");
}
inline void PrintTo(const BarredRoom& b, std::ostream* os) {
  *os << (b.unitId.empty() ? "guest" : b.unitId) << " '" << b.name << "'";
}

}  // namespace mcu::core
