#include "fake_qrs.h"

#include <algorithm>

#include "core/guid.h"
#include "qrs/types.h"

namespace qlik_reload::testing {
namespace {

std::string lower(std::string_view text) { return normalizeGuid(text); }

}  // namespace

FakeQrs::FakeQrs(Clock& clock) : clock_(clock) {}

void FakeQrs::addTask(Task task) {
  std::lock_guard<std::mutex> guard(mutex_);
  task.id = lower(task.id);
  tasks_[task.id] = std::move(task);
}

void FakeQrs::failNext(Op op, int count, Status status, bool performFirst) {
  std::lock_guard<std::mutex> guard(mutex_);
  faults_[op].push_back(Fault{count, std::move(status), performFirst});
}

int FakeQrs::calls(Op op) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = calls_.find(op);
  return it == calls_.end() ? 0 : it->second;
}

int FakeQrs::totalCalls() const {
  std::lock_guard<std::mutex> guard(mutex_);
  int total = 0;
  for (const auto& [op, n] : calls_) total += n;
  return total;
}

std::vector<std::string> FakeQrs::startedExecutions() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return ownStarts_;
}

int FakeQrs::stopsOf(const std::string& taskId) const {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = stops_.find(lower(taskId));
  return it == stops_.end() ? 0 : it->second;
}

std::optional<Status> FakeQrs::takeFaultLocked(Op op, bool* performFirst) {
  ++calls_[op];
  auto& queue = faults_[op];
  if (queue.empty()) return std::nullopt;
  Fault& f = queue.front();
  Status s = f.status;
  if (performFirst) *performFirst = f.performFirst;
  if (--f.remaining <= 0) queue.pop_front();
  return s;
}

const FakeQrs::Task* FakeQrs::findTaskLocked(std::string_view id) const {
  auto it = tasks_.find(lower(id));
  return it == tasks_.end() ? nullptr : &it->second;
}

FakeQrs::Snapshot FakeQrs::computeLocked(const Execution& e) const {
  const Task& task = tasks_.at(e.taskId);
  const Clock::TimePoint now = clock_.now();
  Snapshot snap{true, {}, std::nullopt};
  const WallTime wallNow = clock_.wallNow();
  auto wallAt = [&](Clock::TimePoint t) {
    return wallNow - std::chrono::duration_cast<WallTime::duration>(now - t);
  };
  Clock::TimePoint attemptStart = e.startedAt;
  for (size_t i = 0; i < task.attempts.size(); ++i) {
    if (attemptStart > now) break;
    const Attempt& a = task.attempts[i];
    const bool last = i + 1 == task.attempts.size();
    qrs::ExecutionResult row;
    row.id = i < e.resultIds.size() ? e.resultIds[i] : "";
    row.taskId = e.taskId;
    row.executionId = e.id;
    row.node = task.node;
    row.createdAt = wallAt(attemptStart);
    row.fileReferenceId = std::string(kZeroGuid);
    const Clock::TimePoint runStart = attemptStart + a.queued;
    const Clock::TimePoint end = runStart + a.running;
    row.details.push_back({2, "Changing task state from NeverStarted to Triggered", row.createdAt});
    if (now < runStart) {
      row.status = a.queued.count() > 0 ? qrs::kQueued : qrs::kTriggered;
    } else {
      row.startTime = wallAt(runStart);
      row.fileReferenceId = e.fileReferenceId;
      row.details.push_back({2, "Changing task state from Triggered to Started", row.startTime});
      row.status = qrs::kStarted;
    }
    // A stop during this attempt overrides its course.
    if (e.stopAt && *e.stopAt >= attemptStart && *e.stopAt < end && *e.stopAt <= now) {
      const Clock::TimePoint aborted = *e.stopAt + task.abortTime;
      if (now < *e.stopAt + task.abortTime / 2) {
        row.status = qrs::kAbortInitiated;
      } else if (now < aborted) {
        row.status = qrs::kAborting;
      } else {
        row.status = qrs::kAborted;
        row.stopTime = wallAt(aborted);
        row.durationMs = std::chrono::duration_cast<Duration>(aborted - runStart).count();
        row.details.push_back({0, "Changing task state from Started to Aborted", row.stopTime});
        snap.sessionLive = false;
        snap.endedAt = aborted;
      }
      snap.rows.push_back(std::move(row));
      break;
    }
    if (now >= end) {
      row.stopTime = wallAt(end);
      row.durationMs = std::chrono::duration_cast<Duration>(end - runStart).count();
      if (last) {
        row.status = a.finalStatus;
        row.details.push_back({a.finalStatus == qrs::kFinishedSuccess ? 2 : 0,
                               "Changing task state from Started to " + qrs::taskExecutionStatusName(a.finalStatus),
                               row.stopTime});
        snap.sessionLive = false;
        snap.endedAt = end;
      } else {
        row.status = qrs::kRetry;
        row.details.push_back({0, "Task failed; retrying", row.stopTime});
      }
    }
    snap.rows.push_back(std::move(row));
    attemptStart = end + task.retryGap;
  }
  // Rows written late: while the lag lasts after the session is gone, the
  // last row still shows Started.
  if (!snap.sessionLive && snap.endedAt && now < *snap.endedAt + task.resultsLag && !snap.rows.empty()) {
    snap.rows.back().status = qrs::kStarted;
    snap.rows.back().stopTime.reset();
  }
  return snap;
}

