#include "signaling/Protocol.hpp"

#include <algorithm>
#include <climits>
#include <map>
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
  bool test = false;
  if (const json* t = f.find("test")) {
    if (!t->is_boolean()) f.fail(ErrorCode::kMissingField, "test must be a boolean");
    test = t->get<bool>();
  }
  std::string room = f.optionalString("room");
  if (!room.empty()) {
    if (room.size() > 256) f.fail(ErrorCode::kBadField, "room is not a room-link secret");
    return JoinCommand{core::JoinRequest{f.optionalString("meeting"), f.optionalString("name"),
                                         std::move(room), test}};
  }
  // A guest's test call needs no meeting code.
  return JoinCommand{core::JoinRequest{
      test ? f.optionalString("meeting") : f.string("meeting"), f.string("name"), {}, test}};
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

bool boolean(const Fields& f, const char* name) {
  return f.require(name, &json::is_boolean, "a boolean").get<bool>();
}

CommandBody parseChair(const Fields& f) {
  std::string token = f.string("token");
  std::string meeting = f.string("meeting");
  if (token.size() > 1024) f.fail(ErrorCode::kBadField, "token is too long");
  return ChairCommand{std::move(token), std::move(meeting)};
}

CommandBody parseControl(const Fields& f) {
  using core::ControlAction;
  static const std::map<std::string, ControlAction, std::less<>> kActions = {
      {"mute", ControlAction::kMute},
      {"mute-all", ControlAction::kMuteAll},
      {"grant-floor", ControlAction::kGrantFloor},
      {"revoke-floor", ControlAction::kRevokeFloor},
      {"lower-hand", ControlAction::kLowerHand},
      {"force-big", ControlAction::kForceBig},
      {"clear-forced", ControlAction::kClearForced},
      {"layout", ControlAction::kLayout},
      {"pin", ControlAction::kPin},
      {"unpin", ControlAction::kUnpin},
      {"roll-call", ControlAction::kRollCall},
      {"lock", ControlAction::kLock},
      {"remove", ControlAction::kRemove},
      {"invite-back", ControlAction::kInviteBack},
      {"notice", ControlAction::kNotice},
  };
  const std::string action = f.string("action");
  const auto it = kActions.find(action);
  if (it == kActions.end()) f.fail(ErrorCode::kBadField, "unknown control action '" + action + "'");
  core::ControlRequest r;
  r.action = it->second;
  auto seat = [&] {
    const json& v = f.require("seat", &json::is_number_integer, "an integer");
    if (!fitsInt(v)) f.fail(ErrorCode::kBadField, "seat: 0..24");
    return v.get<int>();
  };
  switch (r.action) {
    case ControlAction::kMute:
      r.room = f.string("room");
      r.flag = boolean(f, "muted");
      break;
    case ControlAction::kMuteAll:
      r.flag = boolean(f, "muted");
      if (const json* except = f.find("except")) {
        if (!except->is_array()) f.fail(ErrorCode::kMissingField, "except must be an array");
        for (const auto& id : *except) {
          if (!id.is_string()) f.fail(ErrorCode::kMissingField, "except must hold strings");
          r.except.push_back(id.get<std::string>());
        }
      }
      break;
    case ControlAction::kGrantFloor:
    case ControlAction::kLowerHand:
    case ControlAction::kForceBig:
    case ControlAction::kRemove:
      r.room = f.string("room");
      break;
    case ControlAction::kRevokeFloor:
    case ControlAction::kClearForced:
      break;
    case ControlAction::kLayout:
      r.layout = f.string("kind");
      break;
    case ControlAction::kPin:
      r.seat = seat();
      r.room = f.string("room");
      break;
    case ControlAction::kUnpin:
      r.seat = seat();
      break;
    case ControlAction::kRollCall:
      r.flag = boolean(f, "open");
      break;
    case ControlAction::kLock:
      r.flag = boolean(f, "locked");
      break;
    case ControlAction::kInviteBack:
      r.unitId = f.find("unitId") ? f.string("unitId") : f.string("name");
      break;
    case ControlAction::kNotice:
      r.text = f.string("text");
      break;
  }
  return ControlCommand{std::move(r)};
}

// An optional number in 0..max (absent or null: none); a browser's measurement, so never
// negative, infinite or absurd.
std::optional<double> measurement(const Fields& f, const char* name, double max) {
  const json* v = f.find(name);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number()) f.fail(ErrorCode::kMissingField, std::string(name) + " must be a number");
  const double d = v->get<double>();
  if (!(d >= 0 && d <= max)) f.fail(ErrorCode::kBadField, std::string(name) + " is out of range");
  return d;
}

