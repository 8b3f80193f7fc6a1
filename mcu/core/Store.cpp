#include "mcu/core/Store.hpp"

#include <array>
#include <utility>

namespace mcu::core {

namespace {

// The spellings are part of the stored data and of the protocol: never rename one.
constexpr std::array<std::pair<Role, std::string_view>, 3> kRoleNames = {{
    {Role::kAdmin, "admin"},
    {Role::kHost, "host"},
    {Role::kTechnician, "technician"},
}};

constexpr std::array<std::pair<MeetingState, std::string_view>, 5> kStateNames = {{
    {MeetingState::kScheduled, "scheduled"},
    {MeetingState::kOpen, "open"},
    {MeetingState::kLive, "live"},
    {MeetingState::kEnded, "ended"},
    {MeetingState::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<MeetingAccess, std::string_view>, 2> kAccessNames = {{
    {MeetingAccess::kInvited, "invited"},
    {MeetingAccess::kAnyone, "anyone"},
}};

template <typename Enum, std::size_t N>
std::string_view nameOf(const std::array<std::pair<Enum, std::string_view>, N>& names, Enum value) {
  for (const auto& [e, name] : names) {
    if (e == value) return name;
  }
  return "unknown";  // only for a value outside the enum, which is a bug upstream
}

template <typename Enum, std::size_t N>
std::optional<Enum> parse(const std::array<std::pair<Enum, std::string_view>, N>& names,
                          std::string_view name) {
  for (const auto& [e, n] : names) {
    if (n == name) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view roleName(Role role) {
  return nameOf(kRoleNames, role);
}

std::optional<Role> parseRole(std::string_view name) {
  return parse(kRoleNames, name);
}

std::string_view meetingStateName(MeetingState state) {
  return nameOf(kStateNames, state);
}

std::optional<MeetingState> parseMeetingState(std::string_view name) {
  return parse(kStateNames, name);
}

std::string_view meetingAccessName(MeetingAccess access) {
  return nameOf(kAccessNames, access);
}

std::optional<MeetingAccess> parseMeetingAccess(std::string_view name) {
  return parse(kAccessNames, name);
}

}  // namespace mcu::core
