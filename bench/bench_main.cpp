// qlik-reload-bench: the worker against the way today's tools follow a
// reload, side by side, in one run (harness.h says what is measured how).
//
//   qlik-reload-bench [--sizes 1,100,1000,5000] [--modes worker-poll,worker-push,naive-1s,naive-30s]
//                     [--time-scale X] [--time-scale-for N=X,...] [--naive-max-rate R]
//                     [--run-ms MIN:MAX] [--seed S]
//                     [--work-dir DIR] [--pki DIR] [--csv FILE] [--report FILE] [--stack-kib K]
//                     [--qrs-sim PATH] [--worker PATH] [--smoke]
//
// Every mode runs at every size, at --time-scale (default 10) unless
// --time-scale-for names another for that size (default 5000=2: the 5,000
// starts take seconds of real time, which at scale 10 would be longer than
// a run, and every QRS round trip counts ten times against the worker's
// scaled intervals). The naive baselines make one request per
// reload per period, so at large N and a high time scale they would ask
// more of the machine than it has; a naive run's time scale is lowered to
// keep it under R real requests per second (default 1,500), and the table
// shows each run's scale. Figures are in simulated time, so runs at
// different scales compare.
//
// --smoke: N = 20 in each mode at time scale 50 (the CTest bench-smoke):
// checks that the harness runs and its invariants hold, not the targets.
//
// Prints the report (Markdown) to stdout and, with --report, to FILE; the
// CSV goes to --csv (default WORK_DIR/results.csv). Exit 0 when every
// invariant held in every run (targets met or not), 1 when one did not, 64
// on bad arguments, 70 when the harness itself failed.
#include <sys/utsname.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Path.h>

#include "harness.h"
#include "measure.h"
#include "report.h"

