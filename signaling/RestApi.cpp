#include "signaling/RestApi.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "signaling/Log.hpp"
#include "signaling/TimeFormat.hpp"

namespace mcu::signaling {

namespace {

// ordered_json keeps the contract's key order in replies and reports a body's first unknown key
// in the order the client wrote them.
using Json = nlohmann::ordered_json;
using core::ServiceError;
using core::Status;
using core::UnixTime;

const Log kLog{"signaling.api"};

constexpr std::string_view kBase = "/api/v1/";
constexpr std::size_t kDefaultAuditLimit = 100;
constexpr std::size_t kMaxAuditLimit = 500;

[[noreturn]] void badRequest(const char* code, const std::string& message) {
  throw ServiceError(Status::kBadRequest, code, message);
}

[[noreturn]] void notFound() {
  throw ServiceError(Status::kNotFound, "not_found", "no such resource");
}

// ---------------------------------------------------------------- request target

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes only: '+' stays '+' (a time offset like "+07:00" may arrive unescaped).
std::optional<std::string> percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int hi = i + 2 < text.size() ? hexValue(text[i + 1]) : -1;
    const int lo = hi >= 0 ? hexValue(text[i + 2]) : -1;
    if (lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (out.find('\0') != std::string::npos) return std::nullopt;
  return out;
}

std::string_view pathOf(std::string_view target) {
  return target.substr(0, target.find_first_of("?#"));
}

std::string_view queryOf(std::string_view target) {
  target = target.substr(0, target.find('#'));
  const auto mark = target.find('?');
  return mark == std::string_view::npos ? std::string_view{} : target.substr(mark + 1);
}

// The decoded segments after /api/v1/; nullopt for a path outside it or a malformed escape.
std::optional<std::vector<std::string>> apiSegments(std::string_view target) {
  std::string_view path = pathOf(target);
  if (path.substr(0, kBase.size()) != kBase) return std::nullopt;
  path.remove_prefix(kBase.size());
  std::vector<std::string> segments;
  while (true) {
    const auto slash = path.find('/');
    auto segment = percentDecode(path.substr(0, slash));
    if (!segment) return std::nullopt;
    segments.push_back(std::move(*segment));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

// name=value pairs, each name once and among `allowed`; empty values count as absent.
std::map<std::string, std::string> parseQuery(std::string_view query,
                                              const std::vector<std::string_view>& allowed) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    const auto name = percentDecode(pair.substr(0, eq));
    const auto value =
        percentDecode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) badRequest("bad_field", "malformed query string");
    if (std::find(allowed.begin(), allowed.end(), *name) == allowed.end()) {
      badRequest("bad_field", "unknown query parameter '" + *name + "'");
    }
    if (out.count(*name)) badRequest("bad_field", "query parameter '" + *name + "' repeated");
    if (!value->empty()) out.emplace(*name, *value);
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// "application/json; charset=utf-8" -> "application/json"
std::string mediaType(std::string_view contentType) {
  std::string_view type = contentType.substr(0, contentType.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return lower(type);
}

std::string bearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      lower(authorization.substr(0, kScheme.size())) != kScheme) {
    throw ServiceError(Status::kUnauthorized, "unauthorized", "a bearer token is required");
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return std::string(token);
}

// Decimal digits only, no sign: anything else names no resource.
std::int64_t parseId(const std::string& text) {
  if (text.empty() || text.size() > 18) notFound();
  std::int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') notFound();
    value = value * 10 + (c - '0');
  }
  if (value == 0) notFound();
  return value;
}

// ---------------------------------------------------------------- strict JSON fields

// The fields of one JSON object: unknown keys and wrong types are bad_field, a missing required
// key is missing_field. `parent` names a nested object in messages ("invite" -> "invite.units").
class Fields {
 public:
  Fields(const Json& object, std::initializer_list<std::string_view> allowed,
         std::string parent = {})
      : object_(object), parent_(std::move(parent)) {
    if (!object.is_object()) badRequest("bad_field", parent_ + " must be an object");
    for (const auto& item : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end()) {
        badRequest("bad_field", "unknown key '" + name(item.key().c_str()) + "'");
      }
    }
  }

