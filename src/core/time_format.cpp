#include "core/time_format.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

namespace qlik_reload {
namespace {

// The instants WallTime can hold, in epoch milliseconds (system_clock counts
// nanoseconds in 64 bits here: about 1677-09-21 to 2262-04-11).
constexpr std::int64_t kMinWallTimeMs =
    std::chrono::duration_cast<std::chrono::milliseconds>(WallTime::duration::min()).count();
constexpr std::int64_t kMaxWallTimeMs =
    std::chrono::duration_cast<std::chrono::milliseconds>(WallTime::duration::max()).count();

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool readDigits(std::string_view text, size_t& pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    out = out * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::int64_t toEpochMs(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

WallTime fromEpochMs(std::int64_t ms) {
  ms = std::clamp(ms, kMinWallTimeMs, kMaxWallTimeMs);  // beyond them the conversion would overflow
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(ms)));
}

std::string formatIso8601(WallTime time) {
  std::int64_t ms = toEpochMs(time);
  std::int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  std::int64_t rest = ms - days * 86400000;
  std::int64_t y;
  unsigned m, d;
  civilFromDays(days, y, m, d);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<long long>(y), m, d,
                static_cast<int>(rest / 3600000), static_cast<int>((rest / 60000) % 60),
                static_cast<int>((rest / 1000) % 60), static_cast<int>(rest % 1000));
  return buffer;
}

Result<std::optional<WallTime>> parseQrsTime(std::string_view text) {
  auto bad = [&] {
    return Status::protocol("invalid date-time '" + std::string(text.substr(0, 40)) +
                            "' (expected yyyy-MM-ddTHH:mm:ss.fffZ)");
  };
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!readDigits(text, pos, 4, year) || !expect(text, pos, '-') || !readDigits(text, pos, 2, month) ||
      !expect(text, pos, '-') || !readDigits(text, pos, 2, day) || !expect(text, pos, 'T') ||
      !readDigits(text, pos, 2, hour) || !expect(text, pos, ':') || !readDigits(text, pos, 2, minute) ||
      !expect(text, pos, ':') || !readDigits(text, pos, 2, second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return bad();
  std::int64_t fractionMs = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t digits = 0;
    std::int64_t scale = 100;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (digits < 3) fractionMs += (text[pos] - '0') * scale;
      scale /= 10;
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return bad();
  }
  std::int64_t offsetMinutes = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!readDigits(text, pos, 2, oh) || !expect(text, pos, ':') || !readDigits(text, pos, 2, om)) return bad();
    offsetMinutes = sign * (oh * 60 + om);
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  if (year <= 1753) return std::optional<WallTime>();
  std::int64_t days = daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  std::int64_t ms = ((days * 24 + hour) * 60 + minute) * 60000 + second * 1000 + fractionMs - offsetMinutes * 60000;
  if (ms > kMaxWallTimeMs) {
    return Status::protocol("date-time '" + std::string(text.substr(0, 40)) + "' is out of range (latest: 2262-04-11)");
  }
  return std::optional<WallTime>(fromEpochMs(ms));
}

}  // namespace qlik_reload
