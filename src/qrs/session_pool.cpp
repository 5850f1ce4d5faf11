#include "qrs/session_pool.h"

#include <utility>

namespace qlik_reload::qrs {

SessionPool::SessionPool(std::size_t maxIdle, std::chrono::milliseconds idleLimit)
    : maxIdle_(maxIdle), idleLimit_(idleLimit) {}

SessionPool::~SessionPool() = default;

std::unique_ptr<PooledSession> SessionPool::takeIdle() {
  std::vector<Idle> stale;  // closed outside the lock: closing does I/O
  std::unique_ptr<PooledSession> found;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    while (!idle_.empty()) {
      Idle candidate = std::move(idle_.back());
      idle_.pop_back();
      if (now - candidate.since < idleLimit_) {
        found = std::move(candidate.session);
        break;
      }
      stale.push_back(std::move(candidate));
    }
    // Everything older than the one found is older still.
    if (found) {
      for (auto it = idle_.begin(); it != idle_.end();) {
        if (now - it->since >= idleLimit_) {
          stale.push_back(std::move(*it));
          it = idle_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  return found;
}

void SessionPool::giveBack(std::unique_ptr<PooledSession> session) {
  if (!session) return;
  std::unique_ptr<PooledSession> overflow;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() < maxIdle_) {
      idle_.push_back(Idle{std::move(session), std::chrono::steady_clock::now()});
    } else {
      overflow = std::move(session);
    }
  }
}

std::size_t SessionPool::idleCount() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return idle_.size();
}

}  // namespace qlik_reload::qrs
