#include "signaling/Protocol.hpp"

#include <climits>
#include <nlohmann/json.hpp>

#include "signaling/TimeFormat.hpp"

namespace mcu::signaling {

using core::ErrorCode;
using nlohmann::json;

namespace {

// ---------------------------------------------------------------- parsing helpers

// Reads the optional `id`. A present id of the wrong type cannot be echoed, so the error carries
// no id.
core::RequestId readId(const json& object) {
  const auto it = object.find("id");
  if (it == object.end()) return std::nullopt;
  if (!it->is_number_integer() ||
      (it->is_number_unsigned() &&
       it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))) {
    throw ProtocolError(std::nullopt, ErrorCode::kMissingField, "id must be an integer");
  }
  return it->get<std::int64_t>();
}

// Field accessors bound to one request so every error carries its id.
class Fields {
 public:
  Fields(const json& object, core::RequestId id) : object_(object), id_(id) {}

  const json* find(const char* name) const {
    const auto it = object_.find(name);
    return it == object_.end() ? nullptr : &*it;
  }
  [[noreturn]] void fail(ErrorCode code, const std::string& message) const {
    throw ProtocolError(id_, code, message);
  }
  const json& require(const char* name, bool (json::*isType)() const noexcept,
                      const char* typeName) const {
    const json* value = find(name);
    if (!value || !(value->*isType)()) {
      fail(ErrorCode::kMissingField, std::string(name) + " must be " + typeName);
    }
    return *value;
  }
  std::string string(const char* name) const {
    return require(name, &json::is_string, "a string").get<std::string>();
  }
  // An optional string: empty when absent.
  std::string optionalString(const char* name) const {
    const json* value = find(name);
    if (!value) return {};
    if (!value->is_string())
      fail(ErrorCode::kMissingField, std::string(name) + " must be a string");
    return value->get<std::string>();
  }

