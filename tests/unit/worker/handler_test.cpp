// The Thrift handler: request validation (nothing invalid reaches QRS), the
// Status → IDL exception table, and the status conversion.
#include <catch2/catch.hpp>

#include <cstring>

#include "fake_qrs.h"
#include "handler.h"
#include "manual_clock.h"

using namespace qlik_reload;
using qlik_reload::testing::FakeQrs;
using qlik_reload::testing::ManualClock;

namespace {

const std::string kTask = "7f3c0c1a-1111-4222-8333-944455556666";

struct Harness {
  ManualClock clock;
  FakeQrs qrs{clock};
  ReloadOperator op{"default", qrs, clock, OperatorOptions{}};
  worker::WorkerHandler handler{{{"default", &op}}, "1.2.3"};
};

rpc::ReloadRequest byId(const std::string& id) {
  rpc::ReloadRequest r;
  r.__set_taskId(id);
  return r;
}

}  // namespace

TEST_CASE("Invalid requests are refused naming the field, and nothing reaches QRS", "[handler]") {
  Harness h;
  using Mutate = void (*)(rpc::ReloadRequest&);
  auto [name, field, fragment, mutate] = GENERATE(table<const char*, const char*, const char*, Mutate>({
      {"no task", "taskId", "exactly one", [](rpc::ReloadRequest& r) { r.__isset.taskId = false; }},
      {"both id and name", "taskId", "exactly one", [](rpc::ReloadRequest& r) { r.__set_taskName("x"); }},
      {"not a GUID", "taskId", "is not a GUID", [](rpc::ReloadRequest& r) { r.__set_taskId("7f3c"); }},
      {"GUID with braces", "taskId", "is not a GUID",
       [](rpc::ReloadRequest& r) { r.__set_taskId("{7f3c0c1a-1111-4222-8333-944455556666}"); }},
      {"empty name", "taskName", "must not be empty",
       [](rpc::ReloadRequest& r) { r.__isset.taskId = false; r.__set_taskName(""); }},
      {"10 MB name", "taskName", "at most 512",
       [](rpc::ReloadRequest& r) { r.__isset.taskId = false; r.__set_taskName(std::string(10 << 20, 'a')); }},
      {"control characters", "taskName", "control characters",
       [](rpc::ReloadRequest& r) { r.__isset.taskId = false; r.__set_taskName("Reload\nSales"); }},
      {"invalid UTF-8", "taskName", "invalid UTF-8",
       [](rpc::ReloadRequest& r) { r.__isset.taskId = false; r.__set_taskName("Reload \xff Sales"); }},
      {"negative timeout", "timeoutMs", "must be positive", [](rpc::ReloadRequest& r) { r.__set_timeoutMs(-5); }},
      {"zero timeout", "timeoutMs", "must be positive", [](rpc::ReloadRequest& r) { r.__set_timeoutMs(0); }},
      {"absurd timeout", "timeoutMs", "more than 30 days",
       [](rpc::ReloadRequest& r) { r.__set_timeoutMs(1LL << 50); }},
      {"empty key", "idempotencyKey", "must not be empty", [](rpc::ReloadRequest& r) { r.__set_idempotencyKey(""); }},
      {"long key", "idempotencyKey", "longer than 256",
       [](rpc::ReloadRequest& r) { r.__set_idempotencyKey(std::string(300, 'k')); }},
      {"bad label key", "labels", "must be 1-64 characters",
       [](rpc::ReloadRequest& r) { r.__set_labels({{"dag id", "x"}}); }},
      {"bad label value", "labels", "at most 256 bytes",
       [](rpc::ReloadRequest& r) { r.__set_labels({{"dag", std::string(1000, 'v')}}); }},
      {"unknown ifRunning", "ifRunning", "unknown value",
       [](rpc::ReloadRequest& r) {
         // As a hostile client's bytes arrive: a number outside the enum.
         const std::int32_t value = 42;
         std::memcpy(&r.ifRunning, &value, sizeof value);
         r.__isset.ifRunning = true;
       }},
      {"empty site", "site", "must not be empty", [](rpc::ReloadRequest& r) { r.site = ""; }},
  }));
  CAPTURE(name);
  rpc::ReloadRequest request = byId(kTask);
  mutate(request);
  rpc::ReloadStatus out;
  try {
    h.handler.startReload(out, request);
    FAIL("accepted an invalid request");
  } catch (const rpc::InvalidRequest& e) {
    CHECK(e.field == field);
    CHECK_THAT(e.message, Catch::StartsWith(std::string(field) + ": ") && Catch::Contains(fragment));
    CHECK(e.message.size() < 300);  // a 10 MB field is not echoed back
  }
  CHECK(h.qrs.totalCalls() == 0);
}

