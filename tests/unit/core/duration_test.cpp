#include <catch2/catch.hpp>

#include "core/duration.h"

using qlik_reload::Duration;
using qlik_reload::formatDuration;
using qlik_reload::parseDuration;

TEST_CASE("parseDuration accepts the documented forms", "[duration]") {
  auto [text, ms] = GENERATE(table<const char*, long long>({
      {"90s", 90'000},
      {"15m", 900'000},
      {"2h", 7'200'000},
      {"1h30m", 5'400'000},
      {"1d", 86'400'000},
      {"500ms", 500},
      {"250", 250},
      {"0s", 0},
      {"1m30s250ms", 90'250},
  }));
  CAPTURE(text);
  auto parsed = parseDuration(text);
  REQUIRE(parsed.isOk());
  CHECK(parsed.value().count() == ms);
}

TEST_CASE("parseDuration rejects malformed text with a message quoting it", "[duration]") {
  auto [text, fragment] = GENERATE(table<const char*, const char*>({
      {"", "empty duration"},
      {"abc", "expected a number"},
      {"-5s", "expected a number"},
      {"10x", "unknown unit 'x'"},
      {"10 s", "unexpected character ' '"},
      {"30m1h", "larger to smaller"},
      {"5s5s", "larger to smaller"},
      {"1h30", "must stand alone"},
      {"400d", "too long"},
      {"99999999999999999999h", "too long"},
  }));
  CAPTURE(text);
  auto parsed = parseDuration(text);
  REQUIRE_FALSE(parsed.isOk());
  CHECK(parsed.status().code() == qlik_reload::ErrorCode::kInvalidArgument);
  CHECK_THAT(parsed.status().message(), Catch::Contains(fragment));
}

TEST_CASE("formatDuration reads naturally", "[duration]") {
  CHECK(formatDuration(Duration(850)) == "850ms");
  CHECK(formatDuration(Duration(4500)) == "4.5s");
  CHECK(formatDuration(Duration(61'000)) == "1m 1s");
  CHECK(formatDuration(Duration(7'384'000)) == "2h 3m 4s");
}
