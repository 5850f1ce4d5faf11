#include "reload/monitor.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/duration.h"
#include "core/guid.h"
#include "core/idle_stack.h"
#include "core/log.h"
#include "qrs/types.h"
#include "reload/describe.h"

namespace qlik_reload {

struct SiteMonitor::Tracked {
  Tracked(const MonitorOptions& options, std::uint64_t seed)
      : backoff(options.poll, seed),
        pushBackoff(BackoffOptions{std::min(Duration(2'000), options.pushFallback), options.pushFallback, 5.0, 0.0}) {}

  ReloadStatus status;
  Phase phase = Phase::kActive;
  Backoff backoff;             // the poll interval: initial after a change, growing to the cap
  Backoff pushBackoff;         // the same with push: sparse fallback reads (2 s, 10 s, then the fallback)
  Duration interval{0};        // the interval now in force
  Clock::TimePoint nextDue;
  Clock::TimePoint since;      // when tracking began
  Clock::TimePoint lastKnown;  // when QRS last showed a session or a result
  bool everKnown = false;
  bool busy = false;           // a step's QRS read is in flight
  int logTries = 0;
  std::vector<std::string> attemptIds;  // ExecutionResult id of each attempt
  std::string fileReferenceId;
  std::string lastDetail;      // Qlik's most relevant detail message of the latest attempt
  std::string labels;
  std::string note;            // context from the operator (attached, timed out, stop requested)
  std::string lastError;       // the QRS failure being retried right now
  std::string loggedError;
  std::string logNote;         // why there is no script log
  std::optional<Clock::TimePoint> finalAt;
  std::optional<ReloadStatus> reported;  // what the observer last heard
  std::map<std::string, qrs::ExecutionResult> rows;  // every attempt seen, by result id
  std::condition_variable changed;  // the callers waiting on this execution
  int waiters = 0;                  // a record with waiters is never evicted
};

namespace {

// An unbounded wait is split so no clock arithmetic overflows.
constexpr Duration kIdleWake{60'000};
// Waits longer than this give back their idle stack first (idle_stack.h).
constexpr Duration kLongWait{1'000};

AttemptInfo toAttempt(const qrs::ExecutionResult& row) {
  StatusMapping m = mapQlikStatus(row.status);
  AttemptInfo a;
  a.qlikStatusCode = row.status;
  a.qlikStatus = qrs::taskExecutionStatusName(row.status);
  a.startedAt = row.startTime;
  if (m.terminal) a.finishedAt = row.stopTime;
  a.durationMs = row.durationMs;
  a.node = row.node;
  auto details = row.details;
  std::stable_sort(details.begin(), details.end(), [](const auto& x, const auto& y) {
    return x.createdAt.value_or(WallTime()) < y.createdAt.value_or(WallTime());
  });
  for (const auto& d : details) a.messages.push_back(d.message);
  return a;
}

// Qlik's most telling detail: the last error detail, else the last message.
std::string pickDetail(const qrs::ExecutionResult& row) {
  const qrs::ExecutionResultDetail* best = nullptr;
  const qrs::ExecutionResultDetail* last = nullptr;
  for (const auto& d : row.details) {
    auto later = [&](const qrs::ExecutionResultDetail* other) {
      return other == nullptr || d.createdAt.value_or(WallTime()) >= other->createdAt.value_or(WallTime());
    };
    if (later(last)) last = &d;
    if (d.detailsType == 0 && later(best)) best = &d;
  }
  if (best != nullptr) return best->message;
  return last != nullptr ? last->message : "";
}

bool sameReport(const ReloadStatus& a, const ReloadStatus& b) {
  return a.state == b.state && a.qlikStatusCode == b.qlikStatusCode && a.terminal == b.terminal &&
         a.timedOut == b.timedOut && a.taskId == b.taskId;
}

}  // namespace

SiteMonitor::SiteMonitor(std::string site, qrs::QrsClient& qrs, Clock& clock, MonitorOptions options)
    : site_(std::move(site)), qrs_(qrs), clock_(clock), options_(std::move(options)) {}

SiteMonitor::~SiteMonitor() { shutdown(); }

void SiteMonitor::start() {
  std::lock_guard<std::mutex> guard(mutex_);
  if (thread_.joinable() || shuttingDown_) return;
  thread_ = std::thread([this] { loop(); });
}

void SiteMonitor::shutdown() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    shuttingDown_ = true;
    clock_.notifyAll(wake_);
    for (auto& [id, t] : tracked_) clock_.notifyAll(t->changed);
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool SiteMonitor::isShuttingDown() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return shuttingDown_;
}

void SiteMonitor::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!shuttingDown_) {
    lock.unlock();
    Clock::TimePoint next = pollDue();
    lock.lock();
    next = std::min(next, clock_.now() + kIdleWake);
    while (!shuttingDown_ && !wakeRequested_ && clock_.now() < next) clock_.waitUntil(lock, wake_, next);
    wakeRequested_ = false;
  }
}

SiteMonitor::Tracked& SiteMonitor::insertLocked(const std::string& executionId, const TrackInfo& info) {
  auto& slot = tracked_[executionId];
  if (slot) return *slot;
  slot = std::make_unique<Tracked>(options_, options_.jitterSeed ^ std::hash<std::string>()(executionId));
  Tracked& t = *slot;
  const Clock::TimePoint now = clock_.now();
  t.since = now;
  t.lastKnown = now;
  // The start's answer is fresh: the first read comes one interval later, so
  // that executions started close together share it.
  t.interval = pushActive_ ? std::min(Duration(2'000), options_.pushFallback) : options_.poll.initial;
  t.nextDue = now + t.interval;
  t.labels = info.labels;
  t.note = info.message;
  t.status.executionId = executionId;
  t.status.site = site_;
  t.status.taskId = info.taskId;
  t.status.taskName = info.taskName;
  t.status.attached = info.attached;
  t.status.state = ReloadState::kQueued;
  t.status.startedAt = info.requestedAt;
  t.status.message = info.message.empty() ? "Waiting for Qlik to report on the execution." : info.message;
  logInfo("site " + site_ + ": following execution " + executionId +
          (info.taskId.empty() ? "" : " of task " + info.taskId) +
          (info.taskName.empty() ? "" : " '" + info.taskName + "'") + (info.attached ? " (attached)" : "") +
          (info.labels.empty() ? "" : " [" + info.labels + "]"));
  wakeRequested_ = true;
  clock_.notifyAll(wake_);
  return t;
}

void SiteMonitor::track(const std::string& executionId, const TrackInfo& info) {
  std::lock_guard<std::mutex> guard(mutex_);
  insertLocked(executionId, info);
}

void SiteMonitor::trackSession(const qrs::ExecutionSession& session, const TrackInfo& info) {
  std::lock_guard<std::mutex> guard(mutex_);
  bool fresh = tracked_.find(session.id) == tracked_.end();
  Tracked& t = insertLocked(session.id, info);
  if (fresh) applySessionLocked(t, session);
}

void SiteMonitor::trackResults(const std::string& executionId, const std::vector<qrs::ExecutionResult>& rows,
                               const TrackInfo& info) {
  std::lock_guard<std::mutex> guard(mutex_);
  bool fresh = tracked_.find(executionId) == tracked_.end();
  Tracked& t = insertLocked(executionId, info);
  if (fresh && !rows.empty()) {
    applyResultsLocked(t, rows, true);
    // The next read (due now) decides: keep following, fetch the log, or final.
  }
}

bool SiteMonitor::isTracked(const std::string& executionId) const {
  std::lock_guard<std::mutex> guard(mutex_);
  return tracked_.count(executionId) != 0;
}

std::optional<ReloadStatus> SiteMonitor::snapshot(const std::string& executionId) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = tracked_.find(executionId);
  if (it == tracked_.end()) return std::nullopt;
  return it->second->status;
}

std::optional<ReloadStatus> SiteMonitor::awaitFinal(const std::string& executionId, Clock::TimePoint deadline) {
  // A caller may sit here for hours, one thread each: the stack it touched on
  // the way (a QRS request, say) is not kept resident meanwhile.
  if (deadline - clock_.now() > kLongWait) releaseIdleStack();
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    auto it = tracked_.find(executionId);
    if (it == tracked_.end()) return std::nullopt;
    Tracked& t = *it->second;
    if (t.phase == Phase::kFinal || shuttingDown_ || clock_.now() >= deadline) return t.status;
    ++t.waiters;
    clock_.waitUntil(lock, t.changed, std::min(deadline, clock_.now() + kIdleWake));
    --t.waiters;
  }
}

std::string SiteMonitor::awaitTaskId(const std::string& executionId, Clock::TimePoint deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    auto it = tracked_.find(executionId);
    if (it == tracked_.end()) return "";
    Tracked& t = *it->second;
    if (!t.status.taskId.empty() || t.phase == Phase::kFinal || shuttingDown_ || clock_.now() >= deadline) {
      return t.status.taskId;
    }
    ++t.waiters;
    clock_.waitUntil(lock, t.changed, std::min(deadline, clock_.now() + kIdleWake));
    --t.waiters;
  }
}

void SiteMonitor::expedite(const std::string& executionId) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = tracked_.find(executionId);
  if (it == tracked_.end()) return;
  Tracked& t = *it->second;
  if (t.phase == Phase::kFinal) return;
  t.backoff.reset();
  t.pushBackoff.reset();
  t.interval = options_.poll.initial;
  if (!t.busy) t.nextDue = clock_.now();
  wakeRequested_ = true;
  clock_.notifyAll(wake_);
}

void SiteMonitor::markTimedOut(const std::string& executionId, const std::string& message) {
  ReloadStatus copy;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    auto it = tracked_.find(executionId);
    if (it == tracked_.end()) return;
    it->second->status.timedOut = true;
    it->second->note = message;
    it->second->status.message = message;
    notifyLocked(*it->second);
    copy = it->second->status;
    it->second->reported = copy;
  }
  observe(copy);
}

void SiteMonitor::setMessage(const std::string& executionId, const std::string& message) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = tracked_.find(executionId);
  if (it == tracked_.end()) return;
  it->second->note = message;
  it->second->status.message = message;
  notifyLocked(*it->second);
}

