#include "reload/operator.h"

#include <algorithm>
#include <cctype>

#include "core/duration.h"
#include "core/guid.h"
#include "core/log.h"
#include "core/time_format.h"
#include "reload/describe.h"
#include "reload/push.h"

namespace qlik_reload {
namespace {

constexpr int kMaxWaitRounds = 20;  // ifRunning=wait: starts tried after someone else's run ended

std::string taskLabel(const StartRequest& request) {
  return request.taskId.empty() ? "task '" + request.taskName + "'" : "task " + request.taskId;
}

bool equalsIgnoreCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

ReloadOperator::ReloadOperator(std::string site, qrs::QrsClient& qrs, Clock& clock, OperatorOptions options,
                               Journal* journal)
    : site_(std::move(site)),
      qrs_(qrs),
      clock_(clock),
      options_(std::move(options)),
      monitor_(site_, qrs_, clock_, options_.monitor),
      journal_(journal) {}

ReloadOperator::~ReloadOperator() { shutdown(); }

void ReloadOperator::start() {
  if (journal_ != nullptr) {
    monitor_.setObserver([this](const ReloadStatus& status) {
      Status written = journal_->recordStatus(site_, status, toEpochMs(clock_.wallNow()));
      if (!written.isOk()) logWarn("site " + site_ + ": " + written.message());
    });
    resume();
    pruneJournal();
  }
  monitor_.start();
}

std::string ReloadOperator::pushMetaKey() const {
  // Per worker: workers sharing a journal each hold their own subscription.
  return "push_handle:" + site_ + ":" + options_.workerId;
}

Status ReloadOperator::enablePush(const std::string& callbackUrl) {
  std::lock_guard<std::mutex> guard(pushMutex_);
  const std::string metaKey = pushMetaKey();
  if (journal_ != nullptr) {
    // This worker's own, and the per-site key of versions that kept one
    // handle per site (a journal then belonged to one worker).
    for (const std::string& key : {metaKey, "push_handle:" + site_}) {
      auto stale = journal_->getMeta(key);
      if (!stale.isOk() || stale.value().empty()) continue;
      Status removed = qrs_.unsubscribeChanges(stale.value());
      if (removed.isOk() || removed.code() == ErrorCode::kNotFound) {
        logInfo("site " + site_ + ": removed the change subscription a previous run left (" + stale.value() + ")");
        (void)journal_->setMeta(key, "");
      } else {
        logWarn("site " + site_ + ": cannot remove the previous run's change subscription " + stale.value() + ": " +
                removed.message());
      }
    }
  }
  auto handle = qrs_.subscribeChanges("ExecutionResult", kPushFilter, callbackUrl);
  if (!handle.isOk()) {
    monitor_.setPushActive(false);
    return handle.status().withContext("subscribe to change notifications at " + callbackUrl +
                                       "; following by polling alone");
  }
  pushHandle_ = handle.value();
  if (journal_ != nullptr) {
    Status saved = journal_->setMeta(metaKey, pushHandle_);
    if (!saved.isOk()) logWarn("site " + site_ + ": " + saved.message());
  }
  monitor_.setPushActive(true);
  logInfo("site " + site_ + ": QRS notifies " + callbackUrl + " when a reload ends (subscription " + pushHandle_ +
          "); every execution is still read at least every " + formatDuration(options_.monitor.pushFallback));
  return Status::ok();
}

void ReloadOperator::disablePush() {
  std::lock_guard<std::mutex> guard(pushMutex_);
  if (pushHandle_.empty()) return;
  monitor_.setPushActive(false);
  Status removed = qrs_.unsubscribeChanges(pushHandle_);
  if (removed.isOk() || removed.code() == ErrorCode::kNotFound) {
    if (journal_ != nullptr) (void)journal_->setMeta(pushMetaKey(), "");
    logInfo("site " + site_ + ": removed change subscription " + pushHandle_);
  } else {
    logWarn("site " + site_ + ": cannot remove change subscription " + pushHandle_ + " (" + removed.message() +
            "); the next start removes it");
  }
  pushHandle_.clear();
}

void ReloadOperator::resume() {
  auto entries = journal_->unfinished(site_);
  if (!entries.isOk()) {
    logError("site " + site_ + ": cannot read the journal to resume: " + entries.status().message());
    return;
  }
  int resumed = 0;
  for (const JournalEntry& e : entries.value()) {
    if (e.state == kJournalStarting && !resolvableIntent(e)) continue;  // another worker's start in flight
    if (e.state == kJournalStarting) {
      auto resolved = resolveInterruptedStart(e);
      if (!resolved.isOk()) {
        logWarn("site " + site_ + ": a start interrupted by the last stop is still unresolved (" +
                resolved.status().message() + "); it is checked again when its idempotency key is used");
      } else if (resolved.value()) {
        ++resumed;
      }
      continue;
    }
    if (e.executionId.empty()) continue;
    TrackInfo info;
    info.taskId = e.taskId;
    info.taskName = e.taskName;
    info.labels = e.labels;
    info.attached = e.attached;
    info.requestedAt = fromEpochMs(e.requestedAtMs);
    monitor_.track(e.executionId, info);
    if (e.timedOut) monitor_.markTimedOut(e.executionId, e.message);
    if (!e.idempotencyKey.empty()) {
      std::lock_guard<std::mutex> guard(keysMutex_);
      keys_[e.idempotencyKey] = KeyEntry{false, e.executionId, clock_.now()};
    }
    ++resumed;
  }
  if (resumed > 0) {
    logInfo("site " + site_ + ": resumed following " + std::to_string(resumed) +
            " unfinished execution(s) from the journal");
  }
}

void ReloadOperator::pruneJournal() {
  if (journal_ == nullptr) return;
  const Clock::TimePoint now = clock_.now();
  if (lastPrune_ != Clock::TimePoint() && now - lastPrune_ < std::chrono::hours(1)) return;
  lastPrune_ = now;
  auto pruned = journal_->prune(toEpochMs(clock_.wallNow() - options_.journalRetention));
  if (!pruned.isOk()) {
    logWarn("site " + site_ + ": " + pruned.status().message());
  } else if (pruned.value() > 0) {
    logInfo("site " + site_ + ": pruned " + std::to_string(pruned.value()) + " finished execution(s) older than " +
            formatDuration(options_.journalRetention) + " from the journal");
  }
}

Result<std::optional<ReloadStatus>> ReloadOperator::resolveInterruptedStart(const JournalEntry& entry) {
  StartRequest request;
  request.taskId = entry.taskId;
  request.taskName = entry.taskName;
  const std::string what = taskLabel(request);
  auto taskId = resolveTaskId(request);
  if (!taskId.isOk()) return taskId.status().withContext("resolve the interrupted start of " + what);
  const WallTime since = fromEpochMs(entry.requestedAtMs) - options_.ambiguousStartSkew;
  TrackInfo info;
  info.taskId = taskId.value();
  info.taskName = entry.taskName;
  info.labels = entry.labels;
  info.requestedAt = fromEpochMs(entry.requestedAtMs);
  info.message = "The worker stopped before QRS answered this start; the execution it created was found and "
                 "followed (no second start was sent).";

  auto followed = followExecutionCreatedSince(taskId.value(), since, info);
  if (!followed.isOk()) return followed.status().withContext("resolve the interrupted start of " + what);
  const std::string executionId = followed.value();
  if (executionId.empty()) {
    const std::string message = "The worker stopped while starting " + what +
                                "; Qlik shows no execution of the task created since, so nothing was started.";
    Status written = journal_->recordNotStarted(entry.intentId, kJournalStartFailed, message);
    if (!written.isOk()) return written;
    logWarn("site " + site_ + ": " + message);
    return std::optional<ReloadStatus>();
  }
  Status written = journal_->recordStarted(entry.intentId, executionId, taskId.value(), false, info.message);
  if (!written.isOk()) logWarn("site " + site_ + ": " + written.message());
  logInfo("site " + site_ + ": the start of " + what + " interrupted by the last stop created execution " +
          executionId + "; following it");
  if (!entry.idempotencyKey.empty()) {
    std::lock_guard<std::mutex> guard(keysMutex_);
    keys_[entry.idempotencyKey] = KeyEntry{false, executionId, clock_.now()};
  }
  return std::optional<ReloadStatus>(*monitor_.snapshot(executionId));
}

bool ReloadOperator::resolvableIntent(const JournalEntry& entry) const {
  // Within this process, a start in flight holds its key in keys_, so an
  // intent of ours found here is from before a restart.
  if (entry.owner == options_.workerId) return true;
  const Duration age = std::chrono::duration_cast<Duration>(clock_.wallNow() - fromEpochMs(entry.requestedAtMs));
  return age >= options_.staleIntentAge;
}

Result<std::string> ReloadOperator::followExecutionCreatedSince(const std::string& taskId, WallTime since,
                                                               const TrackInfo& info) {
  auto sessions = qrs_.findExecutionSessionsOfTask(taskId);
  if (!sessions.isOk()) return sessions.status();
  const qrs::ExecutionSession* found = nullptr;
  for (const auto& session : sessions.value()) {
    if (session.createdAt && *session.createdAt >= since && (found == nullptr || *session.createdAt < *found->createdAt)) {
      found = &session;
    }
  }
  if (found != nullptr) {
    qrs::ExecutionSession session = *found;
    session.id = normalizeGuid(session.id);
    if (session.taskId.empty()) session.taskId = taskId;
    monitor_.trackSession(session, info);
    return session.id;
  }
  // No live session: it may have run and ended already (a short reload, a
  // slow answer, a worker that was down).
  auto rows = qrs_.findExecutionResultsOfTask(taskId, since);
  if (!rows.isOk()) return rows.status();
  const qrs::ExecutionResult* first = nullptr;
  for (const auto& row : rows.value()) {
    if (row.createdAt && !row.executionId.empty() && (first == nullptr || *row.createdAt < *first->createdAt)) {
      first = &row;
    }
  }
  if (first == nullptr) return std::string();
  const std::string executionId = normalizeGuid(first->executionId);
  std::vector<qrs::ExecutionResult> mine;
  for (const auto& row : rows.value()) {
    if (normalizeGuid(row.executionId) == executionId) mine.push_back(row);
  }
  monitor_.trackResults(executionId, mine, info);
  return executionId;
}

namespace {

// How an answer begins when an idempotency key had already started an
// execution (runReload keeps it in front of the final status too).
std::string keyReplayNote(const std::string& key, const std::string& executionId) {
  return "Idempotency key '" + key + "' already started execution " + executionId + "; no second reload was started. ";
}

}  // namespace

ReloadStatus ReloadOperator::statusFromJournal(const JournalEntry& e) const {
  ReloadStatus s;
  s.executionId = e.executionId;
  s.site = site_;
  s.taskId = e.taskId;
  s.taskName = e.taskName;
  if (!parseReloadStateName(e.state, s.state)) s.state = ReloadState::kFailed;
  s.terminal = e.terminal;
  s.timedOut = e.timedOut;
  s.attached = e.attached;
  s.startedAt = fromEpochMs(e.requestedAtMs);
  if (e.finishedAtMs != 0) s.finishedAt = fromEpochMs(e.finishedAtMs);
  s.message = e.message + " (From the worker's journal: Qlik no longer has this execution.)";
  return s;
}

Result<ReloadStatus> ReloadOperator::startJournaled(const StartRequest& request, Clock::TimePoint deadline,
                                                    const std::string& labels) {
  if (journal_ == nullptr) return startWithPolicy(request, deadline, labels, nullptr);
  pruneJournal();
  JournalEntry intent;
  intent.intentId = newGuid();
  intent.site = site_;
  intent.taskId = request.taskId;
  intent.taskName = request.taskName;
  intent.idempotencyKey = request.idempotencyKey;
  intent.labels = labels;
  intent.state = kJournalStarting;
  intent.owner = options_.workerId;
  bool claimed = false;
  for (int round = 0; round < 2 && !claimed; ++round) {
    intent.requestedAtMs = toEpochMs(clock_.wallNow());
    auto claim = journal_->recordIntent(intent);
    if (!claim.isOk()) {
      return Status::unavailable("start " + taskLabel(request) + ": cannot record the start in the journal (" +
                                 claim.status().message() + "); nothing was started");
    }
    if (claim.value().claimed) {
      claimed = true;
      break;
    }
    const JournalEntry& existing = claim.value().existing;
    if (!existing.executionId.empty()) {
      auto status = getReload(existing.executionId);
      if (!status.isOk()) return status;
      ReloadStatus s = status.value();
      s.message = keyReplayNote(request.idempotencyKey, existing.executionId) + s.message;
      return s;
    }
    // An intent without an answer: from this worker's previous life, or a
    // stale one, it is resolved now; another worker's fresh one belongs to a
    // start still in flight.
    if (!resolvableIntent(existing)) {
      return Status::unavailable("idempotency key '" + request.idempotencyKey +
                                 "' is held by a start that is still in progress; retry in a moment");
    }
    auto resolved = resolveInterruptedStart(existing);
    if (!resolved.isOk()) {
      const Status& why = resolved.status();
      // QRS could not be asked, or answered garbage: the key stays held, so
      // the retry this asks for looks again before it starts anything.
      if (why.code() == ErrorCode::kUnavailable || why.code() == ErrorCode::kProtocol) {
        return Status::unavailable(why.message() + "; idempotency key '" + request.idempotencyKey +
                                   "' stays with that earlier start and nothing new was started: retry with the same "
                                   "key and the worker looks again");
      }
      return why;
    }
    if (resolved.value()) {
      ReloadStatus s = *resolved.value();
      s.message = keyReplayNote(request.idempotencyKey, s.executionId) + s.message;
      return s;
    }
    // Nothing had started: the key was released; claim it again.
  }
  if (!claimed) {
    return Status::unavailable("idempotency key '" + request.idempotencyKey + "' could not be claimed; retry");
  }

  bool unresolved = false;
  auto result = startWithPolicy(request, deadline, labels, &unresolved);
  Status written;
  if (result.isOk() && !result.value().executionId.empty()) {
    written = journal_->recordStarted(intent.intentId, result.value().executionId, result.value().taskId,
                                      result.value().attached, result.value().message);
  } else if (result.isOk()) {
    written = journal_->recordNotStarted(intent.intentId, reloadStateName(result.value().state),
                                         result.value().message);
  } else if (!unresolved) {
    written = journal_->recordNotStarted(intent.intentId, kJournalStartFailed, result.status().message());
  }
  if (!written.isOk()) logWarn("site " + site_ + ": " + written.message());
  if (result.isOk() && !result.value().executionId.empty()) {
    // The monitor may have seen a state before the id was in the journal.
    Status state = journal_->recordStatus(site_, *monitor_.snapshot(result.value().executionId),
                                          toEpochMs(clock_.wallNow()));
    if (!state.isOk()) logWarn("site " + site_ + ": " + state.message());
  }
  return result;
}


void ReloadOperator::shutdown() {
  monitor_.shutdown();
  std::lock_guard<std::mutex> guard(keysMutex_);
  clock_.notifyAll(keysChanged_);
}

ReloadStatus ReloadOperator::notStarted(const StartRequest& request, const std::string& message) const {
  ReloadStatus s;
  s.site = site_;
  s.taskId = request.taskId;
  s.taskName = request.taskName;
  s.state = ReloadState::kNotStarted;
  s.terminal = true;
  s.message = message;
  return s;
}

Result<ReloadStatus> ReloadOperator::startReload(const StartRequest& request) {
  const Clock::TimePoint deadline =
      request.timeout ? clock_.now() + *request.timeout : Clock::TimePoint::max();
  std::vector<std::pair<std::string, std::string>> labels = request.labels;
  const std::string labelText = formatLabels(labels);
  if (request.idempotencyKey.empty()) return startJournaled(request, deadline, labelText);

  std::string existing;
  {
    std::unique_lock<std::mutex> lock(keysMutex_);
    pruneKeysLocked();
    for (;;) {
      auto it = keys_.find(request.idempotencyKey);
      if (it == keys_.end()) {
        keys_[request.idempotencyKey] = KeyEntry{};
        break;
      }
      if (!it->second.inFlight) {
        existing = it->second.executionId;
        break;
      }
      // The first request with this key is still talking to QRS: its answer
      // is ours too.
      if (monitor_.isShuttingDown()) return Status::cancelled("the worker is shutting down");
      clock_.waitUntil(lock, keysChanged_, clock_.now() + Duration(1000));
    }
  }
  if (!existing.empty()) {
    auto status = getReload(existing);
    if (!status.isOk()) return status;
    ReloadStatus s = status.value();
    s.message = keyReplayNote(request.idempotencyKey, existing) + s.message;
    logInfo("site " + site_ + ": idempotency key '" + request.idempotencyKey + "' → existing execution " +
            existing + (labelText.empty() ? "" : " [" + labelText + "]"));
    return s;
  }

  auto result = startJournaled(request, deadline, labelText);
  std::lock_guard<std::mutex> guard(keysMutex_);
  if (result.isOk() && !result.value().executionId.empty()) {
    KeyEntry& entry = keys_[request.idempotencyKey];
    entry.inFlight = false;
    entry.executionId = result.value().executionId;
    entry.boundAt = clock_.now();
  } else {
    // Nothing started: the key stays free so that a retry can start.
    keys_.erase(request.idempotencyKey);
  }
  clock_.notifyAll(keysChanged_);
  return result;
}

void ReloadOperator::pruneKeysLocked() {
  const Clock::TimePoint now = clock_.now();
  for (auto it = keys_.begin(); it != keys_.end();) {
    const KeyEntry& e = it->second;
    if (!e.inFlight && now - e.boundAt > options_.keyRetention && !monitor_.isTracked(e.executionId)) {
      it = keys_.erase(it);
    } else {
      ++it;
    }
  }
}

Result<ReloadStatus> ReloadOperator::startWithPolicy(const StartRequest& request, Clock::TimePoint deadline,
                                                     const std::string& labels, bool* unresolved) {
  const std::string what = taskLabel(request);
  for (int round = 0; round < kMaxWaitRounds; ++round) {
    const WallTime requestedAt = clock_.wallNow();
    logInfo("site " + site_ + ": starting " + what + (labels.empty() ? "" : " [" + labels + "]"));
    Result<qrs::StartReply> reply = Status::internal("not sent");
    {
      // Qlik's schedulers queue beyond their own limit; a burst of starts
      // must not also pile up on QRS.
      std::unique_lock<std::mutex> lock(startsMutex_);
      startsFreed_.wait(lock, [this] { return startsInFlight_ < std::max(1, options_.maxConcurrentStarts); });
      ++startsInFlight_;
    }
    reply = request.taskId.empty() ? qrs_.startTaskByName(request.taskName) : qrs_.startTask(request.taskId);
    {
      std::lock_guard<std::mutex> guard(startsMutex_);
      --startsInFlight_;
      startsFreed_.notify_one();
    }
    if (!reply.isOk()) {
      const Status& failure = reply.status();
      if (failure.code() == ErrorCode::kNotFound) {
        return notStarted(request, "Qlik did not start the reload: there is no " + what + " (QRS answered: " +
                                       failure.message() + ").");
      }
      if (failure.notSent() && failure.code() == ErrorCode::kUnavailable) {
        return Status::unavailable(failure.message() +
                                   "; the request never reached QRS, so nothing was started. Safe to retry.");
      }
      // The start may have reached QRS: no answer, or a success answer that
      // could not be read. Never re-sent; the execution it made is looked for.
      const bool unreadableSuccess = failure.code() == ErrorCode::kProtocol && failure.httpStatus() >= 200 &&
                                     failure.httpStatus() <= 299;
      if (failure.code() == ErrorCode::kUnavailable || unreadableSuccess) {
        return ambiguousStart(request, failure, requestedAt, labels, unresolved);
      }
      return failure.withContext("start " + what);
    }
    const std::string executionId = normalizeGuid(reply.value().executionId);
    if (!isZeroGuid(executionId)) {
      TrackInfo info;
      info.taskId = request.taskId;
      info.taskName = request.taskName;
      info.labels = labels;
      info.requestedAt = requestedAt;
      monitor_.track(executionId, info);
      logInfo("site " + site_ + ": started execution " + executionId + " of " + what);
      return *monitor_.snapshot(executionId);
    }

    // The all-zero GUID: Qlik did not start it. Is the task already running?
    const std::string causes =
        "Qlik did not start " + what +
        " (QRS answered the all-zero execution id): the task is disabled, no scheduler is available, or its app "
        "is unavailable.";
    auto taskId = resolveTaskId(request);
    if (!taskId.isOk()) {
      return notStarted(request, causes + " Could not check whether it is already running: " +
                                     taskId.status().message());
    }
    auto sessions = qrs_.findExecutionSessionsOfTask(taskId.value());
    if (!sessions.isOk()) {
      return notStarted(request, causes + " Could not check whether it is already running: " +
                                     sessions.status().message());
    }
    if (sessions.value().empty()) {
      ReloadStatus s = notStarted(request, causes);
      s.taskId = taskId.value();
      return s;
    }
    auto running = *std::max_element(sessions.value().begin(), sessions.value().end(), [](const auto& a, const auto& b) {
      return a.createdAt.value_or(WallTime()) < b.createdAt.value_or(WallTime());
    });
    running.id = normalizeGuid(running.id);
    if (running.taskId.empty()) running.taskId = taskId.value();
    switch (request.ifRunning) {
      case IfRunning::kFail: {
        ReloadStatus s = notStarted(request, "Qlik did not start " + what + ": it is already running (execution " +
                                                 running.id + "), and if-running is 'fail'.");
        s.taskId = taskId.value();
        return s;
      }
      case IfRunning::kAttach: {
        TrackInfo info;
        info.taskId = taskId.value();
        info.taskName = request.taskName;
        info.labels = labels;
        info.attached = true;
        info.message = "The task was already running (execution " + running.id +
                       "); following that execution instead of starting a second reload.";
        monitor_.trackSession(running, info);
        logInfo("site " + site_ + ": " + what + " is already running; attached to execution " + running.id);
        // The execution may be followed already (started through this worker
        // by another caller): this answer still says that we attached.
        ReloadStatus s = *monitor_.snapshot(running.id);
        if (!s.attached) {
          s.attached = true;
          s.message = info.message + " " + s.message;
        }
        return s;
      }
      case IfRunning::kWait: {
        TrackInfo info;
        info.taskId = taskId.value();
        info.labels = labels;
        info.attached = true;
        monitor_.trackSession(running, info);
        logInfo("site " + site_ + ": " + what + " is already running (execution " + running.id +
                "); waiting for it to finish before starting");
        auto other = monitor_.awaitFinal(running.id, deadline);
        if (!other || !other->terminal) {
          ReloadStatus s = notStarted(request, "Qlik did not start " + what + ": it is still running (execution " +
                                                   running.id + ") and if-running is 'wait'.");
          s.taskId = taskId.value();
          s.timedOut = !monitor_.isShuttingDown();
          return s;
        }
        continue;  // the other run is over: start ours
      }
    }
  }
  return notStarted(request, "Qlik did not start " + what + ": it was started by others " +
                                 std::to_string(kMaxWaitRounds) + " times while this request waited.");
}

Result<ReloadStatus> ReloadOperator::ambiguousStart(const StartRequest& request, const Status& failure,
                                                    WallTime requestedAt, const std::string& labels,
                                                    bool* unresolved) {
  const std::string what = taskLabel(request);
  logWarn("site " + site_ + ": no usable answer to the start of " + what + " (" + failure.message() +
          "); looking for an execution it may have created instead of sending it again");
  const std::string lost = "start " + what + ": QRS's answer to the start request was lost (" + failure.message() + ")";
  TrackInfo info;
  info.taskName = request.taskName;
  info.labels = labels;
  info.requestedAt = requestedAt;
  auto taskId = resolveTaskId(request);
  Result<std::string> followed = Status::internal("not looked");
  if (taskId.isOk()) {
    info.taskId = taskId.value();
    info.message = "QRS's answer to the start request was lost, but the execution it created was found; following "
                   "it (no second start was sent).";
    followed = followExecutionCreatedSince(taskId.value(), requestedAt - options_.ambiguousStartSkew, info);
  }
  if (!taskId.isOk() || !followed.isOk()) {
    // Unresolved: the journal keeps the intent (and the key), so a retry with
    // the same key looks again before it starts anything.
    if (unresolved != nullptr) *unresolved = true;
    const Status& why = taskId.isOk() ? followed.status() : taskId.status();
    return Status::unavailable(lost + " and QRS could not be asked whether the task started (" + why.message() +
                               "). Retry with the same idempotency key: the worker looks again before it starts "
                               "anything.");
  }
  if (followed.value().empty()) {
    return Status::unavailable(lost + "; no execution of the task was created since, so nothing was started. "
                               "Safe to retry.");
  }
  logInfo("site " + site_ + ": the start of " + what + " whose answer was lost created execution " + followed.value());
  return *monitor_.snapshot(followed.value());
}

Result<std::string> ReloadOperator::resolveTaskId(const StartRequest& request) {
  if (!request.taskId.empty()) return request.taskId;
  auto tasks = qrs_.findReloadTasksByName(request.taskName);
  if (!tasks.isOk()) return tasks.status().withContext("find reload task '" + request.taskName + "'");
  std::vector<std::string> matches;
  for (const auto& t : tasks.value()) {
    if (equalsIgnoreCase(t.name, request.taskName)) matches.push_back(normalizeGuid(t.id));
  }
  if (matches.empty()) return Status::notFound("Qlik has no reload task named '" + request.taskName + "'");
  if (matches.size() > 1) {
    return Status::invalidArgument(std::to_string(matches.size()) + " reload tasks are named '" +
                                   request.taskName + "'; use the task id");
  }
  return matches.front();
}

Result<ReloadStatus> ReloadOperator::getReload(const std::string& executionId) {
  const std::string id = normalizeGuid(executionId);
  if (auto s = monitor_.snapshot(id)) return *s;
  auto found = lookUp(id);
  if (found.isOk() || found.status().code() != ErrorCode::kNotFound || journal_ == nullptr) return found;
  // Qlik has forgotten it (or never had it); the journal may remember.
  auto entry = journal_->findByExecution(site_, id);
  if (entry.isOk() && entry.value()) return statusFromJournal(*entry.value());
  return found;
}

Result<ReloadStatus> ReloadOperator::lookUp(const std::string& executionId) {
  auto session = qrs_.getExecutionSession(executionId);
  if (!session.isOk()) return session.status().withContext("look up execution " + executionId);
  if (session.value()) {
    qrs::ExecutionSession found = *session.value();
    found.id = executionId;
    monitor_.trackSession(found, TrackInfo{});
    return *monitor_.snapshot(executionId);
  }
  auto rows = qrs_.getExecutionResults({executionId});
  if (!rows.isOk()) return rows.status().withContext("look up execution " + executionId);
  std::vector<qrs::ExecutionResult> mine;
  for (const auto& row : rows.value()) {
    if (normalizeGuid(row.executionId) == executionId) mine.push_back(row);
  }
  if (mine.empty()) {
    return Status::notFound("Qlik knows neither a session nor a result for execution " + executionId);
  }
  monitor_.trackResults(executionId, mine, TrackInfo{});
  return *monitor_.snapshot(executionId);
}

Result<ReloadStatus> ReloadOperator::waitReload(const std::string& executionId, Duration maxWait) {
  const Clock::TimePoint deadline = clock_.now() + std::max(Duration(0), maxWait);
  auto current = getReload(executionId);
  if (!current.isOk()) return current;
  auto status = monitor_.awaitFinal(normalizeGuid(executionId), deadline);
  if (!status) return current;  // evicted meanwhile: the last answer stands
  return *status;
}

Result<ReloadStatus> ReloadOperator::runReload(const StartRequest& request) {
  const Clock::TimePoint deadline =
      request.timeout ? clock_.now() + *request.timeout : Clock::TimePoint::max();
  auto started = startReload(request);
  if (!started.isOk() || started.value().executionId.empty() || started.value().terminal) return started;
  const std::string id = started.value().executionId;
  // A retried step whose key had already started this execution is told so
  // in the final answer too.
  const std::string replay = request.idempotencyKey.empty() ? "" : keyReplayNote(request.idempotencyKey, id);
  const bool replayed = !replay.empty() && started.value().message.compare(0, replay.size(), replay) == 0;
  auto noted = [&](Result<ReloadStatus> result) -> Result<ReloadStatus> {
    if (replayed && result.isOk() && result.value().message.compare(0, replay.size(), replay) != 0) {
      ReloadStatus s = std::move(result).value();
      s.message = replay + s.message;
      return s;
    }
    return result;
  };
  auto status = monitor_.awaitFinal(id, deadline);
  if (!status) return started;
  if (status->terminal || monitor_.isShuttingDown()) return noted(*status);

  const std::string reason = "Timed out after " + formatDuration(*request.timeout);
  if (!request.stopOnTimeout) {
    ReloadStatus s = *status;
    s.timedOut = true;
    s.message = reason + "; the reload keeps running in Qlik (stop on timeout is off). " + s.message;
    logInfo("site " + site_ + ": execution " + id + ": " + reason + "; left running");
    return noted(s);
  }
  return noted(stopAndWait(id, reason));
}

Result<ReloadStatus> ReloadOperator::cancelReload(const std::string& executionId) {
  auto current = getReload(executionId);
  if (!current.isOk()) return current;
  if (current.value().terminal) {
    ReloadStatus s = current.value();
    s.message = "Execution " + s.executionId + " had already finished (" + reloadStateName(s.state) +
                "); nothing to stop. " + s.message;
    return s;
  }
  return stopAndWait(current.value().executionId, "");
}

Result<ReloadStatus> ReloadOperator::stopAndWait(const std::string& executionId, const std::string& reason) {
  const bool timedOut = !reason.empty();
  std::string taskId = monitor_.snapshot(executionId).value_or(ReloadStatus{}).taskId;
  if (taskId.empty()) {
    monitor_.expedite(executionId);
    taskId = monitor_.awaitTaskId(executionId, clock_.now() + Duration(30'000));
  }
  auto snapshot = monitor_.snapshot(executionId);
  if (snapshot && snapshot->terminal) return *snapshot;  // finished while we looked
  if (taskId.empty()) {
    return Status::unavailable("cannot stop execution " + executionId +
                               ": Qlik has not said yet which task it belongs to; try again");
  }
  Status stopped = qrs_.stopTask(taskId);
  if (!stopped.isOk() && (stopped.retryable() || stopped.code() == ErrorCode::kProtocol)) {
    // The stop may have reached QRS with only its answer lost. A stop is
    // harmless to repeat: see whether Qlik is stopping the reload, and send
    // the stop once more if it is not.
    logWarn("site " + site_ + ": no usable answer to the stop of task " + taskId + " (" + stopped.message() +
            "); checking whether Qlik is stopping execution " + executionId);
    monitor_.expedite(executionId);
    monitor_.awaitFinal(executionId, clock_.now() + std::min(options_.stopWait, Duration(5'000)));
    auto seen = monitor_.snapshot(executionId);
    if (seen && (seen->terminal || seen->state == ReloadState::kStopping)) {
      stopped = Status::ok();
    } else {
      stopped = qrs_.stopTask(taskId);
    }
  }
  if (!stopped.isOk()) return stopped.withContext("stop task " + taskId + " (execution " + executionId + ")");
  logInfo("site " + site_ + ": stop sent for task " + taskId + " (execution " + executionId + ")" +
          (timedOut ? ": " + reason : ""));
  const std::string note = (timedOut ? reason + "; stop" : "Stop") + std::string(" requested in Qlik.");
  if (timedOut) {
    monitor_.markTimedOut(executionId, note);
  } else {
    monitor_.setMessage(executionId, note);
  }
  monitor_.expedite(executionId);
  auto status = monitor_.awaitFinal(executionId, clock_.now() + options_.stopWait);
  if (!status) return Status::internal("execution " + executionId + " stopped being followed");
  ReloadStatus s = *status;
  if (timedOut) s.timedOut = true;
  if (!s.terminal) {
    s.message = note + " Qlik has not confirmed the stop within " + formatDuration(options_.stopWait) +
                " (status " + (s.qlikStatus.empty() ? "unknown" : s.qlikStatus) + ").";
  } else if (s.state != ReloadState::kAborted) {
    s.message = note + " The reload finished (" + reloadStateName(s.state) + ") before the stop took effect. " +
                s.message.substr(std::min(s.message.size(), note.size() + 1));
  }
  return s;
}

}  // namespace qlik_reload
