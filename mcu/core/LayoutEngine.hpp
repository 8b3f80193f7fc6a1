#pragma once
// Which source is shown in which pane of the composite: voice-activated speaker switching, pinned
// seats, the chair's "everyone sees this room", screen shares. Pure and deterministic: time comes
// in as arguments and nothing reads a clock, so equal calls give equal layouts.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mcu/core/Layout.hpp"

namespace mcu::core {

// Audio levels are RFC 6464 values, as the RTP header extension carries them: -dBov from 0
// (loudest) to 127 (silence), so a lower number is louder.
struct SpeakerSwitching {
  int speechLevel = 50;                         // at or below (-50 dBov or louder) counts as speech
  std::chrono::milliseconds switchAfter{700};   // loudest this long: coughs are shorter
  std::chrono::milliseconds holdTime{2000};     // a new speaker keeps the big pane at least this
  std::chrono::milliseconds levelTimeout{500};  // a room with no report this long is silent
};

inline constexpr int kSilentLevel = 127;

// A room's shared screen is a second video source with this id.
std::string shareSourceId(const std::string& room);

// Seating order when there are more sources than panes:
//  1. the shared screen, then the chair's forced room, take the big panes (they are explicit and
//     temporary, so they win over a standing pin; a displaced pinned room is still shown);
//  2. pinned rooms take their seats;
//  3. the current speaker takes a big pane left free;
//  4. the remaining panes go to the not yet seated must-show sources (share, forced, pinned,
//     speaker) and then to the most recently active rooms (sustained speech; ties by join order).
//     A source keeps the pane it had at the previous compute() when that pane is still free.
// A pin outlives its room leaving: the seat is lent to others until the room rejoins.
class LayoutEngine {
 public:
  using Millis = std::chrono::milliseconds;

  explicit LayoutEngine(SpeakerSwitching config = {});

  void addRoom(const std::string& id, const std::string& label);
  void removeRoom(const std::string& id);
  void onAudioLevel(const std::string& room, int level, Millis now);

  // The chair's layout. Chosen while a share is shown, it applies at once and stays afterwards.
  void setKind(LayoutKind kind);
  // The effective layout: presenter while a share is shown, unless the chair chose since.
  LayoutKind kind() const;

  void pin(int seat, const std::string& room);  // a room holds at most one seat
  void unpin(int seat);
  bool forceBig(const std::string& room);  // false if the room is not present
  void clearForced();
  bool startShare(const std::string& room);  // replaces another room's share; false if absent
  void stopShare(const std::string& room);

  const std::optional<std::string>& speaker() const { return speaker_; }
  const std::map<int, std::string>& pins() const { return pins_; }

  std::vector<TilePlacement> compute(int canvasWidth, int canvasHeight, Millis now);

 private:
  struct Room {
    std::string label;
    int joinOrder = 0;
    std::optional<Millis> lastActive;
    int level = kSilentLevel;
    std::optional<Millis> levelAt;
    std::optional<Millis> speechSince;
  };
  class Seating;

  void advance(Millis now);
  std::optional<std::string> loudest(Millis now) const;
  bool present(const std::string& id) const { return rooms_.contains(id); }
  std::optional<std::string> shareSource() const;
  std::vector<std::string> mustShow() const;
  std::vector<std::string> byRecency() const;
  void seatExplicit(Seating& seats, int big) const;
  void seatRest(Seating& seats) const;
  std::vector<TilePlacement> place(const std::vector<Rect>& panes, const Seating& seats) const;

  SpeakerSwitching config_;
  std::map<std::string, Room> rooms_;
  int nextJoin_ = 0;
  LayoutKind kind_ = LayoutKind::kGrid;
  std::map<int, std::string> pins_;
  std::optional<std::string> forced_;
  std::optional<std::string> sharer_;
  bool shareSetsKind_ = false;
  std::optional<std::string> speaker_;
  Millis speakerSince_{0};
  std::optional<std::string> candidate_;
  Millis candidateSince_{0};
  std::map<std::string, int> previousPane_;
};

}  // namespace mcu::core
