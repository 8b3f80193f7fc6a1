#include "signaling/Protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mcu::signaling {
namespace {

using core::ErrorCode;
using nlohmann::json;

// The error a frame is refused with, as (code, echoed id).
struct Refusal {
  ErrorCode code;
  core::RequestId id;
};

Refusal refusalOf(std::string_view frame) {
  try {
    parseCommand(frame);
  } catch (const ProtocolError& e) {
    return {e.code(), e.id()};
  }
  ADD_FAILURE() << "accepted: " << frame;
  return {ErrorCode::kInternal, std::nullopt};
}

void expectRefused(std::string_view frame, ErrorCode code, core::RequestId id) {
  const Refusal r = refusalOf(frame);
  EXPECT_EQ(core::errorName(r.code), core::errorName(code)) << frame;
  EXPECT_EQ(r.id, id) << frame;
}

// ---------------------------------------------------------------- good requests

TEST(ProtocolParse, JoinWithARoomLinkNeedsNoNameOrMeeting) {
  const Command c = parseCommand(R"({"type":"join","id":3,"room":"s3cr3t-Abc_9"})");
  const auto& join = std::get<JoinCommand>(c.body);
  EXPECT_EQ(join.request.room, "s3cr3t-Abc_9");
  EXPECT_EQ(join.request.meeting, "");
  EXPECT_EQ(join.request.name, "");
  const Command d = parseCommand(R"({"type":"join","room":"s","meeting":"giao-ban"})");
  EXPECT_EQ(std::get<JoinCommand>(d.body).request.meeting, "giao-ban");
}

TEST(ProtocolParse, HandsRollCallAndChairs) {
  EXPECT_TRUE(std::get<HandCommand>(parseCommand(R"({"type":"hand","raised":true})").body).raised);
  EXPECT_NO_THROW(
      std::get<RollCallAnswerCommand>(parseCommand(R"({"type":"roll-call-answer","id":2})").body));
  const auto chair = std::get<ChairCommand>(
      parseCommand(R"({"type":"chair","token":"v1.a.b.c","meeting":"giao-ban"})").body);
  EXPECT_EQ(chair.token, "v1.a.b.c");
  EXPECT_EQ(chair.meeting, "giao-ban");
}

TEST(ProtocolParse, ControlActionsAndTheirFields) {
  using core::ControlAction;
  auto control = [](const std::string& frame) {
    return std::get<ControlCommand>(parseCommand(frame).body).request;
  };
  auto r = control(R"({"type":"control","action":"mute","room":"p3","muted":true})");
  EXPECT_EQ(r.action, ControlAction::kMute);
  EXPECT_EQ(r.room, "p3");
  EXPECT_TRUE(r.flag);
  r = control(R"({"type":"control","action":"mute-all","muted":true,"except":["p1","p2"]})");
  EXPECT_EQ(r.except, (std::vector<std::string>{"p1", "p2"}));
  r = control(R"({"type":"control","action":"layout","kind":"2+8"})");
  EXPECT_EQ(r.layout, "2+8");
  r = control(R"({"type":"control","action":"pin","seat":0,"room":"p1"})");
  EXPECT_EQ(r.seat, 0);
  r = control(R"({"type":"control","action":"roll-call","open":false})");
  EXPECT_EQ(r.action, ControlAction::kRollCall);
  EXPECT_FALSE(r.flag);
  r = control(R"({"type":"control","action":"invite-back","unitId":"lc.xa.ban-lau"})");
  EXPECT_EQ(r.unitId, "lc.xa.ban-lau");
  r = control(R"({"type":"control","action":"notice","text":"Nghỉ giải lao 10 phút"})");
  EXPECT_EQ(r.text, "Nghỉ giải lao 10 phút");
  EXPECT_EQ(control(R"({"type":"control","action":"revoke-floor"})").action,
            ControlAction::kRevokeFloor);
}

TEST(ProtocolParseErrors, ControlAndChairFields) {
  expectRefused(R"({"type":"control","id":1,"action":"explode"})", ErrorCode::kBadField, 1);
  expectRefused(R"({"type":"control","id":1})", ErrorCode::kMissingField, 1);
  expectRefused(R"({"type":"control","id":1,"action":"mute","room":"p1"})",
                ErrorCode::kMissingField, 1);
  expectRefused(R"({"type":"control","id":1,"action":"mute-all","muted":true,"except":"p1"})",
                ErrorCode::kMissingField, 1);
  expectRefused(R"({"type":"control","id":1,"action":"pin","seat":"0","room":"p1"})",
                ErrorCode::kMissingField, 1);
  expectRefused(R"({"type":"control","id":1,"action":"pin","seat":99999999999,"room":"p1"})",
                ErrorCode::kBadField, 1);
  expectRefused(R"({"type":"hand","id":1,"raised":"yes"})", ErrorCode::kMissingField, 1);
  expectRefused(R"({"type":"chair","id":1,"meeting":"x"})", ErrorCode::kMissingField, 1);
}

TEST(ProtocolParseErrors, JoinRoomOfWrongTypeOrSize) {
  expectRefused(R"({"type":"join","id":4,"room":5})", ErrorCode::kMissingField, 4);
  expectRefused(R"({"type":"join","id":4,"room":"s","meeting":7})", ErrorCode::kMissingField, 4);
  expectRefused(R"({"type":"join","id":4,"room":")" + std::string(300, 'a') + R"("})",
                ErrorCode::kBadField, 4);
  // An empty room secret is no room: a guest join then needs its fields.
  expectRefused(R"({"type":"join","id":4,"room":"","meeting":"demo"})", ErrorCode::kMissingField,
                4);
}

TEST(ProtocolParse, JoinWithVietnameseName) {
  const Command c =
      parseCommand(R"({"type":"join","id":1,"meeting":"demo","name":"Xã Bản Lầu","version":1})");
  EXPECT_EQ(c.id, 1);
  const auto& join = std::get<JoinCommand>(c.body);
  EXPECT_EQ(join.request.meeting, "demo");
  EXPECT_EQ(join.request.name, "Xã Bản Lầu");
}

TEST(ProtocolParse, JoinWithoutIdOrVersion) {
  const Command c = parseCommand(R"({"type":"join","meeting":"demo","name":"A"})");
  EXPECT_EQ(c.id, std::nullopt);
  EXPECT_TRUE(std::holds_alternative<JoinCommand>(c.body));
}

TEST(ProtocolParse, Answer) {
  const Command c = parseCommand(R"({"type":"answer","id":2,"sdp":"v=0\r\n"})");
  EXPECT_EQ(c.id, 2);
  EXPECT_EQ(std::get<AnswerCommand>(c.body).sdp, "v=0\r\n");
}

TEST(ProtocolParse, CandidateIgnoresExtraFields) {
  const Command c = parseCommand(
      R"({"type":"candidate","candidate":"candidate:1 1 UDP 1 127.0.0.1 5000 typ host",)"
      R"("sdpMLineIndex":1,"sdpMid":"1","usernameFragment":"x"})");
  const auto& cand = std::get<CandidateCommand>(c.body);
  EXPECT_EQ(cand.sdpMLineIndex, 1);
  EXPECT_EQ(cand.candidate, "candidate:1 1 UDP 1 127.0.0.1 5000 typ host");
}

TEST(ProtocolParse, EndOfCandidates) {
  const Command c = parseCommand(R"({"type":"candidate","candidate":"","sdpMLineIndex":0})");
  EXPECT_EQ(std::get<CandidateCommand>(c.body).candidate, "");
}

TEST(ProtocolParse, Mute) {
  const auto audio = parseCommand(R"({"type":"mute","id":3,"kind":"audio","muted":true})");
  EXPECT_EQ(std::get<MuteCommand>(audio.body).kind, core::MediaKind::kAudio);
  EXPECT_TRUE(std::get<MuteCommand>(audio.body).muted);
  const auto video = parseCommand(R"({"type":"mute","kind":"video","muted":false})");
  EXPECT_EQ(std::get<MuteCommand>(video.body).kind, core::MediaKind::kVideo);
  EXPECT_FALSE(std::get<MuteCommand>(video.body).muted);
}

TEST(ProtocolParse, LeaveAndPing) {
  EXPECT_TRUE(std::holds_alternative<LeaveCommand>(parseCommand(R"({"type":"leave"})").body));
  const Command ping = parseCommand(R"({"type":"ping","id":-7})");
  EXPECT_TRUE(std::holds_alternative<PingCommand>(ping.body));
  EXPECT_EQ(ping.id, -7);
}

TEST(ProtocolParse, LargeIds) {
  EXPECT_EQ(parseCommand(R"({"type":"ping","id":9223372036854775807})").id, INT64_MAX);
  EXPECT_EQ(parseCommand(R"({"type":"ping","id":-9223372036854775808})").id, INT64_MIN);
}

// ---------------------------------------------------------------- bad input

TEST(ProtocolParseErrors, MalformedJson) {
  expectRefused("", ErrorCode::kBadJson, std::nullopt);
  expectRefused("{", ErrorCode::kBadJson, std::nullopt);
  expectRefused(R"({"type":"join","id":5,)", ErrorCode::kBadJson, std::nullopt);
  expectRefused("hello", ErrorCode::kBadJson, std::nullopt);
  expectRefused(R"({"type":"ping"} trailing)", ErrorCode::kBadJson, std::nullopt);
}

TEST(ProtocolParseErrors, InvalidUtf8IsBadJson) {
  expectRefused("{\"type\":\"join\",\"meeting\":\"demo\",\"name\":\"\xC3\x28\"}",
                ErrorCode::kBadJson, std::nullopt);
}

TEST(ProtocolParseErrors, NotAnObject) {
  expectRefused("[]", ErrorCode::kBadJson, std::nullopt);
  expectRefused(R"([{"type":"ping","id":1}])", ErrorCode::kBadJson, std::nullopt);
  expectRefused("42", ErrorCode::kBadJson, std::nullopt);
  expectRefused(R"("join")", ErrorCode::kBadJson, std::nullopt);
  expectRefused("null", ErrorCode::kBadJson, std::nullopt);
}

TEST(ProtocolParseErrors, UnknownOrMissingType) {
  expectRefused(R"({"type":"dance","id":4})", ErrorCode::kUnknownType, 4);
  expectRefused(R"({"id":4})", ErrorCode::kUnknownType, 4);
  expectRefused(R"({"type":7,"id":4})", ErrorCode::kUnknownType, 4);
  expectRefused(R"({"type":"JOIN","id":4,"meeting":"demo","name":"A"})", ErrorCode::kUnknownType,
                4);
  expectRefused("{}", ErrorCode::kUnknownType, std::nullopt);
}

TEST(ProtocolParseErrors, IdOfWrongTypeCannotBeEchoed) {
  expectRefused(R"({"type":"ping","id":"1"})", ErrorCode::kMissingField, std::nullopt);
  expectRefused(R"({"type":"ping","id":1.5})", ErrorCode::kMissingField, std::nullopt);
  expectRefused(R"({"type":"ping","id":null})", ErrorCode::kMissingField, std::nullopt);
  expectRefused(R"({"type":"ping","id":18446744073709551615})", ErrorCode::kMissingField,
                std::nullopt);
}

TEST(ProtocolParseErrors, JoinMissingOrWrongTypedFields) {
  expectRefused(R"({"type":"join","id":6,"name":"A"})", ErrorCode::kMissingField, 6);
  expectRefused(R"({"type":"join","id":6,"meeting":"demo"})", ErrorCode::kMissingField, 6);
  expectRefused(R"({"type":"join","id":6,"meeting":1,"name":"A"})", ErrorCode::kMissingField, 6);
  expectRefused(R"({"type":"join","id":6,"meeting":"demo","name":["A"]})", ErrorCode::kMissingField,
                6);
  expectRefused(R"({"type":"join","id":6,"meeting":"demo","name":null})", ErrorCode::kMissingField,
                6);
}

TEST(ProtocolParseErrors, JoinBadVersion) {
  expectRefused(R"({"type":"join","id":7,"meeting":"demo","name":"A","version":2})",
                ErrorCode::kUnsupportedVersion, 7);
  expectRefused(R"({"type":"join","id":7,"meeting":"demo","name":"A","version":0})",
                ErrorCode::kUnsupportedVersion, 7);
  expectRefused(R"({"type":"join","id":7,"meeting":"demo","name":"A","version":"1"})",
                ErrorCode::kUnsupportedVersion, 7);
  expectRefused(R"({"type":"join","id":7,"meeting":"demo","name":"A","version":1.0})",
                ErrorCode::kUnsupportedVersion, 7);
  // The version is judged before the other fields: a v2 join may be shaped differently.
  expectRefused(R"({"type":"join","id":7,"version":2})", ErrorCode::kUnsupportedVersion, 7);
}

TEST(ProtocolParseErrors, AnswerFields) {
  expectRefused(R"({"type":"answer","id":8})", ErrorCode::kMissingField, 8);
  expectRefused(R"({"type":"answer","id":8,"sdp":{}})", ErrorCode::kMissingField, 8);
}

TEST(ProtocolParseErrors, CandidateFields) {
  expectRefused(R"({"type":"candidate","id":9,"sdpMLineIndex":0})", ErrorCode::kMissingField, 9);
  expectRefused(R"({"type":"candidate","id":9,"candidate":""})", ErrorCode::kMissingField, 9);
  expectRefused(R"({"type":"candidate","id":9,"candidate":"","sdpMLineIndex":"0"})",
                ErrorCode::kMissingField, 9);
  expectRefused(R"({"type":"candidate","id":9,"candidate":"","sdpMLineIndex":0.5})",
                ErrorCode::kMissingField, 9);
  expectRefused(R"({"type":"candidate","id":9,"candidate":5,"sdpMLineIndex":0})",
                ErrorCode::kMissingField, 9);
  expectRefused(R"({"type":"candidate","id":9,"candidate":"","sdpMLineIndex":4294967296})",
                ErrorCode::kBadCandidate, 9);
  expectRefused(R"({"type":"candidate","id":9,"candidate":"","sdpMLineIndex":-4294967296})",
                ErrorCode::kBadCandidate, 9);
}

TEST(ProtocolParseErrors, MuteFields) {
  expectRefused(R"({"type":"mute","id":10,"muted":true})", ErrorCode::kMissingField, 10);
  expectRefused(R"({"type":"mute","id":10,"kind":"audio"})", ErrorCode::kMissingField, 10);
  expectRefused(R"({"type":"mute","id":10,"kind":"audio","muted":1})", ErrorCode::kMissingField,
                10);
  expectRefused(R"({"type":"mute","id":10,"kind":"screen","muted":true})", ErrorCode::kBadField,
                10);
  expectRefused(R"({"type":"mute","id":10,"kind":"Audio","muted":true})", ErrorCode::kBadField, 10);
}

TEST(ProtocolParseErrors, DeeplyNestedInputIsRefusedNotCrashed) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  expectRefused(deep, ErrorCode::kBadJson, std::nullopt);
}

