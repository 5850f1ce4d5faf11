// From QRS's 15 TaskExecutionStatus numbers to the product's 8 reload states.
// The mapping is one table (state.cpp) with a table-driven test.
#pragma once

#include <string>
#include <string_view>

namespace qlik_reload {

enum class ReloadState {
  kQueued = 1,
  kRunning = 2,
  kStopping = 3,
  kSucceeded = 4,
  kFailed = 5,
  kAborted = 6,
  kSkipped = 7,
  kNotStarted = 8,
};

// "QUEUED", "RUNNING", … as in the IDL.
const char* reloadStateName(ReloadState state);
bool parseReloadStateName(std::string_view name, ReloadState& out);

struct StatusMapping {
  int qlikStatus;         // TaskExecutionStatus number
  const char* qlikName;   // TaskExecutionStatus name
  ReloadState state;
  bool terminal;          // no further change will come for this attempt
};

// The row for a QRS status number. Numbers outside 0..14 (a newer QRS) map to
// RUNNING, not terminal: waiting longer is safer than a false outcome.
StatusMapping mapQlikStatus(int qlikStatus);

inline bool isTerminal(ReloadState state) {
  return state == ReloadState::kSucceeded || state == ReloadState::kFailed || state == ReloadState::kAborted ||
         state == ReloadState::kSkipped || state == ReloadState::kNotStarted;
}

}  // namespace qlik_reload
