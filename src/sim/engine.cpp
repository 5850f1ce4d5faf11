#include "sim/engine.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <tuple>

#include <Poco/JSON/Array.h>

#include "core/guid.h"
#include "core/time_format.h"
#include "qrs/types.h"
#include "sim/filter.h"
#include "sim/json_util.h"

namespace qlik_reload::sim {
namespace {

using TimePoint = Clock::TimePoint;

constexpr const char* kUnsetDate = "1753-01-01T00:00:00.000Z";
constexpr const char* kSchedulerUser = "INTERNAL\\sa_scheduler";
constexpr int kTaskSessionTimeoutMinutes = 1440;
constexpr int kDetailError = 0;
constexpr int kDetailInfo = 2;

bool isFailureStatus(int status) {
  return status == qrs::kFinishedFail || status == qrs::kError || status == qrs::kReset ||
         status == qrs::kAborted || status == qrs::kRetry;
}

std::string toCrlf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16 + 2);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n' && (i == 0 || text[i - 1] != '\r')) out.push_back('\r');
    out.push_back(c);
  }
  if (!out.empty() && out.back() != '\n') out += "\r\n";
  return out;
}

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// A script log shaped like the ones Qlik Sense writes.
std::string defaultScriptLog(const TaskSpec& task, Outcome outcome) {
  std::ostringstream log;
  log << "Execution started.\n"
         "Qlik Sense Server Version 14.187.4\n"
         "CPU Target                    x64\n"
         "Operating System              Windows Server 2019 Standard  (64 bit edition)\n"
         "Reload Executed By            INTERNAL\\sa_scheduler\n"
         "Process Executing             Qlik Sense Server\n"
         "Process ID                    4712\n"
         "0002  LIB CONNECT TO 'Warehouse'\n"
         "0003  Connected.\n"
      << "0005  " << task.appName << ":\n"
      << "0006  SQL SELECT * FROM dbo.Facts\n";
  switch (outcome) {
    case Outcome::kSuccess:
    case Outcome::kSkip:
      log << "      4 fields found: Id, Amount, Region, Date\n"
             "      125,000 lines fetched\n"
             "Creating search index\n"
             "Search index creation completed successfully\n"
             "App saved\n"
             "Execution finished.\n";
      break;
    case Outcome::kFail:
      log << "The following error occurred:\n"
             "Connector reply error: SQL##f - SqlState: 42S02, ErrorCode: 208, ErrorMsg: Invalid object name "
             "'dbo.Facts'.\n"
             "The error occurred here:\n"
             "SQL SELECT * FROM dbo.Facts\n"
             "Execution Failed\n"
             "Execution finished.\n";
      break;
    case Outcome::kError:
      log << "General Script Error\n"
             "Execution Failed\n"
             "Execution finished.\n";
      break;
    case Outcome::kReset:
      log << "The engine was reset while the reload ran\n";
      break;
  }
  return log.str();
}

