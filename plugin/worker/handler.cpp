#include "handler.h"

#include <cctype>
#include <cstring>

#include "core/guid.h"
#include "core/log.h"
#include "core/text.h"
#include "core/time_format.h"

namespace qlik_reload::worker {
namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& message) {
  rpc::InvalidRequest e;
  e.field = field;
  e.message = field + ": " + message;
  throw e;
}

std::string shortQuote(const std::string& text) { return quoteForMessage(text); }

rpc::ReloadState::type toRpc(ReloadState state) {
  switch (state) {
    case ReloadState::kQueued: return rpc::ReloadState::QUEUED;
    case ReloadState::kRunning: return rpc::ReloadState::RUNNING;
    case ReloadState::kStopping: return rpc::ReloadState::STOPPING;
    case ReloadState::kSucceeded: return rpc::ReloadState::SUCCEEDED;
    case ReloadState::kFailed: return rpc::ReloadState::FAILED;
    case ReloadState::kAborted: return rpc::ReloadState::ABORTED;
    case ReloadState::kSkipped: return rpc::ReloadState::SKIPPED;
    case ReloadState::kNotStarted: return rpc::ReloadState::NOT_STARTED;
  }
  return rpc::ReloadState::FAILED;
}

}  // namespace

rpc::ReloadStatus toRpc(const ReloadStatus& s) {
  rpc::ReloadStatus out;
  out.executionId = s.executionId;
  out.site = s.site;
  out.taskId = s.taskId;
  out.taskName = s.taskName;
  out.state = toRpc(s.state);
  out.qlikStatus = s.qlikStatus;
  out.qlikStatusCode = s.qlikStatusCode;
  out.terminal = s.terminal;
  out.timedOut = s.timedOut;
  out.attached = s.attached;
  out.message = s.message;
  out.scriptLogTail = s.scriptLogTail;
  if (s.startedAt) out.__set_startedAtMs(toEpochMs(*s.startedAt));
  if (s.finishedAt) out.__set_finishedAtMs(toEpochMs(*s.finishedAt));
  for (const AttemptInfo& a : s.attempts) {
    rpc::Attempt attempt;
    attempt.qlikStatusCode = a.qlikStatusCode;
    attempt.qlikStatus = a.qlikStatus;
    if (a.startedAt) attempt.__set_startedAtMs(toEpochMs(*a.startedAt));
    if (a.finishedAt) attempt.__set_finishedAtMs(toEpochMs(*a.finishedAt));
    attempt.durationMs = a.durationMs;
    attempt.node = a.node;
    attempt.messages = a.messages;
    out.attempts.push_back(std::move(attempt));
  }
  return out;
}

void throwRpcError(const Status& status, const std::string& executionId) {
  switch (status.code()) {
    case ErrorCode::kInvalidArgument: {
      rpc::InvalidRequest e;
      e.message = status.message();
      throw e;
    }
    case ErrorCode::kNotFound: {
      rpc::UnknownExecution e;
      e.message = status.message();
      e.executionId = executionId;
      throw e;
    }
    case ErrorCode::kAccessDenied: {
      rpc::AccessDenied e;
      e.message = status.message();
      throw e;
    }
    case ErrorCode::kServerUntrusted:
    case ErrorCode::kConfiguration: {
      rpc::ConfigurationError e;
      e.message = status.message();
      throw e;
    }
    case ErrorCode::kUnavailable:
    case ErrorCode::kCancelled: {
      rpc::QlikUnavailable e;
      e.message = status.message();
      e.retryable = true;
      throw e;
    }
    case ErrorCode::kOk:
    case ErrorCode::kProtocol:
    case ErrorCode::kRejected:
    case ErrorCode::kInternal:
      break;
  }
  rpc::QlikUnavailable e;
  e.message = status.message();
  e.retryable = false;
  throw e;
}

WorkerHandler::WorkerHandler(std::map<std::string, ReloadOperator*> operators, std::string version,
                             RequestLimits limits)
    : operators_(std::move(operators)), version_(std::move(version)), limits_(limits) {}

ReloadOperator& WorkerHandler::siteFor(const std::string& site) const {
  auto it = operators_.find(site);
  if (it == operators_.end()) {
    rpc::UnknownSite e;
    e.site = site;
    std::string known;
    for (const auto& [name, op] : operators_) known += (known.empty() ? "" : ", ") + name;
    e.message = "unknown site " + shortQuote(site) + " (this worker knows: " + known + ")";
    throw e;
  }
  return *it->second;
}

