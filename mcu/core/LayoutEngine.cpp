#include "mcu/core/LayoutEngine.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace mcu::core {

namespace {
constexpr const char* kShareSuffix = "#screen";
constexpr const char* kShareLabelSuffix = " (màn hình)";
}  // namespace

std::string shareSourceId(const std::string& room) {
  return room + kShareSuffix;
}

// Which source sits in which pane while one layout is being computed.
class LayoutEngine::Seating {
 public:
  explicit Seating(std::size_t panes) : seats_(panes) {}
  std::size_t size() const { return seats_.size(); }
  bool free(int pane) const { return pane >= 0 && pane < int(size()) && seats_[pane].empty(); }
  bool seated(const std::string& id) const { return ids_.contains(id); }
  const std::string& at(int pane) const { return seats_[pane]; }
  void put(int pane, const std::string& id) {
    seats_[pane] = id;
    ids_.insert(id);
  }
  // The first free pane in [from, to), or -1.
  int firstFree(int from, int to) const {
    for (int i = from; i < std::min(to, int(size())); ++i) {
      if (free(i)) return i;
    }
    return -1;
  }
  int freeCount() const { return int(size() - ids_.size()); }

 private:
  std::vector<std::string> seats_;
  std::set<std::string> ids_;
};

LayoutEngine::LayoutEngine(SpeakerSwitching config) : config_(config) {}

void LayoutEngine::addRoom(const std::string& id, const std::string& label) {
  if (present(id)) return;
  Room& r = rooms_[id];
  r.label = label;
  r.joinOrder = nextJoin_++;
}

void LayoutEngine::removeRoom(const std::string& id) {
  if (rooms_.erase(id) == 0) return;
  stopShare(id);
  if (forced_ == id) forced_.reset();
  if (speaker_ == id) speaker_.reset();
  if (candidate_ == id) candidate_.reset();
}

void LayoutEngine::onAudioLevel(const std::string& room, int level, Millis now) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  Room& r = it->second;
  const bool speech = level <= config_.speechLevel;
  const bool gap = !r.levelAt || now - *r.levelAt > config_.levelTimeout;
  if (!speech) {
    r.speechSince.reset();
  } else if (!r.speechSince || gap) {
    r.speechSince = now;
  }
  r.level = level;
  r.levelAt = now;
  if (r.speechSince && now - *r.speechSince >= config_.switchAfter) r.lastActive = now;
  advance(now);
}

// The loudest room speaking now; ties go to the earlier joiner.
std::optional<std::string> LayoutEngine::loudest(Millis now) const {
  std::optional<std::string> best;
  std::pair<int, int> bestKey{};
  for (const auto& [id, r] : rooms_) {
    if (!r.levelAt || now - *r.levelAt > config_.levelTimeout) continue;
    if (r.level > config_.speechLevel) continue;
    const std::pair<int, int> key{r.level, r.joinOrder};
    if (!best || key < bestKey) {
      best = id;
      bestKey = key;
    }
  }
  return best;
}

// A talker takes over once it has been the loudest for switchAfter and the current speaker has
// held the big pane for holdTime.
void LayoutEngine::advance(Millis now) {
  const auto top = loudest(now);
  if (top != candidate_) {
    candidate_ = top;
    candidateSince_ = now;
  }
  if (!candidate_ || candidate_ == speaker_) return;
  if (now - candidateSince_ < config_.switchAfter) return;
  if (speaker_ && now - speakerSince_ < config_.holdTime) return;
  speaker_ = candidate_;
  speakerSince_ = now;
}

void LayoutEngine::setKind(LayoutKind kind) {
  kind_ = kind;
  shareSetsKind_ = false;
}

LayoutKind LayoutEngine::kind() const {
  return sharer_ && shareSetsKind_ ? LayoutKind::kPresenter : kind_;
}

void LayoutEngine::pin(int seat, const std::string& room) {
  if (seat < 0) return;
  std::erase_if(pins_, [&](const auto& p) { return p.second == room; });
  pins_[seat] = room;
}

void LayoutEngine::unpin(int seat) {
  pins_.erase(seat);
}

bool LayoutEngine::forceBig(const std::string& room) {
  if (!present(room)) return false;
  forced_ = room;
  return true;
}

void LayoutEngine::clearForced() {
  forced_.reset();
}

