#pragma once
// Private to signaling/: GET /metrics, the Prometheus scrape (docs/architecture.md, "Metrics and
// logs"). HttpSession hands the request to serveMetrics() on the Server's API pool, never on an
// io thread: the scrape waits for the core executor.
#include <chrono>
#include <memory>
#include <string_view>

#include "mcu/core/Config.hpp"
#include "signaling/RestApi.hpp"
#include "signaling/ServerState.hpp"

namespace mcu::signaling {

// How long a scrape waits for the conference's numbers before serving without them.
inline constexpr auto kMetricsCoreWait = std::chrono::seconds(2);

// True for the metrics endpoint's path when the config enables it.
bool isMetricsRequest(const core::Config& config, std::string_view target);

// Checks the method and the bearer token (config metrics.token), reads the conference's numbers
// on the core executor (waiting up to kMetricsCoreWait) and renders the exposition.
ApiReply serveMetrics(const std::shared_ptr<ServerState>& state, std::string_view method,
                      std::string_view authorization);

// True when `authorization` is "Bearer <token>" (scheme case-insensitive). Compares in constant
// time for a given length.
bool bearerTokenMatches(std::string_view authorization, std::string_view token);

}  // namespace mcu::signaling
