#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "core/time_format.h"

using namespace qlik_reload;

TEST_CASE("formatIso8601 writes UTC with milliseconds", "[time]") {
  CHECK(formatIso8601(fromEpochMs(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(formatIso8601(fromEpochMs(1767323045678LL)) == "2026-01-02T03:04:05.678Z");
  CHECK(formatIso8601(fromEpochMs(951782400000LL)) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("parseQrsTime reads QRS's forms and round-trips", "[time]") {
  auto [text, ms] = GENERATE(table<const char*, long long>({
      {"2026-01-02T03:04:05.678Z", 1767323045678LL},
      {"2026-01-02T03:04:05Z", 1767323045000LL},
      {"2026-01-02T03:04:05.6789123Z", 1767323045678LL},
      {"2026-01-02T04:04:05.678+01:00", 1767323045678LL},
      {"2026-01-02T03:04:05.678+00:00", 1767323045678LL},
  }));
  CAPTURE(text);
  auto parsed = parseQrsTime(text);
  REQUIRE(parsed.isOk());
  REQUIRE(parsed.value().has_value());
  CHECK(toEpochMs(*parsed.value()) == ms);
}

TEST_CASE("parseQrsTime treats the 1753 date as not set", "[time]") {
  auto parsed = parseQrsTime("1753-01-01T00:00:00.000Z");
  REQUIRE(parsed.isOk());
  CHECK_FALSE(parsed.value().has_value());
}

TEST_CASE("parseQrsTime rejects garbage with a protocol error", "[time]") {
  for (const char* text : {"", "yesterday", "2026-13-01T00:00:00Z", "2026-01-02 03:04:05Z", "2026-01-02T03:04:05",
                           "2026-01-02T03:04:05.Z", "2026-01-02T03:04:05.000Zjunk", "2670-01-01T00:00:00Z",
                           "9999-12-31T23:59:59.999Z"}) {
    CAPTURE(text);
    auto parsed = parseQrsTime(text);
    REQUIRE_FALSE(parsed.isOk());
    CHECK(parsed.status().code() == ErrorCode::kProtocol);
  }
}

TEST_CASE("fromEpochMs clamps milliseconds beyond what WallTime holds", "[time]") {
  const WallTime latest = fromEpochMs(std::numeric_limits<std::int64_t>::max());
  CHECK(formatIso8601(latest).rfind("2262-04-11T", 0) == 0);
  CHECK(fromEpochMs(22089888000000LL) == latest);  // 2670-01-01
  CHECK(formatIso8601(fromEpochMs(std::numeric_limits<std::int64_t>::min())).rfind("1677-09-21T", 0) == 0);
  CHECK(toEpochMs(fromEpochMs(-6847804800000LL)) == -6847804800000LL);  // 1753-01-01 is inside
}
