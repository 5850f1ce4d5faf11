#include "qrs/types.h"

#include <cctype>

namespace qlik_reload::qrs {
namespace {

constexpr const char* kNames[kTaskExecutionStatusCount] = {
    "NeverStarted", "Triggered", "Started",  "Queued", "AbortInitiated", "Aborting",          "Aborted",
    "FinishedSuccess", "FinishedFail", "Skipped", "Retry", "Error", "Reset", "DistributionQueue",
    "DistributionRunning"};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

std::string taskExecutionStatusName(int status) {
  if (status >= 0 && status < kTaskExecutionStatusCount) return kNames[status];
  return "Unknown(" + std::to_string(status) + ")";
}

int parseTaskExecutionStatusName(std::string_view name) {
  for (int i = 0; i < kTaskExecutionStatusCount; ++i) {
    if (equalsIgnoreCase(name, kNames[i])) return i;
  }
  return -1;
}

}  // namespace qlik_reload::qrs
