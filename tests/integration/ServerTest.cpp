// The real mcu-server, spawned once for the suite, driven like a browser would drive it: HTTPS
// GETs and the /ws JSON protocol (docs/protocol.md). Every wait is on a condition with a generous
// timeout; nothing sleeps.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/ServerProcess.hpp"
#include "tests/support/WsClient.hpp"

namespace mcu::testsupport {
namespace {

using nlohmann::json;
constexpr auto kWait = std::chrono::seconds(20);

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stateDir_ = makeTempDir("mcu-integration-");
    server_ = new ServerProcess();
    port_ =
        server_->start(MCU_SERVER_BINARY, {"--port", "0", "--state-dir", stateDir_, "--web-root",
                                           MCU_WEB_ROOT, "--org-file", MCU_ORG_FILE});
  }
  static void TearDownTestSuite() {
    const int status = server_->stop();
    EXPECT_TRUE(WIFEXITED(status) || WIFSIGNALED(status));
    delete server_;
    server_ = nullptr;
    std::filesystem::remove_all(stateDir_);
  }

  // A connected client; fails the test (by exception) when the connection cannot be made.
  static std::unique_ptr<WsClient> connect() {
    auto client = std::make_unique<WsClient>();
    client->connect(port_, kWait);
    return client;
  }

  static json receiveJson(WsClient& client) {
    const auto text = client.receive(kWait);
    if (!text) return json();
    return json::parse(*text);
  }

  // The first message of the given type; other messages (candidates, media-state) are skipped.
  static json receiveType(WsClient& client, const std::string& type) {
    const auto text = client.receiveUntil(
        [&](const std::string& t) { return json::parse(t).value("type", "") == type; }, kWait);
    if (!text) return json();
    return json::parse(*text);
  }

  static inline ServerProcess* server_ = nullptr;
  static inline std::uint16_t port_ = 0;
  static inline std::string stateDir_;
};

// Sends one bad frame and checks the one error it earns.
void expectError(WsClient& client, const std::string& frame, const std::string& code,
                 std::optional<int> id) {
  client.sendText(frame);
  const auto text = client.receive(kWait);
  ASSERT_TRUE(text) << "no reply to " << frame;
  const json reply = json::parse(*text);
  EXPECT_EQ(reply.value("type", ""), "error") << frame << " -> " << *text;
  EXPECT_EQ(reply.value("code", ""), code) << frame << " -> " << *text;
  if (id) {
    EXPECT_EQ(reply.value("id", -1), *id) << frame << " -> " << *text;
  } else {
    EXPECT_FALSE(reply.contains("id")) << frame << " -> " << *text;
  }
  EXPECT_TRUE(reply["message"].is_string()) << *text;
}

TEST_F(ServerTest, HealthzOverTls) {
  const auto r = httpsRequest(port_, "GET", "/healthz", kWait);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType, "application/json");
  EXPECT_EQ(json::parse(r.body), json({{"status", "ok"}}));
}

TEST_F(ServerTest, HttpRefusals) {
  EXPECT_EQ(httpsRequest(port_, "POST", "/healthz", kWait).status, 405);
  EXPECT_EQ(httpsRequest(port_, "GET", "/../../etc/passwd", kWait).status, 404);
  EXPECT_EQ(httpsRequest(port_, "GET", "/%2e%2e/%2e%2e/etc/passwd", kWait).status, 404);
  EXPECT_EQ(httpsRequest(port_, "GET", "/no-such-file.js", kWait).status, 404);
}

TEST_F(ServerTest, JoinPageIsServed) {
  const auto r = httpsRequest(port_, "GET", "/join/demo", kWait);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType, "text/html; charset=utf-8");
}

TEST_F(ServerTest, PingIsAnsweredWithPong) {
  auto client = connect();
  client->sendText(R"({"type":"ping","id":42})");
  EXPECT_EQ(receiveJson(*client), json({{"type", "pong"}, {"id", 42}}));
}

