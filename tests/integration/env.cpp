#include "env.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <stdexcept>

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>

namespace qlik_reload::testing {
namespace {

using namespace std::chrono_literals;

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string lastLine(const std::string& text) {
  std::string t = trim(text);
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

std::string toJson(Poco::JSON::Object::Ptr object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

struct SslInit {
  SslInit() { Poco::Net::initializeSSL(); }
};

}  // namespace

std::string CliResult::describe() const {
  return "exit " + std::to_string(exitCode) + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
}

std::string IntegrationEnv::pkiDir() { return QLIK_TEST_PKI_DIR "/main"; }
std::string IntegrationEnv::roguePkiDir() { return QLIK_TEST_PKI_DIR "/rogue"; }

std::string IntegrationEnv::binary(const std::string& name) {
  if (name == "qrs-sim") return QLIK_TEST_QRS_SIM;
  if (name == "qlik-reload-worker") return QLIK_TEST_WORKER;
  if (name == "qlik-reload") return QLIK_TEST_CLI;
  throw std::invalid_argument("unknown binary " + name);
}

IntegrationEnv::IntegrationEnv(const std::string& name, EnvOptions options)
    : name_(name), options_(std::move(options)) {
  static SslInit sslInit;
  dir_ = std::string(QLIK_TEST_TMP_DIR) + "/" + name + "-" + std::to_string(::getpid());
  Poco::File folder(dir_);
  if (folder.exists()) folder.remove(true);
  folder.createDirectories();
  if (options_.scenarioFile.empty()) options_.scenarioFile = QLIK_TEST_SOURCE_DIR "/tests/integration/scenario.json";
  startSim();
  if (options_.startWorker) startWorker();
}

IntegrationEnv::~IntegrationEnv() {
  for (auto& [name, extra] : extraWorkers_) {
    if (extra.process) {
      extra.process->signal(SIGKILL);
      extra.process->wait(15s);
    }
  }
  if (worker_) stopWorker(SIGKILL);
  if (sim_) stopSim(SIGKILL);
}

void IntegrationEnv::startSim() {
  const std::string portFile = dir_ + "/sim.port";
  ::unlink(portFile.c_str());
  std::ostringstream scale;
  scale << options_.timeScale;
  std::vector<std::string> argv = {binary("qrs-sim"), "--scenario", options_.scenarioFile, "--pki", pkiDir(),
                                   "--host-name", "qlikserver1", "--port", simPort_ ? std::to_string(simPort_) : "0",
                                   "--port-file", portFile, "--time-scale", scale.str()};
  sim_ = std::make_unique<ChildProcess>(argv, dir_ + "/sim.out", dir_ + "/sim.err");
  if (!sim_->waitForFile(portFile, 30s)) {
    throw std::runtime_error("qrs-sim did not become ready:\n" + sim_->stderrText());
  }
  simPort_ = std::stoi(readFile(portFile));
}

void IntegrationEnv::stopSim(int sig) {
  if (!sim_) return;
  sim_->signal(sig);
  sim_->wait(15s);
}

Poco::JSON::Object::Ptr IntegrationEnv::workerConfig() const {
  const std::string pki = pkiDir();
  const std::string text = R"({
    "listen": {"host": "127.0.0.1", "port": )" + std::to_string(workerPort_) + R"(},
    "log_level": "debug",
    "state": {"path": ")" + dir_ + R"(/journal.db"},
    "sites": {"default": {
      "url": "https://127.0.0.1:)" + std::to_string(simPort_) + R"(",
      "auth": {"type": "certificate", "client_cert": ")" + pki + R"(/client.pem",
               "client_key": ")" + pki + R"(/client_key.pem",
               "user_directory": "INTERNAL", "user_id": "sa_scheduler"},
      "tls": {"ca_file": ")" + pki + R"(/root.pem", "verify": "full", "server_name": "qlikserver1"},
      "timeouts": {"connect_ms": 2000, "read_ms": 5000},
      "poll": {"initial_ms": 50, "max_ms": 250}
    }}})";
  Poco::JSON::Parser parser;
  auto config = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
  if (options_.editWorkerConfig) options_.editWorkerConfig(config);
  return config;
}

void IntegrationEnv::startWorker() {
  writeFile(workerConfigPath(), toJson(workerConfig()));
  const std::string portFile = dir_ + "/worker.port";
  ::unlink(portFile.c_str());
  std::vector<std::string> argv = {binary("qlik-reload-worker"), "--config", workerConfigPath(), "--port-file",
                                   portFile};
  // Each start appends to the same log, so a restarted worker's lines stay.
  const std::string log = dir_ + "/worker" + std::to_string(runs_++) + ".err";
  worker_ = std::make_unique<ChildProcess>(argv, dir_ + "/worker.out", log);
  if (!worker_->waitForFile(portFile, 30s)) {
    throw std::runtime_error("qlik-reload-worker did not become ready:\n" + worker_->stderrText());
  }
  workerPort_ = std::stoi(readFile(portFile));
}

IntegrationEnv::ExtraWorker& IntegrationEnv::startExtraWorker(
    const std::string& name, const std::function<void(Poco::JSON::Object::Ptr)>& edit) {
  Poco::JSON::Object::Ptr config = workerConfig();
  config->getObject("listen")->set("port", 0);
  if (edit) edit(config);
  const std::string configPath = dir_ + "/" + name + ".json";
  writeFile(configPath, toJson(config));
  const std::string portFile = dir_ + "/" + name + ".port";
  ::unlink(portFile.c_str());
  ExtraWorker& extra = extraWorkers_[name];
  extra.process = std::make_unique<ChildProcess>(
      std::vector<std::string>{binary("qlik-reload-worker"), "--config", configPath, "--port-file", portFile},
      dir_ + "/" + name + ".out", dir_ + "/" + name + ".err");
  if (!extra.process->waitForFile(portFile, 30s)) {
    throw std::runtime_error(name + " did not become ready:\n" + extra.process->stderrText());
  }
  extra.port = std::stoi(readFile(portFile));
  return extra;
}

std::optional<int> IntegrationEnv::stopWorker(int sig) {
  if (!worker_) return std::nullopt;
  worker_->signal(sig);
  return worker_->wait(15s);
}

CliResult IntegrationEnv::cli(std::vector<std::string> args, std::map<std::string, std::string> env) {
  static int counter = 0;
  const std::string tag = dir_ + "/cli" + std::to_string(counter++);
  std::vector<std::string> argv = {binary("qlik-reload")};
  argv.insert(argv.end(), args.begin(), args.end());
  if (workerPort_ != 0) env.emplace("QLIK_RELOAD_WORKER", workerAddress());
  ChildProcess process(argv, tag + ".out", tag + ".err", env);
  return finish(process);
}

std::unique_ptr<ChildProcess> IntegrationEnv::cliAsync(std::vector<std::string> args, const std::string& tag) {
  std::vector<std::string> argv = {binary("qlik-reload")};
  argv.insert(argv.end(), args.begin(), args.end());
  std::map<std::string, std::string> env;
  if (workerPort_ != 0) env.emplace("QLIK_RELOAD_WORKER", workerAddress());
  return std::make_unique<ChildProcess>(argv, dir_ + "/" + tag + ".out", dir_ + "/" + tag + ".err", env);
}

CliResult IntegrationEnv::finish(ChildProcess& process) {
  CliResult result;
  auto rc = process.wait(120s);
  result.exitCode = rc ? *rc : -1;
  result.out = process.stdoutText();
  result.err = process.stderrText();
  const std::string line = lastLine(result.out);
  if (!line.empty() && line.front() == '{') {
    try {
      Poco::JSON::Parser parser;
      result.json = parser.parse(line).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
      result.json = nullptr;
    }
  }
  return result;
}

std::string IntegrationEnv::simRequest(const std::string& method, const std::string& path, const std::string& body) {
  const std::string pki = pkiDir();
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, pki + "/client_key.pem", pki + "/client.pem",
                             pki + "/root.pem", Poco::Net::Context::VERIFY_RELAXED, 9, false);
  Poco::Net::HTTPSClientSession session("127.0.0.1", static_cast<Poco::UInt16>(simPort_), context);
  session.setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setContentType("application/json");
  request.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  std::string text;
  Poco::StreamCopier::copyToString(in, text);
  if (response.getStatus() >= 300) {
    throw std::runtime_error(method + " " + path + ": " + std::to_string(response.getStatus()) + " " + text);
  }
  return text;
}

