#include <catch2/catch.hpp>

#include <csignal>

#include "exit_codes.h"

using namespace qlik_reload;
using namespace qlik_reload::cli;
using State = rpc::ReloadState;

namespace {

constexpr int kNoState = 0;
constexpr int kNoError = -1;

Outcome outcome(Command command, int state, bool timedOut, int errorType, bool retryable = false, int signal = 0) {
  Outcome out;
  out.command = command;
  if (state != kNoState) out.state = static_cast<State::type>(state);
  out.timedOut = timedOut;
  if (errorType != kNoError) out.error = CliError{static_cast<ErrorType>(errorType), "m", retryable};
  out.signalNumber = signal;
  return out;
}

}  // namespace

TEST_CASE("Final states map to the documented exit codes for run and wait", "[cli][exit]") {
  auto [command, state, code] = GENERATE(table<Command, int, int>({
      {Command::kRun, State::SUCCEEDED, 0},  {Command::kRun, State::FAILED, 1},
      {Command::kRun, State::ABORTED, 1},    {Command::kRun, State::SKIPPED, 3},
      {Command::kRun, State::NOT_STARTED, 3}, {Command::kRun, State::RUNNING, 75},
      {Command::kWait, State::SUCCEEDED, 0}, {Command::kWait, State::FAILED, 1},
      {Command::kWait, State::ABORTED, 1},   {Command::kWait, State::SKIPPED, 3},
      {Command::kWait, State::NOT_STARTED, 3},
  }));
  CAPTURE(commandName(command), state);
  CHECK(exitCodeFor(outcome(command, state, false, kNoError)) == code);
}

TEST_CASE("start and status exit 0 for a reload still on its way, by state once final", "[cli][exit]") {
  auto command = GENERATE(Command::kStart, Command::kStatus);
  auto [state, code] = GENERATE(table<int, int>({{State::QUEUED, 0},
                                                 {State::RUNNING, 0},
                                                 {State::STOPPING, 0},
                                                 {State::SUCCEEDED, 0},
                                                 {State::FAILED, 1},
                                                 {State::ABORTED, 1},
                                                 {State::SKIPPED, 3},
                                                 {State::NOT_STARTED, 3}}));
  CAPTURE(commandName(command), state);
  CHECK(exitCodeFor(outcome(command, state, false, kNoError)) == code);
}

TEST_CASE("cancel exits 0 whatever state the reload is left in", "[cli][exit]") {
  for (int state = State::QUEUED; state <= State::NOT_STARTED; ++state) {
    CAPTURE(state);
    CHECK(exitCodeFor(outcome(Command::kCancel, state, false, kNoError)) == 0);
  }
  // The stop could not be delivered: always worth retrying.
  CHECK(exitCodeFor(outcome(Command::kCancel, kNoState, false, int(ErrorType::kQlikUnavailable), false)) == 75);
  CHECK(exitCodeFor(outcome(Command::kCancel, kNoState, false, int(ErrorType::kQlikUnavailable), true)) == 75);
  CHECK(exitCodeFor(outcome(Command::kCancel, kNoState, false, int(ErrorType::kWorkerUnreachable), true)) == 75);
}

TEST_CASE("Errors map to the documented exit codes", "[cli][exit]") {
  auto command = GENERATE(Command::kRun, Command::kStart, Command::kWait, Command::kStatus, Command::kPing);
  auto [type, retryable, code] = GENERATE(table<ErrorType, bool, int>({
      {ErrorType::kBadArguments, false, 64},
      {ErrorType::kInvalidRequest, false, 64},
      {ErrorType::kUnknownSite, false, 64},
      {ErrorType::kUnknownExecution, false, 64},
      {ErrorType::kQlikUnavailable, true, 75},
      {ErrorType::kQlikUnavailable, false, 1},
      {ErrorType::kAccessDenied, false, 77},
      {ErrorType::kConfigurationError, false, 78},
      {ErrorType::kWorkerUnreachable, true, 75},
  }));
  CAPTURE(commandName(command), errorTypeName(type), retryable);
  CHECK(exitCodeFor(outcome(command, kNoState, false, int(type), retryable)) == code);
  // An error wins over the last state seen (e.g. RUNNING when contact was lost).
  CHECK(exitCodeFor(outcome(command, State::RUNNING, false, int(type), retryable)) == code);
}

TEST_CASE("Timeouts are 124 and signals 128+N, whatever else is known", "[cli][exit]") {
  auto state = GENERATE(as<int>{}, kNoState, State::RUNNING, State::ABORTED, State::STOPPING);
  CAPTURE(state);
  CHECK(exitCodeFor(outcome(Command::kRun, state, true, kNoError)) == 124);
  CHECK(exitCodeFor(outcome(Command::kWait, state, true, kNoError)) == 124);
  // The stop at the timeout failed: still a timeout.
  CHECK(exitCodeFor(outcome(Command::kRun, state, true, int(ErrorType::kWorkerUnreachable), true)) == 124);
  CHECK(exitCodeFor(outcome(Command::kRun, state, false, int(ErrorType::kInterrupted), false, SIGINT)) == 130);
  CHECK(exitCodeFor(outcome(Command::kRun, state, true, int(ErrorType::kInterrupted), false, SIGTERM)) == 143);
}

TEST_CASE("No outcome ever produces exit code 99", "[cli][exit]") {
  const Command commands[] = {Command::kRun,    Command::kStart, Command::kWait,  Command::kStatus,
                              Command::kCancel, Command::kPing,  Command::kNone};
  int checked = 0;
  for (Command command : commands) {
    for (int state = kNoState; state <= 9; ++state) {
      for (bool timedOut : {false, true}) {
        for (int error = kNoError; error <= int(ErrorType::kInterrupted); ++error) {
          for (bool retryable : {false, true}) {
            for (int signal : {0, SIGINT, SIGTERM, SIGKILL}) {
              const int code = exitCodeFor(outcome(command, state, timedOut, error, retryable, signal));
              CHECK(code != 99);
              CHECK(code >= 0);
              CHECK(code <= 255);
              ++checked;
            }
          }
        }
      }
    }
  }
  CHECK(checked > 1000);
}

TEST_CASE("Names of states, commands and error types", "[cli][exit]") {
  CHECK(stateName(State::SUCCEEDED) == "SUCCEEDED");
  CHECK(stateName(State::NOT_STARTED) == "NOT_STARTED");
  CHECK(stateName(static_cast<State::type>(42)) == "UNKNOWN(42)");
  CHECK(std::string(errorTypeName(ErrorType::kWorkerUnreachable)) == "WorkerUnreachable");
  CHECK(std::string(errorTypeName(ErrorType::kBadArguments)) == "BadArguments");
  CHECK(std::string(errorTypeName(ErrorType::kInterrupted)) == "Interrupted");
  CHECK(std::string(commandName(Command::kCancel)) == "cancel");
  CHECK(isTerminalState(State::SKIPPED));
  CHECK_FALSE(isTerminalState(State::STOPPING));
}
