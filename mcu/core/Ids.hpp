#pragma once
// The identifiers and small enums every part of the conference model shares (Messages.hpp,
// SiteHealth.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcu::core {

using ConnectionId = std::uint64_t;
using ParticipantId = std::string;
// Client-chosen correlation id echoed in replies; absent when the client sent none.
using RequestId = std::optional<std::int64_t>;

enum class MediaKind { kAudio, kVideo };
std::string_view mediaKindName(MediaKind kind);

enum class LegState { kNew, kConnecting, kConnected, kDisconnected, kFailed, kClosed };
std::string_view legStateName(LegState state);

}  // namespace mcu::core
