// ReloadOperator: starts reloads on one Qlik Sense site and reports their
// real outcome. One per configured site; thread-safe.
//
// What it guarantees (each has a test):
//  * It follows the execution session its own start returned, never the
//    task's last result.
//  * The all-zero GUID is "not started": NOT_STARTED with the likely causes,
//    or, when the task is already running, the ifRunning policy decides
//    (attach by default).
//  * A start whose answer was lost (transport failure on the POST) is never
//    re-sent: it looks for a session of the task created since the request,
//    attaches when there is one, and otherwise reports a retryable failure
//    that says nothing was started.
//  * The same site + idempotency key returns the execution already started
//    under that key; a second reload is never started for it. Keys bind only
//    to executions that really started.
//  * On timeout with stopOnTimeout it stops the task in Qlik and waits a
//    bounded time for Aborted.
//  * It never stops a reload on its own shutdown.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "qrs/client.h"
#include "reload/journal.h"
#include "reload/monitor.h"
#include "reload/status.h"

namespace qlik_reload {

enum class IfRunning { kAttach, kFail, kWait };

struct StartRequest {
  std::string taskId;    // exactly one of taskId (a GUID) and taskName
  std::string taskName;
  std::string idempotencyKey;
  std::optional<Duration> timeout;  // run: from the start request, queue time included
  bool stopOnTimeout = true;
  std::vector<std::pair<std::string, std::string>> labels;
  IfRunning ifRunning = IfRunning::kAttach;
};

struct OperatorOptions {
  MonitorOptions monitor;
  Duration stopWait{60'000};         // after a stop, wait this long for Aborted
  Duration keyRetention{24 * 3600 * 1000};  // idempotency keys outlive their execution's end by this
  // A session of the task created up to this long before our start request
  // still counts as "ours" after an unanswered start (clocks of the worker
  // and of QRS may differ a little).
  Duration ambiguousStartSkew{5'000};
  Duration journalRetention{14LL * 24 * 3600 * 1000};  // finished entries are pruned after this
  int maxConcurrentStarts = 8;  // start requests in flight to QRS at once; more wait their turn
  // This worker's name in a shared journal. An unanswered start intent of
  // this worker found at startup is from its previous life and is resolved at
  // once; another worker's is left alone until it is older than
  // staleIntentAge (that worker may still be waiting for QRS's answer).
  std::string workerId = "worker";
  Duration staleIntentAge{120'000};
};

class ReloadOperator {
 public:
  // `journal` may be null (nothing survives a restart); it must outlive the
  // operator.
  ReloadOperator(std::string site, qrs::QrsClient& qrs, Clock& clock, OperatorOptions options,
                 Journal* journal = nullptr);
  ~ReloadOperator();

  // Resumes following the journal's unfinished executions, prunes it, and
  // starts the site's monitor loop.
  void start();
  // Stops following executions; waiting calls return the current status at
  // once. Reloads keep running in Qlik.
  void shutdown();

  // Starts the task and returns as soon as QRS answered. With ifRunning=wait
  // this blocks while the task's running execution finishes (bounded by the
  // request's timeout).
  Result<ReloadStatus> startReload(const StartRequest& request);
  // Current status without waiting for the reload. Looks the execution up in
  // QRS when this worker does not follow it (kNotFound when QRS knows neither
  // a session nor a result for it).
  Result<ReloadStatus> getReload(const std::string& executionId);
  // Returns at the final state or after maxWait, whichever first.
  Result<ReloadStatus> waitReload(const std::string& executionId, Duration maxWait);
  // Start, then wait for the final state or the request's timeout.
  Result<ReloadStatus> runReload(const StartRequest& request);
  // Stops the task in Qlik (when this execution is still going) and waits up
  // to stopWait for Aborted.
  Result<ReloadStatus> cancelReload(const std::string& executionId);

  // Push: subscribes to QRS's change notifications with `callbackUrl`, after
  // removing the subscription an earlier run of this worker left behind (its
  // handle is in the journal). On failure polling continues alone; the
  // failure is returned for the log.
  Status enablePush(const std::string& callbackUrl);
  // Removes this run's subscription (at shutdown).
  void disablePush();

  SiteMonitor& monitor() { return monitor_; }
  const std::string& site() const { return site_; }

 private:
  struct KeyEntry {
    bool inFlight = true;
    std::string executionId;
    Clock::TimePoint boundAt;
  };

  std::string pushMetaKey() const;  // where the journal keeps this worker's subscription handle
  Result<ReloadStatus> startJournaled(const StartRequest& request, Clock::TimePoint deadline,
                                      const std::string& labels);
  // `unresolved` (may be null) is set when the start may have created an
  // execution that could not be looked for; its journal intent stays open.
  Result<ReloadStatus> startWithPolicy(const StartRequest& request, Clock::TimePoint deadline,
                                       const std::string& labels, bool* unresolved);
  // An intent without an answer (the worker stopped mid-start): attach to the
  // execution that start created, or record that nothing started.
  Result<std::optional<ReloadStatus>> resolveInterruptedStart(const JournalEntry& entry);
  void resume();
  bool resolvableIntent(const JournalEntry& entry) const;
  void pruneJournal();
  ReloadStatus statusFromJournal(const JournalEntry& entry) const;
  Result<ReloadStatus> ambiguousStart(const StartRequest& request, const Status& failure, WallTime requestedAt,
                                      const std::string& labels, bool* unresolved);
  // Follows the execution of `taskId` created at or after `since` (a live
  // session, else the results of one already over). Its id, or "" if none.
  Result<std::string> followExecutionCreatedSince(const std::string& taskId, WallTime since, const TrackInfo& info);
  Result<std::string> resolveTaskId(const StartRequest& request);
  Result<ReloadStatus> lookUp(const std::string& executionId);
  Result<ReloadStatus> stopAndWait(const std::string& executionId, const std::string& reason);
  ReloadStatus notStarted(const StartRequest& request, const std::string& message) const;
  void pruneKeysLocked();

  const std::string site_;
  qrs::QrsClient& qrs_;
  Clock& clock_;
  const OperatorOptions options_;
  SiteMonitor monitor_;

  Journal* const journal_;
  std::mutex pushMutex_;
  std::string pushHandle_;
  Clock::TimePoint lastPrune_{};

  std::mutex startsMutex_;
  std::condition_variable startsFreed_;
  int startsInFlight_ = 0;

  std::mutex keysMutex_;
  std::condition_variable keysChanged_;
  std::map<std::string, KeyEntry> keys_;
};

}  // namespace qlik_reload
