#include "sim/filter.h"

#include <catch2/catch.hpp>

#include "sim_test_util.h"

namespace qlik_reload::sim {
namespace {

using testing::parseObject;

// An ExecutionResult-like entity with every kind of value a filter meets.
const char* const kEntity = R"({
  "id": "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b",
  "name": "Reload Q1'25 Sales",
  "status": 8,
  "enabled": true,
  "duration": 1500,
  "stopTime": "2024-05-02T08:03:12.800Z",
  "path": "C:\\logs\\x.log",
  "reloadTask": {"id": "7f3c0000-1111-4222-8333-444455556666", "name": "Reload Sales", "taskType": 0},
  "userSyncTask": null,
  "abortReason": 1,
  "details": [
    {"message": "Changing task state from Started to FinishedFail", "detailsType": 0},
    {"message": "Reference to scriptlog added", "detailsType": 2}
  ]
})";

bool matches(const std::string& text) {
  Result<Filter> filter = Filter::parse(text);
  INFO(filter.status().toString());
  REQUIRE(filter.isOk());
  auto entity = parseObject(kEntity);
  REQUIRE(filter->checkAgainst(*entity).isOk());
  return filter->matches(*entity);
}

TEST_CASE("filters evaluate against an entity's JSON like QRS", "[filter]") {
  auto [text, expected] = GENERATE(table<std::string, bool>({
      {"id eq 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b", true},
      {"ID EQ 2A8E1C4E-3F11-4B8A-9A57-0C1D2E3F4A5B", true},
      {"Id eq 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5c", false},
      {"id ne 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5c", true},
      {"id eq '2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b'", true},
      {"name eq 'reload q1\\'25 sales'", true},
      {"name eq 'Reload Q1'", false},
      {"name sw 'RELOAD'", true},
      {"name sw 'Sales'", false},
      {"name ew 'sales'", true},
      {"name so 'q1\\'2'", true},
      {"name so 'q2'", false},
      {"name eq ''", false},
      {"name eq 5", false},
      {"path eq 'C:\\\\logs\\\\x.log'", true},
      {"status eq 8", true},
      {"status eq FinishedFail", true},
      {"status eq finishedfail", true},
      {"status eq 'FinishedFail'", true},
      {"status eq FinishedSuccess", false},
      {"status ne FinishedSuccess", true},
      {"status gt 7", true},
      {"status ge 8", true},
      {"status lt 8", false},
      {"status le 8", true},
      {"status gt Retry", false},
      {"abortReason eq Manual", true},
      {"reloadTask.taskType eq Reload", true},
      {"duration gt 1499.5", true},
      {"duration eq -5", false},
      {"duration ne -5", true},
      {"enabled eq true", true},
      {"enabled eq false", false},
      {"enabled ne false", true},
      {"enabled eq TRUE", true},
      {"userSyncTask eq null", true},
      {"userSyncTask ne null", false},
      {"userSyncTask.id eq null", true},
      {"reloadTask ne null", true},
      {"reloadTask.id eq null", false},
      {"reloadTask.id eq 7f3c0000-1111-4222-8333-444455556666", true},
      {"reloadtask.NAME eq 'Reload Sales'", true},
      {"stopTime gt '2024-05-02T08:00:00.000Z'", true},
      {"stopTime lt '2024-05-02T08:00:00.000Z'", false},
      {"details.detailsType eq Error", true},
      {"details.detailsType eq Warning", false},
      {"details.message so 'scriptlog'", true},
      {"details.message eq 'nothing'", false},
      {"status eq 8 and enabled eq false", false},
      {"status eq 8 or enabled eq false", true},
      {"status eq 7 or status eq 8 and enabled eq false", false},
      {"(status eq 7 or status eq 8) and enabled eq true", true},
      {"((id eq 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b))", true},
      {"(id eq 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5c or id eq 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b)", true},
      {"status eq 8 AND enabled eq true Or name eq 'x'", true},
      {"  status   eq   8  ", true},
  }));
  CAPTURE(text);
  CHECK(matches(text) == expected);
}

TEST_CASE("and binds tighter than or, keywords and properties are case-insensitive", "[filter]") {
  auto [text, tree] = GENERATE(table<std::string, std::string>({
      {"a eq 1 or b eq 2 and c eq 3", "((a eq 1) or ((b eq 2) and (c eq 3)))"},
      {"(a eq 1 or b eq 2) and c eq 3", "(((a eq 1) or (b eq 2)) and (c eq 3))"},
      {"a eq 1 and b eq 2 or c eq 3 and d eq 4", "(((a eq 1) and (b eq 2)) or ((c eq 3) and (d eq 4)))"},
      {"A Eq 'x' AND b NE null", "((A eq 'x') and (b ne null))"},
      {"name eq 'it\\'s'", "(name eq 'it\\'s')"},
      {"x.y sw 'a b'", "(x.y sw 'a b')"},
      {"status eq FinishedFail", "(status eq FinishedFail)"},
  }));
  CAPTURE(text);
  Result<Filter> filter = Filter::parse(text);
  REQUIRE(filter.isOk());
  CHECK(filter->describe() == tree);
}

