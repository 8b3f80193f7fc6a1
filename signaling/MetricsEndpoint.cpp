#include "signaling/MetricsEndpoint.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <string>

#include "signaling/HttpRouter.hpp"
#include "signaling/Metrics.hpp"

namespace mcu::signaling {

namespace {

constexpr auto kStopPoll = std::chrono::milliseconds(50);

ApiReply plainReply(int status, std::string body) {
  return ApiReply{status,
                  std::move(body) + "\n",
                  {{"Content-Type", "text/plain; charset=utf-8"}, {"Cache-Control", "no-store"}}};
}

// Runs on the core executor, the only place the sessions and the conference may be read.
CoreSample sampleCore(ServerState& state) {
  CoreSample sample;
  sample.websocketConnections = state.sessions.size();
  if (state.stopping || !state.conference) return sample;
  const core::Conference& conference = *state.conference;
  ConferenceSample c;
  c.roomsWaiting = conference.waitingCount();
  c.joins = state.metrics.joins();
  for (const auto& meeting : conference.snapshot()) {
    MeetingSample m{meeting.code, meeting.rooms.size(), 0, {}};
    for (const auto& room : meeting.rooms) {
      if (room.legState == core::LegState::kConnected) ++m.mediaConnected;
    }
    for (const auto& r : meeting.rungs) {
      m.rungs.push_back(
          {std::to_string(r.width) + "x" + std::to_string(r.height), r.viewers, r.bytes});
    }
    c.meetings.push_back(std::move(m));
  }
  for (const auto& site : conference.sites().sites()) {
    ++c.sitesByState[site.meeting][static_cast<std::size_t>(site.state)];
  }
  sample.conference = std::move(c);
  return sample;
}

// Posts the read to the core executor and waits for it, giving up after kMetricsCoreWait or when
// the server stops (Server::stop() joins the pool this runs on).
std::optional<CoreSample> readCore(const std::shared_ptr<ServerState>& state) {
  auto promise = std::make_shared<std::promise<CoreSample>>();
  auto future = promise->get_future();
  state->coreExecutor.post([state, promise] { promise->set_value(sampleCore(*state)); });
  const auto deadline = std::chrono::steady_clock::now() + kMetricsCoreWait;
  while (future.wait_for(kStopPoll) != std::future_status::ready) {
    if (state->stopping || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
  }
  return future.get();
}

}  // namespace

bool isMetricsRequest(const core::Config& config, std::string_view target) {
  return config.metrics.enabled && decodePath(target) == std::optional<std::string>("/metrics");
}

bool bearerTokenMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "bearer";
  if (token.empty() || authorization.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  }
  auto given = authorization.substr(kScheme.size());
  const auto start = given.find_first_not_of(' ');
  if (start == 0 || start == std::string_view::npos) return false;  // "Bearerx", "Bearer "
  given.remove_prefix(start);
  return given.size() == token.size() &&
         CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

ApiReply serveMetrics(const std::shared_ptr<ServerState>& state, std::string_view method,
                      std::string_view authorization) {
  if (method != "GET") {
    ApiReply reply = plainReply(405, "method not allowed");
    reply.headers.emplace_back("Allow", "GET");
    return reply;
  }
  const std::string& token = state->config.metrics.token;
  if (!token.empty() && !bearerTokenMatches(authorization, token)) {
    ApiReply reply = plainReply(401, "a bearer token is required");
    reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"metrics\"");
    return reply;
  }
  const auto core = readCore(state);
  const double uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - state->started).count();
  return ApiReply{
      200,
      renderMetrics(state->metrics, readProcessSample(), core, uptime),
      {{"Content-Type", std::string(kMetricsContentType)}, {"Cache-Control", "no-store"}}};
}

}  // namespace mcu::signaling
