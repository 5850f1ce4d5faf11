// Several workers, one state: two real workers on one qrs-sim share a
// journal in a real PostgreSQL server (the "postgres" CTest fixture), as
// behind a TCP load balancer. A key used on one worker and retried on the
// other starts one reload; either worker answers for any execution; when a
// worker dies mid-run, the other follows its reload to the end. Checked
// against the simulator's record and the shared journal (read with the
// product's journal code).
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include <Poco/JSON/Array.h>

#include "env.h"
#include "reload/journal.h"
#include "test_postgres.h"

using namespace qlik_reload::testing;
using namespace std::chrono_literals;

namespace {

const std::string kSharedOk = "f0000001-0000-4000-8000-000000000001";    // succeeds after 2 s
const std::string kSharedFail = "f0000002-0000-4000-8000-000000000002";  // fails after 2 s

const char* kSharedTasks = R"([
  {"id": "f0000001-0000-4000-8000-000000000001", "name": "Shared OK", "queue_ms": 200, "run_ms": 2000,
   "outcome": "success"},
  {"id": "f0000002-0000-4000-8000-000000000002", "name": "Shared Fail", "queue_ms": 200, "run_ms": 2000,
   "outcome": "fail", "log_delay_ms": 100}
])";

std::string str(const Poco::JSON::Object::Ptr& json, const std::string& key) {
  if (!json || !json->has(key) || json->isNull(key)) return "<null>";
  return json->get(key).convert<std::string>();
}

std::string stateOf(int finalStatus) {
  switch (finalStatus) {
    case 6: return "ABORTED";
    case 7: return "SUCCEEDED";
    case 8:
    case 11:
    case 12: return "FAILED";
    case 9: return "SKIPPED";
    default: return "<not final>";
  }
}

// The journal both workers use: a schema of its own on the test server.
struct SharedJournal {
  TestPostgres server;
  std::string connection;  // without the password

  // The "state" object of a worker's configuration, and its name.
  std::function<void(Poco::JSON::Object::Ptr)> workerConfig(const std::string& workerId) const {
    return [this, workerId](Poco::JSON::Object::Ptr config) {
      Poco::JSON::Object::Ptr state = new Poco::JSON::Object;
      state->set("postgresql", connection);
      state->set("password_file", server.passwordFile());
      config->set("state", state);
      config->set("worker_id", workerId);
    };
  }

  std::vector<qlik_reload::JournalEntry> entries() const {
    auto journal = qlik_reload::openPostgresJournal(server.withPassword(connection));
    REQUIRE(journal.isOk());
    auto all = journal.value()->all("default");
    REQUIRE(all.isOk());
    return all.value();
  }

  // A worker records an outcome when its monitor sees it, which may be a
  // moment after a caller got the answer: polls (bounded) until every entry
  // is terminal.
  std::vector<qlik_reload::JournalEntry> terminalEntries() const {
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    std::vector<qlik_reload::JournalEntry> found = entries();
    while (std::chrono::steady_clock::now() < deadline &&
           (found.empty() || !std::all_of(found.begin(), found.end(), [](const auto& e) { return e.terminal; }))) {
      std::this_thread::sleep_for(50ms);
      found = entries();
    }
    return found;
  }
};

std::optional<SharedJournal> sharedJournal() {
  auto server = TestPostgres::find();
  if (!server) return std::nullopt;
  return SharedJournal{*server, server->freshSchema()};
}

EnvOptions firstWorker(const SharedJournal& journal) {
  EnvOptions options;
  options.editWorkerConfig = journal.workerConfig("worker-1");
  return options;
}

std::string describe(const std::vector<qlik_reload::JournalEntry>& entries) {
  std::string text;
  for (const auto& e : entries) {
    text += "  [" + e.state + "] execution " + e.executionId + " key '" + e.idempotencyKey + "' owner " + e.owner +
            " terminal " + (e.terminal ? "yes" : "no") + ": " + e.message + "\n";
  }
  return text;
}

}  // namespace

