// Runs simulated time forward until an operation finished.
//
// The operation runs on its own thread; the test thread waits until every
// participant (the monitor loop and the operation) is asleep on the manual
// clock — the readiness signal — and then moves time to the earliest
// deadline. A two-hour reload takes milliseconds and nothing real sleeps.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <future>

#include "manual_clock.h"

namespace qlik_reload::testing {

template <typename T>
T driveUntilReady(ManualClock& clock, std::future<T>& future, int participants = 2, int maxSteps = 100000) {
  using namespace std::chrono_literals;
  for (int step = 0; step < maxSteps; ++step) {
    if (future.wait_for(0s) == std::future_status::ready) return future.get();
    if (!clock.waitForSleepers(participants, 20ms)) continue;
    if (future.wait_for(0s) == std::future_status::ready) return future.get();
    clock.advanceToNextDeadline();
  }
  FAIL("the operation did not finish within " << maxSteps << " simulated steps");
  return future.get();
}

// Lets simulated time pass (with the monitor polling) up to exactly `until`,
// never beyond, and returns once the participants are asleep again (so what
// they did meanwhile is done).
inline void runFor(ManualClock& clock, std::chrono::milliseconds span, int participants = 1) {
  using namespace std::chrono_literals;
  const auto until = clock.now() + span;
  for (;;) {
    REQUIRE(clock.waitForSleepers(participants, 10s));
    auto next = clock.nextDeadline();
    if (!next || *next > until) {
      clock.advanceTo(until);
      break;
    }
    clock.advanceTo(*next);
  }
  REQUIRE(clock.waitForSleepers(participants, 10s));
}

}  // namespace qlik_reload::testing
