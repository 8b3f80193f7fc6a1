// RestApi over the real AuthService and MeetingService on core::MemoryStore, with a fast fake
// Crypto, a settable Clock and the server's real org-tree parsers: requests in, replies out.
#include "signaling/RestApi.hpp"

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "mcu/core/MemoryStore.hpp"
#include "mcu/server/OrgTreeLoader.hpp"
#include "signaling/TimeFormat.hpp"
#include "tests/unit/core/FakeSecurity.hpp"

namespace mcu::signaling {
namespace {

using nlohmann::json;

// 2026-11-28T00:00:00Z
constexpr core::UnixTime kStart = 1795824000;
constexpr const char* kHostPassword = "host-password-1";
constexpr const char* kTechPassword = "tech-password-1";
constexpr const char* kNewPassword = "a-brand-new-password";

using core::testing::FakeCrypto;

class FakeClock final : public core::testing::FakeClock {
 public:
  FakeClock() : core::testing::FakeClock(kStart) {}
};

std::vector<core::Unit> parseUnits(const std::string& body, bool csv) {
  return csv ? server::parseOrgUnitsCsv(body) : server::parseOrgUnitsJson(body);
}

const char* const kTreeJson = R"({"units": [
  {"id": "lc", "name": "UBND tỉnh Lào Cai", "kind": "province"},
  {"id": "lc.so.yt", "name": "Sở Y tế", "kind": "department", "parent": "lc", "order": 10},
  {"id": "lc.xa.ban-lau", "name": "xã Bản Lầu", "kind": "commune", "parent": "lc", "order": 20},
  {"id": "lc.xa.a-lu", "name": "xã A Lù", "kind": "commune", "parent": "lc", "order": 21},
  {"id": "lc.phuong.kim-tan", "name": "phường Kim Tân", "kind": "ward", "parent": "lc",
   "order": 30}
]})";

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

json parse(const ApiReply& reply) {
  return json::parse(reply.body);
}

std::string errorCode(const ApiReply& reply) {
  const auto body = json::parse(reply.body, nullptr, false);
  if (!body.is_object() || !body.contains("error")) return "(no error: " + reply.body + ")";
  return body["error"].value("code", "(no code)");
}

std::string errorMessage(const ApiReply& reply) {
  return json::parse(reply.body)["error"].value("message", "");
}

// One server's worth of services and the API over them: an admin, a host and a technician
// logged in, a scheduled meeting inviting "lc.xa.ban-lau", and a room link for that unit.
struct World {
  World()
      : auth(store, crypto, clock),
        meetings(store, crypto, clock),
        api(auth, meetings, parseUnits,
            [this](std::int64_t before, std::size_t limit) { return store.audit(before, limit); }) {
    meetings.loadTree(server::parseOrgUnitsJson(kTreeJson));
    // Every new account has a one-time password: each replaces it before anything else.
    adminPassword = settle("admin", auth.bootstrapAdmin().value());
    adminToken = login("admin", adminPassword);
    hostId = createAccount("host1", "host", kHostPassword);
    techId = createAccount("tech1", "technician", kTechPassword);
    hostPassword = settle("host1", kHostPassword);
    techPassword = settle("tech1", kTechPassword);
    hostToken = login("host1", hostPassword);
    techToken = login("tech1", techPassword);
    const auto meeting = call("POST", "/api/v1/meetings", hostToken, meetingBody("world-1"));
    meetingId = parse(meeting).at("id").get<std::int64_t>();
    const auto link = call("POST", "/api/v1/units/lc.xa.ban-lau/room-link", hostToken);
    secret = parse(link).at("secret").get<std::string>();
  }

  ApiReply call(const std::string& method, const std::string& target, const std::string& token = {},
                const std::string& body = {}, const std::string& contentType = "application/json") {
    ApiRequest request;
    request.method = method;
    request.target = target;
    request.contentType = body.empty() ? std::string() : contentType;
    request.authorization = token.empty() ? std::string() : "Bearer " + token;
    request.clientAddress = "192.0.2.10";
    request.body = body;
    return api.handle(request);
  }

  std::string login(const std::string& username, const std::string& password) {
    const auto reply = call("POST", "/api/v1/auth/login", {},
                            json{{"username", username}, {"password", password}}.dump());
    EXPECT_EQ(reply.status, 200) << reply.body;
    return parse(reply).at("token").get<std::string>();
  }

  // Logs in with a one-time password and replaces it; returns the new password.
  std::string settle(const std::string& username, const std::string& oneTime) {
    const std::string token = login(username, oneTime);
    const std::string settled = oneTime + "-settled";
    const auto reply = call("POST", "/api/v1/me/password", token,
                            json{{"oldPassword", oneTime}, {"newPassword", settled}}.dump());
    EXPECT_EQ(reply.status, 204) << reply.body;
    return settled;
  }

  std::int64_t createAccount(const std::string& username, const std::string& role,
                             const std::string& password) {
    const auto reply =
        call("POST", "/api/v1/accounts", adminToken,
             json{{"username", username}, {"role", role}, {"password", password}}.dump());
    EXPECT_EQ(reply.status, 201) << reply.body;
    return parse(reply).at("account").at("id").get<std::int64_t>();
  }

  // A meeting an hour from now, for an hour, inviting `units`.
  static std::string meetingBody(const std::string& code = {},
                                 const std::vector<std::string>& units = {"lc.xa.ban-lau"}) {
    json body{{"title", "Giao ban"},
              {"startsAt", formatRfc3339(kStart + 3600)},
              {"endsAt", formatRfc3339(kStart + 7200)},
              {"invite", {{"units", units}}}};
    if (!code.empty()) body["code"] = code;
    return body.dump();
  }

  std::string meetingPath(const std::string& suffix = {}) const {
    return "/api/v1/meetings/" + std::to_string(meetingId) + suffix;
  }

  core::MemoryStore store;
  FakeCrypto crypto;
  FakeClock clock;
  core::AuthService auth;
  core::MeetingService meetings;
  RestApi api;
  std::string adminPassword, adminToken, hostToken, techToken, secret;
  std::string hostPassword, techPassword;
  std::int64_t hostId = 0, techId = 0, meetingId = 0;
};

class RestApiTest : public ::testing::Test {
 protected:
  ApiReply call(const std::string& method, const std::string& target, const std::string& token = {},
                const std::string& body = {}, const std::string& contentType = "application/json") {
    return w.call(method, target, token, body, contentType);
  }
  World w;
};

// ---------------------------------------------------------------- who may call what

struct MatrixRow {
  const char* method;
  const char* target;           // {meeting}, {host}, {secret} are filled in per world
  std::string body;             // {password} is the caller's own password
  std::array<int, 4> expected;  // no token, admin, host, technician
  std::function<void(World&)> setup = {};
};

