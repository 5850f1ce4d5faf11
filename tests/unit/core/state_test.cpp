#include <catch2/catch.hpp>

#include "qrs/types.h"
#include "reload/state.h"

using namespace qlik_reload;

TEST_CASE("Every QRS status number maps to the documented state", "[state]") {
  auto [code, name, state, terminal] = GENERATE(table<int, const char*, ReloadState, bool>({
      {0, "NeverStarted", ReloadState::kQueued, false},
      {1, "Triggered", ReloadState::kQueued, false},
      {2, "Started", ReloadState::kRunning, false},
      {3, "Queued", ReloadState::kQueued, false},
      {4, "AbortInitiated", ReloadState::kStopping, false},
      {5, "Aborting", ReloadState::kStopping, false},
      {6, "Aborted", ReloadState::kAborted, true},
      {7, "FinishedSuccess", ReloadState::kSucceeded, true},
      {8, "FinishedFail", ReloadState::kFailed, true},
      {9, "Skipped", ReloadState::kSkipped, true},
      {10, "Retry", ReloadState::kRunning, false},
      {11, "Error", ReloadState::kFailed, true},
      {12, "Reset", ReloadState::kFailed, true},
      {13, "DistributionQueue", ReloadState::kQueued, false},
      {14, "DistributionRunning", ReloadState::kRunning, false},
  }));
  CAPTURE(code);
  StatusMapping m = mapQlikStatus(code);
  CHECK(m.qlikStatus == code);
  CHECK(std::string(m.qlikName) == name);
  CHECK(qrs::taskExecutionStatusName(code) == name);
  CHECK(qrs::parseTaskExecutionStatusName(name) == code);
  CHECK(m.state == state);
  CHECK(m.terminal == terminal);
  // A terminal QRS status always lands on a terminal reload state, and back.
  CHECK(isTerminal(m.state) == terminal);
}

TEST_CASE("Unknown QRS status numbers keep the reload waiting", "[state]") {
  for (int code : {-1, 15, 99}) {
    CAPTURE(code);
    StatusMapping m = mapQlikStatus(code);
    CHECK(m.state == ReloadState::kRunning);
    CHECK_FALSE(m.terminal);
  }
  CHECK(qrs::taskExecutionStatusName(15) == "Unknown(15)");
  CHECK(qrs::parseTaskExecutionStatusName("finishedfail") == 8);
  CHECK(qrs::parseTaskExecutionStatusName("Nope") == -1);
}

TEST_CASE("State names round-trip", "[state]") {
  for (int i = 1; i <= 8; ++i) {
    auto state = static_cast<ReloadState>(i);
    ReloadState parsed;
    REQUIRE(parseReloadStateName(reloadStateName(state), parsed));
    CHECK(parsed == state);
  }
  ReloadState ignored;
  CHECK_FALSE(parseReloadStateName("DONE", ignored));
}