bool FakeQrs::liveLocked(const std::string& taskId) const {
  for (const auto& [id, e] : executions_) {
    if (e.taskId == taskId && computeLocked(e).sessionLive) return true;
  }
  return false;
}

Result<qrs::StartReply> FakeQrs::startLocked(const Task& task) {
  if (!task.enabled || liveLocked(task.id)) return qrs::StartReply{std::string(kZeroGuid)};
  Execution e;
  e.id = newGuid();
  e.taskId = task.id;
  e.startedAt = clock_.now();
  e.fileReferenceId = newGuid();
  for (size_t i = 0; i < task.attempts.size(); ++i) e.resultIds.push_back(newGuid());
  std::string id = e.id;
  executions_[id] = std::move(e);
  ownStarts_.push_back(id);
  return qrs::StartReply{id};
}

Result<qrs::StartReply> FakeQrs::startTask(std::string_view taskId) {
  std::lock_guard<std::mutex> guard(mutex_);
  bool performFirst = false;
  auto fault = takeFaultLocked(Op::kStart, &performFirst);
  const Task* task = findTaskLocked(taskId);
  if (fault && !performFirst) return *fault;
  if (task == nullptr) {
    if (fault) return *fault;
    return Status(Status::notFound("QRS 404 Not found")).setHttpStatus(404);
  }
  auto reply = startLocked(*task);
  if (fault) return *fault;
  return reply;
}

Result<qrs::StartReply> FakeQrs::startTaskByName(std::string_view name) {
  std::lock_guard<std::mutex> guard(mutex_);
  bool performFirst = false;
  auto fault = takeFaultLocked(Op::kStartByName, &performFirst);
  if (fault && !performFirst) return *fault;
  for (const auto& [id, task] : tasks_) {
    if (lower(task.name) == lower(name)) {
      auto reply = startLocked(task);
      if (fault) return *fault;
      return reply;
    }
  }
  if (fault) return *fault;
  return Status(Status::notFound("QRS 404 Not found")).setHttpStatus(404);
}

std::string FakeQrs::startExternally(const std::string& taskId) {
  std::lock_guard<std::mutex> guard(mutex_);
  const Task* task = findTaskLocked(taskId);
  if (task == nullptr) return "";
  auto reply = startLocked(*task);
  if (!ownStarts_.empty() && reply.isOk() && ownStarts_.back() == reply.value().executionId) ownStarts_.pop_back();
  return reply.isOk() ? reply.value().executionId : "";
}

