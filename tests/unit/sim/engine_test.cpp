#include "sim/engine.h"

#include <catch2/catch.hpp>

#include "core/guid.h"
#include "core/time_format.h"
#include "manual_clock.h"
#include "qrs/types.h"
#include "sim_test_util.h"

namespace qlik_reload::sim {
namespace {

using namespace std::chrono_literals;
using qlik_reload::testing::ManualClock;
using testing::parseArray;
using testing::parseObject;
using testing::scenarioFrom;

constexpr const char* kTaskA = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr const char* kTaskB = "bbbbbbbb-0000-4000-8000-000000000002";
constexpr const char* kUnknownTask = "cccccccc-0000-4000-8000-000000000003";
constexpr const char* kUser = "INTERNAL\\sa_scheduler";

// A task object; named "Task <first letter of the id>" unless `extra` names it.
std::string oneTask(const std::string& id, const std::string& extra) {
  std::string name = extra.find("\"name\"") == std::string::npos ? R"(,"name":"Task )" + id.substr(0, 1) + "\"" : "";
  return R"({"id":")" + id + "\"" + name + (extra.empty() ? "" : "," + extra) + "}";
}

// An engine on a manual clock, with helpers that read its answers.
struct Sim {
  explicit Sim(const std::string& scenarioJson, EngineOptions options = {})
      : engine(scenarioFrom(scenarioJson), clock, options) {}

  std::string startSync(const std::string& task) {
    SimReply reply = engine.startTask(task, StartMode::kSynchronous, kUser);
    REQUIRE(reply.status == 201);
    CHECK_THAT(reply.contentType, Catch::StartsWith("application/json"));
    return parseObject(reply.body)->getValue<std::string>("value");
  }

  // GET /qrs/executionsession/{id}: the object, or nullptr on 404.
  Poco::JSON::Object::Ptr session(const std::string& id) {
    SimReply reply = engine.get(Collection::kExecutionSession, id);
    if (reply.status == 404) return nullptr;
    REQUIRE(reply.status == 200);
    return parseObject(reply.body);
  }

  int sessionStatus(const std::string& id) {
    auto object = session(id);
    REQUIRE(object);
    return object->getObject("executionResult")->getValue<int>("status");
  }

  Poco::JSON::Array::Ptr results(const std::string& filter, bool full = true) {
    SimReply reply = engine.list(Collection::kExecutionResult, filter, full);
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    return parseArray(reply.body);
  }

  Poco::JSON::Array::Ptr resultsOf(const std::string& executionId) {
    return results("executionID eq " + executionId);
  }

  Poco::JSON::Object::Ptr onlyResultOf(const std::string& executionId) {
    auto rows = resultsOf(executionId);
    REQUIRE(rows->size() == 1);
    return rows->getObject(0);
  }

  Poco::JSON::Object::Ptr record() { return parseObject(engine.record().body); }

  std::string now() { return formatIso8601(clock.wallNow()); }

  ManualClock clock;
  SimEngine engine;
};

std::vector<std::string> messages(const Poco::JSON::Object::Ptr& result) {
  std::vector<std::string> out;
  auto details = result->getArray("details");
  for (unsigned i = 0; i < details->size(); ++i) out.push_back(details->getObject(i)->getValue<std::string>("message"));
  return out;
}

