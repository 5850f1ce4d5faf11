#include <catch2/catch.hpp>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <thrift/TApplicationException.h>

#include <csignal>
#include <future>
#include <sstream>
#include <thread>

#include "fake_worker.h"
#include "manual_clock.h"
#include "session.h"

using namespace qlik_reload;
using namespace qlik_reload::cli;
using namespace qlik_reload::cli::testing;
using namespace std::chrono_literals;
using Poco::JSON::Object;
using State = rpc::ReloadState;

namespace {

FakeWorker::Step answer(State::type state, Duration takes = Duration(0)) {
  FakeWorker::Step step;
  step.takes = takes;
  step.status = makeStatus(state);
  return step;
}

FakeWorker::Step raising(std::function<void()> raise, Duration takes = Duration(0)) {
  FakeWorker::Step step;
  step.takes = takes;
  step.raise = std::move(raise);
  return step;
}

FakeWorker::Step transportFault(std::function<void()> during = nullptr) {
  FakeWorker::Step step = raising([] { throwTransportError(); });
  step.during = std::move(during);
  return step;
}

template <typename E>
std::function<void()> thrower(E exception) {
  return [exception] { throw exception; };
}

rpc::QlikUnavailable qlikUnavailable(bool retryable) {
  rpc::QlikUnavailable e;
  e.message = "QRS answered 503";
  e.retryable = retryable;
  return e;
}

Object::Ptr lastJsonLine(const std::string& text) {
  REQUIRE_FALSE(text.empty());
  std::string trimmed = text.substr(0, text.size() - 1);
  const size_t newline = trimmed.rfind('\n');
  CHECK(newline == std::string::npos);  // --json: exactly one line on stdout
  Poco::JSON::Parser parser;
  return parser.parse(trimmed.substr(newline == std::string::npos ? 0 : newline + 1)).extract<Object::Ptr>();
}

// One command against the fake worker, on the test's thread, in simulated time.
struct Harness {
  explicit Harness(Command command) {
    options.command = command;
    options.json = true;
    if (command == Command::kRun || command == Command::kStart) options.taskId = kTaskId;
    if (command == Command::kWait || command == Command::kStatus || command == Command::kCancel) {
      options.executionId = kExecutionId;
    }
    settings.reconnectBackoff.jitter = 0.0;  // an exact schedule
  }

  Report execute() {
    Output output(out, err, options.json, options.quiet, connector.address());
    CommandSession session(options, connector, clock, output, settings);
    std::optional<Report> report = session.execute();
    REQUIRE(report);
    output.finish(*report);
    return *report;
  }

  Object::Ptr json() { return lastJsonLine(out.str()); }
  Duration elapsed() const { return std::chrono::duration_cast<Duration>(manual.now() - origin); }

  qlik_reload::testing::ManualClock manual;
  Clock::TimePoint origin = manual.now();
  JumpingClock clock{manual};
  FakeWorker worker{manual};
  FakeConnector connector{worker, manual};
  CliOptions options;
  SessionSettings settings;
  std::ostringstream out;
  std::ostringstream err;
};

}  // namespace

