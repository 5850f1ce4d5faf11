// The reload operator against an in-memory QRS, in simulated time.
#include <catch2/catch.hpp>

#include <future>
#include <memory>

#include "core/guid.h"
#include "drive.h"
#include "fake_qrs.h"
#include "manual_clock.h"
#include "reload/operator.h"

using namespace qlik_reload;
using namespace std::chrono_literals;
using qlik_reload::testing::FakeQrs;
using qlik_reload::testing::ManualClock;
using qlik_reload::testing::driveUntilReady;
using qlik_reload::testing::runFor;
using Op = FakeQrs::Op;

namespace {

const std::string kTask = "7f3c0c1a-1111-4222-8333-944455556666";
const std::string kOtherTask = "7f3c0c1a-1111-4222-8333-000000000002";

Duration ms(long long n) { return Duration(n); }

struct Harness {
  ManualClock clock;
  FakeQrs qrs{clock};
  OperatorOptions options;
  std::unique_ptr<ReloadOperator> op;

  Harness() {
    options.monitor.poll.jitter = 0.0;
    options.stopWait = ms(30'000);
    options.monitor.lostAfter = ms(120'000);
  }
  void start() {
    op = std::make_unique<ReloadOperator>("default", qrs, clock, options);
    op->start();
  }
  FakeQrs::Task& task(FakeQrs::Task t) {
    tasks.push_back(std::move(t));
    qrs.addTask(tasks.back());
    return tasks.back();
  }
  Result<ReloadStatus> run(StartRequest request) {
    auto f = std::async(std::launch::async, [&] { return op->runReload(request); });
    return driveUntilReady(clock, f);
  }
  Result<ReloadStatus> start(StartRequest request) {
    auto f = std::async(std::launch::async, [&] { return op->startReload(request); });
    return driveUntilReady(clock, f);
  }
  Result<ReloadStatus> wait(const std::string& id, Duration maxWait) {
    auto f = std::async(std::launch::async, [&] { return op->waitReload(id, maxWait); });
    return driveUntilReady(clock, f);
  }
  Result<ReloadStatus> cancel(const std::string& id) {
    auto f = std::async(std::launch::async, [&] { return op->cancelReload(id); });
    return driveUntilReady(clock, f);
  }
  std::vector<FakeQrs::Task> tasks;
};

StartRequest byId(const std::string& id) {
  StartRequest r;
  r.taskId = id;
  return r;
}

FakeQrs::Task simpleTask(int finalStatus, Duration running = ms(60'000), Duration queued = ms(2'000)) {
  FakeQrs::Task t;
  t.id = kTask;
  t.name = "Reload Sales";
  t.attempts = {FakeQrs::Attempt{queued, running, finalStatus}};
  return t;
}

}  // namespace

TEST_CASE("A successful reload is followed through its own execution to SUCCEEDED", "[operator]") {
  Harness h;
  h.task(simpleTask(7));
  h.start();
  const auto t0 = h.clock.now();
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  const ReloadStatus& s = result.value();
  CHECK(s.state == ReloadState::kSucceeded);
  CHECK(s.terminal);
  CHECK_FALSE(s.timedOut);
  CHECK(s.qlikStatus == "FinishedSuccess");
  CHECK(s.qlikStatusCode == 7);
  REQUIRE(s.attempts.size() == 1);
  CHECK(s.attempts[0].durationMs == 60'000);
  CHECK(s.attempts[0].node == "qlikserver1");
  CHECK(s.executionId == h.qrs.startedExecutions().at(0));
  CHECK(s.taskId == kTask);
  CHECK(s.scriptLogTail.empty());
  CHECK(s.message == "Reload succeeded after 1m 0s.");
  CHECK(h.qrs.calls(Op::kStart) == 1);
  CHECK(h.qrs.calls(Op::kLogTicket) == 0);
  // Seen within one poll interval (the cap) of the real end, 62 s after start.
  CHECK(h.clock.now() - t0 >= 62s);
  CHECK(h.clock.now() - t0 <= 62s + 5s);
  // Backoff (reset when Queued turns Started): about twenty result reads for
  // a one-minute reload, where a one-second poll would make sixty; the
  // execution session is never polled.
  CHECK(h.qrs.calls(Op::kGetResults) <= 22);
  CHECK(h.qrs.calls(Op::kGetSession) == 0);
}

TEST_CASE("A failed reload is FAILED with Qlik's detail and the script-log tail", "[operator]") {
  Harness h;
  h.task(simpleTask(8, ms(3'000)));
  h.start();
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  const ReloadStatus& s = result.value();
  CHECK(s.state == ReloadState::kFailed);
  CHECK(s.qlikStatus == "FinishedFail");
  CHECK_THAT(s.message, Catch::StartsWith("Reload failed in Qlik (FinishedFail) after 3s"));
  CHECK_THAT(s.message, Catch::EndsWith(": Error: field not found."));
  CHECK(s.scriptLogTail == "line 1\nline 2\nError: field not found");
}

TEST_CASE("Retries: Retry is not terminal and the outcome is the last attempt's", "[operator]") {
  SECTION("a retry that succeeds is a success") {
    Harness h;
    FakeQrs::Task t = simpleTask(7);
    t.attempts = {{ms(0), ms(1'000), 8}, {ms(0), ms(2'000), 7}};
    h.task(t);
    h.start();
    auto result = h.run(byId(kTask));
    REQUIRE(result.isOk());
    CHECK(result.value().state == ReloadState::kSucceeded);
    REQUIRE(result.value().attempts.size() == 2);
    CHECK(result.value().attempts[0].qlikStatus == "Retry");
    CHECK(result.value().attempts[1].qlikStatus == "FinishedSuccess");
  }
  SECTION("retries that all fail are a failure") {
    Harness h;
    FakeQrs::Task t = simpleTask(8);
    t.attempts = {{ms(0), ms(1'000), 8}, {ms(0), ms(1'000), 8}, {ms(0), ms(1'000), 8}};
    h.task(t);
    h.start();
    auto result = h.run(byId(kTask));
    REQUIRE(result.isOk());
    CHECK(result.value().state == ReloadState::kFailed);
    CHECK(result.value().attempts.size() == 3);
    CHECK_THAT(result.value().message, Catch::Contains("attempt 3 of 3"));
  }
}

TEST_CASE("Every terminal Qlik status ends the wait with its own state", "[operator]") {
  auto [code, state] = GENERATE(table<int, ReloadState>({{7, ReloadState::kSucceeded},
                                                         {8, ReloadState::kFailed},
                                                         {9, ReloadState::kSkipped},
                                                         {11, ReloadState::kFailed},
                                                         {12, ReloadState::kFailed},
                                                         {6, ReloadState::kAborted}}));
  CAPTURE(code);
  Harness h;
  h.task(simpleTask(code, ms(4'000), ms(0)));
  h.start();
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  CHECK(result.value().state == state);
  CHECK(result.value().qlikStatusCode == code);
  CHECK(result.value().terminal);
}

TEST_CASE("The all-zero GUID for a disabled task is NOT_STARTED, naming the likely causes", "[operator]") {
  Harness h;
  FakeQrs::Task t = simpleTask(7);
  t.enabled = false;
  h.task(t);
  h.start();
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  const ReloadStatus& s = result.value();
  CHECK(s.state == ReloadState::kNotStarted);
  CHECK(s.terminal);
  CHECK(s.executionId.empty());
  CHECK_THAT(s.message, Catch::Contains("all-zero") && Catch::Contains("disabled") &&
                            Catch::Contains("no scheduler") && Catch::Contains("app"));
  CHECK(h.qrs.calls(Op::kGetResults) == 0);
}

TEST_CASE("An unknown task is NOT_STARTED, not an error", "[operator]") {
  Harness h;
  h.start();
  auto result = h.run(byId(kOtherTask));
  REQUIRE(result.isOk());
  CHECK(result.value().state == ReloadState::kNotStarted);
  CHECK_THAT(result.value().message, Catch::Contains("there is no task " + kOtherTask));
}

TEST_CASE("Start by name learns the task id from Qlik", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(1'000)));
  h.start();
  StartRequest r;
  r.taskName = "reload sales";
  auto result = h.run(r);
  REQUIRE(result.isOk());
  CHECK(result.value().state == ReloadState::kSucceeded);
  CHECK(result.value().taskId == kTask);
  CHECK(h.qrs.calls(Op::kStartByName) == 1);
}

TEST_CASE("A task that is already running follows the ifRunning policy", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(30'000), ms(0)));
  h.start();
  const std::string theirs = h.qrs.startExternally(kTask);
  REQUIRE(isGuid(theirs));

  SECTION("attach (default) follows the running execution and says so") {
    auto result = h.run(byId(kTask));
    REQUIRE(result.isOk());
    CHECK(result.value().executionId == theirs);
    CHECK(result.value().attached);
    CHECK(result.value().state == ReloadState::kSucceeded);
    CHECK_THAT(result.value().message, Catch::Contains("already running"));
    CHECK(h.qrs.startedExecutions().empty());
  }
  SECTION("fail answers NOT_STARTED") {
    StartRequest r = byId(kTask);
    r.ifRunning = IfRunning::kFail;
    auto result = h.run(r);
    REQUIRE(result.isOk());
    CHECK(result.value().state == ReloadState::kNotStarted);
    CHECK_THAT(result.value().message, Catch::Contains("already running (execution " + theirs + ")"));
  }
  SECTION("wait lets it finish, then starts a new one") {
    StartRequest r = byId(kTask);
    r.ifRunning = IfRunning::kWait;
    auto result = h.run(r);
    REQUIRE(result.isOk());
    REQUIRE(h.qrs.startedExecutions().size() == 1);
    CHECK(result.value().executionId == h.qrs.startedExecutions()[0]);
    CHECK(result.value().executionId != theirs);
    CHECK(result.value().state == ReloadState::kSucceeded);
    CHECK_FALSE(result.value().attached);
  }
}

TEST_CASE("An early 404 is not taken for the end of the run", "[operator]") {
  Harness h;
  FakeQrs::Task t = simpleTask(7, ms(10'000), ms(0));
  t.sessionVisibleAfter = ms(3'000);
  h.task(t);
  h.start();
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  CHECK(result.value().state == ReloadState::kSucceeded);
  CHECK(result.value().attempts.size() == 1);
}

TEST_CASE("Results written late after the session is gone are waited for", "[operator]") {
  Harness h;
  FakeQrs::Task t = simpleTask(8, ms(5'000), ms(0));
  t.resultsLag = ms(4'000);
  h.task(t);
  h.start();
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  CHECK(result.value().state == ReloadState::kFailed);
  CHECK(result.value().qlikStatus == "FinishedFail");
}

TEST_CASE("A timeout stops the task in Qlik and reports ABORTED and timed out", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(3600'000)));
  h.start();
  StartRequest r = byId(kTask);
  r.timeout = ms(10'000);
  const auto t0 = h.clock.now();
  auto result = h.run(r);
  REQUIRE(result.isOk());
  const ReloadStatus& s = result.value();
  CHECK(s.state == ReloadState::kAborted);
  CHECK(s.timedOut);
  CHECK(s.terminal);
  CHECK(h.qrs.stopsOf(kTask) == 1);
  CHECK_THAT(s.message, Catch::StartsWith("Timed out after 10s; stop requested in Qlik."));
  CHECK(h.clock.now() - t0 < 20s);
  // Later reads still say it timed out.
  auto later = h.op->getReload(s.executionId);
  REQUIRE(later.isOk());
  CHECK(later.value().timedOut);
}

TEST_CASE("A timeout without stop-on-timeout leaves the reload running", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(3600'000)));
  h.start();
  StartRequest r = byId(kTask);
  r.timeout = ms(10'000);
  r.stopOnTimeout = false;
  auto result = h.run(r);
  REQUIRE(result.isOk());
  CHECK(result.value().state == ReloadState::kRunning);
  CHECK(result.value().timedOut);
  CHECK_FALSE(result.value().terminal);
  CHECK(h.qrs.stopsOf(kTask) == 0);
  CHECK_THAT(result.value().message, Catch::Contains("keeps running in Qlik"));
}

TEST_CASE("Transient QRS errors while waiting never lose the execution", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(20'000)));
  h.start();
  h.qrs.failNext(Op::kGetResults, 6, Status::unavailable("QRS 503 Service Unavailable"));
  h.qrs.failNext(Op::kGetResults, 2, Status::unavailable("connection reset by peer"));
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  CHECK(result.value().state == ReloadState::kSucceeded);
  CHECK(h.qrs.calls(Op::kStart) == 1);
  CHECK(h.qrs.calls(Op::kGetResults) >= 9);
}

TEST_CASE("While QRS is failing, the status says so and keeps the last known state", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(600'000), ms(0)));
  h.start();
  auto started = h.start(byId(kTask));
  REQUIRE(started.isOk());
  runFor(h.clock, 10s);
  h.qrs.failNext(Op::kGetResults, 1000, Status::unavailable("connection refused"));
  runFor(h.clock, 30s);
  auto now = h.op->getReload(started.value().executionId);
  REQUIRE(now.isOk());
  CHECK(now.value().state == ReloadState::kRunning);
  CHECK_THAT(now.value().message, Catch::Contains("connection refused") && Catch::Contains("still following"));
}

TEST_CASE("A server's Retry-After is honoured", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(600'000), ms(0)));
  h.start();
  auto started = h.start(byId(kTask));
  REQUIRE(started.isOk());
  runFor(h.clock, 1s);
  Status throttled = Status::unavailable("QRS 429 Too Many Requests");
  throttled.setRetryAfter(ms(30'000));
  h.qrs.failNext(Op::kGetResults, 1, throttled);
  const int before = h.qrs.calls(Op::kGetResults);
  runFor(h.clock, 29s);
  CHECK(h.qrs.calls(Op::kGetResults) <= before + 2);
}

TEST_CASE("The script log is retried until Qlik can serve it", "[operator]") {
  Harness h;
  FakeQrs::Task t = simpleTask(8, ms(2'000));
  h.task(t);
  h.start();
  // Qlik answers 404 twice before the log can be downloaded.
  h.qrs.failNext(Op::kDownload, 2, Status::notFound("QRS 404 Not found"));
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  CHECK(result.value().scriptLogTail == "line 1\nline 2\nError: field not found");
  CHECK(h.qrs.calls(Op::kDownload) == 3);
}

TEST_CASE("A script log that never comes is given up on, saying so", "[operator]") {
  Harness h;
  FakeQrs::Task t = simpleTask(8, ms(2'000));
  t.logDelay = ms(3600'000);
  h.task(t);
  h.start();
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  CHECK(result.value().state == ReloadState::kFailed);
  CHECK(result.value().scriptLogTail.empty());
  CHECK_THAT(result.value().message, Catch::Contains("Script log not available"));
  CHECK(h.qrs.calls(Op::kDownload) == h.options.monitor.logAttempts);
}

TEST_CASE("Older QRS: the script log comes through the fileReferenceId endpoint", "[operator]") {
  Harness h;
  FakeQrs::Task t = simpleTask(8, ms(2'000));
  t.legacyLogOnly = true;
  h.task(t);
  h.start();
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  CHECK(result.value().scriptLogTail == "line 1\nline 2\nError: field not found");
  CHECK(h.qrs.calls(Op::kLegacyLogTicket) >= 1);
}

TEST_CASE("The same idempotency key never starts a second reload", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(5'000)));
  h.start();
  StartRequest r = byId(kTask);
  r.idempotencyKey = "dag=sales/run=2026-01-02/task=reload";
  auto first = h.start(r);
  REQUIRE(first.isOk());
  auto second = h.start(r);
  REQUIRE(second.isOk());
  CHECK(second.value().executionId == first.value().executionId);
  CHECK_THAT(second.value().message, Catch::Contains("no second reload was started"));
  // Also after it finished.
  auto done = h.wait(first.value().executionId, ms(3600'000));
  REQUIRE(done.isOk());
  auto third = h.run(r);
  REQUIRE(third.isOk());
  CHECK(third.value().executionId == first.value().executionId);
  CHECK(third.value().state == ReloadState::kSucceeded);
  CHECK(h.qrs.calls(Op::kStart) == 1);
}

TEST_CASE("An idempotency key is not spent by a start that started nothing", "[operator]") {
  Harness h;
  FakeQrs::Task t = simpleTask(7, ms(1'000));
  t.enabled = false;
  h.task(t);
  h.start();
  StartRequest r = byId(kTask);
  r.idempotencyKey = "k1";
  auto first = h.start(r);
  REQUIRE(first.isOk());
  CHECK(first.value().state == ReloadState::kNotStarted);
  t.enabled = true;
  h.qrs.addTask(t);
  auto second = h.start(r);
  REQUIRE(second.isOk());
  CHECK(isGuid(second.value().executionId));
}

TEST_CASE("A start whose answer was lost attaches to the execution it created", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(5'000)));
  h.start();
  h.qrs.failNext(Op::kStart, 1, Status::unavailable("read timed out"), /*performFirst=*/true);
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  CHECK(h.qrs.calls(Op::kStart) == 1);
  REQUIRE(h.qrs.startedExecutions().size() == 1);
  CHECK(result.value().executionId == h.qrs.startedExecutions()[0]);
  CHECK(result.value().state == ReloadState::kSucceeded);
  CHECK_FALSE(result.value().attached);
  CHECK_THAT(result.value().message, Catch::Contains("answer to the start request was lost") &&
                                         Catch::Contains("no second start was sent"));
}

TEST_CASE("A start that failed before reaching Qlik is retryable and says nothing started", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(5'000)));
  h.start();
  h.qrs.failNext(Op::kStart, 1, Status::unavailable("start task " + kTask + ": connection refused").setNotSent());
  auto result = h.run(byId(kTask));
  REQUIRE_FALSE(result.isOk());
  CHECK(result.status().retryable());
  CHECK_THAT(result.status().message(), Catch::Contains("never reached QRS, so nothing was started"));
  CHECK(h.qrs.calls(Op::kStart) == 1);
  // Certainly not sent: nothing to look for.
  CHECK(h.qrs.calls(Op::kFindSessions) == 0);
  CHECK(h.qrs.calls(Op::kFindTaskResults) == 0);
  CHECK(h.qrs.startedExecutions().empty());
}

TEST_CASE("A start that failed without an answer, when nothing was created, says nothing started", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(5'000)));
  h.start();
  h.qrs.failNext(Op::kStart, 1, Status::unavailable("connection reset"));
  auto result = h.run(byId(kTask));
  REQUIRE_FALSE(result.isOk());
  CHECK(result.status().retryable());
  CHECK_THAT(result.status().message(), Catch::Contains("nothing was started"));
  CHECK(h.qrs.calls(Op::kStart) == 1);
  CHECK(h.qrs.calls(Op::kFindSessions) == 1);  // looked before saying so
  CHECK(h.qrs.startedExecutions().empty());
}

TEST_CASE("Other start failures are reported with their class and context", "[operator]") {
  Harness h;
  h.task(simpleTask(7));
  h.start();
  h.qrs.failNext(Op::kStart, 1, Status::accessDenied("QRS 403 Access denied"));
  auto result = h.run(byId(kTask));
  REQUIRE_FALSE(result.isOk());
  CHECK(result.status().code() == ErrorCode::kAccessDenied);
  CHECK(result.status().message() == "start task " + kTask + ": QRS 403 Access denied");
}

TEST_CASE("cancelReload stops the task and waits for Aborted", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(3600'000)));
  h.start();
  auto started = h.start(byId(kTask));
  REQUIRE(started.isOk());
  runFor(h.clock, 5s);
  auto cancelled = h.cancel(started.value().executionId);
  REQUIRE(cancelled.isOk());
  CHECK(cancelled.value().state == ReloadState::kAborted);
  CHECK_FALSE(cancelled.value().timedOut);
  CHECK(h.qrs.stopsOf(kTask) == 1);
  CHECK_THAT(cancelled.value().message, Catch::StartsWith("Stop requested in Qlik."));
}

TEST_CASE("Cancelling a finished reload stops nothing", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(1'000)));
  h.start();
  auto done = h.run(byId(kTask));
  REQUIRE(done.isOk());
  auto cancelled = h.cancel(done.value().executionId);
  REQUIRE(cancelled.isOk());
  CHECK(cancelled.value().state == ReloadState::kSucceeded);
  CHECK(h.qrs.stopsOf(kTask) == 0);
  CHECK_THAT(cancelled.value().message, Catch::Contains("had already finished"));
}

TEST_CASE("A stop that cannot be delivered is a retryable error", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(3600'000)));
  h.start();
  auto started = h.start(byId(kTask));
  REQUIRE(started.isOk());
  runFor(h.clock, 3s);
  h.qrs.failNext(Op::kStop, 2, Status::unavailable("connection refused"));
  auto cancelled = h.cancel(started.value().executionId);
  REQUIRE_FALSE(cancelled.isOk());
  CHECK(cancelled.status().retryable());
  CHECK_THAT(cancelled.status().message(), Catch::StartsWith("stop task " + kTask));
  // Sent, then once more after Qlik showed no sign of stopping: never more.
  CHECK(h.qrs.calls(Op::kStop) == 2);
}

TEST_CASE("A stop whose answer was lost is confirmed by following the reload, not reported failed", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(3600'000)));
  h.start();
  auto started = h.start(byId(kTask));
  REQUIRE(started.isOk());
  runFor(h.clock, 3s);
  h.qrs.failNext(Op::kStop, 1, Status::unavailable("read timed out"), /*performFirst=*/true);
  auto cancelled = h.cancel(started.value().executionId);
  REQUIRE(cancelled.isOk());
  CHECK(cancelled.value().state == ReloadState::kAborted);
  CHECK(h.qrs.calls(Op::kStop) == 1);
}

TEST_CASE("An execution this worker never saw is looked up in QRS", "[operator]") {
  Harness h;
  h.task(simpleTask(8, ms(2'000), ms(0)));
  h.start();
  const std::string theirs = h.qrs.startExternally(kTask);
  SECTION("while it runs") {
    auto s = h.op->getReload(theirs);
    REQUIRE(s.isOk());
    CHECK(s.value().executionId == theirs);
    CHECK(s.value().taskId == kTask);
    auto done = h.wait(theirs, ms(60'000));
    REQUIRE(done.isOk());
    CHECK(done.value().state == ReloadState::kFailed);
  }
  SECTION("after it finished") {
    runFor(h.clock, 10s);
    auto s = h.wait(theirs, ms(60'000));
    REQUIRE(s.isOk());
    CHECK(s.value().state == ReloadState::kFailed);
    CHECK(s.value().scriptLogTail == "line 1\nline 2\nError: field not found");
  }
  SECTION("an id Qlik does not know is kNotFound") {
    auto s = h.op->getReload(newGuid());
    REQUIRE_FALSE(s.isOk());
    CHECK(s.status().code() == ErrorCode::kNotFound);
    CHECK_THAT(s.status().message(), Catch::Contains("neither a session nor a result"));
  }
}

TEST_CASE("waitReload returns at maxWait with the current state", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(3600'000), ms(0)));
  h.start();
  auto started = h.start(byId(kTask));
  REQUIRE(started.isOk());
  const auto t0 = h.clock.now();
  auto s = h.wait(started.value().executionId, ms(30'000));
  REQUIRE(s.isOk());
  CHECK(s.value().state == ReloadState::kRunning);
  CHECK_FALSE(s.value().terminal);
  CHECK(h.clock.now() - t0 == 30s);
}

TEST_CASE("An execution Qlik never shows is reported lost after lostAfter, not waited on forever", "[operator]") {
  Harness h;
  h.start();
  const std::string ghost = newGuid();
  h.op->monitor().track(ghost, TrackInfo{});
  auto s = h.wait(ghost, ms(3600'000));
  REQUIRE(s.isOk());
  CHECK(s.value().state == ReloadState::kFailed);
  CHECK(s.value().terminal);
  CHECK_THAT(s.value().message, Catch::Contains("outcome is unknown"));
}

TEST_CASE("Shutdown answers waiters at once and stops nothing in Qlik", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(3600'000), ms(0)));
  h.start();
  auto started = h.start(byId(kTask));
  REQUIRE(started.isOk());
  auto f = std::async(std::launch::async, [&] { return h.op->waitReload(started.value().executionId, ms(3600'000)); });
  REQUIRE(h.clock.waitForSleepers(2));
  h.op->shutdown();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  auto s = f.get();
  REQUIRE(s.isOk());
  CHECK_FALSE(s.value().terminal);
  CHECK(h.qrs.stopsOf(kTask) == 0);
}

TEST_CASE("Polling backs off to the cap: a ten-minute reload costs about 130 reads, not 600", "[operator]") {
  Harness h;
  h.task(simpleTask(7, ms(600'000), ms(0)));
  h.start();
  auto result = h.run(byId(kTask));
  REQUIRE(result.isOk());
  const int reads = h.qrs.calls(Op::kGetSession) + h.qrs.calls(Op::kGetResults);
  CAPTURE(reads);
  CHECK(reads >= 115);  // cap 5 s over 600 s
  CHECK(reads <= 135);
}
