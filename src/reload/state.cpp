#include "reload/state.h"

#include "qrs/types.h"

namespace qlik_reload {
namespace {

using qrs::TaskExecutionStatus;

// Terminal QRS statuses are exactly Aborted, FinishedSuccess, FinishedFail,
// Skipped, Error and Reset. Queued, AbortInitiated, Aborting and Retry are
// not: tools that stop waiting on them report runs that are still going.
constexpr StatusMapping kTable[] = {
    {qrs::kNeverStarted, "NeverStarted", ReloadState::kQueued, false},
    {qrs::kTriggered, "Triggered", ReloadState::kQueued, false},
    {qrs::kStarted, "Started", ReloadState::kRunning, false},
    {qrs::kQueued, "Queued", ReloadState::kQueued, false},
    {qrs::kAbortInitiated, "AbortInitiated", ReloadState::kStopping, false},
    {qrs::kAborting, "Aborting", ReloadState::kStopping, false},
    {qrs::kAborted, "Aborted", ReloadState::kAborted, true},
    {qrs::kFinishedSuccess, "FinishedSuccess", ReloadState::kSucceeded, true},
    {qrs::kFinishedFail, "FinishedFail", ReloadState::kFailed, true},
    {qrs::kSkipped, "Skipped", ReloadState::kSkipped, true},
    // Retry: this attempt failed and Qlik will make another; the outcome is the last attempt's.
    {qrs::kRetry, "Retry", ReloadState::kRunning, false},
    {qrs::kError, "Error", ReloadState::kFailed, true},
    {qrs::kReset, "Reset", ReloadState::kFailed, true},
    {qrs::kDistributionQueue, "DistributionQueue", ReloadState::kQueued, false},
    {qrs::kDistributionRunning, "DistributionRunning", ReloadState::kRunning, false},
};
static_assert(sizeof kTable / sizeof kTable[0] == qrs::kTaskExecutionStatusCount);

}  // namespace

const char* reloadStateName(ReloadState state) {
  switch (state) {
    case ReloadState::kQueued: return "QUEUED";
    case ReloadState::kRunning: return "RUNNING";
    case ReloadState::kStopping: return "STOPPING";
    case ReloadState::kSucceeded: return "SUCCEEDED";
    case ReloadState::kFailed: return "FAILED";
    case ReloadState::kAborted: return "ABORTED";
    case ReloadState::kSkipped: return "SKIPPED";
    case ReloadState::kNotStarted: return "NOT_STARTED";
  }
  return "UNKNOWN";
}

bool parseReloadStateName(std::string_view name, ReloadState& out) {
  for (int i = 1; i <= 8; ++i) {
    auto state = static_cast<ReloadState>(i);
    if (name == reloadStateName(state)) {
      out = state;
      return true;
    }
  }
  return false;
}

StatusMapping mapQlikStatus(int qlikStatus) {
  if (qlikStatus >= 0 && qlikStatus < qrs::kTaskExecutionStatusCount) return kTable[qlikStatus];
  return StatusMapping{qlikStatus, "Unknown", ReloadState::kRunning, false};
}

}  // namespace qlik_reload