TEST_CASE("a successful reload walks Triggered, Queued, Started, FinishedSuccess, then its session is gone",
          "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("queue_ms":200,"run_ms":1000)") + "]}");
  const std::string createdAt = sim.now();
  const std::string id = sim.startSync(kTaskA);
  REQUIRE(isGuid(id));
  REQUIRE_FALSE(isZeroGuid(id));

  auto session = sim.session(id);
  REQUIRE(session);
  CHECK(session->getValue<std::string>("schemaPath") == "ExecutionSession");
  CHECK(session->getValue<std::string>("createdDate") == createdAt);
  CHECK(session->getValue<std::string>("user") == kUser);
  CHECK(session->getValue<int>("retries") == 0);
  CHECK(session->getValue<int>("abortReason") == 0);
  CHECK(session->getObject("reloadTask")->getValue<std::string>("id") == kTaskA);
  CHECK(session->isNull("userSyncTask"));
  CHECK(session->isNull("externalProgramTask"));
  CHECK(session->getObject("executionResult")->getValue<int>("status") == qrs::kTriggered);
  CHECK(session->getObject("executionResult")->getValue<std::string>("fileReferenceID") == std::string(kZeroGuid));

  sim.clock.advance(99ms);
  CHECK(sim.sessionStatus(id) == qrs::kTriggered);
  sim.clock.advance(1ms);
  CHECK(sim.sessionStatus(id) == qrs::kQueued);
  sim.clock.advance(99ms);
  CHECK(sim.sessionStatus(id) == qrs::kQueued);
  sim.clock.advance(1ms);
  const std::string startedAt = sim.now();
  CHECK(sim.sessionStatus(id) == qrs::kStarted);
  auto running = sim.onlyResultOf(id);
  CHECK(running->getValue<std::string>("startTime") == startedAt);
  CHECK(running->getValue<std::string>("stopTime") == "1753-01-01T00:00:00.000Z");
  CHECK(running->getValue<bool>("scriptLogAvailable"));
  CHECK_FALSE(isZeroGuid(running->getValue<std::string>("fileReferenceID")));

  sim.clock.advance(999ms);
  CHECK(sim.sessionStatus(id) == qrs::kStarted);
  sim.clock.advance(1ms);
  CHECK_FALSE(sim.session(id));

  auto done = sim.onlyResultOf(id);
  CHECK(done->getValue<int>("status") == qrs::kFinishedSuccess);
  CHECK(done->getValue<std::string>("schemaPath") == "ExecutionResult");
  CHECK(done->getValue<std::string>("taskID") == kTaskA);
  CHECK(done->getValue<std::string>("executionID") == id);
  CHECK(done->getValue<std::string>("createdDate") == createdAt);
  CHECK(done->getValue<std::string>("startTime") == startedAt);
  CHECK(done->getValue<std::string>("stopTime") == sim.now());
  CHECK(done->getValue<std::int64_t>("duration") == 1000);
  CHECK(done->getValue<std::string>("executingNodeName") == "qlikserver1");
  CHECK(done->getValue<std::int64_t>("scriptLogSize") > 0);
  CHECK(messages(done) == std::vector<std::string>{
                              "Changing task state from NeverStarted to Triggered",
                              "Trying to start task. Sending task to slave scheduler",
                              "Changing task state from Triggered to Queued",
                              "Changing task state from Queued to Started",
                              "Reference to scriptlog added",
                              "Changing task state from Started to FinishedSuccess",
                          });
  auto details = done->getArray("details");
  CHECK(details->getObject(details->size() - 1)->getValue<int>("detailsType") == 2);
  CHECK(details->getObject(details->size() - 1)->getValue<std::string>("detailCreatedDate") == sim.now());

  auto byId = parseObject(sim.engine.get(Collection::kExecutionResult, done->getValue<std::string>("id")).body);
  CHECK(byId->getValue<int>("status") == qrs::kFinishedSuccess);
}

