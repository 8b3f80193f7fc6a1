#pragma once
// The one error type of the REST-facing services (AuthService, MeetingService). The signaling
// layer maps `status` to the HTTP status and sends {"error": {"code", "message"}}; the codes are
// part of the API (docs/openapi.yaml).
#include <stdexcept>
#include <string>

namespace mcu::core {

enum class Status {
  kBadRequest = 400,        // codes: bad_json, missing_field, bad_field, bad_time
  kUnauthorized = 401,      // unauthorized, bad_credentials, token_expired
  kForbidden = 403,         // forbidden, not_invited, link_revoked
  kNotFound = 404,          // not_found
  kConflict = 409,          // duplicate_code, duplicate_username, bad_state, meeting_locked,
                            // meeting_closed
  kTooLarge = 413,          // too_large
  kUnsupportedMedia = 415,  // unsupported_media_type
  kRateLimited = 429,       // rate_limited
  kInternal = 500,          // internal
};

class ServiceError : public std::runtime_error {
 public:
  ServiceError(Status status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  Status status() const { return status_; }
  const std::string& code() const { return code_; }
  // Seconds the caller should wait (rate_limited); 0 otherwise.
  int retryAfter() const { return retryAfter_; }
  ServiceError& withRetryAfter(int seconds) {
    retryAfter_ = seconds;
    return *this;
  }

 private:
  Status status_;
  std::string code_;
  int retryAfter_ = 0;
};

}  // namespace mcu::core
