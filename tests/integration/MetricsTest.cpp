// GET /metrics of the real mcu-server: the exposition passes `promtool check metrics` (Debian
// package `prometheus`), counts the rooms of a meeting joined over the WebSocket, counts errors
// and refused logins, and is guarded by metrics.token when one is set. Also checks the shipped
// Prometheus scrape config with `promtool check config`, and that the shipped Grafana dashboard
// queries only metrics the server exposes. Waits are on conditions, never on sleeps alone.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/ServerProcess.hpp"
#include "tests/support/WsClient.hpp"

namespace mcu::testsupport {
namespace {

using nlohmann::json;
constexpr auto kWait = std::chrono::seconds(20);
constexpr const char* kPromtool = MCU_PROMTOOL;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

struct CommandResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command with `input` piped to its stdin.
CommandResult run(const std::string& command, const std::string& input = {}) {
  const std::string outPath = makeTempDir("mcu-command-") + "/out";
  FILE* pipe = ::popen((command + " > '" + outPath + "' 2>&1").c_str(), "w");
  if (!pipe) return {};
  std::fwrite(input.data(), 1, input.size(), pipe);
  const int status = ::pclose(pipe);
  CommandResult result{WIFEXITED(status) ? WEXITSTATUS(status) : -1, readFile(outPath)};
  std::filesystem::remove_all(std::filesystem::path(outPath).parent_path());
  return result;
}

// A missing promtool is a setup failure, not a skip.
void expectPromtool() {
  ASSERT_TRUE(std::filesystem::exists(kPromtool))
      << kPromtool << " is missing: install the Debian package prometheus (scripts/setup.sh)";
}

// ---------------------------------------------------------------- reading an exposition

// Samples by "name{labels}" exactly as the server writes them.
using Samples = std::map<std::string, double>;

Samples samplesOf(const std::string& text) {
  Samples samples;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

// The metric names a scrape offers to queries: every family, and a histogram's series.
std::set<std::string> queryableNames(const std::string& text) {
  std::set<std::string> names;
  const std::regex type(R"(# TYPE (\S+) (\S+))");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, type)) continue;
    names.insert(m[1]);
    if (m[2] == "histogram") {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) names.insert(m[1].str() + suffix);
    }
  }
  return names;
}

double valueOr(const Samples& samples, const std::string& key, double fallback) {
  const auto it = samples.find(key);
  return it == samples.end() ? fallback : it->second;
}

// ---------------------------------------------------------------- PromQL

// The metric names a PromQL expression (or a Grafana label_values() query) reads: label
// matchers, strings, ranges and grouping labels are cut out; what remains that is not a
// function, a keyword or a number is a metric name.
std::set<std::string> metricNamesIn(std::string expr) {
  const auto cut = [&](const char* pattern, const char* with = " ") {
    expr = std::regex_replace(expr, std::regex(pattern), with);
  };
  cut(R"("(\\.|[^"\\])*")");
  cut(R"(\{[^}]*\})");
  cut(R"(\[[^\]]*\])");
  cut(R"(label_values\s*\(([^,()]*),[^()]*\))", "$1");
  cut(R"(\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\))");
  static const std::set<std::string> kKeywords{
      "and", "or",       "unless",     "bool",        "offset", "by", "without",
      "on",  "ignoring", "group_left", "group_right", "inf",    "nan"};
  std::set<std::string> names;
  const std::regex identifier(R"([a-zA-Z_:][a-zA-Z0-9_:]*)");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), identifier);
       it != std::sregex_iterator(); ++it) {
    const std::string name = it->str();
    const auto at = static_cast<std::size_t>(it->position());
    const auto after = expr.find_first_not_of(' ', at + name.size());
    const bool isFunction = after != std::string::npos && expr[after] == '(';
    const bool inNumber =
        at > 0 && (std::isdigit(static_cast<unsigned char>(expr[at - 1])) || expr[at - 1] == '.');
    const bool isVariable = at > 0 && expr[at - 1] == '$';
    if (isFunction || inNumber || isVariable || kKeywords.count(name)) continue;
    names.insert(name);
  }
  return names;
}

// Every PromQL text of a Grafana dashboard: panel targets' `expr` and query variables' queries.
void collectQueries(const json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    if (node.contains("expr") && node["expr"].is_string()) out.push_back(node["expr"]);
    if (node.value("type", "") == "query" && node.contains("definition")) {
      out.push_back(node["definition"]);
    }
    for (const auto& [key, value] : node.items()) collectQueries(value, out);
  } else if (node.is_array()) {
    for (const auto& value : node) collectQueries(value, out);
  }
}

// ---------------------------------------------------------------- the server