TEST_CASE("Two workers, one PostgreSQL journal: a key started on one and retried on the other starts one reload",
          "[postgresql][shared]") {
  auto [task, expectedExit, tag] = GENERATE(table<std::string, int, const char*>({
      {kSharedOk, 0, "ok"},
      {kSharedFail, 1, "fail"},
  }));
  auto journal = sharedJournal();
  if (!journal) {
    WARN("skipped: no PostgreSQL server installed and QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1");
    return;
  }
  IntegrationEnv env(std::string("shared-key-") + tag, firstWorker(*journal));
  env.putSimTasks(kSharedTasks);
  auto& second = env.startExtraWorker("second-worker", journal->workerConfig("worker-2"));
  const std::string key = std::string("shared/key/") + tag;

  CliResult started = env.cli({"start", "--task-id", task, "--idempotency-key", key, "--json"});
  INFO(started.describe());
  REQUIRE(started.exitCode == 0);
  const std::string executionId = str(started.json, "execution_id");

  // The pipeline step is retried, and the load balancer sends it to the other worker.
  CliResult run = env.cli({"run", "--task-id", task, "--idempotency-key", key, "--json"},
                          {{"QLIK_RELOAD_WORKER", second.address()}});
  INFO(run.describe() << "\n--- second worker ---\n" << second.process->stderrText());
  CHECK(run.exitCode == expectedExit);
  CHECK(str(run.json, "execution_id") == executionId);
  CHECK_THAT(str(run.json, "message"), Catch::Contains("no second reload was started"));
  auto truth = env.simExecution(executionId);
  REQUIRE(truth);
  REQUIRE_FALSE(truth->isNull("final_status"));
  CHECK(str(run.json, "state") == stateOf(truth->getValue<int>("final_status")));
  CHECK(env.realStarts(task) == 1);

  // Once more on each worker, now that it has finished: still the one execution.
  for (const std::string& address : {env.workerAddress(), second.address()}) {
    CliResult again = env.cli({"run", "--task-id", task, "--idempotency-key", key, "--json"},
                              {{"QLIK_RELOAD_WORKER", address}});
    INFO(again.describe());
    CHECK(again.exitCode == expectedExit);
    CHECK(str(again.json, "execution_id") == executionId);
  }
  CHECK(env.realStarts(task) == 1);

  auto entries = journal->terminalEntries();
  INFO("journal:\n" << describe(entries));
  REQUIRE(entries.size() == 1);
  CHECK(entries.front().executionId == executionId);
  CHECK(entries.front().idempotencyKey == key);
  CHECK(entries.front().owner == "worker-1");
  CHECK(entries.front().state == stateOf(truth->getValue<int>("final_status")));

  // The database password reaches no log.
  CHECK_THAT(env.worker().stderrText(), !Catch::Contains(journal->server.password()));
  CHECK_THAT(second.process->stderrText(), !Catch::Contains(journal->server.password()));
  CHECK_THAT(second.process->stderrText(), Catch::Contains("journal: PostgreSQL (host=127.0.0.1"));
}

