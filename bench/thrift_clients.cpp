#include "thrift_clients.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include "ReloadWorker.h"

namespace qlik_reload::bench {
namespace {

namespace rpc = qlik_reload::rpc;
using apache::thrift::TException;

bool isTerminal(rpc::ReloadState::type s) {
  return s == rpc::ReloadState::SUCCEEDED || s == rpc::ReloadState::FAILED || s == rpc::ReloadState::ABORTED ||
         s == rpc::ReloadState::SKIPPED || s == rpc::ReloadState::NOT_STARTED;
}

std::string stateName(rpc::ReloadState::type state) {
  auto it = rpc::_ReloadState_VALUES_TO_NAMES.find(state);
  return it == rpc::_ReloadState_VALUES_TO_NAMES.end() ? "UNKNOWN" : it->second;
}

// One framed binary connection to the worker.
struct Connection {
  Connection(int port, int recvTimeoutMs) {
    auto socket = std::make_shared<apache::thrift::transport::TSocket>("127.0.0.1", port);
    // Thousands connect at once: a full listen backlog costs SYN retries (1 s, 3 s, ...).
    socket->setConnTimeout(30'000);
    socket->setRecvTimeout(recvTimeoutMs);
    transport = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
    client = std::make_unique<rpc::ReloadWorkerClient>(
        std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport));
  }
  ~Connection() {
    try {
      transport->close();
    } catch (const TException&) {
    }
  }
  std::shared_ptr<apache::thrift::transport::TTransport> transport;
  std::unique_ptr<rpc::ReloadWorkerClient> client;
};

}  // namespace

ThriftClients::ThriftClients(ThriftClientOptions options, std::vector<TaskPlan> plans, ReloadTracker& tracker)
    : options_(options), plans_(std::move(plans)), tracker_(tracker) {}

ThriftClients::~ThriftClients() {
  go();
  join();
}

bool ThriftClients::connectAll(std::chrono::steady_clock::time_point deadline) {
  threads_.reserve(plans_.size());
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    threads_.push_back(std::make_unique<SmallStackThread>([this, i] { runClient(i); }, options_.stackBytes));
  }
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_until(lock, deadline, [&] { return connected_ == plans_.size(); });
}

void ThriftClients::go() {
  std::lock_guard<std::mutex> guard(mutex_);
  go_ = true;
  changed_.notify_all();
}

void ThriftClients::join() {
  for (auto& thread : threads_) thread->join();
}

void ThriftClients::runClient(std::size_t index) {
  std::unique_ptr<Connection> connection;
  std::string error;
  try {
    connection = std::make_unique<Connection>(options_.port, options_.waitMaxMs + 30'000);
    connection->transport->open();
  } catch (const TException& e) {
    error = std::string("connect: ") + e.what();
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    ++connected_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return go_; });
  }
  if (!error.empty()) {
    tracker_.failed(index, error);
    return;
  }
  try {
    rpc::ReloadRequest request;
    request.__set_taskId(plans_[index].taskId);
    rpc::ReloadStatus status;
    connection->client->startReload(status, request);
    tracker_.started(index, status.executionId, wallMsNow());
    rpc::ExecutionRef ref;
    ref.site = "default";
    ref.executionId = status.executionId;
    while (!isTerminal(status.state)) connection->client->waitReload(status, ref, options_.waitMaxMs);
    tracker_.finished(index, stateName(status.state), wallMsNow());
  } catch (const TException& e) {
    tracker_.failed(index, e.what());
  }
}

std::vector<double> timeGetReload(int port, const std::vector<std::string>& executionIds, int calls, int warmup) {
  Connection connection(port, 10'000);
  connection.transport->open();
  std::vector<double> micros;
  micros.reserve(static_cast<std::size_t>(calls));
  rpc::ExecutionRef ref;
  ref.site = "default";
  rpc::ReloadStatus status;
  for (int i = 0; i < warmup + calls; ++i) {
    ref.executionId = executionIds[static_cast<std::size_t>(i) % executionIds.size()];
    const auto begin = std::chrono::steady_clock::now();
    connection.client->getReload(status, ref);
    const auto end = std::chrono::steady_clock::now();
    if (i >= warmup) micros.push_back(std::chrono::duration<double, std::micro>(end - begin).count());
  }
  return micros;
}

}  // namespace qlik_reload::bench
