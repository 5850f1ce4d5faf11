// Restarts and disconnects: the worker is killed (SIGKILL: no shutdown code
// runs) in the middle of a run, or in the middle of a start, and started
// again on the same port with the same journal; a client goes away in the
// middle of runReload. Checked against the simulator's record and the
// worker's own journal (read with the product's journal code).
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <thread>

#include <Poco/JSON/Array.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include "ReloadWorker.h"
#include "env.h"
#include "reload/journal.h"

using namespace qlik_reload::testing;
using namespace std::chrono_literals;

namespace {

const std::string kRestartOk = "e0000001-0000-4000-8000-000000000001";     // succeeds after 3 s
const std::string kRestartFail = "e0000002-0000-4000-8000-000000000002";   // fails after 3 s
const std::string kRestartQuick = "e0000003-0000-4000-8000-000000000003";  // over in 300 ms

const char* kRestartTasks = R"([
  {"id": "e0000001-0000-4000-8000-000000000001", "name": "Restart OK", "queue_ms": 200, "run_ms": 3000,
   "outcome": "success"},
  {"id": "e0000002-0000-4000-8000-000000000002", "name": "Restart Fail", "queue_ms": 200, "run_ms": 3000,
   "outcome": "fail", "log_delay_ms": 100},
  {"id": "e0000003-0000-4000-8000-000000000003", "name": "Restart Quick", "queue_ms": 0, "run_ms": 300,
   "outcome": "success"}
])";

std::string str(const Poco::JSON::Object::Ptr& json, const std::string& key) {
  if (!json || !json->has(key) || json->isNull(key)) return "<null>";
  return json->get(key).convert<std::string>();
}

std::string toJson(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
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

// Every journal entry of the default site.
std::vector<qlik_reload::JournalEntry> journalEntries(IntegrationEnv& env) {
  auto journal = qlik_reload::openSqliteJournal(env.journalPath());
  REQUIRE(journal.isOk());
  auto entries = journal.value()->all("default");
  REQUIRE(entries.isOk());
  return entries.value();
}

// The worker records an outcome in its journal when its monitor reports it,
// which may be a moment after a caller got the answer: waits (bounded) until
// every entry is terminal, reading the journal beside the running worker.
void waitForTerminalJournal(IntegrationEnv& env) {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto entries = journalEntries(env);
    if (!entries.empty() &&
        std::all_of(entries.begin(), entries.end(), [](const auto& e) { return e.terminal; })) {
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
}

std::string describe(const std::vector<qlik_reload::JournalEntry>& entries) {
  std::string text;
  for (const auto& e : entries) {
    text += "  [" + e.state + "] execution " + e.executionId + " task " + e.taskId + " key '" + e.idempotencyKey +
            "' terminal " + (e.terminal ? "yes" : "no") + ": " + e.message + "\n";
  }
  return text;
}

// Waits (bounded) until the simulator's record satisfies `ready`: the record
// is the signal, polled; nothing sleeps for a guessed time.
template <typename Predicate>
bool waitForRecord(IntegrationEnv& env, Predicate ready, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready(env.simRecord())) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

bool hasStarts(const Poco::JSON::Object::Ptr& record, size_t n) { return record->getArray("starts")->size() >= n; }

// A raw Thrift client of the worker, as any language would make one.
struct RawClient {
  explicit RawClient(int port) {
    socket = std::make_shared<apache::thrift::transport::TSocket>("127.0.0.1", port);
    transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
    client = std::make_unique<qlik_reload::rpc::ReloadWorkerClient>(
        std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport));
    transport->open();
  }
  std::shared_ptr<apache::thrift::transport::TSocket> socket;
  std::shared_ptr<apache::thrift::transport::TTransport> transport;
  std::unique_ptr<qlik_reload::rpc::ReloadWorkerClient> client;
};

}  // namespace

