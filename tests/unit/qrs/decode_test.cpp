#include <catch2/catch.hpp>

#include "core/time_format.h"
#include "qrs/decode.h"

using namespace qlik_reload;
using namespace qlik_reload::qrs;

namespace {

const std::string kExecution = "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b";
const std::string kResultId = "9b1f0a2c-0000-4000-8000-000000000001";
const std::string kTaskId = "7f3c0000-1111-4222-8333-444455556666";

const std::string kFullResult = R"({
  "id": "9b1f0a2c-0000-4000-8000-000000000001", "createdDate": "2024-05-02T08:00:00.500Z",
  "modifiedDate": "2024-05-02T08:03:12.900Z", "modifiedByUserName": "INTERNAL\\sa_scheduler",
  "schemaPath": "ExecutionResult", "privileges": null,
  "taskID": "7F3C0000-1111-4222-8333-444455556666", "executionID": "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b",
  "appID": "116dbfae-7fb9-4983-8e23-5ccd8c508722", "executingNodeID": "5d6e0000-0000-4000-8000-000000000000",
  "executingNodeName": "qlikserver1", "status": 8,
  "startTime": "2024-05-02T08:00:01.200Z", "stopTime": "2024-05-02T08:03:12.800Z", "duration": 191600,
  "fileReferenceID": "c0ffee00-0000-4000-8000-000000000000", "scriptLogAvailable": true,
  "scriptLogLocation": "qlikserver1\\Script\\x.log", "scriptLogSize": 48213,
  "details": [
    {"id": "d0000000-0000-4000-8000-000000000001", "detailsType": 2,
     "message": "Changing task state from NeverStarted to Triggered", "detailCreatedDate": "2024-05-02T08:00:00.510Z",
     "privileges": null},
    {"id": "d0000000-0000-4000-8000-000000000002", "detailsType": 0,
     "message": "Changing task state from Started to FinishedFail", "detailCreatedDate": "2024-05-02T08:03:12.800Z"}
  ]
})";

std::string isoOf(const std::optional<WallTime>& time) { return time ? formatIso8601(*time) : "unset"; }

void checkProtocolFailure(const Status& status, const std::string& fragment) {
  CAPTURE(status.toString());
  CHECK(status.code() == ErrorCode::kProtocol);
  CHECK_THAT(status.message(), Catch::Contains(fragment));
}

}  // namespace

TEST_CASE("Start reply: value object and bare string are both accepted", "[decode]") {
  auto [body, expected] = GENERATE(table<std::string, std::string>({
      {R"({"value":"2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b"})", kExecution},
      {R"({"value":"2A8E1C4E-3F11-4B8A-9A57-0C1D2E3F4A5B","extra":1})", kExecution},
      {R"("2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b")", kExecution},
      {" \r\n\"2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b\"\n", kExecution},
      {R"({"value":"00000000-0000-0000-0000-000000000000"})", "00000000-0000-0000-0000-000000000000"},
      {"\xEF\xBB\xBF{\"value\":\"2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b\"}", kExecution},
  }));
  CAPTURE(body);
  Result<StartReply> reply = decodeStartReply(body);
  REQUIRE(reply.isOk());
  CHECK(reply->executionId == expected);
}

TEST_CASE("Start reply: anything else is a protocol error naming what came", "[decode]") {
  auto [body, fragment] = GENERATE(table<std::string, std::string>({
      {"", "empty answer"},
      {"   ", "empty answer"},
      {R"({"value":"not-a-guid"})", "got '{\"value\":\"not-a-guid\"}'"},
      {R"({"Value":"2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b"})", "expected {\"value\":\"<guid>\"} or a GUID string"},
      {R"({"value":12})", "got '{\"value\":12}'"},
      {R"("abc")", "got '\"abc\"'"},
      {"42", "got '42'"},
      {"null", "got 'null'"},
      {R"(["2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b"])", "expected"},
      {R"("2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b", "x")", "expected"},
      {R"("2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b"] ["x")", "expected"},
      {"<html>502 Bad Gateway</html>", "got '<html>502 Bad Gateway</html>'"},
  }));
  CAPTURE(body);
  Result<StartReply> reply = decodeStartReply(body);
  REQUIRE_FALSE(reply.isOk());
  checkProtocolFailure(reply.status(), "start reply");
  checkProtocolFailure(reply.status(), fragment);
}

