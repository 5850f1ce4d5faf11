// Change notifications without sockets: the engine's change records on a
// manual clock, the subscriptions through the router, and which changes
// become which callback bodies.
#include "sim/notifications.h"

#include <catch2/catch.hpp>

#include <Poco/URI.h>

#include "core/guid.h"
#include "core/time_format.h"
#include "manual_clock.h"
#include "qrs/types.h"
#include "sim/router.h"
#include "sim_test_util.h"

namespace qlik_reload::sim {
namespace {

using namespace std::chrono_literals;
using qlik_reload::testing::ManualClock;
using testing::parseArray;
using testing::parseObject;
using testing::qrsRequest;
using testing::scenarioFrom;

constexpr const char* kTaskA = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr const char* kTaskB = "bbbbbbbb-0000-4000-8000-000000000002";
constexpr const char* kUser = "INTERNAL\\sa_scheduler";
constexpr const char* kCallback = "http://127.0.0.1:8123/qrs-callback";

// Task A: 200 ms queued, 1000 ms running, success. Task B: one failed
// attempt, then a successful one.
constexpr const char* kScenario = R"({"tasks":[
    {"id":"aaaaaaaa-0000-4000-8000-000000000001","name":"A","queue_ms":200,"run_ms":1000},
    {"id":"bbbbbbbb-0000-4000-8000-000000000002","name":"B","queue_ms":0,"retry_delay_ms":100,
     "attempts":[{"outcome":"fail","run_ms":300},{"outcome":"success","run_ms":300}]}]})";

std::string encoded(const std::string& text) {
  std::string out;
  Poco::URI::encode(text, "&=+?#/ ", out);
  return out;
}

struct Notified {
  Notified() : engine(scenarioFrom(kScenario), clock), hub(engine), router(engine, nullptr, &hub) {}

  std::string start(const std::string& task) {
    SimReply reply = engine.startTask(task, StartMode::kSynchronous, kUser);
    REQUIRE(reply.status == 201);
    return parseObject(reply.body)->getValue<std::string>("value");
  }

  std::string resultIdOf(const std::string& execution, size_t attempt = 0) {
    auto rows = parseArray(engine.list(Collection::kExecutionResult, "executionID eq " + execution, true).body);
    REQUIRE(rows->size() > attempt);
    return rows->getObject(static_cast<unsigned>(attempt))->getValue<std::string>("id");
  }

  // POST /qrs/notification with these query parameters (values encoded) and body.
  SimReply subscribe(const std::vector<std::pair<std::string, std::string>>& parameters,
                     const std::string& body = std::string("\"") + kCallback + "\"") {
    std::string target = "/qrs/notification";
    for (size_t i = 0; i < parameters.size(); ++i) {
      target += (i == 0 ? "?" : "&") + parameters[i].first + "=" + encoded(parameters[i].second);
    }
    return router.handle(qrsRequest("POST", target, {}, body));
  }

  std::string subscribed(const std::vector<std::pair<std::string, std::string>>& parameters) {
    SimReply reply = subscribe(parameters);
    INFO(reply.body);
    REQUIRE(reply.status == 201);
    CHECK_THAT(reply.contentType, Catch::StartsWith("application/json"));
    std::string handle = parseObject(reply.body)->getValue<std::string>("value");
    REQUIRE(isGuid(handle));
    return handle;
  }

  // The callbacks for the changes recorded so far, as parsed bodies.
  std::vector<std::pair<std::string, Poco::JSON::Array::Ptr>> callbacks() {
    std::vector<std::pair<std::string, Poco::JSON::Array::Ptr>> out;
    for (const CallbackDelivery& delivery : hub.route(engine.collectChanges())) {
      CHECK(delivery.url == kCallback);
      out.emplace_back(delivery.handle, parseArray(delivery.body()));
    }
    return out;
  }

  Poco::JSON::Object::Ptr describe() {
    SimReply reply = router.handle(SimRequest::make("GET", "/sim/notifications"));
    REQUIRE(reply.status == 200);
    return parseObject(reply.body);
  }

  ManualClock clock;
  SimEngine engine;
  NotificationHub hub;
  Router router;
};

