// qrs-sim: a simulated Qlik Sense Repository Service for the demo, the tests
// and the benchmarks. See command_line.h for the arguments and scenario.h for
// the scenario file.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/Path.h>

#include "sim/command_line.h"
#include "sim/pki.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace {

using namespace qlik_reload;
using namespace qlik_reload::sim;

int fail(int code, const std::string& message) {
  std::cerr << "qrs-sim: " << message << std::endl;
  return code;
}

// A warning, not an error: a mismatch only matters to clients that check names.
void warnOnHostName(const std::string& pkiDir, const std::string& hostName) {
  try {
    Poco::Net::X509Certificate certificate(Poco::Path(pkiDir, "server.pem").toString());
    if (!Poco::Net::X509Certificate::verify(certificate, hostName)) {
      std::cerr << "qrs-sim: warning: server.pem is not issued for '" << hostName << "'" << std::endl;
    }
  } catch (const Poco::Exception&) {
    // start() reports unusable PKI files.
  }
}

int serve(const CommandLine& line) {
  Result<Scenario> scenario = loadScenarioFile(line.scenarioFile);
  if (!scenario.isOk()) return fail(kExitConfig, scenario.status().message());
  if (!line.hostName.empty()) warnOnHostName(line.pkiDir, line.hostName);

  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and only sigwait() below sees them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

  SimulatorOptions options;
  options.pkiDir = line.pkiDir;
  options.bindAddress = line.bindAddress;
  options.port = line.port;
  options.timeScale = line.timeScale;
  options.logRequests = line.verbose;
  QrsSimulator simulator(std::move(scenario).value(), options);
  Status started = simulator.start();
  if (!started.isOk()) {
    int code = started.code() == ErrorCode::kConfiguration     ? kExitConfig
               : started.code() == ErrorCode::kInvalidArgument ? kExitUsage
                                                               : kExitUnavailable;
    return fail(code, started.message());
  }
  std::cerr << "listening on " << line.bindAddress << ":" << simulator.port() << std::endl;
  if (!line.portFile.empty()) {
    Status written = writePortFile(line.portFile, simulator.port());
    if (!written.isOk()) {
      simulator.stop();
      return fail(kExitCantCreate, written.message());
    }
  }
  int signal = 0;
  sigwait(&stopSignals, &signal);
  simulator.stop();
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<CommandLine> line = parseCommandLine(args);
  if (!line.isOk()) {
    std::cerr << "qrs-sim: " << line.status().message() << "\n" << kQrsSimUsage;
    return kExitUsage;
  }
  try {
    switch (line->mode) {
      case CommandLine::Mode::kHelp:
        std::cout << kQrsSimUsage;
        return kExitOk;
      case CommandLine::Mode::kMakePki: {
        PkiOptions options;
        if (!line->hostName.empty()) options.hostName = line->hostName;
        Status made = makePki(line->pkiDir, options);
        if (!made.isOk()) return fail(kExitSoftware, made.message());
        return kExitOk;
      }
      case CommandLine::Mode::kServe:
        return serve(*line);
    }
  } catch (const Poco::Exception& e) {
    return fail(kExitSoftware, e.displayText());
  } catch (const std::exception& e) {
    return fail(kExitSoftware, e.what());
  }
  return kExitSoftware;
}
