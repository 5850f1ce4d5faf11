// The SQLite journal on its own, and the operator's use of it across
// restarts (a new operator on the same journal file, as after a crash).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <future>

#include "core/guid.h"
#include "drive.h"
#include "fake_qrs.h"
#include "manual_clock.h"
#include "reload/journal.h"
#include "reload/operator.h"

using namespace qlik_reload;
using namespace std::chrono_literals;
using qlik_reload::testing::driveUntilReady;
using qlik_reload::testing::FakeQrs;
using qlik_reload::testing::ManualClock;
using Op = FakeQrs::Op;

namespace {

const std::string kTask = "7f3c0c1a-1111-4222-8333-944455556666";

struct TempJournalFile {
  std::string path;
  TempJournalFile() {
    path = (std::filesystem::temp_directory_path() /
            ("qlik-reload-journal-" + std::to_string(::getpid()) + "-" + newGuid()) / "journal.db")
               .string();
  }
  ~TempJournalFile() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }
};

std::unique_ptr<Journal> open(const std::string& path) {
  auto journal = openSqliteJournal(path);
  REQUIRE(journal.isOk());
  return std::move(journal).value();
}

JournalEntry intent(const std::string& key, std::int64_t at = 1000) {
  JournalEntry e;
  e.intentId = newGuid();
  e.site = "default";
  e.taskId = kTask;
  e.idempotencyKey = key;
  e.labels = "dag=sales";
  e.state = kJournalStarting;
  e.requestedAtMs = at;
  e.owner = "worker";  // OperatorOptions' default workerId
  return e;
}

FakeQrs::Task longTask(Duration running = Duration(600'000)) {
  FakeQrs::Task t;
  t.id = kTask;
  t.name = "Reload Sales";
  t.attempts = {FakeQrs::Attempt{Duration(0), running, 7}};
  return t;
}

}  // namespace

TEST_CASE("Journal: an intent, its answer and its states round-trip", "[journal]") {
  auto journal = open(":memory:");
  JournalEntry e = intent("k1");
  auto claim = journal->recordIntent(e);
  REQUIRE(claim.isOk());
  CHECK(claim->claimed);
  auto open1 = journal->unfinished("default");
  REQUIRE(open1.isOk());
  REQUIRE(open1->size() == 1);
  CHECK(open1->at(0).state == kJournalStarting);

  const std::string exec = newGuid();
  REQUIRE(journal->recordStarted(e.intentId, exec, kTask, false, "started").isOk());
  ReloadStatus s;
  s.executionId = exec;
  s.state = ReloadState::kRunning;
  REQUIRE(journal->recordStatus("default", s, 2000).isOk());
  auto byExec = journal->findByExecution("default", exec);
  REQUIRE(byExec.isOk());
  REQUIRE(byExec->has_value());
  CHECK((*byExec)->state == "RUNNING");
  CHECK((*byExec)->labels == "dag=sales");

  s.state = ReloadState::kSucceeded;
  s.terminal = true;
  s.finishedAt = fromEpochMs(5000);
  REQUIRE(journal->recordStatus("default", s, 5001).isOk());
  auto open2 = journal->unfinished("default");
  REQUIRE(open2.isOk());
  CHECK(open2->empty());
  auto byKey = journal->findByKey("default", "k1");
  REQUIRE(byKey.isOk());
  REQUIRE(byKey->has_value());
  CHECK((*byKey)->executionId == exec);
  CHECK((*byKey)->finishedAtMs == 5000);
}

TEST_CASE("Journal: a key is claimed once; a start that started nothing releases it", "[journal]") {
  auto journal = open(":memory:");
  JournalEntry first = intent("dag/run/task");
  REQUIRE(journal->recordIntent(first)->claimed);
  auto second = journal->recordIntent(intent("dag/run/task"));
  REQUIRE(second.isOk());
  CHECK_FALSE(second->claimed);
  CHECK(second->existing.intentId == first.intentId);
  // Keys are per site.
  JournalEntry other = intent("dag/run/task");
  other.site = "emea";
  CHECK(journal->recordIntent(other)->claimed);

  REQUIRE(journal->recordNotStarted(first.intentId, "NOT_STARTED", "disabled").isOk());
  CHECK(journal->recordIntent(intent("dag/run/task"))->claimed);
}

TEST_CASE("Journal: two handles on one file cannot both claim a key", "[journal]") {
  TempJournalFile file;
  auto a = open(file.path);
  auto b = open(file.path);
  auto first = a->recordIntent(intent("shared"));
  auto second = b->recordIntent(intent("shared"));
  REQUIRE(first.isOk());
  REQUIRE(second.isOk());
  CHECK(first->claimed != second->claimed);
}