TEST_CASE("SIGKILL of the worker mid-run: run reconnects and reports the real outcome, the journal has one execution",
          "[restart]") {
  auto [task, expectedExit, tag] = GENERATE(table<std::string, int, const char*>({
      {kRestartOk, 0, "ok"},
      {kRestartFail, 1, "fail"},
  }));
  IntegrationEnv env(std::string("kill-mid-run-") + tag);
  env.putSimTasks(kRestartTasks);
  const std::string key = std::string("restart/mid-run/") + tag;
  auto cli = env.cliAsync({"run", "--task-id", task, "--idempotency-key", key, "--json"}, "run");
  REQUIRE(cli->waitForStderr("started execution", 30s));
  CHECK(env.stopWorker(SIGKILL) == 128 + SIGKILL);
  // Killed mid-run: Qlik is still running it.
  auto executions = env.simExecutionsOfTask(task);
  REQUIRE(executions.size() == 1);
  REQUIRE(executions.front()->getValue<bool>("live"));
  const std::string executionId = executions.front()->getValue<std::string>("execution_id");

  env.startWorker();  // same port, same journal, nothing in memory
  CliResult r = env.finish(*cli);
  INFO(r.describe() << "\n--- worker (after restart) ---\n" << env.worker().stderrText());
  CHECK_THAT(r.err, Catch::Contains("lost contact with the worker"));
  CHECK(r.exitCode == expectedExit);
  REQUIRE(r.json);
  CHECK(str(r.json, "execution_id") == executionId);
  auto truth = env.simExecution(executionId);
  REQUIRE(truth);
  REQUIRE_FALSE(truth->isNull("final_status"));
  CHECK(str(r.json, "state") == stateOf(truth->getValue<int>("final_status")));
  CHECK(env.realStarts(task) == 1);
  CHECK(env.stops(task) == 0);

  waitForTerminalJournal(env);
  CHECK(env.stopWorker(SIGTERM) == 0);
  auto entries = journalEntries(env);
  INFO("journal:\n" << describe(entries));
  REQUIRE(entries.size() == 1);
  CHECK(entries.front().executionId == executionId);
  CHECK(entries.front().idempotencyKey == key);
  CHECK(entries.front().terminal);
  CHECK(entries.front().state == stateOf(truth->getValue<int>("final_status")));
}

