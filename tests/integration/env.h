// IntegrationEnv: the real programs, wired as in production, on loopback.
//
//   qlik-reload (CLI, a process) ──Thrift──▶ qlik-reload-worker (a process)
//        ──HTTPS, mutual TLS──▶ qrs-sim (a process, its own test PKI)
//
// Each environment lives in its own folder under the build tree with its
// own ports (bound as port 0, read back from port files), so tests run in
// parallel. Readiness is the programs' port files, never a sleep.
#pragma once

#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "process.h"

namespace qlik_reload::testing {

// Task ids of the default scenario (examples in tests/integration/scenario.json).
inline const std::string kTaskOk = "11111111-1111-4111-8111-111111111111";       // "Reload Sales": success
inline const std::string kTaskFail = "22222222-2222-4222-8222-222222222222";     // "Reload Finance": fails
inline const std::string kTaskDisabled = "33333333-3333-4333-8333-333333333333"; // disabled
inline const std::string kTaskLong = "44444444-4444-4444-8444-444444444444";     // runs 10 minutes
inline const std::string kTaskSkip = "55555555-5555-4555-8555-555555555555";     // skipped by Qlik
inline const std::string kTaskRetry = "66666666-6666-4666-8666-666666666666";    // fails once, then succeeds
inline const std::string kTaskQueued = "77777777-7777-4777-8777-777777777777";   // queued 3 s first
inline const std::string kTaskSlowAbort = "88888888-8888-4888-8888-888888888888"; // takes 20 s to abort
inline const std::string kTaskUnknown = "99999999-9999-4999-8999-999999999999";  // not in the scenario

struct CliResult {
  int exitCode = -1;
  std::string out;
  std::string err;
  Poco::JSON::Object::Ptr json;  // the last stdout line parsed, when it is a JSON object
  std::string describe() const;  // for failure messages
};

struct EnvOptions {
  std::string scenarioFile;  // default: tests/integration/scenario.json
  double timeScale = 1.0;
  // Edits the worker's configuration (as JSON) before it is written.
  std::function<void(Poco::JSON::Object::Ptr)> editWorkerConfig;
  bool startWorker = true;
};

class IntegrationEnv {
 public:
  explicit IntegrationEnv(const std::string& name, EnvOptions options = {});
  ~IntegrationEnv();

  const std::string& dir() const { return dir_; }
  int simPort() const { return simPort_; }
  int workerPort() const { return workerPort_; }
  std::string workerAddress() const { return "127.0.0.1:" + std::to_string(workerPort_); }

  void startSim();
  void stopSim(int sig = SIGTERM);
  // Writes the configuration (again) and starts the worker.
  void startWorker();
  std::optional<int> stopWorker(int sig = SIGTERM);
  ChildProcess& worker() { return *worker_; }
  ChildProcess& sim() { return *sim_; }
  std::string workerConfigPath() const { return dir_ + "/worker.json"; }
  std::string journalPath() const { return dir_ + "/journal.db"; }  // the worker's state.path
  Poco::JSON::Object::Ptr workerConfig() const;  // what startWorker() writes

  // A further worker on this environment's simulator (several workers
  // sharing one journal): its own port (any free one), its configuration
  // (workerConfig() with a free port, edited by `edit`) in NAME.json and its
  // log in NAME.err. Starting a name again replaces that worker (stop it
  // first). Killed with the environment. Point the CLI at one with
  // cli(args, {{"QLIK_RELOAD_WORKER", worker.address()}}).
  struct ExtraWorker {
    std::unique_ptr<ChildProcess> process;
    int port = 0;
    std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  };
  ExtraWorker& startExtraWorker(const std::string& name,
                                const std::function<void(Poco::JSON::Object::Ptr)>& edit = {});

  // Runs the CLI with --worker set to this environment's worker and waits.
  CliResult cli(std::vector<std::string> args, std::map<std::string, std::string> env = {});
  // Starts the CLI and returns at once (signal tests).
  std::unique_ptr<ChildProcess> cliAsync(std::vector<std::string> args, const std::string& tag);
  CliResult finish(ChildProcess& process);

  // The simulator's own record (GET /sim/record over mutual TLS).
  Poco::JSON::Object::Ptr simRecord();
  // Number of starts of `taskId` that really started an execution.
  int realStarts(const std::string& taskId);
  int stops(const std::string& taskId);
  // The record's entry for one execution (nullptr when the simulator has
  // none), and every execution of a task, oldest first.
  Poco::JSON::Object::Ptr simExecution(const std::string& executionId);
  std::vector<Poco::JSON::Object::Ptr> simExecutionsOfTask(const std::string& taskId);
  void putSimTasks(const std::string& json);
  // Installs fault rules (POST /sim/faults).
  void putSimFaults(const std::string& json);

  static std::string pkiDir();       // the shared test PKI (host name qlikserver1)
  static std::string roguePkiDir();  // another CA, same shape
  static std::string binary(const std::string& name);

 private:
  std::string simRequest(const std::string& method, const std::string& path, const std::string& body);

  std::string name_;
  std::string dir_;
  EnvOptions options_;
  std::unique_ptr<ChildProcess> sim_;
  std::unique_ptr<ChildProcess> worker_;
  std::map<std::string, ExtraWorker> extraWorkers_;
  int simPort_ = 0;
  int workerPort_ = 0;
  int runs_ = 0;
};

}  // namespace qlik_reload::testing
