// The config loader (mcu/server/ConfigLoader): JSON with comments into the typed core::Config.
#include "mcu/server/ConfigLoader.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

namespace mcu::server {
namespace {

using core::Config;
using core::MeetingConfig;

// The structured bindings name every field of each section: a field added to Config stops this
// file compiling until it is compared here (and so read by the loader and documented in
// configs/mcu.json).
void expectSame(const Config::Server& a, const Config::Server& b) {
  const auto& [bind, port, publicHost, stateDir, webRoot, certFile, keyFile, maxMessageBytes,
               writeQueueLimit, ioThreads] = a;
  EXPECT_EQ(bind, b.bind) << "server.bind";
  EXPECT_EQ(port, b.port) << "server.port";
  EXPECT_EQ(publicHost, b.publicHost) << "server.publicHost";
  EXPECT_EQ(stateDir, b.stateDir) << "server.stateDir";
  EXPECT_EQ(webRoot, b.webRoot) << "server.webRoot";
  EXPECT_EQ(certFile, b.certFile) << "server.certFile";
  EXPECT_EQ(keyFile, b.keyFile) << "server.keyFile";
  EXPECT_EQ(maxMessageBytes, b.maxMessageBytes) << "server.maxMessageBytes";
  EXPECT_EQ(writeQueueLimit, b.writeQueueLimit) << "server.writeQueueLimit";
  EXPECT_EQ(ioThreads, b.ioThreads) << "server.ioThreads";
}

void expectSame(const Config::Video& a, const Config::Video& b) {
  const auto& [width, height, fps, bitrateKbps, keyframeIntervalMs, keyframeMinIntervalMs,
               vp8CpuUsed, labelFont, rungs, jitterBufferMs, fecOnLossPercent] = a;
  EXPECT_EQ(rungs, b.rungs) << "video.rungs";
  EXPECT_EQ(width, b.width) << "video.width";
  EXPECT_EQ(height, b.height) << "video.height";
  EXPECT_EQ(fps, b.fps) << "video.fps";
  EXPECT_EQ(bitrateKbps, b.bitrateKbps) << "video.bitrateKbps";
  EXPECT_EQ(keyframeIntervalMs, b.keyframeIntervalMs) << "video.keyframeIntervalMs";
  EXPECT_EQ(keyframeMinIntervalMs, b.keyframeMinIntervalMs) << "video.keyframeMinIntervalMs";
  EXPECT_EQ(vp8CpuUsed, b.vp8CpuUsed) << "video.vp8CpuUsed";
  EXPECT_EQ(labelFont, b.labelFont) << "video.labelFont";
  EXPECT_EQ(jitterBufferMs, b.jitterBufferMs) << "video.jitterBufferMs";
  EXPECT_EQ(fecOnLossPercent, b.fecOnLossPercent) << "video.fecOnLossPercent";
}

void expectSame(const Config::Audio& a, const Config::Audio& b) {
  const auto& [bitrateKbps, talkers, jitterBufferMs] = a;
  EXPECT_EQ(bitrateKbps, b.bitrateKbps) << "audio.bitrateKbps";
  EXPECT_EQ(talkers, b.talkers) << "audio.talkers";
  EXPECT_EQ(jitterBufferMs, b.jitterBufferMs) << "audio.jitterBufferMs";
}

void expectSame(const Config::Ice& a, const Config::Ice& b) {
  const auto& [addresses, stunServer, minPort, maxPort] = a;
  EXPECT_EQ(addresses, b.addresses) << "ice.addresses";
  EXPECT_EQ(stunServer, b.stunServer) << "ice.stunServer";
  EXPECT_EQ(minPort, b.minPort) << "ice.minPort";
  EXPECT_EQ(maxPort, b.maxPort) << "ice.maxPort";
}

void expectSame(const Config::Limits& a, const Config::Limits& b) {
  const auto& [maxRoomsPerMeeting, answerTimeoutMs, maxNameLength, maxTestCalls, testSeconds] = a;
  EXPECT_EQ(maxTestCalls, b.maxTestCalls) << "limits.maxTestCalls";
  EXPECT_EQ(testSeconds, b.testCallSeconds) << "limits.testCallSeconds";
  EXPECT_EQ(maxRoomsPerMeeting, b.maxRoomsPerMeeting) << "limits.maxRoomsPerMeeting";
  EXPECT_EQ(answerTimeoutMs, b.answerTimeoutMs) << "limits.answerTimeoutMs";
  EXPECT_EQ(maxNameLength, b.maxNameLength) << "limits.maxNameLength";
}

void expectSame(const MeetingConfig& a, const MeetingConfig& b) {
  const auto& [code, title, open] = a;
  EXPECT_EQ(code, b.code) << "meetings[].code";
  EXPECT_EQ(title, b.title) << "meetings[].title of " << code;
  EXPECT_EQ(open, b.open) << "meetings[].open of " << code;
}

void expectSame(const Config::Org& a, const Config::Org& b) {
  const auto& [file] = a;
  EXPECT_EQ(file, b.file) << "org.file";
}

void expectSame(const Config::Store& a, const Config::Store& b) {
  const auto& [path] = a;
  EXPECT_EQ(path, b.path) << "store.path";
}

void expectSame(const Config::Auth& a, const Config::Auth& b) {
  const auto& [ttl, failures, window, minLength, cost] = a;
  EXPECT_EQ(ttl, b.sessionTtlMinutes) << "auth.sessionTtlMinutes";
  EXPECT_EQ(failures, b.maxLoginFailures) << "auth.maxLoginFailures";
  EXPECT_EQ(window, b.loginWindowSeconds) << "auth.loginWindowSeconds";
  EXPECT_EQ(minLength, b.minPasswordLength) << "auth.minPasswordLength";
  EXPECT_EQ(cost, b.scryptCost) << "auth.scryptCost";
}

void expectSame(const Config::Schedule& a, const Config::Schedule& b) {
  const auto& [endGraceMinutes, sweepSeconds] = a;
  EXPECT_EQ(endGraceMinutes, b.endGraceMinutes) << "schedule.endGraceMinutes";
  EXPECT_EQ(sweepSeconds, b.sweepSeconds) << "schedule.sweepSeconds";
}

void expectSame(const Config::Metrics& a, const Config::Metrics& b) {
  const auto& [enabled, token] = a;
  EXPECT_EQ(enabled, b.enabled) << "metrics.enabled";
  EXPECT_EQ(token, b.token) << "metrics.token";
}

void expectSame(const Config::Monitor& a, const Config::Monitor& b) {
  const auto& [interval, loss, jitter, delay, noMedia, warn, history] = a;
  EXPECT_EQ(interval, b.intervalMs) << "monitor.intervalMs";
  EXPECT_EQ(loss, b.lossPercent) << "monitor.lossPercent";
  EXPECT_EQ(jitter, b.jitterMs) << "monitor.jitterMs";
  EXPECT_EQ(delay, b.oneWayDelayMs) << "monitor.oneWayDelayMs";
  EXPECT_EQ(noMedia, b.noMediaSeconds) << "monitor.noMediaSeconds";
  EXPECT_EQ(warn, b.warnFraction) << "monitor.warnFraction";
  EXPECT_EQ(history, b.historySamples) << "monitor.historySamples";
}

void expectSame(const Config& a, const Config& b) {
  const auto& [server, video, audio, ice, limits, org, store, auth, schedule, metrics, monitor,
               meetings, logLevel] = a;
  expectSame(server, b.server);
  expectSame(video, b.video);
  expectSame(audio, b.audio);
  expectSame(ice, b.ice);
  expectSame(limits, b.limits);
  expectSame(org, b.org);
  expectSame(store, b.store);
  expectSame(auth, b.auth);
  expectSame(schedule, b.schedule);
  expectSame(metrics, b.metrics);
  expectSame(monitor, b.monitor);
  ASSERT_EQ(meetings.size(), b.meetings.size()) << "meetings";
  for (std::size_t i = 0; i < meetings.size(); ++i) expectSame(meetings[i], b.meetings[i]);
  EXPECT_EQ(logLevel, b.logLevel) << "logLevel";
}

// The message parseConfig throws for `text`; a failure if it parses.
std::string parseError(const std::string& text) {
  try {
    parseConfig(text);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "parsed without error: " << text;
  return {};
}

// ---------------------------------------------------------------- defaults and syntax

TEST(ParseConfigTest, EmptyObjectGivesDefaults) {
  expectSame(parseConfig("{}"), Config{});
}

TEST(ParseConfigTest, EmptySectionsKeepDefaults) {
  expectSame(parseConfig(R"({"server": {}, "video": {}, "audio": {}, "ice": {}, "limits": {}})"),
             Config{});
}

TEST(ParseConfigTest, MissingKeysKeepTheirDefaults) {
  const Config c = parseConfig(R"({"server": {"port": 9443}, "video": {"fps": 30}})");
  EXPECT_EQ(c.server.port, 9443);
  EXPECT_EQ(c.server.bind, Config{}.server.bind);
  EXPECT_EQ(c.video.fps, 30);
  EXPECT_EQ(c.video.width, Config{}.video.width);
  EXPECT_EQ(c.video.labelFont, Config{}.video.labelFont);
}

TEST(ParseConfigTest, MonitorThresholdsAreReadAndChecked) {
  const Config c = parseConfig(
      R"({"monitor": {"intervalMs": 1000, "lossPercent": 2.5, "oneWayDelayMs": 200,
                      "noMediaSeconds": 8, "warnFraction": 0.6, "historySamples": 30}})");
  EXPECT_EQ(c.monitor.intervalMs, 1000);
  EXPECT_EQ(c.monitor.lossPercent, 2.5);
  EXPECT_EQ(c.monitor.jitterMs, Config{}.monitor.jitterMs);
  EXPECT_EQ(c.monitor.oneWayDelayMs, 200);
  EXPECT_EQ(c.monitor.noMediaSeconds, 8);
  EXPECT_EQ(c.monitor.warnFraction, 0.6);
  EXPECT_EQ(c.monitor.historySamples, 30);
  EXPECT_NE(parseError(R"({"monitor": {"intervalMs": 10}})").find("monitor.intervalMs"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"monitor": {"lossPercent": 0}})").find("monitor"), std::string::npos);
  EXPECT_NE(parseError(R"({"monitor": {"warnFraction": 1.5}})").find("monitor.warnFraction"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"monitor": {"lossPrecent": 1}})").find("lossPrecent"),
            std::string::npos);
}

