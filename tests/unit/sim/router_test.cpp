#include "sim/router.h"

#include <catch2/catch.hpp>

#include "manual_clock.h"
#include "sim/faults.h"
#include "sim_test_util.h"

namespace qlik_reload::sim {
namespace {

using qlik_reload::testing::ManualClock;
using testing::kXrfkey;
using testing::parseArray;
using testing::parseObject;
using testing::qrsRequest;
using testing::scenarioFrom;

constexpr const char* kTask = "aaaaaaaa-0000-4000-8000-000000000001";

struct Routed {
  explicit Routed(const std::string& scenario = R"({"tasks":[{"id":"aaaaaaaa-0000-4000-8000-000000000001",
                      "name":"Reload Sales","queue_ms":0,"run_ms":1000}],"denied_users":["INTERNAL\\someone"]})")
      : engine(scenarioFrom(scenario), clock), faults({}, 1, engine), router(engine, &faults) {}

  ManualClock clock;
  SimEngine engine;
  FaultInjector faults;
  Router router;
};

TEST_CASE("the xrfkey check wants a matching 16-character pair in query and header", "[router]") {
  auto [parameter, value, header, headerValue, status] = GENERATE(table<std::string, std::string, std::string, std::string, int>({
      {"xrfkey", "abcdefgh12345678", "X-Qlik-Xrfkey", "abcdefgh12345678", 200},
      {"Xrfkey", "abcdefgh12345678", "x-qlik-xrfkey", "abcdefgh12345678", 200},
      {"xrfKey", "ABCDEFGH12345678", "X-QLIK-XRFKEY", "ABCDEFGH12345678", 200},
      {"xrfkey", "abcdefgh12345678", "", "", 403},
      {"", "", "X-Qlik-Xrfkey", "abcdefgh12345678", 403},
      {"xrfkey", "abcdefgh12345678", "X-Qlik-Xrfkey", "abcdefgh12345679", 403},
      {"xrfkey", "abcdefgh1234567", "X-Qlik-Xrfkey", "abcdefgh1234567", 403},
      {"xrfkey", "abcdefgh123456789", "X-Qlik-Xrfkey", "abcdefgh123456789", 403},
      {"xrfkey", "abcdefgh-2345678", "X-Qlik-Xrfkey", "abcdefgh-2345678", 403},
      {"xrfkey", "ABCDEFGH12345678", "X-Qlik-Xrfkey", "abcdefgh12345678", 403},
  }));
  CAPTURE(parameter, value, header, headerValue);
  Routed routed;
  SimRequest request = SimRequest::make("GET", "/qrs/about");
  if (!parameter.empty()) request.query.emplace_back(parameter, value);
  if (!header.empty()) request.headers.emplace_back(header, headerValue);
  SimReply reply = routed.router.handle(request);
  CHECK(reply.status == status);
  if (status == 403) {
    CHECK(reply.body == "XSRF prevention check failed. Possible XSRF discovered.");
    CHECK_THAT(reply.contentType, Catch::StartsWith("text/plain"));
  }
}

TEST_CASE("X-Qlik-User is parsed leniently", "[router]") {
  auto [header, identity] = GENERATE(table<std::string, std::string>({
      {"UserDirectory=INTERNAL; UserId=sa_repository", "INTERNAL\\sa_repository"},
      {"UserDirectory=internal;UserId=sa_repository", "internal\\sa_repository"},
      {"UserDirectory= Internal; UserId= sa_repository ", "Internal\\sa_repository"},
      {"userid=svc; userdirectory=CORP", "CORP\\svc"},
      {" USERDIRECTORY = CORP ;  USERID = a=b ", "CORP\\a=b"},
      {"garbage", "INTERNAL\\QlikClient"},
      {"UserDirectory=CORP", "INTERNAL\\QlikClient"},
  }));
  CAPTURE(header);
  SimRequest request = SimRequest::make("GET", "/qrs/about", {{"X-Qlik-User", header}});
  request.clientCommonName = "QlikClient";
  CHECK(callerIdentity(request) == identity);
}

TEST_CASE("without X-Qlik-User the caller is the certificate's identity", "[router]") {
  SimRequest request = SimRequest::make("GET", "/qrs/about");
  CHECK(callerIdentity(request) == "INTERNAL\\sa_repository");
  request.clientCommonName = "QlikClient";
  CHECK(callerIdentity(request) == "INTERNAL\\QlikClient");
}

