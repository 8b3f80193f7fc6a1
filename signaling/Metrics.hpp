#pragma once
// What GET /metrics reports (docs/architecture.md, "Metrics and logs"): the counters the
// signaling layer keeps as events pass through it, and the Prometheus text exposition (format
// 0.0.4) of one scrape. Counting is one relaxed atomic increment, callable from any thread;
// rendering is a pure function of the samples, unit-tested without a server.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcu/core/Errors.hpp"

namespace mcu::signaling {

// Label `handler` of mcu_http_requests_total.
enum class HttpHandler { kWeb, kApi, kMetrics };
// Label `reason` of mcu_login_failures_total.
enum class LoginFailure { kBadCredentials, kRateLimited };

class Metrics {
 public:
  // Upper bounds of mcu_api_request_duration_seconds, in seconds (a login hashes for ~0.1 s).
  static constexpr std::array<double, 11> kApiBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10};
  // Room for protocol error codes added later; a code beyond it counts as "internal".
  static constexpr std::size_t kMaxErrorCodes = 64;

  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void httpRequest(HttpHandler handler, int status);
  // One REST call answered: its latency, and a login failure when it was one.
  void apiCall(std::string_view method, std::string_view target, int status,
               std::chrono::nanoseconds latency);
  void errorSent(core::ErrorCode code);
  void roomJoined() { joins_.fetch_add(1, std::memory_order_relaxed); }

  std::uint64_t httpRequests(HttpHandler handler, int statusClass) const;
  std::uint64_t loginFailures(LoginFailure reason) const;
  std::uint64_t errorsSent(std::size_t codeIndex) const;
  std::uint64_t joins() const { return joins_.load(std::memory_order_relaxed); }
  struct Histogram {
    std::array<std::uint64_t, kApiBuckets.size() + 1> buckets{};  // cumulative; last: +Inf
    double sumSeconds = 0;
  };
  Histogram apiLatency() const;

 private:
  using Counter = std::atomic<std::uint64_t>;
  std::array<std::array<Counter, 5>, 3> http_{};  // [handler][status class 1xx..5xx]
  std::array<Counter, 2> loginFailures_{};
  std::array<Counter, kMaxErrorCodes> errors_{};
  Counter joins_{0};
  std::array<Counter, kApiBuckets.size() + 1> apiBuckets_{};  // not cumulative
  Counter apiNanos_{0};
};

// The conference's numbers, read on the core executor in one go so they agree with each other.
struct RungSample {
  std::string name;  // "1280x720"
  int viewers = 0;
  std::uint64_t bytes = 0;
};
struct MeetingSample {
  std::string code;
  std::size_t rooms = 0;
  std::size_t mediaConnected = 0;  // rooms whose media leg is connected
  std::vector<RungSample> rungs;   // best first
};
struct ConferenceSample {
  std::size_t roomsWaiting = 0;
  std::vector<MeetingSample> meetings;  // live meetings
  std::uint64_t joins = 0;              // Metrics::joins() as seen on the core executor
  // Sites by meeting and health state (green, amber, red); dropped ones still held red count,
  // so a meeting whose rooms all dropped is here while it is no longer live.
  std::map<std::string, std::array<std::size_t, 3>> sitesByState;
};
struct CoreSample {
  std::size_t websocketConnections = 0;
  std::optional<ConferenceSample> conference;  // absent while no conference is attached
};

// The process as /proc and getrusage() see it; fields it could not read stay absent.
struct ProcessSample {
  double cpuSeconds = 0;
  std::optional<std::uint64_t> residentBytes;
  std::optional<std::uint64_t> virtualBytes;
  std::optional<std::uint64_t> openFds;
  std::optional<std::uint64_t> maxFds;
  std::optional<double> startTimeSeconds;  // Unix time
};
ProcessSample readProcessSample();

// The whole exposition. `core` is absent when the core executor did not answer in time: the
// process and counter metrics are served and mcu_metrics_conference_ok says 0.
std::string renderMetrics(const Metrics& metrics, const ProcessSample& process,
                          const std::optional<CoreSample>& core, double uptimeSeconds);

// Content-Type of the exposition.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace mcu::signaling