TEST(ParseConfigTest, CommentsAllowed) {
  const Config c = parseConfig(R"(
    // a line comment
    {
      /* a block comment
         over two lines */
      "server": {
        "port": 9443  // after a value
      },
      "logLevel": /* inline */ "debug"
    }
    // trailing comment
  )");
  EXPECT_EQ(c.server.port, 9443);
  EXPECT_EQ(c.logLevel, "debug");
}

TEST(ParseConfigTest, NotJsonRejected) {
  EXPECT_NE(parseError(R"({"server": )").find("not valid JSON"), std::string::npos);
  EXPECT_NE(parseError("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(parseError(R"({"logLevel": "info",})").find("not valid JSON"), std::string::npos);
}

TEST(ParseConfigTest, RootMustBeAnObject) {
  EXPECT_NE(parseError("[]").find("expected an object"), std::string::npos);
  EXPECT_NE(parseError("42").find("expected an object"), std::string::npos);
}

// ---------------------------------------------------------------- every key

TEST(ParseConfigTest, EveryKeyOfEverySectionRead) {
  const Config c = parseConfig(R"({
    "server": {
      "bind": "127.0.0.1", "port": 9443, "publicHost": "mcu.example.vn",
      "stateDir": "/var/lib/mcu", "webRoot": "/usr/share/mcu/web", "certFile": "/etc/mcu/c.pem",
      "keyFile": "/etc/mcu/k.pem", "maxMessageBytes": 32768, "writeQueueLimit": 64,
      "ioThreads": 4
    },
    "video": {
      "width": 1920, "height": 1080, "fps": 30, "bitrateKbps": 2500,
      "keyframeIntervalMs": 2000, "keyframeMinIntervalMs": 250, "vp8CpuUsed": 4,
      "labelFont": "Noto Sans", "jitterBufferMs": 120, "fecOnLossPercent": 5
    },
    "audio": {"bitrateKbps": 48, "talkers": 5, "jitterBufferMs": 80},
    "ice": {
      "addresses": ["10.0.0.5", "192.168.1.2"], "stunServer": "stun://stun.example.org:3478",
      "minPort": 40000, "maxPort": 40100
    },
    "limits": {"maxRoomsPerMeeting": 9, "answerTimeoutMs": 5000, "maxNameLength": 32},
    "org": {"file": "configs/org/example-districts.csv"},
    "store": {"path": "/var/lib/mcu/mcu.db"},
    "auth": {"sessionTtlMinutes": 60, "maxLoginFailures": 3, "loginWindowSeconds": 60,
             "minPasswordLength": 12, "scryptCost": 14},
    "schedule": {"endGraceMinutes": 0, "sweepSeconds": 15},
    "metrics": {"enabled": false, "token": "s3cr3t-Token_1"},
    "meetings": [
      {"code": "tinh", "title": "Hội nghị trực tuyến tỉnh", "open": true},
      {"code": "huyen", "title": "Huyện", "open": false}
    ],
    "logLevel": "debug"
  })");

  Config want;
  want.server = {"127.0.0.1",
                 9443,
                 "mcu.example.vn",
                 "/var/lib/mcu",
                 "/usr/share/mcu/web",
                 "/etc/mcu/c.pem",
                 "/etc/mcu/k.pem",
                 32768,
                 64,
                 4};
  want.video = {1920, 1080, 30, 2500, 2000, 250, 4, "Noto Sans"};
  want.video.jitterBufferMs = 120;
  want.video.fecOnLossPercent = 5;
  want.audio = {48, 5, 80};
  want.ice = {{"10.0.0.5", "192.168.1.2"}, "stun://stun.example.org:3478", 40000, 40100};
  want.limits = {9, 5000, 32};
  want.org = {"configs/org/example-districts.csv"};
  want.store = {"/var/lib/mcu/mcu.db"};
  want.auth = {60, 3, 60, 12, 14};
  want.schedule = {0, 15};
  want.metrics = {false, "s3cr3t-Token_1"};
  want.meetings = {{"tinh", "Hội nghị trực tuyến tỉnh", true}, {"huyen", "Huyện", false}};
  want.logLevel = "debug";
  expectSame(c, want);
}

TEST(ParseConfigTest, AuthRangesAreChecked) {
  EXPECT_NE(parseError(R"({"auth": {"scryptCost": 9}})").find("auth.scryptCost"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"auth": {"minPasswordLength": 4}})").find("auth.minPasswordLength"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"auth": {"sessionTtlMinutes": 0}})").find("auth.sessionTtlMinutes"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"auth": {"colour": 1}})").find("'colour'"), std::string::npos);
}

