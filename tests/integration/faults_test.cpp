// The fault matrix: every fault qrs-sim can inject (fault_rule.h), at every
// place a reload meets QRS — the start, the status poll (the monitor's
// batched read of /qrs/executionresult/full), the script log, the stop —
// with the real CLI (`run --json`) through the real worker. Each row is
// checked against the simulator's own record:
//   * the outcome reported is the truth (the state, exit code and Qlik status
//     of the execution as qrs-sim ended it, or "nothing was started" when
//     qrs-sim started nothing);
//   * at most one start per run (exactly one when something started);
//   * the fault really hit (faults_applied), so a row cannot pass vacuously;
//   * waits back off (bounded poll counts) and the run ends within a bound.
// The worker runs with short timeouts (read 1.5 s) so the suite stays fast.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <Poco/JSON/Array.h>

#include "env.h"

using namespace qlik_reload::testing;
using namespace std::chrono_literals;

namespace {

// Tasks of the fault tests (added to the default scenario with POST /sim/tasks).
const std::string kFaultOk = "f0000001-0000-4000-8000-000000000001";      // succeeds after 1.2 s
const std::string kFaultFail = "f0000002-0000-4000-8000-000000000002";    // fails after 1 s, with a log
const std::string kFaultFlaky = "f0000003-0000-4000-8000-000000000003";   // fails, Qlik retries, succeeds
const std::string kFaultSkip = "f0000004-0000-4000-8000-000000000004";    // skipped by Qlik
const std::string kFaultSlow = "f0000005-0000-4000-8000-000000000005";    // runs 5 s
const std::string kFaultQuick = "f0000006-0000-4000-8000-000000000006";   // over in 200 ms
const std::string kFaultError = "f0000007-0000-4000-8000-000000000007";   // ends in Error

const char* kFaultTasks = R"([
  {"id": "f0000001-0000-4000-8000-000000000001", "name": "Fault OK", "queue_ms": 100, "run_ms": 1200,
   "outcome": "success"},
  {"id": "f0000002-0000-4000-8000-000000000002", "name": "Fault Fail", "queue_ms": 100, "run_ms": 1000,
   "outcome": "fail", "log_delay_ms": 200,
   "script_log": "Execution started.\nField 'Amount' not found\nExecution failed."},
  {"id": "f0000003-0000-4000-8000-000000000003", "name": "Fault Flaky", "queue_ms": 0, "retry_delay_ms": 200,
   "attempts": [{"outcome": "fail", "run_ms": 600}, {"outcome": "success", "run_ms": 600}]},
  {"id": "f0000004-0000-4000-8000-000000000004", "name": "Fault Skip", "queue_ms": 600, "run_ms": 300,
   "outcome": "skip"},
  {"id": "f0000005-0000-4000-8000-000000000005", "name": "Fault Slow", "queue_ms": 0, "run_ms": 5000,
   "outcome": "success"},
  {"id": "f0000006-0000-4000-8000-000000000006", "name": "Fault Quick", "queue_ms": 0, "run_ms": 200,
   "outcome": "success"},
  {"id": "f0000007-0000-4000-8000-000000000007", "name": "Fault Error", "queue_ms": 100, "run_ms": 1000,
   "outcome": "error", "log_delay_ms": 200}
])";

constexpr auto kRunBound = 25s;  // no row may take longer (the slowest fault adds ~6 s)

std::string str(const Poco::JSON::Object::Ptr& json, const std::string& key) {
  if (!json || !json->has(key) || json->isNull(key)) return "<null>";
  return json->get(key).convert<std::string>();
}

std::string errorMessage(const Poco::JSON::Object::Ptr& json) {
  if (!json || !json->has("error") || json->isNull("error")) return "<no error>";
  return json->getObject("error")->getValue<std::string>("message");
}

bool errorRetryable(const Poco::JSON::Object::Ptr& json) {
  if (!json || !json->has("error") || json->isNull("error")) return false;
  return json->getObject("error")->getValue<bool>("retryable");
}

// The reload state and `run` exit code a final TaskExecutionStatus stands for
// (README: exit codes; src/reload/state.cpp: the mapping).
struct Truth {
  std::string state;
  int exitCode;
};
Truth truthOf(int finalStatus) {
  switch (finalStatus) {
    case 6: return {"ABORTED", 1};
    case 7: return {"SUCCEEDED", 0};
    case 8:
    case 11:
    case 12: return {"FAILED", 1};
    case 9: return {"SKIPPED", 3};
    default: return {"<not final: " + std::to_string(finalStatus) + ">", -1};
  }
}

