// Fuzz target: every QRS answer decoder of qrs/decode.h on the same body.
//
// Properties (decode.h's contract):
//  * no decoder throws;
//  * a failure is kProtocol with a non-empty message fit for one log line
//    (bodies quoted in messages are sanitized and cut short);
//  * a success holds only valid data: GUID fields are GUIDs in lower case (or
//    empty where optional), the start reply's id is a GUID, a ticket is not
//    empty, a present date is after QRS's "not set" date (1753-01-01) and
//    survives formatting and parsing again to the millisecond.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/guid.h"
#include "core/time_format.h"
#include "fuzz_support.h"
#include "qrs/decode.h"

namespace {

using namespace qlik_reload;
using namespace qlik_reload::qrs;
using qlik_reload::fuzz::require;

// The longest failure message a decoder may produce: a path, a reason and
// excerpts capped at 120 characters (plus a few multi-byte "…").
constexpr std::size_t kMaxMessageBytes = 600;

bool isLowerGuid(const std::string& text) {
  if (!isGuid(text)) return false;
  for (char c : text) {
    if (std::isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void checkGuid(const std::string& value, bool optional, const std::string& what) {
  if (optional && value.empty()) return;
  require(isLowerGuid(value), what + " is not a lower-case GUID: '" + fuzz::printable(value) + "'");
}

void checkTime(const std::optional<WallTime>& time, const std::string& what) {
  if (!time) return;
  // 1753-01-01T00:00:00Z, QRS's "not set", is -6847804800000 ms since the epoch.
  constexpr std::int64_t kNotSetEpochMs = -6847804800000LL;
  const std::int64_t ms = toEpochMs(*time);
  require(ms > kNotSetEpochMs, what + ": a date at or before 1753-01-01 was kept (" + std::to_string(ms) + " ms)");
  const std::string text = formatIso8601(*time);
  // Offsets may carry a time into year 10000 UTC, which the 4-digit format
  // cannot hold; anything written with four digits must read back.
  if (text.size() != 24) return;
  Result<std::optional<WallTime>> again = parseQrsTime(text);
  require(again.isOk() && again->has_value(), what + ": formatted date " + text + " does not parse back");
  require(toEpochMs(**again) == ms, what + ": " + text + " parses back to another instant");
}

void checkResult(const ExecutionResult& result, const std::string& what) {
  checkGuid(result.id, false, what + ".id");
  checkGuid(result.taskId, true, what + ".taskID");
  checkGuid(result.executionId, true, what + ".executionID");
  checkGuid(result.appId, true, what + ".appID");
  checkGuid(result.fileReferenceId, false, what + ".fileReferenceID");
  checkTime(result.createdAt, what + ".createdDate");
  checkTime(result.startTime, what + ".startTime");
  checkTime(result.stopTime, what + ".stopTime");
  for (const ExecutionResultDetail& detail : result.details) checkTime(detail.createdAt, what + ".details[]");
}

void checkSession(const ExecutionSession& session, const std::string& what) {
  checkGuid(session.id, false, what + ".id");
  checkGuid(session.taskId, true, what + ".reloadTask.id");
  checkTime(session.createdAt, what + ".createdDate");
  if (session.executionResult) checkResult(*session.executionResult, what + ".executionResult");
}

// Common to every decoder: a failure is a protocol error with a log-safe message.
template <typename T>
bool succeeded(const Result<T>& result, const std::string& what) {
  if (result.isOk()) return true;
  require(result.status().code() == ErrorCode::kProtocol,
          what + ": failed with " + errorCodeName(result.status().code()) + " instead of protocol");
  fuzz::requireLogSafeMessage(result.status(), what, kMaxMessageBytes);
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz::asText(data, size);
  fuzz::noThrow("decoders", [&] {
    if (auto reply = decodeStartReply(body); succeeded(reply, "decodeStartReply")) {
      checkGuid(reply->executionId, false, "start reply");
    }
    if (auto session = decodeExecutionSession(body); succeeded(session, "decodeExecutionSession")) {
      checkSession(*session, "executionsession");
    }
    if (auto sessions = decodeExecutionSessionList(body); succeeded(sessions, "decodeExecutionSessionList")) {
      for (const ExecutionSession& session : *sessions) checkSession(session, "executionsession[]");
    }
    if (auto result = decodeExecutionResult(body); succeeded(result, "decodeExecutionResult")) {
      checkResult(*result, "executionresult");
    }
    if (auto results = decodeExecutionResultList(body); succeeded(results, "decodeExecutionResultList")) {
      for (const ExecutionResult& result : *results) checkResult(result, "executionresult[]");
    }
    if (auto ticket = decodeTicket(body); succeeded(ticket, "decodeTicket")) {
      require(!ticket->empty(), "decodeTicket: empty ticket accepted");
    }
    if (auto tasks = decodeReloadTaskList(body); succeeded(tasks, "decodeReloadTaskList")) {
      for (const ReloadTaskInfo& task : *tasks) checkGuid(task.id, false, "reloadtask[].id");
    }
    if (auto about = decodeAbout(body); succeeded(about, "decodeAbout")) {
      // Any buildVersion and nodeType are acceptable; reaching here without a
      // crash is the property.
    }
  });
  return 0;
}
