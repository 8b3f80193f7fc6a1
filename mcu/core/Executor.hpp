#pragma once
// Serial executors and timers the conference model runs on. The core owns these interfaces; the
// server binds them to an asio strand, unit tests bind them to inline fakes.
#include <chrono>
#include <cstdint>
#include <functional>

namespace mcu::core {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs fn later on this executor, in posting order.
  virtual void post(std::function<void()> fn) = 0;
};

using TimerId = std::uint64_t;

class Timers {
 public:
  virtual ~Timers() = default;
  // Runs fn on the core executor after delay unless cancelled first.
  virtual TimerId schedule(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  virtual void cancel(TimerId id) = 0;
  // Monotonic time for the core's own timekeeping (voice switching, hold times). Tests override it
  // to drive time by hand.
  virtual std::chrono::milliseconds now() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
};

}  // namespace mcu::core
