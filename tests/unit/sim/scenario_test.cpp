#include "sim/scenario.h"

#include <catch2/catch.hpp>

#include "core/guid.h"
#include "sim_test_util.h"

namespace qlik_reload::sim {
namespace {

using testing::scenarioFrom;

TEST_CASE("a minimal task gets the documented defaults", "[scenario]") {
  Scenario scenario = scenarioFrom(R"({"tasks":[{"id":"7F3C0000-1111-4222-8333-444455556666","name":"Reload Sales"}]})");
  REQUIRE(scenario.tasks.size() == 1);
  const TaskSpec& task = scenario.tasks[0];
  CHECK(task.id == "7f3c0000-1111-4222-8333-444455556666");
  CHECK(task.name == "Reload Sales");
  CHECK(task.enabled);
  CHECK(isGuid(task.appId));
  CHECK(task.appId != task.id);
  CHECK(task.appName == "Reload Sales");
  REQUIRE(task.attempts.size() == 1);
  CHECK(task.attempts[0].outcome == Outcome::kSuccess);
  CHECK(task.attempts[0].queueMs == 200);
  CHECK(task.attempts[0].runMs == 1500);
  CHECK(task.maxRetries() == 0);
  CHECK(task.retryDelayMs == 200);
  CHECK(task.abortMs == 300);
  CHECK(task.logDelayMs == 300);
  CHECK_FALSE(task.scriptLog.has_value());
  CHECK(task.node == "qlikserver1");
  CHECK(task.startReply == StartReplyShape::kValue);
  CHECK(scenario.maxConcurrent == 0);
  CHECK_FALSE(scenario.legacyScriptlogOnly);
  CHECK(scenario.deniedUsers.empty());
  CHECK(scenario.faults.empty());
}

TEST_CASE("every scenario key is read", "[scenario]") {
  Scenario scenario = scenarioFrom(R"({
    "tasks": [{"id": "7f3c0000-1111-4222-8333-444455556666", "name": "Reload Finance", "enabled": false,
               "app_id": "116dbfae-7fb9-4983-8e23-5ccd8c508722", "app_name": "Finance",
               "queue_ms": 10, "run_ms": 20, "outcome": "fail", "retry_delay_ms": 30, "abort_ms": 40,
               "log_delay_ms": 50, "script_log": "a\nb", "node": "node2", "start_reply": "bare",
               "attempts": [{"outcome": "error", "run_ms": 5}, {"queue_ms": 7, "script_log": "last"}]}],
    "denied_users": ["INTERNAL\\someone"], "max_concurrent": 3, "legacy_scriptlog_only": true, "seed": 42,
    "faults": [{"route": "/qrs/task/*/start/synchronous", "method": "post", "count": 2, "action": "status:503",
                "retry_after_s": 5}]
  })");
  const TaskSpec& task = scenario.tasks.at(0);
  CHECK_FALSE(task.enabled);
  CHECK(task.appId == "116dbfae-7fb9-4983-8e23-5ccd8c508722");
  CHECK(task.appName == "Finance");
  REQUIRE(task.attempts.size() == 2);
  CHECK(task.attempts[0].outcome == Outcome::kError);
  CHECK(task.attempts[0].runMs == 5);
  CHECK(task.attempts[0].queueMs == 10);
  CHECK(task.attempts[1].outcome == Outcome::kFail);  // the task's outcome is the default
  CHECK(task.attempts[1].runMs == 20);
  CHECK(task.attempts[1].queueMs == 7);
  CHECK(task.attempts[1].scriptLog == std::optional<std::string>("last"));
  CHECK(task.maxRetries() == 1);
  CHECK(task.retryDelayMs == 30);
  CHECK(task.abortMs == 40);
  CHECK(task.logDelayMs == 50);
  CHECK(task.scriptLog == std::optional<std::string>("a\nb"));
  CHECK(task.node == "node2");
  CHECK(task.startReply == StartReplyShape::kBare);
  CHECK(scenario.deniedUsers == std::vector<std::string>{"INTERNAL\\someone"});
  CHECK(scenario.maxConcurrent == 3);
  CHECK(scenario.legacyScriptlogOnly);
  CHECK(scenario.seed == 42);
  REQUIRE(scenario.faults.size() == 1);
  CHECK(scenario.faults[0].method == "POST");
  CHECK(scenario.faults[0].count == std::optional<std::int64_t>(2));
  CHECK(scenario.faults[0].action == FaultAction::kStatus);
  CHECK(scenario.faults[0].status == 503);
  CHECK(scenario.faults[0].retryAfterSeconds == std::optional<std::int64_t>(5));
}

TEST_CASE("scenario errors name the offending key", "[scenario]") {
  const std::string kTask = R"("id":"7f3c0000-1111-4222-8333-444455556666","name":"T")";
  auto [json, expected] = GENERATE_COPY(table<std::string, std::string>({
      {"not json", "scenario: invalid JSON"},
      {"[]", "scenario: expected a JSON object at the top"},
      {R"({"bogus":1})", "bogus: unknown key"},
      {R"({"tasks":{}})", "tasks: expected an array of task objects"},
      {R"({"tasks":[1]})", "tasks[0]: expected an object"},
      {R"({"tasks":[{"name":"x"}]})", "tasks[0].id: missing (required)"},
      {R"({"tasks":[{"id":"nope","name":"x"}]})", "tasks[0].id: expected a GUID, got 'nope'"},
      {R"({"tasks":[{"id":"7f3c0000-1111-4222-8333-444455556666"}]})", "tasks[0].name: missing (required)"},
      {R"({"tasks":[{"id":"7f3c0000-1111-4222-8333-444455556666","name":""}]})", "tasks[0].name: must not be empty"},
      {"{\"tasks\":[{" + kTask + R"(,"run_ms":"fast"}]})", "tasks[0].run_ms: expected an integer"},
      {"{\"tasks\":[{" + kTask + R"(,"run_ms":-1}]})", "tasks[0].run_ms: expected a non-negative integer"},
      {"{\"tasks\":[{" + kTask + R"(,"run_ms":1.5}]})", "tasks[0].run_ms: expected an integer"},
      {"{\"tasks\":[{" + kTask + R"(,"enabled":"yes"}]})", "tasks[0].enabled: expected true or false"},
      {"{\"tasks\":[{" + kTask + R"(,"outcome":"boom"}]})", "tasks[0].outcome: unknown outcome 'boom'"},
      {"{\"tasks\":[{" + kTask + R"(,"colour":"red"}]})", "tasks[0].colour: unknown key"},
      {"{\"tasks\":[{" + kTask + R"(,"app_id":"x"}]})", "tasks[0].app_id: expected a GUID"},
      {"{\"tasks\":[{" + kTask + R"(,"script_log":7}]})", "tasks[0].script_log: expected a string"},
      {"{\"tasks\":[{" + kTask + R"(,"start_reply":"json"}]})", "tasks[0].start_reply: expected \"value\" or \"bare\""},
      {"{\"tasks\":[{" + kTask + R"(,"attempts":{}}]})", "tasks[0].attempts: expected an array of attempts"},
      {"{\"tasks\":[{" + kTask + R"(,"attempts":[]}]})", "tasks[0].attempts: must hold at least one attempt"},
      {"{\"tasks\":[{" + kTask + R"(,"attempts":[{"outcome":"success"},{"outcome":"fail"}]}]})",
       "tasks[0].attempts[0].outcome: only the last attempt may end in 'success'"},
      {"{\"tasks\":[{" + kTask + R"(,"attempts":[{"run":5}]}]})", "tasks[0].attempts[0].run: unknown key"},
      {"{\"tasks\":[{" + kTask + R"(,"attempts":[{"run_ms":"x"}]}]})", "tasks[0].attempts[0].run_ms: expected an integer"},
      {"{\"tasks\":[{" + kTask + "},{" + kTask + "}]}", "tasks[1].id: duplicate task id"},
      {R"({"denied_users":"x"})", "denied_users: expected an array of strings"},
      {R"({"denied_users":[1]})", "denied_users: expected an array of strings (item 0)"},
      {R"({"max_concurrent":true})", "max_concurrent: expected an integer"},
      {R"({"legacy_scriptlog_only":1})", "legacy_scriptlog_only: expected true or false"},
      {R"({"faults":{}})", "faults: expected an array of fault rules"},
      {R"({"faults":[{"action":"explode"}]})", "faults[0].action: unknown action 'explode'"},
      {R"({"faults":[{"action":"status:200"}]})", "faults[0].action: unknown action 'status:200'"},
      {R"({"faults":[{"action":"delay:x"}]})", "faults[0].action: unknown action 'delay:x'"},
      {R"({"faults":[{"action":"reset_before:5"}]})", "faults[0].action: unknown action 'reset_before:5'"},
      {R"({"faults":[{"action":"status:503","probability":2}]})", "faults[0].probability: expected a number from 0 to 1"},
      {R"({"faults":[{"action":"status:503","count":-1}]})", "faults[0].count: expected a non-negative integer"},
      {R"({"faults":[{"route":"/x"}]})", "faults[0].action: missing (required)"},
      {R"({"faults":[{"action":"tls_fail","when":"now"}]})", "faults[0].when: unknown key"},
  }));
  CAPTURE(json);
  Result<Scenario> scenario = parseScenario(json);
  REQUIRE_FALSE(scenario.isOk());
  CHECK(scenario.status().code() == ErrorCode::kConfiguration);
  CHECK_THAT(scenario.status().message(), Catch::StartsWith(expected));
}

TEST_CASE("a scenario file that cannot be read is a configuration error naming it", "[scenario]") {
  Result<Scenario> scenario = loadScenarioFile("/nonexistent/scenario.json");
  REQUIRE_FALSE(scenario.isOk());
  CHECK(scenario.status().code() == ErrorCode::kConfiguration);
  CHECK_THAT(scenario.status().message(), Catch::Contains("/nonexistent/scenario.json"));
}

TEST_CASE("the example demo scenario parses and has a success, a failure and a disabled task", "[scenario]") {
  Result<Scenario> scenario = loadScenarioFile(QLIK_SIM_SOURCE_DIR "/examples/scenarios/demo.json");
  INFO(scenario.status().toString());
  REQUIRE(scenario.isOk());
  bool success = false, failure = false, disabled = false;
  for (const TaskSpec& task : scenario->tasks) {
    if (!task.enabled) disabled = true;
    if (task.enabled && task.attempts.back().outcome == Outcome::kSuccess) success = true;
    if (task.enabled && task.attempts.back().outcome == Outcome::kFail) {
      failure = true;
      REQUIRE(task.scriptLog.has_value());
      CHECK_THAT(*task.scriptLog, Catch::Contains("error occurred"));
    }
  }
  CHECK(success);
  CHECK(failure);
  CHECK(disabled);
}

}  // namespace
}  // namespace qlik_reload::sim