TEST_CASE("failed attempts end in Retry and each retry adds a new result row", "[engine]") {
  Sim sim(R"({"tasks":[)" +
          oneTask(kTaskA, R"("queue_ms":0,"retry_delay_ms":200,
                             "attempts":[{"outcome":"fail","run_ms":300},{"outcome":"error","run_ms":300},
                                         {"outcome":"success","run_ms":300}])") +
          "]}");
  const std::string id = sim.startSync(kTaskA);
  CHECK(sim.sessionStatus(id) == qrs::kStarted);  // queue_ms 0: starts at once

  sim.clock.advance(300ms);
  auto rows = sim.resultsOf(id);
  REQUIRE(rows->size() == 1);
  CHECK(rows->getObject(0)->getValue<int>("status") == qrs::kRetry);
  CHECK(messages(rows->getObject(0)).back() == "Changing task state from Started to Retry");
  auto session = sim.session(id);
  REQUIRE(session);  // a Retry is not the end
  CHECK(session->getObject("executionResult")->getValue<int>("status") == qrs::kRetry);

  sim.clock.advance(199ms);
  CHECK(sim.resultsOf(id)->size() == 1);
  sim.clock.advance(1ms);
  rows = sim.resultsOf(id);
  REQUIRE(rows->size() == 2);
  CHECK(rows->getObject(1)->getValue<int>("status") == qrs::kStarted);
  CHECK(sim.session(id)->getValue<int>("retries") == 1);
  CHECK(sim.session(id)->getObject("executionResult")->getValue<std::string>("id") ==
        rows->getObject(1)->getValue<std::string>("id"));

  sim.clock.advance(300ms);
  CHECK(sim.resultsOf(id)->getObject(1)->getValue<int>("status") == qrs::kRetry);
  sim.clock.advance(200ms + 300ms);
  CHECK_FALSE(sim.session(id));

  rows = sim.resultsOf(id);
  REQUIRE(rows->size() == 3);
  std::vector<int> statuses;
  std::string previousCreated;
  for (unsigned i = 0; i < rows->size(); ++i) {
    auto row = rows->getObject(i);
    statuses.push_back(row->getValue<int>("status"));
    CHECK(row->getValue<std::string>("executionID") == id);
    std::string created = row->getValue<std::string>("createdDate");
    CHECK(created > previousCreated);
    previousCreated = created;
  }
  CHECK(statuses == std::vector<int>{qrs::kRetry, qrs::kRetry, qrs::kFinishedSuccess});

  auto record = sim.record();
  auto execution = record->getArray("executions")->getObject(0);
  CHECK(execution->getValue<int>("final_status") == qrs::kFinishedSuccess);
  CHECK(execution->getArray("attempts")->size() == 3);
  CHECK(sim.results("status eq Retry and executionID eq " + id)->size() == 2);
  CHECK(parseObject(sim.engine.get(Collection::kReloadTask, kTaskA).body)->getValue<int>("maxRetries") == 2);
}

TEST_CASE("each outcome ends in its QRS status", "[engine]") {
  auto [outcome, status, detailsType] = GENERATE(table<std::string, int, int>({
      {"success", qrs::kFinishedSuccess, 2},
      {"fail", qrs::kFinishedFail, 0},
      {"error", qrs::kError, 0},
      {"reset", qrs::kReset, 0},
  }));
  CAPTURE(outcome);
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("queue_ms":0,"run_ms":100,"outcome":")" + outcome + "\"") + "]}");
  const std::string id = sim.startSync(kTaskA);
  sim.clock.advance(100ms);
  CHECK_FALSE(sim.session(id));
  auto row = sim.onlyResultOf(id);
  CHECK(row->getValue<int>("status") == status);
  auto details = row->getArray("details");
  auto last = details->getObject(details->size() - 1);
  CHECK(last->getValue<std::string>("message") ==
        "Changing task state from Started to " + qrs::taskExecutionStatusName(status));
  CHECK(last->getValue<int>("detailsType") == detailsType);
}

TEST_CASE("a skipped run ends in Skipped without ever starting", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("queue_ms":100,"run_ms":5000,"outcome":"skip")") + "]}");
  const std::string id = sim.startSync(kTaskA);
  sim.clock.advance(100ms);
  CHECK_FALSE(sim.session(id));
  auto row = sim.onlyResultOf(id);
  CHECK(row->getValue<int>("status") == qrs::kSkipped);
  CHECK(row->getValue<std::string>("startTime") == "1753-01-01T00:00:00.000Z");
  CHECK(row->getValue<std::string>("fileReferenceID") == std::string(kZeroGuid));
  CHECK_FALSE(row->getValue<bool>("scriptLogAvailable"));
  CHECK(row->getValue<std::int64_t>("duration") == 0);
}

