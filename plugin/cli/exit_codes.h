// The exit-code contract of qlik-reload: the one thing every workflow engine
// that runs a command understands. All mapping from outcomes to exit codes
// happens in exitCodeFor(); nothing else in the CLI picks a number.
//
//    0  succeeded (run/wait: SUCCEEDED; start/status: any non-failed state;
//       cancel: stopped, stop requested, or already finished; ping: answered)
//    1  finished not successfully: FAILED, ABORTED (not by our timeout), or a
//       non-retryable QlikUnavailable
//    3  not started: NOT_STARTED, SKIPPED
//   64  bad arguments, InvalidRequest, UnknownSite, UnknownExecution
//   75  temporary: worker unreachable / connection lost and not recovered,
//       retryable QlikUnavailable (cancel: any QlikUnavailable) — safe to retry
//   77  AccessDenied
//   78  ConfigurationError (the worker's, or this client's TLS files)
//  124  run/wait: --timeout passed
//  128+N interrupted by signal N during run: 130 SIGINT, 143 SIGTERM
//   70  internal error of the CLI itself (a bug)
// Never 99: Airflow's BashOperator treats 99 as "skipped".
#pragma once

#include <optional>
#include <string>

#include "reload_worker_types.h"

namespace qlik_reload::cli {

inline constexpr int kExitSucceeded = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitNotStarted = 3;
inline constexpr int kExitBadArguments = 64;
inline constexpr int kExitInternalError = 70;
inline constexpr int kExitTemporary = 75;
inline constexpr int kExitAccessDenied = 77;
inline constexpr int kExitConfiguration = 78;
inline constexpr int kExitTimedOut = 124;
inline constexpr int kExitSignalBase = 128;

// The subcommands. kNone only before parsing has found one.
enum class Command { kNone, kRun, kStart, kWait, kStatus, kCancel, kPing, kHelp, kVersion };

// "run", "start", ... ; "" for kNone.
const char* commandName(Command command);

// Why a command did not produce a status. The names (errorTypeName) are the
// "error.type" values of the JSON output.
enum class ErrorType {
  kBadArguments,        // our command line
  kInvalidRequest,      // IDL InvalidRequest
  kUnknownSite,         // IDL UnknownSite
  kUnknownExecution,    // IDL UnknownExecution
  kQlikUnavailable,     // IDL QlikUnavailable (retryable says which exit code)
  kAccessDenied,        // IDL AccessDenied
  kConfigurationError,  // IDL ConfigurationError, or our own TLS files / handshake
  kWorkerUnreachable,   // transport: connect, read, write, framing, worker-side crash
  kInterrupted,         // SIGINT/SIGTERM during run
};

// "BadArguments", "InvalidRequest", ... exactly as in the JSON contract.
const char* errorTypeName(ErrorType type);

struct CliError {
  ErrorType type = ErrorType::kBadArguments;
  std::string message;
  // True when the same command may be repeated unchanged later.
  bool retryable = false;
};

// Everything the exit code depends on.
struct Outcome {
  Command command = Command::kNone;
  // The reload's state when known (from the worker's last answer).
  std::optional<rpc::ReloadState::type> state;
  // run/wait: the --timeout passed before a final state was seen.
  bool timedOut = false;
  std::optional<CliError> error;
  // kInterrupted: the signal number (SIGINT, SIGTERM).
  int signalNumber = 0;
};

// The exit code for an outcome. Precedence: interrupted (128+N), timed out
// (124), error (by type), state (by command). Never returns 99.
int exitCodeFor(const Outcome& outcome);

// The exit code for a final reload state alone, as run and wait use it:
// SUCCEEDED 0, FAILED/ABORTED 1, SKIPPED/NOT_STARTED 3, anything not final 75
// (the reload did not finish while we watched; it may still be running).
int exitCodeForFinalState(rpc::ReloadState::type state);

// True for SUCCEEDED, FAILED, ABORTED, SKIPPED, NOT_STARTED.
bool isTerminalState(rpc::ReloadState::type state);

// "SUCCEEDED", ...; "UNKNOWN(n)" for values outside the IDL.
std::string stateName(rpc::ReloadState::type state);

}  // namespace qlik_reload::cli
