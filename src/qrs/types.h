// The QRS entities a reload client reads, decoded from QRS's JSON into plain
// structs (see decode.h). Only the fields this product uses are kept.
// Times are nullopt where QRS says "not set" (1753-01-01).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time_format.h"

namespace qlik_reload::qrs {

// QRS's TaskExecutionStatus numbers (Repository API, stable since 2.x).
enum TaskExecutionStatus : int {
  kNeverStarted = 0,
  kTriggered = 1,
  kStarted = 2,
  kQueued = 3,
  kAbortInitiated = 4,
  kAborting = 5,
  kAborted = 6,
  kFinishedSuccess = 7,
  kFinishedFail = 8,
  kSkipped = 9,
  kRetry = 10,
  kError = 11,
  kReset = 12,
  kDistributionQueue = 13,
  kDistributionRunning = 14,
};
inline constexpr int kTaskExecutionStatusCount = 15;

// "FinishedFail" for 8; "Unknown(15)" for numbers QRS may add later.
std::string taskExecutionStatusName(int status);
// Inverse of the above for the 15 known names, case-insensitive; -1 if unknown.
int parseTaskExecutionStatusName(std::string_view name);

struct ExecutionResultDetail {
  int detailsType = 2;  // 0 Error, 1 Warning, 2 Information
  std::string message;
  std::optional<WallTime> createdAt;
};

// One attempt of an execution (QRS "ExecutionResult"). The condensed form,
// embedded in a session, has no taskId/executionId/appId.
struct ExecutionResult {
  std::string id;
  std::string taskId;
  std::string executionId;
  std::string appId;
  std::string node;  // executingNodeName
  int status = kNeverStarted;
  std::optional<WallTime> createdAt;
  std::optional<WallTime> startTime;
  std::optional<WallTime> stopTime;
  std::int64_t durationMs = 0;
  std::string fileReferenceId;  // zero GUID when there is no log reference
  bool scriptLogAvailable = false;
  std::int64_t scriptLogSize = 0;
  std::vector<ExecutionResultDetail> details;
};

// A running execution (QRS "ExecutionSession"). QRS deletes it when the run
// ends, so a 404 on it means "finished" (or "never existed").
struct ExecutionSession {
  std::string id;
  std::optional<WallTime> createdAt;
  std::string taskId;    // reloadTask.id; empty for other task types or condensed answers
  std::string taskName;  // reloadTask.name
  std::optional<ExecutionResult> executionResult;  // the current attempt, condensed
  int abortReason = 0;   // 0 Undefined, 1 Manual, 2 Timeout, 3 DeletedTask
};

// Reply of POST /qrs/task/.../start/synchronous.
struct StartReply {
  std::string executionId;  // all-zero GUID when Qlik did not start the task
};

struct ReloadTaskInfo {
  std::string id;
  std::string name;
  bool enabled = true;
};

struct AboutInfo {
  std::string buildVersion;
  int nodeType = 0;
};

}  // namespace qlik_reload::qrs