std::string summary(const EntityChange& change) {
  std::string status = change.entity && change.entity->has("status")
                           ? qrs::taskExecutionStatusName(change.entity->getValue<int>("status"))
                           : std::string("-");
  return change.objectType + " " + changeTypeName(change.changeType) + " " + status;
}

std::vector<std::string> summaries(const std::vector<EntityChange>& changes) {
  std::vector<std::string> out;
  for (const EntityChange& change : changes) out.push_back(summary(change));
  return out;
}

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// ---- The engine's change records

TEST_CASE("with results tracked, a walk records an Add, then one Update per transition at its instant",
          "[notifications][engine]") {
  Notified sim;
  CHECK(sim.engine.collectChanges().empty());  // tracking is off by default
  sim.engine.trackChanges({"executionresult"});
  CHECK_FALSE(sim.engine.nextTransitionAt());

  const Clock::TimePoint t0 = sim.clock.now();
  const std::string execution = sim.start(kTaskA);
  const std::string result = sim.resultIdOf(execution);
  std::vector<EntityChange> added = sim.engine.collectChanges();
  REQUIRE(added.size() == 1);
  CHECK(added[0].objectType == "ExecutionResult");
  CHECK(added[0].objectId == result);
  CHECK(added[0].changeType == ChangeType::kAdd);
  CHECK(added[0].entity->getValue<int>("status") == qrs::kTriggered);
  CHECK(added[0].entity->getValue<std::string>("executionID") == execution);
  CHECK(has(added[0].changedProperties, "status"));
  CHECK(has(added[0].changedProperties, "executionID"));
  CHECK(added[0].at == t0);
  CHECK(added[0].changeDate == formatIso8601(sim.clock.wallNow()));
  REQUIRE(sim.engine.nextTransitionAt());
  CHECK(*sim.engine.nextTransitionAt() == t0 + 100ms);

  sim.clock.advance(100ms);
  std::vector<EntityChange> queued = sim.engine.collectChanges();
  REQUIRE(queued.size() == 1);
  CHECK(summary(queued[0]) == "ExecutionResult Update Queued");
  CHECK(queued[0].changedProperties == std::vector<std::string>{"modifiedDate", "status", "details"});
  CHECK(*sim.engine.nextTransitionAt() == t0 + 200ms);

  // Nobody looks for a while: every transition is still recorded, in order,
  // with the entity as it was right after that transition.
  sim.clock.advance(5000ms);
  std::vector<EntityChange> later = sim.engine.collectChanges();
  CHECK(summaries(later) ==
        std::vector<std::string>{"ExecutionResult Update Started", "ExecutionResult Update FinishedSuccess"});
  REQUIRE(later.size() == 2);
  CHECK(later[0].at == t0 + 200ms);
  CHECK(has(later[0].changedProperties, "startTime"));
  CHECK(has(later[0].changedProperties, "fileReferenceID"));
  CHECK_FALSE(has(later[0].changedProperties, "stopTime"));
  CHECK(later[1].at == t0 + 1200ms);
  CHECK(has(later[1].changedProperties, "stopTime"));
  CHECK(has(later[1].changedProperties, "duration"));
  CHECK(later[1].entity->getValue<std::int64_t>("duration") == 1000);
  CHECK_FALSE(sim.engine.nextTransitionAt());
  CHECK(sim.engine.collectChanges().empty());
}

TEST_CASE("a retry records the Retry row's Update and the next row's Add; sessions get Add, Update and Delete",
          "[notifications][engine]") {
  Notified sim;
  sim.engine.trackChanges({"ExecutionResult", "ExecutionSession"});
  const std::string execution = sim.start(kTaskB);
  sim.clock.advance(10s);
  std::vector<EntityChange> changes = sim.engine.collectChanges();
  CHECK(summaries(changes) == std::vector<std::string>{
                                  "ExecutionSession Add -",
                                  "ExecutionResult Add Triggered",
                                  "ExecutionResult Update Started",
                                  "ExecutionSession Update -",
                                  "ExecutionResult Update Retry",
                                  "ExecutionSession Update -",
                                  "ExecutionResult Add Triggered",
                                  "ExecutionSession Update -",
                                  "ExecutionResult Update Started",
                                  "ExecutionSession Update -",
                                  "ExecutionResult Update FinishedSuccess",
                                  "ExecutionSession Delete -",
                              });
  REQUIRE(changes.size() == 12);
  CHECK(changes[0].objectId == execution);
  CHECK(changes[1].objectId == sim.resultIdOf(execution, 0));
  CHECK(changes[6].objectId == sim.resultIdOf(execution, 1));
  CHECK(changes[11].objectId == execution);
  CHECK_FALSE(changes[11].entity);
  CHECK(changes[11].changedProperties.empty());
}