TEST_CASE("run starts once, then long-polls the same execution until it succeeds", "[cli][run]") {
  Harness h(Command::kRun);
  h.worker.waitSteps = {answer(State::RUNNING, 1200ms), answer(State::SUCCEEDED, 2s)};
  Report report = h.execute();

  CHECK(report.exitCode() == 0);
  REQUIRE(h.worker.starts().size() == 1);
  CHECK(h.worker.starts()[0].taskId == kTaskId);
  CHECK(h.worker.starts()[0].site == "default");
  CHECK(h.worker.runReloadCalls() == 0);
  const auto waits = h.worker.waits();
  REQUIRE(waits.size() == 2);
  for (const auto& [ref, maxWaitMs] : waits) {
    CHECK(ref.executionId == kExecutionId);
    CHECK(ref.site == "default");
    CHECK(maxWaitMs == 30000);
  }
  CHECK(h.worker.cancels().empty());
  CHECK(h.connector.connects() == 1);
  // start: 60 s; each long poll: maxWaitMs + 15 s.
  CHECK(h.connector.receiveTimeouts() == std::vector<Duration>{60s, 45s, 45s});
  CHECK(h.elapsed() == 3200ms);

  const std::string err = h.err.str();
  CHECK_THAT(err, Catch::Contains("qlik-reload: started execution 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b of task "
                                  "'Sales reload' (7f3c0d2e-1b4a-4c5d-8e9f-0a1b2c3d4e5f) (QUEUED)"));
  CHECK_THAT(err, Catch::Contains("qlik-reload: RUNNING after 1.2s"));
  CHECK_THAT(err, Catch::Contains("qlik-reload: SUCCEEDED after 3.2s"));
  // Announced once, by the final report.
  CHECK(err.find("qlik-reload: SUCCEEDED") == err.rfind("qlik-reload: SUCCEEDED"));
  Object::Ptr json = h.json();
  CHECK(json->getValue<std::string>("state") == "SUCCEEDED");
  CHECK(json->getValue<std::string>("execution_id") == kExecutionId);
  CHECK(json->getValue<int>("exit_code") == 0);
  CHECK(json->isNull("error"));
}

TEST_CASE("run passes every request option to startReload", "[cli][run]") {
  Harness h(Command::kRun);
  h.options.taskId.reset();
  h.options.taskName = "Sales reload";
  h.options.site = "emea";
  h.options.idempotencyKey = "dag/run/1";
  h.options.labels = {{"dag", "sales"}};
  h.options.ifRunning = IfRunning::kFail;
  h.worker.waitSteps = {answer(State::SUCCEEDED)};
  CHECK(h.execute().exitCode() == 0);
  REQUIRE(h.worker.starts().size() == 1);
  const rpc::ReloadRequest request = h.worker.starts()[0];
  CHECK(request.site == "emea");
  CHECK_FALSE(request.__isset.taskId);
  CHECK(request.__isset.taskName);
  CHECK(request.taskName == "Sales reload");
  CHECK(request.__isset.idempotencyKey);
  CHECK(request.idempotencyKey == "dag/run/1");
  CHECK(request.__isset.labels);
  CHECK(request.labels.at("dag") == "sales");
  CHECK(request.__isset.ifRunning);
  CHECK(request.ifRunning == rpc::IfRunning::FAIL);
  CHECK_FALSE(request.__isset.timeoutMs);
}

TEST_CASE("run exits 1 on a failed reload and shows Qlik's message and the script log", "[cli][run]") {
  Harness h(Command::kRun);
  h.options.json = false;
  FakeWorker::Step failed = answer(State::FAILED, 5s);
  failed.status->message = "The reload failed.";
  failed.status->scriptLogTail = "Loading Sales\nField not found <Amount>\n";
  rpc::Attempt attempt;
  attempt.messages = {"Reload failed: Field not found <Amount>"};
  failed.status->attempts = {attempt};
  h.worker.waitSteps = {failed};
  Report report = h.execute();
  CHECK(report.exitCode() == 1);
  const std::string err = h.err.str();
  CHECK_THAT(err, Catch::Contains("qlik-reload: FAILED after 5s: The reload failed."));
  CHECK_THAT(err, Catch::Contains("  Qlik: Reload failed: Field not found <Amount>"));
  CHECK_THAT(err, Catch::Contains("    Field not found <Amount>"));
  CHECK(h.out.str() == "FAILED 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b: The reload failed.\n");
}

TEST_CASE("run exits 1 when the reload was aborted by someone else", "[cli][run]") {
  Harness h(Command::kRun);
  h.worker.waitSteps = {answer(State::ABORTED)};
  Report report = h.execute();
  CHECK(report.exitCode() == 1);
  CHECK_FALSE(report.timedOut);
  CHECK(h.worker.cancels().empty());
}