TEST_CASE("An unknown site is UnknownSite listing the known ones", "[handler]") {
  Harness h;
  rpc::ReloadRequest request = byId(kTask);
  request.site = "emea";
  rpc::ReloadStatus out;
  try {
    h.handler.runReload(out, request);
    FAIL("accepted an unknown site");
  } catch (const rpc::UnknownSite& e) {
    CHECK(e.site == "emea");
    CHECK_THAT(e.message, Catch::Contains("'emea'") && Catch::Contains("default"));
  }
  rpc::ExecutionRef ref;
  ref.site = "emea";
  ref.executionId = kTask;
  CHECK_THROWS_AS(h.handler.getReload(out, ref), rpc::UnknownSite);
  CHECK(h.qrs.totalCalls() == 0);
}

TEST_CASE("Execution references must be real GUIDs; waits must be sane", "[handler]") {
  Harness h;
  rpc::ReloadStatus out;
  rpc::ExecutionRef ref;
  for (const char* bad : {"", "abc", "00000000-0000-0000-0000-000000000000", "7f3c0c1a-1111-4222-8333-94445555666Z"}) {
    CAPTURE(bad);
    ref.executionId = bad;
    CHECK_THROWS_AS(h.handler.getReload(out, ref), rpc::InvalidRequest);
    CHECK_THROWS_AS(h.handler.cancelReload(out, ref), rpc::InvalidRequest);
  }
  ref.executionId = kTask;
  CHECK_THROWS_AS(h.handler.waitReload(out, ref, -1), rpc::InvalidRequest);
  CHECK_THROWS_AS(h.handler.waitReload(out, ref, 2'000'000'000), rpc::InvalidRequest);
  CHECK(h.qrs.totalCalls() == 0);
}

TEST_CASE("Every failure class becomes its IDL exception", "[handler]") {
  CHECK_THROWS_AS(worker::throwRpcError(Status::invalidArgument("x"), ""), rpc::InvalidRequest);
  CHECK_THROWS_AS(worker::throwRpcError(Status::notFound("x"), "id"), rpc::UnknownExecution);
  CHECK_THROWS_AS(worker::throwRpcError(Status::accessDenied("x"), ""), rpc::AccessDenied);
  CHECK_THROWS_AS(worker::throwRpcError(Status::serverUntrusted("x"), ""), rpc::ConfigurationError);
  CHECK_THROWS_AS(worker::throwRpcError(Status::configuration("x"), ""), rpc::ConfigurationError);
  auto retryable = [](const Status& s) {
    try {
      worker::throwRpcError(s, "");
    } catch (const rpc::QlikUnavailable& e) {
      return e.retryable ? 1 : 0;
    }
    return -1;
  };
  CHECK(retryable(Status::unavailable("x")) == 1);
  CHECK(retryable(Status::cancelled("x")) == 1);
  CHECK(retryable(Status::protocol("x")) == 0);
  CHECK(retryable(Status::rejected("x")) == 0);
  CHECK(retryable(Status::internal("x")) == 0);
}

TEST_CASE("Statuses convert field by field, times as epoch milliseconds", "[handler]") {
  ReloadStatus s;
  s.executionId = "e";
  s.site = "default";
  s.taskId = kTask;
  s.state = ReloadState::kFailed;
  s.qlikStatus = "FinishedFail";
  s.qlikStatusCode = 8;
  s.terminal = true;
  s.startedAt = fromEpochMs(1000);
  s.finishedAt = fromEpochMs(5000);
  AttemptInfo a;
  a.qlikStatusCode = 8;
  a.qlikStatus = "FinishedFail";
  a.startedAt = fromEpochMs(1000);
  a.durationMs = 4000;
  a.messages = {"m1", "m2"};
  s.attempts = {a};
  rpc::ReloadStatus out = worker::toRpc(s);
  CHECK(out.state == rpc::ReloadState::FAILED);
  CHECK(out.startedAtMs == 1000);
  CHECK(out.__isset.finishedAtMs);
  CHECK(out.attempts.at(0).messages.size() == 2);
  CHECK(out.attempts.at(0).__isset.startedAtMs);
  CHECK_FALSE(out.attempts.at(0).__isset.finishedAtMs);
  ReloadStatus empty;
  CHECK_FALSE(worker::toRpc(empty).__isset.startedAtMs);
}

TEST_CASE("ping reports the version and the configured sites", "[handler]") {
  Harness h;
  rpc::WorkerInfo info;
  h.handler.ping(info);
  CHECK(info.version == "1.2.3");
  CHECK(info.sites == std::vector<std::string>{"default"});
}