TEST(RestApiRoles, EveryEndpointByRole) {
  const std::string loginBody =
      json{{"username", "host1"}, {"password", std::string(kHostPassword) + "-settled"}}.dump();
  const std::string passwordBody =
      json{{"oldPassword", "{password}"}, {"newPassword", kNewPassword}}.dump();
  const std::string newAccount = json{{"username", "new-user"}, {"role", "host"}}.dump();
  const std::string rename = json{{"displayName", "Người chủ trì"}}.dump();
  const std::string retitle = json{{"title", "Giao ban quý"}}.dump();
  auto open = [](World& w) {
    ASSERT_EQ(w.call("POST", w.meetingPath("/open"), w.adminToken).status, 200);
  };
  const std::vector<MatrixRow> rows{
      {"POST", "/api/v1/auth/login", loginBody, {200, 200, 200, 200}},
      {"POST", "/api/v1/auth/logout", "", {401, 204, 204, 204}},
      {"GET", "/api/v1/me", "", {401, 200, 200, 200}},
      {"POST", "/api/v1/me/password", passwordBody, {401, 204, 204, 204}},
      {"GET", "/api/v1/accounts", "", {401, 200, 403, 403}},
      {"POST", "/api/v1/accounts", newAccount, {401, 201, 403, 403}},
      {"PATCH", "/api/v1/accounts/{host}", rename, {401, 200, 403, 403}},
      {"GET", "/api/v1/units", "", {401, 200, 200, 200}},
      {"PUT", "/api/v1/units", kTreeJson, {401, 200, 403, 403}},
      {"GET", "/api/v1/room-links", "", {401, 200, 200, 403}},
      {"POST", "/api/v1/units/lc.so.yt/room-link", "", {401, 201, 201, 403}},
      {"DELETE", "/api/v1/units/lc.xa.ban-lau/room-link", "", {401, 204, 204, 403}},
      {"GET", "/api/v1/meetings", "", {401, 200, 200, 200}},
      {"POST", "/api/v1/meetings", World::meetingBody(), {401, 201, 201, 403}},
      {"GET", "/api/v1/meetings/{meeting}", "", {401, 200, 200, 200}},
      {"PATCH", "/api/v1/meetings/{meeting}", retitle, {401, 200, 200, 403}},
      {"POST", "/api/v1/meetings/{meeting}/open", "", {401, 200, 200, 403}},
      {"POST", "/api/v1/meetings/{meeting}/close", "", {401, 200, 200, 403}, open},
      {"POST", "/api/v1/meetings/{meeting}/cancel", "", {401, 200, 200, 403}},
      {"POST", "/api/v1/meetings/{meeting}/lock", "", {401, 200, 200, 403}},
      {"POST", "/api/v1/meetings/{meeting}/unlock", "", {401, 200, 200, 403}},
      {"GET", "/api/v1/meetings/{meeting}/roll", "", {401, 200, 200, 200}},
      {"GET", "/api/v1/audit", "", {401, 200, 403, 403}},
      {"GET", "/api/v1/room/{secret}", "", {200, 200, 200, 200}},
  };
  for (const auto& row : rows) {
    for (std::size_t role = 0; role < 4; ++role) {
      World w;  // fresh for each call: every row starts from the same state
      if (row.setup) row.setup(w);
      const std::array<std::string, 4> tokens{"", w.adminToken, w.hostToken, w.techToken};
      const std::array<std::string, 4> passwords{"", w.adminPassword, w.hostPassword,
                                                 w.techPassword};
      std::string target = replaceAll(row.target, "{meeting}", std::to_string(w.meetingId));
      target = replaceAll(target, "{host}", std::to_string(w.hostId));
      target = replaceAll(target, "{secret}", w.secret);
      const std::string body = replaceAll(row.body, "{password}", passwords[role]);
      const auto reply = w.call(row.method, target, tokens[role], body);
      static const char* const kRoles[] = {"no token", "admin", "host", "technician"};
      EXPECT_EQ(reply.status, row.expected[role])
          << row.method << " " << row.target << " as " << kRoles[role] << ": " << reply.body;
      if (reply.status == 401) {
        EXPECT_EQ(errorCode(reply), "unauthorized") << row.target;
      }
      if (reply.status == 403) {
        EXPECT_EQ(errorCode(reply), "forbidden") << row.target;
      }
      if (reply.status == 204) {
        EXPECT_EQ(reply.body, "") << row.target;
      }
    }
  }
}

// ---------------------------------------------------------------- replies and routing

TEST_F(RestApiTest, RepliesCarryJsonAndSecurityHeaders) {
  const auto reply = call("GET", "/api/v1/me", w.hostToken);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("Content-Type"), "application/json");
  EXPECT_EQ(reply.header("Cache-Control"), "no-store");
  EXPECT_EQ(reply.header("X-Content-Type-Options"), "nosniff");
  const auto me = parse(reply);
  EXPECT_EQ(me.at("id"), w.hostId);
  EXPECT_EQ(me.at("username"), "host1");
  EXPECT_EQ(me.at("role"), "host");
  EXPECT_EQ(me.at("disabled"), false);
  EXPECT_EQ(me.at("createdAt"), "2026-11-28T00:00:00Z");
  EXPECT_FALSE(me.contains("passwordHash"));

  const auto none = call("POST", "/api/v1/auth/logout", w.hostToken);
  EXPECT_EQ(none.status, 204);
  EXPECT_EQ(none.body, "");
  EXPECT_EQ(none.header("Content-Type"), "");
  EXPECT_EQ(none.header("Cache-Control"), "no-store");
  // The token is gone with the session.
  EXPECT_EQ(errorCode(call("GET", "/api/v1/me", w.hostToken)), "unauthorized");
}

TEST_F(RestApiTest, UnknownPathsAre404) {
  for (const auto* target :
       {"/api", "/api/", "/api/v1", "/api/v1/", "/api/v2/me", "/api/v1/nope", "/api/v1/me/",
        "/api/v1/meetings/1/bogus", "/api/v1//me", "/api/v1/%zz", "/api/v1/room/"}) {
    const auto reply = call("GET", target, w.adminToken);
    EXPECT_EQ(reply.status, 404) << target;
    EXPECT_EQ(errorCode(reply), "not_found") << target;
  }
}

TEST_F(RestApiTest, WrongMethodIs405WithAllow) {
  const std::map<std::pair<std::string, std::string>, std::string> cases{
      {{"DELETE", "/api/v1/meetings"}, "GET, POST"},
      {{"PUT", "/api/v1/meetings/1/open"}, "POST"},
      {{"GET", "/api/v1/auth/login"}, "POST"},
      {{"POST", "/api/v1/units"}, "GET, PUT"},
      {{"GET", "/api/v1/units/lc/room-link"}, "POST, DELETE"},
      {{"HEAD", "/api/v1/me"}, "GET"},
      {{"DELETE", "/api/v1/accounts/1"}, "PATCH"},
  };
  for (const auto& [request, allow] : cases) {
    // Without a token too: the method is wrong whoever asks.
    const auto reply = call(request.first, request.second);
    EXPECT_EQ(reply.status, 405) << request.second;
    EXPECT_EQ(errorCode(reply), "method_not_allowed");
    EXPECT_EQ(reply.header("Allow"), allow) << request.second;
  }
}

TEST_F(RestApiTest, PathIdsMustBeIntegers) {
  for (const auto* id :
       {"abc", "-1", "0", "1.5", "0x10", "+1", "1e3", "99999999999999999999", "%31%32abc"}) {
    const auto reply = call("GET", std::string("/api/v1/meetings/") + id, w.hostToken);
    EXPECT_EQ(reply.status, 404) << id;
    EXPECT_EQ(errorCode(reply), "not_found") << id;
  }
  EXPECT_EQ(errorCode(call("GET", "/api/v1/meetings/999", w.hostToken)), "not_found");
  EXPECT_EQ(errorCode(call("POST", "/api/v1/meetings/999/open", w.hostToken)), "not_found");
  EXPECT_EQ(errorCode(call("GET", "/api/v1/meetings/999/roll", w.hostToken)), "not_found");
  EXPECT_EQ(errorCode(call("PATCH", "/api/v1/accounts/999", w.adminToken, R"({"disabled":true})")),
            "not_found");
  EXPECT_EQ(errorCode(call("PATCH", "/api/v1/accounts/x", w.adminToken, R"({"disabled":true})")),
            "not_found");
  // The path is judged before the body.
  EXPECT_EQ(errorCode(call("PATCH", "/api/v1/meetings/abc", w.hostToken, "{")), "not_found");
  EXPECT_EQ(call("GET", w.meetingPath(), w.hostToken).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/meetings/%31", w.hostToken).status, 200);  // "1", escaped
}

TEST_F(RestApiTest, IsApiTargetAndBodyLimits) {
  EXPECT_TRUE(RestApi::isApiTarget("/api/v1/me"));
  EXPECT_TRUE(RestApi::isApiTarget("/api"));
  EXPECT_TRUE(RestApi::isApiTarget("/api?x"));
  EXPECT_TRUE(RestApi::isApiTarget("/api/whatever"));
  EXPECT_FALSE(RestApi::isApiTarget("/apiary"));
  EXPECT_FALSE(RestApi::isApiTarget("/"));
  EXPECT_FALSE(RestApi::isApiTarget("/host"));
  EXPECT_FALSE(RestApi::isApiTarget("/room/api/x"));
  EXPECT_EQ(RestApi::bodyLimit("PUT", "/api/v1/units"), 4u * 1024 * 1024);
  EXPECT_EQ(RestApi::bodyLimit("PUT", "/api/v1/units?x=1"), 4u * 1024 * 1024);
  EXPECT_EQ(RestApi::bodyLimit("GET", "/api/v1/units"), 64u * 1024);
  EXPECT_EQ(RestApi::bodyLimit("POST", "/api/v1/meetings"), 64u * 1024);
  const auto tooLarge = RestApi::errorReply(413, "too_large", "the request body is too large");
  EXPECT_EQ(tooLarge.status, 413);
  EXPECT_EQ(errorCode(tooLarge), "too_large");
  EXPECT_EQ(tooLarge.header("Content-Type"), "application/json");
  EXPECT_EQ(tooLarge.header("Cache-Control"), "no-store");
}

// ---------------------------------------------------------------- authentication

TEST_F(RestApiTest, MissingMalformedAndForgedTokens) {
  EXPECT_EQ(errorCode(call("GET", "/api/v1/me")), "unauthorized");
  const auto reply = call("GET", "/api/v1/me");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.header("WWW-Authenticate"), "Bearer");

  auto withAuthorization = [&](const std::string& value) {
    ApiRequest request{"GET", "/api/v1/me", "", value, "192.0.2.10", ""};
    return w.api.handle(request);
  };
  EXPECT_EQ(withAuthorization("Basic YWRtaW46YWRtaW4=").status, 401);
  EXPECT_EQ(withAuthorization("Bearer").status, 401);
  EXPECT_EQ(withAuthorization("Bearer ").status, 401);
  EXPECT_EQ(withAuthorization(w.hostToken).status, 401);              // no scheme
  EXPECT_EQ(withAuthorization("bearer " + w.hostToken).status, 200);  // scheme is case-blind

  const std::string token = w.hostToken;
  const auto lastDot = token.rfind('.');
  ASSERT_NE(lastDot, std::string::npos);
  const std::string forgedSignature = token.substr(0, lastDot + 1) + "sig12345";
  // A later expiry with the old signature.
  const auto expiryDot = token.rfind('.', lastDot - 1);
  const std::string longerLife =
      token.substr(0, expiryDot + 1) + "9999999999" + token.substr(lastDot);
  for (const auto& forged :
       {forgedSignature, longerLife, std::string("garbage"), std::string("v1...."), token + "x"}) {
    const auto r = call("GET", "/api/v1/me", forged);
    EXPECT_EQ(r.status, 401) << forged;
    EXPECT_EQ(errorCode(r), "unauthorized") << forged;
  }
  EXPECT_EQ(call("GET", "/api/v1/me", token).status, 200);
}