TEST_F(ServerTest, BadInputIsAnsweredAndTheConnectionStillJoins) {
  auto client = connect();
  expectError(*client, R"({"type":"join",)", "bad_json", std::nullopt);
  expectError(*client, R"([{"type":"ping","id":1}])", "bad_json", std::nullopt);
  client->sendBinary(std::string("\x00\x01\x02", 3));
  const json binaryReply = receiveJson(*client);
  EXPECT_EQ(binaryReply.value("code", ""), "bad_json") << binaryReply;
  expectError(*client, R"({"type":"dance","id":1})", "unknown_type", 1);
  expectError(*client, R"({"id":2})", "unknown_type", 2);
  expectError(*client, R"({"type":"join","id":3,"meeting":"demo"})", "missing_field", 3);
  expectError(*client, R"({"type":"join","id":4,"meeting":7,"name":"X"})", "missing_field", 4);
  expectError(*client, R"({"type":"mute","id":5,"kind":"audio","muted":"yes"})", "missing_field",
              5);
  expectError(*client, R"({"type":"candidate","id":6,"candidate":"","sdpMLineIndex":"0"})",
              "missing_field", 6);
  expectError(*client, R"({"type":"join","id":7,"meeting":"demo","name":"X","version":2})",
              "unsupported_version", 7);
  expectError(*client, R"({"type":"join","id":8,"meeting":"no-such-meeting","name":"X"})",
              "unknown_meeting", 8);
  expectError(*client, R"({"type":"answer","id":9,"sdp":"v=0\r\n"})", "not_joined", 9);
  expectError(*client, R"({"type":"candidate","id":10,"candidate":"","sdpMLineIndex":0})",
              "not_joined", 10);
  expectError(*client, R"({"type":"mute","id":11,"kind":"screen","muted":true})", "bad_field", 11);
  expectError(*client, R"({"type":"join","id":12,"meeting":"demo","name":"   "})", "bad_field", 12);

  client->sendText(R"({"type":"join","id":13,"meeting":"demo","name":"Xã Bản Lầu","version":1})");
  const json joined = receiveJson(*client);
  ASSERT_EQ(joined.value("type", ""), "joined") << joined;
  EXPECT_EQ(joined["id"], 13);
  EXPECT_EQ(joined["meeting"], "demo");
  const std::string you = joined.value("you", "");
  bool listed = false;
  for (const auto& p : joined["roster"]) listed |= p["id"] == you && p["name"] == "Xã Bản Lầu";
  EXPECT_TRUE(listed) << joined;

  const json offer = receiveType(*client, "offer");
  ASSERT_EQ(offer.value("type", ""), "offer");
  const std::string sdp = offer.value("sdp", "");
  EXPECT_NE(sdp.find("m=video"), std::string::npos) << sdp;
  EXPECT_NE(sdp.find("m=audio"), std::string::npos) << sdp;

  client->sendText(R"({"type":"join","id":14,"meeting":"demo","name":"again"})");
  EXPECT_EQ(receiveType(*client, "error").value("code", ""), "already_joined");
  client->sendText(R"({"type":"leave","id":15})");
  EXPECT_EQ(receiveType(*client, "left"), json({{"type", "left"}, {"id", 15}}));
  client->close();
}

TEST_F(ServerTest, TooLargeMessageGetsAnErrorAndAClose) {
  auto client = connect();
  const std::string big =
      R"({"type":"answer","id":1,"sdp":")" + std::string(65 * 1024 + 100, 'a') + R"("})";
  client->sendText(big);
  const json reply = receiveJson(*client);
  EXPECT_EQ(reply.value("type", ""), "error") << reply;
  EXPECT_EQ(reply.value("code", ""), "too_large") << reply;
  ASSERT_TRUE(client->waitClosed(kWait));
  EXPECT_EQ(client->closeCode(), 1009);
}

TEST_F(ServerTest, OthersSeeAJoinAndAnAbruptDisconnect) {
  auto first = connect();
  first->sendText(R"({"type":"join","id":1,"meeting":"demo","name":"Xã Một"})");
  const json firstJoined = receiveType(*first, "joined");
  ASSERT_FALSE(firstJoined.is_null());
  const std::string firstId = firstJoined["you"];

  auto second = connect();
  second->sendText(R"({"type":"join","id":1,"meeting":"demo","name":"Phường Hai"})");
  const json secondJoined = receiveType(*second, "joined");
  ASSERT_FALSE(secondJoined.is_null());
  const std::string secondId = secondJoined["you"];
  bool seesFirst = false;
  for (const auto& p : secondJoined["roster"]) seesFirst |= p["id"] == firstId;
  EXPECT_TRUE(seesFirst) << secondJoined;

  const json arrived = receiveType(*first, "participant-joined");
  EXPECT_EQ(arrived["participant"]["id"], secondId) << arrived;
  EXPECT_EQ(arrived["participant"]["name"], "Phường Hai") << arrived;

  first->drop();
  const json gone = receiveType(*second, "participant-left");
  EXPECT_EQ(gone.value("participant", ""), firstId) << gone;
  second->close();
}

TEST_F(ServerTest, AServerThatSurvivedAllThatStillAnswers) {
  auto client = connect();
  client->sendText(R"({"type":"ping","id":1})");
  EXPECT_EQ(receiveJson(*client).value("type", ""), "pong");
  EXPECT_EQ(httpsRequest(port_, "GET", "/healthz", kWait).status, 200);
}

}  // namespace
}  // namespace mcu::testsupport