TEST_CASE("Start reply: a long answer is cut short in the message", "[decode]") {
  std::string body = "\"" + std::string(5000, 'x') + "\"";
  Result<StartReply> reply = decodeStartReply(body);
  REQUIRE_FALSE(reply.isOk());
  CHECK(reply.status().message().size() < 400);
  CHECK_THAT(reply.status().message(), Catch::Contains("…"));
}

TEST_CASE("Full execution result decodes every field", "[decode]") {
  Result<ExecutionResult> result = decodeExecutionResult(kFullResult);
  REQUIRE(result.isOk());
  CHECK(result->id == kResultId);
  CHECK(result->taskId == kTaskId);  // lower-cased
  CHECK(result->executionId == kExecution);
  CHECK(result->appId == "116dbfae-7fb9-4983-8e23-5ccd8c508722");
  CHECK(result->node == "qlikserver1");
  CHECK(result->status == kFinishedFail);
  CHECK(isoOf(result->createdAt) == "2024-05-02T08:00:00.500Z");
  CHECK(isoOf(result->startTime) == "2024-05-02T08:00:01.200Z");
  CHECK(isoOf(result->stopTime) == "2024-05-02T08:03:12.800Z");
  CHECK(result->durationMs == 191600);
  CHECK(result->fileReferenceId == "c0ffee00-0000-4000-8000-000000000000");
  CHECK(result->scriptLogAvailable);
  CHECK(result->scriptLogSize == 48213);
  REQUIRE(result->details.size() == 2);
  CHECK(result->details[0].detailsType == 2);
  CHECK(result->details[0].message == "Changing task state from NeverStarted to Triggered");
  CHECK(isoOf(result->details[0].createdAt) == "2024-05-02T08:00:00.510Z");
  CHECK(result->details[1].detailsType == 0);
}

TEST_CASE("Condensed execution result: missing fields take defaults, 1753 is unset", "[decode]") {
  Result<ExecutionResult> result = decodeExecutionResult(
      R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":2,"startTime":"2024-05-02T08:00:01.200Z",
          "stopTime":"1753-01-01T00:00:00.000Z","details":null,"fileReferenceID":null})");
  REQUIRE(result.isOk());
  CHECK(result->taskId.empty());
  CHECK(result->executionId.empty());
  CHECK(result->status == kStarted);
  CHECK(result->startTime.has_value());
  CHECK_FALSE(result->stopTime.has_value());
  CHECK_FALSE(result->createdAt.has_value());
  CHECK(result->durationMs == 0);
  CHECK(result->fileReferenceId == "00000000-0000-0000-0000-000000000000");
  CHECK_FALSE(result->scriptLogAvailable);
  CHECK(result->details.empty());
}

TEST_CASE("Execution result: wrong types and bad values name the field", "[decode]") {
  auto [body, fragment] = GENERATE(table<std::string, std::string>({
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":"8"})",
       "executionresult.status: expected a number, got string"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":true})",
       "executionresult.status: expected a number, got boolean"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":7.5})",
       "executionresult.status: expected an integer in range"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":99999999999})",
       "executionresult.status: expected an integer in range"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":7,"duration":18446744073709551615})",
       "executionresult.duration: expected an integer in range"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001"})", "executionresult.status: missing"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":null})", "executionresult.status: is null"},
      {R"({"status":7})", "executionresult.id: missing"},
      {R"({"id":"x","status":7})", "executionresult.id: expected a GUID, got 'x'"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":7,"startTime":"yesterday"})",
       "executionresult.startTime: invalid date-time 'yesterday'"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":7,"startTime":5})",
       "executionresult.startTime: expected a date-time string, got number"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":7,"scriptLogAvailable":"yes"})",
       "executionresult.scriptLogAvailable: expected a boolean, got string"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":7,"details":{}})",
       "executionresult.details: expected an array, got object"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":7,"details":[{"message":3}]})",
       "executionresult.details[0].message: expected a string, got number"},
      {R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":7,"details":[1]})",
       "executionresult.details[0]: expected an object, got number"},
      {R"([])", "executionresult: expected an object, got array"},
      {R"("x")", "executionresult: expected an object, got string"},
      {"", "executionresult: empty answer"},
      {"{\"id\":", "executionresult: invalid JSON"},
      {"{} trailing", "executionresult: invalid JSON"},
      {"{\"id\":\"\\u0000\"}", "executionresult"},
  }));
  CAPTURE(body);
  Result<ExecutionResult> result = decodeExecutionResult(body);
  REQUIRE_FALSE(result.isOk());
  checkProtocolFailure(result.status(), fragment);
}