// ---------------------------------------------------------------- serialising

const core::RosterEntry kBanLau{"p3", "Xã Bản Lầu", false, true};

json parsed(const core::ServerMessage& message) {
  return json::parse(serialize(message));
}

TEST(ProtocolSerialize, Joined) {
  const json j = parsed(core::JoinedMsg{
      1, "demo", "Phòng họp thử nghiệm", "p3", {{"p1", "Xã A", true, false}, kBanLau}});
  EXPECT_EQ(j["type"], "joined");
  EXPECT_EQ(j["id"], 1);
  EXPECT_EQ(j["meeting"], "demo");
  EXPECT_EQ(j["title"], "Phòng họp thử nghiệm");
  EXPECT_EQ(j["you"], "p3");
  ASSERT_EQ(j["roster"].size(), 2u);
  EXPECT_EQ(j["roster"][0], json({{"id", "p1"},
                                  {"name", "Xã A"},
                                  {"audioMuted", true},
                                  {"videoMuted", false},
                                  {"chairMuted", false},
                                  {"handRaised", false},
                                  {"floor", false}}));
  EXPECT_EQ(j["roster"][1]["name"], "Xã Bản Lầu");
}

TEST(ProtocolSerialize, JoinedWithoutIdOmitsIt) {
  const json j = parsed(core::JoinedMsg{std::nullopt, "demo", "T", "p1", {}});
  EXPECT_FALSE(j.contains("id"));
  EXPECT_TRUE(j["roster"].is_array());
}