TEST_CASE("a stop records AbortInitiated at once, then Aborting and Aborted", "[notifications][engine]") {
  Notified sim;
  sim.engine.trackChanges({"ExecutionResult"});
  sim.start(kTaskA);
  sim.clock.advance(500ms);
  (void)sim.engine.collectChanges();
  REQUIRE(sim.engine.stopTask(kTaskA).status == 204);
  CHECK(summaries(sim.engine.collectChanges()) == std::vector<std::string>{"ExecutionResult Update AbortInitiated"});
  sim.clock.advance(1s);
  CHECK(summaries(sim.engine.collectChanges()) ==
        std::vector<std::string>{"ExecutionResult Update Aborting", "ExecutionResult Update Aborted"});
}

TEST_CASE("the change listener fires when a change waits where none did; turning tracking off drops them",
          "[notifications][engine]") {
  Notified sim;
  int fired = 0;
  sim.engine.setChangeListener([&] { ++fired; });
  sim.start(kTaskA);
  CHECK(fired == 0);  // not tracked
  sim.engine.trackChanges({"ExecutionResult"});
  sim.start(kTaskB);
  CHECK(fired == 1);
  sim.clock.advance(100ms);
  (void)sim.engine.get(Collection::kExecutionResult, kTaskA);  // any call plays forward: A goes Queued
  CHECK(fired == 1);  // B's Add still waits
  CHECK(sim.engine.collectChanges().size() >= 2);
  sim.clock.advance(100ms);
  (void)sim.engine.get(Collection::kExecutionResult, kTaskA);
  CHECK(fired == 2);
  sim.engine.trackChanges({});
  CHECK(sim.engine.collectChanges().empty());
  sim.engine.trackChanges({"ReloadTask"});  // no changes reported for it
  sim.clock.advance(10s);
  CHECK(sim.engine.collectChanges().empty());
}

TEST_CASE("the record shows each finished run's simulated finish time", "[notifications][engine]") {
  Notified sim;
  const std::string execution = sim.start(kTaskA);
  auto running = parseObject(sim.engine.record().body)->getArray("executions")->getObject(0);
  CHECK(running->isNull("finished_at"));
  CHECK(running->isNull("finished_at_ms"));
  sim.clock.advance(1200ms);
  const std::string finishedAt = formatIso8601(sim.clock.wallNow());
  sim.clock.advance(3s);
  auto record = parseObject(sim.engine.record().body);
  auto done = record->getArray("executions")->getObject(0);
  CHECK(done->getValue<std::string>("finished_at") == finishedAt);
  Result<std::optional<WallTime>> parsed = parseQrsTime(finishedAt);
  REQUIRE(parsed.isOk());
  REQUIRE(parsed->has_value());
  CHECK(done->getValue<std::int64_t>("finished_at_ms") == toEpochMs(**parsed));
  auto stopTime = parseObject(sim.engine.get(Collection::kExecutionResult, sim.resultIdOf(execution)).body)
                      ->getValue<std::string>("stopTime");
  CHECK(stopTime == finishedAt);
  CHECK(record->getObject("notifications")->getValue<int>("sent") == 0);
  sim.engine.countNotification(true);
  sim.engine.countNotification(false);
  sim.engine.countNotification(true);
  auto counted = parseObject(sim.engine.record().body)->getObject("notifications");
  CHECK(counted->getValue<int>("sent") == 2);
  CHECK(counted->getValue<int>("failed") == 1);
  sim.engine.clearRecord();
  CHECK(parseObject(sim.engine.record().body)->getObject("notifications")->getValue<int>("sent") == 0);
}

