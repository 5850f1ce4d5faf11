// soak_driver: many reloads through the real worker against qrs-sim with
// seeded random faults and random outcomes, checked against the simulator's
// own record.
//
//   soak_driver [--reloads N] [--concurrency C] [--seed S] [--time-scale X]
//               [--max-rss-mib M] [--work-dir DIR] [--pki DIR] [--no-faults]
//               [--extra-fault RULE]... [--qrs-sim PATH] [--worker PATH]
//
// What it does:
//   1. Writes a scenario with one task per reload and a random outcome each
//      (success, fail, skip, error, or one or two failed attempts that Qlik
//      retries before a success), short run times, and the fault rules below
//      with the scenario's seed; starts qrs-sim on it, then the worker (with
//      its own journal).
//   2. Runs the reloads from C threads, each with one Thrift connection, the
//      way the CLI does: startReload with an idempotency key, retried with the
//      same key after a retryable error or a dropped connection; then
//      waitReload long polls until the state is terminal, reconnecting when
//      the connection drops.
//   3. Checks against GET /sim/record:
//      - truth: every reported outcome equals the simulator's final status of
//        the execution reported (NOT_STARTED only when nothing started);
//      - duplicates: no task was started more than once;
//      - lost: every reload got a terminal answer, every execution qrs-sim
//        ran was reported by its reload, and none is still running;
//      - memory: the worker's peak RSS (VmHWM) stays under --max-rss-mib;
//   and prints the figures. Exit 0 when every check holds, 1 otherwise,
//   64 on bad arguments, 70 when the programs cannot be started.
//
// Faults (probabilities per matching request; "first rule that hits wins"):
//   start     status:503 4 %, status:429 2 %, reset_before 3 %, reset_after 4 %,
//             truncated 2 %, malformed_json 2 %, delay:4000 (past the worker's
//             read timeout, which Poco stretches to twice 1.5 s over TLS) 2 %
//   look-up   of the execution a lost start made (GET /qrs/executionsession/full)
//             status:503 5 %
//   status poll (the monitor's batched GET /qrs/executionresult/full)
//             status:503 8 %, status:429 3 %, reset_before 5 %, reset_after 5 %,
//             malformed_json 5 %, truncated 5 %, delay:4000 1 %, down:300 0.5 %
//   log       ticket status:503 10 %, download truncated 5 %
//   any new connection: tls_fail 1 %
// Reloads last from a few hundred milliseconds (some are over before a
// worker that lost the start's answer looks for them) to a few seconds.
// --extra-fault RULE (a fault_rule.h object) adds a rule after these.
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <thrift/TOutput.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportException.h>

#include "ReloadWorker.h"
#include "core/backoff.h"
#include "process.h"

