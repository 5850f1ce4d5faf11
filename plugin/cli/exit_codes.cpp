#include "exit_codes.h"

namespace qlik_reload::cli {

const char* commandName(Command command) {
  switch (command) {
    case Command::kNone: return "";
    case Command::kRun: return "run";
    case Command::kStart: return "start";
    case Command::kWait: return "wait";
    case Command::kStatus: return "status";
    case Command::kCancel: return "cancel";
    case Command::kPing: return "ping";
    case Command::kHelp: return "help";
    case Command::kVersion: return "version";
  }
  return "";
}

const char* errorTypeName(ErrorType type) {
  switch (type) {
    case ErrorType::kBadArguments: return "BadArguments";
    case ErrorType::kInvalidRequest: return "InvalidRequest";
    case ErrorType::kUnknownSite: return "UnknownSite";
    case ErrorType::kUnknownExecution: return "UnknownExecution";
    case ErrorType::kQlikUnavailable: return "QlikUnavailable";
    case ErrorType::kAccessDenied: return "AccessDenied";
    case ErrorType::kConfigurationError: return "ConfigurationError";
    case ErrorType::kWorkerUnreachable: return "WorkerUnreachable";
    case ErrorType::kInterrupted: return "Interrupted";
  }
  return "Unknown";
}

bool isTerminalState(rpc::ReloadState::type state) {
  switch (state) {
    case rpc::ReloadState::SUCCEEDED:
    case rpc::ReloadState::FAILED:
    case rpc::ReloadState::ABORTED:
    case rpc::ReloadState::SKIPPED:
    case rpc::ReloadState::NOT_STARTED:
      return true;
    default:
      return false;
  }
}

std::string stateName(rpc::ReloadState::type state) {
  auto it = rpc::_ReloadState_VALUES_TO_NAMES.find(static_cast<int>(state));
  if (it == rpc::_ReloadState_VALUES_TO_NAMES.end()) return "UNKNOWN(" + std::to_string(static_cast<int>(state)) + ")";
  return it->second;
}

int exitCodeForFinalState(rpc::ReloadState::type state) {
  switch (state) {
    case rpc::ReloadState::SUCCEEDED: return kExitSucceeded;
    case rpc::ReloadState::FAILED:
    case rpc::ReloadState::ABORTED: return kExitFailed;
    case rpc::ReloadState::SKIPPED:
    case rpc::ReloadState::NOT_STARTED: return kExitNotStarted;
    default: return kExitTemporary;
  }
}

namespace {

int exitCodeForError(Command command, const CliError& error) {
  switch (error.type) {
    case ErrorType::kBadArguments:
    case ErrorType::kInvalidRequest:
    case ErrorType::kUnknownSite:
    case ErrorType::kUnknownExecution:
      return kExitBadArguments;
    case ErrorType::kQlikUnavailable:
      // A stop that could not be delivered is always worth retrying.
      if (command == Command::kCancel) return kExitTemporary;
      return error.retryable ? kExitTemporary : kExitFailed;
    case ErrorType::kAccessDenied: return kExitAccessDenied;
    case ErrorType::kConfigurationError: return kExitConfiguration;
    case ErrorType::kWorkerUnreachable: return kExitTemporary;
    case ErrorType::kInterrupted: return kExitFailed;  // without a signal number; see exitCodeFor
  }
  return kExitInternalError;
}

int exitCodeForState(Command command, rpc::ReloadState::type state) {
  switch (command) {
    case Command::kCancel:
      // Stopped, stop requested, or it had already finished: the state says which.
      return kExitSucceeded;
    case Command::kStart:
    case Command::kStatus:
      // The command did its job; a reload still on its way is not a failure.
      return isTerminalState(state) ? exitCodeForFinalState(state) : kExitSucceeded;
    default:
      return exitCodeForFinalState(state);
  }
}

}  // namespace

int exitCodeFor(const Outcome& outcome) {
  int code = kExitSucceeded;
  if (outcome.error && outcome.error->type == ErrorType::kInterrupted && outcome.signalNumber > 0) {
    code = kExitSignalBase + outcome.signalNumber;
  } else if (outcome.timedOut) {
    code = kExitTimedOut;
  } else if (outcome.error) {
    code = exitCodeForError(outcome.command, *outcome.error);
  } else if (outcome.state) {
    code = exitCodeForState(outcome.command, *outcome.state);
  } else if (outcome.command == Command::kRun || outcome.command == Command::kWait) {
    code = kExitInternalError;  // no state and no error: cannot happen
  }
  // 99 means "skipped" to Airflow's BashOperator; no path above produces it,
  // and this keeps it that way.
  return code == 99 ? kExitFailed : code;
}

}  // namespace qlik_reload::cli