TEST_CASE("denied users get 403 Access denied and start nothing", "[router]") {
  Routed routed;
  SimReply reply = routed.router.handle(qrsRequest("POST", std::string("/qrs/task/") + kTask + "/start/synchronous",
                                                   {{"X-Qlik-User", "UserDirectory=internal; UserId=SomeOne"}}));
  CHECK(reply.status == 403);
  CHECK(reply.body == "Access denied");
  CHECK(parseObject(routed.engine.record().body)->getArray("starts")->size() == 0);
  SimReply allowed = routed.router.handle(qrsRequest("POST", std::string("/qrs/task/") + kTask + "/start/synchronous",
                                                     {{"X-Qlik-User", "UserDirectory=INTERNAL; UserId=other"}}));
  CHECK(allowed.status == 201);
  auto starts = parseObject(routed.engine.record().body)->getArray("starts");
  REQUIRE(starts->size() == 1);
  CHECK(starts->getObject(0)->getValue<std::string>("user") == "INTERNAL\\other");
}

TEST_CASE("each QRS route reaches its endpoint", "[router]") {
  Routed routed;
  const std::string task = kTask;
  SimReply started = routed.router.handle(qrsRequest("POST", "/qrs/task/" + task + "/start/synchronous"));
  REQUIRE(started.status == 201);
  const std::string id = parseObject(started.body)->getValue<std::string>("value");

  auto status = [&](const std::string& method, const std::string& target, const std::string& body = "") {
    return routed.router.handle(qrsRequest(method, target, {}, body)).status;
  };
  CHECK(status("GET", "/qrs/about") == 200);
  CHECK(status("GET", "/QRS/About") == 200);
  CHECK(status("GET", "/qrs/executionsession/" + id) == 200);
  CHECK(status("GET", "/qrs/executionsession") == 200);
  CHECK(status("GET", "/qrs/executionsession/full?filter=id%20eq%20" + id) == 200);
  CHECK(status("GET", "/qrs/executionsession/count") == 200);
  CHECK(status("GET", "/qrs/executionresult?filter=ExecutionId%20eq%20" + id) == 200);
  CHECK(status("GET", "/qrs/executionresult/full") == 200);
  CHECK(status("GET", "/qrs/executionresult/count?filter=status%20eq%20Started") == 200);
  CHECK(status("GET", "/qrs/reloadtask") == 200);
  CHECK(status("GET", "/qrs/reloadtask/full?filter=name%20eq%20%27Reload%20Sales%27") == 200);
  CHECK(status("GET", "/qrs/reloadtask/count") == 200);
  CHECK(status("GET", "/qrs/reloadtask/" + task) == 200);
  CHECK(status("POST", "/qrs/task/start/synchronous?name=Reload%20Sales") == 201);
  CHECK(status("POST", "/qrs/task/start?name=Reload%20Sales") == 204);
  CHECK(status("POST", "/qrs/task/" + task + "/start") == 204);
  CHECK(status("POST", "/qrs/task/start/many", "[\"" + task + "\"]") == 204);
  CHECK(status("GET", "/qrs/executionresult?filter=status%20eq") == 400);

  auto rows = parseArray(routed.router.handle(qrsRequest("GET", "/qrs/executionresult/full?filter=executionID%20eq%20" + id)).body);
  REQUIRE(rows->size() == 1);
  const std::string resultId = rows->getObject(0)->getValue<std::string>("id");
  const std::string fileReference = rows->getObject(0)->getValue<std::string>("fileReferenceID");
  SimReply ticket = routed.router.handle(
      qrsRequest("GET", "/qrs/reloadtask/" + task + "/scriptlogfile?executionResultId=" + resultId));
  REQUIRE(ticket.status == 200);
  CHECK(status("GET", "/qrs/reloadtask/" + task + "/scriptlog?fileReferenceId=" + fileReference) == 200);
  const std::string value = parseObject(ticket.body)->getValue<std::string>("value");
  CHECK(status("GET", "/qrs/download/reloadtask/" + value + "/scriptlog.txt") == 404);  // still running
  routed.clock.advance(std::chrono::seconds(2));
  CHECK(status("GET", "/qrs/download/reloadtask/" + value + "/Reload%20Sales.log") == 200);

  CHECK(status("POST", "/qrs/task/" + task + "/stop") == 204);
  CHECK(status("POST", "/qrs/task/stop/many", "[\"" + task + "\"]") == 204);
}

TEST_CASE("unknown paths and methods answer 404 No matching endpoint found", "[router]") {
  Routed routed;
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/qrs/nothing"},
           {"GET", "/qrs/task/" + std::string(kTask)},
           {"GET", "/qrs/task/" + std::string(kTask) + "/start/synchronous"},
           {"DELETE", "/qrs/about"},
           {"GET", "/qrs/executionsession/not-a-guid"},
           {"POST", "/qrs/reloadtask/" + std::string(kTask) + "/start"},
           {"GET", "/qrs/download/reloadtask/" + std::string(kTask)},
           {"GET", "/other"},
           {"GET", "/sim/nothing"},
       }) {
    CAPTURE(method, target);
    SimReply reply = routed.router.handle(qrsRequest(method, target));
    CHECK(reply.status == 404);
    CHECK(reply.body == "No matching endpoint found");
  }
}

