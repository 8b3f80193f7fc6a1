#pragma once
// core::Clock on the system's real-time clock.
#include <chrono>

#include "mcu/core/Security.hpp"

namespace mcu::server {

class SystemClock final : public core::Clock {
 public:
  core::UnixTime now() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace mcu::server