TEST_F(RestApiTest, ExpiredTokenIsTokenExpired) {
  EXPECT_EQ(call("GET", "/api/v1/me", w.hostToken).status, 200);
  w.clock.advance(core::AuthSettings{}.sessionTtlSeconds + 1);
  const auto reply = call("GET", "/api/v1/me", w.hostToken);
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(errorCode(reply), "token_expired");
}

TEST_F(RestApiTest, LoginReplyAndBadCredentials) {
  const auto reply = call("POST", "/api/v1/auth/login", {},
                          json{{"username", "tech1"}, {"password", w.techPassword}}.dump());
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto body = parse(reply);
  EXPECT_FALSE(body.at("token").get<std::string>().empty());
  EXPECT_EQ(body.at("expiresAt"), formatRfc3339(kStart + core::AuthSettings{}.sessionTtlSeconds));
  EXPECT_EQ(body.at("account").at("username"), "tech1");
  EXPECT_EQ(body.at("account").at("role"), "technician");

  for (const auto* credentials : {R"({"username": "tech1", "password": "wrong-password"})",
                                  R"({"username": "nobody", "password": "tech-password-1"})"}) {
    const auto bad = call("POST", "/api/v1/auth/login", {}, credentials);
    EXPECT_EQ(bad.status, 401);
    EXPECT_EQ(errorCode(bad), "bad_credentials");
  }
}

TEST_F(RestApiTest, LoginRateLimitGives429WithRetryAfter) {
  const std::string wrong = R"({"username": "host1", "password": "not-the-password"})";
  const int maxFailures = core::AuthSettings{}.maxFailures;
  for (int i = 0; i < maxFailures; ++i) {
    EXPECT_EQ(errorCode(call("POST", "/api/v1/auth/login", {}, wrong)), "bad_credentials") << i;
  }
  const auto limited = call("POST", "/api/v1/auth/login", {}, wrong);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(errorCode(limited), "rate_limited");
  const int retryAfter = std::stoi(limited.header("Retry-After"));
  EXPECT_GT(retryAfter, 0);
  EXPECT_LE(retryAfter, core::AuthSettings{}.failureWindowSeconds);
  // Even the right password waits.
  const std::string right = json{{"username", "host1"}, {"password", w.hostPassword}}.dump();
  EXPECT_EQ(call("POST", "/api/v1/auth/login", {}, right).status, 429);
  w.clock.advance(retryAfter);
  EXPECT_EQ(call("POST", "/api/v1/auth/login", {}, right).status, 200);
}

TEST_F(RestApiTest, PasswordChange) {
  const auto wrongOld =
      call("POST", "/api/v1/me/password", w.hostToken,
           json{{"oldPassword", "nope-nope-nope"}, {"newPassword", kNewPassword}}.dump());
  EXPECT_EQ(errorCode(wrongOld), "bad_credentials");
  const auto tooShort =
      call("POST", "/api/v1/me/password", w.hostToken,
           json{{"oldPassword", w.hostPassword}, {"newPassword", "short"}}.dump());
  EXPECT_EQ(tooShort.status, 400);
  EXPECT_EQ(errorCode(tooShort), "bad_field");
  EXPECT_EQ(call("POST", "/api/v1/me/password", w.hostToken,
                 json{{"oldPassword", w.hostPassword}, {"newPassword", kNewPassword}}.dump())
                .status,
            204);
  EXPECT_EQ(w.login("host1", kNewPassword).empty(), false);
}

