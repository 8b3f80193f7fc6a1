#include "mcu/server/ConfigLoader.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace mcu::server {

namespace {

using nlohmann::json;

// Reads the keys of one JSON object into fields, refusing keys it does not know so that a typo
// in a config file is an error rather than a silently ignored setting.
class Section {
 public:
  Section(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) throw std::runtime_error(path_ + ": expected an object");
  }
  template <typename T>
  Section& get(const char* key, T& out) {
    known_.insert(key);
    if (auto it = j_.find(key); it != j_.end()) {
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) checkInteger(key, *it, out);
      try {
        out = it->template get<T>();
      } catch (const json::exception& e) {
        throw std::runtime_error(path_ + "." + key + ": " + e.what());
      }
    }
    return *this;
  }
  // nlohmann converts booleans and fractions to integers and wraps values that do not fit.
  template <typename T>
  void checkInteger(const char* key, const json& v, const T&) const {
    const bool fits = v.is_number_unsigned()  ? std::in_range<T>(v.get<std::uint64_t>())
                      : v.is_number_integer() ? std::in_range<T>(v.get<std::int64_t>())
                                              : false;
    if (!fits) {
      throw std::runtime_error(path_ + "." + key + ": expected an integer in range, got " +
                               v.dump());
    }
  }
  void done() const {
    for (const auto& [key, value] : j_.items()) {
      if (!known_.count(key)) throw std::runtime_error(path_ + ": unknown key '" + key + "'");
    }
  }
  const json& at(const char* key) const { return j_.at(key); }
  bool has(const char* key) const { return j_.contains(key); }

 private:
  const json& j_;
  std::string path_;
  std::set<std::string> known_;
};

void readServer(const json& j, core::Config::Server& s) {
  Section(j, "server")
      .get("bind", s.bind)
      .get("port", s.port)
      .get("publicHost", s.publicHost)
      .get("stateDir", s.stateDir)
      .get("webRoot", s.webRoot)
      .get("certFile", s.certFile)
      .get("keyFile", s.keyFile)
      .get("maxMessageBytes", s.maxMessageBytes)
      .get("writeQueueLimit", s.writeQueueLimit)
      .get("ioThreads", s.ioThreads)
      .done();
}

void readVideo(const json& j, core::Config::Video& v) {
  json unusedRungs;  // read below: an array of objects
  Section(j, "video")
      .get("width", v.width)
      .get("height", v.height)
      .get("fps", v.fps)
      .get("bitrateKbps", v.bitrateKbps)
      .get("keyframeIntervalMs", v.keyframeIntervalMs)
      .get("keyframeMinIntervalMs", v.keyframeMinIntervalMs)
      .get("vp8CpuUsed", v.vp8CpuUsed)
      .get("labelFont", v.labelFont)
      .get("rungs", unusedRungs)
      .get("jitterBufferMs", v.jitterBufferMs)
      .get("fecOnLossPercent", v.fecOnLossPercent)
      .done();
  if (j.contains("rungs")) {
    const json& rungs = j.at("rungs");
    if (!rungs.is_array()) throw std::runtime_error("video.rungs: expected an array");
    v.rungs.clear();
    for (const auto& r : rungs) {
      core::Config::Video::Rung rung;
      Section(r, "video.rungs[]")
          .get("width", rung.width)
          .get("height", rung.height)
          .get("bitrateKbps", rung.bitrateKbps)
          .done();
      if (rung.width < 64 || rung.height < 36 || rung.width % 2 || rung.height % 2 ||
          rung.bitrateKbps < 30) {
        throw std::runtime_error(
            "video.rungs[]: width/height even and at least 64x36, bitrateKbps at least 30");
      }
      v.rungs.push_back(rung);
    }
  }
  if (v.width < 160 || v.height < 90 || v.width % 2 || v.height % 2) {
    throw std::runtime_error("video: width/height must be even and at least 160x90");
  }
  if (v.fps < 1 || v.fps > 60) throw std::runtime_error("video.fps: 1..60");
  if (v.jitterBufferMs < 10 || v.jitterBufferMs > 1000) {
    throw std::runtime_error("video.jitterBufferMs: 10..1000");
  }
  if (v.fecOnLossPercent < 0 || v.fecOnLossPercent > 100) {
    throw std::runtime_error("video.fecOnLossPercent: 0..100");
  }
}

void readMeetings(const json& j, std::vector<core::MeetingConfig>& meetings) {
  if (!j.is_array()) throw std::runtime_error("meetings: expected an array");
  meetings.clear();
  for (const auto& m : j) {
    core::MeetingConfig mc;
    Section(m, "meetings[]")
        .get("code", mc.code)
        .get("title", mc.title)
        .get("open", mc.open)
        .done();
    if (mc.code.empty()) throw std::runtime_error("meetings[]: code must not be empty");
    meetings.push_back(mc);
  }
}

}  // namespace

