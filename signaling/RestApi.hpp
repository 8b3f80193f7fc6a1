#pragma once
// The REST API under /api/v1 (docs/openapi.yaml; the routes are the table in RestApi.cpp). Pure
// request -> reply mapping over AuthService and MeetingService: no sockets, no Beast, so it is
// unit-tested directly. Thread-safe as the services are: HttpSession calls it from a small thread
// pool, never from the io thread (a password hash takes ~100 ms).
//
// Errors are converted once, here: core::ServiceError keeps its status and code, a bad request
// found while reading it becomes a ServiceError too, a StoreError or anything unexpected becomes
// 500 "internal" (logged; the client gets a generic message).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mcu/core/AuthService.hpp"
#include "mcu/core/MeetingService.hpp"
#include "mcu/core/OrgTree.hpp"

namespace mcu::signaling {

struct ApiRequest {
  std::string method;
  std::string target;  // as on the request line: path and query
  std::string contentType;
  std::string authorization;
  std::string clientAddress;  // the peer's IP address (login rate limiting)
  std::string body;
};

struct ApiReply {
  int status = 200;
  std::string body;                                          // empty for 204
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type included

  // The value of a header (case-sensitive name as set here), or empty.
  std::string header(std::string_view name) const;
};

// Reads the units of PUT /units: JSON ({"units": [...]}) or CSV. Throws std::runtime_error for
// syntax errors (reported to the client as bad_field with its message).
using UnitsParser = std::function<std::vector<core::Unit>(const std::string& body, bool csv)>;

// Reads the audit log, newest first: entries with id < beforeId (0: from the newest), at most
// `limit` (core::Store::audit).
using AuditReader =
    std::function<std::vector<core::AuditEntry>(std::int64_t beforeId, std::size_t limit)>;

class RestApi {
 public:
  static constexpr std::size_t kBodyLimit = 64 * 1024;
  static constexpr std::size_t kUnitsBodyLimit = 4 * 1024 * 1024;

  // `readAudit` serves GET /audit (the services have no reader of the audit log; the composition
  // root passes the Store's). Without it GET /audit answers 500 internal.
  RestApi(core::AuthService& auth, core::MeetingService& meetings, UnitsParser parseUnits,
          AuditReader readAudit = {});
  RestApi(const RestApi&) = delete;
  RestApi& operator=(const RestApi&) = delete;

  ApiReply handle(const ApiRequest& request) const;

  // True for /api and everything under /api/ (answered here, in JSON, even when unknown).
  static bool isApiTarget(std::string_view target);
  // The largest body a request may carry: kUnitsBodyLimit for PUT /api/v1/units, else kBodyLimit.
  static std::size_t bodyLimit(std::string_view method, std::string_view target);
  // A JSON error reply with the API's headers, for errors found before handle() (413 too_large).
  static ApiReply errorReply(int status, std::string_view code, std::string_view message);
  // Every method and path the route table serves, relative to /api/v1, in table order:
  // {"GET", "/meetings/{id}"}. Tests hold docs/openapi.yaml against it.
  static std::vector<std::pair<std::string, std::string>> endpoints();

  struct Call;  // one request being handled (RestApi.cpp)
  using Handler = ApiReply (RestApi::*)(Call&) const;
  struct Route;  // one path pattern with its handlers (RestApi.cpp)

 private:
  static const std::vector<Route>& routes();
  ApiReply dispatch(const ApiRequest& request) const;

  // One handler per endpoint; each returns the success reply or throws core::ServiceError.
  ApiReply login(Call& call) const;
  ApiReply logout(Call& call) const;
  ApiReply getMe(Call& call) const;
  ApiReply changePassword(Call& call) const;
  ApiReply listAccounts(Call& call) const;
  ApiReply createAccount(Call& call) const;
  ApiReply updateAccount(Call& call) const;
  ApiReply getUnits(Call& call) const;
  ApiReply putUnits(Call& call) const;
  ApiReply listRoomLinks(Call& call) const;
  ApiReply issueRoomLink(Call& call) const;
  ApiReply revokeRoomLink(Call& call) const;
  ApiReply listMeetings(Call& call) const;
  ApiReply createMeeting(Call& call) const;
  ApiReply getMeeting(Call& call) const;
  ApiReply updateMeeting(Call& call) const;
  ApiReply openMeeting(Call& call) const;
  ApiReply closeMeeting(Call& call) const;
  ApiReply cancelMeeting(Call& call) const;
  ApiReply lockMeeting(Call& call) const;
  ApiReply unlockMeeting(Call& call) const;
  ApiReply getRoll(Call& call) const;
  ApiReply getAudit(Call& call) const;
  ApiReply getRoom(Call& call) const;

  core::AuthService& auth_;
  core::MeetingService& meetings_;
  UnitsParser parseUnits_;
  AuditReader readAudit_;
};

}  // namespace mcu::signaling
