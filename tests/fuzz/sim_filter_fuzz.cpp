// Fuzz target: qrs-sim's filter parser (sim/filter.h) on arbitrary text.
//
// Properties:
//  * parse() never throws; a failure is invalid-argument, HTTP 400, with
//    QRS's exact texts: "Cannot parse the expression: <filter>" or
//    "Invalid expression";
//  * a parsed filter's canonical text (describe()) parses again to the same
//    canonical text, and both filters judge every sample entity the same
//    (skipped when the canonical text nests deeper than the parser allows:
//    describe() adds parentheses);
//  * checkAgainst(), matches() and requiredValues() never throw, and when
//    requiredValues("id") names values, every matching sample entity's id is
//    one of them (callers skip entities on that promise).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "fuzz_support.h"
#include "sim/filter.h"
#include "sim/json_util.h"

namespace {

using namespace qlik_reload;
using qlik_reload::fuzz::require;
using qlik_reload::sim::Filter;

// The parser refuses deeper nesting (filter.cpp's limit).
constexpr int kParserMaxDepth = 64;

// Entities like the simulator's collections hold: a full execution result
// with details, a session with a nested task and a null, a task.
const char* const kEntities[] = {
    R"({"id":"9B1F0A2C-0000-4000-8000-000000000001","taskID":"7f3c0000-1111-4222-8333-444455556666",
        "executionID":"2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b","executingNodeName":"qlikserver1","status":8,
        "startTime":"2024-05-02T08:00:01.200Z","stopTime":"1753-01-01T00:00:00.000Z","duration":191600,
        "scriptLogAvailable":true,"scriptLogSize":48213,
        "details":[{"detailsType":2,"message":"Changing task state from NeverStarted to Triggered"},
                   {"detailsType":0,"message":"Q1'25 failed \\ badly"}]})",
    R"({"id":"2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b","abortReason":1,"userSyncTask":null,
        "reloadTask":{"id":"7f3c0000-1111-4222-8333-444455556666","name":"Reload Sales","taskType":0,"enabled":true},
        "executionResult":{"id":"9b1f0a2c-0000-4000-8000-000000000001","status":2}})",
    R"({"id":"11111111-1111-4111-8111-111111111111","name":"Reload Sales","enabled":false,"taskType":0,
        "tags":[],"customProperties":[{"value":"nightly"}]})",
};

std::vector<Poco::JSON::Object::Ptr> sampleEntities() {
  std::vector<Poco::JSON::Object::Ptr> entities;
  for (const char* text : kEntities) {
    Poco::JSON::Parser parser;
    entities.push_back(parser.parse(text).extract<Poco::JSON::Object::Ptr>());
  }
  return entities;
}

// Deepest parenthesis nesting outside quoted strings.
int nestingDepth(const std::string& text) {
  int depth = 0;
  int deepest = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '\'') {
        quoted = false;
      }
    } else if (c == '\'') {
      quoted = true;
    } else if (c == '(') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ')') {
      --depth;
    }
  }
  return deepest;
}

void checkFailure(const Status& status, std::string_view text) {
  require(status.code() == ErrorCode::kInvalidArgument,
          std::string("parse failed with ") + errorCodeName(status.code()) + " instead of invalid argument");
  require(status.httpStatus() == 400, "parse failure without HTTP status 400");
  const std::string exact = "Cannot parse the expression: " + std::string(text);
  require(status.message() == exact || status.message() == "Invalid expression",
          "parse failure with an unexpected message: " + fuzz::printable(status.message()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<Poco::JSON::Object::Ptr> kSamples = sampleEntities();
  const std::string_view text = fuzz::asText(data, size);
  fuzz::noThrow("Filter", [&] {
    Result<Filter> filter = Filter::parse(text);
    if (!filter.isOk()) {
      checkFailure(filter.status(), text);
      return;
    }
    const std::string canonical = filter->describe();
    require(filter->matchesAll() == canonical.empty(), "describe() is empty exactly for a match-all filter");
    std::optional<Filter> again;
    if (nestingDepth(canonical) <= kParserMaxDepth) {
      Result<Filter> reparsed = Filter::parse(canonical);
      require(reparsed.isOk(), "the canonical text does not parse: " + fuzz::printable(canonical));
      require(reparsed->describe() == canonical, "canonical text is not a fixed point: " + fuzz::printable(canonical) +
                                                     " became " + fuzz::printable(reparsed->describe()));
      again = std::move(reparsed).value();
    }
    const std::optional<std::set<std::string>> ids = filter->requiredValues("id");
    for (const Poco::JSON::Object::Ptr& entity : kSamples) {
      (void)filter->checkAgainst(*entity);
      const bool matched = filter->matches(*entity);
      if (again) require(again->matches(*entity) == matched, "the canonical filter judges an entity differently");
      if (matched && ids) {
        const std::string id = sim::toLower(entity->getValue<std::string>("id"));
        require(ids->count(id) == 1, "requiredValues(\"id\") excludes a matching entity");
      }
    }
  });
  return 0;
}