// ---- Subscribing and unsubscribing through the router

TEST_CASE("subscribe answers 201 with a handle, the hook lists it, unsubscribe answers 204 then 404",
          "[notifications][router]") {
  Notified sim;
  const std::string handle =
      sim.subscribed({{"name", "ExecutionResult"}, {"changetype", "Update"}, {"filter", "status eq FinishedFail"}});
  auto listed = sim.describe()->getArray("subscriptions");
  REQUIRE(listed->size() == 1);
  auto item = listed->getObject(0);
  CHECK(item->getValue<std::string>("handle") == handle);
  CHECK(item->getValue<std::string>("name") == "ExecutionResult");
  CHECK(item->getValue<std::string>("filter") == "status eq FinishedFail");
  CHECK(item->getValue<int>("changetype") == 2);
  CHECK(item->getValue<std::string>("changetype_name") == "Update");
  CHECK(item->getValue<std::string>("url") == kCallback);
  CHECK(item->getObject("deliveries")->getValue<int>("attempted") == 0);

  sim.hub.noteDelivery(handle, true);
  sim.hub.noteDelivery(handle, false);
  auto counted = sim.describe();
  auto deliveries = counted->getArray("subscriptions")->getObject(0)->getObject("deliveries");
  CHECK(deliveries->getValue<int>("attempted") == 2);
  CHECK(deliveries->getValue<int>("delivered") == 1);
  CHECK(deliveries->getValue<int>("failed") == 1);
  CHECK(counted->getValue<int>("sent") == 1);
  CHECK(counted->getValue<int>("failed") == 1);

  CHECK(sim.router.handle(qrsRequest("DELETE", "/qrs/notification?handle=" + handle)).status == 204);
  CHECK(sim.describe()->getArray("subscriptions")->size() == 0);
  SimReply again = sim.router.handle(qrsRequest("DELETE", "/qrs/notification?handle=" + handle));
  CHECK(again.status == 404);
  CHECK(sim.router.handle(qrsRequest("DELETE", "/qrs/notification?handle=not-a-guid")).status == 404);
  SimReply missing = sim.router.handle(qrsRequest("DELETE", "/qrs/notification"));
  CHECK(missing.status == 400);
  CHECK(missing.body == "Missing parameter value(s)");

  // Like every /qrs call, subscribing needs the xrfkey.
  SimReply noKey = sim.router.handle(
      SimRequest::make("POST", "/qrs/notification?name=ExecutionResult", {}, std::string("\"") + kCallback + "\""));
  CHECK(noKey.status == 403);
  CHECK(sim.router.handle(SimRequest::make("DELETE", "/sim/notifications")).status == 204);
}

TEST_CASE("changetype takes QRS's numbers and names in any case; the URL may come unquoted",
          "[notifications][router]") {
  auto [given, expected] = GENERATE(table<std::string, int>({{"0", 0}, {"1", 1}, {"2", 2}, {"3", 3},
                                                             {"Undefined", 0}, {"add", 1}, {"Update", 2},
                                                             {"UPDATE", 2}, {"delete", 3}}));
  CAPTURE(given);
  Notified sim;
  sim.subscribed({{"name", "ExecutionResult"}, {"changetype", given}});
  CHECK(sim.describe()->getArray("subscriptions")->getObject(0)->getValue<int>("changetype") == expected);

  SimReply bare = sim.subscribe({{"name", "ExecutionResult"}, {"changeType", given}}, kCallback);
  CHECK(bare.status == 201);
  auto second = sim.describe()->getArray("subscriptions")->getObject(1);
  CHECK(second->getValue<std::string>("url") == kCallback);
  CHECK(second->getValue<int>("changetype") == expected);
}