std::string toJson(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

EnvOptions faultEnv() {
  EnvOptions o;
  o.editWorkerConfig = [](Poco::JSON::Object::Ptr config) {
    auto site = config->getObject("sites")->getObject("default");
    Poco::JSON::Object::Ptr timeouts = new Poco::JSON::Object;
    timeouts->set("connect_ms", 1000);
    timeouts->set("read_ms", 1500);
    site->set("timeouts", timeouts);
    site->set("stop_wait_ms", 3000);
  };
  return o;
}

// After a "down" fault qrs-sim drops every connection, its /sim/ hooks
// too, until the window ends: waits (bounded) until it answers again.
void waitUntilSimAnswers(IntegrationEnv& env) {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  for (;;) {
    try {
      env.simRecord();
      return;
    } catch (const std::exception&) {
      if (std::chrono::steady_clock::now() > deadline) throw;
    }
    std::this_thread::sleep_for(50ms);
  }
}

int faultsApplied(IntegrationEnv& env) {
  return static_cast<int>(env.simRecord()->getArray("faults_applied")->size());
}

long requestsTo(IntegrationEnv& env, const std::string& route) {
  auto byRoute = env.simRecord()->getObject("requests")->getObject("by_route");
  return byRoute->has(route) ? byRoute->getValue<long>(route) : 0;
}

// What a row expects.
enum class Expect {
  // The run reports the simulator's final status of the one execution started.
  kTruth,
  // kTruth, and the start's answer was lost: the worker found the execution
  // that start created and followed it, saying so.
  kAttached,
  // Exit 75, retryable, "nothing was started", no start in the record; a
  // retry with the same idempotency key then starts exactly one reload.
  kNothingStarted,
  // Exit 75, retryable, no start; QRS could not even be asked whether the
  // start arrived, and the message says so instead of claiming anything.
  kUnknownRetryable,
};

// When the rules are installed.
enum class Arm {
  kBeforeRun,     // before the CLI starts
  kAfterStarted,  // once the CLI printed "started execution" (mid-wait)
};

struct Row {
  std::string name;
  std::string rules;  // POST /sim/faults body
  std::string task;
  Expect expect;
  Arm arm = Arm::kBeforeRun;
};

std::string describe(const Row& row) { return row.name + "\n  rules: " + row.rules + "\n  task: " + row.task; }

// Runs `run --json` with an idempotency key and checks the outcome against
// the record as the row expects.
void runRow(const Row& row) {
  CAPTURE(describe(row));
  IntegrationEnv env("fault", faultEnv());
  env.putSimTasks(kFaultTasks);
  if (row.arm == Arm::kBeforeRun) env.putSimFaults(row.rules);
  const std::string key = "matrix/" + row.name;
  const auto begin = std::chrono::steady_clock::now();
  auto cli = env.cliAsync({"run", "--task-id", row.task, "--idempotency-key", key, "--json"}, "run");
  if (row.arm == Arm::kAfterStarted) {
    REQUIRE(cli->waitForStderr("started execution", 30s));
    env.putSimFaults(row.rules);
  }
  const bool ended = cli->wait(kRunBound).has_value();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - begin);
  CliResult r = env.finish(*cli);
  waitUntilSimAnswers(env);
  auto record = env.simRecord();
  INFO(r.describe() << "\n--- record ---\n" << toJson(record) << "\n--- worker ---\n" << env.worker().stderrText());
  REQUIRE(ended);  // nothing hangs past its bound
  CAPTURE(took.count());
  REQUIRE(r.json);
  CHECK(faultsApplied(env) >= 1);  // the fault really hit

  const auto executions = env.simExecutionsOfTask(row.task);
  switch (row.expect) {
    case Expect::kTruth:
    case Expect::kAttached: {
      REQUIRE(executions.size() == 1);
      CHECK(env.realStarts(row.task) == 1);
      auto execution = executions.front();
      CHECK(str(r.json, "execution_id") == execution->getValue<std::string>("execution_id"));
      REQUIRE_FALSE(execution->isNull("final_status"));
      const int finalStatus = execution->getValue<int>("final_status");
      const Truth truth = truthOf(finalStatus);
      CHECK(str(r.json, "state") == truth.state);
      CHECK(r.exitCode == truth.exitCode);
      CHECK(str(r.json, "qlik_status_code") == std::to_string(finalStatus));
      CHECK(str(r.json, "attempts") != "<null>");
      CHECK(r.json->getArray("attempts")->size() == execution->getArray("attempts")->size());
      if (row.expect == Expect::kAttached) {
        CHECK_THAT(str(r.json, "message"), Catch::Contains("no second start was sent"));
      }
      break;
    }
    case Expect::kNothingStarted:
    case Expect::kUnknownRetryable: {
      CHECK(r.exitCode == 75);
      CHECK(executions.empty());
      CHECK(env.realStarts(row.task) == 0);
      CHECK(str(r.json, "execution_id") == "<null>");
      CHECK(errorRetryable(r.json));
      if (row.expect == Expect::kNothingStarted) {
        CHECK_THAT(errorMessage(r.json), Catch::Contains("nothing was started", Catch::CaseSensitive::No));
      } else {
        CHECK_THAT(errorMessage(r.json), Catch::Contains("could not be asked whether the task started"));
      }
      // The step is retried, as an orchestrator would: the same key starts
      // exactly one reload, and reports its truth.
      env.putSimFaults("[]");
      CliResult retry = env.cli({"run", "--task-id", row.task, "--idempotency-key", key, "--json"});
      INFO(retry.describe());
      const auto after = env.simExecutionsOfTask(row.task);
      REQUIRE(after.size() == 1);
      CHECK(env.realStarts(row.task) == 1);
      REQUIRE_FALSE(after.front()->isNull("final_status"));
      const Truth truth = truthOf(after.front()->getValue<int>("final_status"));
      CHECK(retry.exitCode == truth.exitCode);
      CHECK(str(retry.json, "state") == truth.state);
      CHECK(str(retry.json, "execution_id") == after.front()->getValue<std::string>("execution_id"));
      break;
    }
  }
  // Waits back off: even under faults a 1-5 s run makes few status polls
  // (a busy loop would make thousands).
  CHECK(requestsTo(env, "GET /qrs/executionresult/full") <= 80);
}