TEST_CASE("a disabled or already running task answers the zero GUID and starts nothing", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("queue_ms":0,"run_ms":1000)") + "," +
          oneTask(kTaskB, R"("enabled":false)") + "]}");
  CHECK(sim.startSync(kTaskB) == std::string(kZeroGuid));
  const std::string first = sim.startSync(kTaskA);
  CHECK_FALSE(isZeroGuid(first));
  sim.clock.advance(500ms);
  CHECK(sim.startSync(kTaskA) == std::string(kZeroGuid));
  CHECK(sim.engine.startTask(kTaskA, StartMode::kAsynchronous, kUser).status == 204);

  auto sessions = parseArray(sim.engine.list(Collection::kExecutionSession, "", false).body);
  CHECK(sessions->size() == 1);

  sim.clock.advance(500ms);
  const std::string second = sim.startSync(kTaskA);
  CHECK_FALSE(isZeroGuid(second));
  CHECK(second != first);

  auto starts = sim.record()->getArray("starts");
  REQUIRE(starts->size() == 5);
  CHECK(starts->getObject(0)->getValue<std::string>("execution_id") == std::string(kZeroGuid));
  CHECK(starts->getObject(0)->getValue<std::string>("task_id") == kTaskB);
  CHECK(starts->getObject(1)->getValue<std::string>("execution_id") == first);
  CHECK(starts->getObject(2)->getValue<std::string>("execution_id") == std::string(kZeroGuid));
  CHECK(starts->getObject(3)->getValue<std::string>("mode") == "asynchronous");
  CHECK(starts->getObject(4)->getValue<std::string>("execution_id") == second);
  CHECK(sim.record()->getArray("executions")->size() == 2);
}

TEST_CASE("starting by name, asynchronously and with a bare reply", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("name":"Reload Sales","start_reply":"bare")") + "," +
          oneTask(kTaskB, R"("name":"Reload Finance")") + "]}");

  SimReply bare = sim.engine.startTaskByName("reload SALES", StartMode::kSynchronous, kUser);
  REQUIRE(bare.status == 201);
  REQUIRE(bare.body.size() == 38);
  CHECK(bare.body.front() == '"');
  CHECK(isGuid(bare.body.substr(1, 36)));

  SimReply async = sim.engine.startTaskByName("Reload Finance", StartMode::kAsynchronous, kUser);
  CHECK(async.status == 204);
  CHECK(async.body.empty());
  CHECK(parseArray(sim.engine.list(Collection::kExecutionSession, "reloadTask.id eq " + std::string(kTaskB), true).body)
            ->size() == 1);

  CHECK(sim.engine.startTaskByName("Reload", StartMode::kSynchronous, kUser).status == 404);
  CHECK(sim.engine.startTask(kUnknownTask, StartMode::kSynchronous, kUser).status == 404);
  CHECK(sim.engine.startTask(kUnknownTask, StartMode::kAsynchronous, kUser).status == 404);
  CHECK(sim.engine.stopTask(kUnknownTask).status == 404);
  SimReply unknown = sim.engine.startTask(kUnknownTask, StartMode::kSynchronous, kUser);
  CHECK(unknown.contentType.rfind("text/plain", 0) == 0);
}

TEST_CASE("start many and stop many take a JSON array of task ids", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("run_ms":10000)") + "," + oneTask(kTaskB, R"("run_ms":10000)") + "]}");
  const std::string body = std::string("[\"") + kTaskA + "\",\"" + kTaskB + "\"]";
  CHECK(sim.engine.startMany(body, kUser).status == 204);
  CHECK(parseArray(sim.engine.list(Collection::kExecutionSession, "", false).body)->size() == 2);
  CHECK(sim.engine.startMany("{}", kUser).status == 400);
  CHECK(sim.engine.startMany(std::string("[\"") + kUnknownTask + "\"]", kUser).status == 404);
  CHECK(sim.engine.stopMany(body).status == 204);
  CHECK(sim.engine.stopMany("[1]").status == 400);
  sim.clock.advance(300ms);
  CHECK(parseArray(sim.engine.list(Collection::kExecutionSession, "", false).body)->size() == 0);
}