TEST_CASE("run exits 3 at once when Qlik did not start the reload", "[cli][run]") {
  auto state = GENERATE(State::NOT_STARTED, State::SKIPPED);
  Harness h(Command::kRun);
  FakeWorker::Step notStarted = answer(state);
  notStarted.status->message = "The task is already running and --if-running is fail.";
  h.worker.startSteps = {notStarted};
  Report report = h.execute();
  CHECK(report.exitCode() == 3);
  CHECK(h.worker.waits().empty());
  CHECK(h.json()->getValue<std::string>("message") == "The task is already running and --if-running is fail.");
}

TEST_CASE("run reports an execution that was already final when the start answered", "[cli][run]") {
  Harness h(Command::kRun);
  FakeWorker::Step done = answer(State::SUCCEEDED);
  done.status->attached = true;
  h.worker.startSteps = {done};
  CHECK(h.execute().exitCode() == 0);
  CHECK(h.worker.waits().empty());
  CHECK(h.json()->getValue<bool>("attached"));
}

TEST_CASE("run reconnects after a dropped connection and keeps waiting on the same execution", "[cli][run]") {
  Harness h(Command::kRun);
  h.worker.waitSteps = {answer(State::RUNNING, 1s),
                        transportFault([&] { h.connector.refuse(3); }),
                        answer(State::SUCCEEDED)};
  h.worker.waitSteps[1].takes = 2s;
  Report report = h.execute();

  CHECK(report.exitCode() == 0);
  CHECK(h.worker.starts().size() == 1);  // never a second start
  const auto waits = h.worker.waits();
  REQUIRE(waits.size() == 3);
  for (const auto& wait : waits) CHECK(wait.first.executionId == kExecutionId);
  CHECK(h.connector.connects() == 1 + 3 + 1);
  // 1 s + 2 s of calls, then backoff 250 + 500 + 1000 + 2000 ms before the
  // connect that works.
  CHECK(h.elapsed() == 1000ms + 2000ms + 3750ms);
  CHECK_THAT(h.err.str(), Catch::Contains("lost contact with the worker"));
  CHECK_THAT(h.err.str(), Catch::Contains("in contact with the worker again after 3.7s"));
}

TEST_CASE("A worker that answers at once is polled at most once a second", "[cli][run]") {
  Harness h(Command::kRun);
  h.worker.waitSteps = {answer(State::RUNNING), answer(State::RUNNING, 300ms), answer(State::RUNNING, 2s),
                        answer(State::SUCCEEDED)};
  CHECK(h.execute().exitCode() == 0);
  CHECK(h.worker.waits().size() == 4);
  CHECK(h.elapsed() == 1s + 1s + 2s);
}

TEST_CASE("run retries while Qlik is temporarily unavailable", "[cli][run]") {
  Harness h(Command::kRun);
  h.worker.waitSteps = {raising(thrower(qlikUnavailable(true))), raising(thrower(qlikUnavailable(true))),
                        answer(State::SUCCEEDED)};
  CHECK(h.execute().exitCode() == 0);
  CHECK(h.worker.starts().size() == 1);
  CHECK(h.worker.waits().size() == 3);
  CHECK(h.connector.connects() == 1);  // the connection itself was fine
  CHECK(h.elapsed() == 750ms);
}

TEST_CASE("run gives up with 75 when the worker stays away longer than the reconnect budget", "[cli][run]") {
  Harness h(Command::kRun);
  h.worker.waitSteps = {answer(State::RUNNING, 1s), transportFault([&] { h.connector.refuseAll(true); })};
  Report report = h.execute();

  CHECK(report.exitCode() == 75);
  CHECK(h.worker.starts().size() == 1);
  CHECK(h.worker.cancels().empty());
  CHECK(h.elapsed() == 1s + 10min);  // never sleeps past the budget
  Object::Ptr json = h.json();
  CHECK(json->getValue<std::string>("execution_id") == kExecutionId);
  CHECK(json->getValue<std::string>("state") == "RUNNING");
  Object::Ptr error = json->getObject("error");
  REQUIRE(error);
  CHECK(error->getValue<std::string>("type") == "WorkerUnreachable");
  CHECK(error->getValue<bool>("retryable"));
  const std::string message = error->getValue<std::string>("message");
  CHECK_THAT(message, Catch::Contains(kExecutionId));
  CHECK_THAT(message, Catch::Contains("may still be running"));
  CHECK_THAT(message, Catch::Contains("qlik-reload wait"));
}