namespace {

using namespace std::chrono_literals;
using qlik_reload::testing::ChildProcess;
using SteadyClock = std::chrono::steady_clock;
namespace rpc = qlik_reload::rpc;

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 64;
constexpr int kExitSoftware = 70;

struct Options {
  int reloads = 100;
  int concurrency = 32;
  std::uint64_t seed = 1;
  double timeScale = 2.0;
  double maxRssMib = 0;  // 0: the default bound, see rssBoundMib()
  std::string workDir;
  std::string pkiDir;    // empty: made in the work dir
  bool faults = true;
  std::vector<std::string> extraFaults;  // fault rules (JSON objects) added after the standard ones
  std::string simBinary = QLIK_SOAK_QRS_SIM;
  std::string workerBinary = QLIK_SOAK_WORKER;
  std::chrono::seconds reloadDeadline{180};  // one reload, retries included
};

// The worker keeps every execution it followed for a day (monitor
// retention): status, attempts, Qlik's messages and a script-log tail of at
// most 40 lines. Measured: about 18 MiB at rest (code, OpenSSL, Poco, SQLite)
// and about 14 KiB more per followed execution (1,000 reloads: 32 MiB). The
// bound is 48 MiB plus 32 KiB per reload (80 MiB for 1,000): room for
// allocator slack and 50 connection threads, and far less than a leak of one
// request buffer (64 KiB) per reload, or of a connection per fault, would
// add over a thousand reloads.
//
// Under AddressSanitizer (the driver and the worker come from the same
// build) RSS measures the sanitizer's shadow memory and quarantine, not the
// worker: the figure is printed, the bound is not applied.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizedBuild = true;
#else
constexpr bool kSanitizedBuild = false;
#endif

double rssBoundMib(const Options& o) { return o.maxRssMib > 0 ? o.maxRssMib : 48.0 + o.reloads * 32.0 / 1024.0; }

const char* const kUsage =
    "usage: soak_driver [--reloads N] [--concurrency C] [--seed S] [--time-scale X] [--max-rss-mib M]\n"
    "                   [--work-dir DIR] [--pki DIR] [--no-faults] [--extra-fault RULE]...\n"
    "                   [--qrs-sim PATH] [--worker PATH]\n";

bool parseArguments(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--reloads") o.reloads = std::stoi(value());
      else if (a == "--concurrency") o.concurrency = std::stoi(value());
      else if (a == "--seed") o.seed = std::stoull(value());
      else if (a == "--time-scale") o.timeScale = std::stod(value());
      else if (a == "--max-rss-mib") o.maxRssMib = std::stod(value());
      else if (a == "--work-dir") o.workDir = value();
      else if (a == "--pki") o.pkiDir = value();
      else if (a == "--no-faults") o.faults = false;
      else if (a == "--extra-fault") o.extraFaults.push_back(value());
      else if (a == "--qrs-sim") o.simBinary = value();
      else if (a == "--worker") o.workerBinary = value();
      else if (a == "--help" || a == "-h") {
        std::cout << kUsage;
        std::exit(kExitPass);
      } else {
        throw std::invalid_argument("unknown argument " + a);
      }
    } catch (const std::exception& e) {
      std::cerr << "soak_driver: " << e.what() << "\n" << kUsage;
      return false;
    }
  }
  if (o.reloads < 1 || o.concurrency < 1 || o.timeScale <= 0) {
    std::cerr << "soak_driver: --reloads, --concurrency and --time-scale must be positive\n";
    return false;
  }
  return true;
}

// ---- The scenario.

struct Plan {
  std::string taskId;
  std::string kind;  // success, fail, skip, error, retry-success
};

std::string taskIdOf(int index) {
  char id[40];
  std::snprintf(id, sizeof id, "5a000000-0000-4000-8000-%012d", index);
  return id;
}

Poco::JSON::Object::Ptr faultRule(const std::string& route, const std::string& method, const std::string& action,
                                  double probability) {
  Poco::JSON::Object::Ptr rule = new Poco::JSON::Object;
  if (!route.empty()) rule->set("route", route);
  if (!method.empty()) rule->set("method", method);
  rule->set("action", action);
  rule->set("probability", probability);
  if (action == "status:429") rule->set("retry_after_s", 1);
  return rule;
}

Poco::JSON::Array::Ptr faultRules() {
  const std::string start = "/qrs/task/*/start/synchronous";
  // The monitor's status poll: one batched read for every due execution.
  const std::string results = "/qrs/executionresult/full";
  Poco::JSON::Array::Ptr rules = new Poco::JSON::Array;
  for (auto [action, p] : std::vector<std::pair<std::string, double>>{
           {"status:503", 0.04}, {"status:429", 0.02}, {"reset_before", 0.03}, {"reset_after", 0.04},
           {"truncated", 0.02}, {"malformed_json", 0.02}, {"delay:4000", 0.02}}) {
    rules->add(faultRule(start, "POST", action, p));
  }
  rules->add(faultRule("/qrs/executionsession/full", "GET", "status:503", 0.05));
  for (auto [action, p] : std::vector<std::pair<std::string, double>>{
           {"status:503", 0.08}, {"status:429", 0.03}, {"reset_before", 0.05}, {"reset_after", 0.05},
           {"malformed_json", 0.05}, {"truncated", 0.05}, {"delay:4000", 0.01}, {"down:300", 0.005}}) {
    rules->add(faultRule(results, "GET", action, p));
  }
  rules->add(faultRule("/qrs/reloadtask/*/scriptlogfile", "GET", "status:503", 0.10));
  rules->add(faultRule("/qrs/download/reloadtask/**", "GET", "truncated", 0.05));
  rules->add(faultRule("", "", "tls_fail", 0.01));
  return rules;
}

