#include "core/clock.h"

namespace qlik_reload {

void Clock::sleepUntil(TimePoint deadline) {
  std::mutex mutex;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(mutex);
  while (now() < deadline) waitUntil(lock, cv, deadline);
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace qlik_reload