TEST_CASE("stop walks AbortInitiated, Aborting, Aborted and deletes the session", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("queue_ms":0,"run_ms":600000,"abort_ms":300)") + "]}");
  const std::string id = sim.startSync(kTaskA);
  sim.clock.advance(500ms);
  REQUIRE(sim.sessionStatus(id) == qrs::kStarted);

  SimReply stopped = sim.engine.stopTask(kTaskA);
  CHECK(stopped.status == 204);
  CHECK(stopped.body.empty());
  auto session = sim.session(id);
  REQUIRE(session);
  CHECK(session->getObject("executionResult")->getValue<int>("status") == qrs::kAbortInitiated);
  CHECK(session->getValue<int>("abortReason") == 1);

  sim.clock.advance(149ms);
  CHECK(sim.sessionStatus(id) == qrs::kAbortInitiated);
  sim.clock.advance(1ms);
  CHECK(sim.sessionStatus(id) == qrs::kAborting);
  CHECK(sim.engine.stopTask(kTaskA).status == 204);  // a second stop changes nothing
  sim.clock.advance(149ms);
  CHECK(sim.sessionStatus(id) == qrs::kAborting);
  sim.clock.advance(1ms);
  CHECK_FALSE(sim.session(id));

  auto row = sim.onlyResultOf(id);
  CHECK(row->getValue<int>("status") == qrs::kAborted);
  CHECK(row->getValue<std::string>("stopTime") == sim.now());
  CHECK(row->getValue<std::int64_t>("duration") == 800);
  CHECK(messages(row).back() == "Changing task state from Aborting to Aborted");

  CHECK(sim.engine.stopTask(kTaskA).status == 204);  // not running: still 204
  auto stops = sim.record()->getArray("stops");
  REQUIRE(stops->size() == 3);
  CHECK(stops->getObject(0)->getValue<bool>("had_session"));
  CHECK(stops->getObject(1)->getValue<bool>("had_session"));
  CHECK_FALSE(stops->getObject(2)->getValue<bool>("had_session"));
  CHECK(sim.record()->getArray("executions")->getObject(0)->getValue<int>("final_status") == qrs::kAborted);
}

TEST_CASE("stopping a queued run or a run waiting for its retry aborts it without another attempt", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("queue_ms":1000,"run_ms":100,"abort_ms":0)") + "," +
          oneTask(kTaskB, R"("queue_ms":0,"retry_delay_ms":1000,"abort_ms":100,
                             "attempts":[{"outcome":"fail","run_ms":100},{"outcome":"success"}])") +
          "]}");
  const std::string queued = sim.startSync(kTaskA);
  const std::string retrying = sim.startSync(kTaskB);
  sim.clock.advance(600ms);
  REQUIRE(sim.sessionStatus(queued) == qrs::kQueued);
  REQUIRE(sim.sessionStatus(retrying) == qrs::kRetry);

  CHECK(sim.engine.stopTask(kTaskA).status == 204);
  CHECK_FALSE(sim.session(queued));  // abort_ms 0: aborted at once
  auto row = sim.onlyResultOf(queued);
  CHECK(row->getValue<int>("status") == qrs::kAborted);
  CHECK(row->getValue<std::string>("startTime") == "1753-01-01T00:00:00.000Z");

  CHECK(sim.engine.stopTask(kTaskB).status == 204);
  sim.clock.advance(5s);
  auto rows = sim.resultsOf(retrying);
  REQUIRE(rows->size() == 1);
  CHECK(rows->getObject(0)->getValue<int>("status") == qrs::kAborted);
}

