#pragma once
// One line per event on stderr: `<UTC time> <LEVEL> <category> <text>`. Each .cpp declares its
// own category (`const Log kLog{"signaling.ws"};`) so a line says where it came from.
#include <string_view>

namespace mcu::signaling {

class Log {
 public:
  constexpr explicit Log(std::string_view category) : category_(category) {}
  void info(std::string_view text) const;
  void warn(std::string_view text) const;
  void error(std::string_view text) const;

 private:
  void write(std::string_view level, std::string_view text) const;
  std::string_view category_;
};

}  // namespace mcu::signaling
