#include "session.h"

#include <algorithm>
#include <csignal>

#include "core/duration.h"

namespace qlik_reload::cli {
namespace {

bool isTransient(const CliError& error) {
  return error.type == ErrorType::kWorkerUnreachable ||
         (error.type == ErrorType::kQlikUnavailable && error.retryable);
}

std::string describeTask(const rpc::ReloadStatus& status, const CliOptions& options) {
  if (!status.taskName.empty() && !status.taskId.empty()) return "'" + status.taskName + "' (" + status.taskId + ")";
  if (!status.taskName.empty()) return "'" + status.taskName + "'";
  if (!status.taskId.empty()) return status.taskId;
  if (options.taskName) return "'" + *options.taskName + "'";
  return options.taskId.value_or("?");
}

rpc::IfRunning::type toRpc(IfRunning choice) {
  switch (choice) {
    case IfRunning::kAttach: return rpc::IfRunning::ATTACH;
    case IfRunning::kFail: return rpc::IfRunning::FAIL;
    case IfRunning::kWait: return rpc::IfRunning::WAIT;
  }
  return rpc::IfRunning::ATTACH;
}

// What a cancel answer means, in words (a clause, lower case, no period).
std::string describeStop(const rpc::ReloadStatus& status) {
  const std::string state = stateName(status.state);
  if (status.state == rpc::ReloadState::ABORTED) return "the reload was stopped in Qlik (ABORTED)";
  if (isTerminalState(status.state)) return "the reload had already finished (" + state + "); nothing to stop";
  return "the stop was requested but Qlik has not confirmed it yet (" + state + ")";
}

// Messages are sentences, like the worker's: capital first letter, final period.
std::string sentence(std::string text) {
  if (text.empty()) return text;
  if (text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
  const char last = text.back();
  if (last != '.' && last != '!' && last != '?') text += '.';
  return text;
}

// Another message embedded in ours: without its final period.
std::string clause(std::string text) {
  while (!text.empty() && (text.back() == '.' || text.back() == ' ')) text.pop_back();
  return text;
}

bool mentionsRetry(const std::string& text) {
  return text.find("retry") != std::string::npos || text.find("Retry") != std::string::npos;
}

}  // namespace

std::string signalName(int signalNumber) {
  if (signalNumber == SIGINT) return "SIGINT";
  if (signalNumber == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(signalNumber);
}

CommandSession::CommandSession(CliOptions options, WorkerConnector& connector, Clock& clock, Output& output,
                               SessionSettings settings)
    : options_(std::move(options)),
      connector_(connector),
      clock_(clock),
      output_(output),
      settings_(settings),
      begin_(clock.now()) {}

CommandSession::~CommandSession() = default;

std::optional<Report> CommandSession::execute() {
  begin_ = clock_.now();
  switch (options_.command) {
    case Command::kRun: {
      Report report = run();
      std::lock_guard<std::mutex> guard(mutex_);
      if (phase_ == Phase::kInterrupted) return std::nullopt;
      phase_ = Phase::kDone;
      return report;
    }
    case Command::kStart: return start();
    case Command::kWait: return wait();
    case Command::kStatus: return status();
    case Command::kCancel: return cancel();
    case Command::kPing: return ping();
    default: {
      Report report = baseReport();
      report.error = CliError{ErrorType::kBadArguments, "no subcommand to execute", false};
      return report;
    }
  }
}

Report CommandSession::baseReport() const {
  Report report;
  report.command = options_.command;
  report.site = options_.site;
  report.taskId = options_.taskId.value_or("");
  report.taskName = options_.taskName.value_or("");
  report.executionId = options_.executionId.value_or("");
  return report;
}

std::optional<CliError> CommandSession::call(Duration receiveTimeout,
                                             const std::function<void(rpc::ReloadWorkerIf&)>& fn) {
  auto error = invokeWorker([&] {
    if (!connection_) connection_ = connector_.connect();
    connection_->setReceiveTimeout(receiveTimeout);
    fn(connection_->worker());
  });
  if (error && error->type == ErrorType::kWorkerUnreachable) connection_.reset();
  return error;
}

Duration CommandSession::elapsed() const {
  return std::chrono::duration_cast<Duration>(clock_.now() - begin_);
}

rpc::ReloadRequest CommandSession::buildRequest() const {
  rpc::ReloadRequest request;
  request.site = options_.site;
  if (options_.taskId) request.__set_taskId(*options_.taskId);
  if (options_.taskName) request.__set_taskName(*options_.taskName);
  if (options_.idempotencyKey) request.__set_idempotencyKey(*options_.idempotencyKey);
  if (!options_.labels.empty()) request.__set_labels(options_.labels);
  if (options_.ifRunning) request.__set_ifRunning(toRpc(*options_.ifRunning));
  return request;
}

std::string CommandSession::unreachable(const std::string& detail) const {
  return "Cannot reach the worker at " + connector_.address() + ": " + clause(detail) + ".";
}

void CommandSession::explainStartError(CliError& error) const {
  const std::string retry =
      std::string("safe to retry") + (options_.idempotencyKey ? " with the same --idempotency-key" : "");
  if (error.type == ErrorType::kWorkerUnreachable) {
    error.message = clause(unreachable(error.message)) + "; nothing was confirmed started; " + retry + ".";
  } else if (error.type == ErrorType::kQlikUnavailable && error.retryable && !mentionsRetry(error.message)) {
    error.message = sentence(error.message) + " Nothing was started; " + retry + ".";
  }
}

Report CommandSession::start() {
  Report report = baseReport();
  rpc::ReloadStatus started;
  if (auto error = call(kDefaultCallTimeout, [&](rpc::ReloadWorkerIf& w) { w.startReload(started, buildRequest()); })) {
    explainStartError(*error);
    report.error = error;
    return report;
  }
  report.status = started;
  if (started.state != rpc::ReloadState::NOT_STARTED) {
    output_.progress(std::string(started.attached ? "attached to running execution " : "started execution ") +
                     started.executionId + " of task " + describeTask(started, options_) + " (" +
                     stateName(started.state) + ")");
  }
  return report;
}

Report CommandSession::status() {
  Report report = baseReport();
  rpc::ExecutionRef ref;
  ref.site = options_.site;
  ref.executionId = report.executionId;
  rpc::ReloadStatus current;
  if (auto error = call(kDefaultCallTimeout, [&](rpc::ReloadWorkerIf& w) { w.getReload(current, ref); })) {
    if (error->type == ErrorType::kWorkerUnreachable) {
      error->message = unreachable(error->message);
    }
    report.error = error;
    return report;
  }
  report.status = current;
  return report;
}

Report CommandSession::cancel() {
  Report report = baseReport();
  rpc::ExecutionRef ref;
  ref.site = options_.site;
  ref.executionId = report.executionId;
  rpc::ReloadStatus stopped;
  if (auto error = call(kCancelCallTimeout, [&](rpc::ReloadWorkerIf& w) { w.cancelReload(stopped, ref); })) {
    if (error->type == ErrorType::kWorkerUnreachable) {
      error->message = unreachable(error->message);
    }
    if (error->type == ErrorType::kWorkerUnreachable || error->type == ErrorType::kQlikUnavailable) {
      error->message = "The stop could not be delivered: " + clause(error->message) + ".";
      error->retryable = true;
    }
    report.error = error;
    return report;
  }
  report.status = stopped;
  // The worker says best what it did (stopped, not confirmed in time, had
  // already finished); the state in the report says the same in one word.
  report.message = stopped.message.empty() ? sentence(describeStop(stopped)) : stopped.message;
  return report;
}

Report CommandSession::ping() {
  Report report = baseReport();
  rpc::WorkerInfo info;
  if (auto error = call(kDefaultCallTimeout, [&](rpc::ReloadWorkerIf& w) { w.ping(info); })) {
    if (error->type == ErrorType::kWorkerUnreachable) {
      error->message = unreachable(error->message);
    }
    report.error = error;
    return report;
  }
  report.workerInfo = info;
  return report;
}

Report CommandSession::wait() {
  rpc::ExecutionRef ref;
  ref.site = options_.site;
  ref.executionId = options_.executionId.value_or("");
  // wait is never interrupted by interrupt(), so follow() always reports.
  std::optional<Report> report = follow(ref, std::nullopt);
  return report ? std::move(*report) : baseReport();
}

Report CommandSession::run() {
  output_.progress("starting task " + (options_.taskName ? "'" + *options_.taskName + "'" : *options_.taskId) +
                   " on site " + options_.site + " through the worker at " + connector_.address());
  Report failedStart = baseReport();
  rpc::ReloadStatus started;
  auto error = call(kDefaultCallTimeout, [&](rpc::ReloadWorkerIf& w) { w.startReload(started, buildRequest()); });

  rpc::ExecutionRef ref;
  ref.site = started.site.empty() ? options_.site : started.site;
  ref.executionId = started.executionId;
  const bool follows = !error && !started.executionId.empty() && !isTerminalState(started.state);
  int signalNumber = 0;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    signalNumber = pendingSignal_;
    if (signalNumber == 0 && follows) {
      phase_ = Phase::kFollowing;
      ref_ = ref;
      lastStatus_ = started;
    } else {
      phase_ = Phase::kDone;  // from here on interrupt() leaves everything to this thread
    }
  }

  if (signalNumber != 0) {
    if (follows) {
      return interruptedReport(signalNumber, ref, started, "before the start was confirmed");
    }
    Report report = baseReport();
    report.signalNumber = signalNumber;
    report.elapsed = elapsed();
    std::string what;
    if (error) {
      what = "the start failed (" + std::string(errorTypeName(error->type)) + ": " + clause(error->message) + ")";
    } else {
      report.status = started;
      what = "nothing to stop (" + stateName(started.state) + ")";
    }
    report.error =
        CliError{ErrorType::kInterrupted, sentence("Interrupted by " + signalName(signalNumber) + "; " + what), false};
    return report;
  }

  if (error) {
    explainStartError(*error);
    failedStart.error = error;
    failedStart.elapsed = elapsed();
    return failedStart;
  }
  if (started.state == rpc::ReloadState::NOT_STARTED || isTerminalState(started.state) ||
      started.executionId.empty()) {
    return finalReport(started);
  }
  // A retried step whose idempotency key had already started an execution:
  // the worker says so in the start's answer, and the final report keeps it.
  static const std::string kReplayMark = "; no second reload was started. ";
  if (started.message.rfind("Idempotency key '", 0) == 0) {
    const std::size_t end = started.message.find(kReplayMark);
    if (end != std::string::npos) replayNote_ = started.message.substr(0, end + kReplayMark.size());
  }
  if (!replayNote_.empty()) {
    output_.progress("following execution " + started.executionId + " of task " + describeTask(started, options_) +
                     " (" + stateName(started.state) + "): " + replayNote_.substr(0, replayNote_.size() - 1));
  } else {
    output_.progress(std::string(started.attached ? "attached to running execution " : "started execution ") +
                     started.executionId + " of task " + describeTask(started, options_) + " (" +
                     stateName(started.state) + ")");
  }
  std::optional<Report> report = follow(ref, started);
  if (!report) return baseReport();  // interrupt() took over; execute() drops this
  return std::move(*report);
}

bool CommandSession::takenOver() {
  std::lock_guard<std::mutex> guard(mutex_);
  return phase_ == Phase::kInterrupted;
}

void CommandSession::sleepUntil(Clock::TimePoint wake) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (phase_ != Phase::kInterrupted && clock_.now() < wake) clock_.waitUntil(lock, wake_, wake);
}

void CommandSession::noteStatus(const rpc::ReloadStatus& status, const std::optional<rpc::ReloadStatus>& previous) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    lastStatus_ = status;
  }
  if (!previous) {
    output_.progress("execution " + status.executionId + " of task " + describeTask(status, options_) + " is " +
                     stateName(status.state));
  } else if (previous->state != status.state && !isTerminalState(status.state)) {
    // A final state is announced once, by the final report.
    output_.progress(stateName(status.state) + " after " + formatDuration(elapsed()));
  }
}