TEST_CASE("the script log is downloadable log_delay_ms after the attempt ended, with CRLF line ends", "[engine]") {
  Sim sim(R"({"tasks":[)" +
          oneTask(kTaskA, R"("queue_ms":0,"run_ms":1000,"outcome":"fail","log_delay_ms":300,
                             "script_log":"Execution started.\nLOAD x\r\nError: boom")") +
          "," + oneTask(kTaskB, "") + "]}");
  const std::string id = sim.startSync(kTaskA);
  auto row = sim.onlyResultOf(id);
  const std::string resultId = row->getValue<std::string>("id");
  const std::string fileReference = row->getValue<std::string>("fileReferenceID");
  REQUIRE_FALSE(isZeroGuid(fileReference));

  SimReply ticketReply = sim.engine.scriptLogFile(kTaskA, resultId);
  REQUIRE(ticketReply.status == 200);
  const std::string ticket = parseObject(ticketReply.body)->getValue<std::string>("value");
  CHECK(isGuid(ticket));
  CHECK(sim.engine.download(ticket).status == 404);  // still running

  sim.clock.advance(1000ms);
  CHECK_FALSE(sim.session(id));
  CHECK(sim.engine.download(ticket).status == 404);
  sim.clock.advance(299ms);
  CHECK(sim.engine.download(ticket).status == 404);
  sim.clock.advance(1ms);
  SimReply log = sim.engine.download(ticket);
  REQUIRE(log.status == 200);
  CHECK_THAT(log.contentType, Catch::StartsWith("text/plain"));
  CHECK(log.body == "Execution started.\r\nLOAD x\r\nError: boom\r\n");
  CHECK(sim.onlyResultOf(id)->getValue<std::int64_t>("scriptLogSize") == static_cast<std::int64_t>(log.body.size()));

  // The deprecated way, by file reference, gives a ticket to the same log.
  SimReply legacyTicket = sim.engine.scriptLog(kTaskA, fileReference);
  REQUIRE(legacyTicket.status == 200);
  CHECK(sim.engine.download(parseObject(legacyTicket.body)->getValue<std::string>("value")).body == log.body);

  CHECK(sim.engine.download(kUnknownTask).status == 404);
  CHECK(sim.engine.scriptLogFile(kTaskB, resultId).status == 404);  // not this task's result
  CHECK(sim.engine.scriptLogFile(kUnknownTask, resultId).status == 404);
  CHECK(sim.engine.scriptLogFile(kTaskA, kUnknownTask).status == 404);
  CHECK(sim.engine.scriptLog(kTaskA, std::string(kZeroGuid)).status == 404);
  CHECK(sim.engine.scriptLog(kTaskB, fileReference).status == 404);
}

TEST_CASE("without a script_log the log is generated and ends like the outcome", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("queue_ms":0,"run_ms":10,"outcome":"fail","log_delay_ms":0)") + "]}");
  const std::string id = sim.startSync(kTaskA);
  sim.clock.advance(10ms);
  const std::string resultId = sim.onlyResultOf(id)->getValue<std::string>("id");
  const std::string ticket =
      parseObject(sim.engine.scriptLogFile(kTaskA, resultId).body)->getValue<std::string>("value");
  SimReply log = sim.engine.download(ticket);
  REQUIRE(log.status == 200);
  CHECK_THAT(log.body, Catch::Contains("Execution Failed\r\n"));
  CHECK_THAT(log.body, Catch::EndsWith("Execution finished.\r\n"));
}

TEST_CASE("legacy_scriptlog_only answers 404 on scriptlogfile but serves the file-reference way", "[engine]") {
  Sim sim(R"({"legacy_scriptlog_only":true,"tasks":[)" + oneTask(kTaskA, R"("queue_ms":0,"run_ms":10,"log_delay_ms":0)") +
          "]}");
  const std::string id = sim.startSync(kTaskA);
  sim.clock.advance(10ms);
  auto row = sim.onlyResultOf(id);
  SimReply modern = sim.engine.scriptLogFile(kTaskA, row->getValue<std::string>("id"));
  CHECK(modern.status == 404);
  CHECK(modern.body == "No matching endpoint found");
  SimReply legacy = sim.engine.scriptLog(kTaskA, row->getValue<std::string>("fileReferenceID"));
  REQUIRE(legacy.status == 200);
  CHECK(sim.engine.download(parseObject(legacy.body)->getValue<std::string>("value")).status == 200);
}

TEST_CASE("max_concurrent keeps extra attempts Queued until a slot frees", "[engine]") {
  Sim sim(R"({"max_concurrent":1,"tasks":[)" + oneTask(kTaskA, R"("queue_ms":0,"run_ms":1000)") + "," +
          oneTask(kTaskB, R"("queue_ms":0,"run_ms":1000)") + "]}");
  const std::string a = sim.startSync(kTaskA);
  sim.clock.advance(200ms);
  const std::string b = sim.startSync(kTaskB);
  CHECK(sim.sessionStatus(a) == qrs::kStarted);
  CHECK(sim.sessionStatus(b) == qrs::kQueued);
  sim.clock.advance(799ms);
  CHECK(sim.sessionStatus(b) == qrs::kQueued);
  sim.clock.advance(1ms);
  CHECK_FALSE(sim.session(a));
  CHECK(sim.sessionStatus(b) == qrs::kStarted);
  CHECK(sim.onlyResultOf(b)->getValue<std::string>("startTime") ==
        sim.onlyResultOf(a)->getValue<std::string>("stopTime"));
  sim.clock.advance(1000ms);
  CHECK_FALSE(sim.session(b));
  CHECK(sim.onlyResultOf(b)->getValue<int>("status") == qrs::kFinishedSuccess);
}