TEST_CASE("A --reconnect-for of 0 gives up at the first lost connection", "[cli][run]") {
  Harness h(Command::kRun);
  h.options.reconnectFor = Duration(0);
  h.worker.waitSteps = {transportFault()};
  CHECK(h.execute().exitCode() == 75);
  CHECK(h.worker.waits().size() == 1);
  CHECK(h.elapsed() == 0ms);
}

TEST_CASE("The reconnect budget counts per outage, not in total", "[cli][run]") {
  Harness h(Command::kRun);
  // 80 refused connects: 250 ms doubling to 5 s, about 6.4 minutes per outage.
  h.worker.waitSteps = {transportFault([&] { h.connector.refuse(80); }),
                        answer(State::RUNNING),
                        transportFault([&] { h.connector.refuse(80); }),
                        answer(State::SUCCEEDED)};
  CHECK(h.execute().exitCode() == 0);
  CHECK(h.elapsed() > 10min);
  CHECK(h.worker.starts().size() == 1);
}

TEST_CASE("run stops the reload at --timeout and exits 124", "[cli][run][timeout]") {
  Harness h(Command::kRun);
  h.options.timeout = 70s;
  Report report = h.execute();  // the fake keeps the reload RUNNING

  CHECK(report.exitCode() == 124);
  const auto waits = h.worker.waits();
  REQUIRE(waits.size() == 3);
  CHECK(waits[0].second == 30000);
  CHECK(waits[1].second == 30000);
  CHECK(waits[2].second == 10000);  // never past the deadline
  REQUIRE(h.worker.cancels().size() == 1);
  CHECK(h.worker.cancels()[0].executionId == kExecutionId);
  CHECK(h.connector.receiveTimeouts().back() == 120s);
  CHECK(h.elapsed() == 70s);
  Object::Ptr json = h.json();
  CHECK(json->getValue<bool>("timed_out"));
  CHECK(json->getValue<std::string>("state") == "ABORTED");
  CHECK(json->isNull("error"));
  CHECK(json->getValue<std::string>("message") == "Timed out after 1m 10s; the reload was stopped in Qlik (ABORTED).");
}

TEST_CASE("The timeout counts from the start request, queued time included", "[cli][run][timeout]") {
  Harness h(Command::kRun);
  h.options.timeout = 60s;
  h.worker.startSteps = {answer(State::QUEUED, 20s)};
  CHECK(h.execute().exitCode() == 124);
  const auto waits = h.worker.waits();
  REQUIRE(waits.size() == 2);
  CHECK(waits[0].second == 30000);
  CHECK(waits[1].second == 10000);
}

TEST_CASE("With --no-stop-on-timeout the reload keeps running and nothing is cancelled", "[cli][run][timeout]") {
  Harness h(Command::kRun);
  h.options.timeout = 90s;
  h.options.stopOnTimeout = false;
  Report report = h.execute();
  CHECK(report.exitCode() == 124);
  CHECK(h.worker.cancels().empty());
  Object::Ptr json = h.json();
  CHECK(json->getValue<bool>("timed_out"));
  CHECK(json->getValue<std::string>("state") == "RUNNING");
  CHECK_THAT(json->getValue<std::string>("message"), Catch::Contains("keeps running"));
}

TEST_CASE("A stop at the timeout that Qlik has not confirmed says so", "[cli][run][timeout]") {
  Harness h(Command::kRun);
  h.options.timeout = 10s;
  h.worker.cancelSteps = {answer(State::STOPPING)};
  CHECK(h.execute().exitCode() == 124);
  CHECK_THAT(h.json()->getValue<std::string>("message"), Catch::Contains("not confirmed"));
}