std::optional<Report> CommandSession::follow(const rpc::ExecutionRef& ref, std::optional<rpc::ReloadStatus> last) {
  // Plain values with flags rather than optionals: clearer to the compiler's
  // flow analysis, which warns about optional<time_point> here.
  const bool hasDeadline = options_.timeout.has_value();
  const Clock::TimePoint deadline = hasDeadline ? begin_ + *options_.timeout : Clock::TimePoint::max();
  Backoff backoff(settings_.reconnectBackoff, settings_.backoffSeed);
  bool inTrouble = false;
  Clock::TimePoint troubleSince{};
  // run: the worker answered the start. wait: it must answer the first call.
  bool contacted = last.has_value();

  for (;;) {
    if (takenOver()) return std::nullopt;
    Clock::TimePoint now = clock_.now();
    if (hasDeadline && now >= deadline) return onTimeout(ref, last);
    Duration maxWait = settings_.maxWaitPerCall;
    if (hasDeadline) maxWait = std::min(maxWait, std::chrono::ceil<Duration>(deadline - now));
    const Clock::TimePoint callStart = now;
    rpc::ReloadStatus current;
    auto error = call(maxWait + kWaitCallMargin, [&](rpc::ReloadWorkerIf& w) {
      w.waitReload(current, ref, static_cast<int32_t>(maxWait.count()));
    });
    if (takenOver()) return std::nullopt;

    if (!error) {
      if (inTrouble) {
        output_.progress("in contact with the worker again after " +
                         formatDuration(std::chrono::duration_cast<Duration>(clock_.now() - troubleSince)) +
                         "; still following execution " + ref.executionId);
      }
      inTrouble = false;
      backoff.reset();
      contacted = true;
      noteStatus(current, last);
      last = current;
      if (isTerminalState(current.state)) return finalReport(current);
      const Clock::TimePoint nextPoll = callStart + settings_.minPollInterval;
      if (clock_.now() < nextPoll) sleepUntil(std::min(nextPoll, deadline));
      continue;
    }

    if (!isTransient(*error) || !contacted) {
      Report report = baseReport();
      report.executionId = ref.executionId;
      report.status = last;
      report.elapsed = elapsed();
      if (error->type == ErrorType::kWorkerUnreachable) {
        error->message = unreachable(error->message);
      }
      report.error = error;
      return report;
    }

    now = clock_.now();
    if (!inTrouble) {
      inTrouble = true;
      troubleSince = now;
      output_.progress((error->type == ErrorType::kWorkerUnreachable ? "lost contact with the worker: "
                                                                     : "Qlik is unavailable: ") +
                       clause(error->message) + "; retrying for up to " + formatDuration(options_.reconnectFor) +
                       " (execution " + ref.executionId + " keeps running in Qlik)");
    }
    const Clock::TimePoint giveUpAt = troubleSince + options_.reconnectFor;
    if (now >= giveUpAt) {
      Report report = baseReport();
      report.executionId = ref.executionId;
      report.status = last;
      report.elapsed = elapsed();
      error->message = std::string(error->type == ErrorType::kWorkerUnreachable
                                       ? "Lost contact with the worker at " + connector_.address()
                                       : std::string("Qlik stayed unavailable")) +
                       " for " + formatDuration(std::chrono::duration_cast<Duration>(now - troubleSince)) +
                       " (last error: " + clause(error->message) + "); execution " + ref.executionId +
                       " may still be running; follow it with: qlik-reload wait " + ref.executionId + ".";
      error->retryable = true;
      report.error = error;
      return report;
    }
    sleepUntil(std::min({now + backoff.next(), giveUpAt, deadline}));
  }
}

