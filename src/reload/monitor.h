// SiteMonitor: follows every active execution of one Qlik Sense site.
//
// One monitor per site, whatever the number of executions. It keeps a table
// of tracked executions and one loop that, at each tick, reads the results
// of every execution that is due in ONE batched query
//   GET /qrs/executionresult/full?filter=ExecutionId eq A or ExecutionId eq B …
// (the HTTP client cuts long lists into URL-sized chunks), then wakes exactly
// the callers waiting on executions that changed. Callers never poll QRS.
//
// Each execution has its own poll interval: the initial one after a start
// or a change, growing to the cap while nothing changes. A tick reads the
// executions that are due and those due within half their interval, so
// reloads started together are read together. With change notifications
// (push, see resultsChanged) the interval is the slow fallback instead, and
// each notification reads just the named results.
//
// The life of a tracked execution:
//   active  its attempts are read in batches; the latest attempt decides.
//           No row yet, or a latest attempt that is not terminal (Queued,
//           Started, Retry, Aborting…) → keep following.
//   log     the reload did not succeed: script-log ticket (scriptlogfile,
//           falling back to the older scriptlog endpoint), then the download,
//           retried a few times because Qlik often cannot serve the log at once.
//   final   the outcome is known and will not change.
// Transient QRS errors never lose an execution: the read backs off and is
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
  Duration pushFallback{60'000};         // with push: how often every execution is still read
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

  // Push: QRS said these ExecutionResults changed. They are read (batched)
  // at once; results of executions not tracked here are ignored.
  void resultsChanged(const std::vector<std::string>& resultIds);
  // While push is active, executions are also read every pushFallback, in
  // case a notification is lost.
  void setPushActive(bool active);
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
  enum class Phase { kActive, kLog, kFinal };
  struct Tracked;

  Tracked& insertLocked(const std::string& executionId, const TrackInfo& info);
  // Reads `ids` in one batch and applies what came back.
  void pollBatch(const std::vector<std::string>& ids, std::vector<ReloadStatus>& changed);
  void pollNotified(std::vector<std::string> resultIds, std::vector<ReloadStatus>& changed);
  void stepLog(const std::string& executionId, std::vector<ReloadStatus>& changed);
  // Applies QRS answers to a record; caller holds mutex_.
  void applySessionLocked(Tracked& t, const qrs::ExecutionSession& session);
  // `complete`: the rows are every attempt of the execution (a read by
  // execution id); otherwise they are merged with the attempts seen before.
  void applyResultsLocked(Tracked& t, const std::vector<qrs::ExecutionResult>& rows, bool complete);
  // After a read sent at `readAt`: decides the next step and when it is due
  // (one interval after the read was sent, so a slow read at large N does not
  // stretch the time to see a completion beyond the interval).
  void advanceLocked(Tracked& t, bool changed, bool sawRows, Clock::TimePoint readAt);
  void finishLocked(Tracked& t, const std::string& logNote);
  // What a read may move forward, compared before and after it.
  struct Progress {
    ReloadState state;
    int qlikStatusCode;
    std::size_t attempts;
    bool knowsTask;
    bool operator!=(const Progress& o) const {
      return state != o.state || qlikStatusCode != o.qlikStatusCode || attempts != o.attempts ||
             knowsTask != o.knowsTask;
    }
  };
  static Progress progressOf(const Tracked& t);
  bool waitersCareLocked(const Tracked& t, const Progress& before) const;
  void scheduleRetryLocked(Tracked& t, const Status& error, const char* what);
  // Collects the status for the observer when its report changed.
  void reportLocked(Tracked& t, std::vector<ReloadStatus>& changed);
  Duration capLocked() const;
  void notifyLocked(Tracked& t);
  void loop();
  void observe(const ReloadStatus& status) const {
    if (observer_) observer_(status);
  }

  const std::string site_;
  qrs::QrsClient& qrs_;
  Clock& clock_;
  const MonitorOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;     // the loop: new work
  bool wakeRequested_ = false;
  bool pushActive_ = false;
  std::vector<std::string> notified_;  // result ids named by notifications, not read yet
  bool shuttingDown_ = false;
  std::map<std::string, std::unique_ptr<Tracked>> tracked_;
  std::thread thread_;
  Observer observer_;
};

}  // namespace qlik_reload
