// Capped geometric backoff with optional jitter. A small pure object: it only
// computes delays; callers decide when to wait.
//
//   delay(n) = min(initial * multiplier^n, max), then jittered by ±jitter.
//
// Not thread-safe; one instance per schedule.
#pragma once

#include <cstdint>

#include "core/clock.h"

namespace qlik_reload {

struct BackoffOptions {
  Duration initial{250};    // first delay
  Duration max{5000};       // no delay exceeds this (before jitter)
  double multiplier = 2.0;  // growth per step, >= 1
  double jitter = 0.0;      // 0.2 = each delay is drawn from [0.8 d, 1.2 d]; capped at max
};

class Backoff {
 public:
  explicit Backoff(BackoffOptions options, std::uint64_t seed = 0x5eedULL);

  // The delay before the next attempt; advances the schedule.
  Duration next();
  // Back to the initial delay (after progress was seen).
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }
  const BackoffOptions& options() const { return options_; }

 private:
  BackoffOptions options_;
  int attempt_ = 0;
  // splitmix64: 8 bytes of state (a mt19937_64 is 2.5 KiB, and the monitor
  // keeps a Backoff per followed execution).
  std::uint64_t random_;
  double nextUnit();  // uniform in [0, 1)
};

}  // namespace qlik_reload