TEST_F(RestApiTest, AOneTimePasswordOpensOnlyThePasswordChange) {
  auto reply =
      call("POST", "/api/v1/accounts", w.adminToken, R"({"username": "new-host", "role": "host"})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const std::string initial = parse(reply).at("initialPassword");
  const std::string token = w.login("new-host", initial);
  reply = call("GET", "/api/v1/meetings", token);
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(errorCode(reply), "password_change_required");
  EXPECT_EQ(call("POST", "/api/v1/meetings", token, World::meetingBody()).status, 403);
  reply = call("GET", "/api/v1/me", token);
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(parse(reply).at("mustChangePassword").get<bool>());
  EXPECT_EQ(call("POST", "/api/v1/me/password", token,
                 json{{"oldPassword", initial}, {"newPassword", kNewPassword}}.dump())
                .status,
            204);
  const std::string fresh = w.login("new-host", kNewPassword);
  EXPECT_EQ(call("GET", "/api/v1/meetings", fresh).status, 200);
}

// ---------------------------------------------------------------- bad input

TEST_F(RestApiTest, MalformedJsonIsBadJson) {
  for (const std::string body : {"{", "{\"title\": }", "[1, 2]", "\"a string\"", "42", "null",
                                 "{\"title\": \"\xff\"}", "{} {}"}) {
    const auto reply = call("POST", "/api/v1/meetings", w.hostToken, body);
    EXPECT_EQ(reply.status, 400) << body;
    EXPECT_EQ(errorCode(reply), "bad_json") << body;
  }
  // A body-taking endpoint needs one.
  EXPECT_EQ(errorCode(call("POST", "/api/v1/meetings", w.hostToken, "")), "bad_json");
}

TEST_F(RestApiTest, UnknownKeysAreBadFieldNamingThem) {
  auto body = json::parse(World::meetingBody());
  body["colour"] = "red";
  auto reply = call("POST", "/api/v1/meetings", w.hostToken, body.dump());
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(errorCode(reply), "bad_field");
  EXPECT_NE(errorMessage(reply).find("colour"), std::string::npos) << reply.body;

  body = json::parse(World::meetingBody());
  body["invite"]["zones"] = json::array();
  reply = call("POST", "/api/v1/meetings", w.hostToken, body.dump());
  EXPECT_EQ(errorCode(reply), "bad_field");
  EXPECT_NE(errorMessage(reply).find("invite.zones"), std::string::npos) << reply.body;

  reply = call("POST", "/api/v1/auth/login", {},
               R"({"username": "host1", "password": "host-password-1", "remember": true})");
  EXPECT_EQ(errorCode(reply), "bad_field");
  EXPECT_NE(errorMessage(reply).find("remember"), std::string::npos);

  reply = call("PATCH", "/api/v1/accounts/" + std::to_string(w.hostId), w.adminToken,
               R"({"email": "x@example.org"})");
  EXPECT_EQ(errorCode(reply), "bad_field");
  // A body where none is expected may be empty or {}, nothing more.
  EXPECT_EQ(errorCode(call("POST", w.meetingPath("/lock"), w.hostToken, R"({"why": 1})")),
            "bad_field");
  EXPECT_EQ(call("POST", w.meetingPath("/lock"), w.hostToken, "{}").status, 200);
}

TEST_F(RestApiTest, WrongTypesAreBadField) {
  const std::vector<std::pair<std::string, json>> cases{
      {"title", 5},
      {"title", nullptr},
      {"startsAt", kStart + 3600},
      {"chairId", "1"},
      {"chairId", 1.5},
      {"chairId", true},
      {"access", "public"},
      {"access", 1},
      {"code", json::array({"a"})},
      {"invite", json::array()},
      {"invite", json{{"units", "lc.so.yt"}}},
      {"invite", json{{"units", json::array({1})}}},
  };
  for (const auto& [key, value] : cases) {
    auto body = json::parse(World::meetingBody());
    body[key] = value;
    const auto reply = call("POST", "/api/v1/meetings", w.hostToken, body.dump());
    EXPECT_EQ(reply.status, 400) << key << "=" << value.dump();
    EXPECT_EQ(errorCode(reply), "bad_field") << key << "=" << value.dump() << ": " << reply.body;
  }
  const std::string host = "/api/v1/accounts/" + std::to_string(w.hostId);
  EXPECT_EQ(errorCode(call("PATCH", host, w.adminToken, R"({"disabled": "yes"})")), "bad_field");
  EXPECT_EQ(errorCode(call("PATCH", host, w.adminToken, R"({"role": "root"})")), "bad_field");
  EXPECT_EQ(errorCode(call("POST", "/api/v1/accounts", w.adminToken,
                           R"({"username": "x-user", "role": "superuser"})")),
            "bad_field");
  EXPECT_EQ(
      errorCode(call("POST", "/api/v1/auth/login", {}, R"({"username": 1, "password": "p"})")),
      "bad_field");
}

TEST_F(RestApiTest, MissingFieldsAreMissingField) {
  for (const auto* key : {"title", "startsAt", "endsAt", "invite"}) {
    auto body = json::parse(World::meetingBody());
    body.erase(key);
    const auto reply = call("POST", "/api/v1/meetings", w.hostToken, body.dump());
    EXPECT_EQ(reply.status, 400) << key;
    EXPECT_EQ(errorCode(reply), "missing_field") << key;
    EXPECT_NE(errorMessage(reply).find(key), std::string::npos) << reply.body;
  }
  EXPECT_EQ(errorCode(call("POST", "/api/v1/auth/login", {}, R"({"username": "host1"})")),
            "missing_field");
  EXPECT_EQ(errorCode(call("POST", "/api/v1/accounts", w.adminToken, R"({"role": "host"})")),
            "missing_field");
}

TEST_F(RestApiTest, MeetingTimesAreChecked) {
  auto withTimes = [](const std::string& startsAt, const std::string& endsAt) {
    auto body = json::parse(World::meetingBody());
    body["startsAt"] = startsAt;
    body["endsAt"] = endsAt;
    return body.dump();
  };
  const auto soon = formatRfc3339(kStart + 3600);
  const auto later = formatRfc3339(kStart + 7200);
  // Not RFC 3339.
  for (const auto* text : {"tomorrow", "2026-11-28 09:00:00Z", "2026-02-30T09:00:00Z", ""}) {
    const auto reply = call("POST", "/api/v1/meetings", w.hostToken, withTimes(text, later));
    EXPECT_EQ(errorCode(reply), "bad_time") << text;
  }
  // End before start.
  auto reply = call("POST", "/api/v1/meetings", w.hostToken, withTimes(later, soon));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(errorCode(reply), "bad_time");
  // Start in the past (and over before it is made).
  reply = call("POST", "/api/v1/meetings", w.hostToken,
               withTimes(formatRfc3339(kStart - 7200), formatRfc3339(kStart - 3600)));
  EXPECT_EQ(errorCode(reply), "bad_time");
  // Start long past, end still ahead.
  reply = call("POST", "/api/v1/meetings", w.hostToken,
               withTimes(formatRfc3339(kStart - 7200), formatRfc3339(kStart + 3600)));
  EXPECT_EQ(errorCode(reply), "bad_time");
  // An offset is understood; the reply is in UTC.
  reply = call("POST", "/api/v1/meetings", w.hostToken,
               withTimes("2026-11-28T08:00:00.750+07:00", "2026-11-28T09:30:00+07:00"));
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(parse(reply).at("startsAt"), "2026-11-28T01:00:00Z");
  EXPECT_EQ(parse(reply).at("endsAt"), "2026-11-28T02:30:00Z");
}

TEST_F(RestApiTest, MeetingCodes) {
  auto reply =
      call("POST", "/api/v1/meetings", w.hostToken, World::meetingBody(std::string(33, 'a')));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(errorCode(reply), "bad_field");
  reply = call("POST", "/api/v1/meetings", w.hostToken, World::meetingBody("Has Spaces"));
  EXPECT_EQ(errorCode(reply), "bad_field");
  reply = call("POST", "/api/v1/meetings", w.hostToken, World::meetingBody("world-1"));
  EXPECT_EQ(reply.status, 409);
  EXPECT_EQ(errorCode(reply), "duplicate_code");
  // Left out, the server makes one up.
  reply = call("POST", "/api/v1/meetings", w.hostToken, World::meetingBody());
  ASSERT_EQ(reply.status, 201) << reply.body;
  const auto code = parse(reply).at("code").get<std::string>();
  EXPECT_GE(code.size(), 3u);
  EXPECT_EQ(parse(reply).at("joinUrl"), "/join/" + code);
}

TEST_F(RestApiTest, WrongContentTypeIs415) {
  const auto body = World::meetingBody();
  for (const auto* type :
       {"text/plain", "", "text/csv", "application/x-www-form-urlencoded", "application/jsonp"}) {
    const auto reply = call("POST", "/api/v1/meetings", w.hostToken, body, type);
    EXPECT_EQ(reply.status, 415) << type;
    EXPECT_EQ(errorCode(reply), "unsupported_media_type") << type;
  }
  EXPECT_EQ(call("POST", "/api/v1/meetings", w.hostToken, World::meetingBody("c-1"),
                 "Application/JSON; charset=utf-8")
                .status,
            201);
  EXPECT_EQ(call("POST", w.meetingPath("/lock"), w.hostToken, "x", "text/plain").status, 415);
  EXPECT_EQ(call("PUT", "/api/v1/units", w.adminToken, kTreeJson, "text/plain").status, 415);
}

TEST_F(RestApiTest, MeetingQueries) {
  auto ids = [&](const std::string& query) {
    const auto reply = call("GET", "/api/v1/meetings" + query, w.techToken);
    EXPECT_EQ(reply.status, 200) << query << ": " << reply.body;
    const auto meetings = parse(reply).at("meetings");
    std::vector<std::int64_t> out;
    for (const auto& m : meetings) out.push_back(m.at("id"));
    return out;
  };
  const auto later = call("POST", "/api/v1/meetings", w.hostToken,
                          json{{"title", "Buổi chiều"},
                               {"startsAt", formatRfc3339(kStart + 6 * 3600)},
                               {"endsAt", formatRfc3339(kStart + 7 * 3600)},
                               {"invite", json::object()}}
                              .dump());
  ASSERT_EQ(later.status, 201) << later.body;
  const std::int64_t second = parse(later).at("id");
  EXPECT_EQ(ids(""), (std::vector<std::int64_t>{w.meetingId, second}));
  EXPECT_EQ(ids("?from=2026-11-28T04:00:00Z"), (std::vector<std::int64_t>{second}));
  EXPECT_EQ(ids("?to=2026-11-28T09:00:00+07:00"), (std::vector<std::int64_t>{w.meetingId}));
  EXPECT_EQ(ids("?to=2026-11-28T09:00:00%2B07:00"), (std::vector<std::int64_t>{w.meetingId}));
  EXPECT_EQ(ids("?from=&to=&state="), (std::vector<std::int64_t>{w.meetingId, second}));
  ASSERT_EQ(call("POST", w.meetingPath("/open"), w.hostToken).status, 200);
  EXPECT_EQ(ids("?state=open"), (std::vector<std::int64_t>{w.meetingId}));
  EXPECT_EQ(ids("?state=scheduled,live"), (std::vector<std::int64_t>{second}));
  EXPECT_EQ(ids("?state=ended"), (std::vector<std::int64_t>{}));

  EXPECT_EQ(errorCode(call("GET", "/api/v1/meetings?from=yesterday", w.techToken)), "bad_time");
  EXPECT_EQ(errorCode(call("GET", "/api/v1/meetings?state=open,bogus", w.techToken)), "bad_field");
  EXPECT_EQ(errorCode(call("GET", "/api/v1/meetings?state=open,", w.techToken)), "bad_field");
  EXPECT_EQ(errorCode(call("GET", "/api/v1/meetings?colour=red", w.techToken)), "bad_field");
  EXPECT_EQ(errorCode(call("GET", "/api/v1/meetings?state=open&state=live", w.techToken)),
            "bad_field");
  EXPECT_EQ(errorCode(call("GET", "/api/v1/me?x=1", w.techToken)), "bad_field");
}

TEST_F(RestApiTest, AuditPagesNewestFirst) {
  auto page = [&](const std::string& query) {
    const auto reply = call("GET", "/api/v1/audit" + query, w.adminToken);
    EXPECT_EQ(reply.status, 200) << query << ": " << reply.body;
    return parse(reply).at("entries");
  };
  const auto all = page("");
  ASSERT_GE(all.size(), 4u);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i - 1].at("id"), all[i].at("id"));
  const auto& newest = all[0];
  EXPECT_EQ(newest.at("action"), "room-link.issue");
  EXPECT_EQ(newest.at("actorId"), w.hostId);
  EXPECT_EQ(newest.at("actor"), "host1");
  EXPECT_EQ(newest.at("target"), "unit:lc.xa.ban-lau");
  EXPECT_EQ(newest.at("at"), "2026-11-28T00:00:00Z");
  // The server seeded the tree: not an account.
  EXPECT_TRUE(all.back().at("actorId").is_null()) << all.back().dump();

  const auto two = page("?limit=2");
  ASSERT_EQ(two.size(), 2u);
  const auto next = page("?limit=2&before=" + std::to_string(two[1].at("id").get<std::int64_t>()));
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next[0], all[2]);

  for (const auto* query : {"?limit=0", "?limit=501", "?limit=abc", "?limit=-1", "?before=x",
                            "?before=0", "?since=1"}) {
    EXPECT_EQ(errorCode(call("GET", std::string("/api/v1/audit") + query, w.adminToken)),
              "bad_field")
        << query;
  }
  EXPECT_EQ(page("?limit=500").size(), all.size());
}

