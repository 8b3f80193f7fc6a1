#pragma once
// One JSON object per line on stderr:
//   {"ts":"2026-11-27T21:45:12.010Z","level":"info","logger":"signaling.http","msg":"...",...}
// followed by the event's own fields (`meeting`, `site`, `conn`, ...). Each .cpp declares its own
// category (`const Log kLog{"signaling.ws"};`) so a line says where it came from. Lines above the
// process-wide level (setLogLevel(), from the config's `logLevel`) are dropped before formatting.
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mcu::signaling {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// "error", "warn", "info", "debug" (the config's spelling); nullopt for anything else.
std::optional<LogLevel> parseLogLevel(std::string_view name);
std::string_view logLevelName(LogLevel level);
// The most verbose level written; default kInfo. Callable from any thread.
void setLogLevel(LogLevel level);
LogLevel logLevel();
bool logEnabled(LogLevel level);

// The value of one field: text (written as a JSON string) or a number. Borrows text: it must
// outlive the call it is passed to, which a temporary in the same expression does.
class LogValue {
 public:
  LogValue(std::string_view text) : text_(text) {}
  LogValue(const std::string& text) : text_(text) {}
  LogValue(const char* text) : text_(text) {}
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) LogValue(T number)
      : kind_(std::signed_integral<T> ? Kind::kSigned : Kind::kUnsigned) {
    if constexpr (std::signed_integral<T>) {
      signed_ = number;
    } else {
      unsigned_ = number;
    }
  }
  LogValue(bool flag) : kind_(Kind::kBool), unsigned_(flag ? 1 : 0) {}

  void appendJson(std::string& out) const;

 private:
  enum class Kind { kText, kSigned, kUnsigned, kBool };
  Kind kind_ = Kind::kText;
  std::string_view text_;
  std::int64_t signed_ = 0;
  std::uint64_t unsigned_ = 0;
};

// One field of a line. Keys are the caller's (snake or camel case, never "ts", "level",
// "logger" or "msg"); the house keys are `meeting` (the meeting code), `site` (the participant or
// unit id) and `conn` (the WebSocket connection id).
struct LogField {
  std::string_view key;
  LogValue value;
};
using LogFields = std::initializer_list<LogField>;

// The whole line, newline included. Invalid UTF-8 in any text is replaced by U+FFFD; control
// characters are escaped. Exposed for tests and for bridges of other libraries' logs.
std::string formatLogLine(std::string_view timestamp, LogLevel level, std::string_view logger,
                          std::string_view message, std::span<const LogField> fields);
// Appends `text` as a JSON string literal (quotes included).
void appendJsonString(std::string& out, std::string_view text);
// Writes one line to stderr now, whatever the level threshold (bridges of other libraries' logs
// that are filtered by their own settings use it).
void writeLogLine(LogLevel level, std::string_view logger, std::string_view message,
                  std::span<const LogField> fields);

class Log {
 public:
  constexpr explicit Log(std::string_view category) : category_(category) {}
  void error(std::string_view text, LogFields fields = {}) const {
    write(LogLevel::kError, text, asSpan(fields));
  }
  void warn(std::string_view text, LogFields fields = {}) const {
    write(LogLevel::kWarn, text, asSpan(fields));
  }
  void info(std::string_view text, LogFields fields = {}) const {
    write(LogLevel::kInfo, text, asSpan(fields));
  }
  void debug(std::string_view text, LogFields fields = {}) const {
    write(LogLevel::kDebug, text, asSpan(fields));
  }
  // For fields that are known only at run time (some present, some not).
  void write(LogLevel level, std::string_view text, std::span<const LogField> fields) const;

 private:
  static std::span<const LogField> asSpan(LogFields fields) {
    return {fields.begin(), fields.size()};
  }
  std::string_view category_;
};

}  // namespace mcu::signaling