  const Json* find(const char* key) const {
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  const Json& required(const char* key) const {
    const Json* value = find(key);
    if (!value) badRequest("missing_field", name(key) + " is required");
    return *value;
  }
  [[noreturn]] void wrongType(const char* key, const char* what) const {
    badRequest("bad_field", name(key) + " must be " + what);
  }

  std::string string(const char* key) const { return asString(key, required(key)); }
  std::optional<std::string> optString(const char* key) const {
    const Json* value = find(key);
    if (!value) return std::nullopt;
    return asString(key, *value);
  }
  std::optional<bool> optBool(const char* key) const {
    const Json* value = find(key);
    if (!value) return std::nullopt;
    if (!value->is_boolean()) wrongType(key, "true or false");
    return value->get<bool>();
  }
  UnixTime time(const char* key) const { return asTime(key, required(key)); }
  std::optional<UnixTime> optTime(const char* key) const {
    const Json* value = find(key);
    if (!value) return std::nullopt;
    return asTime(key, *value);
  }
  // An account id or null (0): absent -> nullopt.
  std::optional<core::AccountId> optNullableId(const char* key) const {
    const Json* value = find(key);
    if (!value) return std::nullopt;
    if (value->is_null()) return 0;
    const bool tooLarge = value->is_number_unsigned() && value->get<std::uint64_t>() > INT64_MAX;
    if (!value->is_number_integer() || tooLarge) wrongType(key, "an integer or null");
    return value->get<std::int64_t>();
  }
  std::vector<std::string> strings(const char* key) const {
    const Json* value = find(key);
    if (!value) return {};
    if (!value->is_array()) wrongType(key, "an array of strings");
    std::vector<std::string> out;
    for (const auto& item : *value) {
      if (!item.is_string()) wrongType(key, "an array of strings");
      out.push_back(item.get<std::string>());
    }
    return out;
  }

 private:
  std::string name(const char* key) const {
    return parent_.empty() ? std::string(key) : parent_ + "." + key;
  }
  std::string asString(const char* key, const Json& value) const {
    if (!value.is_string()) wrongType(key, "a string");
    return value.get<std::string>();
  }
  UnixTime asTime(const char* key, const Json& value) const {
    if (!value.is_string()) wrongType(key, "an RFC 3339 time string");
    const auto time = parseRfc3339(value.get_ref<const std::string&>());
    if (!time) {
      badRequest("bad_time",
                 name(key) + " must be an RFC 3339 time like 2026-11-28T08:00:00+07:00");
    }
    return *time;
  }

  const Json& object_;
  std::string parent_;
};

core::Role parseRoleField(const Fields& fields, const char* key) {
  const auto role = core::parseRole(fields.string(key));
  if (!role) fields.wrongType(key, "\"admin\", \"host\" or \"technician\"");
  return *role;
}

core::MeetingAccess parseAccessField(const Fields& fields, const char* key) {
  const auto access = core::parseMeetingAccess(fields.string(key));
  if (!access) fields.wrongType(key, "\"invited\" or \"anyone\"");
  return *access;
}

core::InviteSelection parseInvite(const Json& value) {
  const Fields fields(value, {"units", "subtrees", "kinds"}, "invite");
  return core::InviteSelection{fields.strings("units"), fields.strings("subtrees"),
                               fields.strings("kinds")};
}

// ---------------------------------------------------------------- replies

Json timeOrNull(UnixTime time) {
  return time == 0 ? Json(nullptr) : Json(formatRfc3339(time));
}

Json accountJson(const core::Account& account) {
  return Json{{"id", account.id},
              {"username", account.username},
              {"displayName", account.displayName},
              {"role", core::roleName(account.role)},
              {"disabled", account.disabled},
              {"mustChangePassword", account.mustChangePassword},
              {"createdAt", formatRfc3339(account.createdAt)}};
}

Json unitJson(const core::Unit& unit) {
  return Json{{"id", unit.id},
              {"name", unit.name},
              {"kind", core::unitKindName(unit.kind)},
              {"parent", unit.parentId.empty() ? Json(nullptr) : Json(unit.parentId)},
              {"order", unit.order},
              {"formerIds", unit.formerIds},
              {"active", unit.active}};
}

Json meetingJson(const core::Meeting& meeting) {
  return Json{{"id", meeting.id},
              {"code", meeting.code},
              {"title", meeting.title},
              {"startsAt", formatRfc3339(meeting.startsAt)},
              {"endsAt", formatRfc3339(meeting.endsAt)},
              {"chairId", meeting.chairId == 0 ? Json(nullptr) : Json(meeting.chairId)},
              {"state", core::meetingStateName(meeting.state)},
              {"access", core::meetingAccessName(meeting.access)},
              {"locked", meeting.locked},
              {"invited", meeting.invited},
              {"createdBy", meeting.createdBy},
              {"createdAt", formatRfc3339(meeting.createdAt)},
              {"updatedAt", formatRfc3339(meeting.updatedAt)},
              {"joinUrl", "/join/" + meeting.code}};
}

// What a room link's page may know of its meeting.
Json meetingSummaryJson(const core::Meeting& meeting) {
  return Json{{"id", meeting.id},
              {"code", meeting.code},
              {"title", meeting.title},
              {"startsAt", formatRfc3339(meeting.startsAt)},
              {"endsAt", formatRfc3339(meeting.endsAt)},
              {"state", core::meetingStateName(meeting.state)},
              {"locked", meeting.locked}};
}

Json rollEntryJson(const core::RollEntry& entry) {
  return Json{{"unitId", entry.unitId.empty() ? Json(nullptr) : Json(entry.unitId)},
              {"name", entry.name},
              {"invited", entry.invited},
              {"status", core::rollStatusName(entry.status)},
              {"firstJoinedAt", timeOrNull(entry.firstJoinedAt)},
              {"lastChangeAt", timeOrNull(entry.lastChangeAt)},
              {"connections", entry.connections}};
}

Json rollCounts(const std::vector<core::RollEntry>& entries) {
  int invited = 0, connected = 0, left = 0, neverJoined = 0, guests = 0;
  for (const auto& entry : entries) {
    invited += entry.invited ? 1 : 0;
    guests += entry.unitId.empty() ? 1 : 0;
    connected += entry.status == core::RollEntry::Status::kConnected ? 1 : 0;
    left += entry.status == core::RollEntry::Status::kLeft ? 1 : 0;
    neverJoined += entry.status == core::RollEntry::Status::kNeverJoined ? 1 : 0;
  }
  return Json{{"invited", invited},
              {"connected", connected},
              {"left", left},
              {"neverJoined", neverJoined},
              {"guests", guests}};
}

Json auditJson(const core::AuditEntry& entry) {
  return Json{{"id", entry.id},
              {"at", formatRfc3339(entry.at)},
              {"actorId", entry.actorId == 0 ? Json(nullptr) : Json(entry.actorId)},
              {"actor", entry.actor},
              {"action", entry.action},
              {"target", entry.target},
              {"detail", entry.detail}};
}

// Headers every API reply carries: nothing here may be cached or sniffed into something else.
void addCommonHeaders(ApiReply& reply) {
  reply.headers.emplace_back("Cache-Control", "no-store");
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.headers.emplace_back("Content-Security-Policy",
                             "default-src 'none'; frame-ancestors 'none'");
  reply.headers.emplace_back("Referrer-Policy", "no-referrer");
}

ApiReply jsonReply(int status, const Json& body) {
  ApiReply reply;
  reply.status = status;
  // Strings from the store or the tree could hold invalid UTF-8; never emit it.
  reply.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  reply.headers.emplace_back("Content-Type", "application/json");
  addCommonHeaders(reply);
  return reply;
}

ApiReply noContent() {
  ApiReply reply;
  reply.status = 204;
  addCommonHeaders(reply);
  return reply;
}

ApiReply serviceErrorReply(const ServiceError& error) {
  const int status = static_cast<int>(error.status());
  ApiReply reply = RestApi::errorReply(status, error.code(), error.what());
  if (status == 429) {
    reply.headers.emplace_back("Retry-After", std::to_string(std::max(1, error.retryAfter())));
  }
  if (status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer");
  return reply;
}

enum class BodyKind {
  kNone,   // no body; an empty JSON object is tolerated
  kJson,   // a JSON object
  kUnits,  // JSON or CSV, handed to the UnitsParser
};

struct Endpoint {
  std::string_view method;
  RestApi::Handler handler;
  bool authenticated = true;
  BodyKind body = BodyKind::kNone;
  std::vector<std::string_view> query = {};
};

}  // namespace

// ---------------------------------------------------------------- routing

struct RestApi::Route {
  std::vector<std::string_view> pattern;  // after /api/v1/; "{...}" captures one segment
  std::vector<Endpoint> endpoints;