TEST_CASE("missing query parameters answer 400 Missing parameter value(s)", "[router]") {
  Routed routed;
  for (const std::string& target : {std::string("/qrs/task/start/synchronous"), std::string("/qrs/task/start?name="),
                                    "/qrs/reloadtask/" + std::string(kTask) + "/scriptlogfile",
                                    "/qrs/reloadtask/" + std::string(kTask) + "/scriptlog"}) {
    CAPTURE(target);
    std::string method = target.find("/task/") != std::string::npos ? "POST" : "GET";
    SimReply reply = routed.router.handle(qrsRequest(method, target));
    CHECK(reply.status == 400);
    CHECK(reply.body == "Missing parameter value(s)");
  }
}

TEST_CASE("requests are counted by route template, the /sim/ hooks need no xrfkey and are not counted", "[router]") {
  Routed routed;
  routed.router.handle(qrsRequest("POST", std::string("/qrs/task/") + kTask + "/start/synchronous"));
  routed.router.handle(qrsRequest("GET", "/qrs/executionsession/" + std::string(kTask)));
  routed.router.handle(SimRequest::make("GET", "/qrs/about"));  // 403, still a request QRS received
  routed.router.handle(qrsRequest("GET", "/qrs/nothing"));
  SimReply record = routed.router.handle(SimRequest::make("GET", "/sim/record"));
  REQUIRE(record.status == 200);
  auto requests = parseObject(record.body)->getObject("requests");
  CHECK(requests->getValue<int>("total") == 4);
  auto byRoute = requests->getObject("by_route");
  CHECK(byRoute->getValue<int>("POST /qrs/task/{id}/start/synchronous") == 1);
  CHECK(byRoute->getValue<int>("GET /qrs/executionsession/{id}") == 1);
  CHECK(byRoute->getValue<int>("GET /qrs/about") == 1);
  CHECK(byRoute->getValue<int>("GET (unmatched)") == 1);

  CHECK(Router::routeTemplate(SimRequest::make("GET", "/qrs/download/reloadtask/" + std::string(kTask) + "/x.log")) ==
        "GET /qrs/download/reloadtask/{ticket}/{fileName}");

  CHECK(routed.router.handle(SimRequest::make("DELETE", "/sim/record")).status == 204);
  CHECK(parseObject(routed.router.handle(SimRequest::make("GET", "/sim/record")).body)
            ->getObject("requests")
            ->getValue<int>("total") == 0);
}

TEST_CASE("POST /sim/tasks adds tasks and /sim/faults manages fault rules", "[router]") {
  Routed routed;
  SimReply added = routed.router.handle(SimRequest::make(
      "POST", "/sim/tasks", {}, R"({"id":"bbbbbbbb-0000-4000-8000-000000000002","name":"Reload Finance"})"));
  CHECK(added.status == 200);
  CHECK(routed.router.handle(qrsRequest("GET", "/qrs/reloadtask/bbbbbbbb-0000-4000-8000-000000000002")).status == 200);
  SimReply bad = routed.router.handle(SimRequest::make("POST", "/sim/tasks", {}, R"({"id":"bbbbbbbb-0000-4000-8000-000000000002"})"));
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::Contains("task.name"));

  SimReply set = routed.router.handle(SimRequest::make(
      "POST", "/sim/faults", {}, R"([{"route":"/qrs/about","count":1,"action":"status:503","retry_after_s":2}])"));
  REQUIRE(set.status == 200);
  auto rules = parseArray(routed.router.handle(SimRequest::make("GET", "/sim/faults")).body);
  REQUIRE(rules->size() == 1);
  CHECK(rules->getObject(0)->getValue<std::string>("action") == "status:503");
  CHECK(rules->getObject(0)->getValue<int>("count") == 1);
  SimReply invalid = routed.router.handle(SimRequest::make("POST", "/sim/faults", {}, R"([{"action":"boom"}])"));
  CHECK(invalid.status == 400);
  CHECK_THAT(invalid.body, Catch::StartsWith("faults[0].action"));
  CHECK(routed.router.handle(SimRequest::make("DELETE", "/sim/faults")).status == 204);
  CHECK(parseArray(routed.router.handle(SimRequest::make("GET", "/sim/faults")).body)->size() == 0);
}

}  // namespace
}  // namespace qlik_reload::sim
