// One benchmark run: N concurrent reloads of one generated scenario through
// one way of following them, measured from outside.
//
// Modes:
//   worker-poll  the real qlik-reload-worker, polling (its monitor's batched
//                result reads), N Thrift clients each doing startReload then
//                waitReload long polls until terminal
//   worker-push  the same with "push" configured: QRS change notifications
//                wake the monitor, sparse fallback reads remain
//   naive-1s     no worker: each reload polled on its own straight against
//                QRS every simulated second (naive_clients.h)
//   naive-30s    the same every 30 simulated seconds
//
// Every run starts its own qrs-sim (and worker) in its own folder, so peak
// RSS, CPU and request counts belong to that run alone. The worker's
// intervals are divided by the time scale like the simulator's durations.
//
// What is measured, and where it comes from:
//   QRS requests      qrs-sim's record, counted by route, from just before
//                     the first client connects to the end (the worker's
//                     one change subscription at its start is left out: it
//                     is per worker life, not per reload)
//   steady req/s      the counters sampled at the start and end of a window
//                     in which every reload has started, the worker's
//                     interval has grown to its cap, and none has finished
//                     yet; per SIMULATED second. When no such window exists
//                     (naive-30s: its period is longer than the gap) the
//                     average over the whole run is given, flagged.
//   detection latency client's wall time at the terminal state minus
//                     qrs-sim's finished_at_ms of the execution (the same
//                     wall clock). Simulated ms (real ms × time scale) for
//                     the polling modes; real ms for push, whose callbacks
//                     are real time.
//   worker CPU        utime+stime of the worker over the run, per reload
//   worker RSS        VmRSS before the clients connect ("idle"), with N
//                     waiting (end of the window), VmHWM at the end
//   getReload         sequential calls on one connection after the run
// A push run whose subscription failed (qrs-sim without notifications) is
// noted, not failed: the worker falls back to polling by design.
// Invariants checked on every run (RunResult::problems): every reload got
// a terminal state, SUCCEEDED, for the execution qrs-sim ran for its task
// and ended FinishedSuccess; one start per task; no error; latencies not
// negative; request counts that fit the mode.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "programs.h"

namespace qlik_reload::bench {

enum class Mode { kWorkerPoll, kWorkerPush, kNaive1s, kNaive30s };

const char* modeName(Mode mode);  // "worker-poll", ...
bool isWorkerMode(Mode mode);

struct HarnessOptions {
  std::string simBinary;
  std::string workerBinary;
  std::string pkiDir;
  std::string workDir;          // each run gets workDir/<mode>-<N>
  ScenarioShape shape;          // reloads is set per run
  std::size_t clientStackBytes = 64 * 1024;
  int waitMaxMs = 30'000;       // per waitReload
  int getReloadCalls = 2000;
  int getReloadWarmup = 200;
  int naiveConnections = 32;
  WorkerSetup worker;           // timeScale, maxConnections and push are set per run
};

// The simulated interval a polling mode is bounded by: the worker's cap
// (poll.max_ms), or the naive client's period. 0 for push.
std::int64_t pollPeriodSimMs(Mode mode, const WorkerSetup& worker);

struct RunSpec {
  Mode mode = Mode::kWorkerPoll;
  int reloads = 1;
  double timeScale = 10;
};

struct RunResult {
  RunSpec spec;
  std::string loadBefore;  // /proc/loadavg when the run began
  std::string loadAfter;
  double wallSeconds = 0;
  double startSpreadSimS = 0;  // first to last start answer, simulated seconds

  RequestCounts requests;      // the whole run
  double requestsPerReload = 0;
  bool steadyFromWindow = false;  // false: whole-run average
  double steadyWindowSimS = 0;
  double requestsPerSimS = kNaN;      // steady state, per simulated second
  double resultReadsPerSimS = kNaN;
  // worker-poll: batched result reads per cap interval, and the chunks one
  // batch of all N executions takes (the HTTP client's URL limit).
  double resultReadsPerCap = kNaN;
  int chunksForAll = 0;

  double latencyP50Ms = kNaN;  // simulated ms, or real ms for worker-push
  double latencyP99Ms = kNaN;
  double latencyMaxMs = kNaN;
  bool latencyReal = false;

  bool hasWorker = false;
  // worker-push: the worker's change subscription exists in qrs-sim. When it
  // does not (a QRS without notifications), the worker follows by fallback
  // polling alone: the run still counts, its push figures are not push's.
  bool pushActive = false;
  double cpuMsPerReload = kNaN;
  long rssIdleKib = 0;
  long rssWaitingKib = 0;
  long peakRssKib = 0;
  int threadsWaiting = 0;
  int stackMappingsWaiting = 0;   // the worker's thread stacks with N waiting (measure.h)
  long stackRssWaitingKib = 0;
  long stackRssIdleKib = 0;
  double rssPerWaitingKib = kNaN;
  double getReloadP50Us = kNaN;
  double getReloadP99Us = kNaN;

  double latenessP99Ms = kNaN;  // naive: how late its requests went out (real ms)

  std::vector<std::string> problems;  // invariants that did not hold
  std::vector<std::string> notes;

  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
};

// Runs one mode at one N. Never throws: a run that cannot be set up is a
// result with a problem.
RunResult runBenchmark(const HarnessOptions& options, const RunSpec& spec);

}  // namespace qlik_reload::bench
