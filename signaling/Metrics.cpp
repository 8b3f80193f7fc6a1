#include "signaling/Metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "signaling/HttpRouter.hpp"

namespace mcu::signaling {

namespace {

constexpr std::array<std::string_view, 3> kHandlerNames{"web", "api", "metrics"};
constexpr std::array<std::string_view, 5> kStatusClasses{"1xx", "2xx", "3xx", "4xx", "5xx"};
constexpr std::array<std::string_view, 2> kLoginFailureNames{"bad_credentials", "rate_limited"};
constexpr std::string_view kLoginPath = "/api/v1/auth/login";

std::size_t errorIndex(core::ErrorCode code) {
  const auto i = static_cast<std::size_t>(code);
  return i < Metrics::kMaxErrorCodes ? i : static_cast<std::size_t>(core::ErrorCode::kInternal);
}

// The codes errorName() knows: every index up to kMaxErrorCodes whose name is not the fallback.
bool isKnownErrorIndex(std::size_t i) {
  const auto code = static_cast<core::ErrorCode>(i);
  return code == core::ErrorCode::kInternal || core::errorName(code) != "internal";
}

// ---------------------------------------------------------------- the text format

void appendNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, r.ptr);
  }
}

void appendNumber(std::string& out, std::uint64_t value) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

