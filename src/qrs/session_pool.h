// Internal to src/qrs: keep-alive HTTPS sessions to one QRS, reused across
// calls. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include <Poco/Net/HTTPSClientSession.h>

namespace qlik_reload::qrs {

// An HTTPSClientSession that can open its connection as a step of its own,
// so a failure there is known to be a connect failure.
class PooledSession final : public Poco::Net::HTTPSClientSession {
 public:
  using Poco::Net::HTTPSClientSession::HTTPSClientSession;
  void connect() { reconnect(); }
};

class SessionPool {
 public:
  // Keeps at most `maxIdle` idle sessions, each for at most `idleLimit`
  // after its last use (below common server idle timeouts, so a pooled
  // connection is rarely already closed by QRS).
  SessionPool(std::size_t maxIdle, std::chrono::milliseconds idleLimit);
  ~SessionPool();
  SessionPool(const SessionPool&) = delete;
  SessionPool& operator=(const SessionPool&) = delete;

  // The most recently used idle session that is still fresh, or nullptr.
  // Stale sessions found on the way are closed.
  std::unique_ptr<PooledSession> takeIdle();
  // Returns a session whose last answer was read completely and allowed
  // keep-alive. Closed when the pool is full.
  void giveBack(std::unique_ptr<PooledSession> session);

  std::size_t idleCount() const;

 private:
  struct Idle {
    std::unique_ptr<PooledSession> session;
    std::chrono::steady_clock::time_point since;
  };
  const std::size_t maxIdle_;
  const std::chrono::milliseconds idleLimit_;
  mutable std::mutex mutex_;
  std::vector<Idle> idle_;
};

}  // namespace qlik_reload::qrs
