// SimEngine: the simulated QRS behind qrs-sim, without any HTTP. It holds the
// reload tasks, their execution sessions and execution results, the script
// log tickets and the simulator's record, and answers one method per QRS
// endpoint with a SimReply (status, content type, body).
//
// Time: the engine reads the injected Clock and nothing else. It keeps no
// thread; every call first plays the simulation forward to clock.now(), so
// state is a pure function of the calls made and the times they were made
// at. Simulated durations from the scenario are divided by
// EngineOptions::timeScale.
//
// The life of one start (see scenario.h for the knobs):
//   session created; attempt row: Triggered (first half of queue_ms), Queued
//   (rest of queue_ms, and for as long as max_concurrent running attempts
//   hold every slot), Started (run_ms), then the attempt's outcome. A failed
//   attempt that is not the last ends in Retry; after retry_delay_ms a new row
//   starts the next attempt. "skip" ends in Skipped when the attempt would
//   start, without running. When the last attempt is final the session is
//   deleted (GET answers 404); the rows stay.
//   Stop: the current row goes AbortInitiated now, Aborting after abort_ms/2,
//   Aborted after abort_ms, with session abortReason 1 (Manual); then the
//   session is deleted.
//
// Change tracking (for QRS change notifications, notifications.h): off until
// trackChanges() names entity types. Then every change to a tracked entity
// is recorded as an EntityChange at the simulated instant it happens, however
// the simulation got there (a client call or collectChanges()), and
// collectChanges() hands them over. Nothing is recorded for untracked types.
//   ExecutionResult: Add when a row is created (a start, the next attempt);
//     Update when its status or any other property changes.
//   ExecutionSession: Add at a start; Update when its current row changes;
//     Delete when the session ends.
// A driver that must see changes without client calls (QrsSimulator's
// ticker) sleeps until nextTransitionAt(), calls collectChanges(), and is
// woken by the change listener when a call records a change.
//
// Scheduling: the pending transitions sit in a priority queue keyed by
// (time, kind, execution), so playing forward costs O(log n) per transition,
// not a scan of every live execution.
//
// Thread-safety: all methods may be called from any thread; one mutex
// serialises them. Errors are answers (SimReply), never exceptions.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/JSON/Object.h>

#include "core/clock.h"
#include "core/status.h"
#include "sim/change.h"
#include "sim/message.h"
#include "sim/scenario.h"

namespace qlik_reload::sim {

struct EngineOptions {
  // Every simulated duration is divided by this (> 0). 10 makes a 1500 ms
  // reload take 150 ms.
  double timeScale = 1.0;
};

// The QRS collections with list/full/count/{id} endpoints.
enum class Collection { kReloadTask, kExecutionResult, kExecutionSession };

enum class StartMode {
  kSynchronous,   // POST /qrs/task/{id}/start/synchronous: 201 with the session id
  kAsynchronous,  // POST /qrs/task/{id}/start: 204
};

class Filter;

class SimEngine {
 public:
  // `clock` must outlive the engine.
  SimEngine(Scenario scenario, Clock& clock, EngineOptions options = {});

  SimEngine(const SimEngine&) = delete;
  SimEngine& operator=(const SimEngine&) = delete;

  // ---- QRS endpoints. Ids are matched case-insensitively. `user` is the
  // caller as "DIRECTORY\\id" (recorded on the session).

  // GET /qrs/about
  SimReply about() const;
  // Start by id / by exact name (case-insensitive). Disabled or already
  // running: 201 with the zero GUID (sync) or 204 (async), nothing started.
  // Unknown: 404.
  SimReply startTask(std::string_view taskId, StartMode mode, const std::string& user);
  SimReply startTaskByName(std::string_view name, StartMode mode, const std::string& user);
  // POST /qrs/task/start/many, body ["guid", ...]: 204; 400 on a bad body.
  SimReply startMany(std::string_view body, const std::string& user);
  // POST /qrs/task/{id}/stop: 204 (also when not running); unknown: 404.
  SimReply stopTask(std::string_view taskId);
  // POST /qrs/task/stop/many, body ["guid", ...]: 204; 400 on a bad body.
  SimReply stopMany(std::string_view body);

