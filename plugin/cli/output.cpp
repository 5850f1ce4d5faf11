#include "output.h"

namespace qlik_reload::cli {

Output::Output(std::ostream& out, std::ostream& err, bool json, bool quiet, std::string workerAddress)
    : out_(out), err_(err), json_(json), quiet_(quiet), workerAddress_(std::move(workerAddress)) {}

void Output::progress(const std::string& text) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (quiet_ || finished_) return;
  err_ << "qlik-reload: " << text << '\n' << std::flush;
}

bool Output::finish(const Report& report) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (finished_) return false;
  finished_ = true;
  if (!quiet_ || report.exitCode() != kExitSucceeded) {
    for (const std::string& line : outcomeLines(report)) err_ << line << '\n';
    err_ << std::flush;
  }
  out_ << (json_ ? toJson(report) : humanSummary(report, workerAddress_)) << '\n' << std::flush;
  return true;
}

bool Output::finished() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return finished_;
}

}  // namespace qlik_reload::cli
