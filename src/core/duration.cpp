#include "core/duration.h"

#include <cctype>
#include <cstdint>
#include <limits>

namespace qlik_reload {
namespace {

// Longest accepted duration: 365 days. Anything longer is a typo.
constexpr std::int64_t kMaxMs = 365LL * 24 * 3600 * 1000;

std::int64_t unitMs(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "m") return 60 * 1000;
  if (unit == "h") return 3600 * 1000;
  if (unit == "d") return 24 * 3600 * 1000;
  return 0;
}

}  // namespace

Result<Duration> parseDuration(std::string_view text) {
  const std::string quoted = "'" + std::string(text.substr(0, 64)) + (text.size() > 64 ? "…'" : "'");
  if (text.empty()) return Status::invalidArgument("empty duration; use e.g. 90s, 15m or 2h");
  std::int64_t total = 0;
  std::int64_t previousUnit = std::numeric_limits<std::int64_t>::max();
  size_t i = 0;
  bool sawUnit = false;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      return Status::invalidArgument("invalid duration " + quoted + ": expected a number; use e.g. 90s, 15m or 2h");
    }
    std::int64_t number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxMs) return Status::invalidArgument("duration " + quoted + " is too long (at most 365d)");
      ++i;
    }
    size_t unitStart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unitStart, i - unitStart);
    if (unit.empty()) {
      if (i != text.size()) {
        return Status::invalidArgument("invalid duration " + quoted + ": unexpected character '" +
                                       std::string(1, text[i]) + "'");
      }
      if (sawUnit) {
        return Status::invalidArgument("invalid duration " + quoted + ": a number without a unit must stand alone");
      }
      total = number;  // bare milliseconds
      break;
    }
    std::int64_t ms = unitMs(unit);
    if (ms == 0) {
      return Status::invalidArgument("invalid duration " + quoted + ": unknown unit '" + std::string(unit) +
                                     "' (use ms, s, m, h or d)");
    }
    if (ms >= previousUnit) {
      return Status::invalidArgument("invalid duration " + quoted + ": units must go from larger to smaller");
    }
    previousUnit = ms;
    sawUnit = true;
    if (number > kMaxMs / ms) return Status::invalidArgument("duration " + quoted + " is too long (at most 365d)");
    total += number * ms;
    if (total > kMaxMs) return Status::invalidArgument("duration " + quoted + " is too long (at most 365d)");
  }
  return Duration(total);
}

std::string formatDuration(Duration duration) {
  std::int64_t ms = duration.count();
  if (ms < 0) return "-" + formatDuration(Duration(-ms));
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string out;
  std::int64_t hours = ms / 3600000;
  std::int64_t minutes = (ms / 60000) % 60;
  std::int64_t seconds = (ms / 1000) % 60;
  std::int64_t tenths = (ms / 100) % 10;
  if (hours > 0) out += std::to_string(hours) + "h ";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m ";
  out += std::to_string(seconds);
  if (hours == 0 && tenths != 0) out += "." + std::to_string(tenths);
  out += "s";
  return out;
}

}  // namespace qlik_reload