std::vector<Plan> writeScenario(const Options& o, const std::string& path) {
  std::mt19937_64 random(o.seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(random); };
  std::vector<Plan> plans;
  Poco::JSON::Array::Ptr tasks = new Poco::JSON::Array;
  for (int i = 0; i < o.reloads; ++i) {
    Plan plan;
    plan.taskId = taskIdOf(i);
    Poco::JSON::Object::Ptr task = new Poco::JSON::Object;
    task->set("id", plan.taskId);
    task->set("name", "Soak " + std::to_string(i));
    task->set("queue_ms", uniform(0, 600));
    task->set("log_delay_ms", uniform(0, 500));
    task->set("retry_delay_ms", 300);
    const int draw = uniform(0, 99);
    if (draw < 25) {
      // Qlik retries one or two failed attempts; the last one succeeds.
      plan.kind = "retry-success";
      Poco::JSON::Array::Ptr attempts = new Poco::JSON::Array;
      const int failures = uniform(1, 2);
      for (int a = 0; a <= failures; ++a) {
        Poco::JSON::Object::Ptr attempt = new Poco::JSON::Object;
        attempt->set("outcome", a < failures ? "fail" : "success");
        attempt->set("run_ms", uniform(300, 1500));
        attempts->add(attempt);
      }
      task->set("attempts", attempts);
    } else {
      plan.kind = draw < 60 ? "success" : draw < 75 ? "fail" : draw < 87 ? "skip" : "error";
      task->set("outcome", plan.kind);
      task->set("run_ms", uniform(200, 3000));
    }
    tasks->add(task);
    plans.push_back(plan);
  }
  Poco::JSON::Object scenario;
  scenario.set("seed", static_cast<Poco::Int64>(o.seed));
  scenario.set("tasks", tasks);
  Poco::JSON::Array::Ptr rules = o.faults ? faultRules() : Poco::JSON::Array::Ptr(new Poco::JSON::Array);
  for (const std::string& extra : o.extraFaults) {
    Poco::JSON::Parser parser;
    rules->add(parser.parse(extra));
  }
  scenario.set("faults", rules);
  std::ofstream out(path);
  scenario.stringify(out);
  if (!out) throw std::runtime_error("cannot write " + path);
  return plans;
}

// ---- The programs.

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Sim {
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  std::string pki;

  Poco::JSON::Object::Ptr record() const {
    Poco::Net::Context::Ptr context = new Poco::Net::Context(
        Poco::Net::Context::TLS_CLIENT_USE, pki + "/client_key.pem", pki + "/client.pem", pki + "/root.pem",
        Poco::Net::Context::VERIFY_RELAXED, 9, false);
    Poco::Net::HTTPSClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port), context);
    session.setTimeout(Poco::Timespan(60, 0));
    Poco::Net::HTTPRequest request("GET", "/sim/record", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::string text;
    Poco::StreamCopier::copyToString(in, text);
    if (response.getStatus() != 200) throw std::runtime_error("GET /sim/record: " + std::to_string(response.getStatus()));
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
  }
};

std::string workerConfig(const Options& o, const Sim& sim) {
  const std::string& pki = sim.pki;
  return R"({
  "listen": {"host": "127.0.0.1", "port": 0},
  "log_level": "info",
  "state": {"path": ")" + o.workDir + R"(/journal.db"},
  "sites": {"default": {
    "url": "https://127.0.0.1:)" + std::to_string(sim.port) + R"(",
    "auth": {"type": "certificate", "client_cert": ")" + pki + R"(/client.pem",
             "client_key": ")" + pki + R"(/client_key.pem"},
    "tls": {"ca_file": ")" + pki + R"(/root.pem", "verify": "full", "server_name": "qlikserver1"},
    "timeouts": {"connect_ms": 1000, "read_ms": 1500},
    "poll": {"initial_ms": 100, "max_ms": 1000}
  }}
})";
}

// VmHWM / VmRSS of a process, in KiB (0 when unreadable).
long procStatusKib(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return 0;
}

// ---- The reloads.

struct Outcome {
  bool answered = false;     // a terminal state, or a non-retryable error
  std::string executionId;
  std::string state;         // ReloadState name, or "" after an error
  std::string error;         // the non-retryable error, or why it was lost
  std::string message;
  int startCalls = 0;        // startReload calls made (retries included)
  int retryableStartErrors = 0;
  int reconnects = 0;
  bool attachedAfterLostAnswer = false;
};