std::string rule(const std::string& route, const std::string& method, const std::string& action, int count,
                 const std::string& extra = "") {
  std::string text = R"({"route": ")" + route + R"(", "action": ")" + action + R"(", "count": )" +
                     std::to_string(count);
  if (!method.empty()) text += R"(, "method": ")" + method + R"(")";
  if (!extra.empty()) text += ", " + extra;
  return text + "}";
}

std::string rules(std::initializer_list<std::string> list) {
  std::string text = "[";
  for (const auto& r : list) text += (text.size() > 1 ? ", " : "") + r;
  return text + "]";
}

const std::string kStartRoute = "/qrs/task/*/start/synchronous";
const std::string kResultsRoute = "/qrs/executionresult/full";
const std::string kStopRoute = "/qrs/task/*/stop";

}  // namespace

// ---- The start: POST /qrs/task/{id}/start/synchronous

TEST_CASE("fault matrix: the start request, not processed by QRS", "[faults][start]") {
  auto row = GENERATE(from_range(std::vector<Row>{
      // Answered with an error and not processed: nothing started, retryable.
      {"start status 503", rules({rule(kStartRoute, "POST", "status:503", 1)}), kFaultOk, Expect::kNothingStarted},
      {"start status 500", rules({rule(kStartRoute, "POST", "status:500", 1)}), kFaultOk, Expect::kNothingStarted},
      {"start status 429", rules({rule(kStartRoute, "POST", "status:429", 1, R"("retry_after_s": 1)")}), kFaultOk,
       Expect::kNothingStarted},
      // The connection dropped before QRS processed the request.
      {"start reset_before", rules({rule(kStartRoute, "POST", "reset_before", 1)}), kFaultFail,
       Expect::kNothingStarted},
      // No TLS handshake on the start's connection.
      {"start tls_fail", rules({R"({"action": "tls_fail", "count": 1})"}), kFaultOk, Expect::kNothingStarted},
      // QRS down for 2 s from the start on: the check for a created execution
      // cannot be made either.
      {"start down", rules({rule(kStartRoute, "POST", "down:2000", 1)}), kFaultOk, Expect::kUnknownRetryable},
  }));
  runRow(row);
}