TEST(ParseConfigTest, ScheduleRangesAreChecked) {
  EXPECT_NE(parseError(R"({"schedule": {"endGraceMinutes": -1}})").find("schedule.endGraceMinutes"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"schedule": {"sweepSeconds": 0}})").find("schedule.sweepSeconds"),
            std::string::npos);
}

TEST(ParseConfigTest, LogLevelMustBeOneOfTheFour) {
  for (const char* level : {"error", "warn", "info", "debug"}) {
    EXPECT_EQ(parseConfig(std::string(R"({"logLevel": ")") + level + "\"}").logLevel, level);
  }
  for (const char* text : {R"({"logLevel": "INFO"})", R"({"logLevel": "warning"})",
                           R"({"logLevel": ""})", R"({"logLevel": "trace"})"}) {
    EXPECT_NE(parseError(text).find("config.logLevel"), std::string::npos) << text;
  }
}

// The token travels in an Authorization header.
TEST(ParseConfigTest, MetricsTokenMustBeVisibleAscii) {
  EXPECT_EQ(parseConfig(R"({"metrics": {"token": "a-B_c.9~"}})").metrics.token, "a-B_c.9~");
  for (const char* text :
       {R"({"metrics": {"token": "two words"}})", R"({"metrics": {"token": "tab\there"}})",
        R"({"metrics": {"token": "mật khẩu"}})"}) {
    EXPECT_NE(parseError(text).find("metrics.token"), std::string::npos) << text;
  }
}