Report CommandSession::finalReport(const rpc::ReloadStatus& status) {
  Report report = baseReport();
  report.status = status;
  if (!replayNote_.empty() && status.message.rfind(replayNote_, 0) != 0) {
    report.status->message = replayNote_ + status.message;
  }
  report.elapsed = elapsed();
  return report;
}

Report CommandSession::onTimeout(const rpc::ExecutionRef& ref, const std::optional<rpc::ReloadStatus>& last) {
  const std::string after = "Timed out after " + formatDuration(*options_.timeout);
  Report report = baseReport();
  report.executionId = ref.executionId;
  report.status = last;
  report.timedOut = true;
  const std::string state = last ? stateName(last->state) : std::string("state unknown");

  if (options_.command != Command::kRun || !options_.stopOnTimeout) {
    report.elapsed = elapsed();
    report.message = after + "; the reload keeps running in Qlik (" + state +
                     "); follow it with: qlik-reload wait " + ref.executionId + ".";
    return report;
  }

  output_.progress(after + "; stopping execution " + ref.executionId);
  rpc::ReloadStatus stopped;
  auto stop = [&](rpc::ReloadWorkerIf& w) { w.cancelReload(stopped, ref); };
  auto error = call(kCancelCallTimeout, stop);
  // The connection may have been a stale one; one fresh attempt.
  if (error && error->type == ErrorType::kWorkerUnreachable) error = call(kCancelCallTimeout, stop);
  report.elapsed = elapsed();
  if (error) {
    if (error->type == ErrorType::kWorkerUnreachable) {
      error->message = unreachable(error->message);
    }
    report.error = error;
    report.message = after + "; the stop could not be delivered (" + clause(error->message) +
                     "); the reload may still be running: execution " + ref.executionId + ".";
    return report;
  }
  report.status = stopped;
  if (isTerminalState(stopped.state) && stopped.state != rpc::ReloadState::ABORTED) {
    // It finished on its own just as the time ran out: report what really happened.
    report.timedOut = false;
    report.message = (stopped.message.empty() ? "" : sentence(stopped.message) + " ") +
                     "It finished as the timeout of " + formatDuration(*options_.timeout) +
                     " passed; nothing was stopped by the timeout.";
    return report;
  }
  report.message = sentence(after + "; " + describeStop(stopped));
  return report;
}

