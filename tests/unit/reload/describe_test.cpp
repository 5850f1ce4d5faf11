#include <catch2/catch.hpp>

#include "core/time_format.h"
#include "reload/describe.h"

using namespace qlik_reload;

TEST_CASE("logTail keeps the last lines and drops CRs and trailing blanks", "[describe]") {
  CHECK(logTail("a\r\nb\r\nc\r\n\r\n", 2) == "b\nc");
  CHECK(logTail("only", 40) == "only");
  CHECK(logTail("", 40).empty());
  std::string big;
  for (int i = 1; i <= 100; ++i) big += "line " + std::to_string(i) + "\r\n";
  std::string tail = logTail(big, 40);
  CHECK(tail.rfind("line 61\n", 0) == 0);
  CHECK(tail.substr(tail.size() - 8) == "line 100");
}

TEST_CASE("describeStatus says what happened and why", "[describe]") {
  ReloadStatus s;
  s.state = ReloadState::kFailed;
  s.qlikStatus = "FinishedFail";
  s.startedAt = fromEpochMs(1000);
  s.finishedAt = fromEpochMs(4200);
  s.attempts.resize(2);
  CHECK(describeStatus(s, "Field not found: <Amount>") ==
        "Reload failed in Qlik (FinishedFail) after 3.2s, attempt 2 of 2: Field not found: <Amount>.");
  s.state = ReloadState::kSucceeded;
  s.attempts.resize(1);
  CHECK(describeStatus(s, "") == "Reload succeeded after 3.2s.");
  s.state = ReloadState::kQueued;
  s.qlikStatus = "Queued";
  CHECK(describeStatus(s, "") == "Waiting in Qlik's queue (Queued).");
}

TEST_CASE("formatLabels sorts keys", "[describe]") {
  CHECK(formatLabels({{"run", "r1"}, {"dag", "sales"}}) == "dag=sales run=r1");
  CHECK(formatLabels({}).empty());
}

TEST_CASE("scriptLogError finds the error the script log names", "[describe]") {
  CHECK(scriptLogError("20260102T080000.120+0000 Execution started.\r\n"
                       "20260102T080001.411+0000 The following error occurred:\r\n"
                       "20260102T080001.411+0000 Field 'Amount' not found\r\n"
                       "20260102T080001.420+0000 Execution Failed\r\n") == "Field 'Amount' not found");
  CHECK(scriptLogError("line 1\nError: field not found\nline 3") == "Error: field not found");
  CHECK(scriptLogError("all good\nExecution finished.").empty());
  CHECK(scriptLogError("").empty());
}