TEST_CASE("A stop at the timeout that cannot be delivered still exits 124 and says so", "[cli][run][timeout]") {
  Harness h(Command::kRun);
  h.options.timeout = 10s;
  h.worker.cancelSteps = {transportFault(), transportFault()};
  CHECK(h.execute().exitCode() == 124);
  CHECK(h.worker.cancels().size() == 2);  // one fresh attempt after a broken connection
  Object::Ptr json = h.json();
  CHECK(json->getValue<bool>("timed_out"));
  CHECK(json->getObject("error")->getValue<std::string>("type") == "WorkerUnreachable");
  CHECK_THAT(json->getValue<std::string>("message"), Catch::Contains("could not be delivered"));
  CHECK_THAT(json->getValue<std::string>("message"), Catch::Contains("may still be running"));
}

TEST_CASE("A reload that finished just as the timeout passed reports its real outcome", "[cli][run][timeout]") {
  Harness h(Command::kRun);
  h.options.timeout = 10s;
  h.worker.cancelSteps = {answer(State::SUCCEEDED)};
  Report report = h.execute();
  CHECK(report.exitCode() == 0);
  CHECK_FALSE(h.json()->getValue<bool>("timed_out"));
}

TEST_CASE("A failed start maps the worker's exception to its exit code", "[cli][run][errors]") {
  auto [raise, code, type] = GENERATE(table<std::function<void()>, int, std::string>({
      {thrower(rpc::InvalidRequest()), 64, "InvalidRequest"},
      {thrower(rpc::UnknownSite()), 64, "UnknownSite"},
      {thrower(qlikUnavailable(true)), 75, "QlikUnavailable"},
      {thrower(qlikUnavailable(false)), 1, "QlikUnavailable"},
      {thrower(rpc::AccessDenied()), 77, "AccessDenied"},
      {thrower(rpc::ConfigurationError()), 78, "ConfigurationError"},
      {[] { throwTransportError(); }, 75, "WorkerUnreachable"},
      {thrower(apache::thrift::TApplicationException("Internal error processing startReload")), 75,
       "WorkerUnreachable"},
  }));
  CAPTURE(type, code);
  auto command = GENERATE(Command::kRun, Command::kStart);
  Harness h(command);
  h.worker.startSteps = {raising(raise)};
  Report report = h.execute();
  CHECK(report.exitCode() == code);
  CHECK(h.worker.waits().empty());
  Object::Ptr json = h.json();
  CHECK(json->isNull("execution_id"));
  CHECK(json->getObject("error")->getValue<std::string>("type") == type);
  CHECK(json->getValue<int>("exit_code") == code);
}

TEST_CASE("An unreachable worker at the start says nothing was started and retry is safe", "[cli][run][errors]") {
  Harness h(Command::kRun);
  h.options.idempotencyKey = "dag/run/1";
  h.connector.refuseAll(true);
  CHECK(h.execute().exitCode() == 75);
  CHECK(h.worker.starts().empty());
  const std::string message = h.json()->getObject("error")->getValue<std::string>("message");
  CHECK_THAT(message, Catch::Contains("nothing was confirmed started"));
  CHECK_THAT(message, Catch::Contains("same --idempotency-key"));
}

TEST_CASE("A retryable QlikUnavailable at the start says a retry is safe", "[cli][run][errors]") {
  Harness h(Command::kRun);
  h.options.idempotencyKey = "k";
  h.worker.startSteps = {raising(thrower(qlikUnavailable(true)))};
  CHECK(h.execute().exitCode() == 75);
  CHECK(h.json()->getObject("error")->getValue<std::string>("message") ==
        "QRS answered 503. Nothing was started; safe to retry with the same --idempotency-key.");

  Harness worded(Command::kStart);
  rpc::QlikUnavailable e = qlikUnavailable(true);
  e.message = "QRS did not answer. Safe to retry.";
  worded.worker.startSteps = {raising(thrower(e))};
  CHECK(worded.execute().exitCode() == 75);
  CHECK(worded.json()->getObject("error")->getValue<std::string>("message") == e.message);
}

