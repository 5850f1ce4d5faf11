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
// Thread-safety: all methods may be called from any thread; one mutex
// serialises them. Errors are answers (SimReply), never exceptions.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/JSON/Object.h>

#include "core/clock.h"
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

  // ---- Test hooks (/sim/...).

  // GET /sim/record, the simulator's own account of what happened:
  //   {"starts": [{"task_id", "task_name", "execution_id" (zero GUID when
  //                nothing started), "mode" ("synchronous"|"asynchronous"),
  //                "user", "at"}],
  //    "stops": [{"task_id", "at", "had_session": bool}],
  //    "executions": [{"execution_id", "task_id", "task_name", "user",
  //                    "created_at", "attempts": [{"result_id", "status",
  //                    "status_name"}], "live": bool,
  //                    "final_status": n|null, "final_status_name": s|null}],
  //    "requests": {"total": n, "by_route": {"GET /qrs/executionsession/{id}": n, ...}},
  //    "faults_applied": [{"action", "route", "method", "path", "at"}]}
  // Times are ISO 8601 like QRS's; unknown tasks are not recorded.
  SimReply record();
  Poco::JSON::Object::Ptr recordJson();
  // DELETE /sim/record: forgets starts, stops, request counts and applied
  // faults (not the executions themselves).
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
  enum class EventKind { kAbortStep, kFinish, kNextAttempt, kQueue, kStart };

  // Simulation (mutex_ held).
  void advanceTo(Clock::TimePoint now);
  bool nextEvent(size_t& execution, EventKind& kind, Clock::TimePoint& when) const;
  void apply(size_t execution, EventKind kind, Clock::TimePoint when);
  int runningAttempts() const;
  void setStatus(Row& row, int status, Clock::TimePoint when, int detailType);
  void addDetail(Row& row, int type, std::string message, Clock::TimePoint when);
  void createRow(size_t execution, size_t attempt, Clock::TimePoint when);
  void finishExecution(size_t execution, int finalStatus, Clock::TimePoint when);
  std::string buildScriptLog(const Execution& execution, const Row& row, bool aborted) const;
  Clock::TimePoint::duration scaled(std::int64_t ms) const;

  // Lookups (mutex_ held).
  TaskEntry* findTask(std::string_view id);
  Execution* liveExecutionOf(const std::string& taskId);
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

  std::vector<StartRecord> starts_;
  std::vector<StopRecord> stops_;
  std::int64_t requestTotal_ = 0;
  std::map<std::string, std::int64_t> requestsByRoute_;
  std::vector<Poco::JSON::Object::Ptr> faultsApplied_;
};

}  // namespace qlik_reload::sim