TEST_F(RestApiTest, ServiceRefusalsKeepTheirCodes) {
  // bad_state: cancel, then try to open.
  ASSERT_EQ(call("POST", w.meetingPath("/cancel"), w.hostToken).status, 200);
  auto reply = call("POST", w.meetingPath("/open"), w.hostToken);
  EXPECT_EQ(reply.status, 409);
  EXPECT_EQ(errorCode(reply), "bad_state");
  reply = call("PATCH", w.meetingPath(), w.hostToken, R"({"title": "again"})");
  EXPECT_EQ(errorCode(reply), "bad_state");
  // duplicate_username
  reply = call("POST", "/api/v1/accounts", w.adminToken,
               R"({"username": "host1", "role": "host", "password": "long-enough-1"})");
  EXPECT_EQ(reply.status, 409);
  EXPECT_EQ(errorCode(reply), "duplicate_username");
  // Inviting a unit that does not exist.
  reply = call("POST", "/api/v1/meetings", w.hostToken, World::meetingBody({}, {"lc.nowhere"}));
  EXPECT_EQ(errorCode(reply), "bad_field");
  // A room link for a unit that does not exist; revoking a link that is not there.
  EXPECT_EQ(errorCode(call("POST", "/api/v1/units/lc.nowhere/room-link", w.hostToken)),
            "not_found");
  EXPECT_EQ(errorCode(call("DELETE", "/api/v1/units/lc.so.yt/room-link", w.hostToken)),
            "not_found");
  // Unknown room secrets.
  reply = call("GET", "/api/v1/room/not-a-secret");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(errorCode(reply), "unauthorized");
}

TEST_F(RestApiTest, UnexpectedFailuresAre500WithAGenericMessage) {
  World broken;
  RestApi failingAudit(broken.auth, broken.meetings, parseUnits,
                       [](std::int64_t, std::size_t) -> std::vector<core::AuditEntry> {
                         throw core::StoreError("disk I/O error at /var/lib/mcu/mcu.db");
                       });
  ApiRequest request{"GET", "/api/v1/audit", "", "Bearer " + broken.adminToken, "192.0.2.1", ""};
  auto reply = failingAudit.handle(request);
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(errorCode(reply), "internal");
  EXPECT_EQ(reply.body.find("/var/lib"), std::string::npos) << reply.body;

  RestApi failingParser(
      broken.auth, broken.meetings,
      [](const std::string&, bool) -> std::vector<core::Unit> { throw std::logic_error("bug"); });
  request =
      ApiRequest{"PUT",       "/api/v1/units", "application/json", "Bearer " + broken.adminToken,
                 "192.0.2.1", kTreeJson};
  reply = failingParser.handle(request);
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(errorCode(reply), "internal");

  // Without an audit reader GET /audit cannot be served.
  RestApi noAudit(broken.auth, broken.meetings, parseUnits);
  request = ApiRequest{"GET", "/api/v1/audit", "", "Bearer " + broken.adminToken, "", ""};
  EXPECT_EQ(noAudit.handle(request).status, 500);
}

TEST_F(RestApiTest, OutputIsValidUtf8) {
  // Invalid UTF-8 from the client (here: the method) is replaced, never echoed raw.
  const auto reply = call("G\xff\xfeT", "/api/v1/me", w.hostToken);
  EXPECT_EQ(reply.status, 405);
  EXPECT_NO_THROW(json::parse(reply.body)) << reply.body;
  // Vietnamese text round-trips unescaped.
  const auto units = call("GET", "/api/v1/units", w.techToken);
  EXPECT_NE(units.body.find("UBND tỉnh Lào Cai"), std::string::npos);
}

// ---------------------------------------------------------------- accounts

