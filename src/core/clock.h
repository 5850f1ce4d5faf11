// Time, injected. Everything in the core that reads the time or waits takes a
// Clock&, so tests drive a two-hour reload in microseconds with a manual clock
// (tests/support/manual_clock.h) and never sleep.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace qlik_reload {

using Duration = std::chrono::milliseconds;

class Clock {
 public:
  // Monotonic time, for deadlines and schedules.
  using TimePoint = std::chrono::steady_clock::time_point;
  // Calendar time, for timestamps shown to people.
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;

  virtual TimePoint now() const = 0;
  virtual WallTime wallNow() const = 0;

  // Waits on `cv` (whose mutex `lock` holds) until it is notified or until
  // `deadline` on this clock. Like condition_variable::wait_until it may return
  // early; callers re-check their condition. `lock` is held again on return.
  virtual void waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         TimePoint deadline) = 0;

  // Wakes every thread waiting on `cv` through waitUntil. Call it while
  // holding the mutex those waiters use. Code that waits through a Clock
  // notifies through it too, so a manual clock always knows who is asleep.
  virtual void notifyAll(std::condition_variable& cv) { cv.notify_all(); }

  // Blocks the calling thread until `deadline` on this clock.
  void sleepUntil(TimePoint deadline);
  void sleepFor(Duration delay) { sleepUntil(now() + delay); }
};

// The real clocks. Thread-safe; one shared instance is enough.
class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
  void waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline) override {
    cv.wait_until(lock, deadline);
  }

  static SystemClock& instance();
};

}  // namespace qlik_reload
