// Calendar times on the wire. QRS writes "2024-05-02T08:00:01.200Z" and uses
// "1753-01-01T00:00:00.000Z" (SQL's minimum date) for "not set". We write the
// same ISO 8601 UTC form with milliseconds everywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace qlik_reload {

using WallTime = Clock::WallTime;

// "2026-01-02T03:04:05.678Z"
std::string formatIso8601(WallTime time);

// Parses QRS's date-times: "yyyy-MM-ddTHH:mm:ss[.f{1,7}](Z|±hh:mm)". Answers
// nullopt for the "not set" date (any time in the year 1753 or before).
// Fails with kProtocol on anything else, and for dates after 2262-04-11,
// which WallTime cannot hold.
Result<std::optional<WallTime>> parseQrsTime(std::string_view text);

std::int64_t toEpochMs(WallTime time);
// Milliseconds beyond what WallTime holds (about 1677-09-21 to 2262-04-11
// UTC) are clamped to its range.
WallTime fromEpochMs(std::int64_t ms);

}  // namespace qlik_reload
