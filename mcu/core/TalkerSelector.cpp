#include "mcu/core/TalkerSelector.hpp"

#include <algorithm>

namespace mcu::core {

TalkerSelector::TalkerSelector(TalkerPolicy policy)
    : policy_(policy), slots_(std::size_t(std::max(1, policy.talkers))) {}

void TalkerSelector::addRoom(const std::string& id) {
  if (!rooms_.contains(id)) rooms_[id].joinOrder = joins_++;
}

void TalkerSelector::removeRoom(const std::string& id) {
  rooms_.erase(id);
}

void TalkerSelector::setEligible(const std::string& id, bool eligible) {
  if (auto it = rooms_.find(id); it != rooms_.end()) it->second.eligible = eligible;
}

void TalkerSelector::onLevel(const std::string& id, int level, Millis now) {
  auto it = rooms_.find(id);
  if (it == rooms_.end()) return;
  it->second.level = level;
  if (level <= policy_.speechLevel) it->second.lastSpeech = now;
}

bool TalkerSelector::speaking(const Room& r, Millis now) const {
  return r.lastSpeech && now - *r.lastSpeech <= policy_.speechWindow;
}

std::optional<int> TalkerSelector::slotOf(const std::string& id) const {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i] == id) return int(i);
  }
  return std::nullopt;
}

std::vector<TalkerSelector::Change> TalkerSelector::update(Millis now) {
  std::vector<Change> changes;
  auto record = [&](int slot, std::optional<std::string> after) {
    // Two changes of one slot in one update (freed, then taken) are one change.
    auto it = std::find_if(changes.begin(), changes.end(),
                           [&](const Change& c) { return c.slot == slot; });
    if (it == changes.end()) {
      changes.push_back({slot, slots_[std::size_t(slot)], after});
    } else {
      it->after = after;
    }
    slots_[std::size_t(slot)] = std::move(after);
  };
  // Gone or muted talkers leave at once: a muted room must not be heard a moment longer.
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i]) continue;
    auto it = rooms_.find(*slots_[i]);
    if (it == rooms_.end() || !it->second.eligible) record(int(i), std::nullopt);
  }
  // Rooms speaking now and not yet in a slot, loudest first (ties: earlier joiner first).
  std::vector<std::pair<const std::string*, const Room*>> candidates;
  for (const auto& [id, room] : rooms_) {
    if (room.eligible && speaking(room, now) && !slotOf(id)) candidates.emplace_back(&id, &room);
  }
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    if (a.second->level != b.second->level) return a.second->level < b.second->level;
    return a.second->joinOrder < b.second->joinOrder;
  });
  for (const auto& [id, room] : candidates) {
    auto free = std::find(slots_.begin(), slots_.end(), std::nullopt);
    if (free != slots_.end()) {
      record(int(free - slots_.begin()), *id);
      continue;
    }
    // Full: the talker silent longest gives way, once its hold time has passed.
    int stalest = -1;
    std::optional<Millis> stalestSpeech;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const Room& t = rooms_.at(*slots_[i]);
      const Millis last = t.lastSpeech.value_or(Millis::min());
      if (stalest < 0 || last < *stalestSpeech) {
        stalest = int(i);
        stalestSpeech = last;
      }
    }
    if (stalest < 0 ||
        (*stalestSpeech != Millis::min() && now - *stalestSpeech < policy_.holdTime)) {
      break;  // every talker spoke within its hold time: louder candidates wait too
    }
    record(stalest, *id);
  }
  std::erase_if(changes, [](const Change& c) { return c.before == c.after; });
  return changes;
}

}  // namespace mcu::core