// "20260102T030405.678+0000", the time stamp Qlik puts before each log line.
std::string logStamp(WallTime time) {
  std::string iso = formatIso8601(time);  // 2026-01-02T03:04:05.678Z
  std::string out;
  for (char c : iso) {
    if (c == '-' || c == ':') continue;
    if (c == 'Z') {
      out += "+0000";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

Result<std::vector<std::string>> parseGuidList(std::string_view body) {
  Result<Poco::Dynamic::Var> parsed = parseJsonText(body);
  if (!parsed.isOk() || !isJsonArray(*parsed)) {
    return Status::invalidArgument("Cannot parse the request body: expected a JSON array of task ids");
  }
  auto array = parsed->extract<Poco::JSON::Array::Ptr>();
  std::vector<std::string> ids;
  for (unsigned i = 0; i < array->size(); ++i) {
    Poco::Dynamic::Var item = array->get(i);
    if (!item.isString() || !isGuid(item.extract<std::string>())) {
      return Status::invalidArgument("Cannot parse the request body: item " + std::to_string(i) +
                                     " is not a task id");
    }
    ids.push_back(normalizeGuid(item.extract<std::string>()));
  }
  return ids;
}

SimReply valueReply(int status, const Poco::Dynamic::Var& value) {
  auto object = newJsonObject();
  object->set("value", value);
  return SimReply::json(status, toJsonText(object));
}

}  // namespace

SimEngine::SimEngine(Scenario scenario, Clock& clock, EngineOptions options)
    : clock_(clock),
      options_(options),
      steadyOrigin_(clock.now()),
      wallOrigin_(clock.wallNow()),
      scenario_(std::move(scenario)),
      cursor_(steadyOrigin_) {
  for (const TaskSpec& spec : scenario_.tasks) {
    tasks_.push_back(TaskEntry{spec, newGuid(), steadyOrigin_, steadyOrigin_});
    addNode(spec.node);
  }
  scenario_.tasks.clear();
  for (std::string& user : scenario_.deniedUsers) user = toLower(user);
}

// ---------------------------------------------------------------------------
// Simulation

Clock::TimePoint::duration SimEngine::scaled(std::int64_t ms) const {
  double scale = options_.timeScale > 0 ? options_.timeScale : 1.0;
  return std::chrono::duration_cast<Clock::TimePoint::duration>(
      std::chrono::duration<double, std::milli>(static_cast<double>(ms) / scale));
}

Clock::WallTime SimEngine::wallTimeOf(Clock::TimePoint time) const {
  return wallOrigin_ + std::chrono::duration_cast<Clock::WallTime::duration>(time - steadyOrigin_);
}

bool SimEngine::LaterEvent::operator()(const Event& a, const Event& b) const {
  return std::tie(a.when, a.kind, a.execution) > std::tie(b.when, b.kind, b.execution);
}

bool SimEngine::slotFree() const { return scenario_.maxConcurrent == 0 || running_ < scenario_.maxConcurrent; }

void SimEngine::endRow(Row& row, TimePoint when) {
  if (row.startedAt && !row.endedAt) --running_;
  row.endedAt = when;
}

void SimEngine::reschedule(size_t index) {
  Execution& execution = executions_[index];
  ++execution.scheduleVersion;
  blocked_.erase(index);
  if (!execution.live) return;
  const Row& row = rows_[execution.rows.back()];
  auto schedule = [&](TimePoint when, EventKind kind) {
    schedule_.push(Event{when, kind, index, execution.scheduleVersion});
  };
  if (execution.abortStartedAt) {
    auto abortTime = scaled(execution.task.abortMs);
    if (row.status == qrs::kAbortInitiated) schedule(*execution.abortStartedAt + abortTime / 2, EventKind::kAbortStep);
    if (row.status == qrs::kAborting) schedule(*execution.abortStartedAt + abortTime, EventKind::kAbortStep);
    return;
  }
  if (execution.nextAttemptAt) {
    schedule(*execution.nextAttemptAt, EventKind::kNextAttempt);
    return;
  }
  const AttemptSpec& attempt = execution.task.attempts[row.attempt];
  if (row.status == qrs::kTriggered && row.queuedAt < row.readyAt) {
    schedule(row.queuedAt, EventKind::kQueue);
    return;
  }
  if (row.status == qrs::kTriggered || row.status == qrs::kQueued) {
    // Whether a start finds a free slot is decided when it is due (dispatch);
    // a queued attempt that is ready and finds none waits in blocked_.
    if (attempt.outcome == Outcome::kSkip || row.status == qrs::kTriggered || row.readyAt > cursor_ || slotFree()) {
      schedule(std::max(row.readyAt, cursor_), EventKind::kStart);
    } else {
      blocked_.insert(index);
    }
    return;
  }
  if (row.status == qrs::kStarted) schedule(*row.startedAt + scaled(attempt.runMs), EventKind::kFinish);
}

bool SimEngine::peekEvent(Event& event, bool& fromBlocked) {
  while (!schedule_.empty() && schedule_.top().version != executions_[schedule_.top().execution].scheduleVersion) {
    schedule_.pop();
  }
  bool found = false;
  if (!schedule_.empty()) {
    event = schedule_.top();
    fromBlocked = false;
    found = true;
  }
  if (!blocked_.empty() && slotFree()) {
    // The oldest waiting attempt takes the free slot now.
    const size_t index = *blocked_.begin();
    Event offer{cursor_, EventKind::kStart, index, executions_[index].scheduleVersion};
    if (!found || LaterEvent()(event, offer)) {
      event = offer;
      fromBlocked = true;
      found = true;
    }
  }
  return found;
}

void SimEngine::dispatch(const Event& event) {
  const Execution& execution = executions_[event.execution];
  const Row& row = rows_[execution.rows.back()];
  if (event.kind == EventKind::kStart && execution.task.attempts[row.attempt].outcome != Outcome::kSkip &&
      !slotFree()) {
    if (row.status == qrs::kTriggered) {
      apply(event.execution, EventKind::kQueue, event.when);  // no free slot: waits in the queue
    } else {
      blocked_.insert(event.execution);
    }
    return;
  }
  apply(event.execution, event.kind, event.when);
}

void SimEngine::advanceTo(TimePoint now) {
  Event event{};
  bool fromBlocked = false;
  while (peekEvent(event, fromBlocked) && event.when <= now) {
    if (fromBlocked) {
      blocked_.erase(event.execution);
    } else {
      schedule_.pop();
    }
    cursor_ = std::max(cursor_, event.when);
    dispatch(event);
  }
  cursor_ = std::max(cursor_, now);
}

void SimEngine::addDetail(Row& row, int type, std::string message, TimePoint when) {
  row.details.push_back(Detail{newGuid(), type, std::move(message), when});
}

void SimEngine::setStatus(Row& row, int status, TimePoint when, int detailType) {
  addDetail(row, detailType,
            "Changing task state from " + qrs::taskExecutionStatusName(row.status) + " to " +
                qrs::taskExecutionStatusName(status),
            when);
  row.status = status;
  row.modifiedAt = when;
  executions_[row.execution].modifiedAt = when;
}

void SimEngine::createRow(size_t executionIndex, size_t attemptIndex, TimePoint when) {
  Execution& execution = executions_[executionIndex];
  const AttemptSpec& attempt = execution.task.attempts[attemptIndex];
  Row row;
  row.id = newGuid();
  row.execution = executionIndex;
  row.attempt = attemptIndex;
  row.createdAt = when;
  row.modifiedAt = when;
  row.queuedAt = when + scaled(attempt.queueMs) / 2;
  row.readyAt = when + scaled(attempt.queueMs);
  row.status = qrs::kNeverStarted;
  row.fileReferenceId = std::string(kZeroGuid);
  rows_.push_back(std::move(row));
  Row& added = rows_.back();
  execution.rows.push_back(rows_.size() - 1);
  setStatus(added, qrs::kTriggered, when, kDetailInfo);
  addDetail(added, kDetailInfo, "Trying to start task. Sending task to slave scheduler", when);
}

void SimEngine::finishExecution(size_t executionIndex, int finalStatus, TimePoint when) {
  live_.erase(std::remove(live_.begin(), live_.end(), executionIndex), live_.end());
  Execution& execution = executions_[executionIndex];
  execution.live = false;
  execution.finalStatus = finalStatus;
  execution.finishedAt = when;
  execution.modifiedAt = when;
}

std::string SimEngine::buildScriptLog(const Execution& execution, const Row& row, bool aborted) const {
  const AttemptSpec& attempt = execution.task.attempts[row.attempt];
  std::string text;
  if (attempt.scriptLog) {
    text = *attempt.scriptLog;
  } else if (execution.task.scriptLog) {
    text = *execution.task.scriptLog;
  } else {
    std::string stamp = logStamp(wallTimeOf(row.startedAt ? *row.startedAt : row.createdAt));
    for (const std::string& line : splitLines(defaultScriptLog(execution.task, attempt.outcome))) {
      text += stamp + " " + line + "\n";
    }
  }
  if (aborted) {
    std::vector<std::string> lines = splitLines(text);
    lines.resize((lines.size() + 1) / 2);
    text.clear();
    for (const std::string& line : lines) text += line + "\n";
    text += "Execution aborted by user request.\n";
  }
  return toCrlf(text);
}

void SimEngine::apply(size_t executionIndex, EventKind kind, TimePoint when) {
  std::optional<Before> before;
  if (tracking()) before = captureBefore(executionIndex);
  Execution& execution = executions_[executionIndex];
  Row& row = rows_[execution.rows.back()];
  const AttemptSpec& attempt = execution.task.attempts[row.attempt];
  switch (kind) {
    case EventKind::kAbortStep:
      if (row.status == qrs::kAbortInitiated) {
        setStatus(row, qrs::kAborting, when, kDetailInfo);
      } else {
        setStatus(row, qrs::kAborted, when, kDetailError);
        if (!row.endedAt) {
          const bool started = row.startedAt.has_value();
          endRow(row, when);
          if (started) {
            row.scriptLog = buildScriptLog(execution, row, true);
            row.scriptLogSize = static_cast<std::int64_t>(row.scriptLog.size());
          }
        }
        finishExecution(executionIndex, qrs::kAborted, when);
      }
      break;
    case EventKind::kNextAttempt:
      execution.nextAttemptAt.reset();
      createRow(executionIndex, row.attempt + 1, when);
      break;
    case EventKind::kQueue:
      setStatus(row, qrs::kQueued, when, kDetailInfo);
      break;
    case EventKind::kStart:
      if (attempt.outcome == Outcome::kSkip) {
        setStatus(row, qrs::kSkipped, when, kDetailInfo);
        endRow(row, when);
        finishExecution(executionIndex, qrs::kSkipped, when);
        break;
      }
      setStatus(row, qrs::kStarted, when, kDetailInfo);
      row.startedAt = when;
      ++running_;
      row.fileReferenceId = newGuid();
      {
        std::string stamp = logStamp(wallTimeOf(when));
        row.scriptLogLocation = execution.task.node + "\\Script\\" + execution.task.appId + "." +
                                stamp.substr(0, 15) + ".log";
      }
      addDetail(row, kDetailInfo, "Reference to scriptlog added", when);
      break;
    case EventKind::kFinish: {
      endRow(row, when);
      row.scriptLog = buildScriptLog(execution, row, false);
      row.scriptLogSize = static_cast<std::int64_t>(row.scriptLog.size());
      if (row.attempt + 1 < execution.task.attempts.size()) {
        setStatus(row, qrs::kRetry, when, kDetailError);
        execution.nextAttemptAt = when + scaled(execution.task.retryDelayMs);
      } else {
        int status = finalStatusOf(attempt.outcome);
        setStatus(row, status, when, isFailureStatus(status) ? kDetailError : kDetailInfo);
        finishExecution(executionIndex, status, when);
      }
      break;
    }
  }
  reschedule(executionIndex);
  if (before) recordChangesSince(*before, when);
}

// ---------------------------------------------------------------------------
// Change tracking

namespace {

// Top-level properties of `after` that `before` lacks or holds another value for.
std::vector<std::string> changedProperties(const Poco::JSON::Object& before, const Poco::JSON::Object& after) {
  std::vector<std::string> changed;
  for (const std::string& name : after.getNames()) {
    if (!before.has(name) || toJsonText(before.get(name)) != toJsonText(after.get(name))) changed.push_back(name);
  }
  return changed;
}

}  // namespace

SimEngine::Before SimEngine::captureBefore(size_t executionIndex) const {
  const Execution& execution = executions_[executionIndex];
  Before before{executionIndex, execution.rows.back(), execution.live, nullptr, nullptr};
  if (trackResults_) before.result = resultJson(rows_[before.row], execution, true);
  if (trackSessions_ && execution.live) before.session = sessionJson(execution, rows_[before.row], true);
  return before;
}

void SimEngine::recordChangesSince(const Before& before, TimePoint when) {
  const Execution& execution = executions_[before.execution];
  if (trackResults_ && before.result) {
    const Row& row = rows_[before.row];
    auto after = resultJson(row, execution, true);
    std::vector<std::string> changed = changedProperties(*before.result, *after);
    if (!changed.empty()) {
      recordChange(kExecutionResultType, row.id, ChangeType::kUpdate, std::move(changed), after, when);
    }
    // Rows this change created (the next attempt) come after the one it began with.
    auto created = std::find(execution.rows.begin(), execution.rows.end(), before.row);
    if (created != execution.rows.end()) ++created;
    for (; created != execution.rows.end(); ++created) {
      const Row& added = rows_[*created];
      auto entity = resultJson(added, execution, true);
      recordChange(kExecutionResultType, added.id, ChangeType::kAdd, entity->getNames(), entity, when);
    }
  }
  if (trackSessions_ && before.live && before.session) {
    if (!execution.live) {
      recordChange(kExecutionSessionType, execution.id, ChangeType::kDelete, {}, nullptr, when);
    } else {
      auto after = sessionJson(execution, rows_[execution.rows.back()], true);
      std::vector<std::string> changed = changedProperties(*before.session, *after);
      if (!changed.empty()) {
        recordChange(kExecutionSessionType, execution.id, ChangeType::kUpdate, std::move(changed), after, when);
      }
    }
  }
}

void SimEngine::recordStart(size_t executionIndex, TimePoint when) {
  const Execution& execution = executions_[executionIndex];
  const Row& row = rows_[execution.rows.back()];
  if (trackSessions_) {
    auto entity = sessionJson(execution, row, true);
    recordChange(kExecutionSessionType, execution.id, ChangeType::kAdd, entity->getNames(), entity, when);
  }
  if (trackResults_) {
    auto entity = resultJson(row, execution, true);
    recordChange(kExecutionResultType, row.id, ChangeType::kAdd, entity->getNames(), entity, when);
  }
}

void SimEngine::recordChange(const char* type, std::string id, ChangeType changeType,
                             std::vector<std::string> properties, Poco::JSON::Object::Ptr entity, TimePoint when) {
  const bool wasEmpty = changes_.empty();
  changes_.push_back(EntityChange{type, std::move(id), changeType, std::move(properties), std::move(entity), when,
                                  date(when)});
  if (wasEmpty && changeListener_) changeListener_();
}

void SimEngine::trackChanges(const std::set<std::string>& objectTypes) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Play forward first: changes due before now happened before the tracking did.
  advanceTo(clock_.now());
  trackResults_ = false;
  trackSessions_ = false;
  for (const std::string& type : objectTypes) {
    if (equalsIgnoreCase(type, kExecutionResultType)) trackResults_ = true;
    if (equalsIgnoreCase(type, kExecutionSessionType)) trackSessions_ = true;
  }
  if (!tracking()) changes_.clear();
}

std::vector<EntityChange> SimEngine::collectChanges() {
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  std::vector<EntityChange> collected;
  collected.swap(changes_);
  return collected;
}

std::optional<Clock::TimePoint> SimEngine::nextTransitionAt() {
  std::lock_guard<std::mutex> lock(mutex_);
  Event event{};
  bool fromBlocked = false;
  if (!peekEvent(event, fromBlocked)) return std::nullopt;
  return event.when;
}

void SimEngine::setChangeListener(std::function<void()> listener) {
  std::lock_guard<std::mutex> lock(mutex_);
  changeListener_ = std::move(listener);
}

Status SimEngine::checkFilter(std::string_view objectType, const Filter& filter) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::pair<const char*, Collection> kTypes[] = {{"ReloadTask", Collection::kReloadTask},
                                                       {kExecutionResultType, Collection::kExecutionResult},
                                                       {kExecutionSessionType, Collection::kExecutionSession}};
  for (const auto& [name, collection] : kTypes) {
    if (equalsIgnoreCase(objectType, name)) return filter.checkAgainst(*prototypeOf(collection));
  }
  return Status::ok();
}