bool LayoutEngine::startShare(const std::string& room) {
  if (!present(room)) return false;
  if (!sharer_) shareSetsKind_ = true;
  sharer_ = room;
  return true;
}

void LayoutEngine::stopShare(const std::string& room) {
  if (sharer_ != room) return;
  sharer_.reset();
  shareSetsKind_ = false;
}

std::optional<std::string> LayoutEngine::shareSource() const {
  if (!sharer_) return std::nullopt;
  return shareSourceId(*sharer_);
}

std::vector<std::string> LayoutEngine::mustShow() const {
  std::vector<std::string> ids;
  if (auto share = shareSource()) ids.push_back(*share);
  if (forced_) ids.push_back(*forced_);
  for (const auto& [seat, room] : pins_) {
    if (present(room)) ids.push_back(room);
  }
  if (speaker_) ids.push_back(*speaker_);
  return ids;
}

// Rooms by most recent sustained speech, never-heard rooms last; ties by join order.
std::vector<std::string> LayoutEngine::byRecency() const {
  std::vector<std::pair<std::string, const Room*>> rooms;
  for (const auto& [id, r] : rooms_) rooms.emplace_back(id, &r);
  std::sort(rooms.begin(), rooms.end(), [](const auto& a, const auto& b) {
    const Room& x = *a.second;
    const Room& y = *b.second;
    if (x.lastActive != y.lastActive) return x.lastActive > y.lastActive;
    return x.joinOrder < y.joinOrder;
  });
  std::vector<std::string> ids;
  for (const auto& entry : rooms) ids.push_back(entry.first);
  return ids;
}

void LayoutEngine::seatExplicit(Seating& seats, int big) const {
  for (const auto& id : {shareSource(), forced_}) {
    if (!id || seats.seated(*id)) continue;
    if (const int pane = seats.firstFree(0, big); pane >= 0) seats.put(pane, *id);
  }
  for (const auto& [seat, room] : pins_) {
    if (present(room) && !seats.seated(room) && seats.free(seat)) seats.put(seat, room);
  }
  if (speaker_ && !seats.seated(*speaker_)) {
    if (const int pane = seats.firstFree(0, big); pane >= 0) seats.put(pane, *speaker_);
  }
}

void LayoutEngine::seatRest(Seating& seats) const {
  std::vector<std::string> chosen;
  auto candidates = mustShow();
  for (auto& id : byRecency()) candidates.push_back(std::move(id));
  for (const auto& id : candidates) {
    if (int(chosen.size()) == seats.freeCount()) break;
    if (seats.seated(id) || std::ranges::find(chosen, id) != chosen.end()) continue;
    chosen.push_back(id);
  }
  std::vector<std::string> moved;
  for (const auto& id : chosen) {
    const auto it = previousPane_.find(id);
    if (it != previousPane_.end() && seats.free(it->second)) {
      seats.put(it->second, id);
    } else {
      moved.push_back(id);
    }
  }
  for (const auto& id : moved) seats.put(seats.firstFree(0, int(seats.size())), id);
}

std::vector<TilePlacement> LayoutEngine::place(const std::vector<Rect>& panes,
                                               const Seating& seats) const {
  std::vector<TilePlacement> tiles;
  for (int i = 0; i < int(panes.size()); ++i) {
    const std::string& id = seats.at(i);
    if (id.empty()) continue;
    if (sharer_ && id == shareSourceId(*sharer_)) {
      tiles.push_back(TilePlacement{id, rooms_.at(*sharer_).label + kShareLabelSuffix, panes[i]});
    } else {
      tiles.push_back(TilePlacement{id, rooms_.at(id).label, panes[i]});
    }
  }
  return tiles;
}

std::vector<TilePlacement> LayoutEngine::compute(int canvasWidth, int canvasHeight, Millis now) {
  advance(now);
  const LayoutKind k = kind();
  const int sources = int(rooms_.size()) + (sharer_ ? 1 : 0);
  const auto panes = panesFor(k, sources, canvasWidth, canvasHeight);
  Seating seats(panes.size());
  seatExplicit(seats, bigPaneCount(k));
  seatRest(seats);
  previousPane_.clear();
  for (int i = 0; i < int(panes.size()); ++i) {
    if (!seats.at(i).empty()) previousPane_[seats.at(i)] = i;
  }
  return place(panes, seats);
}

}  // namespace mcu::core