TEST_CASE("the plain lists answer condensed entities, /full and /{id} full ones", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("name":"Reload Sales","app_name":"Sales","run_ms":10000)") + "," +
          oneTask(kTaskB, R"("name":"Reload Finance")") + "]}");
  const std::string id = sim.startSync(kTaskA);

  auto condensed = parseArray(sim.engine.list(Collection::kReloadTask, "", false).body);
  REQUIRE(condensed->size() == 2);
  auto task = condensed->getObject(0);
  for (const char* key : {"id", "name", "enabled", "taskType", "maxRetries", "taskSessionTimeout", "operational"}) {
    CHECK(task->has(key));
  }
  CHECK_FALSE(task->has("app"));
  auto full = parseArray(sim.engine.list(Collection::kReloadTask, "app.name eq 'Sales'", true).body);
  REQUIRE(full->size() == 1);
  CHECK(full->getObject(0)->getObject("app")->getValue<std::string>("name") == "Sales");
  CHECK(full->getObject(0)->getValue<std::string>("schemaPath") == "ReloadTask");
  CHECK(full->getObject(0)->getValue<int>("taskType") == 0);
  CHECK(parseObject(sim.engine.count(Collection::kReloadTask, "name sw 'reload'").body)->getValue<int>("value") == 2);

  auto results = sim.results("executionID eq " + id, false);
  REQUIRE(results->size() == 1);
  CHECK_FALSE(results->getObject(0)->has("taskID"));
  CHECK_FALSE(results->getObject(0)->has("executionID"));
  CHECK_FALSE(results->getObject(0)->has("appID"));
  CHECK(results->getObject(0)->has("fileReferenceID"));
  CHECK(parseObject(sim.engine.count(Collection::kExecutionResult, "status eq Queued or status eq Triggered").body)
            ->getValue<int>("value") == 1);

  auto sessions = parseArray(sim.engine.list(Collection::kExecutionSession, "reloadTask.id eq " + std::string(kTaskA), false).body);
  REQUIRE(sessions->size() == 1);
  CHECK(sessions->getObject(0)->getValue<std::string>("id") == id);
  CHECK_FALSE(sessions->getObject(0)->has("user"));
  CHECK(parseArray(sim.engine.list(Collection::kExecutionSession, "reloadTask.id eq " + std::string(kTaskB), true).body)
            ->size() == 0);
  CHECK(parseArray(sim.engine.list(Collection::kExecutionSession, "executionResult.status eq Triggered", true).body)
            ->size() == 1);

  // Batched polling: several executions in one "or" list.
  sim.clock.advance(std::chrono::seconds(11));
  const std::string other = sim.startSync(kTaskB);
  CHECK(sim.results("(ExecutionId eq " + id + " or ExecutionId eq " + other + ")")->size() == 2);
  CHECK(sim.results("(ExecutionId eq " + id + " or ExecutionId eq " + other + ") and status eq FinishedSuccess")
            ->size() == 1);
  CHECK(sim.results("executionID eq " + id + " or taskID eq " + std::string(kTaskB))->size() == 2);

  SimReply bad = sim.engine.list(Collection::kExecutionResult, "status eq", false);
  CHECK(bad.status == 400);
  CHECK(bad.body == "Cannot parse the expression: status eq");
  CHECK(sim.engine.list(Collection::kExecutionSession, "nosuch eq 1", false).status == 400);
  CHECK(sim.engine.count(Collection::kExecutionResult, "()").body == "Invalid expression");
  CHECK(sim.engine.get(Collection::kReloadTask, kUnknownTask).status == 404);
  CHECK(sim.engine.get(Collection::kExecutionResult, kUnknownTask).status == 404);
}