void SimEngine::countNotification(bool delivered) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++(delivered ? notificationsSent_ : notificationsFailed_);
}

// ---------------------------------------------------------------------------
// Lookups

SimEngine::TaskEntry* SimEngine::findTask(std::string_view id) {
  if (!isGuid(id)) return nullptr;
  std::string normalized = normalizeGuid(id);
  for (TaskEntry& task : tasks_) {
    if (task.spec.id == normalized) return &task;
  }
  return nullptr;
}

std::optional<size_t> SimEngine::liveIndexOf(const std::string& taskId) const {
  for (size_t index : live_) {
    if (executions_[index].task.id == taskId) return index;
  }
  return std::nullopt;
}

const SimEngine::Row* SimEngine::lastRowOfTask(const std::string& taskId) const {
  for (auto it = rows_.rbegin(); it != rows_.rend(); ++it) {
    if (executions_[it->execution].task.id == taskId) return &*it;
  }
  return nullptr;
}

void SimEngine::addNode(const std::string& nodeName) {
  if (nodeIds_.count(nodeName) == 0) nodeIds_[nodeName] = newGuid();
}

std::string SimEngine::nodeIdOf(const std::string& nodeName) const {
  auto it = nodeIds_.find(nodeName);
  return it == nodeIds_.end() ? std::string(kZeroGuid) : it->second;
}

