#include "core/backoff.h"

#include <algorithm>
#include <cmath>

namespace qlik_reload {

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
    std::uniform_real_distribution<double> spread(1.0 - options_.jitter, 1.0 + options_.jitter);
    delay = std::min(cap, delay * spread(random_));
  }
  return Duration(static_cast<Duration::rep>(std::llround(std::max(1.0, delay))));
}

}  // namespace qlik_reload