TEST_CASE("Errors while following keep the execution id and the last state", "[cli][run][errors]") {
  auto [raise, code, type] = GENERATE(table<std::function<void()>, int, std::string>({
      {thrower(rpc::UnknownExecution()), 64, "UnknownExecution"},
      {thrower(rpc::AccessDenied()), 77, "AccessDenied"},
      {thrower(rpc::ConfigurationError()), 78, "ConfigurationError"},
      {thrower(qlikUnavailable(false)), 1, "QlikUnavailable"},
  }));
  CAPTURE(type);
  Harness h(Command::kRun);
  h.worker.waitSteps = {answer(State::RUNNING), raising(raise)};
  CHECK(h.execute().exitCode() == code);
  CHECK(h.worker.waits().size() == 2);  // not retried
  Object::Ptr json = h.json();
  CHECK(json->getValue<std::string>("execution_id") == kExecutionId);
  CHECK(json->getValue<std::string>("state") == "RUNNING");
  CHECK(json->getObject("error")->getValue<std::string>("type") == type);
}

TEST_CASE("wait follows an execution, reconnects, and never cancels", "[cli][wait]") {
  Harness h(Command::kWait);
  h.worker.waitSteps = {answer(State::RUNNING, 1s), transportFault(), answer(State::FAILED)};
  CHECK(h.execute().exitCode() == 1);
  CHECK(h.worker.starts().empty());
  CHECK(h.worker.waits().size() == 3);
  CHECK(h.worker.cancels().empty());
}

TEST_CASE("wait exits 124 at its timeout and leaves the reload running", "[cli][wait]") {
  Harness h(Command::kWait);
  h.options.timeout = 45s;
  CHECK(h.execute().exitCode() == 124);
  CHECK(h.worker.cancels().empty());
  CHECK(h.elapsed() == 45s);
  CHECK_THAT(h.json()->getValue<std::string>("message"), Catch::Contains("keeps running"));
}

TEST_CASE("wait exits 75 at once when the worker cannot be reached at all", "[cli][wait]") {
  Harness h(Command::kWait);
  h.connector.refuseAll(true);
  CHECK(h.execute().exitCode() == 75);
  CHECK(h.connector.connects() == 1);
  CHECK(h.elapsed() == 0ms);
}

TEST_CASE("wait maps an unknown execution to 64", "[cli][wait]") {
  Harness h(Command::kWait);
  h.worker.waitSteps = {raising(thrower(rpc::UnknownExecution()))};
  CHECK(h.execute().exitCode() == 64);
}

TEST_CASE("status reports the current state; only final failures are non-zero", "[cli][status]") {
  auto [state, code] = GENERATE(table<State::type, int>({{State::QUEUED, 0},
                                                         {State::RUNNING, 0},
                                                         {State::STOPPING, 0},
                                                         {State::SUCCEEDED, 0},
                                                         {State::FAILED, 1},
                                                         {State::SKIPPED, 3}}));
  CAPTURE(state);
  Harness h(Command::kStatus);
  h.options.site = "emea";
  h.worker.getSteps = {answer(state)};
  CHECK(h.execute().exitCode() == code);
  REQUIRE(h.worker.gets().size() == 1);
  CHECK(h.worker.gets()[0].executionId == kExecutionId);
  CHECK(h.worker.gets()[0].site == "emea");
  CHECK(h.json()->getValue<std::string>("state") == stateName(state));
}

TEST_CASE("status of an unknown execution exits 64", "[cli][status]") {
  Harness h(Command::kStatus);
  h.worker.getSteps = {raising(thrower(rpc::UnknownExecution()))};
  CHECK(h.execute().exitCode() == 64);
}

TEST_CASE("cancel exits 0 whether the reload stopped, is stopping, or had finished", "[cli][cancel]") {
  auto [state, words] = GENERATE(table<State::type, std::string>({
      {State::ABORTED, "The reload was stopped in Qlik (ABORTED)."},
      {State::STOPPING, "not confirmed it yet (STOPPING)"},
      {State::SUCCEEDED, "already finished (SUCCEEDED)"},
      {State::FAILED, "already finished (FAILED)"},
  }));
  CAPTURE(state);
  Harness h(Command::kCancel);
  FakeWorker::Step stopped = answer(state);
  stopped.status->message = "";  // the CLI's own words when the worker gives none
  h.worker.cancelSteps = {stopped};
  CHECK(h.execute().exitCode() == 0);
  CHECK(h.worker.cancels().size() == 1);
  CHECK(h.connector.receiveTimeouts() == std::vector<Duration>{120s});
  CHECK_THAT(h.json()->getValue<std::string>("message"), Catch::Contains(words));
}

