#include "tracker.h"

#include <cmath>

namespace qlik_reload::bench {

void ReloadTracker::started(std::size_t index, const std::string& executionId, double wallMs) {
  std::lock_guard<std::mutex> guard(mutex_);
  ReloadTrace& trace = traces_.at(index);
  if (!std::isnan(trace.startedWallMs) || !trace.error.empty()) return;
  trace.executionId = executionId;
  trace.startedWallMs = wallMs;
  ++started_;
  changed_.notify_all();
}

void ReloadTracker::finished(std::size_t index, const std::string& state, double wallMs) {
  std::lock_guard<std::mutex> guard(mutex_);
  ReloadTrace& trace = traces_.at(index);
  if (!trace.state.empty() || !trace.error.empty()) return;
  trace.state = state;
  trace.detectedWallMs = wallMs;
  ++done_;
  changed_.notify_all();
}

void ReloadTracker::failed(std::size_t index, const std::string& error) {
  std::lock_guard<std::mutex> guard(mutex_);
  ReloadTrace& trace = traces_.at(index);
  if (!trace.state.empty() || !trace.error.empty()) return;
  if (std::isnan(trace.startedWallMs)) ++started_;
  trace.error = error;
  ++done_;
  changed_.notify_all();
}

bool ReloadTracker::waitAllStarted(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return started_ == traces_.size(); });
}

bool ReloadTracker::waitAllDone(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return done_ == traces_.size(); });
}

std::size_t ReloadTracker::doneCount() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return done_;
}

std::vector<ReloadTrace> ReloadTracker::traces() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return traces_;
}

}  // namespace qlik_reload::bench