TEST_CASE("operational.lastExecutionResult shows the task's latest row, not a particular run", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("queue_ms":0,"run_ms":100)") + "]}");
  auto never = parseObject(sim.engine.get(Collection::kReloadTask, kTaskA).body);
  CHECK(never->getObject("operational")->getObject("lastExecutionResult")->getValue<int>("status") ==
        qrs::kNeverStarted);
  sim.startSync(kTaskA);
  sim.clock.advance(100ms);
  auto last = parseObject(sim.engine.get(Collection::kReloadTask, kTaskA).body);
  CHECK(last->getObject("operational")->getObject("lastExecutionResult")->getValue<int>("status") ==
        qrs::kFinishedSuccess);
}

TEST_CASE("the time scale divides every simulated duration", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("queue_ms":200,"run_ms":1000)") + "]}", EngineOptions{10.0});
  const std::string id = sim.startSync(kTaskA);
  sim.clock.advance(20ms);
  CHECK(sim.sessionStatus(id) == qrs::kStarted);
  sim.clock.advance(99ms);
  CHECK(sim.sessionStatus(id) == qrs::kStarted);
  sim.clock.advance(1ms);
  CHECK_FALSE(sim.session(id));
  CHECK(sim.onlyResultOf(id)->getValue<std::int64_t>("duration") == 100);
}

TEST_CASE("the record counts requests by route and can be cleared", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, "") + "]}");
  sim.engine.countRequest("POST /qrs/task/{id}/start/synchronous");
  sim.engine.countRequest("GET /qrs/executionsession/{id}");
  sim.engine.countRequest("GET /qrs/executionsession/{id}");
  sim.startSync(kTaskA);
  auto requests = sim.record()->getObject("requests");
  CHECK(requests->getValue<int>("total") == 3);
  CHECK(requests->getObject("by_route")->getValue<int>("GET /qrs/executionsession/{id}") == 2);
  CHECK(requests->getObject("by_route")->getValue<int>("POST /qrs/task/{id}/start/synchronous") == 1);

  auto record = sim.record();
  for (const char* key : {"starts", "stops", "executions", "requests", "faults_applied"}) CHECK(record->has(key));
  auto execution = record->getArray("executions")->getObject(0);
  CHECK(execution->isNull("final_status"));
  CHECK(execution->getArray("attempts")->getObject(0)->getValue<std::string>("status_name") == "Triggered");

  sim.engine.clearRecord();
  record = sim.record();
  CHECK(record->getObject("requests")->getValue<int>("total") == 0);
  CHECK(record->getArray("starts")->size() == 0);
  CHECK(record->getArray("executions")->size() == 1);  // the executions themselves stay
}

TEST_CASE("tasks can be added and replaced at run time", "[engine]") {
  Sim sim(R"({"tasks":[)" + oneTask(kTaskA, R"("name":"Old name")") + "]}");
  SimReply added = sim.engine.putTasks("[" + oneTask(kTaskA, R"("name":"New name")") + "," + oneTask(kTaskB, "") + "]");
  REQUIRE(added.status == 200);
  CHECK(parseObject(added.body)->getArray("tasks")->size() == 2);
  CHECK(parseObject(sim.engine.get(Collection::kReloadTask, kTaskA).body)->getValue<std::string>("name") ==
        "New name");
  CHECK(parseObject(sim.engine.count(Collection::kReloadTask, "").body)->getValue<int>("value") == 2);
  CHECK(sim.engine.putTasks(oneTask(kUnknownTask, "")).status == 200);
  CHECK(parseObject(sim.engine.count(Collection::kReloadTask, "").body)->getValue<int>("value") == 3);

  SimReply bad = sim.engine.putTasks(R"({"id":"x","name":"y"})");
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::StartsWith("task.id: expected a GUID"));
  CHECK(sim.engine.putTasks("[1]").status == 400);
  CHECK(sim.engine.putTasks("nope").status == 400);
}

TEST_CASE("denied users are matched case-insensitively", "[engine]") {
  Sim sim(R"({"denied_users":["INTERNAL\\someone"]})");
  CHECK(sim.engine.isDenied("internal\\SomeOne"));
  CHECK_FALSE(sim.engine.isDenied("INTERNAL\\someone_else"));
}

}  // namespace
}  // namespace qlik_reload::sim
