// ReloadTracker: what each client of a benchmark run saw, and when. The
// clients (Thrift or naive) report into it from their own threads; the
// harness waits on it for "every reload started" and "every reload done".
//
// Thread-safe. Times are wall milliseconds (measure.h wallMsNow()).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

namespace qlik_reload::bench {

struct ReloadTrace {
  std::string executionId;
  double startedWallMs = std::numeric_limits<double>::quiet_NaN();   // the start's answer arrived
  double detectedWallMs = std::numeric_limits<double>::quiet_NaN();  // the client saw the terminal state
  std::string state;  // the terminal state the client saw: SUCCEEDED, FAILED, ... ("" until then)
  std::string error;  // why this client gave up ("" when it did not)
};

class ReloadTracker {
 public:
  explicit ReloadTracker(std::size_t reloads) : traces_(reloads) {}

  // The start of reload `index` was answered with `executionId`.
  void started(std::size_t index, const std::string& executionId, double wallMs);
  // The client saw the terminal `state`.
  void finished(std::size_t index, const std::string& state, double wallMs);
  // The client gave up; counts as started (if it was not) and done.
  void failed(std::size_t index, const std::string& error);

  // Block until every reload has started (or failed) / is done, or until
  // `deadline`; false on the deadline.
  bool waitAllStarted(std::chrono::steady_clock::time_point deadline);
  bool waitAllDone(std::chrono::steady_clock::time_point deadline);

  std::size_t size() const { return traces_.size(); }
  std::size_t doneCount() const;
  std::vector<ReloadTrace> traces() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<ReloadTrace> traces_;
  std::size_t started_ = 0;
  std::size_t done_ = 0;
};

}  // namespace qlik_reload::bench
