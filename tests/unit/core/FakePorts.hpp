#pragma once
// Fake ports for driving mcu::core::Conference synchronously: they record what the core asks of
// the media and signaling layers, and timers fire only when a test says so.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "mcu/core/Config.hpp"
#include "mcu/core/Executor.hpp"
#include "mcu/core/Ports.hpp"

namespace mcu::core::testing {

class FakeMediaPort : public MediaPort {
 public:
  struct Added {
    std::string meeting;
    ParticipantId participant;
    std::string displayName;
  };
  struct Removed {
    std::string meeting;
    ParticipantId participant;
  };
  struct Answer {
    ParticipantId participant;
    std::string sdp;
  };
  struct Candidate {
    ParticipantId participant;
    int sdpMLineIndex;
    std::string candidate;
  };
  struct Layout {
    std::string meeting;
    std::vector<TilePlacement> tiles;
  };

  void addParticipant(const std::string& meeting, const ParticipantId& participant,
                      const std::string& displayName) override {
    added.push_back({meeting, participant, displayName});
  }
  void removeParticipant(const std::string& meeting, const ParticipantId& participant) override {
    removed.push_back({meeting, participant});
  }
  void setRemoteAnswer(const ParticipantId& participant, const std::string& sdp) override {
    answers.push_back({participant, sdp});
  }
  void addRemoteCandidate(const ParticipantId& participant, int sdpMLineIndex,
                          const std::string& candidate) override {
    candidates.push_back({participant, sdpMLineIndex, candidate});
  }
  void setLayout(const std::string& meeting, const std::vector<TilePlacement>& tiles) override {
    layouts.push_back({meeting, tiles});
  }
  void setAudioMuted(const ParticipantId& participant, bool muted) override {
    audioMuted[participant] = muted;
  }
  void setNotice(const std::string& meeting, const std::string& text) override {
    notices[meeting] = text;
  }
  void collectStats() override { ++statsPolls; }
  void setSelfHearing(const std::string& meeting, bool on) override { selfHearing[meeting] = on; }

  std::size_t callCount() const {
    return added.size() + removed.size() + answers.size() + candidates.size() + layouts.size();
  }

  std::vector<Added> added;
  std::vector<Removed> removed;
  std::vector<Answer> answers;
  std::vector<Candidate> candidates;
  std::vector<Layout> layouts;
  std::map<ParticipantId, bool> audioMuted;
  std::map<std::string, std::string> notices;
  int statsPolls = 0;
  std::map<std::string, bool> selfHearing;
};

// Records one (connection, message) pair per recipient; a broadcast also counts as one fan-out.
class FakeSignalPort : public SignalPort {
 public:
  struct Sent {
    ConnectionId connection;
    ServerMessage message;
  };

  void send(ConnectionId connection, const ServerMessage& message) override {
    sent.push_back({connection, message});
  }
  void broadcast(const std::vector<ConnectionId>& connections,
                 const ServerMessage& message) override {
    ++broadcasts;
    for (ConnectionId c : connections) sent.push_back({c, message});
  }

  // Every message of type T sent to `connection`, in order.
  template <typename T>
  std::vector<T> to(ConnectionId connection) const {
    std::vector<T> out;
    for (const auto& s : sent) {
      if (s.connection != connection) continue;
      if (const T* m = std::get_if<T>(&s.message)) out.push_back(*m);
    }
    return out;
  }
  std::size_t countTo(ConnectionId connection) const {
    return static_cast<std::size_t>(std::count_if(
        sent.begin(), sent.end(), [&](const Sent& s) { return s.connection == connection; }));
  }
  void clear() {
    sent.clear();
    broadcasts = 0;
  }

  std::vector<Sent> sent;
  int broadcasts = 0;
};

// Timers that never fire on their own: a test fires them explicitly.
class FakeTimers : public Timers {
 public:
  struct Timer {
    std::chrono::milliseconds delay;
    std::function<void()> fn;
    bool cancelled = false;
    bool fired = false;
  };

  TimerId schedule(std::chrono::milliseconds delay, std::function<void()> fn) override {
    const TimerId id = nextId_++;
    timers_[id] = Timer{delay, std::move(fn)};
    return id;
  }
  void cancel(TimerId id) override {
    if (auto it = timers_.find(id); it != timers_.end()) it->second.cancelled = true;
  }

  // Ids of the timers that are neither cancelled nor fired, oldest first; the monitor's
  // periodic tick (a timer of `monitorInterval`) is listed by monitorTicks() instead.
  std::vector<TimerId> pending() const { return live(false); }
  std::vector<TimerId> monitorTicks() const { return live(true); }
  std::chrono::milliseconds monitorInterval{Config{}.monitor.intervalMs};
  const Timer& timer(TimerId id) const { return timers_.at(id); }
  // Runs a pending timer's callback, as the executor would when it expires.
  // The core's monotonic clock, advanced by hand.
  std::chrono::milliseconds now() const override { return clock; }
  std::chrono::milliseconds clock{1000};

  void fire(TimerId id) {
    Timer& t = timers_.at(id);
    if (t.cancelled || t.fired) return;
    t.fired = true;
    auto fn = t.fn;  // the callback may schedule or cancel timers
    fn();
  }

 private:
  std::vector<TimerId> live(bool monitor) const {
    std::vector<TimerId> out;
    for (const auto& [id, t] : timers_) {
      if (!t.cancelled && !t.fired && (t.delay == monitorInterval) == monitor) out.push_back(id);
    }
    return out;
  }
  std::map<TimerId, Timer> timers_;
  TimerId nextId_ = 1;
};

}  // namespace mcu::core::testing