std::size_t SiteMonitor::trackedCount() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return tracked_.size();
}

std::size_t SiteMonitor::activeCount() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return static_cast<std::size_t>(std::count_if(tracked_.begin(), tracked_.end(),
                                                [](const auto& e) { return e.second->phase != Phase::kFinal; }));
}

Duration SiteMonitor::capLocked() const { return pushActive_ ? options_.pushFallback : options_.poll.max; }

void SiteMonitor::setPushActive(bool active) {
  std::lock_guard<std::mutex> guard(mutex_);
  pushActive_ = active;
  // Executions keep their current schedule; the next reads use the new cap.
  clock_.notifyAll(wake_);
}

void SiteMonitor::resultsChanged(const std::vector<std::string>& resultIds) {
  if (resultIds.empty()) return;
  std::lock_guard<std::mutex> guard(mutex_);
  notified_.insert(notified_.end(), resultIds.begin(), resultIds.end());
  wakeRequested_ = true;
  clock_.notifyAll(wake_);
}

Clock::TimePoint SiteMonitor::pollDue() {
  std::vector<std::string> batch;
  std::vector<std::string> logs;
  std::vector<std::string> notified;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    const Clock::TimePoint now = clock_.now();
    notified.swap(notified_);
    bool anyDue = false;
    for (auto it = tracked_.begin(); it != tracked_.end();) {
      Tracked& t = *it->second;
      if (t.phase == Phase::kFinal && t.finalAt && now - *t.finalAt > options_.retention && t.waiters == 0) {
        it = tracked_.erase(it);
        continue;
      }
      if (!t.busy && t.phase == Phase::kActive && t.nextDue <= now) anyDue = true;
      ++it;
    }
    for (auto& [id, t] : tracked_) {
      if (t->busy) continue;
      if (t->phase == Phase::kLog && t->nextDue <= now) {
        t->busy = true;
        logs.push_back(id);
      } else if (t->phase == Phase::kActive && anyDue && t->nextDue <= now + t->interval / 2) {
        // Due now, or soon enough to share this read.
        t->busy = true;
        batch.push_back(id);
      }
    }
  }
  std::vector<ReloadStatus> changed;
  if (!notified.empty()) pollNotified(std::move(notified), changed);
  if (!batch.empty()) pollBatch(batch, changed);
  // Executions that became terminal in this pass fetch their log at once.
  {
    std::lock_guard<std::mutex> guard(mutex_);
    for (const std::string& id : batch) {
      auto it = tracked_.find(id);
      if (it != tracked_.end() && it->second->phase == Phase::kLog && it->second->nextDue <= clock_.now() &&
          std::find(logs.begin(), logs.end(), id) == logs.end()) {
        it->second->busy = true;
        logs.push_back(id);
      }
    }
  }
  for (const std::string& id : logs) stepLog(id, changed);
  for (const ReloadStatus& status : changed) observe(status);

  std::lock_guard<std::mutex> guard(mutex_);
  Clock::TimePoint next = Clock::TimePoint::max();
  for (const auto& [id, t] : tracked_) {
    if (t->phase != Phase::kFinal && !t->busy) next = std::min(next, t->nextDue);
  }
  if (!notified_.empty()) next = clock_.now();
  return next;
}

