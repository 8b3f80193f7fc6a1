// signaling/Metrics and MetricsEndpoint: counting, and the Prometheus text exposition (format
// 0.0.4) of a scrape. promtool itself checks the real server's output in
// tests/integration/MetricsTest.cpp.
#include "signaling/Metrics.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "signaling/MetricsEndpoint.hpp"

namespace mcu::signaling {
namespace {

using namespace std::chrono_literals;

// One scrape, read back: samples by "name{labels}" as written, families by TYPE line.
struct Scrape {
  std::map<std::string, std::string> samples;
  std::map<std::string, std::string> types;
  std::map<std::string, int> helps;
  std::string text;

  bool has(const std::string& key) const { return samples.count(key) > 0; }
  double value(const std::string& key) const {
    const auto it = samples.find(key);
    if (it == samples.end()) {
      ADD_FAILURE() << "no sample " << key << " in:\n" << text;
      return -1;
    }
    return std::stod(it->second);
  }
};

// The family a sample belongs to: histograms add _bucket, _sum and _count.
std::string familyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.ends_with(s)) {
      const std::string base = name.substr(0, name.size() - s.size());
      if (types.count(base) && types.at(base) == "histogram") return base;
    }
  }
  return name;
}

Scrape parse(const std::string& text) {
  Scrape s;
  s.text = text;
  EXPECT_TRUE(text.ends_with("\n"));
  std::istringstream in(text);
  std::string current;  // the family whose samples may follow
  std::set<std::string> done;
  const std::regex sampleLine(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+))");
  const std::regex typeLine(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  const std::regex helpLine(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*)");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, helpLine)) {
      ++s.helps[m[1]];
    } else if (std::regex_match(line, m, typeLine)) {
      EXPECT_FALSE(s.types.count(m[1])) << "second TYPE for " << m[1];
      EXPECT_EQ(s.helps[m[1]], 1) << "HELP must come once, before TYPE: " << m[1];
      s.types[m[1]] = m[2];
      if (!current.empty()) done.insert(current);
      current = m[1];
    } else if (std::regex_match(line, m, sampleLine)) {
      const std::string family = familyOf(m[1], s.types);
      EXPECT_EQ(family, current) << "sample outside its family: " << line;
      EXPECT_FALSE(done.count(family)) << line;
      const std::string key = std::string(m[1]) + std::string(m[2]);
      EXPECT_FALSE(s.samples.count(key)) << "duplicate " << line;
      s.samples[key] = m[3];
    } else {
      ADD_FAILURE() << "not a line of the format: '" << line << "'";
    }
  }
  return s;
}

CoreSample someCore() {
  CoreSample core;
  core.websocketConnections = 7;
  ConferenceSample c;
  c.roomsWaiting = 2;
  c.joins = 9;
  c.meetings = {{"demo", 3, 1, {{"1280x720", 2, 500000}, {"320x180", 1, 40000}}},
                {"tinh-2026", 2, 2, {}}};
  c.sitesByState = {{"demo", {2, 0, 1}}, {"tinh-2026", {1, 1, 0}}};
  core.conference = c;
  return core;
}

std::string render(const Metrics& m, const std::optional<CoreSample>& core) {
  ProcessSample p;
  p.cpuSeconds = 1.25;
  p.residentBytes = 123456789;
  p.virtualBytes = 987654321;
  p.openFds = 42;
  p.maxFds = 1024;
  p.startTimeSeconds = 1795815912.5;
  return renderMetrics(m, p, core, 3600.5);
}

