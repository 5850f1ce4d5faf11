// Measuring helpers of the benchmark harness: percentiles, the clock the
// figures are taken with, what /proc says about a process, threads with
// small stacks for thousands of waiting clients, and the file limit.
//
// Nothing here is timed by a test; these are used by qlik-reload-bench only.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <pthread.h>

namespace qlik_reload::bench {

// The value at percentile `p` (0..100, nearest rank) of `values`; NaN when
// `values` is empty. Takes a copy: the caller's order is kept.
double percentile(std::vector<double> values, double p);

// Milliseconds since the Unix epoch, with the microseconds as a fraction.
// The same clock qrs-sim stamps its record with (its wall origin plus the
// steady clock), so a client's instant and the simulator's finish time can
// be subtracted.
double wallMsNow();

// One process as /proc tells it. Fields are 0 when the process is gone.
struct ProcessSample {
  double cpuSeconds = 0;  // utime + stime, the whole life of the process
  long rssKib = 0;        // VmRSS now
  long peakRssKib = 0;    // VmHWM: the peak resident set so far
  int threads = 0;        // Threads
};
ProcessSample sampleProcess(pid_t pid);

// The resident part of a process's thread stacks: anonymous mappings exactly
// `stackBytes` large (glibc maps each thread's stack that size, from
// RLIMIT_STACK unless the program chose another), from /proc/PID/smaps.
struct StackSample {
  int mappings = 0;
  long rssKib = 0;
};
StackSample sampleThreadStacks(pid_t pid, std::size_t stackBytes);

// The first line of /proc/loadavg ("0.52 0.61 0.70 2/180 1234").
std::string loadAverage();

// Raises the soft RLIMIT_NOFILE to the hard limit (children inherit it).
// Returns the soft limit in force afterwards.
rlim_t raiseOpenFileLimit();

// A joinable thread with a stack of `stackBytes` (rounded up to the page
// size and to PTHREAD_STACK_MIN), for the thousands of client threads that
// spend their life blocked in one call. Throws std::runtime_error when the
// thread cannot be created. The destructor joins.
class SmallStackThread {
 public:
  SmallStackThread(std::function<void()> body, std::size_t stackBytes);
  ~SmallStackThread();
  SmallStackThread(const SmallStackThread&) = delete;
  SmallStackThread& operator=(const SmallStackThread&) = delete;

  void join();

 private:
  static void* trampoline(void* argument);

  std::unique_ptr<std::function<void()>> body_;
  pthread_t thread_{};
  bool joinable_ = false;
};

}  // namespace qlik_reload::bench
