#include "sim/fault_rule.h"

#include <catch2/catch.hpp>

#include "manual_clock.h"
#include "sim/engine.h"
#include "sim/faults.h"
#include "sim_test_util.h"

namespace qlik_reload::sim {
namespace {

using namespace std::chrono_literals;
using qlik_reload::testing::ManualClock;
using testing::parseObject;
using testing::scenarioFrom;

TEST_CASE("route globs: * stays within a segment, ** crosses segments", "[faults]") {
  auto [pattern, path, expected] = GENERATE(table<std::string, std::string, bool>({
      {"/qrs/task/*/start/synchronous", "/qrs/task/7f3c/start/synchronous", true},
      {"/qrs/task/*/start/synchronous", "/qrs/task/start/synchronous", false},
      {"/qrs/task/*/start/synchronous", "/qrs/task/a/b/start/synchronous", false},
      {"/qrs/task/*/start", "/qrs/task/7f3c/start/synchronous", false},
      {"/qrs/executionsession/*", "/qrs/executionsession/abc", true},
      {"/qrs/executionsession*", "/qrs/executionsession", true},
      {"/qrs/**", "/qrs/task/a/start", true},
      {"**", "/anything/at/all", true},
      {"/qrs/about", "/qrs/about", true},
      {"/qrs/about", "/qrs/about/x", false},
      {"/qrs/?bout", "/qrs/about", true},
      {"/qrs/?bout", "/qrs//bout", false},
      {"/qrs/**/scriptlog*", "/qrs/reloadtask/a/scriptlogfile", true},
  }));
  CAPTURE(pattern, path);
  CHECK(globMatch(pattern, path) == expected);
}

TEST_CASE("fault actions parse into their kind and argument", "[faults]") {
  Scenario scenario = scenarioFrom(R"({"faults":[
      {"action":"status:429"}, {"action":"reset_before"}, {"action":"reset_after"}, {"action":"delay:2500"},
      {"action":"malformed_json"}, {"action":"truncated"}, {"action":"tls_fail"}, {"action":"down:800"}]})");
  REQUIRE(scenario.faults.size() == 8);
  CHECK(scenario.faults[0].action == FaultAction::kStatus);
  CHECK(scenario.faults[0].status == 429);
  CHECK(scenario.faults[1].action == FaultAction::kResetBefore);
  CHECK(scenario.faults[2].action == FaultAction::kResetAfter);
  CHECK(scenario.faults[3].action == FaultAction::kDelay);
  CHECK(scenario.faults[3].durationMs == 2500);
  CHECK(scenario.faults[4].action == FaultAction::kMalformedJson);
  CHECK(scenario.faults[5].action == FaultAction::kTruncated);
  CHECK(scenario.faults[6].action == FaultAction::kTlsFail);
  CHECK(scenario.faults[7].action == FaultAction::kDown);
  CHECK(scenario.faults[7].durationMs == 800);
  CHECK(scenario.faults[0].route == "**");
}

struct Injector {
  explicit Injector(const std::string& rules, std::uint64_t seed = 1)
      : engine(scenarioFrom(R"({"faults":)" + rules + "}"), clock),
        faults(scenarioFrom(R"({"faults":)" + rules + "}").faults, seed, engine) {}

  int appliedCount() { return static_cast<int>(parseObject(engine.record().body)->getArray("faults_applied")->size()); }

  ManualClock clock;
  SimEngine engine;
  FaultInjector faults;
};

TEST_CASE("a counted rule hits the next N matching requests only", "[faults]") {
  Injector injector(R"([{"route":"/qrs/task/*/start/synchronous","method":"POST","count":2,"action":"status:503"}])");
  CHECK_FALSE(injector.faults.onRequest("GET", "/qrs/task/a/start/synchronous"));
  CHECK_FALSE(injector.faults.onRequest("POST", "/qrs/about"));
  CHECK(injector.faults.onRequest("POST", "/qrs/task/a/start/synchronous"));
  CHECK(injector.faults.onRequest("POST", "/qrs/task/b/start/synchronous"));
  CHECK_FALSE(injector.faults.onRequest("POST", "/qrs/task/c/start/synchronous"));
  CHECK(injector.appliedCount() == 2);
  auto applied = parseObject(injector.engine.record().body)->getArray("faults_applied")->getObject(0);
  CHECK(applied->getValue<std::string>("action") == "status:503");
  CHECK(applied->getValue<std::string>("path") == "/qrs/task/a/start/synchronous");
  CHECK(applied->getValue<std::string>("method") == "POST");
}

TEST_CASE("probabilities are reproducible from the seed", "[faults]") {
  auto pattern = [](std::uint64_t seed) {
    Injector injector(R"([{"probability":0.5,"action":"status:500"}])", seed);
    std::string hits;
    for (int i = 0; i < 64; ++i) hits += injector.faults.onRequest("GET", "/qrs/about") ? '1' : '0';
    return hits;
  };
  std::string first = pattern(7);
  CHECK(first == pattern(7));
  CHECK(first != pattern(8));
  CHECK(first.find('1') != std::string::npos);
  CHECK(first.find('0') != std::string::npos);
}

TEST_CASE("tls_fail applies to connections, down to everything for its duration", "[faults]") {
  Injector injector(R"([{"count":1,"action":"tls_fail"},{"route":"/qrs/about","count":1,"action":"down:1000"}])");
  CHECK(injector.faults.onConnection());
  CHECK_FALSE(injector.faults.onConnection());
  CHECK_FALSE(injector.faults.onRequest("GET", "/qrs/reloadtask"));

  auto down = injector.faults.onRequest("GET", "/qrs/about");
  REQUIRE(down);
  CHECK(down->action == FaultAction::kDown);
  CHECK(injector.faults.onConnection());
  CHECK(injector.faults.onRequest("GET", "/qrs/reloadtask"));
  injector.clock.advance(999ms);
  CHECK(injector.faults.onConnection());
  injector.clock.advance(1ms);
  CHECK_FALSE(injector.faults.onConnection());
  CHECK_FALSE(injector.faults.onRequest("GET", "/qrs/about"));  // count spent
  CHECK(injector.appliedCount() == 2);
}

}  // namespace
}  // namespace qlik_reload::sim
