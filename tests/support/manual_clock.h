// A Clock that moves only when a test moves it.
//
// Threads that wait on it (Clock::waitUntil) register as sleepers; advance()
// and advanceToNextDeadline() wake the ones whose deadline has come. A test
// waits for the threads under test to be asleep (waitForSleepers) before it
// moves time: that is the readiness signal, never a real sleep.
//
// Thread-safe. The condition variables and mutexes that sleepers wait on must
// outlive their wait, which holds for members of the objects under test.
#pragma once

#include <chrono>
#include <condition_variable>
#include <list>
#include <optional>
#include <mutex>

#include "core/clock.h"

namespace qlik_reload::testing {

class ManualClock final : public Clock {
 public:
  ManualClock();

  TimePoint now() const override;
  WallTime wallNow() const override;
  void waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline) override;
  // Marks the sleepers on `cv` awake at once (so sleepers() drops before
  // they run), then notifies.
  void notifyAll(std::condition_variable& cv) override;

  // Moves time forward and wakes every sleeper whose deadline has come.
  void advance(Duration delta);
  void advanceTo(TimePoint when);
  // Moves time to the earliest sleeper deadline (if later than now) and wakes
  // it. Returns false when nobody is asleep.
  bool advanceToNextDeadline();

  // The earliest deadline of a thread asleep on this clock, if any.
  std::optional<TimePoint> nextDeadline() const;

  // Number of threads asleep on this clock right now.
  int sleepers() const;
  // Blocks (in real time, at most `realTimeout`) until at least `count`
  // threads are asleep on this clock. Returns false on timeout.
  bool waitForSleepers(int count, std::chrono::milliseconds realTimeout = std::chrono::seconds(10)) const;

 private:
  struct Sleeper {
    std::mutex* mutex;
    std::condition_variable* cv;
    TimePoint deadline;
    bool woken = false;
  };
  void wakeDue();

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  TimePoint now_;
  WallTime wallEpoch_;
  TimePoint steadyEpoch_;
  std::list<Sleeper> sleepers_;
  int notifying_ = 0;
};

}  // namespace qlik_reload::testing