  bool matches(const std::vector<std::string>& segments, std::vector<std::string>& params) const {
    if (segments.size() != pattern.size()) return false;
    params.clear();
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      if (pattern[i].front() == '{') {
        if (segments[i].empty()) return false;
        params.push_back(segments[i]);
      } else if (segments[i] != pattern[i]) {
        return false;
      }
    }
    return true;
  }
  bool hasId() const { return std::find(pattern.begin(), pattern.end(), "{id}") != pattern.end(); }
  std::string allow() const {
    std::string out;
    for (const auto& endpoint : endpoints) {
      out += (out.empty() ? "" : ", ") + std::string(endpoint.method);
    }
    return out;
  }
};

struct RestApi::Call {
  const ApiRequest& request;
  std::vector<std::string> params;  // the captured path segments, in order
  std::map<std::string, std::string> query;
  Json body = Json::object();
  core::Caller caller;

  std::int64_t id() const { return parseId(params.at(0)); }
  const std::string& param() const { return params.at(0); }
  std::optional<std::string> queryValue(const char* name) const {
    const auto it = query.find(name);
    if (it == query.end()) return std::nullopt;
    return it->second;
  }
};

const std::vector<RestApi::Route>& RestApi::routes() {
  constexpr auto kJson = BodyKind::kJson;
  constexpr bool kPublic = false;
  static const std::vector<Route> kRoutes{
      {{"auth", "login"}, {{"POST", &RestApi::login, kPublic, kJson}}},
      {{"auth", "logout"}, {{"POST", &RestApi::logout}}},
      {{"me"}, {{"GET", &RestApi::getMe}}},
      {{"me", "password"}, {{"POST", &RestApi::changePassword, true, kJson}}},
      {{"accounts"},
       {{"GET", &RestApi::listAccounts}, {"POST", &RestApi::createAccount, true, kJson}}},
      {{"accounts", "{id}"}, {{"PATCH", &RestApi::updateAccount, true, kJson}}},
      {{"units"},
       {{"GET", &RestApi::getUnits}, {"PUT", &RestApi::putUnits, true, BodyKind::kUnits}}},
      {{"room-links"}, {{"GET", &RestApi::listRoomLinks}}},
      {{"units", "{unit}", "room-link"},
       {{"POST", &RestApi::issueRoomLink}, {"DELETE", &RestApi::revokeRoomLink}}},
      {{"meetings"},
       {{"GET", &RestApi::listMeetings, true, BodyKind::kNone, {"from", "to", "state"}},
        {"POST", &RestApi::createMeeting, true, kJson}}},
      {{"meetings", "{id}"},
       {{"GET", &RestApi::getMeeting}, {"PATCH", &RestApi::updateMeeting, true, kJson}}},
      {{"meetings", "{id}", "open"}, {{"POST", &RestApi::openMeeting}}},
      {{"meetings", "{id}", "close"}, {{"POST", &RestApi::closeMeeting}}},
      {{"meetings", "{id}", "cancel"}, {{"POST", &RestApi::cancelMeeting}}},
      {{"meetings", "{id}", "lock"}, {{"POST", &RestApi::lockMeeting}}},
      {{"meetings", "{id}", "unlock"}, {{"POST", &RestApi::unlockMeeting}}},
      {{"meetings", "{id}", "roll"}, {{"GET", &RestApi::getRoll}}},
      {{"audit"}, {{"GET", &RestApi::getAudit, true, BodyKind::kNone, {"before", "limit"}}}},
      {{"room", "{secret}"}, {{"GET", &RestApi::getRoom, kPublic}}},
  };
  return kRoutes;
}

namespace {

// Checks the Content-Type and parses the body the endpoint expects into call.body (JSON only;
// a units upload is left to the UnitsParser).
void readBody(const Endpoint& endpoint, RestApi::Call& call) {
  const std::string& body = call.request.body;
  const std::string type = mediaType(call.request.contentType);
  if (endpoint.body == BodyKind::kNone && body.empty()) return;
  if (endpoint.body == BodyKind::kJson && body.empty()) {
    badRequest("bad_json", "a JSON object is required as the request body");
  }
  const bool csvAllowed = endpoint.body == BodyKind::kUnits;
  if (type != "application/json" && !(csvAllowed && type == "text/csv")) {
    throw ServiceError(Status::kUnsupportedMedia, "unsupported_media_type",
                       csvAllowed ? "send application/json or text/csv" : "send application/json");
  }
  if (endpoint.body == BodyKind::kUnits) return;
  call.body = Json::parse(body, nullptr, false);
  if (call.body.is_discarded()) badRequest("bad_json", "the request body is not valid JSON");
  if (!call.body.is_object()) badRequest("bad_json", "the request body must be a JSON object");
  // A body where none is expected must at least say nothing.
  if (endpoint.body == BodyKind::kNone) {
    const Fields nothing(call.body, {});
  }
}

}  // namespace

ApiReply RestApi::dispatch(const ApiRequest& request) const {
  const auto segments = apiSegments(request.target);
  if (!segments) notFound();
  std::vector<std::string> params;
  const auto route = std::find_if(routes().begin(), routes().end(),
                                  [&](const Route& r) { return r.matches(*segments, params); });
  if (route == routes().end()) notFound();
  const auto endpoint = std::find_if(route->endpoints.begin(), route->endpoints.end(),
                                     [&](const Endpoint& e) { return e.method == request.method; });
  if (endpoint == route->endpoints.end()) {
    ApiReply reply = errorReply(405, "method_not_allowed", request.method + " is not allowed here");
    reply.headers.emplace_back("Allow", route->allow());
    return reply;
  }
  Call call{request, std::move(params), {}, Json::object(), {}};
  // Who is asking comes first: nothing else of an anonymous request is looked at.
  if (endpoint->authenticated) call.caller = auth_.authenticate(bearerToken(request.authorization));
  // A one-time password opens only the way to replace it.
  if (endpoint->authenticated && call.caller.mustChangePassword &&
      endpoint->handler != &RestApi::getMe && endpoint->handler != &RestApi::changePassword &&
      endpoint->handler != &RestApi::logout) {
    throw core::ServiceError(core::Status::kForbidden, "password_change_required",
                             "change the one-time password first (POST /api/v1/me/password)");
  }
  if (route->hasId()) call.id();  // a path naming no resource is 404 whatever the body says
  call.query = parseQuery(queryOf(request.target), endpoint->query);
  readBody(*endpoint, call);
  return (this->*(endpoint->handler))(call);
}

// ---------------------------------------------------------------- public surface

std::string ApiReply::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> RestApi::endpoints() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& route : routes()) {
    std::string path;
    for (const auto segment : route.pattern) path += "/" + std::string(segment);
    for (const Endpoint& endpoint : route.endpoints) {
      out.emplace_back(std::string(endpoint.method), path);
    }
  }
  return out;
}