std::string stateName(rpc::ReloadState::type state) {
  auto it = rpc::_ReloadState_VALUES_TO_NAMES.find(state);
  return it == rpc::_ReloadState_VALUES_TO_NAMES.end() ? "UNKNOWN" : it->second;
}

bool isTerminal(rpc::ReloadState::type s) {
  return s == rpc::ReloadState::SUCCEEDED || s == rpc::ReloadState::FAILED || s == rpc::ReloadState::ABORTED ||
         s == rpc::ReloadState::SKIPPED || s == rpc::ReloadState::NOT_STARTED;
}

class Connection {
 public:
  explicit Connection(int port) : port_(port) {}

  rpc::ReloadWorkerClient& client() {
    if (!client_) {
      auto socket = std::make_shared<apache::thrift::transport::TSocket>("127.0.0.1", port_);
      socket->setConnTimeout(5000);
      socket->setRecvTimeout(60'000);  // a long poll is 5 s; the worker answers well within this
      transport_ = std::make_shared<apache::thrift::transport::TFramedTransport>(socket);
      client_ = std::make_unique<rpc::ReloadWorkerClient>(
          std::make_shared<apache::thrift::protocol::TBinaryProtocol>(transport_));
      transport_->open();
    }
    return *client_;
  }
  void drop() {
    if (transport_) {
      try {
        transport_->close();
      } catch (const apache::thrift::TException&) {
      }
    }
    client_.reset();
    transport_.reset();
  }
  ~Connection() { drop(); }

 private:
  int port_;
  std::shared_ptr<apache::thrift::transport::TTransport> transport_;
  std::unique_ptr<rpc::ReloadWorkerClient> client_;
};

Outcome runOne(Connection& connection, const Options& o, const Plan& plan, int index,
               const std::atomic<bool>& workerDied) {
  Outcome out;
  const auto deadline = SteadyClock::now() + o.reloadDeadline;
  qlik_reload::Backoff backoff(qlik_reload::BackoffOptions{qlik_reload::Duration(100), qlik_reload::Duration(2000),
                                                           2.0, 0.2},
                               o.seed ^ static_cast<std::uint64_t>(index));
  rpc::ReloadRequest request;
  request.__set_taskId(plan.taskId);
  request.__set_idempotencyKey("soak/" + std::to_string(o.seed) + "/" + std::to_string(index));
  request.__set_labels({{"soak", std::to_string(index)}});

  rpc::ReloadStatus status;
  bool started = false;
  while (!started) {
    if (workerDied) {
      out.error = "the worker died";
      return out;
    }
    if (SteadyClock::now() > deadline) {
      out.error = "no answer to the start within the deadline";
      return out;
    }
    try {
      ++out.startCalls;
      connection.client().startReload(status, request);
      started = true;
    } catch (const rpc::QlikUnavailable& e) {
      if (!e.retryable) {
        out.answered = true;
        out.error = "QlikUnavailable (not retryable): " + e.message;
        return out;
      }
      ++out.retryableStartErrors;
      std::this_thread::sleep_for(backoff.next());
    } catch (const apache::thrift::transport::TTransportException&) {
      connection.drop();
      ++out.reconnects;
      std::this_thread::sleep_for(backoff.next());
    } catch (const apache::thrift::TException& e) {
      out.answered = true;
      out.error = std::string("start: ") + e.what();
      return out;
    }
  }
  out.executionId = status.executionId;
  out.message = status.message;
  out.attachedAfterLostAnswer = status.message.find("no second start was sent") != std::string::npos;
  backoff.reset();
  rpc::ExecutionRef ref;
  ref.site = "default";
  ref.executionId = status.executionId;
  while (!isTerminal(status.state)) {
    if (workerDied) {
      out.error = "the worker died (last state " + stateName(status.state) + ")";
      return out;
    }
    if (SteadyClock::now() > deadline) {
      out.error = "not terminal within the deadline (last state " + stateName(status.state) + ")";
      return out;
    }
    try {
      connection.client().waitReload(status, ref, 5000);
      backoff.reset();
    } catch (const rpc::QlikUnavailable& e) {
      if (!e.retryable) {
        out.answered = true;
        out.error = "waitReload: QlikUnavailable (not retryable): " + e.message;
        return out;
      }
      std::this_thread::sleep_for(backoff.next());
    } catch (const apache::thrift::transport::TTransportException&) {
      connection.drop();
      ++out.reconnects;
      std::this_thread::sleep_for(backoff.next());
    } catch (const apache::thrift::TException& e) {
      out.answered = true;
      out.error = std::string("waitReload: ") + e.what();
      return out;
    }
  }
  out.answered = true;
  out.state = stateName(status.state);
  out.message = status.message;
  return out;
}

// ---- The checks.

std::string stateOfQlikStatus(int status) {
  switch (status) {
    case 6: return "ABORTED";
    case 7: return "SUCCEEDED";
    case 8:
    case 11:
    case 12: return "FAILED";
    case 9: return "SKIPPED";
    default: return "";
  }
}

std::string mib(long kib) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << kib / 1024.0 << " MiB";
  return s.str();
}

