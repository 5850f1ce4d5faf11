// qlik-reload: parse, build the options, run the command, map the outcome to
// the exit code. Everything else lives in the qlik_reload_cli library.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <thrift/TOutput.h>

#include "core/clock.h"
#include "options.h"
#include "output.h"
#include "qlik_reload_version.h"
#include "session.h"
#include "signal_watcher.h"
#include "worker_connection.h"

namespace cli = qlik_reload::cli;

namespace {

std::map<std::string, std::string> readEnvironment() {
  std::map<std::string, std::string> environment;
  for (const char* name : {cli::kEnvWorker, cli::kEnvTlsCa, cli::kEnvTlsCert, cli::kEnvTlsKey}) {
    if (const char* value = std::getenv(name)) environment[name] = value;
  }
  return environment;
}

int execute(const cli::CliOptions& options) {
  cli::Output output(std::cout, std::cerr, options.json, options.quiet, options.worker.toString());
  cli::ThriftWorkerConnector connector(options.worker, options.tls);
  cli::SessionSettings settings;
  settings.backoffSeed = std::random_device{}();
  cli::CommandSession session(options, connector, qlik_reload::SystemClock::instance(), output, settings);

  if (options.command != cli::Command::kRun) {
    cli::Report report = *session.execute();
    output.finish(report);
    return report.exitCode();
  }

  // run: SIGINT/SIGTERM cancel the reload. The signal thread prints the final
  // report and ends the process itself, because this thread may be blocked in
  // a long poll for many seconds.
  cli::SignalWatcher watcher([&](int signalNumber) {
    std::optional<cli::Report> report = session.interrupt(signalNumber);
    if (!report) return;  // before the start answered (execute() handles it) or already finished
    output.finish(*report);
    std::fflush(nullptr);
    std::_Exit(report->exitCode());
  });
  std::optional<cli::Report> report = session.execute();
  if (!report) {
    // The signal thread owns the end of the process; it calls _Exit.
    for (;;) pause();
  }
  output.finish(*report);
  return report->exitCode();
}

}  // namespace

int main(int argc, char** argv) {
  // A worker that closes the connection must not kill us with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  // Thrift logs transport failures to stderr itself; our messages already say
  // what failed, once, in the CLI's own words.
  apache::thrift::GlobalOutput.setOutputFunction([](const char*) {});
  const std::vector<std::string> arguments(argv + 1, argv + argc);
  cli::ParsedArguments parsed = cli::parseArguments(arguments, readEnvironment());
  const cli::CliOptions& options = parsed.options;
  try {
    if (options.command == cli::Command::kHelp) {
      std::cout << cli::usageText();
      return cli::kExitSucceeded;
    }
    if (options.command == cli::Command::kVersion) {
      std::cout << "qlik-reload " << QLIK_RELOAD_VERSION << '\n';
      return cli::kExitSucceeded;
    }
    if (parsed.error) {
      cli::Report report;
      report.command = options.command;
      report.site = options.site;
      report.error = cli::CliError{cli::ErrorType::kBadArguments, *parsed.error, false};
      cli::Output output(std::cout, std::cerr, options.json, false, options.worker.toString());
      output.finish(report);
      if (!options.json) std::cerr << "Run 'qlik-reload --help' for usage.\n";
      return report.exitCode();
    }
    return execute(options);
  } catch (const std::exception& e) {
    std::cerr << "qlik-reload: internal error: " << e.what() << '\n';
    return cli::kExitInternalError;
  }
}
