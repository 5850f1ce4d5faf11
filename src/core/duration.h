// Human durations on command lines and in configuration: "90s", "15m", "2h",
// "1h30m", "500ms", "250" (milliseconds).
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace qlik_reload {

// Parses a non-negative duration. Units: ms, s, m, h, d; several may be
// combined in decreasing order ("1h30m"). A bare number is milliseconds.
// Fails with kInvalidArgument and a message quoting the text.
Result<Duration> parseDuration(std::string_view text);

// "2h 3m 4.5s", "850ms": for messages to people.
std::string formatDuration(Duration duration);

}  // namespace qlik_reload