  // GET /qrs/<collection>[/full]?filter=..., /count?filter=..., /{id}.
  // A bad filter answers 400 with QRS's text. The plain list answers the
  // condensed form; the filter always sees the full entity.
  SimReply list(Collection collection, std::string_view filter, bool full);
  SimReply count(Collection collection, std::string_view filter);
  SimReply get(Collection collection, std::string_view id);

  // GET /qrs/reloadtask/{taskId}/scriptlogfile?executionResultId=... (404
  // "No matching endpoint found" when the scenario is legacy_scriptlog_only)
  // and GET /qrs/reloadtask/{taskId}/scriptlog?fileReferenceId=...: 200
  // {"value":"<ticket>"}; unknown task/result/reference: 404.
  SimReply scriptLogFile(std::string_view taskId, std::string_view executionResultId);
  SimReply scriptLog(std::string_view taskId, std::string_view fileReferenceId);
  // GET /qrs/download/reloadtask/{ticket}/{fileName}: the attempt's log,
  // text/plain with CRLF line ends, from log_delay_ms after the attempt
  // ended; 404 before that and for unknown tickets. Tickets may be reused.
  SimReply download(std::string_view ticket);

  // True when `user` is listed in the scenario's denied_users.
  bool isDenied(const std::string& user) const;

  // ---- Change tracking (see the top of this file).

  // Records changes of these entity types from now on (names compared
  // case-insensitively; types the engine does not know are ignored). An
  // empty set turns tracking off and drops the changes not yet collected.
  void trackChanges(const std::set<std::string>& objectTypes);
  // Plays the simulation forward to clock.now() and returns the changes
  // recorded since the last call, oldest first. Empty when tracking is off.
  std::vector<EntityChange> collectChanges();
  // The simulated instant of the next scheduled transition; nullopt when
  // nothing will change until a call changes something.
  std::optional<Clock::TimePoint> nextTransitionAt();
  // `listener` is called when a change is recorded while none was waiting
  // to be collected. It runs with the engine's lock held, on whichever thread
  // made the change: it must be quick and must not call the engine. Empty:
  // none. Set it before sharing the engine between threads.
  void setChangeListener(std::function<void()> listener);
  // Checks `filter` against the full entity of `objectType` as list()
  // would (400 text in the status message). Types without a collection here
  // pass.
  Status checkFilter(std::string_view objectType, const Filter& filter) const;
  // Counts one finished callback POST in the record ("notifications").
  void countNotification(bool delivered);

  // ---- Test hooks (/sim/...).

  // GET /sim/record, the simulator's own account of what happened:
  //   {"starts": [{"task_id", "task_name", "execution_id" (zero GUID when
  //                nothing started), "mode" ("synchronous"|"asynchronous"),
  //                "user", "at"}],
  //    "stops": [{"task_id", "at", "had_session": bool}],
  //    "executions": [{"execution_id", "task_id", "task_name", "user",
  //                    "created_at", "attempts": [{"result_id", "status",
  //                    "status_name"}], "live": bool,
  //                    "final_status": n|null, "final_status_name": s|null,
  //                    "finished_at": ISO|null, "finished_at_ms": epoch ms|null}],
  //    "requests": {"total": n, "by_route": {"GET /qrs/executionsession/{id}": n, ...}},
  //    "faults_applied": [{"action", "route", "method", "path", "at"}],
  //    "notifications": {"sent": n, "failed": n}}
  // Times are ISO 8601 like QRS's; unknown tasks are not recorded.
  // "finished_at" is the simulated instant the final row reached its final
  // status (its stopTime; for a run stopped before it started, when it became
  // Aborted); "finished_at_ms" the same in milliseconds since the Unix epoch.
  // "notifications" counts callback POSTs (countNotification): "sent"
  // answered 2xx, "failed" did not (transport error, timeout, other status,
  // or dropped from a full queue).
  SimReply record();
  Poco::JSON::Object::Ptr recordJson();
  // DELETE /sim/record: forgets starts, stops, request counts, applied
  // faults and notification counts (not the executions themselves).
  void clearRecord();
  // POST /sim/tasks: one task object or an array of them (scenario shape);
  // adds them or replaces tasks with the same id. 200 {"tasks":["id",...]},
  // 400 naming the bad key.
  SimReply putTasks(std::string_view body);
  // Counts one received request under its route template, e.g.
  // "POST /qrs/task/{id}/start/synchronous".
  void countRequest(const std::string& route);
  // Appends one entry to "faults_applied".
  void recordFault(Poco::JSON::Object::Ptr entry);

