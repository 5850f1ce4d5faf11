// qlik-reload-worker: serves the ReloadWorker Thrift contract for the sites
// in its configuration file.
//
//   qlik-reload-worker --config FILE [--check-config] [--port-file FILE] [--log-level LEVEL]
//
// Exit codes: 0 clean stop (SIGINT/SIGTERM), 64 bad arguments, 75 cannot
// listen, 78 configuration error.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/SSLManager.h>

#include "config/config.h"
#include "core/log.h"
#include "handler.h"
#include "qlik_reload_version.h"
#include "qrs/http_client.h"
#include "reload/operator.h"
#include "reload/push.h"
#include "server.h"

namespace {

using namespace qlik_reload;

constexpr int kExitOk = 0;
constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 75;
constexpr int kExitConfig = 78;

const char* kUsage =
    "usage: qlik-reload-worker --config FILE [--check-config] [--port-file FILE] [--log-level LEVEL]\n"
    "\n"
    "Serves the ReloadWorker Thrift contract (TFramedTransport + TBinaryProtocol) for the\n"
    "Qlik Sense sites in FILE. See README.md for the configuration.\n"
    "\n"
    "  --config FILE      the JSON configuration (required)\n"
    "  --check-config     validate the configuration (files, keys, certificates) and exit\n"
    "  --port-file FILE   once listening, write the bound port to FILE\n"
    "  --log-level LEVEL  debug, info, warn or error (overrides the file)\n"
    "  --version          print the version\n"
    "\n"
    "Exit codes: 0 stopped by SIGINT/SIGTERM, 64 bad arguments, 75 cannot listen, 78 configuration error.\n";

struct Arguments {
  std::string config;
  std::string portFile;
  std::string logLevel;
  bool checkOnly = false;
};

// Reports readiness once the socket listens: the port file, then the line on stderr.
void announceListening(const std::string& host, const std::string& portFile, int port) {
  if (!portFile.empty()) {
    const std::string temp = portFile + ".tmp";
    std::ofstream(temp) << port << "\n";
    std::rename(temp.c_str(), portFile.c_str());
  }
  logInfo("listening on " + host + ":" + std::to_string(port));
}

int parseArguments(int argc, char** argv, Arguments& args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        std::cerr << "qlik-reload-worker: " << a << " needs a value\n" << kUsage;
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return kExitOk;
    } else if (a == "--version") {
      std::cout << "qlik-reload-worker " << QLIK_RELOAD_VERSION << "\n";
      return kExitOk;
    } else if (a == "--config") {
      if (!value(args.config)) return kExitUsage;
    } else if (a == "--port-file") {
      if (!value(args.portFile)) return kExitUsage;
    } else if (a == "--log-level") {
      if (!value(args.logLevel)) return kExitUsage;
    } else if (a == "--check-config") {
      args.checkOnly = true;
    } else {
      std::cerr << "qlik-reload-worker: unknown argument '" << a << "'\n" << kUsage;
      return kExitUsage;
    }
  }
  if (args.config.empty()) {
    std::cerr << "qlik-reload-worker: --config FILE is required\n" << kUsage;
    return kExitUsage;
  }
  return -1;
}

OperatorOptions operatorOptions(const SiteConfig& site, const WorkerConfig& config) {
  OperatorOptions options;
  options.journalRetention = config.state.retention;
  options.monitor.poll = site.poll;
  if (config.push) options.monitor.pushFallback = config.push->fallbackPoll;
  options.stopWait = site.stopWait;
  options.maxConcurrentStarts = site.maxConcurrentStarts;
  options.workerId = config.workerId;
  return options;
}