void SiteMonitor::pollBatch(const std::vector<std::string>& ids, std::vector<ReloadStatus>& changed) {
  const Clock::TimePoint sentAt = clock_.now();
  auto reply = qrs_.getExecutionResults(ids);
  std::lock_guard<std::mutex> guard(mutex_);
  std::map<std::string, std::vector<qrs::ExecutionResult>> byExecution;
  if (reply.isOk()) {
    for (const auto& row : reply.value()) byExecution[normalizeGuid(row.executionId)].push_back(row);
  }
  for (const std::string& id : ids) {
    auto it = tracked_.find(id);
    if (it == tracked_.end()) continue;
    Tracked& t = *it->second;
    t.busy = false;
    if (!reply.isOk()) {
      scheduleRetryLocked(t, reply.status(), "read the execution results");
      continue;
    }
    t.lastError.clear();
    const auto rows = byExecution.find(id);
    const bool sawRows = rows != byExecution.end() && !rows->second.empty();
    const Progress before = progressOf(t);
    if (sawRows) applyResultsLocked(t, rows->second, true);
    advanceLocked(t, progressOf(t) != before, sawRows, sentAt);
    reportLocked(t, changed);
    if (waitersCareLocked(t, before)) notifyLocked(t);
  }
}

void SiteMonitor::pollNotified(std::vector<std::string> resultIds, std::vector<ReloadStatus>& changed) {
  std::sort(resultIds.begin(), resultIds.end());
  resultIds.erase(std::unique(resultIds.begin(), resultIds.end()), resultIds.end());
  std::vector<std::string> valid;
  for (auto& id : resultIds) {
    if (isGuid(id)) valid.push_back(normalizeGuid(id));
  }
  if (valid.empty()) return;
  const Clock::TimePoint sentAt = clock_.now();
  auto reply = qrs_.getExecutionResultsById(valid);
  if (!reply.isOk()) {
    // The fallback reads will catch up; make the next one come soon.
    logWarn("site " + site_ + ": cannot read the results a change notification named: " + reply.status().message());
    std::lock_guard<std::mutex> guard(mutex_);
    for (auto& [id, t] : tracked_) {
      if (t->phase == Phase::kActive && !t->busy) t->nextDue = std::min(t->nextDue, clock_.now() + options_.poll.initial);
    }
    return;
  }
  // The rows read by id are applied as they are: one read per notification.
  // Earlier attempts of the same execution were seen before (Retry is in
  // the subscription's filter), so merging keeps the attempt list whole.
  std::map<std::string, std::vector<qrs::ExecutionResult>> byExecution;
  for (const auto& row : reply.value()) byExecution[normalizeGuid(row.executionId)].push_back(row);
  std::lock_guard<std::mutex> guard(mutex_);
  for (const auto& [id, rows] : byExecution) {
    auto it = tracked_.find(id);
    if (it == tracked_.end() || it->second->phase != Phase::kActive || it->second->busy) continue;
    Tracked& t = *it->second;
    const Progress before = progressOf(t);
    applyResultsLocked(t, rows, false);
    advanceLocked(t, progressOf(t) != before, true, sentAt);
    reportLocked(t, changed);
    if (waitersCareLocked(t, before)) notifyLocked(t);
  }
}