RestApi::RestApi(core::AuthService& auth, core::MeetingService& meetings, UnitsParser parseUnits,
                 AuditReader readAudit)
    : auth_(auth),
      meetings_(meetings),
      parseUnits_(std::move(parseUnits)),
      readAudit_(std::move(readAudit)) {}

bool RestApi::isApiTarget(std::string_view target) {
  const std::string_view path = pathOf(target);
  return path == "/api" || path.substr(0, 5) == "/api/";
}

std::size_t RestApi::bodyLimit(std::string_view method, std::string_view target) {
  const bool units = method == "PUT" && (pathOf(target) == "/api/v1/units");
  return units ? kUnitsBodyLimit : kBodyLimit;
}

ApiReply RestApi::errorReply(int status, std::string_view code, std::string_view message) {
  return jsonReply(status, Json{{"error", {{"code", code}, {"message", message}}}});
}

ApiReply RestApi::handle(const ApiRequest& request) const {
  try {
    return dispatch(request);
  } catch (const ServiceError& e) {
    return serviceErrorReply(e);
  } catch (const core::StoreError& e) {
    kLog.error(request.method + " " + std::string(pathOf(request.target)) + ": store: " + e.what());
  } catch (const std::exception& e) {
    kLog.error(request.method + " " + std::string(pathOf(request.target)) + ": " + e.what());
  } catch (...) {
    kLog.error(request.method + " " + std::string(pathOf(request.target)) + ": unknown exception");
  }
  return errorReply(500, "internal", "internal error; the server log has the details");
}

