#include "signaling/Log.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace mcu::signaling {

namespace {

constexpr std::array<std::string_view, 4> kLevelNames{"error", "warn", "info", "debug"};
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::atomic<int> gLevel{static_cast<int>(LogLevel::kInfo)};

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

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 if it is not one.
std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t length = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

void appendEscapedAscii(std::string& out, unsigned char c) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  if (c < 0x20 || c == 0x7F) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", c);
    out += buf;
  } else {
    out.push_back(static_cast<char>(c));
  }
}

}  // namespace

std::optional<LogLevel> parseLogLevel(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) return static_cast<LogLevel>(i);
  }
  return std::nullopt;
}

std::string_view logLevelName(LogLevel level) {
  return kLevelNames.at(static_cast<std::size_t>(level));
}

void setLogLevel(LogLevel level) {
  gLevel.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel logLevel() {
  return static_cast<LogLevel>(gLevel.load(std::memory_order_relaxed));
}

bool logEnabled(LogLevel level) {
  return static_cast<int>(level) <= gLevel.load(std::memory_order_relaxed);
}

void appendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      appendEscapedAscii(out, c);
      ++i;
      continue;
    }
    const std::size_t length = utf8SequenceLength(text, i);
    if (length == 0) {
      out += kReplacement;  // one replacement per bad byte, then resynchronise
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  out.push_back('"');
}

void LogValue::appendJson(std::string& out) const {
  char buf[24];
  switch (kind_) {
    case Kind::kText:
      return appendJsonString(out, text_);
    case Kind::kBool:
      out += unsigned_ ? "true" : "false";
      return;
    case Kind::kSigned: {
      const auto r = std::to_chars(buf, buf + sizeof buf, signed_);
      out.append(buf, r.ptr);
      return;
    }
    case Kind::kUnsigned: {
      const auto r = std::to_chars(buf, buf + sizeof buf, unsigned_);
      out.append(buf, r.ptr);
      return;
    }
  }
}

std::string formatLogLine(std::string_view timestamp, LogLevel level, std::string_view logger,
                          std::string_view message, std::span<const LogField> fields) {
  std::string line;
  line.reserve(96 + message.size() + fields.size() * 24);
  line += "{\"ts\":";
  appendJsonString(line, timestamp);
  line += ",\"level\":";
  appendJsonString(line, logLevelName(level));
  line += ",\"logger\":";
  appendJsonString(line, logger);
  line += ",\"msg\":";
  appendJsonString(line, message);
  for (const auto& field : fields) {
    line.push_back(',');
    appendJsonString(line, field.key);
    line.push_back(':');
    field.value.appendJson(line);
  }
  line += "}\n";
  return line;
}

void writeLogLine(LogLevel level, std::string_view logger, std::string_view message,
                  std::span<const LogField> fields) {
  const std::string line = formatLogLine(utcNow(), level, logger, message, fields);
  // One write(2) per line keeps lines from different threads whole, without a lock.
  [[maybe_unused]] const auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

void Log::write(LogLevel level, std::string_view text, std::span<const LogField> fields) const {
  if (!logEnabled(level)) return;
  writeLogLine(level, category_, text, fields);
}

}  // namespace mcu::signaling
