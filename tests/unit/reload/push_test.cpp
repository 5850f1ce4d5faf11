// Push: the callback body parser, the callback endpoint over a real socket,
// and the operator's subscription life cycle.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include "core/guid.h"
#include "fake_qrs.h"
#include "manual_clock.h"
#include "reload/operator.h"
#include "reload/push.h"

using namespace qlik_reload;
using qlik_reload::testing::FakeQrs;
using qlik_reload::testing::ManualClock;

namespace {

const std::string kResult = "9b1f0a2c-1111-4222-8333-944455556666";

std::pair<int, std::string> post(int port, const std::string& path, const std::string& body) {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
  session.setTimeout(Poco::Timespan(5, 0));
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, path, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setContentType("application/json");
  request.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::string text;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), text);
  return {static_cast<int>(response.getStatus()), text};
}

}  // namespace

TEST_CASE("parseChangeNotification takes the ExecutionResult ids and refuses garbage", "[push]") {
  auto ok = parseChangeNotification(R"([{"objectType":"ExecutionResult","objectID":")" + kResult +
                                    R"("},{"objectType":"App","objectID":"x"},{"objectType":"ExecutionResult","objectID":")" +
                                    "9B1F0A2C-0000-4000-8000-000000000001" + R"(","changeType":2}])");
  REQUIRE(ok.isOk());
  CHECK(ok.value() == std::vector<std::string>{kResult, "9b1f0a2c-0000-4000-8000-000000000001"});
  CHECK(parseChangeNotification("[]").value().empty());
  for (const char* bad : {"", "{}", "[1]", "[{}]", R"([{"objectType":"ExecutionResult","objectID":"nope"}])",
                          R"([{"objectType":"ExecutionResult","objectID":5}])", "[{", "null"}) {
    CAPTURE(bad);
    auto parsed = parseChangeNotification(bad);
    REQUIRE_FALSE(parsed.isOk());
    CHECK(parsed.status().code() == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("The callback endpoint hands valid notifications to the site's sink", "[push]") {
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<std::pair<std::string, std::vector<std::string>>> seen;
  auto receiver = PushReceiver::start(PushOptions{}, {"default", "emea"},
                                      [&](const std::string& site, std::vector<std::string> ids) {
                                        std::lock_guard<std::mutex> guard(mutex);
                                        seen.emplace_back(site, std::move(ids));
                                        arrived.notify_all();
                                      });
  REQUIRE(receiver.isOk());
  const int port = receiver.value()->port();
  CHECK(receiver.value()->callbackUrl("emea") == "http://127.0.0.1:" + std::to_string(port) + "/qrs-notify/emea");

  auto [status, text] =
      post(port, "/qrs-notify/emea", R"([{"objectType":"ExecutionResult","objectID":")" + kResult + R"("}])");
  CHECK(status == 204);
  {
    std::unique_lock<std::mutex> lock(mutex);
    REQUIRE(arrived.wait_for(lock, std::chrono::seconds(5), [&] { return !seen.empty(); }));
    CHECK(seen.front().first == "emea");
    CHECK(seen.front().second == std::vector<std::string>{kResult});
  }
  CHECK(post(port, "/qrs-notify/emea", "not json").first == 400);
  CHECK(post(port, "/qrs-notify/nowhere", "[]").first == 404);
  // Too large: refused with 413 while the body still streams in, so the
  // client may see the connection close instead of the answer.
  int tooLarge = 0;
  try {
    tooLarge = post(port, "/qrs-notify/default", std::string(2u << 20, '[')).first;
  } catch (const Poco::Exception&) {
    tooLarge = -1;  // closed under our feet
  }
  CHECK((tooLarge == 413 || tooLarge == -1));
  CHECK(receiver.value()->received() == 1);
  CHECK(receiver.value()->rejected() == 3);
  receiver.value()->stop();
}

TEST_CASE("Push subscribes once, removes the last run's subscription, and unsubscribes at shutdown", "[push]") {
  ManualClock clock;
  FakeQrs qrs{clock};
  auto journal = openSqliteJournal(":memory:");
  REQUIRE(journal.isOk());
  // A subscription left behind by a run that was killed.
  auto stale = qrs.subscribeChanges("ExecutionResult", kPushFilter, "http://old:1/qrs-notify/default");
  REQUIRE(stale.isOk());
  const std::string key = GENERATE(as<std::string>{}, "push_handle:default:worker-1",
                                   "push_handle:default");  // as versions before per-worker handles kept it
  REQUIRE(journal.value()->setMeta(key, stale.value()).isOk());

  OperatorOptions options;
  options.workerId = "worker-1";
  ReloadOperator op("default", qrs, clock, options, journal.value().get());
  REQUIRE(op.enablePush("http://worker:9091/qrs-notify/default").isOk());
  auto live = qrs.subscriptions();
  REQUIRE(live.size() == 1);
  CHECK(live.begin()->second == "http://worker:9091/qrs-notify/default");
  CHECK(journal.value()->getMeta("push_handle:default:worker-1").value() == live.begin()->first);
  CHECK(journal.value()->getMeta("push_handle:default").value().empty());
  op.disablePush();
  CHECK(qrs.subscriptions().empty());
  CHECK(journal.value()->getMeta("push_handle:default:worker-1").value().empty());
}

TEST_CASE("Workers sharing a journal keep their own subscriptions", "[push]") {
  ManualClock clock;
  FakeQrs qrs{clock};
  auto journal = openSqliteJournal(":memory:");
  REQUIRE(journal.isOk());
  OperatorOptions first;
  first.workerId = "worker-1";
  OperatorOptions second;
  second.workerId = "worker-2";
  ReloadOperator one("default", qrs, clock, first, journal.value().get());
  REQUIRE(one.enablePush("http://worker1:9091/qrs-notify/default").isOk());
  ReloadOperator two("default", qrs, clock, second, journal.value().get());
  REQUIRE(two.enablePush("http://worker2:9091/qrs-notify/default").isOk());
  // The second worker's start removed nothing of the first's.
  REQUIRE(qrs.subscriptions().size() == 2);
  one.disablePush();
  auto live = qrs.subscriptions();
  REQUIRE(live.size() == 1);
  CHECK(live.begin()->second == "http://worker2:9091/qrs-notify/default");
  CHECK(journal.value()->getMeta("push_handle:default:worker-2").value() == live.begin()->first);
  two.disablePush();
  CHECK(qrs.subscriptions().empty());
}

TEST_CASE("When QRS refuses the subscription, polling goes on alone", "[push]") {
  ManualClock clock;
  FakeQrs qrs{clock};
  qrs.failNext(FakeQrs::Op::kSubscribe, 1, Status::rejected("QRS 400 Missing parameter value(s)"));
  ReloadOperator op("default", qrs, clock, OperatorOptions{});
  Status enabled = op.enablePush("http://worker:9091/qrs-notify/default");
  REQUIRE_FALSE(enabled.isOk());
  CHECK_THAT(enabled.message(), Catch::Contains("polling alone"));
  CHECK(qrs.subscriptions().empty());
}