void SiteMonitor::advanceLocked(Tracked& t, bool changed, bool sawRows, Clock::TimePoint readAt) {
  const Clock::TimePoint now = clock_.now();
  if (sawRows && t.status.terminal) {
    const bool wantLog = t.status.state == ReloadState::kFailed || t.status.state == ReloadState::kAborted;
    if (wantLog && !t.status.taskId.empty() && !t.attemptIds.empty() && !t.attemptIds.back().empty()) {
      t.phase = Phase::kLog;
      t.nextDue = now;
    } else {
      finishLocked(t, wantLog ? "the task or result id is unknown" : "");
    }
    return;
  }
  const Clock::TimePoint lastSign = t.everKnown ? t.lastKnown : t.since;
  if (!sawRows && now - lastSign >= options_.lostAfter) {
    t.status.state = ReloadState::kFailed;
    t.status.terminal = true;
    t.note = "Qlik has shown neither a session nor a result for execution " + t.status.executionId + " for " +
             formatDuration(options_.lostAfter) + "; its outcome is unknown.";
    finishLocked(t, "");
    return;
  }
  if (changed) {
    t.backoff.reset();
    t.pushBackoff.reset();
  }
  // Both schedules advance, so switching push on or off keeps a sensible pace.
  const Duration polling = t.backoff.next();
  const Duration pushed = t.pushBackoff.next();
  t.interval = pushActive_ ? pushed : polling;
  if (!pushActive_) {
    // poll.max bounds how long a completion goes unseen: a completion just
    // after this read is seen when the next read's answer arrives, so the
    // gap leaves room for a read as long as this one took.
    const Duration took = std::chrono::duration_cast<Duration>(now - readAt);
    t.interval = std::min(t.interval, std::max(options_.poll.initial, options_.poll.max - took));
  }
  t.nextDue = readAt + t.interval;
}