namespace {

using namespace qlik_reload::bench;

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitUsage = 64;
constexpr int kExitSoftware = 70;

const char* const kUsage =
    "usage: qlik-reload-bench [--sizes 1,100,1000,5000] [--modes worker-poll,worker-push,naive-1s,naive-30s]\n"
    "                         [--time-scale X] [--time-scale-for N=X,...] [--naive-max-rate R]\n"
    "                         [--run-ms MIN:MAX] [--seed S]\n"
    "                         [--work-dir DIR] [--pki DIR] [--csv FILE] [--report FILE] [--stack-kib K]\n"
    "                         [--qrs-sim PATH] [--worker PATH] [--smoke]\n";

struct Arguments {
  std::vector<int> sizes{1, 100, 1000, 5000};
  std::vector<Mode> modes{Mode::kNaive1s, Mode::kNaive30s, Mode::kWorkerPoll, Mode::kWorkerPush};
  double timeScale = 10;
  std::map<int, double> timeScaleFor{{5000, 2.0}};
  double naiveMaxRate = 1500;
  std::string csv;
  std::string report;
  HarnessOptions harness;
};

std::vector<std::string> splitList(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

Mode parseMode(const std::string& name) {
  for (Mode mode : {Mode::kWorkerPoll, Mode::kWorkerPush, Mode::kNaive1s, Mode::kNaive30s}) {
    if (name == modeName(mode)) return mode;
  }
  throw std::invalid_argument("unknown mode " + name);
}

bool parseArguments(int argc, char** argv, Arguments& a) {
  a.harness.simBinary = QLIK_BENCH_QRS_SIM;
  a.harness.workerBinary = QLIK_BENCH_WORKER;
  a.harness.workDir = QLIK_BENCH_WORK_DIR;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    try {
      if (arg == "--sizes") {
        a.sizes.clear();
        for (const std::string& s : splitList(value(), ',')) a.sizes.push_back(std::stoi(s));
      } else if (arg == "--modes") {
        a.modes.clear();
        for (const std::string& s : splitList(value(), ',')) a.modes.push_back(parseMode(s));
      } else if (arg == "--time-scale") {
        a.timeScale = std::stod(value());
      } else if (arg == "--time-scale-for") {
        a.timeScaleFor.clear();
        for (const std::string& item : splitList(value(), ',')) {
          auto pair = splitList(item, '=');
          if (pair.size() != 2) throw std::invalid_argument("--time-scale-for wants N=X,...");
          a.timeScaleFor[std::stoi(pair[0])] = std::stod(pair[1]);
        }
      } else if (arg == "--naive-max-rate") {
        a.naiveMaxRate = std::stod(value());
      } else if (arg == "--run-ms") {
        auto range = splitList(value(), ':');
        if (range.size() != 2) throw std::invalid_argument("--run-ms wants MIN:MAX");
        a.harness.shape.runMinMs = std::stoll(range[0]);
        a.harness.shape.runMaxMs = std::stoll(range[1]);
      } else if (arg == "--seed") {
        a.harness.shape.seed = std::stoull(value());
      } else if (arg == "--work-dir") {
        a.harness.workDir = value();
      } else if (arg == "--pki") {
        a.harness.pkiDir = value();
      } else if (arg == "--csv") {
        a.csv = value();
      } else if (arg == "--report") {
        a.report = value();
      } else if (arg == "--stack-kib") {
        a.harness.clientStackBytes = static_cast<std::size_t>(std::stoul(value())) * 1024;
      } else if (arg == "--qrs-sim") {
        a.harness.simBinary = value();
      } else if (arg == "--worker") {
        a.harness.workerBinary = value();
      } else if (arg == "--smoke") {
        smoke = true;
      } else if (arg == "--help" || arg == "-h") {
        std::cout << kUsage;
        std::exit(kExitPass);
      } else {
        throw std::invalid_argument("unknown argument " + arg);
      }
    } catch (const std::exception& e) {
      std::cerr << "qlik-reload-bench: " << e.what() << "\n" << kUsage;
      return false;
    }
  }
  if (smoke) {
    a.sizes = {20};
    a.timeScale = 50;
    a.timeScaleFor.clear();
    a.naiveMaxRate = 400;
    a.harness.getReloadCalls = 300;
    a.harness.getReloadWarmup = 50;
  }
  const bool sizesOk = !a.sizes.empty() && std::all_of(a.sizes.begin(), a.sizes.end(), [](int n) { return n > 0; });
  const bool scalesOk = std::all_of(a.timeScaleFor.begin(), a.timeScaleFor.end(),
                                   [](const auto& entry) { return entry.second > 0; });
  if (!sizesOk || !scalesOk || a.modes.empty() || a.timeScale <= 0 || a.naiveMaxRate <= 0 || a.harness.shape.runMinMs < 1 ||
      a.harness.shape.runMaxMs < a.harness.shape.runMinMs) {
    std::cerr << "qlik-reload-bench: sizes, modes, --time-scale, --naive-max-rate and --run-ms must be positive\n";
    return false;
  }
  a.harness.workDir = Poco::Path(a.harness.workDir).absolute().toString();
  if (!a.harness.pkiDir.empty()) a.harness.pkiDir = Poco::Path(a.harness.pkiDir).absolute().toString();
  if (a.csv.empty()) a.csv = a.harness.workDir + "/results.csv";
  return true;
}

// The naive baselines poll each reload once per period; keep their real
// request rate under the machine's budget.
double timeScaleFor(const Arguments& a, Mode mode, int reloads) {
  auto it = a.timeScaleFor.find(reloads);
  const double scale = it == a.timeScaleFor.end() ? a.timeScale : it->second;
  if (isWorkerMode(mode)) return scale;
  const double periodS = static_cast<double>(pollPeriodSimMs(mode, a.harness.worker)) / 1000.0;
  return std::min(scale, a.naiveMaxRate * periodS / reloads);
}

std::string describeMachine() {
  std::ostringstream out;
  out << std::thread::hardware_concurrency() << " CPUs";
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long kib = 0;
  if (meminfo >> key >> kib && key == "MemTotal:") out << ", " << std::lround(static_cast<double>(kib) / 1048576.0) << " GiB RAM";
  utsname name{};
  if (uname(&name) == 0) out << ", Linux " << name.release << " " << name.machine;
  out << ", " << QLIK_BENCH_COMPILER << ", " << QLIK_BENCH_BUILD_TYPE << " build";
  return out.str();
}

std::string commandLine(int argc, char** argv) {
  std::string text = "qlik-reload-bench";
  for (int i = 1; i < argc; ++i) text += std::string(" ") + argv[i];
  return text;
}

int run(const Arguments& args, int argc, char** argv) {
  Arguments a = args;
  Poco::File(a.harness.workDir).createDirectories();
  Poco::Net::initializeSSL();
  const auto files = raiseOpenFileLimit();
  const int largest = *std::max_element(a.sizes.begin(), a.sizes.end());
  if (files < static_cast<rlim_t>(largest) * 2 + 256) {
    std::cerr << "qlik-reload-bench: note: the open-file limit is " << files << "; " << largest
              << " clients and the worker's " << largest << " connections need more than " << largest * 2 << "\n";
  }
  if (a.harness.pkiDir.empty()) {
    a.harness.pkiDir = a.harness.workDir + "/pki";
    if (!Poco::File(a.harness.pkiDir + "/root.pem").exists()) makePki(a.harness.simBinary, a.harness.pkiDir, a.harness.workDir);
  }

  RunContext context;
  context.command = commandLine(argc, argv);
  context.machine = describeMachine();
  context.loadBefore = loadAverage();
  context.timeScale = a.timeScale;
  context.options = a.harness;

  std::vector<RunResult> results;
  for (int n : a.sizes) {
    for (Mode mode : a.modes) {
      RunSpec spec{mode, n, timeScaleFor(a, mode, n)};
      std::cerr << "bench: " << modeName(mode) << " N=" << n << " (time scale " << spec.timeScale << ", load "
                << loadAverage() << ") ..." << std::flush;
      RunResult result = runBenchmark(a.harness, spec);
      std::cerr << " " << result.wallSeconds << " s, " << result.requestsPerReload << " QRS requests per reload"
                << (result.problems.empty() ? "" : ", " + std::to_string(result.problems.size()) + " problem(s)")
                << std::endl;
      results.push_back(std::move(result));
    }
  }
  context.loadAfter = loadAverage();

  const auto targets = evaluateTargets(results, a.harness);
  printReport(std::cout, context, results, targets);
  if (!a.report.empty()) {
    std::ofstream report(a.report);
    printReport(report, context, results, targets);
  }
  writeCsv(a.csv, results);
  std::cerr << "bench: CSV written to " << a.csv << "\n";
  const bool pass = std::all_of(results.begin(), results.end(), [](const RunResult& r) { return r.problems.empty(); });
  return pass ? kExitPass : kExitFail;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  if (!parseArguments(argc, argv, args)) return kExitUsage;
  try {
    return run(args, argc, argv);
  } catch (const Poco::Exception& e) {
    std::cerr << "qlik-reload-bench: " << e.displayText() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "qlik-reload-bench: " << e.what() << "\n";
  }
  return kExitSoftware;
}