TEST(MetricsRenderTest, EveryFamilyHasHelpAndTheRightType) {
  const Metrics m;
  const Scrape s = parse(render(m, someCore()));
  const std::map<std::string, std::string> want{
      {"process_cpu_seconds_total", "counter"},
      {"process_resident_memory_bytes", "gauge"},
      {"process_virtual_memory_bytes", "gauge"},
      {"process_open_fds", "gauge"},
      {"process_max_fds", "gauge"},
      {"process_start_time_seconds", "gauge"},
      {"mcu_uptime_seconds", "gauge"},
      {"mcu_metrics_conference_ok", "gauge"},
      {"mcu_websocket_connections", "gauge"},
      {"mcu_http_requests_total", "counter"},
      {"mcu_api_request_duration_seconds", "histogram"},
      {"mcu_login_failures_total", "counter"},
      {"mcu_signaling_errors_sent_total", "counter"},
      {"mcu_joins_total", "counter"},
      {"mcu_leaves_total", "counter"},
      {"mcu_rooms_waiting", "gauge"},
      {"mcu_meetings_live", "gauge"},
      {"mcu_rooms", "gauge"},
      {"mcu_rooms_media_connected", "gauge"},
      {"mcu_meeting_rooms", "gauge"},
      {"mcu_meeting_rooms_media_connected", "gauge"},
      {"mcu_video_encoded_bytes_total", "counter"},
      {"mcu_video_rung_viewers", "gauge"},
      {"mcu_sites", "gauge"},
  };
  EXPECT_EQ(s.types, want);
  EXPECT_EQ(s.value("process_cpu_seconds_total"), 1.25);
  EXPECT_EQ(s.value("process_resident_memory_bytes"), 123456789);
  EXPECT_EQ(s.value("process_start_time_seconds"), 1795815912.5);
  EXPECT_EQ(s.value("mcu_uptime_seconds"), 3600.5);
}

TEST(MetricsRenderTest, ConferenceNumbersPerNodeAndPerMeeting) {
  const Metrics m;
  const Scrape s = parse(render(m, someCore()));
  EXPECT_EQ(s.value("mcu_metrics_conference_ok"), 1);
  EXPECT_EQ(s.value("mcu_websocket_connections"), 7);
  EXPECT_EQ(s.value("mcu_rooms_waiting"), 2);
  EXPECT_EQ(s.value("mcu_meetings_live"), 2);
  EXPECT_EQ(s.value("mcu_rooms"), 5);
  EXPECT_EQ(s.value("mcu_rooms_media_connected"), 3);
  EXPECT_EQ(s.value(R"(mcu_meeting_rooms{meeting="demo"})"), 3);
  EXPECT_EQ(s.value(R"(mcu_meeting_rooms{meeting="tinh-2026"})"), 2);
  EXPECT_EQ(s.value(R"(mcu_meeting_rooms_media_connected{meeting="demo"})"), 1);
  EXPECT_EQ(s.value(R"(mcu_meeting_rooms_media_connected{meeting="tinh-2026"})"), 2);
  EXPECT_EQ(s.value(R"(mcu_video_encoded_bytes_total{meeting="demo",rung="1280x720"})"), 500000);
  EXPECT_EQ(s.value(R"(mcu_video_encoded_bytes_total{meeting="demo",rung="320x180"})"), 40000);
  EXPECT_EQ(s.value(R"(mcu_video_rung_viewers{meeting="demo",rung="1280x720"})"), 2);
  EXPECT_EQ(s.value(R"(mcu_video_rung_viewers{meeting="demo",rung="320x180"})"), 1);
  EXPECT_EQ(s.value(R"(mcu_sites{meeting="demo",state="green"})"), 2);
  EXPECT_EQ(s.value(R"(mcu_sites{meeting="demo",state="amber"})"), 0);
  EXPECT_EQ(s.value(R"(mcu_sites{meeting="demo",state="red"})"), 1);
  EXPECT_EQ(s.value(R"(mcu_sites{meeting="tinh-2026",state="amber"})"), 1);
  // Every room that joined is in a meeting or has left.
  EXPECT_EQ(s.value("mcu_joins_total"), 9);
  EXPECT_EQ(s.value("mcu_leaves_total"), 4);
}

TEST(MetricsRenderTest, NoLiveMeetingsLeavesThePerMeetingFamiliesEmpty) {
  const Metrics m;
  CoreSample core;
  core.conference = ConferenceSample{};
  const Scrape s = parse(render(m, core));
  EXPECT_EQ(s.value("mcu_meetings_live"), 0);
  EXPECT_EQ(s.value("mcu_rooms"), 0);
  EXPECT_EQ(s.types.at("mcu_meeting_rooms"), "gauge");
  for (const auto& [key, value] : s.samples) EXPECT_FALSE(key.starts_with("mcu_meeting_rooms"));
}

