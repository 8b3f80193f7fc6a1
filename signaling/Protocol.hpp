#pragma once
// The JSON wire format of docs/protocol.md, as pure functions: one client text frame in, one typed
// command out; one typed server message in, one JSON text out. No I/O, no Beast.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "mcu/core/Errors.hpp"
#include "mcu/core/Messages.hpp"

namespace mcu::signaling {

inline constexpr std::int64_t kProtocolVersion = 1;

struct JoinCommand {
  core::JoinRequest request;
};
struct AnswerCommand {
  std::string sdp;
};
struct CandidateCommand {
  int sdpMLineIndex = 0;
  std::string candidate;
};
struct MuteCommand {
  core::MediaKind kind = core::MediaKind::kAudio;
  bool muted = false;
};
struct LeaveCommand {};
struct PingCommand {};
struct HandCommand {
  bool raised = false;
};
struct RollCallAnswerCommand {};
struct ChairCommand {
  std::string token;
  std::string meeting;
};
struct ControlCommand {
  core::ControlRequest request;
};
struct StatsCommand {
  core::ClientStats stats;
};
struct TestReportCommand {
  core::TestReport report;
};
struct MonitorCommand {
  std::string token;
};
struct MonitorSiteCommand {
  std::string site;
};
struct MonitorActionCommand {
  std::string site;
  core::MonitorAction action = core::MonitorAction::kReconnect;
};

using CommandBody = std::variant<JoinCommand, AnswerCommand, CandidateCommand, MuteCommand,
                                 LeaveCommand, PingCommand, HandCommand, RollCallAnswerCommand,
                                 ChairCommand, ControlCommand, StatsCommand, MonitorCommand,
                                 MonitorSiteCommand, MonitorActionCommand, TestReportCommand>;

struct Command {
  core::RequestId id;
  CommandBody body;
};

// A client frame that is not a valid request. Carries the request id when the frame was an
// object with an integer `id`, so the error reply can echo it.
class ProtocolError : public core::RequestError {
 public:
  ProtocolError(core::RequestId id, core::ErrorCode code, const std::string& message)
      : core::RequestError(code, message), id_(id) {}
  const core::RequestId& id() const { return id_; }

 private:
  core::RequestId id_;
};

// Parses one text frame. Throws ProtocolError (bad_json, unknown_type, missing_field, bad_field,
// bad_candidate, unsupported_version). Semantic checks that need state or config (name length,
// meeting existence) are left to the conference model.
Command parseCommand(std::string_view text);

// One JSON object per message, as listed in docs/protocol.md. Never throws on content: strings
// that are not valid UTF-8 are replaced rather than rejected, since they come from our own side.
std::string serialize(const core::ServerMessage& message);
std::string serializePong(const core::RequestId& id);

}  // namespace mcu::signaling