void SiteMonitor::reportLocked(Tracked& t, std::vector<ReloadStatus>& changed) {
  // The final state is reported once the log is in (or given up on).
  const bool report = t.phase == Phase::kFinal || !t.status.terminal;
  if (report && (!t.reported || !sameReport(*t.reported, t.status))) {
    changed.push_back(t.status);
    t.reported = t.status;
  }
}

void SiteMonitor::stepLog(const std::string& executionId, std::vector<ReloadStatus>& changed) {
  std::string taskId, resultId, fileReferenceId;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    auto it = tracked_.find(executionId);
    if (it == tracked_.end()) return;
    taskId = it->second->status.taskId;
    resultId = it->second->attemptIds.back();
    fileReferenceId = it->second->fileReferenceId;
  }
  auto ticket = qrs_.scriptLogTicket(taskId, resultId);
  if (!ticket.isOk() && ticket.status().code() == ErrorCode::kNotFound && !fileReferenceId.empty() &&
      !isZeroGuid(fileReferenceId)) {
    // Older QRS versions have only the fileReferenceId endpoint.
    ticket = qrs_.legacyScriptLogTicket(taskId, fileReferenceId);
  }
  Result<std::string> text = ticket.isOk() ? qrs_.downloadScriptLog(ticket.value(), options_.logTailBytes)
                                           : Result<std::string>(ticket.status());
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = tracked_.find(executionId);
  if (it == tracked_.end()) return;
  Tracked& t = *it->second;
  t.busy = false;
  if (text.isOk()) {
    t.status.scriptLogTail = logTail(text.value(), options_.logTailLines);
    // The script's own error says more than Qlik's status change does.
    std::string error = scriptLogError(t.status.scriptLogTail);
    if (!error.empty()) t.lastDetail = error;
    finishLocked(t, "");
  } else if (++t.logTries >= options_.logAttempts) {
    finishLocked(t, text.status().message());
  } else {
    t.nextDue = clock_.now() + options_.logRetryDelay * (1 << (t.logTries - 1));
  }
  reportLocked(t, changed);
  notifyLocked(t);
}