// Every field optional; numbers must be within what a browser can report.
CommandBody parseStats(const Fields& f) {
  core::ClientStats c;
  auto number = [&](const char* name, double max) { return measurement(f, name, max); };
  auto size = [&](const char* name) { return int(number(name, 16384).value_or(0)); };
  c.roundTripMs = number("rttMs", 600'000);
  c.lossInPercent = number("lossInPercent", 100);
  c.jitterInMs = number("jitterInMs", 600'000);
  c.fpsIn = number("fpsIn", 1000);
  c.widthIn = size("widthIn");
  c.heightIn = size("heightIn");
  if (auto freezes = number("freezes", 1e12)) c.freezes = std::uint64_t(*freezes);
  c.fpsOut = number("fpsOut", 1000);
  c.widthOut = size("widthOut");
  c.heightOut = size("heightOut");
  c.micLevel = number("micLevel", 1);
  c.candidateType = f.optionalString("candidateType");
  static const char* kTypes[] = {"", "host", "srflx", "prflx", "relay"};
  if (std::find(std::begin(kTypes), std::end(kTypes), c.candidateType) == std::end(kTypes)) {
    f.fail(ErrorCode::kBadField, "candidateType: host, srflx, prflx or relay");
  }
  return StatsCommand{std::move(c)};
}

CommandBody parseTestReport(const Fields& f) {
  core::TestReport r;
  auto number = [&](const char* name, double max) { return measurement(f, name, max); };
  auto flag = [&](const char* name) {
    const json* v = f.find(name);
    if (!v) return false;
    if (!v->is_boolean())
      f.fail(ErrorCode::kMissingField, std::string(name) + " must be a boolean");
    return v->get<bool>();
  };
  r.roundTripMs = number("rttMs", 600'000);
  r.lossPercent = number("lossPercent", 100);
  r.kbpsIn = number("kbpsIn", 1e6);
  r.kbpsOut = number("kbpsOut", 1e6);
  r.camera = flag("camera");
  r.cameraWidth = int(number("cameraWidth", 16384).value_or(0));
  r.cameraHeight = int(number("cameraHeight", 16384).value_or(0));
  r.microphone = flag("microphone");
  r.micLevel = number("micLevel", 1);
  r.heardItself = flag("heardItself");
  return TestReportCommand{r};
}

CommandBody parseMonitorAction(const Fields& f) {
  std::string site = f.string("site");
  const std::string action = f.string("action");
  if (action == "reconnect") {
    return MonitorActionCommand{std::move(site), core::MonitorAction::kReconnect};
  }
  if (action == "restart-media") {
    return MonitorActionCommand{std::move(site), core::MonitorAction::kRestartMedia};
  }
  f.fail(ErrorCode::kBadField, "action must be \"reconnect\" or \"restart-media\"");
}

CommandBody parseBody(const std::string& type, const Fields& f) {
  if (type == "join") return parseJoin(f);
  if (type == "answer") return parseAnswer(f);
  if (type == "candidate") return parseCandidate(f);
  if (type == "mute") return parseMute(f);
  if (type == "leave") return LeaveCommand{};
  if (type == "ping") return PingCommand{};
  if (type == "hand") return HandCommand{boolean(f, "raised")};
  if (type == "roll-call-answer") return RollCallAnswerCommand{};
  if (type == "chair") return parseChair(f);
  if (type == "control") return parseControl(f);
  if (type == "stats") return parseStats(f);
  if (type == "test-report") return parseTestReport(f);
  if (type == "monitor") {
    std::string token = f.string("token");
    if (token.size() > 1024) f.fail(ErrorCode::kBadField, "token is too long");
    return MonitorCommand{std::move(token)};
  }
  if (type == "monitor-site") return MonitorSiteCommand{f.string("site")};
  if (type == "monitor-action") return parseMonitorAction(f);
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
          {"videoMuted", entry.videoMuted},
          {"chairMuted", entry.chairMuted},
          {"handRaised", entry.handRaised},
          {"floor", entry.floor}};
}

json optionalId(const std::optional<core::ParticipantId>& id) {
  return id ? json(*id) : json(nullptr);
}

std::string text(const json& object) {
  return object.dump(-1, ' ', false, json::error_handler_t::replace);
}

json optionalNumber(const std::optional<double>& value) {
  return value ? json(*value) : json(nullptr);
}

json sampleJson(const core::SiteSample& s, std::int64_t offsetMs) {
  return {{"at", s.atMs + offsetMs},
          {"kbpsIn", s.kbpsIn},
          {"kbpsOut", s.kbpsOut},
          {"lossPercent", optionalNumber(s.lossPercent)},
          {"jitterMs", optionalNumber(s.jitterMs)},
          {"oneWayDelayMs", optionalNumber(s.oneWayDelayMs)},
          {"fpsIn", optionalNumber(s.fpsIn)},
          {"fpsOut", optionalNumber(s.fpsOut)},
          {"audioLevel", s.audioLevel},
          {"freezes", s.freezes},
          {"keyframeRequests", s.keyframeRequests},
          {"estimateKbps", optionalNumber(s.estimateKbps)}};
}

json siteJson(const core::SiteView& v, std::int64_t offsetMs, bool withHistory) {
  json reasons = json::array();
  for (const auto& r : v.reasons) {
    reasons.push_back(
        {{"metric", r.metric}, {"level", core::healthName(r.level)}, {"value", r.value}});
  }
  json out = {{"key", v.key},
              {"participant", v.participant},
              {"name", v.name},
              {"unitId", v.unitId},
              {"present", v.present},
              {"media", core::legStateName(v.media)},
              {"state", core::healthName(v.state)},
              {"reasons", std::move(reasons)},
              {"rung", v.rung},
              {"candidateType", v.candidateType},
              {"audioMuted", v.audioMuted},
              {"videoMuted", v.videoMuted},
              {"widthIn", v.widthIn},
              {"heightIn", v.heightIn},
              {"widthOut", v.widthOut},
              {"heightOut", v.heightOut},
              {"micLevel", optionalNumber(v.micLevel)},
              {"latest", v.latest ? sampleJson(*v.latest, offsetMs) : json(nullptr)}};
  if (withHistory) {
    json history = json::array();
    for (const auto& s : v.history) history.push_back(sampleJson(s, offsetMs));
    json events = json::array();
    for (const auto& e : v.events) {
      events.push_back({{"at", e.atMs + offsetMs}, {"kind", e.kind}, {"detail", e.detail}});
    }
    out["history"] = std::move(history);
    out["events"] = std::move(events);
  }
  return out;
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
  json operator()(const core::ChairJoinedMsg& m) const {
    json out = withId("chair-joined", m.requestId);
    out["meeting"] = m.meeting;
    out["title"] = m.title;
    out["role"] = m.role;
    out["canControl"] = m.canControl;
    return out;
  }
  json operator()(const core::MeetingStateMsg& m) const {
    json tiles = json::array();
    for (const auto& t : m.tiles) {
      tiles.push_back({{"source", t.participant},
                       {"label", t.label},
                       {"x", t.rect.x},
                       {"y", t.rect.y},
                       {"width", t.rect.width},
                       {"height", t.rect.height}});
    }
    json pins = json::array();
    for (const auto& [seat, room] : m.pins) pins.push_back({{"seat", seat}, {"room", room}});
    json barred = json::array();
    for (const auto& room : m.barred) {
      barred.push_back({{"unitId", room.unitId.empty() ? json(nullptr) : json(room.unitId)},
                        {"name", room.name}});
    }
    json rooms = json::array();
    for (const auto& r : m.rooms) {
      json room = participantJson(r.entry);
      room["unitId"] = r.unitId;
      room["sharing"] = r.sharing;
      room["level"] = r.level;
      room["media"] = core::legStateName(r.media);
      rooms.push_back(std::move(room));
    }
    return {{"type", "meeting-state"},
            {"meeting", m.meeting},
            {"title", m.title},
            {"locked", m.locked},
            {"layout",
             {{"kind", m.layoutKind},
              {"canvas", {{"width", m.canvasWidth}, {"height", m.canvasHeight}}},
              {"tiles", std::move(tiles)}}},
            {"speaker", optionalId(m.speaker)},
            {"forced", optionalId(m.forced)},
            {"floor", optionalId(m.floor)},
            {"hands", m.hands},
            {"rollCall", {{"open", m.rollCallOpen}, {"answered", m.rollCallAnswered}}},
            {"notice", m.notice},
            {"rooms", std::move(rooms)},
            {"pins", std::move(pins)},
            {"barred", std::move(barred)}};
  }
  json operator()(const core::RollCallMsg& m) const {
    return {{"type", "roll-call"}, {"open", m.open}};
  }
  json operator()(const core::NoticeMsg& m) const { return {{"type", "notice"}, {"text", m.text}}; }
  json operator()(const core::VideoWantedMsg& m) const {
    json out = {{"type", "video-wanted"}, {"wanted", m.wanted}};
    if (m.wanted && m.width > 0 && m.height > 0) {
      out["width"] = m.width;
      out["height"] = m.height;
    }
    return out;
  }
  json operator()(const core::MonitorJoinedMsg& m) const {
    json out = withId("monitor-joined", m.requestId);
    out["role"] = m.role;
    out["intervalMs"] = m.intervalMs;
    out["thresholds"] = {{"lossPercent", m.thresholds.lossPercent},
                         {"jitterMs", m.thresholds.jitterMs},
                         {"oneWayDelayMs", m.thresholds.oneWayDelayMs},
                         {"noMediaSeconds", m.thresholds.noMediaSeconds},
                         {"warnFraction", m.thresholds.warnFraction}};
    return out;
  }
  json operator()(const core::MonitorStateMsg& m) const {
    json meetings = json::array();
    for (const auto& meeting : m.meetings) {
      json sites = json::array();
      for (const auto& site : meeting.sites) {
        sites.push_back(siteJson(site, m.clockOffsetMs, false));
      }
      meetings.push_back(
          {{"code", meeting.code}, {"title", meeting.title}, {"sites", std::move(sites)}});
    }
    return {{"type", "monitor-state"},
            {"at", m.atMs + m.clockOffsetMs},
            {"meetings", std::move(meetings)}};
  }
  json operator()(const core::MonitorSiteMsg& m) const {
    json out = withId("monitor-site", m.requestId);
    out["site"] = siteJson(m.site, m.clockOffsetMs, true);
    return out;
  }
  json operator()(const core::ReconnectMsg&) const { return {{"type", "reconnect"}}; }
  json operator()(const core::RestartMediaMsg&) const { return {{"type", "restart-media"}}; }
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