// ---------------------------------------------------------------- unknown keys

TEST(ParseConfigTest, UnknownTopLevelKeyRejectedWithItsName) {
  const std::string e = parseError(R"({"sever": {}})");
  EXPECT_NE(e.find("config"), std::string::npos) << e;
  EXPECT_NE(e.find("'sever'"), std::string::npos) << e;
}

TEST(ParseConfigTest, UnknownKeyInEachSectionRejectedWithItsPath) {
  const struct {
    const char* text;
    const char* section;
    const char* key;
  } cases[] = {
      {R"({"server": {"prot": 1}})", "server", "'prot'"},
      {R"({"video": {"framerate": 25}})", "video", "'framerate'"},
      {R"({"audio": {"bitrate": 32}})", "audio", "'bitrate'"},
      {R"({"ice": {"stun": ""}})", "ice", "'stun'"},
      {R"({"limits": {"maxRooms": 4}})", "limits", "'maxRooms'"},
      {R"({"meetings": [{"code": "a", "titel": "x"}]})", "meetings[]", "'titel'"},
      {R"({"metrics": {"bearer": "x"}})", "metrics", "'bearer'"},
      {R"({"video": {"rungs": [{"width": 320, "height": 180, "kbps": 1}]}})", "video.rungs[]",
       "'kbps'"},
  };
  for (const auto& c : cases) {
    const std::string e = parseError(c.text);
    EXPECT_EQ(e.rfind(c.section, 0), 0u) << e;
    EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
    EXPECT_NE(e.find(c.key), std::string::npos) << e;
  }
}