TEST_CASE("bad subscription parameters answer 400 with a plain-text reason", "[notifications][router]") {
  const std::string url = std::string("\"") + kCallback + "\"";
  auto [parameters, body, message] =
      GENERATE_COPY(table<std::vector<std::pair<std::string, std::string>>, std::string, std::string>({
          {{{"changetype", "Update"}}, url, "Missing parameter value(s)"},
          {{{"name", ""}}, url, "Missing parameter value(s)"},
          {{{"name", "ExecutionResult"}, {"changetype", "Modify"}}, url,
           "The value 'Modify' is not valid for changetype."},
          {{{"name", "ExecutionResult"}, {"changetype", "4"}}, url, "The value '4' is not valid for changetype."},
          {{{"name", "ExecutionResult"}, {"filter", "status eq"}}, url, "Cannot parse the expression: status eq"},
          {{{"name", "ExecutionResult"}, {"filter", "()"}}, url, "Invalid expression"},
          {{{"name", "ExecutionResult"}, {"filter", "nosuch eq 1"}}, url, "Cannot parse the expression: nosuch eq 1"},
          {{{"name", "ExecutionResult"}, {"filter", "status eq Finished"}}, url,
           "Cannot parse the expression: status eq Finished"},
          {{{"name", "ExecutionResult"}, {"id", "123"}}, url, "The value '123' is not valid for id."},
          {{{"name", "ExecutionResult"}}, "", "Invalid callback URL: the body is empty"},
          {{{"name", "ExecutionResult"}}, "42", "Invalid callback URL: 42 (http or https only)"},
          {{{"name", "ExecutionResult"}}, "\"ftp://host/x\"", "Invalid callback URL: ftp://host/x (http or https only)"},
          {{{"name", "ExecutionResult"}}, "\"http:///x\"", "Invalid callback URL: http:///x (no host)"},
          {{{"name", "ExecutionResult"}}, "\"http://host/x", "Invalid callback URL: the body is not a JSON string"},
      }));
  CAPTURE(body, message);
  Notified sim;
  SimReply reply = sim.subscribe(parameters, body);
  CHECK(reply.status == 400);
  CHECK_THAT(reply.contentType, Catch::StartsWith("text/plain"));
  CHECK(reply.body == message);
  CHECK(sim.describe()->getArray("subscriptions")->size() == 0);
}

TEST_CASE("without a notification hub the routes do not exist", "[notifications][router]") {
  ManualClock clock;
  SimEngine engine(scenarioFrom(kScenario), clock);
  Router router(engine);
  SimReply reply = router.handle(qrsRequest("POST", "/qrs/notification?name=ExecutionResult", {},
                                            std::string("\"") + kCallback + "\""));
  CHECK(reply.status == 404);
  CHECK(reply.body == "No matching endpoint found");
  CHECK(router.handle(SimRequest::make("GET", "/sim/notifications")).status == 404);
}

// ---- Which changes reach which subscription

TEST_CASE("a filter for the final states sends exactly one callback, when the run finishes",
          "[notifications][router]") {
  Notified sim;
  const std::string handle = sim.subscribed(
      {{"name", "ExecutionResult"}, {"changetype", "Update"}, {"filter", "status eq FinishedSuccess or status eq FinishedFail"}});
  const std::string execution = sim.start(kTaskA);
  const std::string result = sim.resultIdOf(execution);
  CHECK(sim.callbacks().empty());
  sim.clock.advance(1199ms);
  CHECK(sim.callbacks().empty());
  sim.clock.advance(1ms);
  auto callbacks = sim.callbacks();
  REQUIRE(callbacks.size() == 1);
  CHECK(callbacks[0].first == handle);
  auto body = callbacks[0].second;
  REQUIRE(body->size() == 1);
  auto record = body->getObject(0);
  CHECK(record->getValue<std::string>("objectType") == "ExecutionResult");
  CHECK(record->getValue<std::string>("objectID") == result);
  CHECK(record->getValue<std::string>("changeType") == "Update");
  CHECK(record->getValue<std::string>("changeDate") == formatIso8601(sim.clock.wallNow()));
  auto properties = record->getArray("changedProperties");
  std::vector<std::string> names;
  for (unsigned i = 0; i < properties->size(); ++i) names.push_back(properties->getElement<std::string>(i));
  CHECK(has(names, "status"));
  CHECK(has(names, "stopTime"));
  sim.clock.advance(10s);
  CHECK(sim.callbacks().empty());
  CHECK(sim.describe()->getArray("subscriptions")->getObject(0)->getValue<int>("records") == 1);
}