TEST(ProtocolSerialize, OfferAndCandidate) {
  EXPECT_EQ(parsed(core::OfferMsg{"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}),
            json({{"type", "offer"}, {"sdp", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}}));
  EXPECT_EQ(parsed(core::CandidateMsg{1, "candidate:1 1 UDP 5 10.0.0.1 4000 typ host"}),
            json({{"type", "candidate"},
                  {"candidate", "candidate:1 1 UDP 5 10.0.0.1 4000 typ host"},
                  {"sdpMLineIndex", 1}}));
}

TEST(ProtocolSerialize, ParticipantEvents) {
  EXPECT_EQ(parsed(core::ParticipantJoinedMsg{kBanLau}), json({{"type", "participant-joined"},
                                                               {"participant",
                                                                {{"id", "p3"},
                                                                 {"name", "Xã Bản Lầu"},
                                                                 {"audioMuted", false},
                                                                 {"videoMuted", true},
                                                                 {"chairMuted", false},
                                                                 {"handRaised", false},
                                                                 {"floor", false}}}}));
  EXPECT_EQ(parsed(core::ParticipantLeftMsg{"p3"}),
            json({{"type", "participant-left"}, {"participant", "p3"}}));
  const json updated = parsed(core::ParticipantUpdatedMsg{kBanLau});
  EXPECT_EQ(updated["type"], "participant-updated");
  EXPECT_EQ(updated["participant"]["videoMuted"], true);
}

TEST(ProtocolSerialize, MediaStates) {
  using core::LegState;
  const std::pair<LegState, const char*> states[] = {{LegState::kNew, "new"},
                                                     {LegState::kConnecting, "connecting"},
                                                     {LegState::kConnected, "connected"},
                                                     {LegState::kDisconnected, "disconnected"},
                                                     {LegState::kFailed, "failed"},
                                                     {LegState::kClosed, "closed"}};
  for (const auto& [state, name] : states) {
    EXPECT_EQ(parsed(core::MediaStateMsg{state}), json({{"type", "media-state"}, {"state", name}}));
  }
}

TEST(ProtocolSerialize, Replies) {
  EXPECT_EQ(parsed(core::LeftMsg{4}), json({{"type", "left"}, {"id", 4}}));
  EXPECT_EQ(parsed(core::AckMsg{3}), json({{"type", "ack"}, {"id", 3}}));
  EXPECT_EQ(parsed(core::AckMsg{std::nullopt}), json({{"type", "ack"}}));
  EXPECT_EQ(json::parse(serializePong(9)), json({{"type", "pong"}, {"id", 9}}));
  EXPECT_EQ(json::parse(serializePong(std::nullopt)), json({{"type", "pong"}}));
}

TEST(ProtocolSerialize, Errors) {
  EXPECT_EQ(parsed(core::ErrorMsg{5, ErrorCode::kUnknownMeeting, "no meeting with this code"}),
            json({{"type", "error"},
                  {"id", 5},
                  {"code", "unknown_meeting"},
                  {"message", "no meeting with this code"}}));
  const json noId = parsed(core::ErrorMsg{std::nullopt, ErrorCode::kTooLarge, "big"});
  EXPECT_FALSE(noId.contains("id"));
  EXPECT_EQ(noId["code"], "too_large");
}

TEST(ProtocolSerialize, WaitingAndMeetingEnded) {
  const json w = json::parse(serialize(
      core::WaitingMsg{5, "giao-ban", "Giao ban tuần", 1800000000, "scheduled", "xã Bản Lầu"}));
  EXPECT_EQ(w, json::parse(R"({"type":"waiting","id":5,"meeting":{"code":"giao-ban",
      "title":"Giao ban tuần","startsAt":"2027-01-15T08:00:00Z","state":"scheduled"},
      "name":"xã Bản Lầu"})"));
  const json e = json::parse(serialize(core::MeetingEndedMsg{"giao-ban", "cancelled"}));
  EXPECT_EQ(e,
            json::parse(R"({"type":"meeting-ended","meeting":"giao-ban","reason":"cancelled"})"));
}

TEST(ProtocolSerialize, ChairMessages) {
  core::MeetingStateMsg state;
  state.meeting = "giao-ban";
  state.title = "Giao ban";
  state.layoutKind = "speaker";
  state.canvasWidth = 1280;
  state.canvasHeight = 720;
  state.tiles = {core::TilePlacement{"p1", "xã A", core::Rect{0, 0, 960, 540}}};
  state.speaker = "p1";
  state.hands = {"p2"};
  state.rollCallOpen = true;
  state.rollCallAnswered = {"p1"};
  core::RosterEntry entry{"p1", "xã A", false, false, true, false, true};
  state.rooms = {
      core::MeetingStateMsg::Room{entry, "lc.xa.a", true, 35, core::LegState::kConnected}};
  state.pins = {{0, "p1"}};
  state.barred = {{"lc.xa.b", "xã B"}, {"", "Khách"}};
  EXPECT_EQ(json::parse(serialize(state)), json::parse(R"({
      "type":"meeting-state","meeting":"giao-ban","title":"Giao ban","locked":false,
      "layout":{"kind":"speaker","canvas":{"width":1280,"height":720},
                "tiles":[{"source":"p1","label":"xã A","x":0,"y":0,"width":960,"height":540}]},
      "speaker":"p1","forced":null,"floor":null,"hands":["p2"],
      "rollCall":{"open":true,"answered":["p1"]},"notice":"",
      "rooms":[{"id":"p1","name":"xã A","audioMuted":false,"videoMuted":false,"chairMuted":true,
                "handRaised":false,"floor":true,"unitId":"lc.xa.a","sharing":true,"level":35,
                "media":"connected"}],
      "pins":[{"seat":0,"room":"p1"}],
      "barred":[{"unitId":"lc.xa.b","name":"xã B"},{"unitId":null,"name":"Khách"}]})"));
  EXPECT_EQ(json::parse(serialize(core::ChairJoinedMsg{4, "giao-ban", "Giao ban", "host", true})),
            json::parse(R"({"type":"chair-joined","id":4,"meeting":"giao-ban","title":"Giao ban",
                            "role":"host","canControl":true})"));
  EXPECT_EQ(json::parse(serialize(core::RollCallMsg{true})),
            json::parse(R"({"type":"roll-call","open":true})"));
  EXPECT_EQ(json::parse(serialize(core::VideoWantedMsg{false})),
            (json{{"type", "video-wanted"}, {"wanted", false}}));
  EXPECT_EQ(json::parse(serialize(core::VideoWantedMsg{true, 256, 144})),
            (json{{"type", "video-wanted"}, {"wanted", true}, {"width", 256}, {"height", 144}}));
  EXPECT_EQ(json::parse(serialize(core::NoticeMsg{"Nghỉ"})),
            json::parse(R"({"type":"notice","text":"Nghỉ"})"));
}

TEST(ProtocolSerialize, InvalidUtf8FromOurSideDoesNotThrow) {
  const std::string text = serialize(core::OfferMsg{"v=0\xC3\x28"});
  EXPECT_EQ(json::parse(text)["type"], "offer");
}

TEST(ProtocolRoundTrip, VietnameseNameSurvivesJoinAndRoster) {
  const std::string name = "Ủy ban nhân dân xã Bản Lầu – Mường Khương";
  const json request = {{"type", "join"}, {"id", 11}, {"meeting", "demo"}, {"name", name}};
  const Command c = parseCommand(request.dump());
  const auto& join = std::get<JoinCommand>(c.body);
  EXPECT_EQ(join.request.name, name);
  const json reply =
      parsed(core::JoinedMsg{c.id, "demo", "T", "p1", {{"p1", join.request.name, false, false}}});
  EXPECT_EQ(reply["roster"][0]["name"].get<std::string>(), name);
  EXPECT_EQ(reply["id"], 11);
  // Escaped and raw UTF-8 parse the same.
  const Command escaped =
      parseCommand(R"({"type":"join","meeting":"demo","name":"X\u00e3 B\u1ea3n L\u1ea7u"})");
  EXPECT_EQ(std::get<JoinCommand>(escaped.body).request.name, "Xã Bản Lầu");
}

}  // namespace
}  // namespace mcu::signaling