TEST_CASE("Integral numbers written as decimals are accepted", "[decode]") {
  Result<ExecutionResult> result =
      decodeExecutionResult(R"({"id":"9b1f0a2c-0000-4000-8000-000000000001","status":7.0,"duration":1.5e3})");
  REQUIRE(result.isOk());
  CHECK(result->status == 7);
  CHECK(result->durationMs == 1500);
}

TEST_CASE("Execution result lists keep QRS's order and name the bad row", "[decode]") {
  Result<std::vector<ExecutionResult>> list = decodeExecutionResultList(
      "[" + kFullResult + R"(,{"id":"9b1f0a2c-0000-4000-8000-000000000002","status":10}])");
  REQUIRE(list.isOk());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].status == kFinishedFail);
  CHECK((*list)[1].status == kRetry);

  Result<std::vector<ExecutionResult>> empty = decodeExecutionResultList("[]");
  REQUIRE(empty.isOk());
  CHECK(empty->empty());

  Result<std::vector<ExecutionResult>> bad =
      decodeExecutionResultList(R"([{"id":"9b1f0a2c-0000-4000-8000-000000000002","status":7},{"id":1,"status":7}])");
  REQUIRE_FALSE(bad.isOk());
  checkProtocolFailure(bad.status(), "executionresult[1].id: expected a GUID string, got number");

  checkProtocolFailure(decodeExecutionResultList("{}").status(), "executionresult list: expected an array, got object");
}

TEST_CASE("Execution session: full, with null reloadTask, and broken", "[decode]") {
  const std::string full = R"({
    "id": "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b", "createdDate": "2024-05-02T08:00:00.164Z",
    "reloadTask": {"id": "7f3c0000-1111-4222-8333-444455556666", "name": "Reload Sales", "privileges": null},
    "executionResult": {"id": "9b1f0a2c-0000-4000-8000-000000000001", "status": 2,
                        "startTime": "2024-05-02T08:00:01.200Z", "stopTime": "1753-01-01T00:00:00.000Z"},
    "abortReason": 0, "schemaPath": "ExecutionSession"})";
  Result<ExecutionSession> session = decodeExecutionSession(full);
  REQUIRE(session.isOk());
  CHECK(session->id == kExecution);
  CHECK(session->taskId == kTaskId);
  CHECK(session->taskName == "Reload Sales");
  CHECK(isoOf(session->createdAt) == "2024-05-02T08:00:00.164Z");
  REQUIRE(session->executionResult.has_value());
  CHECK(session->executionResult->status == kStarted);
  CHECK_FALSE(session->executionResult->stopTime.has_value());

  Result<ExecutionSession> bare = decodeExecutionSession(
      R"({"id":"2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b","reloadTask":null,"executionResult":null,"abortReason":1})");
  REQUIRE(bare.isOk());
  CHECK(bare->taskId.empty());
  CHECK_FALSE(bare->executionResult.has_value());
  CHECK(bare->abortReason == 1);

  checkProtocolFailure(
      decodeExecutionSession(R"({"id":"2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b","reloadTask":{"id":5}})").status(),
      "executionsession.reloadTask.id: expected a GUID string, got number");
  checkProtocolFailure(
      decodeExecutionSession(R"({"id":"2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b","reloadTask":[]})").status(),
      "executionsession.reloadTask: expected an object, got array");
  checkProtocolFailure(
      decodeExecutionSession(
          R"({"id":"2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b","executionResult":{"id":"9b1f0a2c-0000-4000-8000-000000000001","status":"x"}})")
          .status(),
      "executionsession.executionResult.status: expected a number, got string");

  Result<std::vector<ExecutionSession>> list = decodeExecutionSessionList("[" + full + "," + full + "]");
  REQUIRE(list.isOk());
  CHECK(list->size() == 2);
  checkProtocolFailure(decodeExecutionSessionList("[" + full + ",{}]").status(), "executionsession[1].id: missing");
}