TEST_CASE("SIGKILL of the worker while its start is in flight: the same idempotency key gets the one execution",
          "[restart]") {
  // qrs-sim processes the start, then holds its answer for 4 s (the worker's
  // read timeout is 5 s): the worker is killed while it waits for it.
  auto [task, finishedMeanwhile, tag] = GENERATE(table<std::string, bool, const char*>({
      {kRestartOk, false, "running"},    // still running when the worker is back
      {kRestartQuick, true, "finished"}, // over before the worker is back
  }));
  IntegrationEnv env(std::string("kill-mid-start-") + tag);
  env.putSimTasks(kRestartTasks);
  env.putSimFaults(R"([{"route": "/qrs/task/*/start/synchronous", "method": "POST", "action": "delay:4000",
                        "count": 1}])");
  const std::string key = std::string("restart/mid-start/") + tag;
  auto first = env.cliAsync({"run", "--task-id", task, "--idempotency-key", key, "--json"}, "first");
  REQUIRE(waitForRecord(env, [](const Poco::JSON::Object::Ptr& r) { return hasStarts(r, 1); }, 30s));
  CHECK(env.stopWorker(SIGKILL) == 128 + SIGKILL);
  CliResult lost = env.finish(*first);
  INFO(lost.describe());
  // The CLI never heard an answer: a retryable failure, nothing confirmed.
  CHECK(lost.exitCode == 75);
  CHECK_THAT(lost.json->getObject("error")->getValue<std::string>("message"),
             Catch::Contains("same --idempotency-key"));
  const std::string executionId = env.simExecutionsOfTask(task).at(0)->getValue<std::string>("execution_id");
  if (finishedMeanwhile) {
    REQUIRE(waitForRecord(
        env, [&](const Poco::JSON::Object::Ptr&) { return !env.simExecution(executionId)->isNull("final_status"); },
        30s));
  }

  env.startWorker();
  // The orchestrator retries the step with the same key.
  CliResult r = env.cli({"run", "--task-id", task, "--idempotency-key", key, "--json"});
  INFO(r.describe() << "\n--- worker (after restart) ---\n" << env.worker().stderrText());
  CHECK(r.exitCode == 0);
  CHECK(str(r.json, "execution_id") == executionId);
  CHECK(str(r.json, "state") == "SUCCEEDED");
  CHECK_THAT(str(r.json, "message"), Catch::Contains("no second start was sent") || Catch::Contains("no second reload was started"));
  CHECK(env.realStarts(task) == 1);

  waitForTerminalJournal(env);
  CHECK(env.stopWorker(SIGTERM) == 0);
  auto entries = journalEntries(env);
  INFO("journal:\n" << describe(entries));
  REQUIRE(entries.size() == 1);
  CHECK(entries.front().executionId == executionId);
  CHECK(entries.front().state == "SUCCEEDED");
  CHECK(entries.front().terminal);
}

TEST_CASE("A client that disconnects in the middle of runReload does not stop the reload", "[restart][disconnect]") {
  IntegrationEnv env("disconnect-run");
  env.putSimTasks(kRestartTasks);
  {
    RawClient raw(env.workerPort());
    qlik_reload::rpc::ReloadRequest request;
    request.__set_taskId(kRestartOk);
    request.__set_idempotencyKey("disconnect/1");
    raw.client->send_runReload(request);
    // The reload has started in Qlik: the caller goes away without a word.
    REQUIRE(waitForRecord(env, [](const Poco::JSON::Object::Ptr& r) { return hasStarts(r, 1); }, 30s));
    raw.transport->close();
  }
  const std::string executionId = env.simExecutionsOfTask(kRestartOk).at(0)->getValue<std::string>("execution_id");
  REQUIRE(env.simExecution(executionId)->getValue<bool>("live"));

  // Later the caller asks again: the reload ran to its natural end.
  RawClient again(env.workerPort());
  qlik_reload::rpc::ExecutionRef ref;
  ref.site = "default";
  ref.executionId = executionId;
  qlik_reload::rpc::ReloadStatus status;
  again.client->waitReload(status, ref, 30'000);
  CHECK(status.terminal);
  again.client->getReload(status, ref);
  CHECK(status.state == qlik_reload::rpc::ReloadState::SUCCEEDED);
  CHECK(status.executionId == executionId);
  CHECK_FALSE(status.timedOut);
  auto truth = env.simExecution(executionId);
  INFO(toJson(env.simRecord()));
  CHECK(truth->getValue<int>("final_status") == 7);
  CHECK(env.stops(kRestartOk) == 0);
  CHECK(env.realStarts(kRestartOk) == 1);
}

TEST_CASE("A CLI killed with SIGKILL mid-run does not stop the reload, and wait reports its outcome",
          "[restart][disconnect]") {
  IntegrationEnv env("cli-killed");
  env.putSimTasks(kRestartTasks);
  auto cli = env.cliAsync({"run", "--task-id", kRestartFail, "--json"}, "run");
  REQUIRE(cli->waitForStderr("started execution", 30s));
  cli->signal(SIGKILL);
  CHECK(cli->wait(10s) == 128 + SIGKILL);
  const std::string executionId = env.simExecutionsOfTask(kRestartFail).at(0)->getValue<std::string>("execution_id");
  CliResult r = env.cli({"wait", executionId, "--json"});
  INFO(r.describe());
  CHECK(r.exitCode == 1);
  CHECK(str(r.json, "state") == "FAILED");
  CHECK(env.simExecution(executionId)->getValue<int>("final_status") == 8);
  CHECK(env.stops(kRestartFail) == 0);
}
