// The command logic of qlik-reload, written against WorkerConnector so tests
// drive it with a fake worker and a manual clock.
//
// run    startReload, then waitReload long polls (at most 30 s each, never past
//        the --timeout) on the same execution id until it is final. Transport
//        faults and retryable QlikUnavailable while following: reconnect with
//        capped backoff (250 ms doubling to 5 s, ±20 % jitter) for up to
//        --reconnect-for, then give up with 75 naming the execution id. At
//        --timeout: cancelReload (unless --no-stop-on-timeout) and 124.
//        A failed start (any error) is reported at once; nothing is retried.
// wait   the same following loop for a given execution id; never cancels. The
//        worker must answer the first call (else 75 at once).
// start, status, cancel, ping: one call each.
//
// Interrupts (run only): interrupt() may be called from another thread (the
// signal thread). Before the start has answered it only records the signal;
// execute() then cancels what was started and reports 128+N. After that it
// takes over: it cancels on a new connection (the main one is busy in a long
// poll), and returns the final report, while execute() returns nullopt as
// soon as it notices. Exactly one of them returns a report.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "core/backoff.h"
#include "core/clock.h"
#include "options.h"
#include "output.h"
#include "report.h"
#include "worker_connection.h"

namespace qlik_reload::cli {

struct SessionSettings {
  // Reconnect schedule while following an execution.
  BackoffOptions reconnectBackoff{Duration(250), Duration(5000), 2.0, 0.2};
  // Seed of the backoff's jitter (main passes a random one; tests a fixed one).
  std::uint64_t backoffSeed = 0x5eedULL;
  // The longest single waitReload long poll.
  Duration maxWaitPerCall = std::chrono::seconds(30);
  // Polls start at least this far apart, so a worker that answers a
  // non-final state at once (instead of long-polling) is not hammered.
  Duration minPollInterval = std::chrono::seconds(1);
};

class CommandSession {
 public:
  // `connector`, `clock` and `output` must outlive the session. Progress goes
  // to `output`; the final report is returned, not printed.
  CommandSession(CliOptions options, WorkerConnector& connector, Clock& clock, Output& output,
                 SessionSettings settings = {});
  ~CommandSession();

  CommandSession(const CommandSession&) = delete;
  CommandSession& operator=(const CommandSession&) = delete;

  // Runs the command (not help/version). Call once. Returns the final report,
  // or nullopt when interrupt() took the final report over.
  std::optional<Report> execute();

  // Thread-safe; for run only (other commands: always nullopt). Returns the
  // final report when this call took over (after cancelling the reload, which
  // may block for the worker's bounded stop wait), nullopt otherwise.
  std::optional<Report> interrupt(int signalNumber);

 private:
  enum class Phase { kStarting, kFollowing, kDone, kInterrupted };

  Report baseReport() const;
  // "Cannot reach the worker at ADDRESS: detail."
  std::string unreachable(const std::string& detail) const;
  // Adds to a failed start what the caller needs to know: nothing was
  // started, a retry is safe (with the same --idempotency-key).
  void explainStartError(CliError& error) const;
  // Calls the worker on the session's connection, connecting first when
  // needed; drops the connection after a transport error.
  std::optional<CliError> call(Duration receiveTimeout, const std::function<void(rpc::ReloadWorkerIf&)>& fn);

  Report run();
  Report start();
  Report wait();
  Report status();
  Report cancel();
  Report ping();

  // The long-poll loop shared by run and wait. nullopt: interrupt() took over.
  std::optional<Report> follow(const rpc::ExecutionRef& ref, std::optional<rpc::ReloadStatus> last);
  Report onTimeout(const rpc::ExecutionRef& ref, const std::optional<rpc::ReloadStatus>& last);
  Report finalReport(const rpc::ReloadStatus& status);
  Report interruptedReport(int signalNumber, const rpc::ExecutionRef& ref,
                           const std::optional<rpc::ReloadStatus>& last, const std::string& context);
  void noteStatus(const rpc::ReloadStatus& status, const std::optional<rpc::ReloadStatus>& previous);
  rpc::ReloadRequest buildRequest() const;
  Duration elapsed() const;
  bool takenOver();
  // Sleeps on the clock until `wake`, or until interrupt() takes over.
  void sleepUntil(Clock::TimePoint wake);

  const CliOptions options_;
  WorkerConnector& connector_;
  Clock& clock_;
  Output& output_;
  const SessionSettings settings_;
  Clock::TimePoint begin_;
  std::unique_ptr<WorkerConnection> connection_;  // the executing thread's only

  std::mutex mutex_;  // guards the members below
  std::condition_variable wake_;
  Phase phase_ = Phase::kStarting;
  int pendingSignal_ = 0;
  rpc::ExecutionRef ref_;
  std::optional<rpc::ReloadStatus> lastStatus_;
  std::string replayNote_;  // "Idempotency key ... no second reload was started. " when the start said so
};

// "SIGINT", "SIGTERM", else "signal N".
std::string signalName(int signalNumber);

}  // namespace qlik_reload::cli
