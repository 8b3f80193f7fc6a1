// signaling/Log: one JSON object per line, escaping, UTF-8, fields and the level threshold.
#include "signaling/Log.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "tests/unit/signaling/StderrCapture.hpp"

namespace mcu::signaling {
namespace {

using nlohmann::json;
constexpr std::string_view kTs = "2026-11-27T21:45:12.010Z";

std::string line(std::string_view message, std::initializer_list<LogField> fields = {},
                 LogLevel level = LogLevel::kInfo) {
  return formatLogLine(kTs, level, "signaling.test", message,
                       std::span<const LogField>(fields.begin(), fields.size()));
}

// Parses one line as JSON; nlohmann refuses invalid UTF-8, so this also checks the encoding.
json parse(const std::string& text) {
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line: " << text;
  return json::parse(text);
}

// Restores the process-wide level whatever a test set.
class LogLevelTest : public ::testing::Test {
 protected:
  ~LogLevelTest() override { setLogLevel(LogLevel::kInfo); }
};

TEST(LogFormatTest, TheHouseKeysComeFirstInOrder) {
  EXPECT_EQ(line("listening"),
            R"({"ts":"2026-11-27T21:45:12.010Z","level":"info","logger":"signaling.test",)"
            R"("msg":"listening"})"
            "\n");
  EXPECT_EQ(parse(line("x", {}, LogLevel::kError))["level"], "error");
  EXPECT_EQ(parse(line("x", {}, LogLevel::kWarn))["level"], "warn");
  EXPECT_EQ(parse(line("x", {}, LogLevel::kDebug))["level"], "debug");
}

TEST(LogFormatTest, FieldsFollowWithTheirTypes) {
  const std::string meeting = "demo";
  const std::string text = line("room joined", {{"meeting", meeting},
                                                {"site", std::string_view("p3")},
                                                {"conn", std::uint64_t{18446744073709551615u}},
                                                {"id", -42},
                                                {"status", 200},
                                                {"port", std::uint16_t{8443}},
                                                {"flag", true}});
  const json j = parse(text);
  EXPECT_EQ(j["msg"], "room joined");
  EXPECT_EQ(j["meeting"], "demo");
  EXPECT_EQ(j["site"], "p3");
  EXPECT_EQ(j["conn"].get<std::uint64_t>(), 18446744073709551615u);
  EXPECT_EQ(j["id"], -42);
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["port"], 8443);
  EXPECT_EQ(j["flag"], true);
  EXPECT_LT(text.find("\"msg\""), text.find("\"meeting\""));
  EXPECT_LT(text.find("\"meeting\""), text.find("\"site\""));
}

TEST(LogFormatTest, QuotesBackslashesAndControlCharactersAreEscaped) {
  const std::string nasty = "a\"b\\c\nd\re\tf\x01g\x1fh\x7fi\bj\fk/";
  const std::string text = line(nasty, {{"detail", nasty}, {std::string_view("k\"ey"), "v"}});
  const json j = parse(text);
  EXPECT_EQ(j["msg"], nasty);
  EXPECT_EQ(j["detail"], nasty);
  EXPECT_EQ(j["k\"ey"], "v");
  for (const char c : text.substr(0, text.size() - 1)) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character in " << text;
  }
}

TEST(LogFormatTest, Utf8IsKeptAsItIs) {
  const std::string name = "Xã Bản Lầu — Phòng họp 🎥";
  const std::string text = line(name, {{"site", name}});
  EXPECT_NE(text.find(name), std::string::npos) << "not escaped: " << text;
  EXPECT_EQ(parse(text)["site"], name);
}

TEST(LogFormatTest, InvalidUtf8IsReplaced) {
  const std::string kFffd = "\xEF\xBF\xBD";
  const struct {
    std::string in;
    std::string out;
  } cases[] = {
      {"a\xFF"
       "b",
       "a" + kFffd + "b"},                                  // never valid
      {"\xC0\xAF", kFffd + kFffd},                          // overlong '/'
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},              // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},  // above U+10FFFF
      {"ok\xE1\x80", "ok" + kFffd + kFffd},                 // cut short at the end
      {"\x80x", kFffd + "x"},                               // a lone continuation byte
      {"\xE1\x80\x41", kFffd + kFffd + "A"},                // cut short before ASCII
  };
  for (const auto& c : cases) {
    const json j = parse(line(c.in, {{"v", c.in}}));
    EXPECT_EQ(j["msg"], c.out) << c.in;
    EXPECT_EQ(j["v"], c.out) << c.in;
  }
}

TEST(LogFormatTest, LevelNamesAreTheConfigSpelling) {
  EXPECT_EQ(parseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(parseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(parseLogLevel("info"), LogLevel::kInfo);
  EXPECT_EQ(parseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(parseLogLevel("INFO"), std::nullopt);
  EXPECT_EQ(parseLogLevel("warning"), std::nullopt);
  EXPECT_EQ(parseLogLevel(""), std::nullopt);
  for (const auto level : {LogLevel::kError, LogLevel::kWarn, LogLevel::kInfo, LogLevel::kDebug}) {
    EXPECT_EQ(parseLogLevel(logLevelName(level)), level);
  }
}

TEST_F(LogLevelTest, LinesLessSevereThanTheLevelAreDropped) {
  const Log log{"signaling.test"};
  StderrCapture capture;
  setLogLevel(LogLevel::kWarn);
  log.debug("d1");
  log.info("i1");
  log.warn("w1");
  log.error("e1");
  setLogLevel(LogLevel::kError);
  log.warn("w2");
  log.error("e2");
  setLogLevel(LogLevel::kDebug);
  log.debug("d3", {{"meeting", "demo"}});
  log.info("i3");
  std::vector<std::string> messages;
  for (const auto& text : capture.lines()) messages.push_back(json::parse(text)["msg"]);
  EXPECT_EQ(messages, (std::vector<std::string>{"w1", "e1", "e2", "d3", "i3"}));
}

TEST_F(LogLevelTest, DefaultIsInfo) {
  EXPECT_EQ(logLevel(), LogLevel::kInfo);
  EXPECT_TRUE(logEnabled(LogLevel::kInfo));
  EXPECT_FALSE(logEnabled(LogLevel::kDebug));
}

TEST_F(LogLevelTest, WrittenLinesCarryAUtcMillisecondTimestamp) {
  StderrCapture capture;
  Log{"signaling.test"}.info("now", {{"site", "p1"}});
  const auto lines = capture.lines();
  ASSERT_EQ(lines.size(), 1u);
  const json j = json::parse(lines[0]);
  EXPECT_TRUE(std::regex_match(j["ts"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << j["ts"];
  EXPECT_EQ(j["logger"], "signaling.test");
  EXPECT_EQ(j["site"], "p1");
}

}  // namespace
}  // namespace mcu::signaling