// The core executor did not answer in time: the rest is served, and the scrape says so.
TEST(MetricsRenderTest, WithoutTheCoreTheConferenceFamiliesAreLeftOut) {
  const Metrics m;
  const Scrape s = parse(render(m, std::nullopt));
  EXPECT_EQ(s.value("mcu_metrics_conference_ok"), 0);
  for (const char* family : {"mcu_websocket_connections", "mcu_rooms", "mcu_joins_total",
                             "mcu_leaves_total", "mcu_meeting_rooms", "mcu_meetings_live"}) {
    EXPECT_FALSE(s.types.count(family)) << family;
  }
  EXPECT_TRUE(s.types.count("mcu_http_requests_total"));
  EXPECT_TRUE(s.types.count("process_cpu_seconds_total"));

  CoreSample noConference;  // the server is stopping: sessions only
  noConference.websocketConnections = 1;
  const Scrape stopping = parse(render(m, noConference));
  EXPECT_EQ(stopping.value("mcu_metrics_conference_ok"), 0);
  EXPECT_EQ(stopping.value("mcu_websocket_connections"), 1);
  EXPECT_FALSE(stopping.types.count("mcu_rooms"));
}

TEST(MetricsRenderTest, LabelValuesAreEscaped) {
  const Metrics m;
  CoreSample core;
  core.conference = ConferenceSample{0, {{"a\"b\\c\nd", 2, 0, {}}, {"Hội nghị", 1, 0, {}}}, 3, {}};
  const std::string text = render(m, core);
  EXPECT_NE(text.find("mcu_meeting_rooms{meeting=\"a\\\"b\\\\c\\nd\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("mcu_meeting_rooms{meeting=\"Hội nghị\"} 1\n"), std::string::npos);
  parse(text);
}

TEST(MetricsRenderTest, OptionalProcessFieldsAreLeftOutWhenUnknown) {
  const Metrics m;
  const Scrape s = parse(renderMetrics(m, ProcessSample{}, someCore(), 1));
  EXPECT_TRUE(s.types.count("process_cpu_seconds_total"));
  EXPECT_FALSE(s.types.count("process_open_fds"));
  EXPECT_FALSE(s.types.count("process_start_time_seconds"));
}

// ---------------------------------------------------------------- counting

TEST(MetricsCountTest, HttpRequestsByHandlerAndStatusClass) {
  Metrics m;
  m.httpRequest(HttpHandler::kWeb, 200);
  m.httpRequest(HttpHandler::kWeb, 304);
  m.httpRequest(HttpHandler::kWeb, 404);
  m.httpRequest(HttpHandler::kWeb, 404);
  m.httpRequest(HttpHandler::kApi, 201);
  m.httpRequest(HttpHandler::kApi, 503);
  m.httpRequest(HttpHandler::kMetrics, 401);
  m.httpRequest(HttpHandler::kWeb, 99);   // not a status: ignored
  m.httpRequest(HttpHandler::kWeb, 600);  // likewise
  const Scrape s = parse(render(m, someCore()));
  EXPECT_EQ(s.value(R"(mcu_http_requests_total{handler="web",code="2xx"})"), 1);
  EXPECT_EQ(s.value(R"(mcu_http_requests_total{handler="web",code="3xx"})"), 1);
  EXPECT_EQ(s.value(R"(mcu_http_requests_total{handler="web",code="4xx"})"), 2);
  EXPECT_EQ(s.value(R"(mcu_http_requests_total{handler="web",code="1xx"})"), 0);
  EXPECT_EQ(s.value(R"(mcu_http_requests_total{handler="api",code="2xx"})"), 1);
  EXPECT_EQ(s.value(R"(mcu_http_requests_total{handler="api",code="5xx"})"), 1);
  EXPECT_EQ(s.value(R"(mcu_http_requests_total{handler="metrics",code="4xx"})"), 1);
  int series = 0;
  for (const auto& [key, value] : s.samples) series += key.starts_with("mcu_http_requests_total");
  EXPECT_EQ(series, 15);  // 3 handlers x 5 classes, all present from the start
}

TEST(MetricsCountTest, ApiLatencyHistogramIsCumulative) {
  Metrics m;
  m.apiCall("GET", "/api/v1/me", 200, 3ms);
  m.apiCall("GET", "/api/v1/me", 200, 80ms);
  m.apiCall("POST", "/api/v1/meetings", 201, 3s);
  m.apiCall("GET", "/api/v1/units", 200, 20s);
  const Scrape s = parse(render(m, someCore()));
  const std::string b = "mcu_api_request_duration_seconds_bucket";
  EXPECT_EQ(s.value(b + R"({le="0.005"})"), 1);
  EXPECT_EQ(s.value(b + R"({le="0.05"})"), 1);
  EXPECT_EQ(s.value(b + R"({le="0.1"})"), 2);
  EXPECT_EQ(s.value(b + R"({le="2.5"})"), 2);
  EXPECT_EQ(s.value(b + R"({le="5"})"), 3);
  EXPECT_EQ(s.value(b + R"({le="10"})"), 3);
  EXPECT_EQ(s.value(b + R"({le="+Inf"})"), 4);
  EXPECT_EQ(s.value("mcu_api_request_duration_seconds_count"), 4);
  EXPECT_NEAR(s.value("mcu_api_request_duration_seconds_sum"), 23.083, 1e-9);
}

TEST(MetricsCountTest, OnlyRefusedLoginsAreLoginFailures) {
  Metrics m;
  m.apiCall("POST", "/api/v1/auth/login", 401, 100ms);
  m.apiCall("POST", "/api/v1/auth/login?lang=vi", 401, 100ms);
  m.apiCall("POST", "/api/v1/auth/login", 429, 1ms);
  m.apiCall("POST", "/api/v1/auth/login", 200, 100ms);
  m.apiCall("POST", "/api/v1/auth/login", 400, 1ms);   // a malformed body
  m.apiCall("GET", "/api/v1/auth/login", 401, 1ms);    // not a login
  m.apiCall("POST", "/api/v1/me/password", 401, 1ms);  // not a login either
  EXPECT_EQ(m.loginFailures(LoginFailure::kBadCredentials), 2u);
  EXPECT_EQ(m.loginFailures(LoginFailure::kRateLimited), 1u);
  const Scrape s = parse(render(m, someCore()));
  EXPECT_EQ(s.value(R"(mcu_login_failures_total{reason="bad_credentials"})"), 2);
  EXPECT_EQ(s.value(R"(mcu_login_failures_total{reason="rate_limited"})"), 1);
}

TEST(MetricsCountTest, ErrorsSentByProtocolCode) {
  Metrics m;
  m.errorSent(core::ErrorCode::kBadSdp);
  m.errorSent(core::ErrorCode::kBadSdp);
  m.errorSent(core::ErrorCode::kMeetingFull);
  const Scrape s = parse(render(m, someCore()));
  EXPECT_EQ(s.value(R"(mcu_signaling_errors_sent_total{code="bad_sdp"})"), 2);
  EXPECT_EQ(s.value(R"(mcu_signaling_errors_sent_total{code="meeting_full"})"), 1);
  // Every code has its series from the start, each once.
  for (auto code = core::ErrorCode::kBadJson; code <= core::ErrorCode::kInternal;
       code = static_cast<core::ErrorCode>(static_cast<int>(code) + 1)) {
    const std::string key =
        R"(mcu_signaling_errors_sent_total{code=")" + std::string(core::errorName(code)) + "\"}";
    EXPECT_TRUE(s.has(key)) << key;
  }
}

