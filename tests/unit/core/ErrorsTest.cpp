// Wire names of error codes (mcu/core/Errors): part of the protocol, docs/protocol.md.
#include "mcu/core/Errors.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace mcu::core {
namespace {

const std::vector<std::pair<ErrorCode, std::string>> kWireNames = {
    {ErrorCode::kBadJson, "bad_json"},
    {ErrorCode::kUnknownType, "unknown_type"},
    {ErrorCode::kMissingField, "missing_field"},
    {ErrorCode::kBadField, "bad_field"},
    {ErrorCode::kTooLarge, "too_large"},
    {ErrorCode::kUnsupportedVersion, "unsupported_version"},
    {ErrorCode::kUnknownMeeting, "unknown_meeting"},
    {ErrorCode::kMeetingClosed, "meeting_closed"},
    {ErrorCode::kMeetingFull, "meeting_full"},
    {ErrorCode::kMeetingLocked, "meeting_locked"},
    {ErrorCode::kNotInvited, "not_invited"},
    {ErrorCode::kUnauthorized, "unauthorized"},
    {ErrorCode::kLinkRevoked, "link_revoked"},
    {ErrorCode::kAlreadyJoined, "already_joined"},
    {ErrorCode::kNotJoined, "not_joined"},
    {ErrorCode::kBadSdp, "bad_sdp"},
    {ErrorCode::kBadCandidate, "bad_candidate"},
    {ErrorCode::kNoSession, "no_session"},
    {ErrorCode::kAnswerTimeout, "answer_timeout"},
    {ErrorCode::kMediaFailed, "media_failed"},
    {ErrorCode::kRateLimited, "rate_limited"},
    {ErrorCode::kForbidden, "forbidden"},
    {ErrorCode::kNotAllowed, "not_allowed"},
    {ErrorCode::kInternal, "internal"},
};

TEST(ErrorNameTest, EveryCodeHasItsProtocolName) {
  for (const auto& [code, name] : kWireNames) {
    EXPECT_EQ(errorName(code), name) << static_cast<int>(code);
  }
}

TEST(ErrorNameTest, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (const auto& [code, name] : kWireNames) names.insert(errorName(code));
  EXPECT_EQ(names.size(), kWireNames.size());
}

TEST(ErrorNameTest, OutOfRangeValueMapsToInternal) {
  EXPECT_EQ(errorName(static_cast<ErrorCode>(999)), "internal");
}

TEST(RequestErrorTest, CarriesCodeAndMessage) {
  const RequestError e(ErrorCode::kBadField, "name too long");
  EXPECT_EQ(e.code(), ErrorCode::kBadField);
  EXPECT_STREQ(e.what(), "name too long");
}

TEST(RequestErrorTest, IsCaughtAsRuntimeError) {
  try {
    throw RequestError(ErrorCode::kNotJoined, "join first");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "join first");
    return;
  }
  FAIL() << "RequestError was not caught as std::runtime_error";
}

}  // namespace
}  // namespace mcu::core
