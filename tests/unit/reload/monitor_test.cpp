// One monitor per site: batched reads whatever the number of executions,
// adaptive intervals, and push notifications as wake-ups.
#include <catch2/catch.hpp>

#include <future>
#include <mutex>

#include "core/guid.h"
#include "drive.h"
#include "fake_qrs.h"
#include "manual_clock.h"
#include "reload/operator.h"

using namespace qlik_reload;
using namespace std::chrono_literals;
using qlik_reload::testing::driveUntilReady;
using qlik_reload::testing::FakeQrs;
using qlik_reload::testing::ManualClock;
using qlik_reload::testing::runFor;
using Op = FakeQrs::Op;

namespace {

std::string taskId(int i) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "7f3c0c1a-1111-4222-8333-%012d", i);
  return buffer;
}

struct Site {
  ManualClock clock;
  FakeQrs qrs{clock};
  OperatorOptions options;
  std::unique_ptr<ReloadOperator> op;

  explicit Site(int tasks, Duration running, int finalStatus = 7) {
    for (int i = 0; i < tasks; ++i) {
      FakeQrs::Task t;
      t.id = taskId(i);
      t.name = "Reload " + std::to_string(i);
      t.attempts = {FakeQrs::Attempt{Duration(0), running + Duration(i * 10), finalStatus}};
      qrs.addTask(t);
    }
    options.monitor.poll.jitter = 0.0;
  }
  void start() {
    op = std::make_unique<ReloadOperator>("default", qrs, clock, options);
    op->start();
  }
  std::vector<std::string> startAll(int tasks) {
    std::vector<std::string> ids;
    for (int i = 0; i < tasks; ++i) {
      StartRequest r;
      r.taskId = taskId(i);
      auto s = op->startReload(r);
      REQUIRE(s.isOk());
      ids.push_back(s.value().executionId);
    }
    return ids;
  }
  void waitAll(const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      auto f = std::async(std::launch::async, [&] { return op->waitReload(id, Duration(24 * 3600 * 1000)); });
      auto s = driveUntilReady(clock, f);
      REQUIRE(s.isOk());
      REQUIRE(s.value().terminal);
    }
  }
};

}  // namespace

