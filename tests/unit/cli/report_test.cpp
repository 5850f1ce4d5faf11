#include <catch2/catch.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <csignal>
#include <sstream>

#include "output.h"
#include "report.h"

using namespace qlik_reload;
using namespace qlik_reload::cli;
using Poco::JSON::Array;
using Poco::JSON::Object;

namespace {

constexpr std::int64_t kStartedMs = 1767323045678LL;  // 2026-01-02T03:04:05.678Z

Object::Ptr parseJson(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Object::Ptr>();
}

rpc::ReloadStatus failedStatus() {
  rpc::ReloadStatus status;
  status.executionId = "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b";
  status.site = "emea";
  status.taskId = "7f3c0d2e-1b4a-4c5d-8e9f-0a1b2c3d4e5f";
  status.taskName = "Sales \"daily\"\nreload";
  status.state = rpc::ReloadState::FAILED;
  status.qlikStatus = "FinishedFail";
  status.qlikStatusCode = 8;
  status.terminal = true;
  status.message = "The reload failed: script error.";
  status.__set_startedAtMs(kStartedMs);
  status.__set_finishedAtMs(kStartedMs + 61500);
  rpc::Attempt first;
  first.qlikStatus = "FinishedFail";
  first.qlikStatusCode = 8;
  first.__set_startedAtMs(kStartedMs);
  first.__set_finishedAtMs(kStartedMs + 61500);
  first.durationMs = 61500;
  first.node = "central";
  first.messages = {"Changing status to Started", "Field not found <Amount>"};
  status.attempts = {first};
  std::string log;
  for (int i = 1; i <= 55; ++i) log += "line " + std::to_string(i) + "\n";
  status.scriptLogTail = log;
  return status;
}

Report failedRun() {
  Report report;
  report.command = Command::kRun;
  report.site = "emea";
  report.status = failedStatus();
  report.elapsed = Duration(62000);
  return report;
}

}  // namespace

TEST_CASE("The JSON report carries every field, in order, on one line", "[cli][report]") {
  const std::string json = toJson(failedRun());
  CHECK(json.find('\n') == std::string::npos);
  CHECK(json.rfind("{\"execution_id\":", 0) == 0);
  Object::Ptr o = parseJson(json);
  const std::vector<std::string> keys = {"execution_id", "site", "task_id", "task_name", "state", "qlik_status",
                                         "qlik_status_code", "attempts", "started_at", "finished_at", "duration_ms",
                                         "timed_out", "attached", "message", "script_log_tail", "exit_code", "error"};
  CHECK(o->size() == keys.size());
  size_t previous = 0;
  for (const std::string& key : keys) {
    CAPTURE(key);
    CHECK(o->has(key));
    const size_t at = json.find("\"" + key + "\":");
    CHECK(at != std::string::npos);
    CHECK(at >= previous);
    previous = at;
  }
  CHECK(o->getValue<std::string>("execution_id") == "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b");
  CHECK(o->getValue<std::string>("site") == "emea");
  CHECK(o->getValue<std::string>("task_id") == "7f3c0d2e-1b4a-4c5d-8e9f-0a1b2c3d4e5f");
  CHECK(o->getValue<std::string>("task_name") == "Sales \"daily\"\nreload");  // escaped and back
  CHECK(o->getValue<std::string>("state") == "FAILED");
  CHECK(o->getValue<std::string>("qlik_status") == "FinishedFail");
  CHECK(o->getValue<int>("qlik_status_code") == 8);
  CHECK(o->getValue<std::string>("started_at") == "2026-01-02T03:04:05.678Z");
  CHECK(o->getValue<std::string>("finished_at") == "2026-01-02T03:05:07.178Z");
  CHECK(o->getValue<Poco::Int64>("duration_ms") == 61500);
  CHECK(o->getValue<bool>("timed_out") == false);
  CHECK(o->getValue<bool>("attached") == false);
  CHECK(o->getValue<std::string>("message") == "The reload failed: script error.");
  CHECK(o->getValue<int>("exit_code") == 1);
  CHECK(o->isNull("error"));

  Array::Ptr attempts = o->getArray("attempts");
  REQUIRE(attempts->size() == 1);
  Object::Ptr attempt = attempts->getObject(0);
  CHECK(attempt->size() == 7);
  CHECK(attempt->getValue<std::string>("qlik_status") == "FinishedFail");
  CHECK(attempt->getValue<int>("qlik_status_code") == 8);
  CHECK(attempt->getValue<std::string>("started_at") == "2026-01-02T03:04:05.678Z");
  CHECK(attempt->getValue<std::string>("finished_at") == "2026-01-02T03:05:07.178Z");
  CHECK(attempt->getValue<Poco::Int64>("duration_ms") == 61500);
  CHECK(attempt->getValue<std::string>("node") == "central");
  Array::Ptr messages = attempt->getArray("messages");
  REQUIRE(messages->size() == 2);
  CHECK(messages->getElement<std::string>(1) == "Field not found <Amount>");
}