bool SimEngine::isDenied(const std::string& user) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string lower = toLower(user);
  return std::find(scenario_.deniedUsers.begin(), scenario_.deniedUsers.end(), lower) != scenario_.deniedUsers.end();
}

// ---------------------------------------------------------------------------
// Starting and stopping

SimReply SimEngine::startLocked(TaskEntry& task, StartMode mode, const std::string& user) {
  const TimePoint now = cursor_;
  std::string executionId(kZeroGuid);
  if (task.spec.enabled && !liveIndexOf(task.spec.id)) {
    Execution execution;
    execution.id = newGuid();
    execution.task = task.spec;
    execution.user = user;
    execution.createdAt = now;
    execution.modifiedAt = now;
    executions_.push_back(std::move(execution));
    const size_t index = executions_.size() - 1;
    live_.push_back(index);
    createRow(index, 0, now);
    reschedule(index);
    if (tracking()) recordStart(index, now);
    executionId = executions_.back().id;
  }
  starts_.push_back(StartRecord{task.spec.id, task.spec.name, executionId,
                                mode == StartMode::kSynchronous ? "synchronous" : "asynchronous", user, now});
  advanceTo(now);  // zero-length phases take effect at once
  if (mode == StartMode::kAsynchronous) return SimReply::noContent();
  if (task.spec.startReply == StartReplyShape::kBare) return SimReply::json(201, toJsonText(executionId));
  return valueReply(201, executionId);
}