Result<std::optional<qrs::ExecutionSession>> FakeQrs::getExecutionSession(std::string_view id) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kGetSession, nullptr)) return *fault;
  auto it = executions_.find(lower(id));
  if (it == executions_.end()) return std::optional<qrs::ExecutionSession>();
  const Execution& e = it->second;
  const Task& task = tasks_.at(e.taskId);
  if (clock_.now() < e.startedAt + task.sessionVisibleAfter) return std::optional<qrs::ExecutionSession>();
  Snapshot snap = computeLocked(e);
  if (!snap.sessionLive) return std::optional<qrs::ExecutionSession>();
  qrs::ExecutionSession s;
  s.id = e.id;
  s.taskId = e.taskId;
  s.taskName = task.name;
  s.createdAt = clock_.wallNow() - std::chrono::duration_cast<WallTime::duration>(clock_.now() - e.startedAt);
  if (!snap.rows.empty()) {
    qrs::ExecutionResult condensed = snap.rows.back();
    condensed.taskId.clear();
    condensed.executionId.clear();
    s.executionResult = condensed;
  }
  return std::optional<qrs::ExecutionSession>(s);
}

Result<std::vector<qrs::ExecutionSession>> FakeQrs::findExecutionSessionsOfTask(std::string_view taskId) {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (auto fault = takeFaultLocked(Op::kFindSessions, nullptr)) return *fault;
    for (const auto& [id, e] : executions_) {
      if (e.taskId == lower(taskId) && computeLocked(e).sessionLive) ids.push_back(id);
    }
  }
  std::vector<qrs::ExecutionSession> out;
  for (const auto& id : ids) {
    std::lock_guard<std::mutex> guard(mutex_);
    const Execution& e = executions_.at(id);
    qrs::ExecutionSession s;
    s.id = e.id;
    s.taskId = e.taskId;
    s.createdAt = clock_.wallNow() - std::chrono::duration_cast<WallTime::duration>(clock_.now() - e.startedAt);
    out.push_back(s);
  }
  return out;
}

void FakeQrs::onResultsRead(std::function<void()> hook) {
  std::lock_guard<std::mutex> guard(mutex_);
  resultsReadHook_ = std::move(hook);
}

Result<std::vector<qrs::ExecutionResult>> FakeQrs::getExecutionResults(const std::vector<std::string>& ids) {
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    hook = resultsReadHook_;
  }
  if (hook) hook();
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kGetResults, nullptr)) return *fault;
  std::vector<qrs::ExecutionResult> out;
  for (const auto& id : ids) {
    auto it = executions_.find(lower(id));
    if (it == executions_.end()) continue;
    if (clock_.now() < it->second.startedAt + tasks_.at(it->second.taskId).sessionVisibleAfter) continue;
    for (auto& row : computeLocked(it->second).rows) out.push_back(std::move(row));
  }
  // QRS gives no order guarantee: hand the rows back newest first.
  std::reverse(out.begin(), out.end());
  return out;
}

Result<std::vector<qrs::ExecutionResult>> FakeQrs::getExecutionResultsById(const std::vector<std::string>& ids) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kGetResultsById, nullptr)) return *fault;
  std::vector<qrs::ExecutionResult> out;
  for (const auto& [id, e] : executions_) {
    for (auto& row : computeLocked(e).rows) {
      if (std::find(ids.begin(), ids.end(), row.id) != ids.end()) out.push_back(std::move(row));
    }
  }
  return out;
}

Result<std::vector<qrs::ExecutionResult>> FakeQrs::findExecutionResultsOfTask(std::string_view taskId,
                                                                               WallTime since) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kFindTaskResults, nullptr)) return *fault;
  std::vector<qrs::ExecutionResult> out;
  for (const auto& [id, e] : executions_) {
    if (e.taskId != lower(taskId)) continue;
    for (auto& row : computeLocked(e).rows) {
      if (row.createdAt && *row.createdAt >= since) out.push_back(std::move(row));
    }
  }
  return out;
}

