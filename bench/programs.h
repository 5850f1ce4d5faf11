// The programs a benchmark run drives, each a real process on loopback:
// qrs-sim on a generated scenario and, in the worker modes,
// qlik-reload-worker configured against it. Readiness is always the
// program's port file, never a sleep.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/Net/Context.h>

#include "process.h"

namespace qlik_reload::bench {

// One reload of a run: its task in the scenario and how long it runs there.
struct TaskPlan {
  std::string taskId;
  std::int64_t runMs = 0;  // simulated
};

struct ScenarioShape {
  int reloads = 1;
  std::int64_t runMinMs = 45'000;  // simulated run time, uniform in [min, max]
  std::int64_t runMaxMs = 75'000;
  std::int64_t queueMs = 200;      // simulated Triggered + Queued time before the run
  std::uint64_t seed = 1;
};

// Writes a scenario with one task per reload (outcome success, run time
// drawn from the shape with its seed) to `path`. Throws std::runtime_error
// when the file cannot be written.
std::vector<TaskPlan> writeScenario(const ScenarioShape& shape, const std::string& path);

// The TLS context of a client holding the PKI's client certificate, as a
// QMC-exported certificate would be used.
Poco::Net::Context::Ptr clientContext(const std::string& pkiDir);

// QRS requests the simulator counted, by route template.
struct RequestCounts {
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> byRoute;
  std::int64_t callbacksSent = 0;    // change-notification POSTs answered 2xx
  std::int64_t callbacksFailed = 0;

  std::int64_t route(const std::string& name) const;
  RequestCounts minus(const RequestCounts& earlier) const;
};
RequestCounts requestCountsOf(const Poco::JSON::Object& record);

// The routes the figures are split by.
inline constexpr const char* kRouteStart = "POST /qrs/task/{id}/start/synchronous";
inline constexpr const char* kRouteResults = "GET /qrs/executionresult/full";
inline constexpr const char* kRouteSession = "GET /qrs/executionsession/{id}";
inline constexpr const char* kRouteSubscribe = "POST /qrs/notification";

// qrs-sim serving one scenario. Throws std::runtime_error when it does not
// become ready; the destructor kills a simulator still running.
class SimProcess {
 public:
  SimProcess(const std::string& binary, const std::string& scenarioFile, const std::string& pkiDir,
             const std::string& workDir, double timeScale);
  ~SimProcess();

  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  const std::string& pkiDir() const { return pkiDir_; }

  // GET /sim/record (the simulator's own account), GET /sim/notifications.
  Poco::JSON::Object::Ptr record() const;
  Poco::JSON::Object::Ptr notifications() const;
  void stop();

 private:
  Poco::JSON::Object::Ptr getJson(const std::string& path) const;

  std::string pkiDir_;
  std::unique_ptr<testing::ChildProcess> process_;
  int port_ = 0;
};

struct WorkerSetup {
  double timeScale = 1;         // the poll intervals are divided by it, like the simulator's durations
  int maxConnections = 2000;    // listen.max_connections
  bool push = false;            // adds "push" (loopback, port 0)
  std::int64_t pollInitialMs = 250;     // simulated: the product's defaults
  std::int64_t pollMaxMs = 5000;
  std::int64_t pushFallbackMs = 60'000;
};

// The worker's configuration file text for `sim`: everything at the
// product's defaults except the time-scaled intervals, the connection limit,
// the journal (in `workDir`) and the listen port (0).
std::string workerConfigText(const WorkerSetup& setup, const SimProcess& sim, const std::string& workDir);

// qlik-reload-worker on a configuration written into `workDir`. Throws
// std::runtime_error when it does not become ready.
class WorkerProcess {
 public:
  WorkerProcess(const std::string& binary, const std::string& configText, const std::string& workDir);
  ~WorkerProcess();

  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  // SIGTERM, then waits; false when it did not exit within the time.
  bool stop();
  std::string stderrText() const { return process_->stderrText(); }

 private:
  std::unique_ptr<testing::ChildProcess> process_;
  int port_ = 0;
};

// Makes a throwaway PKI (qrs-sim --make-pki) in `dir`. Throws on failure.
void makePki(const std::string& simBinary, const std::string& dir, const std::string& logDir);

}  // namespace qlik_reload::bench