namespace mcu::signaling {
namespace {

// ---------------------------------------------------------------- monitoring

TEST(ProtocolParse, StatsFromARoomPage) {
  const Command c = parseCommand(
      R"({"type":"stats","rttMs":42.5,"lossInPercent":0.4,"jitterInMs":3,"fpsIn":24.9,
          "widthIn":1280,"heightIn":720,"freezes":2,"fpsOut":15,"widthOut":640,"heightOut":360,
          "micLevel":0.25,"candidateType":"srflx"})");
  const auto& s = std::get<StatsCommand>(c.body).stats;
  EXPECT_EQ(s.roundTripMs, 42.5);
  EXPECT_EQ(s.lossInPercent, 0.4);
  EXPECT_EQ(s.fpsIn, 24.9);
  EXPECT_EQ(s.widthIn, 1280);
  EXPECT_EQ(s.freezes, 2u);
  EXPECT_EQ(s.heightOut, 360);
  EXPECT_EQ(s.micLevel, 0.25);
  EXPECT_EQ(s.candidateType, "srflx");
  // Everything is optional: a page that knows nothing yet sends nothing but the type.
  const auto& empty = std::get<StatsCommand>(parseCommand(R"({"type":"stats"})").body).stats;
  EXPECT_FALSE(empty.roundTripMs);
  EXPECT_FALSE(empty.fpsIn);
  EXPECT_EQ(empty.widthIn, 0);
}

TEST(ProtocolParseErrors, StatsOutOfRange) {
  expectRefused(R"({"type":"stats","id":1,"lossInPercent":101})", ErrorCode::kBadField, 1);
  expectRefused(R"({"type":"stats","id":2,"rttMs":-1})", ErrorCode::kBadField, 2);
  expectRefused(R"({"type":"stats","id":3,"fpsIn":"25"})", ErrorCode::kMissingField, 3);
  expectRefused(R"({"type":"stats","id":4,"widthIn":1e9})", ErrorCode::kBadField, 4);
  expectRefused(R"({"type":"stats","id":5,"candidateType":"tcp"})", ErrorCode::kBadField, 5);
  expectRefused(R"({"type":"stats","id":6,"micLevel":2})", ErrorCode::kBadField, 6);
}

TEST(ProtocolParse, TestCallsAndTheirReports) {
  const auto room =
      std::get<JoinCommand>(parseCommand(R"({"type":"join","room":"s3cr3t","test":true})").body)
          .request;
  EXPECT_TRUE(room.test);
  EXPECT_EQ(room.room, "s3cr3t");
  const auto guest =
      std::get<JoinCommand>(parseCommand(R"({"type":"join","name":"Khách","test":true})").body)
          .request;
  EXPECT_TRUE(guest.test);
  EXPECT_EQ(guest.meeting, "");
  EXPECT_FALSE(
      std::get<JoinCommand>(parseCommand(R"({"type":"join","meeting":"m","name":"A"})").body)
          .request.test);
  expectRefused(R"({"type":"join","id":1,"name":"A"})", ErrorCode::kMissingField, 1);
  expectRefused(R"({"type":"join","id":2,"room":"s","test":"yes"})", ErrorCode::kMissingField, 2);

  const auto r =
      std::get<TestReportCommand>(
          parseCommand(
              R"({"type":"test-report","rttMs":12,"lossPercent":0.5,"kbpsIn":950,"kbpsOut":300,
          "camera":true,"cameraWidth":640,"cameraHeight":360,"microphone":true,
          "micLevel":0.42,"heardItself":true})")
              .body)
          .report;
  EXPECT_EQ(r.roundTripMs, 12);
  EXPECT_EQ(r.kbpsOut, 300);
  EXPECT_TRUE(r.camera);
  EXPECT_EQ(r.cameraHeight, 360);
  EXPECT_EQ(r.micLevel, 0.42);
  EXPECT_TRUE(r.heardItself);
  expectRefused(R"({"type":"test-report","id":3,"lossPercent":300})", ErrorCode::kBadField, 3);
  expectRefused(R"({"type":"test-report","id":4,"camera":1})", ErrorCode::kMissingField, 4);
}