TEST_CASE("a blank filter matches everything", "[filter]") {
  for (const char* text : {"", "   "}) {
    Result<Filter> filter = Filter::parse(text);
    REQUIRE(filter.isOk());
    CHECK(filter->matchesAll());
    CHECK(filter->matches(*parseObject("{}")));
  }
}

TEST_CASE("syntax errors answer QRS's 'Cannot parse the expression' text", "[filter]") {
  auto text = GENERATE(as<std::string>{},
                       "id", "id eq", "eq 5", "id xx 5", "id eq 'unterminated", "id eq 'x' and",
                       "id eq 'x' or or id eq 'y'", "(id eq 'x'", "id eq 'x')", "name eq 'it''s'", "name eq \"x\"",
                       "id eq 'x' id eq 'y'", "1abc eq 5", "name eq 'a' && id eq 'b'", "a..b eq 1", ".a eq 1",
                       "a. eq 1", "name eq 'x\\", "id eq 5 6", "id eq foo.bar", "id eq 12ab", "and eq 1 and",
                       "id eq (5)", "id eq", "status eq Finished-Fail", std::string(70, '(') + "a eq 1" +
                       std::string(70, ')'));
  CAPTURE(text);
  Result<Filter> filter = Filter::parse(text);
  REQUIRE_FALSE(filter.isOk());
  CHECK(filter.status().message() == "Cannot parse the expression: " + text);
  CHECK(filter.status().httpStatus() == 400);
}

TEST_CASE("an empty group answers 'Invalid expression'", "[filter]") {
  auto text = GENERATE(as<std::string>{}, "()", "name eq 'x' and ()", "(())", "( )");
  CAPTURE(text);
  Result<Filter> filter = Filter::parse(text);
  REQUIRE_FALSE(filter.isOk());
  CHECK(filter.status().message() == "Invalid expression");
}

TEST_CASE("unknown properties and enum names are rejected against the collection's prototype", "[filter]") {
  auto entity = parseObject(kEntity);
  auto [text, ok] = GENERATE(table<std::string, bool>({
      {"nosuch eq 1", false},
      {"reloadTask.nosuch eq 1", false},
      {"id.sub eq 1", false},
      {"status eq Bogus", false},
      {"name eq Bogus", false},
      {"duration eq FinishedFail", false},
      {"status eq 8 or nosuch eq 1", false},
      {"userSyncTask.anything eq null", true},
      {"details.message eq 'x'", true},
      {"STATUS eq finishedsuccess", true},
  }));
  CAPTURE(text);
  Result<Filter> filter = Filter::parse(text);
  REQUIRE(filter.isOk());
  Status checked = filter->checkAgainst(*entity);
  CHECK(checked.isOk() == ok);
  if (!ok) CHECK(checked.message() == "Cannot parse the expression: " + text);
}

}  // namespace
}  // namespace qlik_reload::sim

namespace qlik_reload::sim {
namespace {

TEST_CASE("requiredValues finds the values a property must equal in every match", "[filter]") {
  const std::string a = "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b";
  const std::string b = "7f3c0000-1111-4222-8333-444455556666";
  auto [text, property, expected] = GENERATE_COPY(table<std::string, std::string, std::string>({
      {"executionID eq " + a, "executionID", a},
      {"ExecutionId eq 2A8E1C4E-3F11-4B8A-9A57-0C1D2E3F4A5B", "executionID", a},
      {"(executionID eq 'ABC')", "executionID", "abc"},
      {"status eq 8 and executionID eq " + a, "executionID", a},
      {"reloadTask.id eq " + a + " and status eq 2", "reloadtask.ID", a},
      {"(ExecutionId eq " + b + " or ExecutionId eq " + a + ")", "executionID", a + " " + b},
      {"(ExecutionId eq " + a + " or ExecutionId eq " + b + ") and status eq 7", "executionID", a + " " + b},
      {"executionID eq " + a + " or status eq 8", "executionID", "-"},
      {"executionID ne " + a, "executionID", "-"},
      {"executionID eq 5", "executionID", "-"},
      {"id eq " + a, "executionID", "-"},
      {"", "executionID", "-"},
  }));
  CAPTURE(text, property);
  Result<Filter> filter = Filter::parse(text);
  REQUIRE(filter.isOk());
  auto values = filter->requiredValues(property);
  std::string joined = values ? "" : "-";
  if (values) {
    for (const std::string& value : *values) joined += (joined.empty() ? "" : " ") + value;
  }
  CHECK(joined == expected);
}

}  // namespace
}  // namespace qlik_reload::sim