 private:
  const json& object_;
  core::RequestId id_;
};

bool fitsInt(const json& number) {
  if (number.is_number_unsigned()) return number.get<std::uint64_t>() <= INT_MAX;
  const auto value = number.get<std::int64_t>();
  return value >= INT_MIN && value <= INT_MAX;
}

// ---------------------------------------------------------------- one parser per request type

CommandBody parseJoin(const Fields& f) {
  // Checked first: a future version may shape its fields differently.
  if (const json* version = f.find("version")) {
    if (!version->is_number_integer() || version->get<std::int64_t>() != kProtocolVersion) {
      f.fail(ErrorCode::kUnsupportedVersion, "this server speaks protocol version 1");
    }
  }
  // A bridge point joins with its room-link secret (name and meeting come from the server); a
  // guest with a meeting code and a name.
  std::string room = f.optionalString("room");
  if (!room.empty()) {
    if (room.size() > 256) f.fail(ErrorCode::kBadField, "room is not a room-link secret");
    return JoinCommand{
        core::JoinRequest{f.optionalString("meeting"), f.optionalString("name"), std::move(room)}};
  }
  return JoinCommand{core::JoinRequest{f.string("meeting"), f.string("name"), {}}};
}

CommandBody parseAnswer(const Fields& f) {
  return AnswerCommand{f.string("sdp")};
}

CommandBody parseCandidate(const Fields& f) {
  std::string candidate = f.string("candidate");
  const json& index = f.require("sdpMLineIndex", &json::is_number_integer, "an integer");
  // Beyond int it cannot be a valid m-line index; the narrower range check is the core's.
  if (!fitsInt(index)) f.fail(ErrorCode::kBadCandidate, "sdpMLineIndex out of range");
  return CandidateCommand{index.get<int>(), std::move(candidate)};
}

CommandBody parseMute(const Fields& f) {
  const std::string kind = f.string("kind");
  const bool muted = f.require("muted", &json::is_boolean, "a boolean").get<bool>();
  if (kind == "audio") return MuteCommand{core::MediaKind::kAudio, muted};
  if (kind == "video") return MuteCommand{core::MediaKind::kVideo, muted};
  f.fail(ErrorCode::kBadField, "kind must be \"audio\" or \"video\"");
}

CommandBody parseBody(const std::string& type, const Fields& f) {
  if (type == "join") return parseJoin(f);
  if (type == "answer") return parseAnswer(f);
  if (type == "candidate") return parseCandidate(f);
  if (type == "mute") return parseMute(f);
  if (type == "leave") return LeaveCommand{};
  if (type == "ping") return PingCommand{};
  f.fail(ErrorCode::kUnknownType, "unknown message type");
}

// ---------------------------------------------------------------- serialising helpers

json withId(const char* type, const core::RequestId& id) {
  json out = {{"type", type}};
  if (id) out["id"] = *id;
  return out;
}

json participantJson(const core::RosterEntry& entry) {
  return {{"id", entry.id},
          {"name", entry.name},
          {"audioMuted", entry.audioMuted},
          {"videoMuted", entry.videoMuted}};
}

std::string text(const json& object) {
  return object.dump(-1, ' ', false, json::error_handler_t::replace);
}

// One overload per server message; std::visit picks the right one.
struct ToJson {
  json operator()(const core::JoinedMsg& m) const {
    json out = withId("joined", m.requestId);
    out["meeting"] = m.meeting;
    out["title"] = m.meetingTitle;
    out["you"] = m.you;
    out["roster"] = json::array();
    for (const auto& entry : m.roster) out["roster"].push_back(participantJson(entry));
    return out;
  }
  json operator()(const core::OfferMsg& m) const { return {{"type", "offer"}, {"sdp", m.sdp}}; }
  json operator()(const core::CandidateMsg& m) const {
    return {{"type", "candidate"}, {"candidate", m.candidate}, {"sdpMLineIndex", m.sdpMLineIndex}};
  }
  json operator()(const core::ParticipantJoinedMsg& m) const {
    return {{"type", "participant-joined"}, {"participant", participantJson(m.participant)}};
  }
  json operator()(const core::ParticipantLeftMsg& m) const {
    return {{"type", "participant-left"}, {"participant", m.id}};
  }
  json operator()(const core::ParticipantUpdatedMsg& m) const {
    return {{"type", "participant-updated"}, {"participant", participantJson(m.participant)}};
  }
  json operator()(const core::MediaStateMsg& m) const {
    return {{"type", "media-state"}, {"state", core::legStateName(m.state)}};
  }
  json operator()(const core::LeftMsg& m) const { return withId("left", m.requestId); }
  json operator()(const core::AckMsg& m) const { return withId("ack", m.requestId); }
  json operator()(const core::WaitingMsg& m) const {
    json out = withId("waiting", m.requestId);
    out["meeting"] = {{"code", m.meeting},
                      {"title", m.title},
                      {"startsAt", formatRfc3339(m.startsAt)},
                      {"state", m.state}};
    out["name"] = m.name;
    return out;
  }
  json operator()(const core::MeetingEndedMsg& m) const {
    return {{"type", "meeting-ended"}, {"meeting", m.meeting}, {"reason", m.reason}};
  }
  json operator()(const core::ErrorMsg& m) const {
    json out = withId("error", m.requestId);
    out["code"] = core::errorName(m.code);
    out["message"] = m.message;
    return out;
  }
};

}  // namespace

Command parseCommand(std::string_view frame) {
  const json object = json::parse(frame.begin(), frame.end(), nullptr, false);
  if (object.is_discarded()) {
    throw ProtocolError(std::nullopt, ErrorCode::kBadJson, "the frame is not valid JSON");
  }
  if (!object.is_object()) {
    throw ProtocolError(std::nullopt, ErrorCode::kBadJson, "the frame is not a JSON object");
  }
  const core::RequestId id = readId(object);
  const auto type = object.find("type");
  if (type == object.end() || !type->is_string()) {
    throw ProtocolError(id, ErrorCode::kUnknownType, "type must be a string");
  }
  return Command{id, parseBody(type->get<std::string>(), Fields(object, id))};
}

std::string serialize(const core::ServerMessage& message) {
  return text(std::visit(ToJson{}, message));
}

std::string serializePong(const core::RequestId& id) {
  return text(withId("pong", id));
}

}  // namespace mcu::signaling