TEST_CASE("script_log_tail keeps at most the last 40 lines", "[cli][report]") {
  Object::Ptr o = parseJson(toJson(failedRun()));
  const std::string tail = o->getValue<std::string>("script_log_tail");
  CHECK(std::count(tail.begin(), tail.end(), '\n') == 40);
  CHECK(tail.rfind("line 16\n", 0) == 0);
  CHECK(tail.size() >= 8);
  CHECK(tail.substr(tail.size() - 8) == "line 55\n");

  CHECK(lastLines("a\nb\nc", 2) == "b\nc");
  CHECK(lastLines("a\nb\nc\n", 2) == "b\nc\n");
  CHECK(lastLines("a\nb\n", 5) == "a\nb\n");
  CHECK(lastLines("", 5).empty());
  CHECK(lastLines("only", 1) == "only");
  CHECK(lastLines("a\n\n\nb\n", 2) == "\nb\n");
}

TEST_CASE("Unknown values are null in the JSON report", "[cli][report]") {
  Report report;
  report.command = Command::kRun;
  report.site = "default";
  report.taskName = "Sales";
  report.error = CliError{ErrorType::kWorkerUnreachable, "cannot reach the worker", true};
  Object::Ptr o = parseJson(toJson(report));
  for (const char* key : {"execution_id", "task_id", "state", "qlik_status", "qlik_status_code", "started_at",
                          "finished_at", "duration_ms"}) {
    CAPTURE(key);
    CHECK(o->isNull(key));
  }
  CHECK(o->getValue<std::string>("task_name") == "Sales");
  CHECK(o->getArray("attempts")->size() == 0);
  CHECK(o->getValue<std::string>("script_log_tail").empty());
  CHECK(o->getValue<int>("exit_code") == 75);
  CHECK(o->getValue<std::string>("message") == "cannot reach the worker");
  Object::Ptr error = o->getObject("error");
  REQUIRE(error);
  CHECK(error->getValue<std::string>("type") == "WorkerUnreachable");
  CHECK(error->getValue<std::string>("message") == "cannot reach the worker");
  CHECK(error->getValue<bool>("retryable") == true);
}

TEST_CASE("A status still running has a start time but no finish time and no duration", "[cli][report]") {
  Report report;
  report.command = Command::kStatus;
  rpc::ReloadStatus status = failedStatus();
  status.state = rpc::ReloadState::RUNNING;
  status.qlikStatus = "";
  status.qlikStatusCode = -1;
  status.__isset.finishedAtMs = false;
  status.attempts[0].__isset.finishedAtMs = false;
  status.attached = true;
  report.status = status;
  Object::Ptr o = parseJson(toJson(report));
  CHECK(o->getValue<std::string>("state") == "RUNNING");
  CHECK(o->isNull("qlik_status"));
  CHECK(o->isNull("qlik_status_code"));
  CHECK(o->getValue<std::string>("started_at") == "2026-01-02T03:04:05.678Z");
  CHECK(o->isNull("finished_at"));
  CHECK(o->isNull("duration_ms"));
  CHECK(o->getArray("attempts")->getObject(0)->isNull("finished_at"));
  CHECK(o->getValue<bool>("attached"));
  CHECK(o->getValue<int>("exit_code") == 0);
}

TEST_CASE("Timed-out and interrupted reports", "[cli][report]") {
  Report timedOut = failedRun();
  timedOut.status->state = rpc::ReloadState::ABORTED;
  timedOut.timedOut = true;
  timedOut.message = "timed out after 15m 0s; the reload was stopped (ABORTED)";
  Object::Ptr o = parseJson(toJson(timedOut));
  CHECK(o->getValue<bool>("timed_out"));
  CHECK(o->getValue<int>("exit_code") == 124);
  CHECK(o->getValue<std::string>("message") == timedOut.message);

  Report interrupted = failedRun();
  interrupted.status->state = rpc::ReloadState::ABORTED;
  interrupted.signalNumber = SIGTERM;
  interrupted.error = CliError{ErrorType::kInterrupted, "interrupted by SIGTERM; the reload was stopped", false};
  o = parseJson(toJson(interrupted));
  CHECK(o->getValue<int>("exit_code") == 143);
  CHECK(o->getObject("error")->getValue<std::string>("type") == "Interrupted");
}