TEST(ParseConfigTest, RungsAreReadAndBadOnesRefused) {
  const auto c =
      parseConfig(R"({"video": {"rungs": [{"width": 480, "height": 270, "bitrateKbps": 300}]}})");
  ASSERT_EQ(c.video.rungs.size(), 1u);
  EXPECT_EQ(c.video.rungs[0], (core::Config::Video::Rung{480, 270, 300}));
  EXPECT_TRUE(parseConfig(R"({"video": {"rungs": []}})").video.rungs.empty());
  EXPECT_NE(parseError(R"({"video": {"rungs": {}}})").find("video.rungs: expected an array"),
            std::string::npos);
  EXPECT_NE(
      parseError(R"({"video": {"rungs": [{"width": 321, "height": 180, "bitrateKbps": 99}]}})")
          .find("video.rungs[]"),
      std::string::npos);
  EXPECT_NE(
      parseError(R"({"video": {"rungs": [{"width": 320, "height": 180, "bitrateKbps": 10}]}})")
          .find("bitrateKbps"),
      std::string::npos);
}

TEST(ParseConfigTest, KeysAreCaseSensitive) {
  EXPECT_NE(parseError(R"({"server": {"Port": 9443}})").find("'Port'"), std::string::npos);
}

// ---------------------------------------------------------------- wrong types and values

