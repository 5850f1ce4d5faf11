#include "manual_clock.h"

#include <algorithm>
#include <vector>

namespace qlik_reload::testing {

ManualClock::ManualClock()
    : now_(TimePoint() + std::chrono::hours(1000)),
      // 2026-01-02T03:04:05.678Z: a fixed, recognisable calendar origin.
      wallEpoch_(WallTime() + std::chrono::milliseconds(1767323045678LL)),
      steadyEpoch_(now_) {}

Clock::TimePoint ManualClock::now() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return now_;
}

Clock::WallTime ManualClock::wallNow() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return wallEpoch_ + std::chrono::duration_cast<WallTime::duration>(now_ - steadyEpoch_);
}

void ManualClock::waitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                            TimePoint deadline) {
  std::list<Sleeper>::iterator self;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (deadline <= now_) return;
    self = sleepers_.insert(sleepers_.end(), Sleeper{lock.mutex(), &cv, deadline});
    changed_.notify_all();
  }
  // The caller's mutex is held from registration until wait() releases it, so
  // a wake-up sent under that mutex cannot be lost.
  cv.wait(lock);
  // Unregister without holding the caller's mutex: a wake-up in progress may
  // be waiting for it.
  lock.unlock();
  {
    std::unique_lock<std::mutex> guard(mutex_);
    changed_.wait(guard, [this] { return notifying_ == 0; });
    sleepers_.erase(self);
    changed_.notify_all();
  }
  lock.lock();
}

void ManualClock::notifyAll(std::condition_variable& cv) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    for (Sleeper& s : sleepers_) {
      if (s.cv == &cv) s.woken = true;
    }
    changed_.notify_all();
  }
  cv.notify_all();
}

void ManualClock::advance(Duration delta) {
  std::unique_lock<std::mutex> guard(mutex_);
  now_ += delta;
  guard.unlock();
  wakeDue();
}

void ManualClock::advanceTo(TimePoint when) {
  std::unique_lock<std::mutex> guard(mutex_);
  now_ = std::max(now_, when);
  guard.unlock();
  wakeDue();
}

bool ManualClock::advanceToNextDeadline() {
  std::unique_lock<std::mutex> guard(mutex_);
  bool any = false;
  TimePoint earliest = TimePoint::max();
  for (const Sleeper& s : sleepers_) {
    if (s.woken) continue;
    any = true;
    earliest = std::min(earliest, s.deadline);
  }
  if (!any) return false;
  now_ = std::max(now_, earliest);
  guard.unlock();
  wakeDue();
  return true;
}

void ManualClock::wakeDue() {
  std::vector<Sleeper*> due;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    for (Sleeper& s : sleepers_) {
      if (!s.woken && s.deadline <= now_) {
        s.woken = true;  // no longer counted as asleep, from this instant
        due.push_back(&s);
      }
    }
    if (due.empty()) return;
    ++notifying_;
    changed_.notify_all();
  }
  for (Sleeper* s : due) {
    std::lock_guard<std::mutex> guard(*s->mutex);
    s->cv->notify_all();
  }
  std::lock_guard<std::mutex> guard(mutex_);
  --notifying_;
  changed_.notify_all();
}

std::optional<Clock::TimePoint> ManualClock::nextDeadline() const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::optional<TimePoint> earliest;
  for (const Sleeper& s : sleepers_) {
    if (!s.woken && (!earliest || s.deadline < *earliest)) earliest = s.deadline;
  }
  return earliest;
}

int ManualClock::sleepers() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return static_cast<int>(std::count_if(sleepers_.begin(), sleepers_.end(),
                                        [](const Sleeper& s) { return !s.woken; }));
}

bool ManualClock::waitForSleepers(int count, std::chrono::milliseconds realTimeout) const {
  std::unique_lock<std::mutex> guard(mutex_);
  return changed_.wait_for(guard, realTimeout, [&] {
    return std::count_if(sleepers_.begin(), sleepers_.end(),
                         [](const Sleeper& s) { return !s.woken; }) >= count;
  });
}

}  // namespace qlik_reload::testing