// ---------------------------------------------------------------- auth and accounts

ApiReply RestApi::login(Call& call) const {
  const Fields fields(call.body, {"username", "password"});
  const auto result =
      auth_.login(fields.string("username"), fields.string("password"), call.request.clientAddress);
  return jsonReply(200, Json{{"token", result.token},
                             {"expiresAt", formatRfc3339(result.expiresAt)},
                             {"account", accountJson(result.account)}});
}

ApiReply RestApi::logout(Call& call) const {
  auth_.logout(call.caller);
  return noContent();
}

ApiReply RestApi::getMe(Call& call) const {
  return jsonReply(200, accountJson(auth_.me(call.caller)));
}

ApiReply RestApi::changePassword(Call& call) const {
  const Fields fields(call.body, {"oldPassword", "newPassword"});
  auth_.changePassword(call.caller, fields.string("oldPassword"), fields.string("newPassword"));
  return noContent();
}

ApiReply RestApi::listAccounts(Call& call) const {
  Json list = Json::array();
  for (const auto& account : auth_.accounts(call.caller)) list.push_back(accountJson(account));
  return jsonReply(200, Json{{"accounts", std::move(list)}});
}

ApiReply RestApi::createAccount(Call& call) const {
  const Fields fields(call.body, {"username", "displayName", "role", "password"});
  core::NewAccount request;
  request.username = fields.string("username");
  request.displayName = fields.optString("displayName").value_or("");
  request.role = parseRoleField(fields, "role");
  request.password = fields.optString("password").value_or("");
  const auto created = auth_.createAccount(call.caller, request);
  Json body{{"account", accountJson(created.account)}};
  if (!created.initialPassword.empty()) body["initialPassword"] = created.initialPassword;
  return jsonReply(201, body);
}