SimReply SimEngine::startTask(std::string_view taskId, StartMode mode, const std::string& user) {
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  TaskEntry* task = findTask(taskId);
  if (task == nullptr) return SimReply::text(404, kNotFound);
  return startLocked(*task, mode, user);
}

SimReply SimEngine::startTaskByName(std::string_view name, StartMode mode, const std::string& user) {
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  for (TaskEntry& task : tasks_) {
    if (equalsIgnoreCase(task.spec.name, name)) return startLocked(task, mode, user);
  }
  return SimReply::text(404, kNotFound);
}

SimReply SimEngine::startMany(std::string_view body, const std::string& user) {
  Result<std::vector<std::string>> ids = parseGuidList(body);
  if (!ids.isOk()) return SimReply::text(400, ids.status().message());
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  for (const std::string& id : *ids) {
    if (findTask(id) == nullptr) return SimReply::text(404, kNotFound);
  }
  for (const std::string& id : *ids) (void)startLocked(*findTask(id), StartMode::kAsynchronous, user);
  return SimReply::noContent();
}

void SimEngine::stopLocked(TaskEntry& task) {
  const TimePoint now = cursor_;
  const std::optional<size_t> live = liveIndexOf(task.spec.id);
  stops_.push_back(StopRecord{task.spec.id, now, live.has_value()});
  if (!live || executions_[*live].abortStartedAt) return;
  const size_t index = *live;
  Execution* execution = &executions_[index];
  std::optional<Before> before;
  if (tracking()) before = captureBefore(index);
  execution->abortStartedAt = now;
  execution->abortReason = 1;  // Manual
  execution->nextAttemptAt.reset();
  setStatus(rows_[execution->rows.back()], qrs::kAbortInitiated, now, kDetailInfo);
  reschedule(index);
  if (before) recordChangesSince(*before, now);
  advanceTo(now);
}

SimReply SimEngine::stopTask(std::string_view taskId) {
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  TaskEntry* task = findTask(taskId);
  if (task == nullptr) return SimReply::text(404, kNotFound);
  stopLocked(*task);
  return SimReply::noContent();
}

SimReply SimEngine::stopMany(std::string_view body) {
  Result<std::vector<std::string>> ids = parseGuidList(body);
  if (!ids.isOk()) return SimReply::text(400, ids.status().message());
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  for (const std::string& id : *ids) {
    if (findTask(id) == nullptr) return SimReply::text(404, kNotFound);
  }
  for (const std::string& id : *ids) stopLocked(*findTask(id));
  return SimReply::noContent();
}

// ---------------------------------------------------------------------------
// JSON

std::string SimEngine::date(TimePoint time) const { return formatIso8601(wallTimeOf(time)); }

std::string SimEngine::date(const std::optional<TimePoint>& time) const {
  return time ? date(*time) : std::string(kUnsetDate);
}

Poco::JSON::Object::Ptr SimEngine::resultJson(const Row& row, const Execution& execution, bool full) const {
  auto object = newJsonObject();
  object->set("id", row.id);
  if (full) {
    object->set("createdDate", date(row.createdAt));
    object->set("modifiedDate", date(row.modifiedAt));
    object->set("modifiedByUserName", std::string(kSchedulerUser));
    object->set("taskID", execution.task.id);
    object->set("executionID", execution.id);
    object->set("appID", execution.task.appId);
    object->set("executingNodeID", nodeIdOf(execution.task.node));
  }
  object->set("executingNodeName", execution.task.node);
  object->set("status", row.status);
  object->set("startTime", date(row.startedAt));
  object->set("stopTime", date(row.endedAt));
  std::int64_t duration = 0;
  if (row.startedAt && row.endedAt) {
    duration = toEpochMs(wallTimeOf(*row.endedAt)) - toEpochMs(wallTimeOf(*row.startedAt));
  }
  object->set("duration", duration);
  object->set("fileReferenceID", row.fileReferenceId);
  object->set("scriptLogAvailable", row.startedAt.has_value());
  auto details = newJsonArray();
  for (const Detail& detail : row.details) {
    auto item = newJsonObject();
    item->set("id", detail.id);
    item->set("detailsType", detail.type);
    item->set("message", detail.message);
    item->set("detailCreatedDate", date(detail.at));
    item->set("privileges", Poco::Dynamic::Var());
    details->add(item);
  }
  object->set("details", details);
  object->set("scriptLogLocation", row.scriptLogLocation);
  object->set("scriptLogSize", row.scriptLogSize);
  object->set("privileges", Poco::Dynamic::Var());
  if (full) object->set("schemaPath", std::string("ExecutionResult"));
  return object;
}

Poco::JSON::Object::Ptr SimEngine::appJson(const TaskSpec& task) const {
  auto app = newJsonObject();
  app->set("id", task.appId);
  app->set("name", task.appName);
  app->set("appId", std::string());
  app->set("publishTime", std::string(kUnsetDate));
  app->set("published", false);
  app->set("stream", Poco::Dynamic::Var());
  app->set("savedInProductVersion", std::string());
  app->set("migrationHash", std::string());
  app->set("availabilityStatus", 0);
  app->set("privileges", Poco::Dynamic::Var());
  return app;
}

