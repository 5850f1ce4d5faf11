#include "harness.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/URI.h>
#include <thrift/Thrift.h>

#include "measure.h"
#include "naive_clients.h"
#include "qrs/filter.h"
#include "thrift_clients.h"

namespace qlik_reload::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kZeroGuid = "00000000-0000-0000-0000-000000000000";

// The stack size glibc gives a thread that does not choose one: RLIMIT_STACK
// (the worker inherits ours), 8 MiB when unlimited.
std::size_t threadStackBytes() {
  rlimit limit{};
  if (getrlimit(RLIMIT_STACK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 8u << 20;
  return static_cast<std::size_t>(limit.rlim_cur);
}

SteadyClock::time_point steadyAtWall(double wallMs) {
  return SteadyClock::now() + std::chrono::microseconds(static_cast<std::int64_t>((wallMs - wallMsNow()) * 1000.0));
}

// How many GET /qrs/executionresult/full requests one batch of `n`
// executions takes: the HTTP client's chunking, measured the way
// HttpQrsClient builds the URL (qrs/http_client.cpp).
int chunksFor(int n) {
  Poco::URI skeleton;
  skeleton.setPath("/qrs/executionresult/full");
  skeleton.addQueryParameter("filter", "");
  skeleton.addQueryParameter("xrfkey", std::string(16, 'x'));
  const std::size_t fixed = skeleton.getPathAndQuery().size();
  std::vector<std::string> ids(static_cast<std::size_t>(n), "0123abcd-0000-4000-8000-000000000000");
  auto chunks = qrs::chunkGuidsForFilter("ExecutionId", ids, qrs::kMaxRequestUrlLength - fixed);
  return chunks.isOk() ? static_cast<int>(chunks->size()) : 0;
}

// The simulated time after the last start until every execution is read at
// its steady rate: the poll interval grows from its initial value (reset by
// the Triggered → Queued → Started changes) to the cap, plus one cap and the
// jitter; push: the first fallback read (min(2 s, fallback) real time) and a margin.
double settleSimMs(const HarnessOptions& o, const RunSpec& spec) {
  switch (spec.mode) {
    case Mode::kWorkerPoll: {
      double sum = 2.0 * static_cast<double>(o.worker.pollInitialMs);
      for (double interval = static_cast<double>(o.worker.pollInitialMs);
           interval < static_cast<double>(o.worker.pollMaxMs); interval *= 2) {
        sum += interval;
      }
      return (sum + static_cast<double>(o.worker.pollMaxMs)) * 1.1;
    }
    case Mode::kWorkerPush: {
      const double fallbackReal = static_cast<double>(o.worker.pushFallbackMs) / spec.timeScale;
      return (std::min(2000.0, fallbackReal) + 500.0) * spec.timeScale;
    }
    case Mode::kNaive1s:
    case Mode::kNaive30s:
      return static_cast<double>(pollPeriodSimMs(spec.mode, o.worker)) * 1.1;
  }
  return 0;
}

// The shortest window the steady rate is measured over (simulated ms).
double minWindowSimMs(const HarnessOptions& o, Mode mode) {
  switch (mode) {
    case Mode::kWorkerPoll: return 2.0 * static_cast<double>(o.worker.pollMaxMs);
    case Mode::kWorkerPush: return 5'000;
    case Mode::kNaive1s: return 5'000;
    case Mode::kNaive30s: return 60'000;
  }
  return 0;
}

std::string fixed(double value, int digits) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << value;
  return s.str();
}

struct Sample {
  double wallMs = 0;  // midpoint of the record call
  RequestCounts counts;
};

Sample sampleRecord(const SimProcess& sim) {
  const double before = wallMsNow();
  auto record = sim.record();
  Sample s;
  s.wallMs = (before + wallMsNow()) / 2;
  s.counts = requestCountsOf(*record);
  return s;
}

// The part of a run that differs by mode: who follows the reloads.
class Followers {
 public:
  virtual ~Followers() = default;
  virtual void begin() = 0;     // every reload starts now
  virtual void abandon() = 0;   // give up on reloads not done (after a deadline)
  virtual void finish() = 0;    // join
};

class WorkerFollowers : public Followers {
 public:
  WorkerFollowers(ThriftClientOptions options, std::vector<TaskPlan> plans, ReloadTracker& tracker,
                  WorkerProcess& worker)
      : clients_(options, std::move(plans), tracker), worker_(worker) {}
  bool connect(SteadyClock::time_point deadline) { return clients_.connectAll(deadline); }
  void begin() override { clients_.go(); }
  void abandon() override { worker_.stop(); }  // closes every connection: waiting clients return with an error
  void finish() override { clients_.join(); }

 private:
  ThriftClients clients_;
  WorkerProcess& worker_;
};

class NaiveFollowers : public Followers {
 public:
  NaiveFollowers(NaiveClientOptions options, std::vector<TaskPlan> plans, ReloadTracker& tracker)
      : clients_(std::move(options), std::move(plans), tracker) {}
  void begin() override { clients_.start(); }
  void abandon() override { clients_.stop(); }
  void finish() override { clients_.stop(); }
  const NaiveClients& clients() const { return clients_; }

 private:
  NaiveClients clients_;
};

void check(RunResult& result, bool ok, const std::string& problem) {
  if (!ok) result.problems.push_back(problem);
}

void runMeasured(const HarnessOptions& o, const RunSpec& spec, const std::string& dir, RunResult& result) {
  ScenarioShape shape = o.shape;
  shape.reloads = spec.reloads;
  const std::vector<TaskPlan> plans = writeScenario(shape, dir + "/scenario.json");
  const double scale = spec.timeScale;
  const std::size_t n = plans.size();

  SimProcess sim(o.simBinary, dir + "/scenario.json", o.pkiDir, dir, scale);
  std::unique_ptr<WorkerProcess> worker;
  if (isWorkerMode(spec.mode)) {
    WorkerSetup setup = o.worker;
    setup.timeScale = scale;
    setup.push = spec.mode == Mode::kWorkerPush;
    setup.maxConnections = std::max(setup.maxConnections, spec.reloads + 64);
    worker = std::make_unique<WorkerProcess>(o.workerBinary, workerConfigText(setup, sim, dir), dir);
    result.hasWorker = true;
    if (setup.push) {
      Poco::JSON::Array::Ptr subscriptions;
      try {
        subscriptions = sim.notifications()->getArray("subscriptions");
      } catch (const std::exception&) {
        // A qrs-sim without notifications has no /sim/notifications either.
      }
      result.pushActive = subscriptions && subscriptions->size() == 1;
      if (!result.pushActive) {
        const std::string log = worker->stderrText();
        const auto at = log.find("change notifications");
        const auto lineStart = at == std::string::npos ? at : log.rfind('\n', at);
        const auto lineEnd = at == std::string::npos ? at : log.find('\n', at);
        result.notes.push_back(
            "PUSH INACTIVE: the worker has no change subscription in qrs-sim and follows by fallback polling alone" +
            (at == std::string::npos ? std::string()
                                     : ": " + log.substr(lineStart == std::string::npos ? 0 : lineStart + 1,
                                                         lineEnd - (lineStart == std::string::npos ? 0 : lineStart + 1))));
      }
    }
  }

  ReloadTracker tracker(n);
  const Sample before = sampleRecord(sim);
  ProcessSample procBefore;
  if (worker) {
    procBefore = sampleProcess(worker->pid());
    result.rssIdleKib = procBefore.rssKib;
    result.stackRssIdleKib = sampleThreadStacks(worker->pid(), threadStackBytes()).rssKib;
  }
  const auto runBegin = SteadyClock::now();

  std::unique_ptr<Followers> followers;
  NaiveFollowers* naive = nullptr;
  if (worker) {
    ThriftClientOptions options;
    options.port = worker->port();
    options.stackBytes = o.clientStackBytes;
    options.waitMaxMs = o.waitMaxMs;
    auto clients = std::make_unique<WorkerFollowers>(options, plans, tracker, *worker);
    if (!clients->connect(SteadyClock::now() + 120s)) {
      result.problems.push_back("the clients could not all connect within 120 s");
    }
    followers = std::move(clients);
  } else {
    NaiveClientOptions options;
    options.simPort = sim.port();
    options.pkiDir = o.pkiDir;
    options.connections = o.naiveConnections;
    options.pollInterval = std::chrono::microseconds(
        std::llround(static_cast<double>(pollPeriodSimMs(spec.mode, o.worker)) * 1000.0 / scale));
    auto clients = std::make_unique<NaiveFollowers>(options, plans, tracker);
    naive = clients.get();
    followers = std::move(clients);
  }

  followers->begin();
  const auto startDeadline = SteadyClock::now() + 120s + std::chrono::milliseconds(20 * n);
  if (!tracker.waitAllStarted(startDeadline)) result.problems.push_back("not every start was answered in time");
  std::vector<ReloadTrace> traces = tracker.traces();

  // The steady window: every reload started and settled, none finished.
  double firstStart = std::numeric_limits<double>::infinity(), lastStart = 0, firstFinish = firstStart;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(traces[i].startedWallMs)) continue;
    firstStart = std::min(firstStart, traces[i].startedWallMs);
    lastStart = std::max(lastStart, traces[i].startedWallMs);
    firstFinish = std::min(firstFinish, traces[i].startedWallMs +
                                            static_cast<double>(shape.queueMs + plans[i].runMs) / scale);
  }
  result.startSpreadSimS = lastStart > firstStart ? (lastStart - firstStart) * scale / 1000.0 : 0;
  const double windowBegin = lastStart + settleSimMs(o, spec) / scale;
  const double windowEnd = firstFinish - 50.0 - 0.01 * static_cast<double>(shape.runMinMs) / scale;
  std::optional<Sample> windowFirst, windowLast;
  ProcessSample procWaiting;
  if (windowEnd - windowBegin >= minWindowSimMs(o, spec.mode) / scale) {
    std::this_thread::sleep_until(steadyAtWall(windowBegin));
    windowFirst = sampleRecord(sim);
    std::this_thread::sleep_until(steadyAtWall(windowEnd));
    windowLast = sampleRecord(sim);
    if (worker) procWaiting = sampleProcess(worker->pid());
  } else if (worker) {
    procWaiting = sampleProcess(worker->pid());
  }
  StackSample stacksWaiting;
  if (worker) stacksWaiting = sampleThreadStacks(worker->pid(), threadStackBytes());

  const double slowestSimMs = static_cast<double>(shape.queueMs + shape.runMaxMs) +
                              std::max<double>(30'000, static_cast<double>(pollPeriodSimMs(spec.mode, o.worker)) * 2);
  const auto doneDeadline = SteadyClock::now() + 120s + std::chrono::milliseconds(std::llround(slowestSimMs / scale));
  if (!tracker.waitAllDone(doneDeadline)) {
    result.problems.push_back("only " + std::to_string(tracker.doneCount()) + " of " + std::to_string(n) +
                              " reloads were done within the deadline");
    followers->abandon();
  }
  result.wallSeconds = std::chrono::duration<double>(SteadyClock::now() - runBegin).count();

  ProcessSample procAfter;
  if (worker) procAfter = sampleProcess(worker->pid());
  auto finalRecord = sim.record();
  const RequestCounts runCounts = requestCountsOf(*finalRecord).minus(before.counts);
  traces = tracker.traces();

  std::vector<std::string> executionIds;
  for (const ReloadTrace& t : traces) {
    if (!t.executionId.empty()) executionIds.push_back(t.executionId);
  }
  if (worker && !executionIds.empty() && result.problems.empty()) {
    try {
      auto micros = timeGetReload(worker->port(), executionIds, o.getReloadCalls, o.getReloadWarmup);
      result.getReloadP50Us = percentile(micros, 50);
      result.getReloadP99Us = percentile(micros, 99);
    } catch (const apache::thrift::TException& e) {
      result.problems.push_back(std::string("getReload timing: ") + e.what());
    }
  }
  followers->finish();
  if (naive != nullptr) {
    result.latenessP99Ms = percentile(naive->clients().lateness(), 99);
    if (naive->clients().errors() > 0) {
      result.problems.push_back(std::to_string(naive->clients().errors()) + " naive requests failed");
    }
  }
  if (worker && !worker->stop()) result.notes.push_back("the worker did not stop within 20 s of SIGTERM");
  sim.stop();

  // ---- Figures.
  result.requests = runCounts;
  result.requestsPerReload = static_cast<double>(runCounts.total) / static_cast<double>(n);
  const double pollCapSimMs = static_cast<double>(pollPeriodSimMs(spec.mode, o.worker));
  if (windowFirst && windowLast) {
    const RequestCounts delta = windowLast->counts.minus(windowFirst->counts);
    const double simSeconds = (windowLast->wallMs - windowFirst->wallMs) * scale / 1000.0;
    result.steadyFromWindow = true;
    result.steadyWindowSimS = simSeconds;
    result.requestsPerSimS = static_cast<double>(delta.total) / simSeconds;
    result.resultReadsPerSimS = static_cast<double>(delta.route(kRouteResults)) / simSeconds;
    if (spec.mode == Mode::kWorkerPoll) result.resultReadsPerCap = result.resultReadsPerSimS * pollCapSimMs / 1000.0;
  } else {
    double lastDetect = firstStart;
    for (const ReloadTrace& t : traces) {
      if (!std::isnan(t.detectedWallMs)) lastDetect = std::max(lastDetect, t.detectedWallMs);
    }
    const double simSeconds = (lastDetect - firstStart) * scale / 1000.0;
    result.steadyWindowSimS = simSeconds;
    if (simSeconds > 0) {
      result.requestsPerSimS = static_cast<double>(runCounts.total) / simSeconds;
      result.resultReadsPerSimS = static_cast<double>(runCounts.route(kRouteResults)) / simSeconds;
    }
    result.notes.push_back("no steady window (" + fixed(std::max(0.0, windowEnd - windowBegin) * scale / 1000.0, 1) +
                           " s simulated between settling and the first finish; needed " +
                           fixed(minWindowSimMs(o, spec.mode) / 1000.0, 0) +
                           " s): requests/s is the average from the first start to the last detection");
  }
  if (spec.mode == Mode::kWorkerPoll) result.chunksForAll = chunksFor(spec.reloads);

  if (worker) {
    result.cpuMsPerReload = (procAfter.cpuSeconds - procBefore.cpuSeconds) * 1000.0 / static_cast<double>(n);
    result.rssWaitingKib = procWaiting.rssKib;
    result.threadsWaiting = procWaiting.threads;
    result.stackMappingsWaiting = stacksWaiting.mappings;
    result.stackRssWaitingKib = stacksWaiting.rssKib;
    if (stacksWaiting.mappings > 0) {
      result.notes.push_back(
          "worker with N waiting: " + std::to_string(procWaiting.threads) + " threads, RSS " +
          fixed(static_cast<double>(procWaiting.rssKib) / 1024.0, 1) + " MiB, of which thread stacks " +
          fixed(static_cast<double>(stacksWaiting.rssKib) / 1024.0, 1) + " MiB (" +
          std::to_string(stacksWaiting.mappings) + " stacks of " + std::to_string(threadStackBytes() / 1024) +
          " KiB reserved, " + fixed(static_cast<double>(stacksWaiting.rssKib) / stacksWaiting.mappings, 1) +
          " KiB resident each); idle RSS " + fixed(static_cast<double>(procBefore.rssKib) / 1024.0, 1) + " MiB");
    }
    result.peakRssKib = procAfter.peakRssKib;
    result.rssPerWaitingKib =
        static_cast<double>(procWaiting.rssKib - procBefore.rssKib) / static_cast<double>(n);
  }

  // ---- Invariants, against the simulator's own record.
  std::map<std::string, Poco::JSON::Object::Ptr> executions;
  auto list = finalRecord->getArray("executions");
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto e = list->getObject(static_cast<unsigned>(i));
    executions[e->getValue<std::string>("execution_id")] = e;
  }
  std::map<std::string, int> startsOfTask;
  auto starts = finalRecord->getArray("starts");
  for (std::size_t i = 0; i < starts->size(); ++i) {
    auto s = starts->getObject(static_cast<unsigned>(i));
    if (s->getValue<std::string>("execution_id") != kZeroGuid) ++startsOfTask[s->getValue<std::string>("task_id")];
  }
  check(result, executions.size() == n,
        "qrs-sim ran " + std::to_string(executions.size()) + " executions for " + std::to_string(n) + " reloads");
  std::vector<double> latencies;
  std::size_t shown = 0;
  auto problem = [&](const std::string& text) {
    if (shown++ < 10) result.problems.push_back(text);
  };
  for (std::size_t i = 0; i < n; ++i) {
    const ReloadTrace& t = traces[i];
    const std::string who = "reload " + std::to_string(i) + " (task " + plans[i].taskId + ")";
    if (startsOfTask[plans[i].taskId] != 1) {
      problem(who + ": started " + std::to_string(startsOfTask[plans[i].taskId]) + " times in qrs-sim");
    }
    if (!t.error.empty()) {
      problem(who + ": " + t.error);
      continue;
    }
    if (t.state != "SUCCEEDED") {
      problem(who + ": the client saw " + (t.state.empty() ? "no terminal state" : t.state) + ", not SUCCEEDED");
      continue;
    }
    auto it = executions.find(t.executionId);
    if (it == executions.end() || it->second->getValue<std::string>("task_id") != plans[i].taskId) {
      problem(who + ": execution " + t.executionId + " is not qrs-sim's execution of the task");
      continue;
    }
    const auto& truth = it->second;
    if (truth->getValue<bool>("live") || truth->isNull("final_status") || truth->getValue<int>("final_status") != 7 ||
        truth->isNull("finished_at_ms")) {
      problem(who + ": qrs-sim has not finished execution " + t.executionId + " with FinishedSuccess");
      continue;
    }
    const double latencyRealMs = t.detectedWallMs - truth->getValue<double>("finished_at_ms");
    // finished_at_ms is whole milliseconds; the clients' instants are finer.
    if (latencyRealMs < -2.0) {
      problem(who + ": the client saw the end " + fixed(-latencyRealMs, 1) + " ms before qrs-sim finished the run");
    }
    latencies.push_back(result.pushActive ? latencyRealMs : latencyRealMs * scale);
  }
  if (shown > 10) result.problems.push_back("... and " + std::to_string(shown - 10) + " more");
  result.latencyReal = result.pushActive;  // an inactive push run polls: simulated time like the others
  result.latencyP50Ms = percentile(latencies, 50);
  result.latencyP99Ms = percentile(latencies, 99);
  result.latencyMaxMs = percentile(latencies, 100);

  const double reloads = static_cast<double>(n);
  check(result, runCounts.route(kRouteStart) == static_cast<std::int64_t>(n),
        std::to_string(runCounts.route(kRouteStart)) + " start requests for " + std::to_string(n) + " reloads");
  const double minRunS = static_cast<double>(shape.runMinMs) / 1000.0;
  switch (spec.mode) {
    case Mode::kWorkerPoll:
      check(result, runCounts.route(kRouteResults) >= 1, "worker-poll: no result read at all");
      break;
    case Mode::kWorkerPush:
      if (result.pushActive) {
        check(result, runCounts.callbacksSent >= 1, "worker-push: qrs-sim delivered no change notification");
      }
      check(result, runCounts.route(kRouteResults) >= 1, "worker-push: no result read at all");
      break;
    case Mode::kNaive1s:
      // At least half the polls a minimal run takes: fewer means the client fell far behind its schedule.
      check(result, static_cast<double>(runCounts.route(kRouteSession)) >= reloads * minRunS * 0.5,
            "naive-1s: only " + std::to_string(runCounts.route(kRouteSession)) + " session polls");
      check(result, runCounts.route(kRouteResults) >= static_cast<std::int64_t>(n), "naive-1s: result reads missing");
      break;
    case Mode::kNaive30s:
      check(result, runCounts.route(kRouteSession) >= static_cast<std::int64_t>(n), "naive-30s: session polls missing");
      check(result, runCounts.route(kRouteResults) >= static_cast<std::int64_t>(n), "naive-30s: result reads missing");
      break;
  }
  if (worker) {
    check(result, result.peakRssKib > 0 && result.cpuMsPerReload >= 0, "the worker's /proc figures are missing");
  }
  if (!std::isnan(result.latenessP99Ms) && spec.mode != Mode::kWorkerPoll &&
      result.latenessP99Ms * scale > 0.1 * static_cast<double>(pollPeriodSimMs(spec.mode, o.worker))) {
    result.notes.push_back("the naive client's requests went out late (p99 " + fixed(result.latenessP99Ms, 1) +
                           " ms real): the machine did not keep up with its schedule");
  }
}

}  // namespace