TEST(ParseConfigTest, WrongTypeRejectedWithItsPath) {
  const struct {
    const char* text;
    const char* path;
  } cases[] = {
      {R"({"server": {"port": "8443"}})", "server.port"},
      {R"({"server": {"bind": 0}})", "server.bind"},
      {R"({"video": {"width": "1280"}})", "video.width"},
      {R"({"video": {"labelFont": null}})", "video.labelFont"},
      {R"({"audio": {"bitrateKbps": "32"}})", "audio.bitrateKbps"},
      {R"({"ice": {"addresses": "127.0.0.1"}})", "ice.addresses"},
      {R"({"ice": {"addresses": [1, 2]}})", "ice.addresses"},
      {R"({"limits": {"answerTimeoutMs": "15s"}})", "limits.answerTimeoutMs"},
      {R"({"meetings": [{"code": "a", "open": "yes"}]})", "meetings[].open"},
      {R"({"logLevel": 3})", "config.logLevel"},
      {R"({"metrics": {"enabled": "yes"}})", "metrics.enabled"},
      {R"({"metrics": {"token": 42}})", "metrics.token"},
  };
  for (const auto& c : cases) {
    const std::string e = parseError(c.text);
    EXPECT_NE(e.find(c.path), std::string::npos) << "want " << c.path << " in: " << e;
  }
}

// nlohmann converts a boolean or a fraction to an integer field on its own; the file is still
// wrong.
TEST(ParseConfigTest, BooleanOrFractionForIntegerRejected) {
  EXPECT_NE(parseError(R"({"audio": {"bitrateKbps": true}})").find("audio.bitrateKbps"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"video": {"fps": 29.97}})").find("video.fps"), std::string::npos);
}

TEST(ParseConfigTest, SectionOfWrongTypeRejected) {
  EXPECT_NE(parseError(R"({"server": []})").find("server: expected an object"), std::string::npos);
  EXPECT_NE(parseError(R"({"video": 1})").find("video: expected an object"), std::string::npos);
  EXPECT_NE(parseError(R"({"meetings": {}})").find("meetings: expected an array"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"meetings": ["demo"]})").find("meetings[]: expected an object"),
            std::string::npos);
}

TEST(ParseConfigTest, InvalidVideoSizeRejected) {
  for (const char* text : {
           R"({"video": {"width": 1281}})",
           R"({"video": {"height": 721}})",
           R"({"video": {"width": 158, "height": 90}})",
           R"({"video": {"width": 160, "height": 88}})",
           R"({"video": {"width": 0}})",
           R"({"video": {"width": -1280}})",
       }) {
    EXPECT_NE(parseError(text).find("video"), std::string::npos) << text;
  }
}

TEST(ParseConfigTest, SmallestVideoSizeAccepted) {
  const Config c = parseConfig(R"({"video": {"width": 160, "height": 90}})");
  EXPECT_EQ(c.video.width, 160);
  EXPECT_EQ(c.video.height, 90);
}

TEST(ParseConfigTest, FpsOutOfRangeRejected) {
  EXPECT_NE(parseError(R"({"video": {"fps": 0}})").find("video.fps"), std::string::npos);
  EXPECT_NE(parseError(R"({"video": {"fps": 61}})").find("video.fps"), std::string::npos);
  EXPECT_EQ(parseConfig(R"({"video": {"fps": 60}})").video.fps, 60);
  EXPECT_EQ(parseConfig(R"({"video": {"fps": 1}})").video.fps, 1);
}

// A value that does not fit the field must not wrap silently to another port or size.
TEST(ParseConfigTest, JitterBufferOutOfRangeRejected) {
  for (const char* section : {"video", "audio"}) {
    for (int ms : {9, 1001, -20}) {
      const std::string text =
          std::string(R"({")") + section + R"(": {"jitterBufferMs": )" + std::to_string(ms) + "}}";
      EXPECT_NE(parseError(text).find(std::string(section) + ".jitterBufferMs"), std::string::npos)
          << text;
    }
  }
  const Config c =
      parseConfig(R"({"video": {"jitterBufferMs": 10}, "audio": {"jitterBufferMs": 1000}})");
  EXPECT_EQ(c.video.jitterBufferMs, 10);
  EXPECT_EQ(c.audio.jitterBufferMs, 1000);
}

TEST(ParseConfigTest, FecOnLossPercentOutOfRangeRejected) {
  EXPECT_NE(parseError(R"({"video": {"fecOnLossPercent": -1}})").find("video.fecOnLossPercent"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"video": {"fecOnLossPercent": 101}})").find("video.fecOnLossPercent"),
            std::string::npos);
  EXPECT_EQ(parseConfig(R"({"video": {"fecOnLossPercent": 0}})").video.fecOnLossPercent, 0);
}

