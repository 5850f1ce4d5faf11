#include <catch2/catch.hpp>

#include "core/status.h"

using namespace qlik_reload;

TEST_CASE("Only kUnavailable is retryable", "[status]") {
  CHECK(Status::unavailable("x").retryable());
  for (Status s : {Status::invalidArgument("x"), Status::notFound("x"), Status::accessDenied("x"),
                   Status::serverUntrusted("x"), Status::configuration("x"), Status::protocol("x"),
                   Status::rejected("x"), Status::cancelled("x"), Status::internal("x")}) {
    CAPTURE(s.toString());
    CHECK_FALSE(s.retryable());
  }
  CHECK(Status().isOk());
}

TEST_CASE("withContext puts the operation in front and keeps code and HTTP facts", "[status]") {
  Status s = Status::notFound("QRS 404 No matching endpoint found");
  s.setHttpStatus(404);
  Status wrapped = s.withContext("start task 7f3c");
  CHECK(wrapped.message() == "start task 7f3c: QRS 404 No matching endpoint found");
  CHECK(wrapped.code() == ErrorCode::kNotFound);
  CHECK(wrapped.httpStatus() == 404);
  CHECK(wrapped.toString() == "not found: start task 7f3c: QRS 404 No matching endpoint found");
  CHECK(Status().withContext("x").isOk());
}

TEST_CASE("Result holds a value or a failure", "[status]") {
  Result<int> good = 7;
  REQUIRE(good.isOk());
  CHECK(*good == 7);
  CHECK(good.status().isOk());
  Result<int> bad = Status::unavailable("down");
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.status().message() == "down");
}