int run(Options o) {
  if (o.workDir.empty()) o.workDir = std::string(QLIK_SOAK_TMP_DIR) + "/run";  // replaced by each run
  // Absolute: the worker resolves relative paths against its config's folder.
  o.workDir = Poco::Path(o.workDir).absolute().toString();
  if (!o.pkiDir.empty()) o.pkiDir = Poco::Path(o.pkiDir).absolute().toString();
  if (Poco::File(o.workDir).exists()) Poco::File(o.workDir).remove(true);
  Poco::File(o.workDir).createDirectories();
  Poco::Net::initializeSSL();

  const auto plans = writeScenario(o, o.workDir + "/scenario.json");

  Sim sim;
  sim.pki = o.pkiDir;
  if (sim.pki.empty()) {
    sim.pki = o.workDir + "/pki";
    ChildProcess make({o.simBinary, "--make-pki", sim.pki, "--host-name", "qlikserver1"}, o.workDir + "/pki.out",
                      o.workDir + "/pki.err");
    if (make.wait(60s) != 0) {
      std::cerr << "soak_driver: qrs-sim --make-pki failed:\n" << make.stderrText();
      return kExitSoftware;
    }
  }
  std::ostringstream scale;
  scale << o.timeScale;
  sim.process = std::make_unique<ChildProcess>(
      std::vector<std::string>{o.simBinary, "--scenario", o.workDir + "/scenario.json", "--pki", sim.pki,
                               "--host-name", "qlikserver1", "--port", "0", "--port-file", o.workDir + "/sim.port",
                               "--time-scale", scale.str()},
      o.workDir + "/sim.out", o.workDir + "/sim.err");
  if (!sim.process->waitForFile(o.workDir + "/sim.port", 30s)) {
    std::cerr << "soak_driver: qrs-sim did not start:\n" << sim.process->stderrText();
    return kExitSoftware;
  }
  sim.port = std::stoi(readAll(o.workDir + "/sim.port"));

  {
    std::ofstream(o.workDir + "/worker.json") << workerConfig(o, sim);
  }
  ChildProcess worker({o.workerBinary, "--config", o.workDir + "/worker.json", "--port-file",
                       o.workDir + "/worker.port"},
                      o.workDir + "/worker.out", o.workDir + "/worker.err");
  if (!worker.waitForFile(o.workDir + "/worker.port", 30s)) {
    std::cerr << "soak_driver: the worker did not start:\n" << worker.stderrText();
    return kExitSoftware;
  }
  const int workerPort = std::stoi(readAll(o.workDir + "/worker.port"));
  const long startRssKib = procStatusKib(worker.pid(), "VmRSS");

  std::cout << "soak: " << o.reloads << " reloads, concurrency " << o.concurrency << ", seed " << o.seed
            << ", time scale " << o.timeScale << (o.faults ? ", faults on" : ", faults off") << "; work dir "
            << o.workDir << std::endl;

  const auto begin = SteadyClock::now();
  std::vector<Outcome> outcomes(plans.size());
  std::atomic<int> next{0};
  std::atomic<int> done{0};
  // A worker that dies (a crash, a sanitizer's report) ends the run at once
  // instead of leaving every client to retry until its deadline.
  std::atomic<bool> workerDied{false};
  std::atomic<bool> allDone{false};
  std::mutex watchMutex;
  std::condition_variable watchWake;
  std::thread watcher([&] {
    std::unique_lock<std::mutex> lock(watchMutex);
    while (!allDone) {
      if (!worker.running()) {
        workerDied = true;
        return;
      }
      watchWake.wait_for(lock, 100ms);
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min(o.concurrency, o.reloads); ++t) {
    threads.emplace_back([&] {
      Connection connection(workerPort);
      for (int i = next++; i < static_cast<int>(plans.size()); i = next++) {
        outcomes[static_cast<size_t>(i)] = runOne(connection, o, plans[static_cast<size_t>(i)], i, workerDied);
        const int finished = ++done;
        if (finished % 100 == 0) {
          std::ostringstream line;
          line << "  " << finished << " reloads done after "
               << std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - begin).count() << " s\n";
          std::cout << line.str() << std::flush;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  {
    std::lock_guard<std::mutex> lock(watchMutex);
    allDone = true;
  }
  watchWake.notify_all();
  watcher.join();
  if (workerDied) {
    std::cout << "soak: the worker died during the run; its stderr: " << o.workDir << "/worker.err\n"
              << "FAIL" << std::endl;
    return kExitFail;
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - begin).count();
  const long peakRssKib = procStatusKib(worker.pid(), "VmHWM");
  const long endRssKib = procStatusKib(worker.pid(), "VmRSS");

  Poco::JSON::Object::Ptr record;
  try {
    record = sim.record();
  } catch (const std::exception& e) {
    std::cerr << "soak_driver: cannot read the simulator's record: " << e.what() << "\n";
    return kExitSoftware;
  }

  // The simulator's truth, per task.
  std::map<std::string, int> realStarts;
  auto starts = record->getArray("starts");
  for (size_t i = 0; i < starts->size(); ++i) {
    auto s = starts->getObject(static_cast<unsigned>(i));
    if (s->getValue<std::string>("execution_id") != "00000000-0000-0000-0000-000000000000") {
      ++realStarts[s->getValue<std::string>("task_id")];
    }
  }
  std::map<std::string, Poco::JSON::Object::Ptr> executions;  // by execution id
  std::map<std::string, std::vector<std::string>> executionsOfTask;
  auto list = record->getArray("executions");
  for (size_t i = 0; i < list->size(); ++i) {
    auto e = list->getObject(static_cast<unsigned>(i));
    executions[e->getValue<std::string>("execution_id")] = e;
    executionsOfTask[e->getValue<std::string>("task_id")].push_back(e->getValue<std::string>("execution_id"));
  }

  int duplicates = 0, lost = 0, wrong = 0, stillRunning = 0;
  int startRetries = 0, reconnects = 0, attached = 0;
  std::map<std::string, int> reported;
  std::vector<std::string> problems;
  std::set<std::string> reportedExecutions;
  for (size_t i = 0; i < plans.size(); ++i) {
    const Plan& plan = plans[i];
    const Outcome& out = outcomes[i];
    const std::string who = "reload " + std::to_string(i) + " (task " + plan.taskId + ", " + plan.kind + ")";
    startRetries += out.startCalls - 1;
    reconnects += out.reconnects;
    attached += out.attachedAfterLostAnswer ? 1 : 0;
    if (realStarts[plan.taskId] > 1) {
      duplicates += realStarts[plan.taskId] - 1;
      problems.push_back(who + ": started " + std::to_string(realStarts[plan.taskId]) + " times");
    }
    if (!out.answered) {
      ++lost;
      problems.push_back(who + ": lost: " + out.error);
      continue;
    }
    ++reported[out.state.empty() ? "ERROR" : out.state];
    const auto& mine = executionsOfTask[plan.taskId];
    if (!out.error.empty() || out.state == "NOT_STARTED") {
      // Nothing to follow: true only when nothing ran.
      if (!mine.empty()) {
        ++wrong;
        problems.push_back(who + ": reported " + (out.error.empty() ? out.state : out.error) +
                           " but qrs-sim ran execution " + mine.front());
      }
      continue;
    }
    reportedExecutions.insert(out.executionId);
    auto it = executions.find(out.executionId);
    if (it == executions.end() || it->second->getValue<std::string>("task_id") != plan.taskId) {
      ++wrong;
      problems.push_back(who + ": reported execution " + out.executionId + ", which qrs-sim did not run for the task");
      continue;
    }
    const auto& truth = it->second;
    const std::string expected = truth->isNull("final_status") ? "" : stateOfQlikStatus(truth->getValue<int>("final_status"));
    if (out.state != expected) {
      ++wrong;
      problems.push_back(who + ": reported " + out.state + ", qrs-sim ended it " +
                         (expected.empty() ? "<still running>" : expected));
    }
  }
  for (const auto& [id, e] : executions) {
    if (e->getValue<bool>("live")) {
      ++stillRunning;
      problems.push_back("execution " + id + " is still running in qrs-sim");
    }
    if (reportedExecutions.count(id) == 0) {
      ++lost;
      problems.push_back("execution " + id + " (task " + e->getValue<std::string>("task_id") +
                         ") ran in qrs-sim but no reload reported it");
    }
  }

  std::map<std::string, int> faultsByAction;
  auto faults = record->getArray("faults_applied");
  for (size_t i = 0; i < faults->size(); ++i) ++faultsByAction[faults->getObject(static_cast<unsigned>(i))->getValue<std::string>("action")];
  const long requests = record->getObject("requests")->getValue<long>("total");
  auto byRoute = record->getObject("requests")->getObject("by_route");
  std::string routes;
  for (const auto& route : byRoute->getNames()) {
    routes += (routes.empty() ? "" : ", ") + route + " " + std::to_string(byRoute->getValue<long>(route));
  }

  const double bound = rssBoundMib(o);
  const bool rssOk = kSanitizedBuild || (peakRssKib > 0 && peakRssKib / 1024.0 <= bound);
  const bool pass = duplicates == 0 && lost == 0 && wrong == 0 && stillRunning == 0 && rssOk;

  std::cout << std::fixed << std::setprecision(1);
  std::cout << "soak: " << o.reloads << " reloads in " << seconds << " s\n";
  std::cout << "  outcomes reported:";
  for (const auto& [state, n] : reported) std::cout << " " << state << " " << n;
  std::cout << "\n  faults injected: " << faults->size() << " (";
  bool first = true;
  for (const auto& [action, n] : faultsByAction) {
    std::cout << (first ? "" : ", ") << action << " " << n;
    first = false;
  }
  std::cout << ")\n";
  std::cout << "  QRS requests: " << requests << " (" << routes << ")\n";
  std::cout << "  start calls retried: " << startRetries
            << "; reconnects: " << reconnects << "; attached after an unanswered start: " << attached << "\n";
  std::cout << "  wrong outcomes: " << wrong << "\n";
  std::cout << "  duplicates: " << duplicates << "\n";
  std::cout << "  lost: " << lost << (stillRunning ? " (" + std::to_string(stillRunning) + " still running)" : "")
            << "\n";
  std::cout << "  worker peak RSS (VmHWM): " << mib(peakRssKib)
            << (kSanitizedBuild ? " (sanitizer build: bound not applied" : " (bound " + std::to_string(static_cast<int>(bound)) + " MiB")
            << "; RSS "
            << mib(startRssKib) << " at start, " << mib(endRssKib) << " at the end)\n";
  for (size_t i = 0; i < problems.size() && i < 50; ++i) std::cout << "  PROBLEM: " << problems[i] << "\n";
  if (problems.size() > 50) std::cout << "  ... and " << problems.size() - 50 << " more\n";
  if (!rssOk) std::cout << "  PROBLEM: the worker's peak RSS is over the bound\n";
  std::cout << (pass ? "PASS" : "FAIL") << std::endl;

  worker.signal(SIGTERM);
  if (!worker.wait(15s)) std::cout << "  note: the worker did not stop within 15 s of SIGTERM\n";
  sim.process->signal(SIGTERM);
  sim.process->wait(15s);
  return pass ? kExitPass : kExitFail;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parseArguments(argc, argv, options)) return kExitUsage;
  // Thrift prints every refused connection; the driver reports what matters.
  apache::thrift::GlobalOutput.setOutputFunction([](const char*) {});
  try {
    return run(options);
  } catch (const Poco::Exception& e) {
    std::cerr << "soak_driver: " << e.displayText() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "soak_driver: " << e.what() << "\n";
  }
  return kExitSoftware;
}