// The real mcu-server with a config file of its own.
class MetricsServer {
 public:
  explicit MetricsServer(const std::string& config) {
    dir_ = makeTempDir("mcu-metrics-");
    writeFile(dir_ + "/mcu.json", config);
    port_ = process_.start(MCU_SERVER_BINARY, {"--config", dir_ + "/mcu.json", "--port", "0",
                                               "--state-dir", dir_ + "/state", "--web-root",
                                               MCU_WEB_ROOT, "--org-file", MCU_ORG_FILE});
  }
  ~MetricsServer() {
    process_.stop();
    std::filesystem::remove_all(dir_);
  }
  std::uint16_t port() const { return port_; }
  const std::string& dir() const { return dir_; }

  HttpsResponse scrape(const HttpHeaders& headers = {}) const {
    return httpsRequest(port_, "GET", "/metrics", kWait, headers);
  }
  // A scrape that must succeed, read back.
  Samples samples() const {
    const auto r = scrape();
    EXPECT_EQ(r.status, 200) << r.body;
    return samplesOf(r.body);
  }
  // Scrapes until `done` holds or the time is up; the last scrape either way.
  Samples waitFor(const std::function<bool(const Samples&)>& done) const {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    Samples s = samples();
    while (!done(s) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      s = samples();
    }
    return s;
  }

 private:
  ServerProcess process_;
  std::string dir_;
  std::uint16_t port_ = 0;
};

// promtool's verdict on one exposition, with its complaints in the failure message.
void expectPromtoolAccepts(const std::string& exposition) {
  expectPromtool();
  const auto result = run(std::string(kPromtool) + " check metrics", exposition);
  EXPECT_EQ(result.exitCode, 0) << "promtool check metrics:\n"
                                << result.output << "\non:\n"
                                << exposition;
}

std::unique_ptr<WsClient> connect(std::uint16_t port) {
  auto client = std::make_unique<WsClient>();
  client->connect(port, kWait);
  return client;
}

json receiveType(WsClient& client, const std::string& type) {
  const auto text = client.receiveUntil(
      [&](const std::string& t) { return json::parse(t).value("type", "") == type; }, kWait);
  return text ? json::parse(*text) : json();
}

const std::string kDemo = R"(mcu_meeting_rooms{meeting="demo"})";
const std::string kDemoConnected = R"(mcu_meeting_rooms_media_connected{meeting="demo"})";

// ---------------------------------------------------------------- default settings: no token

class MetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Rooms that never answer their offer stay in the meeting for the whole suite.
    server_ = new MetricsServer(R"({"limits": {"answerTimeoutMs": 600000}})");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static inline MetricsServer* server_ = nullptr;
};

TEST_F(MetricsTest, ScrapeIsPrometheusTextThatPromtoolAccepts) {
  const auto r = server_->scrape();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.contentType, "text/plain; version=0.0.4; charset=utf-8");
  expectPromtoolAccepts(r.body);
  const Samples s = samplesOf(r.body);
  EXPECT_EQ(valueOr(s, "mcu_metrics_conference_ok", -1), 1);
  EXPECT_GT(valueOr(s, "process_resident_memory_bytes", 0), 0);
  EXPECT_GT(valueOr(s, "process_open_fds", 0), 0);
  EXPECT_GT(valueOr(s, "process_start_time_seconds", 0), 1.7e9);
  EXPECT_GE(valueOr(s, "mcu_uptime_seconds", -1), 0);
}