Result<std::vector<qrs::ReloadTaskInfo>> FakeQrs::findReloadTasksByName(std::string_view name) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kFindTasks, nullptr)) return *fault;
  std::vector<qrs::ReloadTaskInfo> out;
  for (const auto& [id, task] : tasks_) {
    if (lower(task.name) == lower(name)) out.push_back({task.id, task.name, task.enabled});
  }
  return out;
}

Status FakeQrs::stopTask(std::string_view taskId) {
  std::lock_guard<std::mutex> guard(mutex_);
  bool performFirst = false;
  auto fault = takeFaultLocked(Op::kStop, &performFirst);
  if (fault && !performFirst) return *fault;
  if (findTaskLocked(taskId) == nullptr) return Status(Status::notFound("QRS 404 Not found")).setHttpStatus(404);
  ++stops_[lower(taskId)];
  for (auto& [id, e] : executions_) {
    if (e.taskId == lower(taskId) && !e.stopAt && computeLocked(e).sessionLive) e.stopAt = clock_.now();
  }
  if (fault) return *fault;
  return Status::ok();
}

Result<std::string> FakeQrs::scriptLogTicket(std::string_view taskId, std::string_view resultId) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kLogTicket, nullptr)) return *fault;
  const Task* task = findTaskLocked(taskId);
  if (task == nullptr || task->legacyLogOnly) {
    return Status(Status::notFound("QRS 404 No matching endpoint found")).setHttpStatus(404);
  }
  for (const auto& [id, e] : executions_) {
    if (std::find(e.resultIds.begin(), e.resultIds.end(), lower(resultId)) != e.resultIds.end()) {
      std::string ticket = newGuid();
      tickets_[ticket] = id;
      return ticket;
    }
  }
  return Status(Status::notFound("QRS 404 Not found")).setHttpStatus(404);
}

Result<std::string> FakeQrs::legacyScriptLogTicket(std::string_view taskId, std::string_view fileReferenceId) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kLegacyLogTicket, nullptr)) return *fault;
  for (const auto& [id, e] : executions_) {
    if (e.taskId == lower(taskId) && e.fileReferenceId == lower(fileReferenceId)) {
      std::string ticket = newGuid();
      tickets_[ticket] = id;
      return ticket;
    }
  }
  return Status(Status::notFound("QRS 404 Not found")).setHttpStatus(404);
}

Result<std::string> FakeQrs::downloadScriptLog(std::string_view ticket, std::size_t maxTailBytes) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kDownload, nullptr)) return *fault;
  auto it = tickets_.find(std::string(ticket));
  if (it == tickets_.end()) return Status(Status::notFound("QRS 404 Not found")).setHttpStatus(404);
  const Execution& e = executions_.at(it->second);
  const Task& task = tasks_.at(e.taskId);
  Snapshot snap = computeLocked(e);
  if (!snap.endedAt || clock_.now() < *snap.endedAt + task.logDelay) {
    return Status(Status::notFound("QRS 404 Not found")).setHttpStatus(404);
  }
  const std::string& log = task.scriptLog;
  return log.size() > maxTailBytes ? log.substr(log.size() - maxTailBytes) : log;
}

Result<std::string> FakeQrs::subscribeChanges(std::string_view, std::string_view, std::string_view callbackUrl) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kSubscribe, nullptr)) return *fault;
  std::string handle = newGuid();
  subscriptions_[handle] = std::string(callbackUrl);
  return handle;
}

Status FakeQrs::unsubscribeChanges(std::string_view handle) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kUnsubscribe, nullptr)) return *fault;
  if (subscriptions_.erase(std::string(handle)) == 0) {
    return Status(Status::notFound("QRS 404 Not found")).setHttpStatus(404);
  }
  return Status::ok();
}

std::map<std::string, std::string> FakeQrs::subscriptions() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return subscriptions_;
}

Result<qrs::AboutInfo> FakeQrs::about() {
  std::lock_guard<std::mutex> guard(mutex_);
  if (auto fault = takeFaultLocked(Op::kAbout, nullptr)) return *fault;
  return qrs::AboutInfo{"fake", 1};
}

}  // namespace qlik_reload::testing