Poco::JSON::Object::Ptr SimEngine::operationalJson(const TaskSpec& task, const TaskEntry* entry) const {
  auto operational = newJsonObject();
  operational->set("id", entry != nullptr ? entry->operationalId : std::string(kZeroGuid));
  const Row* last = lastRowOfTask(task.id);
  if (last != nullptr) {
    operational->set("lastExecutionResult", resultJson(*last, executions_[last->execution], false));
  } else {
    // Like a task that never ran: a result row in NeverStarted.
    auto never = newJsonObject();
    never->set("id", std::string(kZeroGuid));
    never->set("executingNodeName", std::string());
    never->set("status", static_cast<int>(qrs::kNeverStarted));
    never->set("startTime", std::string(kUnsetDate));
    never->set("stopTime", std::string(kUnsetDate));
    never->set("duration", 0);
    never->set("fileReferenceID", std::string(kZeroGuid));
    never->set("scriptLogAvailable", false);
    never->set("details", newJsonArray());
    never->set("scriptLogLocation", std::string());
    never->set("scriptLogSize", 0);
    never->set("privileges", Poco::Dynamic::Var());
    operational->set("lastExecutionResult", never);
  }
  operational->set("nextExecution", std::string(kUnsetDate));
  operational->set("privileges", Poco::Dynamic::Var());
  return operational;
}

Poco::JSON::Object::Ptr SimEngine::taskJson(const TaskSpec& task, const TaskEntry* entry, bool full) const {
  auto object = newJsonObject();
  object->set("id", task.id);
  if (full) {
    object->set("createdDate", date(entry != nullptr ? entry->createdAt : steadyOrigin_));
    object->set("modifiedDate", date(entry != nullptr ? entry->modifiedAt : steadyOrigin_));
    object->set("modifiedByUserName", std::string("INTERNAL\\sa_api"));
    object->set("customProperties", newJsonArray());
    object->set("app", appJson(task));
    object->set("isManuallyTriggered", false);
  }
  object->set("operational", operationalJson(task, entry));
  object->set("name", task.name);
  object->set("taskType", 0);
  object->set("enabled", task.enabled);
  object->set("taskSessionTimeout", kTaskSessionTimeoutMinutes);
  object->set("maxRetries", task.maxRetries());
  if (full) object->set("tags", newJsonArray());
  object->set("privileges", Poco::Dynamic::Var());
  if (full) object->set("schemaPath", std::string("ReloadTask"));
  return object;
}

Poco::JSON::Object::Ptr SimEngine::sessionJson(const Execution& execution, const Row& current, bool full) const {
  const TaskEntry* entry = nullptr;
  for (const TaskEntry& task : tasks_) {
    if (task.spec.id == execution.task.id) entry = &task;
  }
  auto object = newJsonObject();
  object->set("id", execution.id);
  if (full) {
    object->set("createdDate", date(execution.createdAt));
    object->set("modifiedDate", date(execution.modifiedAt));
    object->set("modifiedByUserName", std::string(kSchedulerUser));
  }
  auto node = newJsonObject();
  node->set("id", nodeIdOf(execution.task.node));
  node->set("privileges", Poco::Dynamic::Var());
  object->set("executingNode", node);
  object->set("executionResult", resultJson(current, execution, false));
  object->set("abortAt", formatIso8601(wallTimeOf(execution.createdAt) + std::chrono::minutes(kTaskSessionTimeoutMinutes)));
  if (full) object->set("retries", static_cast<int>(current.attempt));
  object->set("abortReason", execution.abortReason);
  if (full) {
    object->set("app", appJson(execution.task));
    object->set("user", execution.user);
  }
  object->set("reloadTask", taskJson(execution.task, entry, false));
  object->set("userSyncTask", Poco::Dynamic::Var());
  object->set("externalProgramTask", Poco::Dynamic::Var());
  object->set("privileges", Poco::Dynamic::Var());
  if (full) object->set("schemaPath", std::string("ExecutionSession"));
  return object;
}

Poco::JSON::Object::Ptr SimEngine::prototypeOf(Collection collection) const {
  TaskSpec task;
  task.id = std::string(kZeroGuid);
  task.appId = std::string(kZeroGuid);
  task.attempts.push_back(AttemptSpec{});
  Execution execution;
  execution.task = task;
  Row row;
  row.status = qrs::kNeverStarted;
  row.details.push_back(Detail{std::string(kZeroGuid), kDetailInfo, "", steadyOrigin_});
  switch (collection) {
    case Collection::kReloadTask: {
      auto object = taskJson(task, nullptr, true);
      auto operational = object->getObject("operational");
      operational->set("lastExecutionResult", resultJson(row, execution, false));
      return object;
    }
    case Collection::kExecutionResult: return resultJson(row, execution, true);
    case Collection::kExecutionSession: {
      auto object = sessionJson(execution, row, true);
      object->getObject("reloadTask")->getObject("operational")->set("lastExecutionResult",
                                                                      resultJson(row, execution, false));
      return object;
    }
  }
  return newJsonObject();
}

// ---------------------------------------------------------------------------
// Reading entities

SimReply SimEngine::about() const {
  auto object = newJsonObject();
  object->set("buildVersion", std::string("38.22.0.0"));
  object->set("buildDate", std::string("11/14/2022 11:12:55 PM"));
  object->set("databaseProvider", std::string("Devart.Data.PostgreSql"));
  object->set("nodeType", 1);
  object->set("sharedPersistence", true);
  object->set("requiresBootstrap", false);
  object->set("singleNodeOnly", false);
  object->set("schemaPath", std::string("About"));
  return SimReply::json(200, toJsonText(object));
}