TEST_F(RestApiTest, AccountAdministration) {
  auto reply = call("POST", "/api/v1/accounts", w.adminToken,
                    R"({"username": "chair2", "displayName": "Chủ trì 2", "role": "host"})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  auto body = parse(reply);
  const std::string initial = body.at("initialPassword");
  EXPECT_FALSE(initial.empty());
  EXPECT_EQ(body.at("account").at("displayName"), "Chủ trì 2");
  const std::int64_t id = body.at("account").at("id");
  // Given a password, none is echoed back.
  reply = call("POST", "/api/v1/accounts", w.adminToken,
               R"({"username": "chair3", "role": "technician", "password": "long-enough-3"})");
  EXPECT_FALSE(parse(reply).contains("initialPassword"));

  const auto accounts = parse(call("GET", "/api/v1/accounts", w.adminToken)).at("accounts");
  EXPECT_EQ(accounts.size(), 5u);

  const std::string path = "/api/v1/accounts/" + std::to_string(id);
  reply = call("PATCH", path, w.adminToken, R"({"role": "technician", "displayName": "KTV"})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(parse(reply).at("role"), "technician");
  EXPECT_EQ(parse(reply).at("displayName"), "KTV");

  const std::string token = w.login("chair2", initial);
  reply = call("PATCH", path, w.adminToken, R"({"disabled": true})");
  EXPECT_EQ(parse(reply).at("disabled"), true);
  EXPECT_EQ(call("GET", "/api/v1/me", token).status, 401);
  EXPECT_EQ(errorCode(call("POST", "/api/v1/auth/login", {},
                           json{{"username", "chair2"}, {"password", initial}}.dump())),
            "bad_credentials");
}

// ---------------------------------------------------------------- the organisation tree

TEST_F(RestApiTest, ReplaceUnitsWithJsonAndCsv) {
  auto units = parse(call("GET", "/api/v1/units", w.hostToken));
  EXPECT_EQ(units.at("version"), 1);
  ASSERT_EQ(units.at("units").size(), 5u);
  EXPECT_EQ(units.at("units")[0],
            json::parse(R"({"id": "lc", "name": "UBND tỉnh Lào Cai", "kind": "province",
                            "parent": null, "order": 0, "formerIds": [], "active": true})"));
  EXPECT_EQ(units.at("units")[1].at("parent"), "lc");

  // JSON: a new unit, with comments as in configs/.
  std::string tree = kTreeJson;
  tree.insert(tree.rfind(']'),
              R"(, // new
              {"id": "lc.xa.y-ty", "name": "xã Y Tý", "kind": "commune", "parent": "lc",
               "order": 22, "formerIds": ["lc.xa.old"]})");
  auto reply = call("PUT", "/api/v1/units", w.adminToken, tree);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(parse(reply), json::parse(R"({"version": 2})"));
  units = parse(call("GET", "/api/v1/units", w.techToken));
  EXPECT_EQ(units.at("version"), 2);
  ASSERT_EQ(units.at("units").size(), 6u);
  EXPECT_EQ(units.at("units")[4].at("id"), "lc.xa.y-ty");  // pre-order, by order
  EXPECT_EQ(units.at("units")[4].at("formerIds"), json::array({"lc.xa.old"}));

  // CSV, with a BOM and CRLF as a spreadsheet writes it.
  const std::string csv =
      "\xEF\xBB\xBFid,name,kind,parent,order,active\r\n"
      "lc,UBND tỉnh Lào Cai,province,,0,true\r\n"
      "lc.so.yt,Sở Y tế,department,lc,10,true\r\n"
      "lc.xa.ban-lau,\"xã Bản Lầu, Mường Khương\",commune,lc,20,true\r\n"
      "lc.xa.a-lu,xã A Lù,commune,lc,21,false\r\n";
  reply = call("PUT", "/api/v1/units", w.adminToken, csv, "text/csv; charset=utf-8");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(parse(reply).at("version"), 3);
  units = parse(call("GET", "/api/v1/units", w.hostToken));
  ASSERT_EQ(units.at("units").size(), 4u);
  EXPECT_EQ(units.at("units")[2].at("name"), "xã Bản Lầu, Mường Khương");
  EXPECT_EQ(units.at("units")[3].at("active"), false);
}

TEST_F(RestApiTest, ReplaceUnitsRefusesBadTrees) {
  // Dropping the unit the meeting invites (and holding a room link).
  const std::string withoutBanLau =
      "id,name,kind,parent\nlc,UBND tỉnh Lào Cai,province,\nlc.so.yt,Sở Y tế,department,lc\n";
  auto reply = call("PUT", "/api/v1/units", w.adminToken, withoutBanLau, "text/csv");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(errorCode(reply), "bad_field");
  EXPECT_NE(errorMessage(reply).find("lc.xa.ban-lau"), std::string::npos) << reply.body;
  // ... but merging it into another unit keeps it resolvable.
  const std::string merged =
      "id,name,kind,parent,formerIds\nlc,UBND tỉnh Lào Cai,province,,\n"
      "lc.xa.moi,xã Mới,commune,lc,lc.xa.ban-lau;lc.xa.a-lu\n";
  reply = call("PUT", "/api/v1/units", w.adminToken, merged, "text/csv");
  EXPECT_EQ(reply.status, 200) << reply.body;

  // Syntax errors name the line.
  reply = call("PUT", "/api/v1/units", w.adminToken, "id,name,kind,parent\nlc,x\n", "text/csv");
  EXPECT_EQ(errorCode(reply), "bad_field");
  EXPECT_NE(errorMessage(reply).find("line"), std::string::npos) << reply.body;
  reply = call("PUT", "/api/v1/units", w.adminToken,
               R"({"units": [{"id": "lc", "name": "x", "kind": "province", "nmae": "y"}]})");
  EXPECT_EQ(errorCode(reply), "bad_field");
  EXPECT_NE(errorMessage(reply).find("nmae"), std::string::npos) << reply.body;
  reply = call("PUT", "/api/v1/units", w.adminToken, "{ not json");
  EXPECT_EQ(reply.status, 400);
  // Tree problems are listed together.
  reply =
      call("PUT", "/api/v1/units", w.adminToken,
           "id,name,kind,parent\na,A,province,\nb,B,province,\nc,C,commune,nowhere\n", "text/csv");
  EXPECT_EQ(errorCode(reply), "bad_field");
  EXPECT_NE(errorMessage(reply).find("nowhere"), std::string::npos) << reply.body;
  // Nothing was stored by the refusals.
  EXPECT_EQ(parse(call("GET", "/api/v1/units", w.adminToken)).at("version"), 2);
}

// ---------------------------------------------------------------- a province-sized tree

// A row of a generated tree, written out as CSV or JSON for PUT /units.
struct TreeRow {
  std::string id, name, kind, parent;
  int order = 0;
  std::vector<std::string> formerIds;
};

// The districts of an older deployment: id, name, kind.
const std::array<std::array<const char*, 3>, 9> kDistricts{{
    {"bat-xat", "Bát Xát", "district"},
    {"bao-thang", "Bảo Thắng", "district"},
    {"bao-yen", "Bảo Yên", "district"},
    {"bac-ha", "Bắc Hà", "district"},
    {"muong-khuong", "Mường Khương", "district"},
    {"si-ma-cai", "Si Ma Cai", "district"},
    {"van-ban", "Văn Bàn", "district"},
    {"sa-pa", "Sa Pa", "district"},
    {"tp", "Lào Cai", "city"},
}};
constexpr int kOldCommunesPerDistrict = 24;
constexpr int kNewCommunesPerDistrict = 11;

std::string twoDigits(int n) {
  return (n < 10 ? "0" : "") + std::to_string(n);
}
std::string oldCommuneId(const std::string& district, int i) {
  return "lc." + district + ".xa-" + twoDigits(i);
}

// Before the 2025 reform: province → departments, and province → districts → communes (the
// world's own three units placed under districts), 238 units.
std::vector<TreeRow> districtTree() {
  std::vector<TreeRow> rows{{"lc", "UBND tỉnh Lào Cai", "province", "", 0, {}}};
  const std::array<std::array<const char*, 2>, 9> departments{{
      {"lc.so.yt", "Sở Y tế"},
      {"lc.so.tt-tt", "Sở Thông tin và Truyền thông"},
      {"lc.so.kh-cn", "Sở Khoa học và Công nghệ"},
      {"lc.so.kh-dt", "Sở Kế hoạch và Đầu tư"},
      {"lc.so.tc", "Sở Tài chính"},
      {"lc.so.gt-vt", "Sở Giao thông Vận tải"},
      {"lc.so.xd", "Sở Xây dựng"},
      {"lc.so.tn-mt", "Sở Tài nguyên và Môi trường"},
      {"lc.so.nn-ptnt", "Sở Nông nghiệp và Phát triển nông thôn"},
  }};
  int order = 10;
  for (const auto& [id, name] : departments)
    rows.push_back({id, name, "department", "lc", order++});
  order = 100;
  for (const auto& [district, name, kind] : kDistricts) {
    const std::string id = std::string("lc.") + district;
    rows.push_back(
        {id, std::string("UBND ") + (kind == std::string("city") ? "thành phố " : "huyện ") + name,
         kind, "lc", order++});
    for (int i = 0; i < kOldCommunesPerDistrict; ++i) {
      rows.push_back({oldCommuneId(district, i), std::string("xã ") + name + " " + twoDigits(i + 1),
                      "commune", id, i});
    }
  }
  rows.push_back({"lc.xa.ban-lau", "xã Bản Lầu", "commune", "lc.muong-khuong", 50});
  rows.push_back({"lc.xa.a-lu", "xã A Lù", "commune", "lc.bat-xat", 50});
  rows.push_back({"lc.phuong.kim-tan", "phường Kim Tân", "ward", "lc.tp", 50});
  return rows;
}

// After it: no districts; departments merged as in 2025; in each district pairs of communes
// merge into the first of them, renamed (the last one takes four), and the first also takes the
// district's hall; Bản Lầu is only renamed; 107 units.
std::vector<TreeRow> reformedTree() {
  std::vector<TreeRow> rows{
      {"lc", "UBND tỉnh Lào Cai", "province", "", 0, {}},
      {"lc.so.yt", "Sở Y tế", "department", "lc", 10, {}},
      {"lc.so.kh-cn", "Sở Khoa học và Công nghệ", "department", "lc", 11, {"lc.so.tt-tt"}},
      {"lc.so.tc", "Sở Tài chính", "department", "lc", 12, {"lc.so.kh-dt"}},
      {"lc.so.xd", "Sở Xây dựng", "department", "lc", 13, {"lc.so.gt-vt"}},
      {"lc.so.nn-mt",
       "Sở Nông nghiệp và Môi trường",
       "department",
       "lc",
       14,
       {"lc.so.tn-mt", "lc.so.nn-ptnt"}},
  };
  int order = 100;
  for (const auto& [district, name, kind] : kDistricts) {
    for (int k = 0; k < kNewCommunesPerDistrict; ++k) {
      TreeRow row{oldCommuneId(district, 2 * k),
                  std::string("xã ") + name + " " + std::to_string(k + 1) + " (mới)",
                  "commune",
                  "lc",
                  order++,
                  {}};
      const int last = k + 1 == kNewCommunesPerDistrict ? kOldCommunesPerDistrict : 2 * k + 2;
      for (int i = 2 * k + 1; i < last; ++i) row.formerIds.push_back(oldCommuneId(district, i));
      if (k == 0) row.formerIds.push_back(std::string("lc.") + district);
      rows.push_back(std::move(row));
    }
  }
  rows.push_back({"lc.xa.ban-lau", "xã Bản Lầu (sau sáp nhập)", "commune", "lc", 300, {}});
  rows.push_back({"lc.phuong.lao-cai", "phường Lào Cai", "ward", "lc", 301, {"lc.phuong.kim-tan"}});
  // A Lù joins the first commune of Bát Xát.
  for (auto& row : rows) {
    if (row.id == oldCommuneId("bat-xat", 0)) row.formerIds.push_back("lc.xa.a-lu");
  }
  return rows;
}

std::string csvOf(const std::vector<TreeRow>& rows) {
  std::string out = "id,name,kind,parent,order,formerIds\r\n";
  for (const auto& r : rows) {
    std::string former;
    for (const auto& id : r.formerIds) former += (former.empty() ? "" : ";") + id;
    out += r.id + "," + r.name + "," + r.kind + "," + r.parent + "," + std::to_string(r.order) +
           "," + former + "\r\n";
  }
  return out;
}

std::string jsonOf(const std::vector<TreeRow>& rows) {
  json units = json::array();
  for (const auto& r : rows) {
    json unit{{"id", r.id},
              {"name", r.name},
              {"kind", r.kind},
              {"order", r.order},
              {"formerIds", r.formerIds}};
    if (!r.parent.empty()) unit["parent"] = r.parent;
    units.push_back(std::move(unit));
  }
  return "// generated: Lào Cai after the 2025 reform\n" + json{{"units", units}}.dump(1);
}

TEST_F(RestApiTest, AProvinceSizedTreeIsReformedWithMergesAndRenamesAndHistoryResolves) {
  // The older deployment's tree, as a spreadsheet exports it.
  const auto old = districtTree();
  ASSERT_EQ(old.size(), 238u);
  ASSERT_EQ(server::parseOrgUnitsCsv(csvOf(old)).size(), old.size());  // the loader reads it
  auto reply = call("PUT", "/api/v1/units", w.adminToken, csvOf(old), "text/csv");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(parse(reply).at("version"), 2);
  EXPECT_EQ(w.meetings.tree()->ofKind(core::UnitKind::kDistrict).size(), 8u);
  EXPECT_EQ(w.meetings.tree()->subtree("lc.bat-xat").size(), 1u + 24 + 1);

  // A meeting for the district of Bát Xát, Bản Lầu and a department; room links for a commune
  // that will be merged away, the department that will be merged, and (the world's) Bản Lầu.
  reply = call(
      "POST", "/api/v1/meetings", w.hostToken,
      json{{"title", "Sơ kết quý"},
           {"startsAt", formatRfc3339(kStart + 600)},
           {"endsAt", formatRfc3339(kStart + 3 * 3600)},
           {"code", "so-ket"},
           {"invite", {{"subtrees", {"lc.bat-xat"}}, {"units", {"lc.xa.ban-lau", "lc.so.tt-tt"}}}}}
          .dump());
  ASSERT_EQ(reply.status, 201) << reply.body;
  const std::int64_t id = parse(reply).at("id");
  const std::string path = "/api/v1/meetings/" + std::to_string(id);
  EXPECT_EQ(parse(reply).at("invited").size(), 1u + 24 + 1 + 2);
  std::map<std::string, std::string> secrets{{"lc.xa.ban-lau", w.secret}};
  for (const auto* unit : {"lc.bat-xat.xa-01", "lc.so.tt-tt"}) {
    reply = call("POST", std::string("/api/v1/units/") + unit + "/room-link", w.hostToken);
    ASSERT_EQ(reply.status, 201) << reply.body;
    secrets[unit] = parse(reply).at("secret");
  }
  ASSERT_EQ(call("POST", path + "/open", w.hostToken).status, 200);

  // The reform, as JSON with a comment. Forgetting a merged department is refused, naming it.
  auto reformed = reformedTree();
  ASSERT_EQ(reformed.size(), 107u);
  auto forgetful = reformed;
  forgetful[2].formerIds.clear();  // Sở Khoa học và Công nghệ without Thông tin và Truyền thông
  reply = call("PUT", "/api/v1/units", w.adminToken, jsonOf(forgetful));
  EXPECT_EQ(errorCode(reply), "bad_field");
  EXPECT_NE(errorMessage(reply).find("lc.so.tt-tt"), std::string::npos) << reply.body;
  ASSERT_EQ(server::parseOrgUnitsJson(jsonOf(reformed)).size(), reformed.size());
  reply = call("PUT", "/api/v1/units", w.adminToken, jsonOf(reformed));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(parse(reply).at("version"), 3);
  const auto units = parse(call("GET", "/api/v1/units", w.techToken)).at("units");
  EXPECT_EQ(units.size(), 107u);
  EXPECT_TRUE(w.meetings.tree()->ofKind(core::UnitKind::kDistrict).empty());
  EXPECT_EQ(w.meetings.tree()->ofKind(core::UnitKind::kCommune).size(), 9u * 11 + 1);

  // Every room link still lands in the open meeting, under the unit that now stands for it.
  const auto landing = [&](const std::string& unit) {
    const auto r = call("GET", "/api/v1/room/" + secrets.at(unit));
    EXPECT_EQ(r.status, 200) << unit << ": " << r.body;
    return parse(r);
  };
  auto where = landing("lc.bat-xat.xa-01");
  EXPECT_EQ(where.at("unit"), (json{{"id", "lc.bat-xat.xa-00"}, {"name", "xã Bát Xát 1 (mới)"}}));
  EXPECT_EQ(where.at("meeting").at("id"), id);
  where = landing("lc.so.tt-tt");
  EXPECT_EQ(where.at("unit").at("id"), "lc.so.kh-cn");
  EXPECT_EQ(where.at("meeting").at("id"), id);
  where = landing("lc.xa.ban-lau");
  EXPECT_EQ(where.at("unit"),
            (json{{"id", "lc.xa.ban-lau"}, {"name", "xã Bản Lầu (sau sáp nhập)"}}));
  EXPECT_EQ(where.at("meeting").at("id"), id);  // the open one before the world's scheduled one

  // The merged commune's old link joins; the roll names the units as they are now, once each:
  // Bát Xát's district, 24 communes and A Lù are 11 communes, plus Bản Lầu and the department.
  const core::Admission admitted = w.meetings.admit("so-ket", secrets.at("lc.bat-xat.xa-01"), "");
  EXPECT_EQ(admitted.meetingId, id);
  EXPECT_EQ(admitted.unitId, "lc.bat-xat.xa-00");
  w.meetings.roomJoined(admitted);
  const auto roll = parse(call("GET", path + "/roll", w.hostToken));
  EXPECT_EQ(roll.at("counts"), json::parse(R"({"invited": 13, "connected": 1, "left": 0,
                                               "neverJoined": 12, "guests": 0})"));
  for (const auto& entry : roll.at("entries")) {
    EXPECT_EQ(w.meetings.tree()->find(entry.at("unitId").get<std::string>())->id,
              entry.at("unitId"));
    if (entry.at("unitId") == "lc.bat-xat.xa-00") EXPECT_EQ(entry.at("status"), "connected");
  }
  // The stored invitations are history: they keep the ids they were made with.
  EXPECT_EQ(parse(call("GET", path, w.hostToken)).at("invited").size(), 28u);

  // New meetings invite from the new tree; an old id still names its unit.
  reply = call("POST", "/api/v1/meetings", w.hostToken,
               json{{"title", "Toàn tỉnh"},
                    {"startsAt", formatRfc3339(kStart + 3600)},
                    {"endsAt", formatRfc3339(kStart + 7200)},
                    {"invite", {{"kinds", {"commune"}}, {"units", {"lc.van-ban.xa-05"}}}}}
                   .dump());
  ASSERT_EQ(reply.status, 201) << reply.body;
  const auto invited = parse(reply).at("invited");
  EXPECT_EQ(invited.size(), 100u);
  EXPECT_NE(std::find(invited.begin(), invited.end(), "lc.van-ban.xa-04"), invited.end());
  EXPECT_EQ(std::find(invited.begin(), invited.end(), "lc.van-ban.xa-05"), invited.end());
}

// ---------------------------------------------------------------- a meeting from start to end

TEST_F(RestApiTest, FullMeetingFlow) {
  // The admin makes a host; the host logs in with the generated password and changes it.
  auto reply = call("POST", "/api/v1/accounts", w.adminToken,
                    R"({"username": "chu-tri", "displayName": "Chủ trì", "role": "host"})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const std::int64_t hostId = parse(reply).at("account").at("id");
  const std::string initial = parse(reply).at("initialPassword");
  std::string token = w.login("chu-tri", initial);
  ASSERT_EQ(call("POST", "/api/v1/me/password", token,
                 json{{"oldPassword", initial}, {"newPassword", kNewPassword}}.dump())
                .status,
            204);
  token = w.login("chu-tri", kNewPassword);

  // A meeting inviting two units.
  reply = call("POST", "/api/v1/meetings", token,
               json{{"title", "Hội nghị giao ban tháng 12"},
                    {"startsAt", "2026-11-28T08:00:00+07:00"},
                    {"endsAt", "2026-11-28T10:00:00+07:00"},
                    {"code", "giao-ban-12"},
                    {"invite", {{"units", {"lc.xa.a-lu"}}, {"subtrees", {"lc.so.yt"}}}}}
                   .dump());
  ASSERT_EQ(reply.status, 201) << reply.body;
  auto meeting = parse(reply);
  const std::int64_t id = meeting.at("id");
  EXPECT_EQ(meeting.at("code"), "giao-ban-12");
  EXPECT_EQ(meeting.at("title"), "Hội nghị giao ban tháng 12");
  EXPECT_EQ(meeting.at("startsAt"), "2026-11-28T01:00:00Z");
  EXPECT_EQ(meeting.at("state"), "scheduled");
  EXPECT_EQ(meeting.at("access"), "invited");
  EXPECT_EQ(meeting.at("locked"), false);
  EXPECT_EQ(meeting.at("chairId"), hostId);
  EXPECT_EQ(meeting.at("createdBy"), hostId);
  EXPECT_EQ(meeting.at("invited"), json::array({"lc.so.yt", "lc.xa.a-lu"}));
  EXPECT_EQ(meeting.at("joinUrl"), "/join/giao-ban-12");
  const std::string path = "/api/v1/meetings/" + std::to_string(id);

  // Room links for the two invited units and a third one.
  std::map<std::string, std::string> secrets;
  for (const auto* unit : {"lc.so.yt", "lc.xa.a-lu", "lc.phuong.kim-tan"}) {
    reply = call("POST", std::string("/api/v1/units/") + unit + "/room-link", token);
    ASSERT_EQ(reply.status, 201) << reply.body;
    const auto link = parse(reply);
    EXPECT_EQ(link.at("unitId"), unit);
    secrets[unit] = link.at("secret");
    EXPECT_EQ(link.at("url"), "/room/" + secrets[unit]);
  }
  const auto links = parse(call("GET", "/api/v1/room-links", token)).at("links");
  EXPECT_EQ(links.size(), 4u);  // with the world's own link
  EXPECT_EQ(links[0].at("createdAt"), "2026-11-28T00:00:00Z");

  // The room page lands in the meeting.
  reply = call("GET", "/api/v1/room/" + secrets["lc.so.yt"]);
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto landing = parse(reply);
  EXPECT_EQ(landing.at("unit"), json::parse(R"({"id": "lc.so.yt", "name": "Sở Y tế"})"));
  EXPECT_EQ(landing.at("meeting").at("id"), id);
  EXPECT_EQ(landing.at("meeting").at("state"), "scheduled");
  EXPECT_EQ(landing.at("meeting").size(), 7u);  // the subset: no invitation list
  // The third unit has nothing planned.
  EXPECT_TRUE(
      parse(call("GET", "/api/v1/room/" + secrets["lc.phuong.kim-tan"])).at("meeting").is_null());

  // Open; an invited room is admitted, the third is refused.
  reply = call("POST", path + "/open", token);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(parse(reply).at("state"), "open");
  EXPECT_EQ(parse(call("GET", "/api/v1/room/" + secrets["lc.so.yt"])).at("meeting").at("state"),
            "open");
  const core::Admission admitted = w.meetings.admit("", secrets["lc.so.yt"], "");
  EXPECT_EQ(admitted.meetingId, id);
  EXPECT_EQ(admitted.unitId, "lc.so.yt");
  try {
    w.meetings.admit("giao-ban-12", secrets["lc.phuong.kim-tan"], "");
    ADD_FAILURE() << "a room that is not invited was admitted";
  } catch (const core::ServiceError& e) {
    EXPECT_EQ(e.code(), "not_invited");
  }

  // The room joins: the meeting is live, the roll shows it.
  w.meetings.roomJoined(admitted);
  EXPECT_EQ(parse(call("GET", path, w.techToken)).at("state"), "live");
  reply = call("GET", path + "/roll", w.techToken);
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto roll = parse(reply);
  EXPECT_EQ(roll.at("meetingId"), id);
  EXPECT_EQ(roll.at("state"), "live");
  EXPECT_EQ(roll.at("counts"), json::parse(R"({"invited": 2, "connected": 1, "left": 0,
                                               "neverJoined": 1, "guests": 0})"));
  ASSERT_EQ(roll.at("entries").size(), 2u);
  for (const auto& entry : roll.at("entries")) {
    if (entry.at("unitId") == "lc.so.yt") {
      EXPECT_EQ(entry.at("status"), "connected");
      EXPECT_EQ(entry.at("connections"), 1);
      EXPECT_EQ(entry.at("firstJoinedAt"), "2026-11-28T00:00:00Z");
    } else {
      EXPECT_EQ(entry.at("unitId"), "lc.xa.a-lu");
      EXPECT_EQ(entry.at("name"), "xã A Lù");
      EXPECT_EQ(entry.at("status"), "never_joined");
      EXPECT_TRUE(entry.at("firstJoinedAt").is_null());
    }
  }

  // Lock and unlock; a live meeting may be retitled, but keeps its join code.
  EXPECT_EQ(parse(call("POST", path + "/lock", token)).at("locked"), true);
  EXPECT_EQ(parse(call("POST", path + "/unlock", token)).at("locked"), false);
  EXPECT_EQ(parse(call("PATCH", path, token, R"({"title": "x"})")).at("title"), "x");
  reply = call("PATCH", path, token, R"({"code": "ma-khac"})");
  EXPECT_EQ(reply.status, 409);
  EXPECT_EQ(errorCode(reply), "bad_state");
  EXPECT_NE(errorMessage(reply).find("join code"), std::string::npos) << reply.body;

  // Close: the room link no longer lands there; reopening is refused.
  reply = call("POST", path + "/close", token);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(parse(reply).at("state"), "ended");
  EXPECT_TRUE(parse(call("GET", "/api/v1/room/" + secrets["lc.so.yt"])).at("meeting").is_null());
  EXPECT_EQ(errorCode(call("POST", path + "/open", token)), "bad_state");

  // A revoked link is refused as such.
  EXPECT_EQ(call("DELETE", "/api/v1/units/lc.so.yt/room-link", token).status, 204);
  reply = call("GET", "/api/v1/room/" + secrets["lc.so.yt"]);
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(errorCode(reply), "link_revoked");

  // The audit log tells the story, newest first.
  const auto entries = parse(call("GET", "/api/v1/audit?limit=20", w.adminToken)).at("entries");
  std::vector<std::string> actions;
  for (const auto& entry : entries) actions.push_back(entry.at("action"));
  const auto at = [&](const std::string& action) {
    return std::find(actions.begin(), actions.end(), action) - actions.begin();
  };
  EXPECT_LT(at("meeting.close"), at("meeting.open"));
  EXPECT_LT(at("meeting.open"), at("meeting.create"));
  EXPECT_LT(at("meeting.create"), static_cast<long>(actions.size()));
}

TEST_F(RestApiTest, PatchMeeting) {
  const auto reply = call("PATCH", w.meetingPath(), w.hostToken,
                          json{{"title", "Giao ban (dời giờ)"},
                               {"startsAt", formatRfc3339(kStart + 2 * 3600)},
                               {"endsAt", formatRfc3339(kStart + 3 * 3600)},
                               {"access", "anyone"},
                               {"code", "world-2"},
                               {"chairId", w.hostId},
                               {"invite", {{"kinds", {"commune"}}}}}
                              .dump());
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto meeting = parse(reply);
  EXPECT_EQ(meeting.at("title"), "Giao ban (dời giờ)");
  EXPECT_EQ(meeting.at("startsAt"), "2026-11-28T02:00:00Z");
  EXPECT_EQ(meeting.at("access"), "anyone");
  EXPECT_EQ(meeting.at("code"), "world-2");
  EXPECT_EQ(meeting.at("joinUrl"), "/join/world-2");
  EXPECT_EQ(meeting.at("invited"), json::array({"lc.xa.a-lu", "lc.xa.ban-lau"}));
  // An empty patch changes nothing.
  EXPECT_EQ(parse(call("PATCH", w.meetingPath(), w.hostToken, "{}")), meeting);
  // A technician cannot chair.
  EXPECT_EQ(
      errorCode(call("PATCH", w.meetingPath(), w.hostToken, json{{"chairId", w.techId}}.dump())),
      "bad_field");
}

}  // namespace
}  // namespace mcu::signaling