TEST_CASE("cancel passes on the worker's own sentence about the stop", "[cli][cancel]") {
  Harness h(Command::kCancel);
  FakeWorker::Step stopping = answer(State::STOPPING);
  stopping.status->message = "Stop requested in Qlik. Qlik has not confirmed the stop within 10s (status Aborting).";
  h.worker.cancelSteps = {stopping};
  CHECK(h.execute().exitCode() == 0);
  CHECK(h.json()->getValue<std::string>("message") == stopping.status->message);
}

TEST_CASE("cancel exits 75 when the stop could not be delivered", "[cli][cancel]") {
  auto raise = GENERATE(thrower(qlikUnavailable(false)), thrower(qlikUnavailable(true)),
                        std::function<void()>([] { throwTransportError(); }));
  Harness h(Command::kCancel);
  h.worker.cancelSteps = {raising(raise)};
  CHECK(h.execute().exitCode() == 75);
  Object::Ptr error = h.json()->getObject("error");
  CHECK(error->getValue<bool>("retryable"));
  CHECK_THAT(error->getValue<std::string>("message"), Catch::Contains("could not be delivered"));
}

TEST_CASE("start returns at once with the execution id", "[cli][start]") {
  Harness h(Command::kStart);
  Report report = h.execute();
  CHECK(report.exitCode() == 0);
  CHECK(h.worker.waits().empty());
  Object::Ptr json = h.json();
  CHECK(json->getValue<std::string>("execution_id") == kExecutionId);
  CHECK(json->getValue<std::string>("state") == "QUEUED");

  Harness notStarted(Command::kStart);
  notStarted.worker.startSteps = {answer(State::NOT_STARTED, Duration(0))};
  notStarted.worker.startSteps[0].status->executionId = "";
  CHECK(notStarted.execute().exitCode() == 3);
  CHECK(notStarted.json()->isNull("execution_id"));
}

TEST_CASE("ping prints the worker's version and sites", "[cli][ping]") {
  Harness h(Command::kPing);
  CHECK(h.execute().exitCode() == 0);
  Object::Ptr json = h.json();
  CHECK(json->getValue<std::string>("version") == "0.1.0");
  CHECK(json->getArray("sites")->size() == 2);

  Harness down(Command::kPing);
  down.connector.refuseAll(true);
  CHECK(down.execute().exitCode() == 75);
}

// --- interrupts -------------------------------------------------------------

TEST_CASE("A signal while following cancels on a new connection and exits 128+N", "[cli][run][signal]") {
  auto signalNumber = GENERATE(SIGINT, SIGTERM);
  Harness h(Command::kRun);
  std::promise<void> inPoll;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  FakeWorker::Step blocked = answer(State::RUNNING);
  blocked.during = [&] {
    inPoll.set_value();
    released.wait();  // the long poll the main thread is stuck in
  };
  h.worker.waitSteps = {answer(State::RUNNING), blocked};

  Output output(h.out, h.err, true, false, h.connector.address());
  CommandSession session(h.options, h.connector, h.clock, output, h.settings);
  std::optional<Report> fromMain;
  std::thread main([&] { fromMain = session.execute(); });
  REQUIRE(inPoll.get_future().wait_for(10s) == std::future_status::ready);

  std::optional<Report> fromSignal = session.interrupt(signalNumber);
  release.set_value();
  main.join();

  REQUIRE(fromSignal);
  CHECK_FALSE(fromMain);  // exactly one final report
  CHECK(fromSignal->exitCode() == 128 + signalNumber);
  REQUIRE(h.worker.cancels().size() == 1);
  CHECK(h.worker.cancels()[0].executionId == kExecutionId);
  CHECK(h.connector.connects() == 2);  // the cancel had its own connection
  CHECK_FALSE(session.interrupt(signalNumber));  // a second signal changes nothing
  CHECK(h.worker.cancels().size() == 1);

  output.finish(*fromSignal);
  Object::Ptr json = h.json();
  CHECK(json->getValue<int>("exit_code") == 128 + signalNumber);
  CHECK(json->getValue<std::string>("state") == "ABORTED");
  Object::Ptr error = json->getObject("error");
  CHECK(error->getValue<std::string>("type") == "Interrupted");
  CHECK_THAT(error->getValue<std::string>("message"), Catch::Contains("the reload was stopped in Qlik (ABORTED)"));
  CHECK(json->getValue<std::string>("message") == error->getValue<std::string>("message"));
}