// Each waiting caller holds a socket: allow as many as the system lets us.
void raiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// glibc keeps a per-thread cache of freed blocks (tcache, up to 7 per size
// class). With a thread per waiting caller that cache is held once per
// caller: measured at about 14 KiB each, 70 MB with 5,000 callers waiting.
// It can only be switched off before the process starts (a tunable), so the
// worker runs itself once more with it off — same process id, same
// arguments — unless the operator chose a tcache setting already.
void execWithoutThreadCaches(char** argv) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string current = tunables == nullptr ? "" : tunables;
  if (current.find("glibc.malloc.tcache_count") != std::string::npos) return;
  const std::string value = (current.empty() ? "" : current + ":") + "glibc.malloc.tcache_count=0";
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Not possible here (no /proc): run on with the caches.
  if (tunables == nullptr) {
    ::unsetenv("GLIBC_TUNABLES");
  } else {
    ::setenv("GLIBC_TUNABLES", tunables, 1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  execWithoutThreadCaches(argv);
  std::signal(SIGPIPE, SIG_IGN);
  raiseFileLimit();
  // A thread per waiting caller: without a cap, glibc gives threads their own
  // malloc arenas and the worker's memory grows with the callers' count.
  mallopt(M_ARENA_MAX, 2);
  Arguments args;
  if (int rc = parseArguments(argc, argv, args); rc >= 0) return rc;

  auto config = loadWorkerConfig(args.config);
  if (!config.isOk()) {
    std::cerr << "qlik-reload-worker: " << config.status().message() << "\n";
    return kExitConfig;
  }
  setLogLevel(config->logLevel);
  if (!args.logLevel.empty()) {
    LogLevel level;
    if (!parseLogLevel(args.logLevel, level)) {
      std::cerr << "qlik-reload-worker: --log-level must be debug, info, warn or error\n";
      return kExitUsage;
    }
    setLogLevel(level);
  }

  // SIGINT/SIGTERM are taken by one thread with sigwait(); block them before
  // any other thread exists so none of them receives the signal.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  Poco::Net::initializeSSL();
  // The journal outlives the operators that write to it: PostgreSQL when
  // several workers share it, else the embedded SQLite file.
  auto journal = config->state.postgresql.empty() ? openSqliteJournal(config->state.path)
                                                  : openPostgresJournal(postgresConnectionString(config->state));
  if (!journal.isOk()) {
    std::cerr << "qlik-reload-worker: " << journal.status().message() << "\n";
    // A database that cannot be reached now may be back in a moment.
    return journal.status().code() == ErrorCode::kUnavailable ? kExitUnavailable : kExitConfig;
  }
  if (!config->state.postgresql.empty()) {
    logInfo("journal: PostgreSQL (" + config->state.postgresql + "), shared as worker '" + config->workerId + "'");
  }
  std::vector<std::unique_ptr<qrs::QrsClient>> clients;
  std::vector<std::unique_ptr<ReloadOperator>> operators;
  std::map<std::string, ReloadOperator*> bySite;
  for (const auto& [name, site] : config->sites) {
    auto client = qrs::HttpQrsClient::create(site.qrs);
    if (!client.isOk()) {
      std::cerr << "qlik-reload-worker: site " << name << ": " << client.status().message() << "\n";
      return kExitConfig;
    }
    clients.push_back(std::move(client).value());
    operators.push_back(
        std::make_unique<ReloadOperator>(name, *clients.back(), SystemClock::instance(),
                                         operatorOptions(site, *config), journal.value().get()));
    bySite[name] = operators.back().get();
  }
  if (args.checkOnly) {
    std::string names;
    for (const auto& [name, op] : bySite) names += (names.empty() ? "" : ", ") + name;
    std::cout << "configuration OK: " << config->path << " (" << bySite.size() << " site"
              << (bySite.size() == 1 ? "" : "s") << ": " << names << ")\n";
    return kExitOk;
  }

  for (auto& op : operators) op->start();

  // Push: QRS calls us back when a reload ends; polling stays as a fallback.
  std::unique_ptr<PushReceiver> push;
  if (config->push) {
    PushOptions options;
    options.host = config->push->host;
    options.port = config->push->port;
    options.publicUrl = config->push->publicUrl;
    options.certFile = config->push->certFile;
    options.keyFile = config->push->keyFile;
    std::vector<std::string> names;
    for (const auto& [name, op] : bySite) names.push_back(name);
    auto receiver = PushReceiver::start(options, names, [&bySite](const std::string& site, std::vector<std::string> ids) {
      bySite.at(site)->monitor().resultsChanged(ids);
    });
    if (!receiver.isOk()) {
      std::cerr << "qlik-reload-worker: " << receiver.status().message() << "\n";
      for (auto& op : operators) op->shutdown();
      return kExitConfig;
    }
    push = std::move(receiver).value();
    logInfo("push: callbacks listen on " + options.host + ":" + std::to_string(push->port()));
    for (const auto& [name, op] : bySite) {
      if (Status enabled = op->enablePush(push->callbackUrl(name)); !enabled.isOk()) {
        logWarn("site " + name + ": " + enabled.message());
      }
    }
  }
  auto stopPush = [&] {
    if (!push) return;
    for (auto& op : operators) op->disablePush();
    push->stop();
  };

  auto handler = std::make_shared<worker::WorkerHandler>(bySite, QLIK_RELOAD_VERSION);
  auto processor = std::make_shared<rpc::ReloadWorkerProcessor>(handler);
  // Thread per connection, TLS and the connection limits: see server.h.
  auto built = worker::WorkerServer::create(config->listen, processor, [&](int port) {
    announceListening(config->listen.host, args.portFile, port);
  });
  if (!built.isOk()) {
    std::cerr << "qlik-reload-worker: " << built.status().message() << "\n";
    stopPush();
    for (auto& op : operators) op->shutdown();
    return kExitConfig;
  }
  worker::WorkerServer& server = **built;

  std::thread signalThread([&] {
    int signal = 0;
    sigwait(&stopSignals, &signal);
    logInfo(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
            ": answering waiting callers and stopping (reloads keep running in Qlik)");
    for (auto& op : operators) op->shutdown();
    server.stop();
    // A client that ignores the interrupted connection must not keep us up.
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::seconds(9));
      logWarn("connections still open after 9 s; exiting anyway");
      std::_Exit(0);
    }).detach();
  });

  int rc = kExitOk;
  if (Status served = server.serve(); !served.isOk()) {
    logError(served.message());
    rc = kExitUnavailable;
    pthread_kill(signalThread.native_handle(), SIGTERM);
  }
  signalThread.join();
  stopPush();
  for (auto& op : operators) op->shutdown();
  logInfo("stopped");
  return rc;
}
