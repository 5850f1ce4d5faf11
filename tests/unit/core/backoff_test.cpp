#include <catch2/catch.hpp>

#include "core/backoff.h"

using qlik_reload::Backoff;
using qlik_reload::BackoffOptions;
using qlik_reload::Duration;

TEST_CASE("Backoff without jitter follows the exact capped geometric schedule", "[backoff]") {
  Backoff backoff(BackoffOptions{Duration(250), Duration(5000), 2.0, 0.0});
  std::vector<long> seen;
  for (int i = 0; i < 8; ++i) seen.push_back(static_cast<long>(backoff.next().count()));
  CHECK(seen == std::vector<long>{250, 500, 1000, 2000, 4000, 5000, 5000, 5000});
}

TEST_CASE("Backoff reset starts the schedule again", "[backoff]") {
  Backoff backoff(BackoffOptions{Duration(100), Duration(1000), 3.0, 0.0});
  CHECK(backoff.next() == Duration(100));
  CHECK(backoff.next() == Duration(300));
  backoff.reset();
  CHECK(backoff.next() == Duration(100));
}

TEST_CASE("Backoff jitter stays inside its band and under the cap, and is reproducible by seed", "[backoff]") {
  BackoffOptions options{Duration(1000), Duration(4000), 2.0, 0.2};
  Backoff a(options, 42);
  Backoff b(options, 42);
  const double expected[] = {1000, 2000, 4000, 4000, 4000, 4000};
  for (double base : expected) {
    Duration d = a.next();
    CAPTURE(base, d.count());
    CHECK(d.count() >= static_cast<long>(base * 0.8) - 1);
    CHECK(d.count() <= 4000);
    CHECK(b.next() == d);
  }
}

TEST_CASE("Backoff survives very long schedules without overflow", "[backoff]") {
  Backoff backoff(BackoffOptions{Duration(250), Duration(5000), 2.0, 0.0});
  for (int i = 0; i < 10000; ++i) (void)backoff.next();
  CHECK(backoff.next() == Duration(5000));
}

TEST_CASE("Backoff repairs nonsensical options instead of misbehaving", "[backoff]") {
  Backoff backoff(BackoffOptions{Duration(0), Duration(0), 0.5, 7.0});
  CHECK(backoff.next() == Duration(1));
  CHECK(backoff.options().multiplier == 1.0);
  CHECK(backoff.options().jitter == 1.0);
}
