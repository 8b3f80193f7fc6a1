#pragma once
// Error codes sent to clients. The wire names are part of the protocol (docs/protocol.md).
#include <stdexcept>
#include <string>
#include <string_view>

namespace mcu::core {

enum class ErrorCode {
  kBadJson,       // not parseable JSON / not an object
  kUnknownType,   // "type" not known
  kMissingField,  // a required field is absent or of the wrong type
  kBadField,      // a field has a value out of range (too long, empty, ...)
  kTooLarge,      // message over the size limit
  kUnsupportedVersion,
  kUnknownMeeting,  // no meeting with that code
  kMeetingClosed,   // meeting exists but is not open
  kMeetingFull,     // room limit reached
  kMeetingLocked,   // the host locked the meeting
  kNotInvited,      // the room is not invited / the meeting admits invited rooms only
  kUnauthorized,    // the room link is not valid
  kLinkRevoked,     // the room link was replaced or revoked
  kAlreadyJoined,   // join twice on one connection
  kNotJoined,       // media message before join
  kBadSdp,          // answer does not parse or does not match the offer
  kBadCandidate,    // candidate rejected
  kNoSession,       // candidate/answer for a session that is gone or not offered yet
  kAnswerTimeout,   // the client never answered the offer
  kMediaFailed,     // ICE/DTLS failed or pipeline error
  kRateLimited,
  kForbidden,   // a chair command from an account whose role may not chair
  kNotAllowed,  // the action is not possible now
  kInternal,
};

std::string_view errorName(ErrorCode code);

// Thrown by validation code for a bad client request; the dispatcher converts it into an error
// reply carrying the request id. Never used for internal failures.
class RequestError : public std::runtime_error {
 public:
  RequestError(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace mcu::core
