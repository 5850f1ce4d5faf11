// SiteMonitor: follows every active execution of one Qlik Sense site.
//
// One monitor per site, whatever the number of executions: it keeps a table
// of tracked executions, each with its own poll schedule, and a single loop
// that does the QRS reads that are due and wakes the callers waiting on the
// executions that changed. Callers never poll QRS themselves.
//
// The life of a tracked execution, one QRS read per step:
//   session  GET executionsession/{id}: 200 → still running (status of the
//            current attempt); 404 → the run has ended, read the results.
//   results  GET executionresult/full?filter=ExecutionId eq {id}: every
//            attempt, sorted. The latest attempt decides. No row yet, or a
//            latest attempt that is not terminal (Retry, the early-404 race)
//            → back to session polling.
//   log      when the reload did not succeed: script-log ticket
//            (scriptlogfile, falling back to the older scriptlog endpoint),
//            then the download, retried a few times because Qlik often
//            cannot serve the log for a moment after the run ends.
//   final    the outcome is known and will not change.
// Transient QRS errors never lose an execution: the step backs off and is
// tried again; the error is shown in the status message meanwhile.
//
// Thread-safety: every public method is thread-safe. QRS I/O happens outside
// the monitor's lock. Time comes from the injected Clock; tests drive the
// background loop with a manual clock.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/status.h"
#include "qrs/client.h"
#include "reload/status.h"

namespace qlik_reload {

struct MonitorOptions {
  BackoffOptions poll{Duration(250), Duration(5000), 2.0, 0.1};  // per-execution poll schedule
  Duration logRetryDelay{500};      // first delay between script-log attempts (doubles)
  int logAttempts = 4;              // tries before giving up on the log
  std::size_t logTailLines = 40;    // lines kept in scriptLogTail
  std::size_t logTailBytes = 64 * 1024;  // bytes of the log downloaded and kept, at most
  Duration lostAfter{10 * 60 * 1000};    // neither a session nor a result this long → reported lost
  Duration retention{24 * 3600 * 1000};  // finished executions stay answerable this long
  std::uint64_t jitterSeed = 0x5eedULL;
};

// What the caller knows when it asks the monitor to follow an execution.
struct TrackInfo {
  std::string taskId;    // may be empty (started by name); learned from QRS
  std::string taskName;
  std::string labels;    // "dag=sales run=r1", for log lines
  bool attached = false; // someone else started it
  std::optional<WallTime> requestedAt;
  std::string message;   // the first message to report
};

class SiteMonitor {
 public:
  SiteMonitor(std::string site, qrs::QrsClient& qrs, Clock& clock, MonitorOptions options);
  ~SiteMonitor();
  SiteMonitor(const SiteMonitor&) = delete;
  SiteMonitor& operator=(const SiteMonitor&) = delete;

  // Called, outside the monitor's lock, whenever a tracked execution's state,
  // Qlik status, terminal or timed-out flag changed. Set before start().
  using Observer = std::function<void(const ReloadStatus&)>;
  void setObserver(Observer observer) { observer_ = std::move(observer); }

  // Starts the background loop. Without it, nothing is polled.
  void start();
  // Stops the loop and wakes every waiter; waits return the current status.
  // Tracked executions are left as they are in Qlik.
  void shutdown();
  bool isShuttingDown() const;

  // Follows `executionId` from now on (no-op when already tracked).
  void track(const std::string& executionId, const TrackInfo& info);
  // Follows an execution found by a lookup, seeded with what QRS answered.
  void trackSession(const qrs::ExecutionSession& session, const TrackInfo& info);
  void trackResults(const std::string& executionId, const std::vector<qrs::ExecutionResult>& rows,
                    const TrackInfo& info);

  bool isTracked(const std::string& executionId) const;
  std::optional<ReloadStatus> snapshot(const std::string& executionId) const;

  // Blocks until the execution is final (terminal, log gathered), until
  // `deadline`, or until shutdown; returns the status then. nullopt when the
  // execution is not tracked.
  std::optional<ReloadStatus> awaitFinal(const std::string& executionId, Clock::TimePoint deadline);
  // Blocks until the task id of the execution is known (or final, deadline,
  // shutdown). Returns the task id, empty when still unknown.
  std::string awaitTaskId(const std::string& executionId, Clock::TimePoint deadline);

  // Polls this execution at once and then fast again (after a stop request).
  void expedite(const std::string& executionId);
  // Records that a stop was requested because the request timed out, so
  // later reads still say timedOut.
  void markTimedOut(const std::string& executionId, const std::string& message);
  void setMessage(const std::string& executionId, const std::string& message);

  // Does every QRS read that is due now; returns when the next one is due
  // (TimePoint::max() when nothing is tracked). The background loop calls it.
  Clock::TimePoint pollDue();

  std::size_t trackedCount() const;
  std::size_t activeCount() const;  // not final yet
  const std::string& site() const { return site_; }

 private:
  enum class Phase { kSession, kResults, kLog, kFinal };
  struct Tracked;

  Tracked& insertLocked(const std::string& executionId, const TrackInfo& info);
  void step(const std::string& executionId, Phase phase);
  void stepChain(const std::string& executionId, Phase phase, std::optional<ReloadStatus>& changed);
  void stepSession(const std::string& executionId);
  void stepResults(const std::string& executionId);
  void stepLog(const std::string& executionId);
  // Applies QRS answers to a record; caller holds mutex_.
  void applySessionLocked(Tracked& t, const qrs::ExecutionSession& session);
  void applyResultsLocked(Tracked& t, const std::vector<qrs::ExecutionResult>& rows);
  void finishLocked(Tracked& t, const std::string& logNote);
  void scheduleRetryLocked(Tracked& t, const Status& error, const char* what);
  void notifyLocked();
  void loop();
  void observe(const ReloadStatus& status) const {
    if (observer_) observer_(status);
  }

  const std::string site_;
  qrs::QrsClient& qrs_;
  Clock& clock_;
  const MonitorOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;  // waiters: some status changed
  std::condition_variable wake_;     // the loop: new work
  bool wakeRequested_ = false;
  bool shuttingDown_ = false;
  std::map<std::string, std::unique_ptr<Tracked>> tracked_;
  std::thread thread_;
  Observer observer_;
};

}  // namespace qlik_reload