TEST_CASE("Two hundred reloads cost the reads of one: one batched query per tick", "[monitor]") {
  Site one(1, Duration(60'000));
  one.start();
  one.waitAll(one.startAll(1));
  const int readsForOne = one.qrs.calls(Op::kGetResults);

  Site many(200, Duration(60'000));
  many.start();
  auto ids = many.startAll(200);
  many.waitAll(ids);
  const int readsForMany = many.qrs.calls(Op::kGetResults);
  CAPTURE(readsForOne, readsForMany);
  // The durations differ by up to 2 s, so the tail ends a few reads later;
  // per-execution polling would cost 200 times as much.
  CHECK(readsForMany <= 2 * readsForOne);
  CHECK(many.qrs.calls(Op::kGetSession) == 0);
  for (const auto& id : ids) CHECK(many.op->getReload(id).value().state == ReloadState::kSucceeded);
}

TEST_CASE("A slow read does not stretch the interval: reads are one interval apart from send to send", "[monitor]") {
  Site site(1, Duration(3600'000));
  site.options.monitor.poll.initial = Duration(1'000);
  site.options.monitor.poll.max = Duration(1'000);
  std::vector<Clock::TimePoint> sent;
  std::mutex sentMutex;
  site.qrs.onResultsRead([&] {
    {
      std::lock_guard<std::mutex> guard(sentMutex);
      sent.push_back(site.clock.now());
    }
    site.clock.advance(Duration(400));  // QRS takes 400 ms to answer
  });
  site.start();
  site.startAll(1);
  runFor(site.clock, 20s);
  std::lock_guard<std::mutex> guard(sentMutex);
  REQUIRE(sent.size() >= 10);
  for (std::size_t i = 1; i < sent.size(); ++i) {
    INFO("read " << i);
    CHECK(sent[i] - sent[i - 1] == Duration(1'000));
  }
}

TEST_CASE("poll.max bounds the time a completion goes unseen, slow reads included", "[monitor]") {
  // Reads take 400 ms; the cap is 1 s: reads go out 600 ms apart at most, so
  // a completion is seen within 1 s of its end.
  Site site(1, Duration(20'000));
  site.options.monitor.poll.initial = Duration(100);
  site.options.monitor.poll.max = Duration(1'000);
  std::vector<Clock::TimePoint> sent;
  std::mutex sentMutex;
  site.qrs.onResultsRead([&] {
    {
      std::lock_guard<std::mutex> guard(sentMutex);
      sent.push_back(site.clock.now());
    }
    site.clock.advance(Duration(400));
  });
  site.start();
  const auto t0 = site.clock.now();
  auto ids = site.startAll(1);
  auto f = std::async(std::launch::async, [&] { return site.op->waitReload(ids[0], Duration(60'000)); });
  auto done = driveUntilReady(site.clock, f);
  REQUIRE(done.isOk());
  REQUIRE(done.value().terminal);
  // The reload ends 20 s after its start (the fake's clock).
  CHECK(site.clock.now() - t0 <= Duration(20'000) + Duration(1'000));
  std::lock_guard<std::mutex> guard(sentMutex);
  REQUIRE(sent.size() >= 10);
  for (std::size_t i = 1; i < sent.size(); ++i) {
    INFO("read " << i);
    CHECK(sent[i] - sent[i - 1] <= Duration(600));
  }
}

TEST_CASE("A new execution is read fast even while others are long-running", "[monitor]") {
  Site site(2, Duration(3600'000));
  FakeQrs::Task quick;
  quick.id = taskId(99);
  quick.name = "Quick";
  quick.attempts = {FakeQrs::Attempt{Duration(0), Duration(1'000), 7}};
  site.qrs.addTask(quick);
  site.start();
  site.startAll(2);
  runFor(site.clock, 600s);  // the long ones are read at the cap by now
  StartRequest r;
  r.taskId = quick.id;
  const auto t0 = site.clock.now();
  auto s = site.op->startReload(r);
  REQUIRE(s.isOk());
  auto f = std::async(std::launch::async, [&] { return site.op->waitReload(s.value().executionId, Duration(60'000)); });
  auto done = driveUntilReady(site.clock, f);
  REQUIRE(done.isOk());
  CHECK(done.value().state == ReloadState::kSucceeded);
  // Seen within the short initial intervals, not after the 5 s cap.
  CHECK(site.clock.now() - t0 < 2s);
}

TEST_CASE("With push, a notification wakes a read of just the named results", "[monitor][push]") {
  Site site(20, Duration(30'000));
  site.start();
  auto ids = site.startAll(20);
  site.op->monitor().setPushActive(true);
  runFor(site.clock, 12s);
  const int before = site.qrs.calls(Op::kGetResults);
  // Nothing changes for a while: only the sparse fallback reads (the 5 s cap
  // of plain polling would make three or four here).
  runFor(site.clock, 17s);
  CHECK(site.qrs.calls(Op::kGetResults) - before <= 1);

  // The reloads end at 30 s; QRS notifies and the monitor reads by result id.
  site.clock.advance(Duration(2'000));
  std::vector<std::string> resultIds;
  for (const auto& row : site.qrs.getExecutionResults(ids).value()) resultIds.push_back(row.id);
  const int byIdBefore = site.qrs.calls(Op::kGetResultsById);
  const int readsBefore = site.qrs.calls(Op::kGetResults);
  site.op->monitor().resultsChanged(resultIds);
  auto f = std::async(std::launch::async, [&] { return site.op->waitReload(ids.back(), Duration(1)); });
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  REQUIRE(site.clock.waitForSleepers(1));
  for (const auto& id : ids) {
    auto s = site.op->getReload(id);
    REQUIRE(s.isOk());
    CHECK(s.value().state == ReloadState::kSucceeded);
  }
  // One read for the whole notification, and no second read per execution.
  CHECK(site.qrs.calls(Op::kGetResultsById) - byIdBefore == 1);
  CHECK(site.qrs.calls(Op::kGetResults) == readsBefore);
}

TEST_CASE("Notifications about results of other executions are ignored", "[monitor][push]") {
  Site site(2, Duration(30'000));
  site.start();
  auto ids = site.startAll(1);
  const std::string theirs = site.qrs.startExternally(taskId(1));
  site.clock.advance(Duration(40'000));
  std::vector<std::string> resultIds;
  for (const auto& row : site.qrs.getExecutionResults({theirs}).value()) resultIds.push_back(row.id);
  site.op->monitor().resultsChanged(resultIds);
  site.op->monitor().resultsChanged({"not-a-guid"});
  REQUIRE(site.clock.waitForSleepers(1));
  CHECK_FALSE(site.op->monitor().isTracked(theirs));
  CHECK(site.op->monitor().trackedCount() == 1);
}
