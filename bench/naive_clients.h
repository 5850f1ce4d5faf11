// NaiveClients: the way today's tools follow a reload, as a baseline. Each
// reload is followed on its own, straight against QRS (qrs-sim over mutual
// TLS, the PKI's client certificate, a fresh xrfkey per call, X-Qlik-User):
//   POST /qrs/task/{id}/start/synchronous          once
//   GET  /qrs/executionsession/{id}                 every poll interval until 404
//   GET  /qrs/executionresult/full?filter=ExecutionId eq {id}   then once
// (if that result is not final yet, polling goes on). The next poll is due
// one interval after the previous answer, as a script's sleep loop does.
//
// The requests are made by a small pool of threads, each with one
// keep-alive connection, from one schedule of due requests: the request
// pattern of N separate pollers, without N processes. That is generous to
// the baseline (separate scripts would each do a TLS handshake per poll).
// How late requests went out against their schedule is kept, so a machine
// that could not keep up is visible (lateness()).
//
// Thread-safe as far as its public methods are called from one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/Context.h>

#include "programs.h"
#include "tracker.h"

namespace qlik_reload::bench {

struct NaiveClientOptions {
  int simPort = 0;
  std::string pkiDir;
  std::chrono::microseconds pollInterval{1'000'000};  // real time (the simulated interval divided by the time scale)
  int connections = 32;                                // threads, each with one keep-alive connection
};

class NaiveClients {
 public:
  NaiveClients(NaiveClientOptions options, std::vector<TaskPlan> plans, ReloadTracker& tracker);
  ~NaiveClients();  // stops and joins
  NaiveClients(const NaiveClients&) = delete;
  NaiveClients& operator=(const NaiveClients&) = delete;

  // Every start is due now; the threads begin.
  void start();
  // Ends the schedule (what is not done stays not done) and joins.
  void stop();
  // How late the session polls went out against their due time, in real
  // milliseconds, one value per poll.
  std::vector<double> lateness() const;
  // Requests that failed in transport or answered an unexpected status
  // (each is retried at the next interval).
  std::size_t errors() const;

 private:
  enum class Step { kStart, kPoll, kResult };
  struct Due {
    std::chrono::steady_clock::time_point at;
    std::size_t index;
    Step step;
    bool operator>(const Due& other) const { return at > other.at; }
  };
  void runThread();

  NaiveClientOptions options_;
  std::vector<TaskPlan> plans_;
  ReloadTracker& tracker_;
  Poco::Net::Context::Ptr context_;
  std::vector<std::string> executionIds_;  // by plan index, once started

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> schedule_;
  std::size_t open_ = 0;  // reloads not done yet
  bool stopping_ = false;
  std::vector<double> lateness_;
  std::size_t errors_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace qlik_reload::bench
