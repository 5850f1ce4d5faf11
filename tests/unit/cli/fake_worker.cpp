#include "fake_worker.h"

#include <thrift/transport/TTransportException.h>

namespace qlik_reload::cli::testing {

using apache::thrift::transport::TTransportException;

rpc::ReloadStatus makeStatus(rpc::ReloadState::type state, const std::string& executionId) {
  rpc::ReloadStatus status;
  status.executionId = executionId;
  status.site = "default";
  status.taskId = kTaskId;
  status.taskName = "Sales reload";
  status.state = state;
  status.terminal = isTerminalState(state);
  status.qlikStatus = "";
  status.qlikStatusCode = -1;
  status.message = "state " + stateName(state);
  return status;
}

void throwTransportError(const std::string& what) {
  throw TTransportException(TTransportException::END_OF_FILE, what);
}

FakeWorker::FakeWorker(qlik_reload::testing::ManualClock& clock) : clock_(clock) {
  info.version = "0.1.0";
  info.sites = {"default", "emea"};
}

bool FakeWorker::play(std::deque<Step>& steps, rpc::ReloadStatus& out) {
  Step step;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (steps.empty()) return false;
    step = steps.front();
    steps.pop_front();
  }
  if (step.takes.count() > 0) clock_.advance(step.takes);
  if (step.during) step.during();
  if (step.raise) step.raise();
  if (step.status) out = *step.status;
  return true;
}

void FakeWorker::startReload(rpc::ReloadStatus& out, const rpc::ReloadRequest& request) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    starts_.push_back(request);
  }
  if (!play(startSteps, out)) out = makeStatus(rpc::ReloadState::QUEUED);
}

void FakeWorker::getReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    gets_.push_back(ref);
  }
  if (!play(getSteps, out)) out = running;
}

void FakeWorker::waitReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref, int32_t maxWaitMs) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    waits_.emplace_back(ref, maxWaitMs);
  }
  if (play(waitSteps, out)) return;
  clock_.advance(Duration(maxWaitMs));
  out = running;
}

void FakeWorker::runReload(rpc::ReloadStatus& out, const rpc::ReloadRequest&) {
  std::lock_guard<std::mutex> guard(mutex_);
  ++runReloadCalls_;
  out = makeStatus(rpc::ReloadState::FAILED);
}

void FakeWorker::cancelReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    cancels_.push_back(ref);
  }
  if (!play(cancelSteps, out)) out = makeStatus(rpc::ReloadState::ABORTED, ref.executionId);
}

void FakeWorker::ping(rpc::WorkerInfo& out) { out = info; }

std::vector<rpc::ReloadRequest> FakeWorker::starts() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return starts_;
}
std::vector<std::pair<rpc::ExecutionRef, int32_t>> FakeWorker::waits() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return waits_;
}
std::vector<rpc::ExecutionRef> FakeWorker::cancels() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return cancels_;
}
std::vector<rpc::ExecutionRef> FakeWorker::gets() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return gets_;
}
int FakeWorker::runReloadCalls() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return runReloadCalls_;
}

namespace {

class FakeConnection final : public WorkerConnection {
 public:
  FakeConnection(FakeWorker& worker, std::function<void(Duration)> onTimeout)
      : worker_(worker), onTimeout_(std::move(onTimeout)) {}
  rpc::ReloadWorkerIf& worker() override { return worker_; }
  void setReceiveTimeout(Duration timeout) override { onTimeout_(timeout); }

 private:
  FakeWorker& worker_;
  std::function<void(Duration)> onTimeout_;
};

}  // namespace

FakeConnector::FakeConnector(FakeWorker& worker, qlik_reload::testing::ManualClock& clock)
    : worker_(worker), clock_(clock) {}

std::unique_ptr<WorkerConnection> FakeConnector::connect() {
  bool refused = false;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    ++connects_;
    if (refuseAll_) {
      refused = true;
    } else if (refuse_ > 0) {
      --refuse_;
      refused = true;
    }
  }
  if (refused) {
    if (refusalTakes.count() > 0) clock_.advance(refusalTakes);
    throw TTransportException(TTransportException::NOT_OPEN, "socket open() error: Connection refused");
  }
  return std::make_unique<FakeConnection>(worker_, [this](Duration timeout) {
    std::lock_guard<std::mutex> guard(mutex_);
    receiveTimeouts_.push_back(timeout);
  });
}

void FakeConnector::refuse(int count) {
  std::lock_guard<std::mutex> guard(mutex_);
  refuse_ = count;
}

void FakeConnector::refuseAll(bool on) {
  std::lock_guard<std::mutex> guard(mutex_);
  refuseAll_ = on;
}

int FakeConnector::connects() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return connects_;
}

std::vector<Duration> FakeConnector::receiveTimeouts() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return receiveTimeouts_;
}

}  // namespace qlik_reload::cli::testing
