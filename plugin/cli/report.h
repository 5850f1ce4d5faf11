// The outcome of one qlik-reload command and how it is written: the JSON
// object (--json), the one-line human summary on stdout, the final lines on
// stderr. All functions here are pure.
//
// JSON fields (one compact line, keys in this order):
//   execution_id      string, null when nothing was started
//   site, task_id, task_name   strings, null when unknown
//   state             IDL state name ("SUCCEEDED"), null when there is no status
//   qlik_status       QRS status name ("FinishedFail"), null when none
//   qlik_status_code  number, null when none
//   attempts          [{qlik_status, qlik_status_code, started_at, finished_at,
//                       duration_ms, node, messages[]}]
//   started_at, finished_at   "2026-01-02T03:04:05.678Z" or null
//   duration_ms       finished_at - started_at when both are known, else null
//   timed_out, attached   booleans
//   message           one sentence
//   script_log_tail   string, at most the last 40 lines ("" when none)
//   exit_code         number
//   error             {type, message, retryable} or null
// ping: {"version", "sites", "exit_code", "error"} (version/sites null on error).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "exit_codes.h"
#include "reload_worker_types.h"

namespace qlik_reload::cli {

inline constexpr std::size_t kScriptLogTailLines = 40;

struct Report {
  Command command = Command::kNone;
  // What was asked for; the status, when there is one, wins over these.
  std::string site;
  std::string taskId;
  std::string taskName;
  std::string executionId;  // "" when nothing was started
  // The worker's last answer about the execution.
  std::optional<rpc::ReloadStatus> status;
  // ping's answer.
  std::optional<rpc::WorkerInfo> workerInfo;
  // run/wait: our --timeout passed (not the worker's flag).
  bool timedOut = false;
  // One sentence for people; when empty, the error's or else the status's.
  std::string message;
  std::optional<CliError> error;
  // kInterrupted: which signal.
  int signalNumber = 0;
  // Time since the command began (run/wait), for the human final line.
  std::optional<Duration> elapsed;

  Outcome outcome() const;
  int exitCode() const { return exitCodeFor(outcome()); }
  // The execution id from the status, else executionId.
  std::string effectiveExecutionId() const;
  // message, else the error's message, else the status's message.
  std::string effectiveMessage() const;
};

// The JSON object described above, one line without a trailing newline.
std::string toJson(const Report& report);

// The stdout line without --json: "STATE EXECUTION_ID: message" with "-" for
// what is unknown and the error type in place of the state on errors;
// ping: "worker VERSION at ADDRESS; sites: a, b".
std::string humanSummary(const Report& report, const std::string& workerAddress);

// The final lines on stderr (without trailing newlines): the outcome with the
// elapsed time, and when the reload did not succeed, Qlik's last detail
// message and the script-log tail, indented.
std::vector<std::string> outcomeLines(const Report& report);

// The last `maxLines` lines of `text` (a trailing newline does not count as
// an empty last line).
std::string lastLines(const std::string& text, std::size_t maxLines = kScriptLogTailLines);

}  // namespace qlik_reload::cli