TEST_CASE("ping's JSON is version and sites", "[cli][report]") {
  Report report;
  report.command = Command::kPing;
  rpc::WorkerInfo info;
  info.version = "0.1.0";
  info.sites = {"default", "emea"};
  report.workerInfo = info;
  Object::Ptr o = parseJson(toJson(report));
  CHECK(o->getValue<std::string>("version") == "0.1.0");
  REQUIRE(o->getArray("sites")->size() == 2);
  CHECK(o->getArray("sites")->getElement<std::string>(1) == "emea");
  CHECK(o->getValue<int>("exit_code") == 0);
  CHECK(o->isNull("error"));

  Report down;
  down.command = Command::kPing;
  down.error = CliError{ErrorType::kWorkerUnreachable, "refused", true};
  o = parseJson(toJson(down));
  CHECK(o->isNull("version"));
  CHECK(o->isNull("sites"));
  CHECK(o->getValue<int>("exit_code") == 75);
  CHECK(o->getObject("error")->getValue<std::string>("type") == "WorkerUnreachable");
  CHECK(humanSummary(report, "127.0.0.1:9090") == "worker 0.1.0 at 127.0.0.1:9090; sites: default, emea");
}

TEST_CASE("The human summary starts with the state or error type, then the execution id", "[cli][report]") {
  CHECK(humanSummary(failedRun(), "w") ==
        "FAILED 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b: The reload failed: script error.");
  Report error;
  error.command = Command::kStart;
  error.error = CliError{ErrorType::kAccessDenied, "QRS refused the worker's certificate", false};
  CHECK(humanSummary(error, "w") == "AccessDenied -: QRS refused the worker's certificate");
}

TEST_CASE("The final stderr lines explain a failure with Qlik's message and the script log", "[cli][report]") {
  std::vector<std::string> lines = outcomeLines(failedRun());
  REQUIRE(lines.size() == 2 + 1 + 40);
  CHECK(lines[0] == "qlik-reload: FAILED after 1m 2s: The reload failed: script error.");
  CHECK(lines[1] == "  Qlik: Field not found <Amount>");
  CHECK(lines[2] == "  script log (last lines):");
  CHECK(lines[3] == "    line 16");
  CHECK(lines.back() == "    line 55");

  Report succeeded = failedRun();
  succeeded.status->state = rpc::ReloadState::SUCCEEDED;
  succeeded.status->message = "Reload finished successfully.";
  lines = outcomeLines(succeeded);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "qlik-reload: SUCCEEDED after 1m 2s: Reload finished successfully.");
}

TEST_CASE("Output prints exactly one final report", "[cli][report]") {
  std::ostringstream out, err;
  Output output(out, err, true, false, "127.0.0.1:9090");
  output.progress("started execution x");
  CHECK(output.finish(failedRun()));
  CHECK_FALSE(output.finish(failedRun()));
  output.progress("too late");
  CHECK(output.finished());
  const std::string stdoutText = out.str();
  CHECK(std::count(stdoutText.begin(), stdoutText.end(), '\n') == 1);
  CHECK(parseJson(stdoutText)->getValue<int>("exit_code") == 1);
  CHECK_THAT(err.str(), Catch::StartsWith("qlik-reload: started execution x\nqlik-reload: FAILED"));
  CHECK_THAT(err.str(), !Catch::Contains("too late"));
}

TEST_CASE("The --quiet flag drops progress and success lines but still explains failures", "[cli][report]") {
  std::ostringstream out, err;
  Output quiet(out, err, false, true, "w");
  quiet.progress("started");
  Report succeeded = failedRun();
  succeeded.status->state = rpc::ReloadState::SUCCEEDED;
  quiet.finish(succeeded);
  CHECK(err.str().empty());
  CHECK_THAT(out.str(), Catch::StartsWith("SUCCEEDED 2a8e1c4e"));

  std::ostringstream out2, err2;
  Output quietFailure(out2, err2, false, true, "w");
  quietFailure.finish(failedRun());
  CHECK_THAT(err2.str(), Catch::StartsWith("qlik-reload: FAILED"));
}