Report CommandSession::interruptedReport(int signalNumber, const rpc::ExecutionRef& ref,
                                         const std::optional<rpc::ReloadStatus>& last, const std::string& context) {
  Report report = baseReport();
  report.executionId = ref.executionId;
  report.status = last;
  report.signalNumber = signalNumber;
  std::unique_ptr<WorkerConnection> connection;
  rpc::ReloadStatus stopped;
  auto error = invokeWorker([&] {
    connection = connector_.connect();
    connection->setReceiveTimeout(kCancelCallTimeout);
    connection->worker().cancelReload(stopped, ref);
  });
  std::string what;
  if (error) {
    what = "the stop could not be delivered (" + std::string(errorTypeName(error->type)) + ": " + clause(error->message) +
           "); the reload may still be running: execution " + ref.executionId;
  } else {
    report.status = stopped;
    what = describeStop(stopped);
  }
  report.elapsed = elapsed();
  report.error = CliError{ErrorType::kInterrupted,
                          sentence("Interrupted by " + signalName(signalNumber) +
                                   (context.empty() ? "" : " " + context) + "; " + what),
                          false};
  return report;
}

std::optional<Report> CommandSession::interrupt(int signalNumber) {
  if (options_.command != Command::kRun) return std::nullopt;
  rpc::ExecutionRef ref;
  std::optional<rpc::ReloadStatus> last;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (phase_ == Phase::kStarting) {
      if (pendingSignal_ == 0) pendingSignal_ = signalNumber;
      return std::nullopt;
    }
    if (phase_ != Phase::kFollowing) return std::nullopt;
    phase_ = Phase::kInterrupted;
    ref = ref_;
    last = lastStatus_;
    wake_.notify_all();
  }
  output_.progress(signalName(signalNumber) + " received; stopping execution " + ref.executionId);
  return interruptedReport(signalNumber, ref, last, "");
}

}  // namespace qlik_reload::cli