TEST_CASE("Two workers, one PostgreSQL journal: either worker answers status and wait for the other's execution",
          "[postgresql][shared]") {
  auto journal = sharedJournal();
  if (!journal) {
    WARN("skipped: no PostgreSQL server installed and QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1");
    return;
  }
  IntegrationEnv env("shared-status", firstWorker(*journal));
  env.putSimTasks(kSharedTasks);
  auto& second = env.startExtraWorker("second-worker", journal->workerConfig("worker-2"));
  const std::map<std::string, std::string> onSecond = {{"QLIK_RELOAD_WORKER", second.address()}};

  // Started without a key on the first worker.
  CliResult started = env.cli({"start", "--task-id", kSharedFail, "--json"});
  INFO(started.describe());
  REQUIRE(started.exitCode == 0);
  const std::string executionId = str(started.json, "execution_id");

  CliResult status = env.cli({"status", executionId, "--json"}, onSecond);
  INFO(status.describe() << "\n--- second worker ---\n" << second.process->stderrText());
  CHECK(status.exitCode == 0);
  CHECK(str(status.json, "execution_id") == executionId);
  CHECK(str(status.json, "task_id") == kSharedFail);
  CHECK_THAT(str(status.json, "state"), Catch::Matches("QUEUED|RUNNING"));

  CliResult waited = env.cli({"wait", executionId, "--json"}, onSecond);
  INFO(waited.describe());
  CHECK(waited.exitCode == 1);
  CHECK(str(waited.json, "state") == "FAILED");
  CHECK(str(waited.json, "qlik_status") == "FinishedFail");
  CHECK(env.realStarts(kSharedFail) == 1);

  // And the first worker says the same.
  CliResult first = env.cli({"status", executionId, "--json"});
  INFO(first.describe());
  CHECK(first.exitCode == 1);
  CHECK(str(first.json, "state") == "FAILED");
}

TEST_CASE("Two workers, one PostgreSQL journal: the first killed mid-run, the second follows its reload to the end",
          "[postgresql][shared]") {
  auto [task, expectedExit, tag] = GENERATE(table<std::string, int, const char*>({
      {kSharedOk, 0, "ok"},
      {kSharedFail, 1, "fail"},
  }));
  auto journal = sharedJournal();
  if (!journal) {
    WARN("skipped: no PostgreSQL server installed and QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1");
    return;
  }
  IntegrationEnv env(std::string("shared-kill-") + tag, firstWorker(*journal));
  env.putSimTasks(kSharedTasks);
  const std::string key = std::string("shared/kill/") + tag;
  auto run = env.cliAsync({"run", "--task-id", task, "--idempotency-key", key, "--reconnect-for", "1s", "--json"},
                          "run");
  REQUIRE(run->waitForStderr("started execution", 30s));
  CHECK(env.stopWorker(SIGKILL) == 128 + SIGKILL);
  auto executions = env.simExecutionsOfTask(task);
  REQUIRE(executions.size() == 1);
  REQUIRE(executions.front()->getValue<bool>("live"));
  const std::string executionId = executions.front()->getValue<std::string>("execution_id");

  // The second worker starts after the first died: it picks up what the
  // shared journal says is unfinished, and answers waitReload to the end.
  auto& second = env.startExtraWorker("second-worker", journal->workerConfig("worker-2"));
  const std::map<std::string, std::string> onSecond = {{"QLIK_RELOAD_WORKER", second.address()}};
  CliResult waited = env.cli({"wait", executionId, "--json"}, onSecond);
  INFO(waited.describe() << "\n--- second worker ---\n" << second.process->stderrText());
  CHECK_THAT(second.process->stderrText(), Catch::Contains("resumed following 1 unfinished execution(s)"));
  CHECK(waited.exitCode == expectedExit);
  CHECK(str(waited.json, "execution_id") == executionId);
  auto truth = env.simExecution(executionId);
  REQUIRE(truth);
  REQUIRE_FALSE(truth->isNull("final_status"));
  CHECK(str(waited.json, "state") == stateOf(truth->getValue<int>("final_status")));

  // The step's retry with its key, through the second worker: the same execution.
  CliResult retried = env.cli({"run", "--task-id", task, "--idempotency-key", key, "--json"}, onSecond);
  INFO(retried.describe());
  CHECK(retried.exitCode == expectedExit);
  CHECK(str(retried.json, "execution_id") == executionId);
  CHECK(env.realStarts(task) == 1);
  CHECK(env.stops(task) == 0);

  // The second worker wrote the outcome the first could not.
  auto entries = journal->terminalEntries();
  INFO("journal:\n" << describe(entries));
  REQUIRE(entries.size() == 1);
  CHECK(entries.front().executionId == executionId);
  CHECK(entries.front().owner == "worker-1");
  CHECK(entries.front().terminal);
  CHECK(entries.front().state == stateOf(truth->getValue<int>("final_status")));
}
