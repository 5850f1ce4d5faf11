#include "core/backoff.h"

#include <algorithm>
#include <cmath>

namespace qlik_reload {

double Backoff::nextUnit() {
  std::uint64_t z = (random_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

Backoff::Backoff(BackoffOptions options, std::uint64_t seed) : options_(options), random_(seed) {
  options_.multiplier = std::max(1.0, options_.multiplier);
  options_.jitter = std::clamp(options_.jitter, 0.0, 1.0);
  if (options_.initial.count() < 1) options_.initial = Duration(1);
  if (options_.max < options_.initial) options_.max = options_.initial;
}

Duration Backoff::next() {
  const double cap = static_cast<double>(options_.max.count());
  // The exponent stops at 64: far past any cap, and pow() cannot overflow.
  const int exponent = std::min(attempt_, 64);
  double delay = std::min(cap, static_cast<double>(options_.initial.count()) *
                                   std::pow(options_.multiplier, exponent));
  ++attempt_;
  if (options_.jitter > 0.0) {
    const double spread = 1.0 - options_.jitter + 2.0 * options_.jitter * nextUnit();
    delay = std::min(cap, delay * spread);
  }
  return Duration(static_cast<Duration::rep>(std::llround(std::max(1.0, delay))));
}

}  // namespace qlik_reload