void SiteMonitor::applySessionLocked(Tracked& t, const qrs::ExecutionSession& session) {
  t.everKnown = true;
  t.lastKnown = clock_.now();
  if (t.status.taskId.empty()) t.status.taskId = session.taskId;
  if (t.status.taskName.empty()) t.status.taskName = session.taskName;
  if (!session.executionResult) return;
  const qrs::ExecutionResult& row = *session.executionResult;
  StatusMapping m = mapQlikStatus(row.status);
  AttemptInfo attempt = toAttempt(row);
  if (t.attemptIds.empty() || (!row.id.empty() && t.attemptIds.back() != row.id)) {
    t.attemptIds.push_back(row.id);
    t.status.attempts.push_back(std::move(attempt));
  } else {
    t.status.attempts.back() = std::move(attempt);
  }
  if (!t.status.startedAt || (t.status.attempts.front().startedAt &&
                              *t.status.attempts.front().startedAt < *t.status.startedAt)) {
    if (t.status.attempts.front().startedAt) t.status.startedAt = t.status.attempts.front().startedAt;
  }
  // A terminal status seen in the session is confirmed by the results read
  // that follows; until then the reload is reported as still going.
  ReloadState state = m.terminal ? ReloadState::kRunning : m.state;
  if (state != t.status.state || row.status != t.status.qlikStatusCode) {
    t.backoff.reset();
    logInfo("site " + site_ + ": execution " + t.status.executionId + " is " + reloadStateName(state) + " (" +
            qrs::taskExecutionStatusName(row.status) + ")" + (t.labels.empty() ? "" : " [" + t.labels + "]"));
  }
  t.status.state = state;
  t.status.qlikStatusCode = row.status;
  t.status.qlikStatus = qrs::taskExecutionStatusName(row.status);
  t.lastDetail = pickDetail(row);
  t.status.message = describeStatus(t.status, "");
  if (!t.note.empty()) t.status.message = t.note + " " + t.status.message;
  notifyLocked(t);
}

