#include "signaling/Log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace mcu::signaling {

namespace {

std::string utcNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

}  // namespace

void Log::info(std::string_view text) const {
  write("INFO", text);
}
void Log::warn(std::string_view text) const {
  write("WARN", text);
}
void Log::error(std::string_view text) const {
  write("ERROR", text);
}

void Log::write(std::string_view level, std::string_view text) const {
  std::string line = utcNow();
  line.append(" ").append(level).append(" ").append(category_).append(" ").append(text);
  line.push_back('\n');
  // One write(2) per line keeps lines from different io threads whole, without a lock.
  [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace mcu::signaling
