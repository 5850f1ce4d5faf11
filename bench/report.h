// What a benchmark prints and writes: the figures per mode and N, their
// ratios against the naive baselines at the same N, where the QRS requests
// go, and the targets, each met / not met with the figure it was
// judged on. Pure formatting: no I/O but the streams and files named.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "harness.h"

namespace qlik_reload::bench {

// The machine and the run, printed above the tables.
struct RunContext {
  std::string command;
  std::string machine;  // nproc, RAM, kernel, compiler, build type
  std::string loadBefore;
  std::string loadAfter;
  double timeScale = 10;
  HarnessOptions options;
};

struct Target {
  std::string name;
  std::string measured;  // the figure it was judged on, with its unit
  enum class Verdict { kMet, kNotMet, kNotMeasured };
  Verdict verdict = Verdict::kNotMeasured;
};

std::vector<Target> evaluateTargets(const std::vector<RunResult>& results, const HarnessOptions& options);

// Markdown tables (readable as plain text too).
void printReport(std::ostream& out, const RunContext& context, const std::vector<RunResult>& results,
                 const std::vector<Target>& targets);

// One line per run, every figure; columns named in the header line.
void writeCsv(const std::string& path, const std::vector<RunResult>& results);

}  // namespace qlik_reload::bench