SimReply SimEngine::list(Collection collection, std::string_view filterText, bool full) {
  Result<Filter> filter = Filter::parse(filterText);
  if (!filter.isOk()) return SimReply::text(400, filter.status().message());
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  Status checked = filter->checkAgainst(*prototypeOf(collection));
  if (!checked.isOk()) return SimReply::text(400, checked.message());
  // Skip entities that cannot match before building their JSON: pollers
  // filter by one id, and the lists only grow.
  using Values = std::optional<std::set<std::string>>;
  const Values byId = filter->requiredValues("id");
  const Values byExecution = filter->requiredValues("executionID");
  const Values byTask = filter->requiredValues("taskID");
  const Values byReloadTask = filter->requiredValues("reloadTask.id");
  auto excluded = [](const Values& wanted, const std::string& value) {
    return wanted && wanted->count(toLower(value)) == 0;
  };
  auto array = newJsonArray();
  switch (collection) {
    case Collection::kReloadTask:
      for (const TaskEntry& task : tasks_) {
        if (excluded(byId, task.spec.id)) continue;
        auto object = taskJson(task.spec, &task, true);
        if (filter->matches(*object)) array->add(full ? object : taskJson(task.spec, &task, false));
      }
      break;
    case Collection::kExecutionResult:
      for (const Row& row : rows_) {
        const Execution& execution = executions_[row.execution];
        if (excluded(byExecution, execution.id) || excluded(byId, row.id) || excluded(byTask, execution.task.id)) continue;
        auto object = resultJson(row, execution, true);
        if (filter->matches(*object)) array->add(full ? object : resultJson(row, execution, false));
      }
      break;
    case Collection::kExecutionSession:
      for (size_t index : live_) {
        const Execution& execution = executions_[index];
        if (excluded(byId, execution.id) || excluded(byReloadTask, execution.task.id)) continue;
        const Row& current = rows_[execution.rows.back()];
        auto object = sessionJson(execution, current, true);
        if (filter->matches(*object)) array->add(full ? object : sessionJson(execution, current, false));
      }
      break;
  }
  return SimReply::json(200, toJsonText(array));
}

SimReply SimEngine::count(Collection collection, std::string_view filter) {
  SimReply listed = list(collection, filter, true);
  if (listed.status != 200) return listed;
  Result<Poco::Dynamic::Var> parsed = parseJsonText(listed.body);
  size_t n = parsed.isOk() && isJsonArray(*parsed) ? parsed->extract<Poco::JSON::Array::Ptr>()->size() : 0;
  return valueReply(200, static_cast<std::int64_t>(n));
}

SimReply SimEngine::get(Collection collection, std::string_view id) {
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  if (!isGuid(id)) return SimReply::text(404, kNotFound);
  std::string wanted = normalizeGuid(id);
  switch (collection) {
    case Collection::kReloadTask:
      for (const TaskEntry& task : tasks_) {
        if (task.spec.id == wanted) return SimReply::json(200, toJsonText(taskJson(task.spec, &task, true)));
      }
      break;
    case Collection::kExecutionResult:
      for (const Row& row : rows_) {
        if (row.id == wanted) return SimReply::json(200, toJsonText(resultJson(row, executions_[row.execution], true)));
      }
      break;
    case Collection::kExecutionSession:
      for (const Execution& execution : executions_) {
        if (execution.live && execution.id == wanted) {
          return SimReply::json(200, toJsonText(sessionJson(execution, rows_[execution.rows.back()], true)));
        }
      }
      break;
  }
  return SimReply::text(404, kNotFound);
}

// ---------------------------------------------------------------------------
// Script logs

SimReply SimEngine::scriptLogFile(std::string_view taskId, std::string_view executionResultId) {
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  if (scenario_.legacyScriptlogOnly) return SimReply::text(404, kNoMatchingEndpoint);
  TaskEntry* task = findTask(taskId);
  if (task == nullptr || !isGuid(executionResultId)) return SimReply::text(404, kNotFound);
  std::string wanted = normalizeGuid(executionResultId);
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].id == wanted && executions_[rows_[i].execution].task.id == task->spec.id) {
      std::string ticket = newGuid();
      tickets_[ticket] = Ticket{task->spec.id, i};
      return valueReply(200, ticket);
    }
  }
  return SimReply::text(404, kNotFound);
}

SimReply SimEngine::scriptLog(std::string_view taskId, std::string_view fileReferenceId) {
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  TaskEntry* task = findTask(taskId);
  if (task == nullptr || !isGuid(fileReferenceId) || isZeroGuid(fileReferenceId)) {
    return SimReply::text(404, kNotFound);
  }
  std::string wanted = normalizeGuid(fileReferenceId);
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].fileReferenceId == wanted && executions_[rows_[i].execution].task.id == task->spec.id) {
      std::string ticket = newGuid();
      tickets_[ticket] = Ticket{task->spec.id, i};
      return valueReply(200, ticket);
    }
  }
  return SimReply::text(404, kNotFound);
}

SimReply SimEngine::download(std::string_view ticket) {
  std::lock_guard<std::mutex> lock(mutex_);
  const TimePoint now = clock_.now();
  advanceTo(now);
  auto it = tickets_.find(normalizeGuid(ticket));
  if (it == tickets_.end()) return SimReply::text(404, kNotFound);
  const Row& row = rows_[it->second.row];
  const Execution& execution = executions_[row.execution];
  if (!row.startedAt || !row.endedAt || now < *row.endedAt + scaled(execution.task.logDelayMs)) {
    return SimReply::text(404, kNotFound);
  }
  return SimReply::text(200, row.scriptLog);
}

