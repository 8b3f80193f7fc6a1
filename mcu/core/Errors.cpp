#include "mcu/core/Errors.hpp"

namespace mcu::core {

std::string_view errorName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadJson:
      return "bad_json";
    case ErrorCode::kUnknownType:
      return "unknown_type";
    case ErrorCode::kMissingField:
      return "missing_field";
    case ErrorCode::kBadField:
      return "bad_field";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kUnsupportedVersion:
      return "unsupported_version";
    case ErrorCode::kUnknownMeeting:
      return "unknown_meeting";
    case ErrorCode::kMeetingClosed:
      return "meeting_closed";
    case ErrorCode::kMeetingFull:
      return "meeting_full";
    case ErrorCode::kMeetingLocked:
      return "meeting_locked";
    case ErrorCode::kNotInvited:
      return "not_invited";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kLinkRevoked:
      return "link_revoked";
    case ErrorCode::kAlreadyJoined:
      return "already_joined";
    case ErrorCode::kNotJoined:
      return "not_joined";
    case ErrorCode::kBadSdp:
      return "bad_sdp";
    case ErrorCode::kBadCandidate:
      return "bad_candidate";
    case ErrorCode::kNoSession:
      return "no_session";
    case ErrorCode::kAnswerTimeout:
      return "answer_timeout";
    case ErrorCode::kMediaFailed:
      return "media_failed";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kNotAllowed:
      return "not_allowed";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace mcu::core
