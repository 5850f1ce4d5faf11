// The scenario a qrs-sim run plays: which reload tasks exist and how each of
// their runs unfolds in time, plus site-wide settings and fault rules.
//
// Scenario file (JSON). Every key is optional unless marked "required";
// unknown keys and wrong types are errors that name the key.
//
//   {
//     "tasks": [
//       {
//         "id": "<guid>",                     required, unique (compared case-insensitively)
//         "name": "Reload Sales",             required
//         "enabled": true,                    false: starts answer the zero GUID
//         "app_id": "<guid>",                 default: derived from the task id
//         "app_name": "Sales",                default: the task name
//         "queue_ms": 200,                    Triggered for the first half, Queued for the rest
//         "run_ms": 1500,                     time in Started
//         "outcome": "success",               success | fail | skip | error | reset
//         "attempts": [                       optional; one entry per attempt, overriding
//           {"outcome": "fail", "run_ms": 500},   outcome/run_ms/queue_ms/script_log of the task.
//           {"outcome": "success"}            Every attempt but the last must be fail or error
//         ],                                  (QRS retries only failed runs).
//         "retry_delay_ms": 200,              time between a Retry row and the next attempt's row
//         "abort_ms": 300,                    stop: AbortInitiated, Aborting at abort_ms/2, Aborted at abort_ms
//         "log_delay_ms": 300,                script log downloadable this long after the attempt ended
//         "script_log": "line1\nline2",       default: a generated log that fits the outcome
//         "node": "qlikserver1",              executingNodeName
//         "start_reply": "value"              value: {"value":"<guid>"}; bare: "<guid>"
//       }
//     ],
//     "denied_users": ["INTERNAL\\someone"],  X-Qlik-User identities answered 403 "Access denied"
//     "max_concurrent": 0,                    running attempts allowed at once; 0 = unlimited
//     "legacy_scriptlog_only": false,         true: /scriptlogfile answers 404 (pre-May-2025 QRS)
//     "faults": [ <fault rule>, ... ],        see fault_rule.h
//     "seed": 1                               seeds the probability of fault rules
//   }
//
// Durations are milliseconds of simulated time; qrs-sim --time-scale divides
// them all. Parsing is pure (no I/O) except loadScenarioFile().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/JSON/Object.h>

#include "core/status.h"
#include "sim/fault_rule.h"

namespace qlik_reload::sim {

enum class Outcome { kSuccess, kFail, kSkip, kError, kReset };

// "success", "fail", ...
const char* outcomeName(Outcome outcome);
// The TaskExecutionStatus an attempt with this outcome ends in.
int finalStatusOf(Outcome outcome);

enum class StartReplyShape {
  kValue,  // {"value":"<guid>"}: what real QRS sends and clients read
  kBare,   // "<guid>": the shape QRS's own OpenAPI file shows
};

struct AttemptSpec {
  Outcome outcome = Outcome::kSuccess;
  std::int64_t queueMs = 200;
  std::int64_t runMs = 1500;
  std::optional<std::string> scriptLog;  // overrides the task's log for this attempt
};

struct TaskSpec {
  std::string id;  // lower-case GUID
  std::string name;
  bool enabled = true;
  std::string appId;  // lower-case GUID
  std::string appName;
  // Always at least one; attempts[i] is the plan for attempt i (0-based).
  std::vector<AttemptSpec> attempts;
  std::int64_t retryDelayMs = 200;
  std::int64_t abortMs = 300;
  std::int64_t logDelayMs = 300;
  std::optional<std::string> scriptLog;
  std::string node = "qlikserver1";
  StartReplyShape startReply = StartReplyShape::kValue;

  // QRS's maxRetries: attempts beyond the first.
  int maxRetries() const { return static_cast<int>(attempts.size()) - 1; }
};

struct Scenario {
  std::vector<TaskSpec> tasks;
  std::vector<std::string> deniedUsers;  // "DIRECTORY\\id", compared case-insensitively
  int maxConcurrent = 0;                 // 0 = unlimited
  bool legacyScriptlogOnly = false;
  std::vector<FaultRule> faults;
  std::uint64_t seed = 1;
};

// Parses a whole scenario. Fails with kConfiguration; the message names the
// offending key, e.g. "tasks[1].run_ms: expected a non-negative integer".
Result<Scenario> parseScenario(std::string_view json);
// Reads and parses a file. An unreadable file is kConfiguration as well.
Result<Scenario> loadScenarioFile(const std::string& path);

// One task object as in "tasks" (what POST /sim/tasks accepts). `where` is
// put in front of key names in errors ("tasks[0]").
Result<TaskSpec> parseTaskSpec(const Poco::JSON::Object& object, const std::string& where);

}  // namespace qlik_reload::sim
