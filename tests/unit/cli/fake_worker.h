// A hand-written fake qlik-reload-worker for the CLI's unit tests, reached
// through FakeConnector/WorkerConnection exactly like the real one.
//
// Time: each call may let time pass on the test's ManualClock (a long poll
// that lasts 30 s advances the clock by 30 s), so a two-hour reload runs in
// microseconds. Answers are scripted per call; every call is recorded so a
// test can assert "exactly one start was sent" or "cancel was never called".
//
// Thread-safe (the signal thread cancels on its own connection).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ReloadWorker.h"
#include "manual_clock.h"
#include "worker_connection.h"

namespace qlik_reload::cli::testing {

inline constexpr const char* kExecutionId = "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b";
inline constexpr const char* kTaskId = "7f3c0d2e-1b4a-4c5d-8e9f-0a1b2c3d4e5f";

// A status as the worker would send it.
rpc::ReloadStatus makeStatus(rpc::ReloadState::type state, const std::string& executionId = kExecutionId);

// Throws what a broken connection throws.
[[noreturn]] void throwTransportError(const std::string& what = "No more data to read.");

class FakeWorker : public rpc::ReloadWorkerIf {
 public:
  // One scripted answer: time passing during the call, then either `raise`
  // (throws) or `status`. `during` runs inside the call before it answers.
  struct Step {
    Duration takes{0};
    std::optional<rpc::ReloadStatus> status;
    std::function<void()> raise;
    std::function<void()> during;
  };

  explicit FakeWorker(qlik_reload::testing::ManualClock& clock);

  // startReload: consumes startSteps; when empty answers makeStatus(QUEUED).
  std::deque<Step> startSteps;
  // waitReload: consumes waitSteps; when empty the long poll lasts maxWaitMs
  // and answers `running` (the reload just keeps running).
  std::deque<Step> waitSteps;
  rpc::ReloadStatus running = makeStatus(rpc::ReloadState::RUNNING);
  // cancelReload, getReload: consume their steps; when empty answer ABORTED
  // (cancel) and `running` (get).
  std::deque<Step> cancelSteps;
  std::deque<Step> getSteps;
  rpc::WorkerInfo info;

  // What was called, in order.
  std::vector<rpc::ReloadRequest> starts() const;
  std::vector<std::pair<rpc::ExecutionRef, int32_t>> waits() const;
  std::vector<rpc::ExecutionRef> cancels() const;
  std::vector<rpc::ExecutionRef> gets() const;
  int runReloadCalls() const;

  void startReload(rpc::ReloadStatus& out, const rpc::ReloadRequest& request) override;
  void getReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref) override;
  void waitReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref, int32_t maxWaitMs) override;
  void runReload(rpc::ReloadStatus& out, const rpc::ReloadRequest& request) override;
  void cancelReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref) override;
  void ping(rpc::WorkerInfo& out) override;

 private:
  // Pops the next step of `steps` (under the lock), then plays it (unlocked).
  // Returns false when there was no step.
  bool play(std::deque<Step>& steps, rpc::ReloadStatus& out);

  qlik_reload::testing::ManualClock& clock_;
  mutable std::mutex mutex_;
  std::vector<rpc::ReloadRequest> starts_;
  std::vector<std::pair<rpc::ExecutionRef, int32_t>> waits_;
  std::vector<rpc::ExecutionRef> cancels_;
  std::vector<rpc::ExecutionRef> gets_;
  int runReloadCalls_ = 0;
};

// Hands out connections to one FakeWorker. `refuse` connects fail (each after
// `refusalTakes` of clock time) before connecting works again; `refuseAll`
// makes every connect fail.
class FakeConnector : public WorkerConnector {
 public:
  FakeConnector(FakeWorker& worker, qlik_reload::testing::ManualClock& clock);

  std::unique_ptr<WorkerConnection> connect() override;
  std::string address() const override { return "127.0.0.1:9090"; }

  void refuse(int count);
  void refuseAll(bool on);
  Duration refusalTakes{0};

  int connects() const;
  // Every receive timeout set on any connection, in order.
  std::vector<Duration> receiveTimeouts() const;

 private:
  FakeWorker& worker_;
  qlik_reload::testing::ManualClock& clock_;
  mutable std::mutex mutex_;
  int refuse_ = 0;
  bool refuseAll_ = false;
  int connects_ = 0;
  std::vector<Duration> receiveTimeouts_;
};

// A Clock over a ManualClock on which every wait jumps time straight to its
// deadline: for code under test that runs on the test's own thread, so its
// backoff sleeps cost nothing and never block.
class JumpingClock final : public Clock {
 public:
  explicit JumpingClock(qlik_reload::testing::ManualClock& manual) : manual_(manual) {}
  TimePoint now() const override { return manual_.now(); }
  WallTime wallNow() const override { return manual_.wallNow(); }
  void waitUntil(std::unique_lock<std::mutex>&, std::condition_variable&, TimePoint deadline) override {
    manual_.advanceTo(deadline);
  }

 private:
  qlik_reload::testing::ManualClock& manual_;
};

}  // namespace qlik_reload::cli::testing
