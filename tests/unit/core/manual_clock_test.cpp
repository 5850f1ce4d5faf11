#include <catch2/catch.hpp>

#include <thread>

#include "manual_clock.h"

using namespace qlik_reload;
using qlik_reload::testing::ManualClock;

TEST_CASE("ManualClock moves only when told", "[clock]") {
  ManualClock clock;
  auto t0 = clock.now();
  auto w0 = clock.wallNow();
  clock.advance(Duration(1500));
  CHECK(clock.now() - t0 == std::chrono::milliseconds(1500));
  CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(clock.wallNow() - w0).count() == 1500);
}

TEST_CASE("ManualClock wakes a sleeper exactly when its deadline comes", "[clock]") {
  ManualClock clock;
  auto start = clock.now();
  std::thread sleeper([&] { clock.sleepFor(Duration(2 * 3600 * 1000)); });
  REQUIRE(clock.waitForSleepers(1));
  clock.advance(Duration(1000));
  REQUIRE(clock.waitForSleepers(1));  // still asleep: its deadline has not come
  REQUIRE(clock.advanceToNextDeadline());
  sleeper.join();
  CHECK(clock.now() - start == std::chrono::hours(2));
  CHECK(clock.sleepers() == 0);
  CHECK_FALSE(clock.advanceToNextDeadline());
}
