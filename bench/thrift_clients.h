// ThriftClients: N callers of the real worker, each on its own connection
// and its own small-stack thread, the way N pipeline steps would call it:
// startReload, then waitReload long polls until the state is terminal. Each
// reports to a ReloadTracker when its start was answered and when it saw
// the terminal state. No retries: in a benchmark any error is a finding,
// reported as the reload's error.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "measure.h"
#include "programs.h"
#include "tracker.h"

namespace qlik_reload::bench {

struct ThriftClientOptions {
  int port = 0;                         // the worker's Thrift port (loopback)
  std::size_t stackBytes = 64 * 1024;   // per client thread
  int waitMaxMs = 30'000;               // per waitReload call, as the CLI does
};

class ThriftClients {
 public:
  ThriftClients(ThriftClientOptions options, std::vector<TaskPlan> plans, ReloadTracker& tracker);
  ~ThriftClients();  // releases and joins every client
  ThriftClients(const ThriftClients&) = delete;
  ThriftClients& operator=(const ThriftClients&) = delete;

  // Creates one thread per plan, each opening its connection; returns once
  // every connection is open (true) or at `deadline` (false). A client that
  // cannot connect reports an error to the tracker. Throws
  // std::runtime_error when a thread cannot be created.
  bool connectAll(std::chrono::steady_clock::time_point deadline);
  // Lets every connected client start its reload now.
  void go();
  void join();

 private:
  void runClient(std::size_t index);

  ThriftClientOptions options_;
  std::vector<TaskPlan> plans_;
  ReloadTracker& tracker_;
  std::vector<std::unique_ptr<SmallStackThread>> threads_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t connected_ = 0;
  bool go_ = false;
};

// Round trips of `calls` sequential getReload calls on one new connection
// (after `warmup` untimed ones), cycling through `executionIds`, in
// microseconds. Throws apache::thrift::TException on a failed call.
std::vector<double> timeGetReload(int port, const std::vector<std::string>& executionIds, int calls, int warmup);

}  // namespace qlik_reload::bench