TEST(MetricsCountTest, JoinsAreCounted) {
  Metrics m;
  m.roomJoined();
  m.roomJoined();
  EXPECT_EQ(m.joins(), 2u);
}

// ---------------------------------------------------------------- the process and the endpoint

TEST(ProcessSampleTest, ReadsThisProcess) {
  const ProcessSample p = readProcessSample();
  EXPECT_GE(p.cpuSeconds, 0);
  ASSERT_TRUE(p.residentBytes);
  EXPECT_GT(*p.residentBytes, 0u);
  ASSERT_TRUE(p.virtualBytes);
  EXPECT_GE(*p.virtualBytes, *p.residentBytes);
  ASSERT_TRUE(p.openFds);
  EXPECT_GE(*p.openFds, 3u);  // stdin, stdout, stderr
  ASSERT_TRUE(p.startTimeSeconds);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(*p.startTimeSeconds, now + 1);
  EXPECT_GT(*p.startTimeSeconds, now - 24 * 3600);
}

TEST(MetricsEndpointTest, BearerToken) {
  EXPECT_TRUE(bearerTokenMatches("Bearer s3cret", "s3cret"));
  EXPECT_TRUE(bearerTokenMatches("bearer s3cret", "s3cret"));
  EXPECT_TRUE(bearerTokenMatches("BEARER   s3cret", "s3cret"));
  EXPECT_FALSE(bearerTokenMatches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(bearerTokenMatches("Bearer s3cret2", "s3cret"));
  EXPECT_FALSE(bearerTokenMatches("Bearer S3CRET", "s3cret"));
  EXPECT_FALSE(bearerTokenMatches("Basic s3cret", "s3cret"));
  EXPECT_FALSE(bearerTokenMatches("Bearers3cret", "s3cret"));
  EXPECT_FALSE(bearerTokenMatches("Bearer ", "s3cret"));
  EXPECT_FALSE(bearerTokenMatches("s3cret", "s3cret"));
  EXPECT_FALSE(bearerTokenMatches("", "s3cret"));
  EXPECT_FALSE(bearerTokenMatches("Bearer ", ""));
}

TEST(MetricsEndpointTest, OnlyTheMetricsPathWhenEnabled) {
  core::Config config;
  EXPECT_TRUE(isMetricsRequest(config, "/metrics"));
  EXPECT_TRUE(isMetricsRequest(config, "/metrics?x=1"));
  EXPECT_TRUE(isMetricsRequest(config, "/%6detrics"));
  EXPECT_FALSE(isMetricsRequest(config, "/metrics/"));
  EXPECT_FALSE(isMetricsRequest(config, "/metricsx"));
  EXPECT_FALSE(isMetricsRequest(config, "/api/metrics"));
  config.metrics.enabled = false;
  EXPECT_FALSE(isMetricsRequest(config, "/metrics"));
}

// An executor whose posted work never runs: a core executor that is stuck.
class StuckExecutor : public core::Executor {
 public:
  void post(std::function<void()> fn) override { held_.push_back(std::move(fn)); }

 private:
  std::vector<std::function<void()>> held_;
};

class InlineExecutor : public core::Executor {
 public:
  void post(std::function<void()> fn) override { fn(); }
};

TEST(MetricsEndpointTest, ServesTheExpositionWithTheCoreNumbers) {
  core::Config config;
  InlineExecutor executor;
  auto state = std::make_shared<ServerState>(config, executor);
  const ApiReply reply = serveMetrics(state, "GET", "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Content-Type"), kMetricsContentType);
  const Scrape s = parse(reply.body);
  EXPECT_EQ(s.value("mcu_websocket_connections"), 0);
  // No conference attached: the sessions are known, the conference numbers are not.
  EXPECT_EQ(s.value("mcu_metrics_conference_ok"), 0);
}