const char* modeName(Mode mode) {
  switch (mode) {
    case Mode::kWorkerPoll: return "worker-poll";
    case Mode::kWorkerPush: return "worker-push";
    case Mode::kNaive1s: return "naive-1s";
    case Mode::kNaive30s: return "naive-30s";
  }
  return "?";
}

bool isWorkerMode(Mode mode) { return mode == Mode::kWorkerPoll || mode == Mode::kWorkerPush; }

std::int64_t pollPeriodSimMs(Mode mode, const WorkerSetup& worker) {
  switch (mode) {
    case Mode::kWorkerPoll: return worker.pollMaxMs;
    case Mode::kWorkerPush: return 0;
    case Mode::kNaive1s: return 1'000;
    case Mode::kNaive30s: return 30'000;
  }
  return 0;
}

RunResult runBenchmark(const HarnessOptions& options, const RunSpec& spec) {
  RunResult result;
  result.spec = spec;
  result.loadBefore = loadAverage();
  const std::string dir = options.workDir + "/" + modeName(spec.mode) + "-" + std::to_string(spec.reloads);
  try {
    if (Poco::File(dir).exists()) Poco::File(dir).remove(true);
    Poco::File(dir).createDirectories();
    runMeasured(options, spec, dir, result);
  } catch (const Poco::Exception& e) {
    result.problems.push_back("run failed: " + e.displayText());
  } catch (const std::exception& e) {
    result.problems.push_back(std::string("run failed: ") + e.what());
  }
  result.loadAfter = loadAverage();
  return result;
}

}  // namespace qlik_reload::bench