Poco::JSON::Object::Ptr IntegrationEnv::simRecord() {
  Poco::JSON::Parser parser;
  return parser.parse(simRequest("GET", "/sim/record", "")).extract<Poco::JSON::Object::Ptr>();
}

int IntegrationEnv::realStarts(const std::string& taskId) {
  int n = 0;
  auto starts = simRecord()->getArray("starts");
  for (size_t i = 0; i < starts->size(); ++i) {
    auto s = starts->getObject(static_cast<unsigned>(i));
    if (s->getValue<std::string>("task_id") == taskId &&
        s->getValue<std::string>("execution_id") != "00000000-0000-0000-0000-000000000000") {
      ++n;
    }
  }
  return n;
}

int IntegrationEnv::stops(const std::string& taskId) {
  int n = 0;
  auto stops = simRecord()->getArray("stops");
  for (size_t i = 0; i < stops->size(); ++i) {
    if (stops->getObject(static_cast<unsigned>(i))->getValue<std::string>("task_id") == taskId) ++n;
  }
  return n;
}

Poco::JSON::Object::Ptr IntegrationEnv::simExecution(const std::string& executionId) {
  auto executions = simRecord()->getArray("executions");
  for (size_t i = 0; i < executions->size(); ++i) {
    auto e = executions->getObject(static_cast<unsigned>(i));
    if (e->getValue<std::string>("execution_id") == executionId) return e;
  }
  return nullptr;
}

std::vector<Poco::JSON::Object::Ptr> IntegrationEnv::simExecutionsOfTask(const std::string& taskId) {
  std::vector<Poco::JSON::Object::Ptr> found;
  auto executions = simRecord()->getArray("executions");
  for (size_t i = 0; i < executions->size(); ++i) {
    auto e = executions->getObject(static_cast<unsigned>(i));
    if (e->getValue<std::string>("task_id") == taskId) found.push_back(e);
  }
  return found;
}

void IntegrationEnv::putSimTasks(const std::string& json) { simRequest("POST", "/sim/tasks", json); }
void IntegrationEnv::putSimFaults(const std::string& json) { simRequest("POST", "/sim/faults", json); }

}  // namespace qlik_reload::testing