// A label value: backslash, double quote and line feed are escaped (format 0.0.4).
void appendLabelValue(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

struct Label {
  std::string_view name;
  std::string_view value;
};

class Exposition {
 public:
  // HELP and TYPE; every sample of the family must follow before the next family.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  template <typename T>
  void sample(std::string_view name, std::initializer_list<Label> labels, T value) {
    out_.append(name);
    if (labels.size()) {
      out_.push_back('{');
      bool first = true;
      for (const auto& label : labels) {
        if (!first) out_.push_back(',');
        first = false;
        out_.append(label.name).append("=\"");
        appendLabelValue(out_, label.value);
        out_.push_back('"');
      }
      out_.push_back('}');
    }
    out_.push_back(' ');
    appendNumber(out_, value);
    out_.push_back('\n');
  }
  template <typename T>
  void single(std::string_view name, std::string_view type, std::string_view help, T value) {
    family(name, type, help);
    sample(name, {}, value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string formatBound(double bound) {
  std::string s;
  appendNumber(s, bound);
  return s;
}

// ---------------------------------------------------------------- families

void renderProcess(Exposition& e, const ProcessSample& p) {
  e.single("process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.", p.cpuSeconds);
  if (p.residentBytes) {
    e.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
             *p.residentBytes);
  }
  if (p.virtualBytes) {
    e.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
             *p.virtualBytes);
  }
  if (p.openFds)
    e.single("process_open_fds", "gauge", "Number of open file descriptors.", *p.openFds);
  if (p.maxFds) {
    e.single("process_max_fds", "gauge", "Maximum number of open file descriptors.", *p.maxFds);
  }
  if (p.startTimeSeconds) {
    e.single("process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.", *p.startTimeSeconds);
  }
}

void renderHttp(Exposition& e, const Metrics& m) {
  e.family("mcu_http_requests_total", "counter",
           "HTTP requests answered, by handler (web: pages and files, api: REST API, metrics) and "
           "status class.");
  for (std::size_t h = 0; h < kHandlerNames.size(); ++h) {
    for (std::size_t c = 0; c < kStatusClasses.size(); ++c) {
      e.sample("mcu_http_requests_total",
               {{"handler", kHandlerNames[h]}, {"code", kStatusClasses[c]}},
               m.httpRequests(static_cast<HttpHandler>(h), static_cast<int>(c) + 1));
    }
  }
  const auto latency = m.apiLatency();
  e.family("mcu_api_request_duration_seconds", "histogram",
           "Time from a REST API request being read to its reply being ready, in seconds.");
  for (std::size_t b = 0; b < Metrics::kApiBuckets.size(); ++b) {
    const std::string le = formatBound(Metrics::kApiBuckets[b]);
    e.sample("mcu_api_request_duration_seconds_bucket", {{"le", le}}, latency.buckets[b]);
  }
  e.sample("mcu_api_request_duration_seconds_bucket", {{"le", "+Inf"}}, latency.buckets.back());
  e.sample("mcu_api_request_duration_seconds_sum", {}, latency.sumSeconds);
  e.sample("mcu_api_request_duration_seconds_count", {}, latency.buckets.back());
  e.family("mcu_login_failures_total", "counter",
           "Refused logins, by reason (bad_credentials, rate_limited).");
  for (std::size_t r = 0; r < kLoginFailureNames.size(); ++r) {
    e.sample("mcu_login_failures_total", {{"reason", kLoginFailureNames[r]}},
             m.loginFailures(static_cast<LoginFailure>(r)));
  }
}

void renderErrors(Exposition& e, const Metrics& m) {
  e.family("mcu_signaling_errors_sent_total", "counter",
           "Error messages sent to WebSocket clients, by protocol error code.");
  for (std::size_t i = 0; i < Metrics::kMaxErrorCodes; ++i) {
    if (!isKnownErrorIndex(i)) continue;
    e.sample("mcu_signaling_errors_sent_total",
             {{"code", core::errorName(static_cast<core::ErrorCode>(i))}}, m.errorsSent(i));
  }
}

void renderConference(Exposition& e, const ConferenceSample& c) {
  std::size_t rooms = 0;
  std::size_t connected = 0;
  for (const auto& meeting : c.meetings) {
    rooms += meeting.rooms;
    connected += meeting.mediaConnected;
  }
  // Every room that joined is either still in a meeting or has left.
  const std::uint64_t leaves = c.joins >= rooms ? c.joins - rooms : 0;
  e.single("mcu_joins_total", "counter", "Rooms that joined a meeting.", c.joins);
  e.single("mcu_leaves_total", "counter",
           "Rooms that left a meeting (by leaving, disconnecting, being removed or the meeting "
           "ending).",
           leaves);
  e.single("mcu_rooms_waiting", "gauge",
           "Rooms waiting for their meeting to open, or to be invited back.",
           static_cast<std::uint64_t>(c.roomsWaiting));
  e.single("mcu_meetings_live", "gauge", "Meetings with rooms in them.",
           static_cast<std::uint64_t>(c.meetings.size()));
  e.single("mcu_rooms", "gauge", "Rooms in live meetings.", static_cast<std::uint64_t>(rooms));
  e.single("mcu_rooms_media_connected", "gauge",
           "Rooms in live meetings whose media leg is connected.",
           static_cast<std::uint64_t>(connected));
  e.family("mcu_meeting_rooms", "gauge", "Rooms in a live meeting, by meeting code.");
  for (const auto& meeting : c.meetings) {
    e.sample("mcu_meeting_rooms", {{"meeting", meeting.code}},
             static_cast<std::uint64_t>(meeting.rooms));
  }
  e.family("mcu_meeting_rooms_media_connected", "gauge",
           "Rooms of a live meeting whose media leg is connected, by meeting code.");
  for (const auto& meeting : c.meetings) {
    e.sample("mcu_meeting_rooms_media_connected", {{"meeting", meeting.code}},
             static_cast<std::uint64_t>(meeting.mediaConnected));
  }
  // Per rung: a handful of sizes per meeting, so the labels stay bounded.
  e.family("mcu_video_encoded_bytes_total", "counter",
           "Bytes of the composite encoded for one output rung (sent once, to every viewer on it), "
           "by meeting and rung size, since the meeting's mixer started.");
  for (const auto& meeting : c.meetings) {
    for (const auto& r : meeting.rungs) {
      e.sample("mcu_video_encoded_bytes_total", {{"meeting", meeting.code}, {"rung", r.name}},
               r.bytes);
    }
  }
  e.family("mcu_video_rung_viewers", "gauge",
           "Rooms receiving one output rung of the composite, by meeting and rung size.");
  for (const auto& meeting : c.meetings) {
    for (const auto& r : meeting.rungs) {
      e.sample("mcu_video_rung_viewers", {{"meeting", meeting.code}, {"rung", r.name}},
               static_cast<std::uint64_t>(r.viewers));
    }
  }
  e.family("mcu_sites", "gauge",
           "Sites (rooms as the technicians' monitor sees them) by meeting and health state; "
           "sites that dropped count as red for two minutes.");
  static const char* kStates[] = {"green", "amber", "red"};
  for (const auto& [meeting, counts] : c.sitesByState) {
    for (std::size_t i = 0; i < 3; ++i) {
      e.sample("mcu_sites", {{"meeting", meeting}, {"state", kStates[i]}},
               static_cast<std::uint64_t>(counts[i]));
    }
  }
}

// ---------------------------------------------------------------- /proc

std::optional<std::string> readText(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

std::optional<double> processStartTime() {
  const auto stat = readText("/proc/self/stat");
  const auto system = readText("/proc/stat");
  if (!stat || !system) return std::nullopt;
  // Field 22 (starttime, in clock ticks after boot) counts from the one after the command name,
  // which is in parentheses and may itself contain spaces.
  const auto close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat->substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  const auto btimeAt = system->find("\nbtime ");
  if (!fields || btimeAt == std::string::npos) return std::nullopt;
  const double ticks = std::strtod(field.c_str(), nullptr);
  const double bootTime = std::strtod(system->c_str() + btimeAt + 7, nullptr);
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (hz <= 0) return std::nullopt;
  return bootTime + ticks / static_cast<double>(hz);
}

}  // namespace

// ---------------------------------------------------------------- counting

void Metrics::httpRequest(HttpHandler handler, int status) {
  const int statusClass = status / 100;
  if (statusClass < 1 || statusClass > 5) return;
  http_[static_cast<std::size_t>(handler)][statusClass - 1].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::apiCall(std::string_view method, std::string_view target, int status,
                      std::chrono::nanoseconds latency) {
  const double seconds = std::chrono::duration<double>(latency).count();
  std::size_t bucket = 0;
  while (bucket < kApiBuckets.size() && seconds > kApiBuckets[bucket]) ++bucket;
  apiBuckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  apiNanos_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(latency.count(), 0)),
                      std::memory_order_relaxed);
  if ((status != 401 && status != 429) || method != "POST") return;
  if (decodePath(target) != std::optional<std::string>(kLoginPath)) return;
  const auto reason = status == 401 ? LoginFailure::kBadCredentials : LoginFailure::kRateLimited;
  loginFailures_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::errorSent(core::ErrorCode code) {
  errors_[errorIndex(code)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t Metrics::httpRequests(HttpHandler handler, int statusClass) const {
  if (statusClass < 1 || statusClass > 5) return 0;
  return http_[static_cast<std::size_t>(handler)][statusClass - 1].load(std::memory_order_relaxed);
}

std::uint64_t Metrics::loginFailures(LoginFailure reason) const {
  return loginFailures_[static_cast<std::size_t>(reason)].load(std::memory_order_relaxed);
}

std::uint64_t Metrics::errorsSent(std::size_t codeIndex) const {
  return codeIndex < errors_.size() ? errors_[codeIndex].load(std::memory_order_relaxed) : 0;
}

Metrics::Histogram Metrics::apiLatency() const {
  Histogram h;
  std::uint64_t total = 0;
  for (std::size_t b = 0; b < apiBuckets_.size(); ++b) {
    total += apiBuckets_[b].load(std::memory_order_relaxed);
    h.buckets[b] = total;
  }
  h.sumSeconds = static_cast<double>(apiNanos_.load(std::memory_order_relaxed)) / 1e9;
  return h;
}

// ---------------------------------------------------------------- reading the process

ProcessSample readProcessSample() {
  ProcessSample p;
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) {
    p.cpuSeconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                   static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  if (const auto statm = readText("/proc/self/statm")) {
    std::istringstream in(*statm);
    std::uint64_t sizePages = 0;
    std::uint64_t residentPages = 0;
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    if (in >> sizePages >> residentPages) {
      p.virtualBytes = sizePages * page;
      p.residentBytes = residentPages * page;
    }
  }
  std::error_code ec;
  std::uint64_t fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  if (!ec) p.openFds = fds;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    p.maxFds = limit.rlim_cur;
  }
  p.startTimeSeconds = processStartTime();
  return p;
}

// ---------------------------------------------------------------- the exposition

std::string renderMetrics(const Metrics& metrics, const ProcessSample& process,
                          const std::optional<CoreSample>& core, double uptimeSeconds) {
  Exposition e;
  renderProcess(e, process);
  e.single("mcu_uptime_seconds", "gauge", "Seconds since the signaling server was created.",
           uptimeSeconds);
  const bool conferenceOk = core && core->conference;
  e.single("mcu_metrics_conference_ok", "gauge",
           "1 when this scrape has current conference numbers; 0 when the core executor did not "
           "answer in time (the conference metrics are then left out).",
           static_cast<std::uint64_t>(conferenceOk ? 1 : 0));
  if (core) {
    e.single("mcu_websocket_connections", "gauge", "Open WebSocket connections.",
             static_cast<std::uint64_t>(core->websocketConnections));
  }
  renderHttp(e, metrics);
  renderErrors(e, metrics);
  if (conferenceOk) renderConference(e, *core->conference);
  return e.take();
}

}  // namespace mcu::signaling
