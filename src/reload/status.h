// What the product reports about one execution. Mirrors the IDL's
// ReloadStatus; the Thrift handler converts it field by field, and nothing
// below the handler includes generated code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time_format.h"
#include "reload/state.h"

namespace qlik_reload {

struct AttemptInfo {
  int qlikStatusCode = 0;
  std::string qlikStatus;  // "FinishedFail"
  std::optional<WallTime> startedAt;
  std::optional<WallTime> finishedAt;
  std::int64_t durationMs = 0;
  std::string node;
  std::vector<std::string> messages;  // detail messages, oldest first
};

struct ReloadStatus {
  std::string executionId;  // empty when nothing started
  std::string site;
  std::string taskId;
  std::string taskName;
  ReloadState state = ReloadState::kQueued;
  std::string qlikStatus;    // latest attempt's status name, "" when none
  int qlikStatusCode = -1;   // -1 when none
  bool terminal = false;
  bool timedOut = false;
  bool attached = false;     // someone else started it; we followed
  std::vector<AttemptInfo> attempts;  // oldest first
  std::string message;
  std::string scriptLogTail;
  std::optional<WallTime> startedAt;
  std::optional<WallTime> finishedAt;
};

}  // namespace qlik_reload
