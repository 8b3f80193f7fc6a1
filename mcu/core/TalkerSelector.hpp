#pragma once
// Who is in the sound mix: the K rooms that talk, chosen from RFC 6464 levels (the RTP header
// extension, so nobody has to be decoded to be measured). Each talker holds a numbered slot; the
// media side builds one mix per slot (everyone in a slot but its own talker) and one shared mix
// of all talkers for every other room. Slots are stable: a talker keeps its slot until it is
// replaced, muted or gone, so a change of talkers touches only the slots that changed.
//
// Pure and deterministic, like LayoutEngine: time comes in as arguments.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mcu::core {

struct TalkerPolicy {
  int talkers = 3;       // K: slots, each with its own mix
  int speechLevel = 50;  // RFC 6464: at or below (-50 dBov or louder) counts as speech
  std::chrono::milliseconds speechWindow{400};  // speech this recent makes a room a candidate
  std::chrono::milliseconds holdTime{1500};     // a talker keeps its slot this long after speaking
};

class TalkerSelector {
 public:
  using Millis = std::chrono::milliseconds;
  struct Change {
    int slot = 0;
    std::optional<std::string> before;  // the talker that left the slot, if any
    std::optional<std::string> after;   // the talker that took it, if any
  };

  explicit TalkerSelector(TalkerPolicy policy = {});

  void addRoom(const std::string& id);
  void removeRoom(const std::string& id);  // its slot frees at the next update()
  // A room that may not be heard (the chair muted it) never holds a slot.
  void setEligible(const std::string& id, bool eligible);
  void onLevel(const std::string& id, int level, Millis now);

  // Applies what the levels say since the last call; returns the slots that changed.
  std::vector<Change> update(Millis now);

  // Slot -> talker (nullopt: free). Size is the policy's K.
  const std::vector<std::optional<std::string>>& slots() const { return slots_; }
  std::optional<int> slotOf(const std::string& id) const;
  const TalkerPolicy& policy() const { return policy_; }

 private:
  struct Room {
    bool eligible = true;
    int level = 127;
    std::optional<Millis> lastSpeech;
    int joinOrder = 0;
  };
  bool speaking(const Room& r, Millis now) const;

  TalkerPolicy policy_;
  std::map<std::string, Room> rooms_;
  std::vector<std::optional<std::string>> slots_;
  int joins_ = 0;
};

}  // namespace mcu::core