TEST_F(MetricsTest, ThreeRoomsInDemoThenOneLeaves) {
  const Samples before = server_->samples();
  const double joins = before.at("mcu_joins_total");
  const double leaves = before.at("mcu_leaves_total");
  ASSERT_EQ(before.at("mcu_rooms"), 0);

  std::vector<std::unique_ptr<WsClient>> rooms;
  for (const char* name : {"Xã Bản Lầu", "Phường Cốc Lếu", "Thị trấn Sa Pa"}) {
    rooms.push_back(connect(server_->port()));
    rooms.back()->sendText(
        json({{"type", "join"}, {"id", 1}, {"meeting", "demo"}, {"name", name}}).dump());
    ASSERT_FALSE(receiveType(*rooms.back(), "joined").is_null()) << name;
  }

  const auto r = server_->scrape();
  ASSERT_EQ(r.status, 200);
  expectPromtoolAccepts(r.body);
  Samples s = samplesOf(r.body);
  EXPECT_EQ(valueOr(s, kDemo, -1), 3) << r.body;
  EXPECT_EQ(valueOr(s, "mcu_rooms", -1), 3);
  EXPECT_EQ(valueOr(s, "mcu_meetings_live", -1), 1);
  // Joined, not connected: nobody answered the offer.
  EXPECT_EQ(valueOr(s, kDemoConnected, -1), 0);
  EXPECT_EQ(valueOr(s, "mcu_rooms_media_connected", -1), 0);
  EXPECT_EQ(valueOr(s, "mcu_joins_total", -1), joins + 3);
  EXPECT_EQ(valueOr(s, "mcu_leaves_total", -1), leaves);
  EXPECT_GE(valueOr(s, "mcu_websocket_connections", -1), 3);
  // Every room is a site of the meeting (joined, its media not up yet: green or amber).
  double sites = 0;
  for (const char* state : {"green", "amber", "red"}) {
    sites += valueOr(s, std::string(R"(mcu_sites{meeting="demo",state=")") + state + "\"}", -100);
  }
  EXPECT_EQ(sites, 3) << r.body;
  // The meeting's three output rungs are there; nobody is connected, so nobody is on one.
  for (const char* rung : {"1280x720", "640x360", "320x180"}) {
    const std::string labels = std::string(R"({meeting="demo",rung=")") + rung + "\"}";
    EXPECT_EQ(valueOr(s, "mcu_video_rung_viewers" + labels, -1), 0) << rung << "\n" << r.body;
    EXPECT_GE(valueOr(s, "mcu_video_encoded_bytes_total" + labels, -1), 0) << rung;
  }

  rooms[0]->sendText(R"({"type":"leave","id":2})");
  ASSERT_FALSE(receiveType(*rooms[0], "left").is_null());
  s = server_->samples();
  EXPECT_EQ(valueOr(s, kDemo, -1), 2);
  EXPECT_EQ(valueOr(s, "mcu_rooms", -1), 2);
  EXPECT_EQ(valueOr(s, "mcu_joins_total", -1), joins + 3);
  EXPECT_EQ(valueOr(s, "mcu_leaves_total", -1), leaves + 1);

  // The others hang up; their rooms go once the server has seen the connections close.
  rooms[1]->close();
  rooms[2]->drop();
  s = server_->waitFor([](const Samples& x) { return valueOr(x, "mcu_rooms", -1) == 0; });
  EXPECT_EQ(valueOr(s, "mcu_rooms", -1), 0);
  EXPECT_EQ(valueOr(s, "mcu_meetings_live", -1), 0);
  EXPECT_FALSE(s.count(kDemo)) << "a meeting without rooms is not live";
  EXPECT_EQ(valueOr(s, "mcu_leaves_total", -1), leaves + 3);
}

TEST_F(MetricsTest, ErrorsSentToClientsAreCountedByCode) {
  const std::string key = R"(mcu_signaling_errors_sent_total{code="unknown_meeting"})";
  const double before = server_->samples().at(key);
  auto client = connect(server_->port());
  client->sendText(R"({"type":"join","id":1,"meeting":"no-such-meeting","name":"X"})");
  EXPECT_EQ(receiveType(*client, "error").value("code", ""), "unknown_meeting");
  EXPECT_EQ(server_->samples().at(key), before + 1);
  client->close();
}

TEST_F(MetricsTest, RequestsAndRefusedLoginsAreCounted) {
  const std::string refused = R"(mcu_login_failures_total{reason="bad_credentials"})";
  const std::string api4xx = R"(mcu_http_requests_total{handler="api",code="4xx"})";
  const std::string web2xx = R"(mcu_http_requests_total{handler="web",code="2xx"})";
  const std::string scrapes = R"(mcu_http_requests_total{handler="metrics",code="2xx"})";
  const Samples before = server_->samples();

  const auto login = httpsRequest(server_->port(), "POST", "/api/v1/auth/login", kWait,
                                  {{"Content-Type", "application/json"}},
                                  R"({"username": "admin", "password": "not the password"})");
  EXPECT_EQ(login.status, 401) << login.body;
  EXPECT_EQ(httpsRequest(server_->port(), "GET", "/healthz", kWait).status, 200);

  const Samples after = server_->samples();
  EXPECT_EQ(after.at(refused), before.at(refused) + 1);
  EXPECT_EQ(after.at(api4xx), before.at(api4xx) + 1);
  EXPECT_EQ(after.at(web2xx), before.at(web2xx) + 1);
  EXPECT_EQ(after.at(scrapes), before.at(scrapes) + 1);  // the scrape before this one
  const std::string count = "mcu_api_request_duration_seconds_count";
  EXPECT_EQ(after.at(count), before.at(count) + 1);
  EXPECT_EQ(after.at(R"(mcu_api_request_duration_seconds_bucket{le="+Inf"})"), after.at(count));
}

TEST_F(MetricsTest, ShippedPrometheusConfigPassesPromtool) {
  expectPromtool();
  const auto result = run(std::string(kPromtool) + " check config '" MCU_PROMETHEUS_CONFIG "'");
  EXPECT_EQ(result.exitCode, 0) << result.output;
  // It scrapes what the server serves: HTTPS, /metrics.
  const std::string text = readFile(MCU_PROMETHEUS_CONFIG);
  EXPECT_NE(text.find("scheme: https"), std::string::npos);
  EXPECT_NE(text.find("insecure_skip_verify: true"), std::string::npos);
  EXPECT_NE(text.find("metrics_path: /metrics"), std::string::npos);
}