ApiReply RestApi::updateAccount(Call& call) const {
  const auto id = call.id();
  const Fields fields(call.body, {"displayName", "role", "disabled", "password"});
  core::AccountPatch patch;
  patch.displayName = fields.optString("displayName");
  if (fields.find("role")) patch.role = parseRoleField(fields, "role");
  patch.disabled = fields.optBool("disabled");
  patch.password = fields.optString("password");
  return jsonReply(200, accountJson(auth_.updateAccount(call.caller, id, patch)));
}

// ---------------------------------------------------------------- organisation tree

ApiReply RestApi::getUnits(Call&) const {
  // Any account may read the tree: every console needs it to pick invitations.
  const auto tree = meetings_.tree();
  const auto version = meetings_.treeVersion();
  Json units = Json::array();
  if (tree) {
    for (const auto& unit : tree->units()) units.push_back(unitJson(unit));
  }
  return jsonReply(200, Json{{"version", version}, {"units", std::move(units)}});
}

ApiReply RestApi::putUnits(Call& call) const {
  // importTree checks the role too; checking first spares parsing up to 4 MiB for nobody.
  core::AuthService::require(call.caller, {core::Role::kAdmin});
  const bool csv = mediaType(call.request.contentType) == "text/csv";
  std::vector<core::Unit> units;
  try {
    units = parseUnits_(call.request.body, csv);
  } catch (const core::OrgTreeError& e) {
    badRequest("bad_field", e.what());
  } catch (const std::runtime_error& e) {
    badRequest("bad_field", e.what());
  }
  std::int64_t version = 0;
  try {
    version = meetings_.importTree(call.caller, units);
  } catch (const core::OrgTreeError& e) {  // documented as converted; kept safe regardless
    badRequest("bad_field", e.what());
  }
  return jsonReply(200, Json{{"version", version}});
}