TEST_CASE("Journal: entries survive reopening the file", "[journal]") {
  TempJournalFile file;
  const std::string exec = newGuid();
  {
    auto journal = open(file.path);
    JournalEntry e = intent("k");
    REQUIRE(journal->recordIntent(e)->claimed);
    REQUIRE(journal->recordStarted(e.intentId, exec, kTask, false, "").isOk());
  }
  auto journal = open(file.path);
  auto open1 = journal->unfinished("default");
  REQUIRE(open1.isOk());
  REQUIRE(open1->size() == 1);
  CHECK(open1->at(0).executionId == exec);
}

TEST_CASE("Journal: pruning drops finished entries older than the cut-off, nothing else", "[journal]") {
  auto journal = open(":memory:");
  auto finished = [&](std::int64_t at, const std::string& key) {
    JournalEntry e = intent(key, at);
    REQUIRE(journal->recordIntent(e)->claimed);
    const std::string exec = newGuid();
    REQUIRE(journal->recordStarted(e.intentId, exec, kTask, false, "").isOk());
    ReloadStatus s;
    s.executionId = exec;
    s.state = ReloadState::kFailed;
    s.terminal = true;
    s.finishedAt = fromEpochMs(at + 10);
    REQUIRE(journal->recordStatus("default", s, at + 10).isOk());
  };
  finished(1'000, "old");
  finished(100'000, "new");
  JournalEntry running = intent("running", 500);
  REQUIRE(journal->recordIntent(running)->claimed);
  auto pruned = journal->prune(50'000);
  REQUIRE(pruned.isOk());
  CHECK(pruned.value() == 1);
  CHECK_FALSE(journal->findByKey("default", "old")->has_value());
  CHECK(journal->findByKey("default", "new")->has_value());
  CHECK(journal->findByKey("default", "running")->has_value());
}

TEST_CASE("Journal: an unusable path is a configuration error naming it", "[journal]") {
  auto journal = openSqliteJournal("/proc/qlik-reload-cannot-be-here/journal.db");
  REQUIRE_FALSE(journal.isOk());
  CHECK(journal.status().code() == ErrorCode::kConfiguration);
  CHECK_THAT(journal.status().message(), Catch::Contains("/proc/qlik-reload-cannot-be-here"));
}

namespace {

// Two lives of a worker on one journal file and one (fake) Qlik site.
struct RestartHarness {
  ManualClock clock;
  FakeQrs qrs{clock};
  TempJournalFile file;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<ReloadOperator> op;
  OperatorOptions options;

  RestartHarness() { options.monitor.poll.jitter = 0; }
  void boot() {
    op.reset();
    journal.reset();
    journal = open(file.path);
    op = std::make_unique<ReloadOperator>("default", qrs, clock, options, journal.get());
    op->start();
  }
  // The process dies: nothing is flushed or said goodbye to.
  void crash() {
    op->shutdown();
    op.reset();
    journal.reset();
  }
  template <typename F>
  auto drive(F&& call) {
    auto future = std::async(std::launch::async, std::forward<F>(call));
    return driveUntilReady(clock, future);
  }
};

}  // namespace

TEST_CASE("After a restart the worker resumes following what it started", "[journal][operator]") {
  RestartHarness h;
  h.qrs.addTask(longTask(Duration(60'000)));
  h.boot();
  StartRequest r;
  r.taskId = kTask;
  auto started = h.drive([&] { return h.op->startReload(r); });
  REQUIRE(started.isOk());
  const std::string id = started.value().executionId;
  h.crash();

  h.boot();
  // Followed at once, from the journal, before anyone asks.
  CHECK(h.op->monitor().isTracked(id));
  auto done = h.drive([&] { return h.op->waitReload(id, Duration(3600'000)); });
  REQUIRE(done.isOk());
  CHECK(done.value().state == ReloadState::kSucceeded);
  auto entries = h.journal->all("default");
  REQUIRE(entries.isOk());
  REQUIRE(entries->size() == 1);
  CHECK(entries->at(0).executionId == id);
  CHECK(entries->at(0).state == "SUCCEEDED");
  CHECK(entries->at(0).terminal);
  CHECK(h.qrs.calls(Op::kStart) == 1);
}

TEST_CASE("An idempotency key returns its execution across a restart, finished or not", "[journal][operator]") {
  RestartHarness h;
  h.qrs.addTask(longTask(Duration(5'000)));
  h.boot();
  StartRequest r;
  r.taskId = kTask;
  r.idempotencyKey = "airflow/dag=sales/run=2026-01-02/task=reload";
  auto first = h.drive([&] { return h.op->startReload(r); });
  REQUIRE(first.isOk());
  h.crash();
  h.boot();
  auto again = h.drive([&] { return h.op->startReload(r); });
  REQUIRE(again.isOk());
  CHECK(again.value().executionId == first.value().executionId);
  auto finished = h.drive([&] { return h.op->runReload(r); });
  REQUIRE(finished.isOk());
  CHECK(finished.value().state == ReloadState::kSucceeded);
  h.crash();
  h.boot();
  auto afterEnd = h.drive([&] { return h.op->runReload(r); });
  REQUIRE(afterEnd.isOk());
  CHECK(afterEnd.value().executionId == first.value().executionId);
  CHECK(afterEnd.value().state == ReloadState::kSucceeded);
  CHECK(h.qrs.calls(Op::kStart) == 1);
}

TEST_CASE("A start interrupted by a crash is resolved at restart without a second start", "[journal][operator]") {
  RestartHarness h;
  h.qrs.addTask(longTask(Duration(30'000)));
  h.boot();
  h.crash();
  // The intent was written, the start reached Qlik, the answer was lost.
  {
    auto journal = open(h.file.path);
    JournalEntry e = intent("key-1", toEpochMs(h.clock.wallNow()));
    REQUIRE(journal->recordIntent(e)->claimed);
  }

  SECTION("the execution it created is still running: followed") {
    const std::string created = h.qrs.startExternally(kTask);
    h.boot();
    CHECK(h.op->monitor().isTracked(created));
    StartRequest r;
    r.taskId = kTask;
    r.idempotencyKey = "key-1";
    auto s = h.drive([&] { return h.op->runReload(r); });
    REQUIRE(s.isOk());
    CHECK(s.value().executionId == created);
    CHECK(s.value().state == ReloadState::kSucceeded);
    CHECK(h.qrs.calls(Op::kStart) == 0);
  }
  SECTION("it ran and ended while the worker was down: found in the results") {
    const std::string created = h.qrs.startExternally(kTask);
    h.clock.advance(Duration(60'000));
    h.boot();
    StartRequest r;
    r.taskId = kTask;
    r.idempotencyKey = "key-1";
    auto s = h.drive([&] { return h.op->runReload(r); });
    REQUIRE(s.isOk());
    CHECK(s.value().executionId == created);
    CHECK(h.qrs.calls(Op::kStart) == 0);
  }
  SECTION("the look at the retry gets an unreadable answer: retryable, nothing started, found later") {
    h.qrs.failNext(Op::kFindSessions, 1, Status::unavailable("connection reset"));  // at restart
    h.boot();
    const std::string created = h.qrs.startExternally(kTask);
    h.clock.advance(Duration(60'000));  // it ran and ended meanwhile
    StartRequest r;
    r.taskId = kTask;
    r.idempotencyKey = "key-1";
    h.qrs.failNext(Op::kFindSessions, 1, Status::protocol("executionsession list: invalid JSON"));
    auto s = h.drive([&] { return h.op->startReload(r); });
    REQUIRE_FALSE(s.isOk());
    CHECK(s.status().retryable());
    CHECK_THAT(s.status().message(), Catch::Contains("nothing new was started"));
    CHECK(h.qrs.calls(Op::kStart) == 0);
    auto again = h.drive([&] { return h.op->runReload(r); });
    REQUIRE(again.isOk());
    CHECK(again.value().executionId == created);
    CHECK(h.qrs.calls(Op::kStart) == 0);
  }
  SECTION("Qlik shows nothing: recorded as not started, and the key is free again") {
    h.boot();
    auto entries = h.journal->all("default");
    REQUIRE(entries.isOk());
    REQUIRE(entries->size() == 1);
    CHECK(entries->at(0).state == kJournalStartFailed);
    StartRequest r;
    r.taskId = kTask;
    r.idempotencyKey = "key-1";
    auto s = h.drive([&] { return h.op->startReload(r); });
    REQUIRE(s.isOk());
    CHECK(isGuid(s.value().executionId));
    CHECK(h.qrs.calls(Op::kStart) == 1);
  }
}

TEST_CASE("A start is refused, with nothing started, when the journal cannot record it", "[journal][operator]") {
  struct BrokenJournal final : Journal {
    Result<Claim> recordIntent(const JournalEntry&) override { return Status::unavailable("disk full"); }
    Status recordStarted(const std::string&, const std::string&, const std::string&, bool,
                         const std::string&) override { return Status::ok(); }
    Status recordNotStarted(const std::string&, const std::string&, const std::string&) override { return Status::ok(); }
    Status recordStatus(const std::string&, const ReloadStatus&, std::int64_t) override { return Status::ok(); }
    Result<std::optional<JournalEntry>> findByKey(const std::string&, const std::string&) override {
      return std::optional<JournalEntry>();
    }
    Result<std::optional<JournalEntry>> findByExecution(const std::string&, const std::string&) override {
      return std::optional<JournalEntry>();
    }
    Result<std::vector<JournalEntry>> unfinished(const std::string&) override { return std::vector<JournalEntry>(); }
    Result<std::vector<JournalEntry>> all(const std::string&) override { return std::vector<JournalEntry>(); }
    Result<int> prune(std::int64_t) override { return 0; }
    Result<std::string> getMeta(const std::string&) override { return std::string(); }
    Status setMeta(const std::string&, const std::string&) override { return Status::ok(); }
  } broken;
  ManualClock clock;
  FakeQrs qrs{clock};
  qrs.addTask(longTask());
  ReloadOperator op("default", qrs, clock, OperatorOptions{}, &broken);
  StartRequest r;
  r.taskId = kTask;
  auto s = op.startReload(r);
  REQUIRE_FALSE(s.isOk());
  CHECK(s.status().retryable());
  CHECK_THAT(s.status().message(), Catch::Contains("disk full") && Catch::Contains("nothing was started"));
  CHECK(qrs.calls(Op::kStart) == 0);
}

TEST_CASE("An execution Qlik has forgotten is answered from the journal", "[journal][operator]") {
  RestartHarness h;
  h.boot();
  const std::string exec = newGuid();
  JournalEntry e = intent("");
  REQUIRE(h.journal->recordIntent(e)->claimed);
  REQUIRE(h.journal->recordStarted(e.intentId, exec, kTask, false, "Reload succeeded after 3s.").isOk());
  ReloadStatus s;
  s.executionId = exec;
  s.state = ReloadState::kSucceeded;
  s.terminal = true;
  s.message = "Reload succeeded after 3s.";
  REQUIRE(h.journal->recordStatus("default", s, 5000).isOk());
  auto answer = h.op->getReload(exec);
  REQUIRE(answer.isOk());
  CHECK(answer.value().state == ReloadState::kSucceeded);
  CHECK(answer.value().terminal);
  CHECK_THAT(answer.value().message, Catch::Contains("journal"));
}

TEST_CASE("The operator prunes the journal by its retention", "[journal][operator]") {
  RestartHarness h;
  h.options.journalRetention = Duration(24 * 3600 * 1000);
  h.qrs.addTask(longTask(Duration(1'000)));
  h.boot();
  StartRequest r;
  r.taskId = kTask;
  r.idempotencyKey = "old-run";
  auto first = h.drive([&] { return h.op->runReload(r); });
  REQUIRE(first.isOk());
  REQUIRE(h.journal->findByKey("default", "old-run")->has_value());
  h.crash();
  h.clock.advance(Duration(25LL * 3600 * 1000));
  h.boot();
  CHECK_FALSE(h.journal->findByKey("default", "old-run")->has_value());
}

TEST_CASE("Journal: named values are kept and replaced", "[journal]") {
  TempJournalFile file;
  {
    auto journal = open(file.path);
    CHECK(journal->getMeta("push_handle:default").value().empty());
    REQUIRE(journal->setMeta("push_handle:default", "a").isOk());
    REQUIRE(journal->setMeta("push_handle:default", "b").isOk());
  }
  auto journal = open(file.path);
  CHECK(journal->getMeta("push_handle:default").value() == "b");
}

TEST_CASE("Another worker's unanswered start is left alone until it is stale", "[journal][operator]") {
  RestartHarness h;
  h.qrs.addTask(longTask(Duration(30'000)));
  h.boot();
  h.crash();
  {
    auto journal = open(h.file.path);
    JournalEntry e = intent("shared-key", toEpochMs(h.clock.wallNow()));
    e.owner = "worker-2";
    REQUIRE(journal->recordIntent(e)->claimed);
  }
  h.boot();
  // Still STARTING: worker-2 may be waiting for QRS's answer right now.
  auto entries = h.journal->all("default");
  REQUIRE(entries.isOk());
  REQUIRE(entries->size() == 1);
  CHECK(entries->at(0).state == kJournalStarting);
  StartRequest r;
  r.taskId = kTask;
  r.idempotencyKey = "shared-key";
  auto busy = h.drive([&] { return h.op->startReload(r); });
  REQUIRE_FALSE(busy.isOk());
  CHECK(busy.status().retryable());
  CHECK_THAT(busy.status().message(), Catch::Contains("still in progress"));
  CHECK(h.qrs.calls(Op::kStart) == 0);
  // Three minutes later nothing came of it: resolved as not started, key free.
  h.clock.advance(Duration(180'000));
  auto started = h.drive([&] { return h.op->startReload(r); });
  REQUIRE(started.isOk());
  CHECK(isGuid(started.value().executionId));
  CHECK(h.qrs.calls(Op::kStart) == 1);
}
