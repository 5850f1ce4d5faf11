#include "programs.h"

#include <csignal>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/StreamCopier.h>

namespace qlik_reload::bench {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::readFile;

std::string taskIdOf(int index) {
  char id[40];
  std::snprintf(id, sizeof id, "be000000-0000-4000-8000-%012d", index);
  return id;
}

std::int64_t scaled(std::int64_t simulatedMs, double timeScale) {
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(simulatedMs) / timeScale));
}

}  // namespace

std::vector<TaskPlan> writeScenario(const ScenarioShape& shape, const std::string& path) {
  std::mt19937_64 random(shape.seed);
  std::uniform_int_distribution<std::int64_t> runTime(shape.runMinMs, shape.runMaxMs);
  std::vector<TaskPlan> plans;
  Poco::JSON::Array::Ptr tasks = new Poco::JSON::Array;
  for (int i = 0; i < shape.reloads; ++i) {
    TaskPlan plan{taskIdOf(i), runTime(random)};
    Poco::JSON::Object::Ptr task = new Poco::JSON::Object;
    task->set("id", plan.taskId);
    task->set("name", "Bench " + std::to_string(i));
    task->set("outcome", "success");
    task->set("queue_ms", shape.queueMs);
    task->set("run_ms", plan.runMs);
    tasks->add(task);
    plans.push_back(plan);
  }
  Poco::JSON::Object scenario;
  scenario.set("tasks", tasks);
  scenario.set("seed", static_cast<Poco::Int64>(shape.seed));
  std::ofstream out(path);
  scenario.stringify(out);
  if (!out) throw std::runtime_error("cannot write " + path);
  return plans;
}

Poco::Net::Context::Ptr clientContext(const std::string& pkiDir) {
  return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, pkiDir + "/client_key.pem",
                                pkiDir + "/client.pem", pkiDir + "/root.pem", Poco::Net::Context::VERIFY_RELAXED,
                                9, false);
}

std::int64_t RequestCounts::route(const std::string& name) const {
  auto it = byRoute.find(name);
  return it == byRoute.end() ? 0 : it->second;
}

RequestCounts RequestCounts::minus(const RequestCounts& earlier) const {
  RequestCounts delta = *this;
  delta.total -= earlier.total;
  for (const auto& [name, n] : earlier.byRoute) delta.byRoute[name] -= n;
  delta.callbacksSent -= earlier.callbacksSent;
  delta.callbacksFailed -= earlier.callbacksFailed;
  return delta;
}

RequestCounts requestCountsOf(const Poco::JSON::Object& record) {
  RequestCounts counts;
  auto requests = record.getObject("requests");
  counts.total = requests->getValue<std::int64_t>("total");
  auto byRoute = requests->getObject("by_route");
  for (const std::string& name : byRoute->getNames()) counts.byRoute[name] = byRoute->getValue<std::int64_t>(name);
  if (auto notifications = record.getObject("notifications"); !notifications.isNull()) {
    counts.callbacksSent = notifications->getValue<std::int64_t>("sent");
    counts.callbacksFailed = notifications->getValue<std::int64_t>("failed");
  }
  return counts;
}

SimProcess::SimProcess(const std::string& binary, const std::string& scenarioFile, const std::string& pkiDir,
                       const std::string& workDir, double timeScale)
    : pkiDir_(pkiDir) {
  const std::string portFile = workDir + "/sim.port";
  std::ostringstream scale;
  scale << timeScale;
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{binary, "--scenario", scenarioFile, "--pki", pkiDir, "--host-name", "qlikserver1",
                               "--port", "0", "--port-file", portFile, "--time-scale", scale.str()},
      workDir + "/sim.out", workDir + "/sim.err");
  if (!process_->waitForFile(portFile, 30s)) {
    throw std::runtime_error("qrs-sim did not become ready:\n" + process_->stderrText());
  }
  port_ = std::stoi(readFile(portFile));
}

SimProcess::~SimProcess() { stop(); }

void SimProcess::stop() {
  if (!process_ || !process_->running()) return;
  process_->signal(SIGTERM);
  process_->wait(15s);
}

Poco::JSON::Object::Ptr SimProcess::getJson(const std::string& path) const {
  Poco::Net::HTTPSClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port_), clientContext(pkiDir_));
  session.setTimeout(Poco::Timespan(60, 0));
  Poco::Net::HTTPRequest request("GET", path, Poco::Net::HTTPMessage::HTTP_1_1);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  std::string text;
  Poco::StreamCopier::copyToString(in, text);
  if (response.getStatus() != 200) {
    throw std::runtime_error("GET " + path + ": " + std::to_string(response.getStatus()) + " " + text);
  }
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Object::Ptr SimProcess::record() const { return getJson("/sim/record"); }
Poco::JSON::Object::Ptr SimProcess::notifications() const { return getJson("/sim/notifications"); }

std::string workerConfigText(const WorkerSetup& setup, const SimProcess& sim, const std::string& workDir) {
  const std::string& pki = sim.pkiDir();
  std::string text = R"({
  "listen": {"host": "127.0.0.1", "port": 0, "max_connections": )" +
                     std::to_string(setup.maxConnections) + R"(},
  "log_level": "info",
  "state": {"path": ")" + workDir + R"(/journal.db"},
  "sites": {"default": {
    "url": "https://127.0.0.1:)" + std::to_string(sim.port()) + R"(",
    "auth": {"type": "certificate", "client_cert": ")" + pki + R"(/client.pem",
             "client_key": ")" + pki + R"(/client_key.pem"},
    "tls": {"ca_file": ")" + pki + R"(/root.pem", "verify": "full", "server_name": "qlikserver1"},
    "poll": {"initial_ms": )" + std::to_string(scaled(setup.pollInitialMs, setup.timeScale)) +
                     R"(, "max_ms": )" + std::to_string(scaled(setup.pollMaxMs, setup.timeScale)) + R"(}
  }})";
  if (setup.push) {
    text += R"(,
  "push": {"listen": {"host": "127.0.0.1", "port": 0}, "fallback_poll_ms": )" +
            std::to_string(scaled(setup.pushFallbackMs, setup.timeScale)) + "}";
  }
  return text + "\n}\n";
}

WorkerProcess::WorkerProcess(const std::string& binary, const std::string& configText, const std::string& workDir) {
  const std::string configFile = workDir + "/worker.json";
  testing::writeFile(configFile, configText);
  const std::string portFile = workDir + "/worker.port";
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{binary, "--config", configFile, "--port-file", portFile}, workDir + "/worker.out",
      workDir + "/worker.err");
  if (!process_->waitForFile(portFile, 30s)) {
    throw std::runtime_error("qlik-reload-worker did not become ready:\n" + process_->stderrText());
  }
  port_ = std::stoi(readFile(portFile));
}

WorkerProcess::~WorkerProcess() {
  if (process_ && process_->running()) stop();
}

bool WorkerProcess::stop() {
  process_->signal(SIGTERM);
  return process_->wait(20s).has_value();
}

void makePki(const std::string& simBinary, const std::string& dir, const std::string& logDir) {
  ChildProcess make({simBinary, "--make-pki", dir, "--host-name", "qlikserver1"}, logDir + "/pki.out",
                    logDir + "/pki.err");
  if (make.wait(120s) != 0) throw std::runtime_error("qrs-sim --make-pki failed:\n" + make.stderrText());
}

}  // namespace qlik_reload::bench
