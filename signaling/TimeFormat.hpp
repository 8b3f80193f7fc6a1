#pragma once
// RFC 3339 timestamps as the REST API writes and reads them. Pure functions, no time zone
// database: the API speaks UTC out and accepts explicit offsets in.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcu::signaling {

// "YYYY-MM-DDTHH:MM:SS[.f...](Z|+HH:MM|-HH:MM)" -> Unix seconds. Fractions of a second are
// truncated. Anything else (other separators, missing parts, leap seconds, impossible dates such
// as 2026-02-29, offsets beyond 23:59) gives nullopt.
std::optional<std::int64_t> parseRfc3339(std::string_view text);

// Unix seconds -> "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds).
std::string formatRfc3339(std::int64_t unixSeconds);

}  // namespace mcu::signaling