TEST(ParseConfigTest, PortOutOfRangeRejected) {
  EXPECT_NE(parseError(R"({"server": {"port": 70000}})").find("server.port"), std::string::npos);
  EXPECT_NE(parseError(R"({"server": {"port": -1}})").find("server.port"), std::string::npos);
}

TEST(ParseConfigTest, NegativeSizeRejected) {
  EXPECT_NE(parseError(R"({"server": {"maxMessageBytes": -1}})").find("server.maxMessageBytes"),
            std::string::npos);
  EXPECT_NE(parseError(R"({"server": {"writeQueueLimit": -1}})").find("server.writeQueueLimit"),
            std::string::npos);
}

// ---------------------------------------------------------------- meetings

TEST(ParseConfigTest, MeetingsListReplacesTheDefaultOne) {
  const Config c = parseConfig(R"({"meetings": [{"code": "xa-ban-lau", "title": "Xã Bản Lầu"}]})");
  ASSERT_EQ(c.meetings.size(), 1u);
  expectSame(c.meetings[0], MeetingConfig{"xa-ban-lau", "Xã Bản Lầu", true});
}

TEST(ParseConfigTest, EmptyMeetingsListMeansNoMeetings) {
  EXPECT_TRUE(parseConfig(R"({"meetings": []})").meetings.empty());
}

TEST(ParseConfigTest, MeetingTitleAndOpenAreOptional) {
  const Config c = parseConfig(R"({"meetings": [{"code": "a"}]})");
  ASSERT_EQ(c.meetings.size(), 1u);
  expectSame(c.meetings[0], MeetingConfig{"a", "", true});
}

TEST(ParseConfigTest, MeetingWithoutCodeRejected) {
  EXPECT_NE(parseError(R"({"meetings": [{"title": "x"}]})").find("code"), std::string::npos);
  EXPECT_NE(parseError(R"({"meetings": [{"code": ""}]})").find("code"), std::string::npos);
}

// ---------------------------------------------------------------- files

class LoadConfigTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    path_ = ::testing::TempDir() + "mcu-config-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json";
    std::ofstream(path_) << text;
    return path_;
  }
  ~LoadConfigTest() override {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  std::string path_;
};

TEST_F(LoadConfigTest, ReadsAFile) {
  const Config c = loadConfig(write(R"({"server": {"port": 9443}} // comment)"));
  EXPECT_EQ(c.server.port, 9443);
}

TEST_F(LoadConfigTest, MissingFileRejectedWithItsName) {
  const std::string path = ::testing::TempDir() + "no-such-mcu-config.json";
  try {
    loadConfig(path);
    FAIL() << "loaded a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST_F(LoadConfigTest, ErrorNamesTheFileAndTheKey) {
  const std::string path = write(R"({"limits": {"maxRoomz": 4}})");
  try {
    loadConfig(path);
    FAIL() << "loaded a file with an unknown key";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
    EXPECT_NE(what.find("limits: unknown key 'maxRoomz'"), std::string::npos) << what;
  }
}

// configs/mcu.json documents the embedded defaults: it parses, and loading it changes nothing.
TEST_F(LoadConfigTest, ShippedConfigFileIsTheDefaults) {
  Config shipped;
  ASSERT_NO_THROW(shipped = loadConfig(MCU_SHIPPED_CONFIG));
  expectSame(shipped, Config{});
}

}  // namespace
}  // namespace mcu::server