TEST_CASE("changes found together make one POST per subscription with one record per entity",
          "[notifications][router]") {
  Notified sim;
  const std::string everything = sim.subscribed({{"name", "executionresult"}});
  const std::string adds = sim.subscribed({{"name", "ExecutionResult"}, {"changetype", "Add"}});
  const std::string a = sim.start(kTaskA);
  const std::string b = sim.start(kTaskB);
  sim.clock.advance(10s);  // A: 3 updates; B: 2 rows, 5 updates
  auto callbacks = sim.callbacks();
  REQUIRE(callbacks.size() == 2);
  CHECK(callbacks[0].first == everything);
  auto all = callbacks[0].second;
  REQUIRE(all->size() == 3);
  CHECK(all->getObject(0)->getValue<std::string>("objectID") == sim.resultIdOf(a));
  CHECK(all->getObject(0)->getValue<std::string>("changeType") == "Add");  // the first change's type
  CHECK(all->getObject(1)->getValue<std::string>("objectID") == sim.resultIdOf(b, 0));
  CHECK(all->getObject(2)->getValue<std::string>("objectID") == sim.resultIdOf(b, 1));
  CHECK(callbacks[1].first == adds);
  CHECK(callbacks[1].second->size() == 3);
  for (unsigned i = 0; i < 3; ++i) CHECK(callbacks[1].second->getObject(i)->getValue<std::string>("changeType") == "Add");
}

TEST_CASE("id and propertyname narrow a subscription; ExecutionSession Delete ignores the filter",
          "[notifications][router]") {
  Notified sim;
  const std::string a = sim.start(kTaskA);
  const std::string resultA = sim.resultIdOf(a);
  const std::string onlyA = sim.subscribed({{"name", "ExecutionResult"}, {"id", resultA}, {"changetype", "Update"}});
  const std::string stopTimes =
      sim.subscribed({{"name", "ExecutionResult"}, {"propertyname", "stoptime"}, {"changetype", "update"}});
  const std::string deletes = sim.subscribed(
      {{"name", "ExecutionSession"}, {"changetype", "Delete"}, {"filter", "id eq " + std::string(kZeroGuid)}});
  const std::string filteredUpdates = sim.subscribed(
      {{"name", "ExecutionSession"}, {"changetype", "Update"}, {"filter", "id eq " + std::string(kZeroGuid)}});
  const std::string b = sim.start(kTaskB);
  sim.clock.advance(10s);
  std::map<std::string, Poco::JSON::Array::Ptr> byHandle;
  for (auto& [handle, body] : sim.callbacks()) byHandle[handle] = body;
  CHECK(byHandle.count(filteredUpdates) == 0);

  REQUIRE(byHandle.count(onlyA) == 1);
  REQUIRE(byHandle[onlyA]->size() == 1);
  CHECK(byHandle[onlyA]->getObject(0)->getValue<std::string>("objectID") == resultA);

  // Only the updates that set stopTime: A's end, B's Retry and B's end.
  REQUIRE(byHandle.count(stopTimes) == 1);
  CHECK(byHandle[stopTimes]->size() == 3);

  REQUIRE(byHandle.count(deletes) == 1);
  auto deleted = byHandle[deletes];
  REQUIRE(deleted->size() == 2);
  CHECK(deleted->getObject(0)->getValue<std::string>("objectType") == "ExecutionSession");
  CHECK(deleted->getObject(0)->getValue<std::string>("objectID") == b);  // B ends first, at 700 ms
  CHECK(deleted->getObject(0)->getValue<std::string>("changeType") == "Delete");
  CHECK(deleted->getObject(1)->getValue<std::string>("objectID") == a);
}

TEST_CASE("a subscription for a type the simulator does not report is kept but never fires",
          "[notifications][router]") {
  Notified sim;
  sim.subscribed({{"name", "App"}});
  CHECK_FALSE(sim.hub.active());
  sim.start(kTaskA);
  sim.clock.advance(10s);
  CHECK(sim.callbacks().empty());
  sim.subscribed({{"name", "ExecutionResult"}});
  CHECK(sim.hub.active());
  sim.hub.clear();
  CHECK_FALSE(sim.hub.active());
}

}  // namespace
}  // namespace qlik_reload::sim