core::Config parseConfig(const std::string& text) {
  json root;
  try {
    root = json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("not valid JSON: ") + e.what());
  }
  core::Config config;
  Section top(root, "config");
  json unused;
  top.get("logLevel", config.logLevel);
  for (const char* key : {"server", "video", "audio", "ice", "limits", "org", "store", "auth",
                          "schedule", "metrics", "monitor", "meetings"}) {
    top.get(key, unused);
  }
  top.done();
  if (config.logLevel != "error" && config.logLevel != "warn" && config.logLevel != "info" &&
      config.logLevel != "debug") {
    throw std::runtime_error("config.logLevel: one of \"error\", \"warn\", \"info\", \"debug\"");
  }
  if (root.contains("server")) readServer(root["server"], config.server);
  if (root.contains("video")) readVideo(root["video"], config.video);
  if (root.contains("audio")) {
    Section(root["audio"], "audio")
        .get("bitrateKbps", config.audio.bitrateKbps)
        .get("talkers", config.audio.talkers)
        .get("jitterBufferMs", config.audio.jitterBufferMs)
        .done();
    if (config.audio.talkers < 1 || config.audio.talkers > 8) {
      throw std::runtime_error("audio.talkers: 1..8");
    }
    if (config.audio.jitterBufferMs < 10 || config.audio.jitterBufferMs > 1000) {
      throw std::runtime_error("audio.jitterBufferMs: 10..1000");
    }
  }
  if (root.contains("ice")) {
    Section(root["ice"], "ice")
        .get("addresses", config.ice.addresses)
        .get("stunServer", config.ice.stunServer)
        .get("minPort", config.ice.minPort)
        .get("maxPort", config.ice.maxPort)
        .done();
  }
  if (root.contains("limits")) {
    Section(root["limits"], "limits")
        .get("maxRoomsPerMeeting", config.limits.maxRoomsPerMeeting)
        .get("answerTimeoutMs", config.limits.answerTimeoutMs)
        .get("maxNameLength", config.limits.maxNameLength)
        .get("maxTestCalls", config.limits.maxTestCalls)
        .get("testCallSeconds", config.limits.testCallSeconds)
        .done();
    if (config.limits.maxTestCalls < 0) throw std::runtime_error("limits.maxTestCalls: 0..");
    if (config.limits.testCallSeconds < 5 || config.limits.testCallSeconds > 3600) {
      throw std::runtime_error("limits.testCallSeconds: 5..3600");
    }
  }
  if (root.contains("org")) Section(root["org"], "org").get("file", config.org.file).done();
  if (root.contains("store")) {
    Section(root["store"], "store").get("path", config.store.path).done();
  }
  if (root.contains("auth")) {
    auto& a = config.auth;
    Section(root["auth"], "auth")
        .get("sessionTtlMinutes", a.sessionTtlMinutes)
        .get("maxLoginFailures", a.maxLoginFailures)
        .get("loginWindowSeconds", a.loginWindowSeconds)
        .get("minPasswordLength", a.minPasswordLength)
        .get("scryptCost", a.scryptCost)
        .done();
    if (a.sessionTtlMinutes < 1) throw std::runtime_error("auth.sessionTtlMinutes: 1..");
    if (a.maxLoginFailures < 1) throw std::runtime_error("auth.maxLoginFailures: 1..");
    if (a.loginWindowSeconds < 1) throw std::runtime_error("auth.loginWindowSeconds: 1..");
    if (a.minPasswordLength < 8) throw std::runtime_error("auth.minPasswordLength: 8..");
    if (a.scryptCost < 10 || a.scryptCost > 20) throw std::runtime_error("auth.scryptCost: 10..20");
  }
  if (root.contains("schedule")) {
    auto& sc = config.schedule;
    Section(root["schedule"], "schedule")
        .get("endGraceMinutes", sc.endGraceMinutes)
        .get("sweepSeconds", sc.sweepSeconds)
        .done();
    if (sc.endGraceMinutes < 0) throw std::runtime_error("schedule.endGraceMinutes: 0..");
    if (sc.sweepSeconds < 1) throw std::runtime_error("schedule.sweepSeconds: 1..");
  }
  if (root.contains("metrics")) {
    Section(root["metrics"], "metrics")
        .get("enabled", config.metrics.enabled)
        .get("token", config.metrics.token)
        .done();
    // It travels in an HTTP header: visible ASCII only.
    for (const char c : config.metrics.token) {
      if (c < 0x21 || c > 0x7E) {
        throw std::runtime_error("metrics.token: visible ASCII characters only (no spaces)");
      }
    }
  }
  if (root.contains("monitor")) {
    auto& m = config.monitor;
    Section(root["monitor"], "monitor")
        .get("intervalMs", m.intervalMs)
        .get("lossPercent", m.lossPercent)
        .get("jitterMs", m.jitterMs)
        .get("oneWayDelayMs", m.oneWayDelayMs)
        .get("noMediaSeconds", m.noMediaSeconds)
        .get("warnFraction", m.warnFraction)
        .get("historySamples", m.historySamples)
        .done();
    if (m.intervalMs < 500 || m.intervalMs > 60000) {
      throw std::runtime_error("monitor.intervalMs: 500..60000");
    }
    if (!(m.lossPercent > 0) || !(m.jitterMs > 0) || !(m.oneWayDelayMs > 0) ||
        m.noMediaSeconds < 1) {
      throw std::runtime_error(
          "monitor: lossPercent, jitterMs, oneWayDelayMs above 0 and noMediaSeconds at least 1");
    }
    if (!(m.warnFraction > 0) || m.warnFraction > 1) {
      throw std::runtime_error("monitor.warnFraction: above 0, at most 1");
    }
    if (m.historySamples < 1 || m.historySamples > 3600) {
      throw std::runtime_error("monitor.historySamples: 1..3600");
    }
  }
  if (root.contains("meetings")) readMeetings(root["meetings"], config.meetings);
  return config;
}

core::Config loadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return parseConfig(ss.str());
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace mcu::server