void SiteMonitor::applyResultsLocked(Tracked& t, const std::vector<qrs::ExecutionResult>& input, bool complete) {
  if (complete) t.rows.clear();
  for (const auto& row : input) {
    t.rows[row.id.empty() ? "#" + std::to_string(t.rows.size()) : normalizeGuid(row.id)] = row;
  }
  std::vector<qrs::ExecutionResult> rows;
  for (const auto& [id, row] : t.rows) rows.push_back(row);
  auto order = [](const qrs::ExecutionResult& r) {
    return std::make_pair(r.createdAt.value_or(r.startTime.value_or(WallTime::max())),
                          r.startTime.value_or(WallTime::max()));
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) { return order(a) < order(b); });
  t.everKnown = true;
  t.lastKnown = clock_.now();
  t.status.attempts.clear();
  t.attemptIds.clear();
  for (const auto& row : rows) {
    t.status.attempts.push_back(toAttempt(row));
    t.attemptIds.push_back(row.id);
  }
  const qrs::ExecutionResult& latest = rows.back();
  if (t.status.taskId.empty()) t.status.taskId = latest.taskId;
  for (const auto& a : t.status.attempts) {
    if (a.startedAt) {
      t.status.startedAt = a.startedAt;
      break;
    }
  }
  StatusMapping m = mapQlikStatus(latest.status);
  if (m.state != t.status.state || latest.status != t.status.qlikStatusCode) {
    t.backoff.reset();
  }
  t.status.state = m.state;
  t.status.qlikStatusCode = latest.status;
  t.status.qlikStatus = qrs::taskExecutionStatusName(latest.status);
  t.lastDetail = pickDetail(latest);
  t.fileReferenceId = latest.fileReferenceId;
  if (m.terminal) {
    t.status.terminal = true;
    t.status.finishedAt = latest.stopTime ? latest.stopTime : std::optional<WallTime>(clock_.wallNow());
  }
  t.status.message = describeStatus(t.status, t.lastDetail);
  if (!t.note.empty()) t.status.message = t.note + " " + t.status.message;
  // Waiters are woken by the callers, when the read brought what they wait for.
}

void SiteMonitor::finishLocked(Tracked& t, const std::string& logNote) {
  t.phase = Phase::kFinal;
  t.finalAt = clock_.now();
  t.status.terminal = true;
  t.logNote = logNote;
  std::string message = describeStatus(t.status, t.lastDetail);
  if (t.status.attempts.empty() && t.status.state == ReloadState::kFailed) message.clear();
  if (!t.note.empty()) message = message.empty() ? t.note : t.note + " " + message;
  if (!logNote.empty() && t.status.state != ReloadState::kSucceeded) {
    message += " (Script log not available: " + logNote + ")";
  }
  t.status.message = message;
  logInfo("site " + site_ + ": execution " + t.status.executionId + " finished: " +
          reloadStateName(t.status.state) + (t.status.qlikStatus.empty() ? "" : " (" + t.status.qlikStatus + ")") +
          (t.labels.empty() ? "" : " [" + t.labels + "]"));
  notifyLocked(t);
}

void SiteMonitor::scheduleRetryLocked(Tracked& t, const Status& error, const char* what) {
  Duration delay = std::min(t.backoff.next(), capLocked());
  if (error.retryAfter() && *error.retryAfter() > delay) {
    delay = std::min(*error.retryAfter(), Duration(60'000));
  }
  t.nextDue = clock_.now() + delay;
  t.lastError = std::string("cannot ") + what + ": " + error.message();
  if (t.lastError != t.loggedError) {
    logWarn("site " + site_ + ": execution " + t.status.executionId + ": " + t.lastError + "; retrying in " +
            formatDuration(delay) + " (the execution is still being followed)");
    t.loggedError = t.lastError;
  }
  std::string base = describeStatus(t.status, "");
  if (!t.note.empty()) base = t.note + " " + base;
  t.status.message = base + " QRS is not answering as it should (" + t.lastError + "); still following it.";
  notifyLocked(t);
}

void SiteMonitor::notifyLocked(Tracked& t) { clock_.notifyAll(t.changed); }

SiteMonitor::Progress SiteMonitor::progressOf(const Tracked& t) {
  return Progress{t.status.state, t.status.qlikStatusCode, t.status.attempts.size(), !t.status.taskId.empty()};
}

bool SiteMonitor::waitersCareLocked(const Tracked& t, const Progress& before) const {
  // Waiters wake for the final state (awaitFinal) and the task id
  // (awaitTaskId); a read that brought neither leaves them asleep — with
  // thousands waiting, a wake-up per read would cost a context switch each.
  return t.phase == Phase::kFinal || (!before.knowsTask && !t.status.taskId.empty());
}

}  // namespace qlik_reload