  // Calendar time of a clock instant (the engine's wall-clock mapping).
  Clock::WallTime wallTimeOf(Clock::TimePoint time) const;
  Clock& clock() const { return clock_; }

 private:
  struct Detail {
    std::string id;
    int type;  // 0 Error, 1 Warning, 2 Information
    std::string message;
    Clock::TimePoint at;
  };
  // One ExecutionResult: one attempt of one execution.
  struct Row {
    std::string id;
    size_t execution;  // index into executions_
    size_t attempt;    // index into the execution's task.attempts
    Clock::TimePoint createdAt;
    Clock::TimePoint modifiedAt;
    Clock::TimePoint queuedAt;  // Triggered -> Queued
    Clock::TimePoint readyAt;   // queue time over; may start when a slot is free
    int status;
    std::optional<Clock::TimePoint> startedAt;
    std::optional<Clock::TimePoint> endedAt;
    std::string fileReferenceId;
    std::string scriptLogLocation;
    std::int64_t scriptLogSize = 0;
    std::string scriptLog;  // CRLF text, set when the attempt ends
    std::vector<Detail> details;
  };
  // One ExecutionSession and everything that happens to it.
  struct Execution {
    std::string id;
    TaskSpec task;  // snapshot at start: later task changes do not touch it
    std::string user;
    Clock::TimePoint createdAt;
    Clock::TimePoint modifiedAt;
    std::vector<size_t> rows;  // indexes into rows_, in attempt order
    std::optional<Clock::TimePoint> nextAttemptAt;
    std::optional<Clock::TimePoint> abortStartedAt;
    int abortReason = 0;
    bool live = true;
    std::optional<int> finalStatus;
    std::optional<Clock::TimePoint> finishedAt;
    std::uint64_t scheduleVersion = 0;  // entries of schedule_ with another version are stale
  };
  struct TaskEntry {
    TaskSpec spec;
    std::string operationalId;
    Clock::TimePoint createdAt;
    Clock::TimePoint modifiedAt;
  };
  struct Ticket {
    std::string taskId;
    size_t row;
  };
  struct StartRecord {
    std::string taskId, taskName, executionId, mode, user;
    Clock::TimePoint at;
  };
  struct StopRecord {
    std::string taskId;
    Clock::TimePoint at;
    bool hadSession;
  };
  // Same-instant events apply in this order.
  enum class EventKind { kAbortStep, kFinish, kNextAttempt, kQueue, kStart };
  struct Event {
    Clock::TimePoint when;
    EventKind kind;
    size_t execution;
    std::uint64_t version;  // the execution's scheduleVersion when scheduled
  };
  // Orders a priority queue so the earliest (when, kind, execution) is on top.
  struct LaterEvent {
    bool operator()(const Event& a, const Event& b) const;
  };
  // The state of one execution's entities before a change (change tracking).
  struct Before {
    size_t execution;
    size_t row;
    bool live;
    Poco::JSON::Object::Ptr result;   // null when results are not tracked
    Poco::JSON::Object::Ptr session;  // null when sessions are not tracked or it is gone
  };

