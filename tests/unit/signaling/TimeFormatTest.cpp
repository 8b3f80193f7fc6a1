#include "signaling/TimeFormat.hpp"

#include <gtest/gtest.h>

#include <ctime>

namespace mcu::signaling {
namespace {

// 2026-11-28T01:00:00Z, checked with `date -u -d 2026-11-28T01:00:00Z +%s`.
constexpr std::int64_t kSample = 1795827600;

TEST(TimeFormat, FormatsUtcWithZ) {
  EXPECT_EQ(formatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatRfc3339(kSample), "2026-11-28T01:00:00Z");
  EXPECT_EQ(formatRfc3339(951782400), "2000-02-29T00:00:00Z");  // leap day of a 400-year
  EXPECT_EQ(formatRfc3339(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(formatRfc3339(253402300799), "9999-12-31T23:59:59Z");
}

TEST(TimeFormat, ParsesZuluAndOffsets) {
  EXPECT_EQ(parseRfc3339("2026-11-28T01:00:00Z"), kSample);
  EXPECT_EQ(parseRfc3339("2026-11-28T08:00:00+07:00"), kSample);
  EXPECT_EQ(parseRfc3339("2026-11-27T20:30:00-04:30"), kSample);
  EXPECT_EQ(parseRfc3339("2026-11-28T01:00:00+00:00"), kSample);
  EXPECT_EQ(parseRfc3339("2026-11-28T01:00:00-00:00"), kSample);
  EXPECT_EQ(parseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parseRfc3339("1969-12-31T23:59:59Z"), -1);
}

TEST(TimeFormat, TruncatesFractions) {
  EXPECT_EQ(parseRfc3339("2026-11-28T01:00:00.999Z"), kSample);
  EXPECT_EQ(parseRfc3339("2026-11-28T08:00:00.5+07:00"), kSample);
  EXPECT_EQ(parseRfc3339("2026-11-28T01:00:00.123456789Z"), kSample);
}

TEST(TimeFormat, LeapYears) {
  EXPECT_TRUE(parseRfc3339("2024-02-29T00:00:00Z"));
  EXPECT_TRUE(parseRfc3339("2000-02-29T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2026-02-29T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339("1900-02-29T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2026-04-31T00:00:00Z"));
}

TEST(TimeFormat, RejectsEverythingElse) {
  for (const char* text : {
           "",
           "2026-11-28",
           "2026-11-28T01:00:00",           // no zone
           "2026-11-28 01:00:00Z",          // space instead of T
           "2026-11-28t01:00:00z",          // lower case
           "2026-11-28T01:00Z",             // no seconds
           "2026-11-28T01:00:00.Z",         // empty fraction
           "2026-11-28T01:00:00+0700",      // offset without colon
           "2026-11-28T01:00:00+07",        // offset without minutes
           "2026-11-28T01:00:00+24:00",     // offset out of range
           "2026-11-28T01:00:00+07:60",     //
           "2026-13-01T00:00:00Z",          // month 13
           "2026-00-01T00:00:00Z",          // month 0
           "2026-11-00T00:00:00Z",          // day 0
           "2026-11-31T00:00:00Z",          // November 31
           "2026-11-28T24:00:00Z",          // hour 24
           "2026-11-28T23:60:00Z",          // minute 60
           "2026-11-28T23:59:60Z",          // leap second
           "26-11-28T01:00:00Z",            // two-digit year
           "+2026-11-28T01:00:00Z",         // signed year
           "2026-1-28T01:00:00Z",           // one-digit month
           "2026-11-28T01:00:00Z ",         // trailing space
           " 2026-11-28T01:00:00Z",         // leading space
           "2026-11-28T01:00:00ZZ",         // junk after the zone
           "2026-11-28T01:00:00+07:00:00",  //
           "2026-11-28T01:0a:00Z",          //
           "1795827600",                    // a number
       }) {
    EXPECT_EQ(parseRfc3339(text), std::nullopt) << text;
  }
}

TEST(TimeFormat, RoundTripsAgainstTimegm) {
  // Every day over four centuries, at a varying time of day, compared with the C library.
  for (std::int64_t t = -12219292800; t < 253402300799; t += 86400 * 7 + 3607) {
    const std::string text = formatRfc3339(t);
    ASSERT_EQ(parseRfc3339(text), t) << text;
    std::tm tm{};
    const std::time_t value = static_cast<std::time_t>(t);
    ASSERT_NE(gmtime_r(&value, &tm), nullptr);
    char expected[32];
    std::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ASSERT_EQ(text, expected);
  }
}

}  // namespace
}  // namespace mcu::signaling