TEST(MetricsEndpointTest, AStuckCoreExecutorLeavesItsNumbersOut) {
  core::Config config;
  StuckExecutor executor;
  auto state = std::make_shared<ServerState>(config, executor);
  const ApiReply reply = serveMetrics(state, "GET", "");  // waits kMetricsCoreWait
  EXPECT_EQ(reply.status, 200);
  const Scrape s = parse(reply.body);
  EXPECT_EQ(s.value("mcu_metrics_conference_ok"), 0);
  EXPECT_FALSE(s.types.count("mcu_websocket_connections"));
  EXPECT_TRUE(s.types.count("process_cpu_seconds_total"));

  state->stopping = true;  // a stopping server does not wait the full time
  EXPECT_EQ(serveMetrics(state, "GET", "").status, 200);
}

TEST(MetricsEndpointTest, TheTokenAndTheMethodAreChecked) {
  core::Config config;
  config.metrics.token = "s3cret";
  InlineExecutor executor;
  auto state = std::make_shared<ServerState>(config, executor);
  const ApiReply refused = serveMetrics(state, "GET", "");
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.header("WWW-Authenticate"), "Bearer realm=\"metrics\"");
  EXPECT_EQ(serveMetrics(state, "GET", "Bearer wrong").status, 401);
  EXPECT_EQ(serveMetrics(state, "GET", "Bearer s3cret").status, 200);
  const ApiReply post = serveMetrics(state, "POST", "Bearer s3cret");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow"), "GET");
}

}  // namespace
}  // namespace mcu::signaling