TEST_F(MetricsTest, ShippedGrafanaDashboardQueriesOnlyExposedMetrics) {
  json dashboard;
  ASSERT_NO_THROW(dashboard = json::parse(readFile(MCU_GRAFANA_DASHBOARD)));
  std::vector<std::string> queries;
  collectQueries(dashboard, queries);
  ASSERT_GE(queries.size(), 10u);

  const auto r = server_->scrape();
  ASSERT_EQ(r.status, 200);
  std::set<std::string> exposed = queryableNames(r.body);
  exposed.insert("up");  // added by Prometheus itself to every target
  std::set<std::string> used;
  for (const auto& query : queries) {
    const auto names = metricNamesIn(query);
    EXPECT_FALSE(names.empty()) << "no metric in: " << query;
    for (const auto& name : names) {
      EXPECT_TRUE(exposed.count(name)) << name << " (in " << query << ") is not exposed";
      used.insert(name);
    }
  }
  for (const char* name : {"mcu_meeting_rooms", "mcu_rooms", "mcu_joins_total",
                           "mcu_signaling_errors_sent_total", "process_cpu_seconds_total"}) {
    EXPECT_TRUE(used.count(name)) << name << " has no panel";
  }
}

// The extraction the dashboard check relies on.
TEST(PromqlNamesTest, OnlyMetricNamesAreFound) {
  EXPECT_EQ(metricNamesIn(R"(histogram_quantile(0.95, sum by (le) (rate()"
                          R"(mcu_api_request_duration_seconds_bucket{job="$job",le!="1"})"
                          R"([$__rate_interval]))))"),
            std::set<std::string>{"mcu_api_request_duration_seconds_bucket"});
  EXPECT_EQ(metricNamesIn("sum(rate(mcu_joins_total[5m])) * 60 > 1e3 and on(instance) up"),
            (std::set<std::string>{"mcu_joins_total", "up"}));
  EXPECT_EQ(metricNamesIn(R"(label_values(mcu_meeting_rooms{instance=~"$instance"}, meeting))"),
            std::set<std::string>{"mcu_meeting_rooms"});
}

// ---------------------------------------------------------------- metrics.token

TEST(MetricsTokenTest, ScrapesWithoutTheTokenAreRefused) {
  MetricsServer server(R"({"metrics": {"token": "scrape-token-1"}})");
  EXPECT_EQ(server.scrape().status, 401);
  EXPECT_EQ(server.scrape({{"Authorization", "Bearer wrong-token"}}).status, 401);
  EXPECT_EQ(server.scrape({{"Authorization", "Bearer scrape-token-"}}).status, 401);
  EXPECT_EQ(server.scrape({{"Authorization", "Basic scrape-token-1"}}).status, 401);
  EXPECT_EQ(server.scrape({{"Authorization", "scrape-token-1"}}).status, 401);

  const auto r = server.scrape({{"Authorization", "Bearer scrape-token-1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  expectPromtoolAccepts(r.body);
  const Samples s = samplesOf(r.body);
  EXPECT_EQ(valueOr(s, R"(mcu_http_requests_total{handler="metrics",code="4xx"})", -1), 5);
  // The rest of the server is unaffected by the token.
  EXPECT_EQ(httpsRequest(server.port(), "GET", "/healthz", kWait).status, 200);
}

TEST(MetricsTokenTest, DisabledMetricsAreNotServed) {
  MetricsServer server(R"({"metrics": {"enabled": false}})");
  EXPECT_EQ(server.scrape().status, 404);
  EXPECT_EQ(httpsRequest(server.port(), "GET", "/healthz", kWait).status, 200);
}

// ---------------------------------------------------------------- logs

// The server's diagnostics are JSON lines on stderr, from its first to its last.
TEST(JsonLogTest, AStartupFailureIsOneJsonLine) {
  const std::string dir = makeTempDir("mcu-log-");
  writeFile(dir + "/bad.json", R"({"logLevel": "loud"})");
  const auto result = run(std::string("'" MCU_SERVER_BINARY "' --config '") + dir + "/bad.json'");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(result.exitCode, 1);
  std::istringstream lines(result.output);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    json j;
    ASSERT_NO_THROW(j = json::parse(line)) << line;
    EXPECT_EQ(j["level"], "error");
    EXPECT_EQ(j["logger"], "server");
    EXPECT_NE(j.value("msg", "").find("logLevel"), std::string::npos) << line;
  }
  EXPECT_EQ(count, 1) << result.output;
}

}  // namespace
}  // namespace mcu::testsupport