// ---------------------------------------------------------------------------
// Test hooks

void SimEngine::countRequest(const std::string& route) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requestTotal_;
  ++requestsByRoute_[route];
}

void SimEngine::recordFault(Poco::JSON::Object::Ptr entry) {
  std::lock_guard<std::mutex> lock(mutex_);
  faultsApplied_.push_back(std::move(entry));
}

void SimEngine::clearRecord() {
  std::lock_guard<std::mutex> lock(mutex_);
  starts_.clear();
  stops_.clear();
  requestTotal_ = 0;
  requestsByRoute_.clear();
  faultsApplied_.clear();
  notificationsSent_ = 0;
  notificationsFailed_ = 0;
}

Poco::JSON::Object::Ptr SimEngine::recordJson() {
  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  auto root = newJsonObject();

  auto starts = newJsonArray();
  for (const StartRecord& start : starts_) {
    auto item = newJsonObject();
    item->set("task_id", start.taskId);
    item->set("task_name", start.taskName);
    item->set("execution_id", start.executionId);
    item->set("mode", start.mode);
    item->set("user", start.user);
    item->set("at", date(start.at));
    starts->add(item);
  }
  root->set("starts", starts);

  auto stops = newJsonArray();
  for (const StopRecord& stop : stops_) {
    auto item = newJsonObject();
    item->set("task_id", stop.taskId);
    item->set("at", date(stop.at));
    item->set("had_session", stop.hadSession);
    stops->add(item);
  }
  root->set("stops", stops);

  auto executions = newJsonArray();
  for (const Execution& execution : executions_) {
    auto item = newJsonObject();
    item->set("execution_id", execution.id);
    item->set("task_id", execution.task.id);
    item->set("task_name", execution.task.name);
    item->set("user", execution.user);
    item->set("created_at", date(execution.createdAt));
    auto attempts = newJsonArray();
    for (size_t index : execution.rows) {
      const Row& row = rows_[index];
      auto attempt = newJsonObject();
      attempt->set("result_id", row.id);
      attempt->set("status", row.status);
      attempt->set("status_name", qrs::taskExecutionStatusName(row.status));
      attempts->add(attempt);
    }
    item->set("attempts", attempts);
    item->set("live", execution.live);
    if (execution.finalStatus) {
      item->set("final_status", *execution.finalStatus);
      item->set("final_status_name", qrs::taskExecutionStatusName(*execution.finalStatus));
    } else {
      item->set("final_status", Poco::Dynamic::Var());
      item->set("final_status_name", Poco::Dynamic::Var());
    }
    if (execution.finishedAt) {
      item->set("finished_at", date(*execution.finishedAt));
      item->set("finished_at_ms", toEpochMs(wallTimeOf(*execution.finishedAt)));
    } else {
      item->set("finished_at", Poco::Dynamic::Var());
      item->set("finished_at_ms", Poco::Dynamic::Var());
    }
    executions->add(item);
  }
  root->set("executions", executions);

  auto requests = newJsonObject();
  requests->set("total", requestTotal_);
  auto byRoute = newJsonObject();
  for (const auto& [route, n] : requestsByRoute_) byRoute->set(route, n);
  requests->set("by_route", byRoute);
  root->set("requests", requests);

  auto faults = newJsonArray();
  for (const auto& fault : faultsApplied_) faults->add(fault);
  root->set("faults_applied", faults);

  auto notifications = newJsonObject();
  notifications->set("sent", notificationsSent_);
  notifications->set("failed", notificationsFailed_);
  root->set("notifications", notifications);
  return root;
}

SimReply SimEngine::record() { return SimReply::json(200, toJsonText(recordJson())); }

SimReply SimEngine::putTasks(std::string_view body) {
  Result<Poco::Dynamic::Var> parsed = parseJsonText(body);
  if (!parsed.isOk()) return SimReply::text(400, parsed.status().message());
  std::vector<TaskSpec> specs;
  if (isJsonObject(*parsed)) {
    Result<TaskSpec> spec = parseTaskSpec(*parsed->extract<Poco::JSON::Object::Ptr>(), "task");
    if (!spec.isOk()) return SimReply::text(400, spec.status().message());
    specs.push_back(std::move(spec).value());
  } else if (isJsonArray(*parsed)) {
    auto array = parsed->extract<Poco::JSON::Array::Ptr>();
    for (unsigned i = 0; i < array->size(); ++i) {
      std::string where = "tasks[" + std::to_string(i) + "]";
      Poco::Dynamic::Var item = array->get(i);
      if (!isJsonObject(item)) return SimReply::text(400, where + ": expected an object");
      Result<TaskSpec> spec = parseTaskSpec(*item.extract<Poco::JSON::Object::Ptr>(), where);
      if (!spec.isOk()) return SimReply::text(400, spec.status().message());
      specs.push_back(std::move(spec).value());
    }
  } else {
    return SimReply::text(400, "expected a task object or an array of task objects");
  }

  std::lock_guard<std::mutex> lock(mutex_);
  advanceTo(clock_.now());
  const TimePoint now = cursor_;
  auto ids = newJsonArray();
  for (TaskSpec& spec : specs) {
    ids->add(spec.id);
    addNode(spec.node);
    TaskEntry* existing = findTask(spec.id);
    if (existing != nullptr) {
      existing->spec = std::move(spec);
      existing->modifiedAt = now;
    } else {
      tasks_.push_back(TaskEntry{std::move(spec), newGuid(), now, now});
    }
  }
  auto reply = newJsonObject();
  reply->set("tasks", ids);
  return SimReply::json(200, toJsonText(reply));
}

}  // namespace qlik_reload::sim
