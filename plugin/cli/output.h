// Where qlik-reload writes: progress lines on stderr, then exactly one final
// report (stderr lines + the stdout summary or JSON object).
//
// Thread-safe: the main thread and the signal thread share one Output; the
// first finish() prints the final report and every later finish() and
// progress() is dropped, so exactly one final report is ever printed.
#pragma once

#include <mutex>
#include <ostream>
#include <string>

#include "report.h"

namespace qlik_reload::cli {

class Output {
 public:
  // `out` and `err` must outlive this object.
  Output(std::ostream& out, std::ostream& err, bool json, bool quiet, std::string workerAddress);

  // "qlik-reload: <text>" on stderr, unless quiet or already finished.
  void progress(const std::string& text);

  // Prints the final report: the outcome lines on stderr (with --quiet only
  // when the exit code is not 0), then on stdout the JSON object (--json) or
  // the human summary. Flushes both. Returns false, printing nothing, when a
  // final report was already printed.
  bool finish(const Report& report);

  bool finished() const;

 private:
  mutable std::mutex mutex_;
  std::ostream& out_;
  std::ostream& err_;
  const bool json_;
  const bool quiet_;
  const std::string workerAddress_;
  bool finished_ = false;
};

}  // namespace qlik_reload::cli