TEST_CASE("Ticket, reload tasks and about", "[decode]") {
  Result<std::string> ticket = decodeTicket(R"({"value":"5f1e7a10-0000-4000-8000-00000000000a"})");
  REQUIRE(ticket.isOk());
  CHECK(*ticket == "5f1e7a10-0000-4000-8000-00000000000a");
  for (std::string bad : {"", "{}", R"({"value":""})", R"({"value":3})", R"("bare")", "garbage"}) {
    CAPTURE(bad);
    checkProtocolFailure(decodeTicket(bad).status(), "script log ticket: expected {\"value\":\"<ticket>\"}");
  }

  Result<std::vector<ReloadTaskInfo>> tasks = decodeReloadTaskList(
      R"([{"id":"7f3c0000-1111-4222-8333-444455556666","name":"Reload Sales","enabled":false,"taskType":0},
          {"id":"7f3c0000-1111-4222-8333-444455556667","name":"Other"}])");
  REQUIRE(tasks.isOk());
  REQUIRE(tasks->size() == 2);
  CHECK((*tasks)[0].name == "Reload Sales");
  CHECK_FALSE((*tasks)[0].enabled);
  CHECK((*tasks)[1].enabled);
  checkProtocolFailure(decodeReloadTaskList(R"([{"id":"7f3c0000-1111-4222-8333-444455556666"}])").status(),
                       "reloadtask[0].name: missing");

  Result<AboutInfo> about = decodeAbout(
      R"({"buildVersion":"30.4.0.0","buildDate":"10/8/2021 12:43:37 PM","databaseProvider":"Devart.Data.PostgreSql",
          "nodeType":1,"sharedPersistence":true,"requiresBootstrap":false,"singleNodeOnly":false,"schemaPath":"About"})");
  REQUIRE(about.isOk());
  CHECK(about->buildVersion == "30.4.0.0");
  CHECK(about->nodeType == 1);
  checkProtocolFailure(decodeAbout(R"({"nodeType":"central"})").status(),
                       "about.nodeType: expected a number, got string");
  checkProtocolFailure(decodeAbout("[]").status(), "about: expected an object, got array");
}

TEST_CASE("Decoders survive hostile input without throwing", "[decode]") {
  std::vector<std::string> bodies = {
      std::string(10000, '['),
      std::string(10000, '{'),
      "[" + std::string(100, '[') + std::string(100, ']') + "]",
      std::string("\xff\xfe\x00\x01", 4),
      "{\"id\":\"\xc3\x28\"}",
      "\"\\ud800\"",
      "[1e999999]",
      "{\"a\":" + std::string(5000, '9') + "}",
  };
  for (const std::string& body : bodies) {
    CAPTURE(body.substr(0, 20));
    CHECK_NOTHROW(decodeStartReply(body));
    CHECK_NOTHROW(decodeExecutionResult(body));
    CHECK_NOTHROW(decodeExecutionResultList(body));
    CHECK_NOTHROW(decodeExecutionSession(body));
    CHECK_NOTHROW(decodeExecutionSessionList(body));
    CHECK_NOTHROW(decodeTicket(body));
    CHECK_NOTHROW(decodeReloadTaskList(body));
    CHECK_NOTHROW(decodeAbout(body));
    CHECK_FALSE(decodeExecutionResult(body).isOk());
  }
}