  // Simulation (mutex_ held).
  void advanceTo(Clock::TimePoint now);
  // The next event due, from the queue or a start for the oldest execution
  // waiting for a slot; false when none.
  bool peekEvent(Event& event, bool& fromBlocked);
  // Schedules the execution's next event afresh (after any change to it).
  void reschedule(size_t execution);
  void dispatch(const Event& event);
  void apply(size_t execution, EventKind kind, Clock::TimePoint when);
  bool slotFree() const;
  void endRow(Row& row, Clock::TimePoint when);
  void setStatus(Row& row, int status, Clock::TimePoint when, int detailType);
  void addDetail(Row& row, int type, std::string message, Clock::TimePoint when);
  void createRow(size_t execution, size_t attempt, Clock::TimePoint when);
  void finishExecution(size_t execution, int finalStatus, Clock::TimePoint when);
  std::string buildScriptLog(const Execution& execution, const Row& row, bool aborted) const;
  Clock::TimePoint::duration scaled(std::int64_t ms) const;

  // Change tracking (mutex_ held).
  bool tracking() const { return trackResults_ || trackSessions_; }
  Before captureBefore(size_t execution) const;
  // Records what changed since `before` (Update/Delete, and Add for rows the
  // change created) at `when`.
  void recordChangesSince(const Before& before, Clock::TimePoint when);
  // Records the Add of a new execution's session and first row.
  void recordStart(size_t execution, Clock::TimePoint when);
  void recordChange(const char* type, std::string id, ChangeType changeType, std::vector<std::string> properties,
                    Poco::JSON::Object::Ptr entity, Clock::TimePoint when);

  // Lookups (mutex_ held).
  TaskEntry* findTask(std::string_view id);
  std::optional<size_t> liveIndexOf(const std::string& taskId) const;
  SimReply startLocked(TaskEntry& task, StartMode mode, const std::string& user);
  void stopLocked(TaskEntry& task);

  // JSON (mutex_ held).
  std::string date(Clock::TimePoint time) const;
  std::string date(const std::optional<Clock::TimePoint>& time) const;
  Poco::JSON::Object::Ptr resultJson(const Row& row, const Execution& execution, bool full) const;
  Poco::JSON::Object::Ptr sessionJson(const Execution& execution, const Row& current, bool full) const;
  Poco::JSON::Object::Ptr taskJson(const TaskSpec& task, const TaskEntry* entry, bool full) const;
  Poco::JSON::Object::Ptr operationalJson(const TaskSpec& task, const TaskEntry* entry) const;
  Poco::JSON::Object::Ptr appJson(const TaskSpec& task) const;
  Poco::JSON::Object::Ptr prototypeOf(Collection collection) const;
  void addNode(const std::string& nodeName);
  std::string nodeIdOf(const std::string& nodeName) const;
  const Row* lastRowOfTask(const std::string& taskId) const;

  Clock& clock_;
  const EngineOptions options_;
  const Clock::TimePoint steadyOrigin_;
  const Clock::WallTime wallOrigin_;

  mutable std::mutex mutex_;
  Scenario scenario_;  // tasks_ holds the current task set
  std::vector<TaskEntry> tasks_;
  std::deque<Execution> executions_;
  std::vector<size_t> live_;  // indexes of executions_ whose session exists, oldest first
  std::deque<Row> rows_;
  std::map<std::string, Ticket> tickets_;
  std::map<std::string, std::string> nodeIds_;
  Clock::TimePoint cursor_;  // the simulation has been played up to here
  std::uint64_t detailCounter_ = 0;
  std::priority_queue<Event, std::vector<Event>, LaterEvent> schedule_;
  std::set<size_t> blocked_;  // executions ready to start but without a slot, oldest first
  int running_ = 0;           // started attempts not yet ended

  bool trackResults_ = false;
  bool trackSessions_ = false;
  std::vector<EntityChange> changes_;  // recorded, not yet collected
  std::function<void()> changeListener_;
  std::int64_t notificationsSent_ = 0;
  std::int64_t notificationsFailed_ = 0;

  std::vector<StartRecord> starts_;
  std::vector<StopRecord> stops_;
  std::int64_t requestTotal_ = 0;
  std::map<std::string, std::int64_t> requestsByRoute_;
  std::vector<Poco::JSON::Object::Ptr> faultsApplied_;
};

}  // namespace qlik_reload::sim