TEST_CASE("fault matrix: the start request, processed but its answer lost", "[faults][start]") {
  auto row = GENERATE(from_range(std::vector<Row>{
      // Processed, but no usable answer came back: ambiguous. The execution
      // the start created is found and followed; no second start.
      {"start reset_after", rules({rule(kStartRoute, "POST", "reset_after", 1)}), kFaultOk, Expect::kAttached},
      {"start reset_after, failing task", rules({rule(kStartRoute, "POST", "reset_after", 1)}), kFaultFail,
       Expect::kAttached},
      {"start delay beyond the read timeout", rules({rule(kStartRoute, "POST", "delay:5000", 1)}), kFaultSlow,
       Expect::kAttached},
      // The reload (200 ms) is over before the worker looks: found among the
      // finished results.
      {"start delay beyond the read timeout, reload already over",
       rules({rule(kStartRoute, "POST", "delay:5000", 1)}), kFaultQuick, Expect::kAttached},
      {"start truncated", rules({rule(kStartRoute, "POST", "truncated", 1)}), kFaultFlaky, Expect::kAttached},
      {"start malformed_json", rules({rule(kStartRoute, "POST", "malformed_json", 1)}), kFaultOk, Expect::kAttached},
  }));
  runRow(row);
}

TEST_CASE("When the look for a lost start's execution fails, a retry with the same key finds it, not starting again",
          "[faults][start]") {
  // The start is processed and its connection reset; the look for the
  // execution it created answers 503: the step fails with 75 and the key is
  // kept. The reload ends meanwhile; the retry with the same key looks again,
  // finds it and reports it.
  IntegrationEnv env("fault-lookup-fails", faultEnv());
  env.putSimTasks(kFaultTasks);
  env.putSimFaults(rules({rule(kStartRoute, "POST", "reset_after", 1),
                          rule("/qrs/executionsession/full", "GET", "status:503", 1)}));
  const std::string key = "matrix/lookup-fails";
  CliResult first = env.cli({"run", "--task-id", kFaultQuick, "--idempotency-key", key, "--json"});
  INFO(first.describe());
  CHECK(first.exitCode == 75);
  CHECK(errorRetryable(first.json));
  CHECK(faultsApplied(env) == 2);
  const auto executions = env.simExecutionsOfTask(kFaultQuick);
  REQUIRE(executions.size() == 1);
  const std::string executionId = executions.front()->getValue<std::string>("execution_id");
  // Bounded: the 200 ms reload ends.
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (env.simExecution(executionId)->isNull("final_status") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE_FALSE(env.simExecution(executionId)->isNull("final_status"));
  CliResult retry = env.cli({"run", "--task-id", kFaultQuick, "--idempotency-key", key, "--json"});
  INFO(retry.describe());
  CHECK(env.realStarts(kFaultQuick) == 1);
  CHECK(retry.exitCode == 0);
  CHECK(str(retry.json, "execution_id") == executionId);
  CHECK(str(retry.json, "state") == "SUCCEEDED");
}

// ---- Following: the monitor's status poll, one batched
// GET /qrs/executionresult/full?filter=ExecutionId eq ... per tick.

TEST_CASE("fault matrix: the status poll, error answers and resets", "[faults][poll]") {
  auto row = GENERATE(from_range(std::vector<Row>{
      {"poll status 503", rules({rule(kResultsRoute, "GET", "status:503", 3)}), kFaultOk, Expect::kTruth},
      {"poll status 500", rules({rule(kResultsRoute, "GET", "status:500", 2)}), kFaultError, Expect::kTruth},
      {"poll status 429 with Retry-After", rules({rule(kResultsRoute, "GET", "status:429", 2, R"("retry_after_s": 1)")}),
       kFaultFlaky, Expect::kTruth},
      {"poll reset_before", rules({rule(kResultsRoute, "GET", "reset_before", 3)}), kFaultFail, Expect::kTruth},
      {"poll reset_after", rules({rule(kResultsRoute, "GET", "reset_after", 3)}), kFaultSkip, Expect::kTruth},
      {"poll down", rules({rule(kResultsRoute, "GET", "down:1500", 1)}), kFaultOk, Expect::kTruth},
      // Mid-wait: the kept-alive connection is reset, and the next two new
      // connections fail before the TLS handshake; the worker recovers.
      {"poll tls_fail mid-wait",
       rules({rule(kResultsRoute, "GET", "reset_before", 1), R"({"action": "tls_fail", "count": 2})"}), kFaultSlow,
       Expect::kTruth, Arm::kAfterStarted},
      {"poll status 503 mid-wait, many times", rules({rule(kResultsRoute, "GET", "status:503", 8)}), kFaultSlow,
       Expect::kTruth, Arm::kAfterStarted},
  }));
  runRow(row);
}

TEST_CASE("fault matrix: the status poll, slow, broken and cut answers", "[faults][poll]") {
  auto row = GENERATE(from_range(std::vector<Row>{
      {"poll delay beyond the read timeout", rules({rule(kResultsRoute, "GET", "delay:5000", 1)}), kFaultOk,
       Expect::kTruth},
      {"poll delay beyond the read timeout, skipped reload", rules({rule(kResultsRoute, "GET", "delay:5000", 1)}),
       kFaultSkip, Expect::kTruth},
      {"poll malformed_json", rules({rule(kResultsRoute, "GET", "malformed_json", 3)}), kFaultFlaky, Expect::kTruth},
      {"poll malformed_json, failing reload", rules({rule(kResultsRoute, "GET", "malformed_json", 2)}), kFaultFail,
       Expect::kTruth},
      {"poll truncated", rules({rule(kResultsRoute, "GET", "truncated", 3)}), kFaultError, Expect::kTruth},
      {"poll truncated, Qlik retries", rules({rule(kResultsRoute, "GET", "truncated", 2)}), kFaultFlaky,
       Expect::kTruth},
      {"poll malformed_json mid-wait", rules({rule(kResultsRoute, "GET", "malformed_json", 3)}), kFaultSlow,
       Expect::kTruth, Arm::kAfterStarted},
  }));
  runRow(row);
}

// ---- The script log of a failed reload: ticket, then download.

TEST_CASE("fault matrix: the script log", "[faults][log]") {
  const std::string ticket = "/qrs/reloadtask/*/scriptlogfile";
  const std::string download = "/qrs/download/reloadtask/**";
  auto row = GENERATE_COPY(from_range(std::vector<Row>{
      {"log ticket status 503", rules({rule(ticket, "GET", "status:503", 2)}), kFaultFail, Expect::kTruth},
      {"log ticket reset_after", rules({rule(ticket, "GET", "reset_after", 1)}), kFaultFail, Expect::kTruth},
      {"log ticket malformed_json", rules({rule(ticket, "GET", "malformed_json", 1)}), kFaultError, Expect::kTruth},
      {"log download truncated", rules({rule(download, "GET", "truncated", 2)}), kFaultFail, Expect::kTruth},
      {"log download delay beyond the read timeout", rules({rule(download, "GET", "delay:5000", 1)}), kFaultFail,
       Expect::kTruth},
      {"log download down", rules({rule(download, "GET", "down:1000", 1)}), kFaultError, Expect::kTruth},
      // The log never comes: the outcome is still reported, and says why
      // there is no log.
      {"log ticket always 503", R"([{"route": ")" + ticket + R"(", "action": "status:503"}])", kFaultFail,
       Expect::kTruth},
  }));
  runRow(row);
}

TEST_CASE("A script log that never comes still gives the failure, saying the log is missing", "[faults][log]") {
  IntegrationEnv env("fault-nolog", faultEnv());
  env.putSimTasks(kFaultTasks);
  env.putSimFaults(R"([{"route": "/qrs/reloadtask/*/scriptlogfile", "action": "status:503"}])");
  CliResult r = env.cli({"run", "--task-id", kFaultFail, "--json"});
  INFO(r.describe());
  CHECK(r.exitCode == 1);
  CHECK(str(r.json, "state") == "FAILED");
  CHECK_THAT(str(r.json, "message"), Catch::Contains("Script log not available"));
  CHECK(requestsTo(env, "GET /qrs/reloadtask/{id}/scriptlogfile") == 4);  // logAttempts, then it gives up
}

// ---- The stop: POST /qrs/task/{id}/stop, sent at --timeout.
//
// The truth is the record: a stop that qrs-sim processed (a "stops" entry
// with had_session) must be reported as a stop (ABORTED: Qlik confirms it
// within abort_ms, well inside stop_wait_ms); a stop that never reached it
// must be reported as not delivered, with the reload still running. A stop
// that failed once is sent once more, so only a QRS that never takes it
// leaves the reload running.

namespace {

struct StopRow {
  std::string name;
  std::string rules;
  bool reachesQrs = true;  // a stop gets through (at the first send or once more)
};

void runStopRow(const StopRow& row) {
  CAPTURE(row.name, row.rules);
  IntegrationEnv env("fault-stop", faultEnv());
  env.putSimFaults(row.rules);
  const auto begin = std::chrono::steady_clock::now();
  auto cli = env.cliAsync({"run", "--task-id", kTaskLong, "--timeout", "1500ms", "--json"}, "run");
  const bool ended = cli->wait(kRunBound).has_value();
  CliResult r = env.finish(*cli);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - begin);
  waitUntilSimAnswers(env);
  auto record = env.simRecord();
  INFO(r.describe() << "\n--- record ---\n" << toJson(record) << "\n--- worker ---\n" << env.worker().stderrText());
  CAPTURE(took.count());
  REQUIRE(ended);
  REQUIRE(r.json);
  CHECK(faultsApplied(env) >= 1);
  CHECK(env.realStarts(kTaskLong) == 1);
  CHECK(r.exitCode == 124);
  CHECK(str(r.json, "timed_out") == "true");

  const auto executions = env.simExecutionsOfTask(kTaskLong);
  REQUIRE(executions.size() == 1);
  auto execution = executions.front();
  bool delivered = false;
  auto stops = record->getArray("stops");
  for (size_t i = 0; i < stops->size(); ++i) {
    delivered = delivered || stops->getObject(static_cast<unsigned>(i))->getValue<bool>("had_session");
  }
  CHECK(delivered == row.reachesQrs);
  if (delivered) {
    // Qlik stops it within abort_ms (300 ms) of the stop; stop_wait_ms is 3 s.
    CHECK(str(r.json, "state") == "ABORTED");
    CHECK_THAT(str(r.json, "message"), !Catch::Contains("could not be delivered"));
  } else {
    CHECK(execution->getValue<bool>("live"));
    CHECK(str(r.json, "state") == "RUNNING");
    CHECK_THAT(str(r.json, "message"), Catch::Contains("could not be delivered"));
    CHECK_THAT(str(r.json, "message"), Catch::Contains(execution->getValue<std::string>("execution_id")));
  }
}

}  // namespace

TEST_CASE("fault matrix: the stop at the timeout, failing once", "[faults][stop]") {
  // The first stop does not reach QRS; Qlik shows no sign of stopping, so the
  // worker sends it once more and confirms it: ABORTED.
  auto row = GENERATE(from_range(std::vector<StopRow>{
      {"stop status 503 once", rules({rule(kStopRoute, "POST", "status:503", 1)})},
      {"stop status 429 once", rules({rule(kStopRoute, "POST", "status:429", 1, R"("retry_after_s": 1)")})},
      {"stop reset_before once", rules({rule(kStopRoute, "POST", "reset_before", 1)})},
      {"stop down for 1 s", rules({rule(kStopRoute, "POST", "down:1000", 1)})},
  }));
  runStopRow(row);
}

TEST_CASE("fault matrix: the stop at the timeout, never reaching QRS", "[faults][stop]") {
  // Every stop fails: reported as not delivered, the reload still running.
  auto row = GENERATE(from_range(std::vector<StopRow>{
      {"stop always status 503", R"([{"route": "/qrs/task/*/stop", "method": "POST", "action": "status:503"}])", false},
      {"stop always reset_before", R"([{"route": "/qrs/task/*/stop", "method": "POST", "action": "reset_before"}])",
       false},
  }));
  runStopRow(row);
}

TEST_CASE("fault matrix: the stop at the timeout, processed by QRS", "[faults][stop]") {
  // The answer is lost or broken, or the polls after it fail: the stop is
  // confirmed by following the reload to Aborted.
  auto row = GENERATE(from_range(std::vector<StopRow>{
      {"stop reset_after", rules({rule(kStopRoute, "POST", "reset_after", 1)})},
      {"stop delay beyond the read timeout", rules({rule(kStopRoute, "POST", "delay:5000", 1)})},
      {"stop truncated", rules({rule(kStopRoute, "POST", "truncated", 1)})},
      {"stop malformed_json", rules({rule(kStopRoute, "POST", "malformed_json", 1)})},
      {"stop, then status polls fail", rules({rule(kResultsRoute, "GET", "status:503", 1000,
                                                  R"("probability": 0.5)")})},
  }));
  runStopRow(row);
}