// ---------------------------------------------------------------- room links

ApiReply RestApi::listRoomLinks(Call& call) const {
  Json links = Json::array();
  for (const auto& link : meetings_.roomLinks(call.caller)) {
    links.push_back(Json{{"unitId", link.unitId}, {"createdAt", formatRfc3339(link.createdAt)}});
  }
  return jsonReply(200, Json{{"links", std::move(links)}});
}

ApiReply RestApi::issueRoomLink(Call& call) const {
  const std::string secret = meetings_.issueRoomLink(call.caller, call.param());
  return jsonReply(201,
                   Json{{"unitId", call.param()}, {"secret", secret}, {"url", "/room/" + secret}});
}

ApiReply RestApi::revokeRoomLink(Call& call) const {
  meetings_.revokeRoomLink(call.caller, call.param());
  return noContent();
}

ApiReply RestApi::getRoom(Call& call) const {
  const auto landing = meetings_.landing(call.param());
  return jsonReply(200, Json{{"unit", {{"id", landing.unitId}, {"name", landing.unitName}}},
                             {"meeting", landing.meeting ? meetingSummaryJson(*landing.meeting)
                                                         : Json(nullptr)}});
}

// ---------------------------------------------------------------- meetings

ApiReply RestApi::listMeetings(Call& call) const {
  core::MeetingQuery query;
  auto timeParam = [&](const char* name, UnixTime fallback) {
    const auto text = call.queryValue(name);
    if (!text) return fallback;
    const auto value = parseRfc3339(*text);
    if (!value) badRequest("bad_time", std::string(name) + " must be an RFC 3339 time");
    return *value;
  };
  query.from = timeParam("from", query.from);
  query.to = timeParam("to", query.to);
  if (const auto states = call.queryValue("state")) {
    std::string_view rest = *states;
    while (true) {
      const auto comma = rest.find(',');
      const auto state = core::parseMeetingState(rest.substr(0, comma));
      if (!state) badRequest("bad_field", "state must list meeting states, e.g. open,live");
      query.states.push_back(*state);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  Json list = Json::array();
  for (const auto& meeting : meetings_.list(call.caller, query))
    list.push_back(meetingJson(meeting));
  return jsonReply(200, Json{{"meetings", std::move(list)}});
}

ApiReply RestApi::createMeeting(Call& call) const {
  const Fields fields(call.body,
                      {"title", "startsAt", "endsAt", "chairId", "access", "code", "invite"});
  core::MeetingDraft draft;
  draft.title = fields.string("title");
  draft.startsAt = fields.time("startsAt");
  draft.endsAt = fields.time("endsAt");
  draft.chairId = fields.optNullableId("chairId").value_or(0);
  if (fields.find("access")) draft.access = parseAccessField(fields, "access");
  draft.code = fields.optString("code").value_or("");
  draft.invite = parseInvite(fields.required("invite"));
  return jsonReply(201, meetingJson(meetings_.create(call.caller, draft)));
}

ApiReply RestApi::updateMeeting(Call& call) const {
  const auto id = call.id();
  const Fields fields(call.body,
                      {"title", "startsAt", "endsAt", "chairId", "access", "code", "invite"});
  core::MeetingPatch patch;
  patch.title = fields.optString("title");
  patch.startsAt = fields.optTime("startsAt");
  patch.endsAt = fields.optTime("endsAt");
  patch.chairId = fields.optNullableId("chairId");
  if (fields.find("access")) patch.access = parseAccessField(fields, "access");
  patch.code = fields.optString("code");
  if (const Json* invite = fields.find("invite")) patch.invite = parseInvite(*invite);
  return jsonReply(200, meetingJson(meetings_.update(call.caller, id, patch)));
}

ApiReply RestApi::getMeeting(Call& call) const {
  return jsonReply(200, meetingJson(meetings_.get(call.caller, call.id())));
}

ApiReply RestApi::openMeeting(Call& call) const {
  return jsonReply(200, meetingJson(meetings_.open(call.caller, call.id())));
}

ApiReply RestApi::closeMeeting(Call& call) const {
  return jsonReply(200, meetingJson(meetings_.close(call.caller, call.id())));
}

ApiReply RestApi::cancelMeeting(Call& call) const {
  return jsonReply(200, meetingJson(meetings_.cancel(call.caller, call.id())));
}

ApiReply RestApi::lockMeeting(Call& call) const {
  return jsonReply(200, meetingJson(meetings_.setLocked(call.caller, call.id(), true)));
}

ApiReply RestApi::unlockMeeting(Call& call) const {
  return jsonReply(200, meetingJson(meetings_.setLocked(call.caller, call.id(), false)));
}

ApiReply RestApi::getRoll(Call& call) const {
  const auto id = call.id();
  const auto entries = meetings_.roll(call.caller, id);
  const auto meeting = meetings_.get(call.caller, id);
  Json list = Json::array();
  for (const auto& entry : entries) list.push_back(rollEntryJson(entry));
  return jsonReply(200, Json{{"meetingId", id},
                             {"state", core::meetingStateName(meeting.state)},
                             {"entries", std::move(list)},
                             {"counts", rollCounts(entries)}});
}

// ---------------------------------------------------------------- audit

ApiReply RestApi::getAudit(Call& call) const {
  core::AuthService::require(call.caller, {core::Role::kAdmin});
  auto number = [&](const char* name, std::int64_t fallback, std::int64_t max) {
    const auto text = call.queryValue(name);
    if (!text) return fallback;
    const bool digitsOnly =
        !text->empty() && text->size() <= 18 &&
        std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
    const std::int64_t value = digitsOnly ? std::stoll(*text) : 0;
    if (value < 1 || value > max) {
      badRequest("bad_field",
                 std::string(name) + " must be an integer from 1 to " + std::to_string(max));
    }
    return value;
  };
  const auto before = number("before", 0, INT64_MAX);
  const auto limit = number("limit", kDefaultAuditLimit, kMaxAuditLimit);
  if (!readAudit_) throw std::logic_error("GET /audit: no audit reader was given to RestApi");
  Json list = Json::array();
  for (const auto& entry : readAudit_(before, static_cast<std::size_t>(limit))) {
    list.push_back(auditJson(entry));
  }
  return jsonReply(200, Json{{"entries", std::move(list)}});
}

}  // namespace mcu::signaling