TEST(ProtocolParse, MonitorRequests) {
  EXPECT_EQ(std::get<MonitorCommand>(parseCommand(R"({"type":"monitor","token":"t"})").body).token,
            "t");
  EXPECT_EQ(std::get<MonitorSiteCommand>(
                parseCommand(R"({"type":"monitor-site","site":"hop/unit:x"})").body)
                .site,
            "hop/unit:x");
  const auto a = std::get<MonitorActionCommand>(
      parseCommand(R"({"type":"monitor-action","site":"s","action":"restart-media"})").body);
  EXPECT_EQ(a.site, "s");
  EXPECT_EQ(a.action, core::MonitorAction::kRestartMedia);
  expectRefused(R"({"type":"monitor-action","id":7,"site":"s","action":"reboot"})",
                ErrorCode::kBadField, 7);
  expectRefused(R"({"type":"monitor","id":8})", ErrorCode::kMissingField, 8);
  expectRefused(R"({"type":"monitor-site","id":9,"site":3})", ErrorCode::kMissingField, 9);
}

TEST(ProtocolSerialize, MonitorMessages) {
  core::SiteView v;
  v.key = "hop/unit:x";
  v.participant = "p3";
  v.name = "Xã Y Tý";
  v.unitId = "x";
  v.present = true;
  v.media = core::LegState::kConnected;
  v.state = core::Health::kRed;
  v.reasons = {{"loss", core::Health::kRed, 5}};
  v.rung = "640x360";
  v.candidateType = "host";
  core::SiteSample s;
  s.atMs = 1000;
  s.kbpsIn = 800;
  s.lossPercent = 5;
  v.latest = s;
  const json state =
      json::parse(serialize(core::MonitorStateMsg{1000, 1'700'000'000'000, {{"hop", "Họp", {v}}}}));
  EXPECT_EQ(state["type"], "monitor-state");
  EXPECT_EQ(state["at"], 1'700'000'001'000);
  const json& site = state["meetings"][0]["sites"][0];
  EXPECT_EQ(site["key"], "hop/unit:x");
  EXPECT_EQ(site["state"], "red");
  EXPECT_EQ(site["media"], "connected");
  EXPECT_EQ(site["reasons"], json::parse(R"([{"metric":"loss","level":"red","value":5.0}])"));
  EXPECT_EQ(site["latest"]["at"], 1'700'000'001'000);
  EXPECT_EQ(site["latest"]["lossPercent"], 5.0);
  EXPECT_TRUE(site["latest"]["jitterMs"].is_null());
  EXPECT_FALSE(site.contains("history"));

  v.history = {s};
  v.events = {{2000, "red", "loss 5.0 %"}};
  const json one = json::parse(serialize(core::MonitorSiteMsg{4, 10, v}));
  EXPECT_EQ(one["id"], 4);
  EXPECT_EQ(one["site"]["history"][0]["at"], 1010);
  EXPECT_EQ(one["site"]["events"][0],
            json::parse(R"({"at":2010,"kind":"red","detail":"loss 5.0 %"})"));

  const json joined = json::parse(
      serialize(core::MonitorJoinedMsg{1, "technician", 2000, core::HealthThresholds{}}));
  EXPECT_EQ(joined["thresholds"]["lossPercent"], 1.0);
  EXPECT_EQ(joined["intervalMs"], 2000);
  EXPECT_EQ(json::parse(serialize(core::ReconnectMsg{})), json({{"type", "reconnect"}}));
  EXPECT_EQ(json::parse(serialize(core::RestartMediaMsg{})), json({{"type", "restart-media"}}));
}

}  // namespace
}  // namespace mcu::signaling
