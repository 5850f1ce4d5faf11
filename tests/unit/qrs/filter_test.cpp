#include <catch2/catch.hpp>

#include <Poco/URI.h>

#include "core/guid.h"
#include "qrs/filter.h"

using namespace qlik_reload;
using namespace qlik_reload::qrs;

namespace {

const std::string kA = "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b";
const std::string kB = "7f3c0000-1111-4222-8333-444455556666";

std::vector<std::string> manyGuids(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(newGuid());
  return out;
}

}  // namespace

TEST_CASE("Filter strings are single-quoted with backslash escapes", "[filter]") {
  auto [value, quoted] = GENERATE(table<std::string, std::string>({
      {"Sales", "'Sales'"},
      {"Q1'25", "'Q1\\'25'"},
      {"a\\b", "'a\\\\b'"},
      {"\\'", "'\\\\\\''"},
      {"", "''"},
      {"x or name eq 'y'", "'x or name eq \\'y\\''"},
  }));
  CAPTURE(value);
  CHECK(quoteFilterString(value) == quoted);
}

TEST_CASE("filterStringEquals puts the quoted value after eq", "[filter]") {
  Result<std::string> filter = filterStringEquals("name", "Q1'25 & more");
  REQUIRE(filter.isOk());
  CHECK(*filter == "name eq 'Q1\\'25 & more'");
}

TEST_CASE("GUIDs are unquoted and lower-cased, anything else is refused", "[filter]") {
  Result<std::string> filter = filterGuidEquals("reloadTask.id", "2A8E1C4E-3F11-4B8A-9A57-0C1D2E3F4A5B");
  REQUIRE(filter.isOk());
  CHECK(*filter == "reloadTask.id eq " + kA);

  for (const std::string& bad :
       std::vector<std::string>{"", "abc", kA + " or id eq " + kB, "'" + kA + "'", kA.substr(1) + "x)"}) {
    CAPTURE(bad);
    Result<std::string> refused = filterGuidEquals("id", bad);
    REQUIRE_FALSE(refused.isOk());
    CHECK(refused.status().code() == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("Property names are checked", "[filter]") {
  for (std::string bad : {"", "name eq 'x' or name", "a'b", ".id", "id.", "1id", "reloadTask.1d", "a..b"}) {
    CAPTURE(bad);
    CHECK(filterGuidEquals(bad, kA).status().code() == ErrorCode::kInvalidArgument);
    CHECK(filterStringEquals(bad, "x").status().code() == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("Id lists are or-joined in parentheses", "[filter]") {
  Result<std::string> one = filterAnyGuidEquals("ExecutionId", {kA});
  REQUIRE(one.isOk());
  CHECK(*one == "ExecutionId eq " + kA);

  Result<std::string> two = filterAnyGuidEquals("ExecutionId", {kA, kB});
  REQUIRE(two.isOk());
  CHECK(*two == "(ExecutionId eq " + kA + " or ExecutionId eq " + kB + ")");

  CHECK(filterAnyGuidEquals("ExecutionId", {}).status().code() == ErrorCode::kInvalidArgument);
  CHECK(filterAnyGuidEquals("ExecutionId", {kA, "nope"}).status().code() == ErrorCode::kInvalidArgument);
}

TEST_CASE("encodedQueryValueLength matches what addQueryParameter produces", "[filter]") {
  for (std::string value : {"", "abc", "name eq 'Q1\\'25 & more'", "(a or b)", "ä+#%"}) {
    CAPTURE(value);
    Poco::URI uri;
    uri.addQueryParameter("filter", value);
    CHECK(encodedQueryValueLength(value) == uri.getRawQuery().size() - std::string("filter=").size());
  }
}

TEST_CASE("Long id lists are chunked to fit the limit, in order", "[filter]") {
  const std::size_t limit = GENERATE(as<std::size_t>{}, 60, 200, 1000, 1900);
  const std::size_t count = GENERATE(as<std::size_t>{}, 1, 2, 7, 100);
  CAPTURE(limit, count);
  std::vector<std::string> ids = manyGuids(count);
  Result<std::vector<std::vector<std::string>>> chunks = chunkGuidsForFilter("ExecutionId", ids, limit);
  REQUIRE(chunks.isOk());

  std::vector<std::string> rejoined;
  for (const auto& chunk : *chunks) {
    REQUIRE_FALSE(chunk.empty());
    Result<std::string> filter = filterAnyGuidEquals("ExecutionId", chunk);
    REQUIRE(filter.isOk());
    CHECK(encodedQueryValueLength(*filter) <= limit);
    rejoined.insert(rejoined.end(), chunk.begin(), chunk.end());
  }
  CHECK(rejoined == ids);
  // Greedy: one more id in any chunk but the last would not fit.
  for (std::size_t i = 0; i + 1 < chunks->size(); ++i) {
    std::vector<std::string> bigger = (*chunks)[i];
    bigger.push_back((*chunks)[i + 1].front());
    CHECK(encodedQueryValueLength(*filterAnyGuidEquals("ExecutionId", bigger)) > limit);
  }
}

TEST_CASE("Chunking refuses non-GUIDs and limits too small for one id", "[filter]") {
  CHECK(chunkGuidsForFilter("ExecutionId", {kA, "x"}, 2000).status().code() == ErrorCode::kInvalidArgument);
  CHECK(chunkGuidsForFilter("ExecutionId", {kA}, 20).status().code() == ErrorCode::kInvalidArgument);
  Result<std::vector<std::vector<std::string>>> none = chunkGuidsForFilter("ExecutionId", {}, 2000);
  REQUIRE(none.isOk());
  CHECK(none->empty());
}