StartRequest WorkerHandler::validate(const rpc::ReloadRequest& request, ReloadOperator*& site) const {
  if (request.site.empty()) invalid("site", "must not be empty");
  if (!isCleanText(request.site) || request.site.size() > 64) invalid("site", "is not a site name");
  site = &siteFor(request.site);

  StartRequest out;
  const bool hasId = request.__isset.taskId;
  const bool hasName = request.__isset.taskName;
  if (hasId == hasName) invalid("taskId", "set exactly one of taskId and taskName");
  if (hasId) {
    if (!isGuid(request.taskId)) {
      invalid("taskId", shortQuote(request.taskId) + " is not a GUID (expected 8-4-4-4-12 hex digits)");
    }
    out.taskId = normalizeGuid(request.taskId);
  } else {
    if (request.taskName.empty()) invalid("taskName", "must not be empty");
    if (request.taskName.size() > limits_.maxTaskNameBytes) {
      invalid("taskName", "is " + std::to_string(request.taskName.size()) + " bytes; at most " +
                              std::to_string(limits_.maxTaskNameBytes) + " are allowed");
    }
    if (!isCleanText(request.taskName)) invalid("taskName", "contains control characters or invalid UTF-8");
    out.taskName = request.taskName;
  }
  if (request.__isset.idempotencyKey) {
    if (request.idempotencyKey.empty()) invalid("idempotencyKey", "must not be empty when set");
    if (request.idempotencyKey.size() > limits_.maxIdempotencyKeyBytes) {
      invalid("idempotencyKey", "is longer than " + std::to_string(limits_.maxIdempotencyKeyBytes) + " bytes");
    }
    if (!isCleanText(request.idempotencyKey)) {
      invalid("idempotencyKey", "contains control characters or invalid UTF-8");
    }
    out.idempotencyKey = request.idempotencyKey;
  }
  if (request.__isset.timeoutMs) {
    if (request.timeoutMs <= 0) invalid("timeoutMs", "must be positive, got " + std::to_string(request.timeoutMs));
    if (request.timeoutMs > limits_.maxTimeoutMs) {
      invalid("timeoutMs", std::to_string(request.timeoutMs) + " is more than 30 days");
    }
    out.timeout = Duration(request.timeoutMs);
  }
  out.stopOnTimeout = request.stopOnTimeout;
  if (request.__isset.labels) {
    if (request.labels.size() > limits_.maxLabels) {
      invalid("labels", "at most " + std::to_string(limits_.maxLabels) + " labels are allowed");
    }
    for (const auto& [key, value] : request.labels) {
      bool keyOk = !key.empty() && key.size() <= limits_.maxLabelKeyBytes;
      for (char c : key) {
        keyOk = keyOk && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
      }
      if (!keyOk) invalid("labels", "key " + shortQuote(key) + " must be 1-64 characters of A-Z a-z 0-9 _ - .");
      if (value.size() > limits_.maxLabelValueBytes || !isCleanText(value)) {
        invalid("labels", "value of '" + key + "' must be at most 256 bytes of text without control characters");
      }
      out.labels.emplace_back(key, value);
    }
  }
  if (request.__isset.ifRunning) {
    // A client may send any i32; reading it as the enum type would be
    // undefined for values outside the enum, so read the raw number.
    static_assert(sizeof(request.ifRunning) == sizeof(std::int32_t));
    std::int32_t raw = 0;
    std::memcpy(&raw, &request.ifRunning, sizeof raw);
    switch (raw) {
      case rpc::IfRunning::ATTACH: out.ifRunning = IfRunning::kAttach; break;
      case rpc::IfRunning::FAIL: out.ifRunning = IfRunning::kFail; break;
      case rpc::IfRunning::WAIT: out.ifRunning = IfRunning::kWait; break;
      default: invalid("ifRunning", "unknown value " + std::to_string(raw));
    }
  }
  return out;
}

std::string WorkerHandler::validExecutionId(const rpc::ExecutionRef& ref) const {
  if (!isGuid(ref.executionId)) {
    invalid("executionId", shortQuote(ref.executionId) + " is not a GUID (expected 8-4-4-4-12 hex digits)");
  }
  if (isZeroGuid(ref.executionId)) invalid("executionId", "the all-zero GUID names no execution");
  return normalizeGuid(ref.executionId);
}

void WorkerHandler::startReload(rpc::ReloadStatus& out, const rpc::ReloadRequest& request) {
  ReloadOperator* site = nullptr;
  StartRequest req = validate(request, site);
  auto result = site->startReload(req);
  if (!result.isOk()) throwRpcError(result.status(), "");
  out = toRpc(result.value());
}

void WorkerHandler::runReload(rpc::ReloadStatus& out, const rpc::ReloadRequest& request) {
  ReloadOperator* site = nullptr;
  StartRequest req = validate(request, site);
  auto result = site->runReload(req);
  if (!result.isOk()) throwRpcError(result.status(), "");
  out = toRpc(result.value());
}

void WorkerHandler::getReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref) {
  ReloadOperator& site = siteFor(ref.site);
  const std::string id = validExecutionId(ref);
  auto result = site.getReload(id);
  if (!result.isOk()) throwRpcError(result.status(), id);
  out = toRpc(result.value());
}

void WorkerHandler::waitReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref, int32_t maxWaitMs) {
  ReloadOperator& site = siteFor(ref.site);
  const std::string id = validExecutionId(ref);
  if (maxWaitMs < 0) invalid("maxWaitMs", "must not be negative, got " + std::to_string(maxWaitMs));
  if (maxWaitMs > limits_.maxWaitMs) invalid("maxWaitMs", "at most one hour per call; call again to wait longer");
  auto result = site.waitReload(id, Duration(maxWaitMs));
  if (!result.isOk()) throwRpcError(result.status(), id);
  out = toRpc(result.value());
}

void WorkerHandler::cancelReload(rpc::ReloadStatus& out, const rpc::ExecutionRef& ref) {
  ReloadOperator& site = siteFor(ref.site);
  const std::string id = validExecutionId(ref);
  auto result = site.cancelReload(id);
  if (!result.isOk()) throwRpcError(result.status(), id);
  out = toRpc(result.value());
}

void WorkerHandler::ping(rpc::WorkerInfo& out) {
  out.version = version_;
  for (const auto& [name, op] : operators_) out.sites.push_back(name);
}

}  // namespace qlik_reload::worker