TEST_CASE("A signal before the start answered cancels what it started, then exits 128+N", "[cli][run][signal]") {
  Harness h(Command::kRun);
  Output output(h.out, h.err, true, false, h.connector.address());
  CommandSession session(h.options, h.connector, h.clock, output, h.settings);
  FakeWorker::Step start = answer(State::QUEUED);
  start.during = [&] { CHECK_FALSE(session.interrupt(SIGINT)); };
  h.worker.startSteps = {start};

  std::optional<Report> report = session.execute();
  REQUIRE(report);
  CHECK(report->exitCode() == 130);
  CHECK(h.worker.waits().empty());
  REQUIRE(h.worker.cancels().size() == 1);
  CHECK(h.worker.cancels()[0].executionId == kExecutionId);
  CHECK_THAT(report->error->message, Catch::Contains("before the start was confirmed"));
}

TEST_CASE("A signal before a start that failed or started nothing exits 128+N without a cancel",
          "[cli][run][signal]") {
  auto outcome = GENERATE(0, 1);
  Harness h(Command::kRun);
  Output output(h.out, h.err, true, false, h.connector.address());
  CommandSession session(h.options, h.connector, h.clock, output, h.settings);
  FakeWorker::Step start = outcome == 0 ? transportFault() : answer(State::NOT_STARTED);
  start.during = [&] { CHECK_FALSE(session.interrupt(SIGTERM)); };
  h.worker.startSteps = {start};
  std::optional<Report> report = session.execute();
  REQUIRE(report);
  CHECK(report->exitCode() == 143);
  CHECK(h.worker.cancels().empty());
}

TEST_CASE("A signal wakes a run sleeping between reconnects; 128+N even when the stop fails",
          "[cli][run][signal]") {
  Harness h(Command::kRun);
  h.worker.waitSteps = {answer(State::RUNNING, 1s), transportFault([&] { h.connector.refuseAll(true); })};
  Output output(h.out, h.err, true, false, h.connector.address());
  // The real manual clock: the run thread really sleeps on it.
  CommandSession session(h.options, h.connector, h.manual, output, h.settings);
  std::optional<Report> fromMain;
  std::thread main([&] { fromMain = session.execute(); });
  REQUIRE(h.manual.waitForSleepers(1));

  std::optional<Report> fromSignal = session.interrupt(SIGINT);
  main.join();  // woken without any time passing
  REQUIRE(fromSignal);
  CHECK_FALSE(fromMain);
  CHECK(fromSignal->exitCode() == 130);
  CHECK(h.worker.cancels().empty());  // the worker was unreachable
  CHECK_THAT(fromSignal->error->message, Catch::Contains("could not be delivered"));
  CHECK(h.elapsed() == 1s);  // the first long poll; the sleep was cut short
}

TEST_CASE("Signals after the end of run, and during other commands, do nothing", "[cli][signal]") {
  Harness h(Command::kRun);
  h.worker.waitSteps = {answer(State::SUCCEEDED)};
  Output output(h.out, h.err, true, false, h.connector.address());
  CommandSession session(h.options, h.connector, h.clock, output, h.settings);
  REQUIRE(session.execute());
  CHECK_FALSE(session.interrupt(SIGTERM));

  Harness w(Command::kWait);
  CommandSession waitSession(w.options, w.connector, w.clock, output, w.settings);
  CHECK_FALSE(waitSession.interrupt(SIGTERM));
  CHECK(w.worker.cancels().empty());
}
