// QrsClient: the typed QRS operations a reload needs, one HTTP request each.
//
// Contract for every implementation:
//  * It does NOT retry and does not wait between attempts; the reload
//    operator above it owns retries, polling and outcome mapping.
//  * Every failure comes back as a Status classified once (status.h):
//    kUnavailable (transport fault, timeout, 408/429/5xx: retryable),
//    kAccessDenied (TLS alert about our certificate, 401, 403 other than
//    the xrfkey message), kServerUntrusted (QRS's certificate failed our
//    verification), kNotFound (404 where the method says so), kProtocol
//    (an answer we cannot decode, or the xrfkey 403), kRejected (other 4xx).
//    Messages name the operation and quote QRS's answer, never a secret.
//  * Implementations are thread-safe: the worker calls them from many threads.
//
// The production implementation is HttpQrsClient (http_client.h); tests use
// an in-memory fake that records every request.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "qrs/types.h"

namespace qlik_reload::qrs {

class QrsClient {
 public:
  virtual ~QrsClient() = default;

  // POST /qrs/task/{taskId}/start/synchronous. An all-zero executionId means
  // Qlik did not start it. kNotFound when QRS answers 404 (no such task).
  virtual Result<StartReply> startTask(std::string_view taskId) = 0;
  // POST /qrs/task/start/synchronous?name={name}. Same answers.
  virtual Result<StartReply> startTaskByName(std::string_view name) = 0;

  // GET /qrs/executionsession/{id}. nullopt when QRS answers 404 (the run has
  // ended, or the id never existed).
  virtual Result<std::optional<ExecutionSession>> getExecutionSession(std::string_view id) = 0;
  // GET /qrs/executionsession/full?filter=reloadTask.id eq {taskId}: the
  // sessions of a task that are running now.
  virtual Result<std::vector<ExecutionSession>> findExecutionSessionsOfTask(std::string_view taskId) = 0;

  // GET /qrs/executionresult/full?filter=ExecutionId eq A or ExecutionId eq B …
  // Every attempt row of every given execution, in QRS's order. Callers keep
  // the list short enough for a URL (the HTTP client chunks long lists).
  virtual Result<std::vector<ExecutionResult>> getExecutionResults(
      const std::vector<std::string>& executionIds) = 0;

  // GET /qrs/executionresult/full?filter=id eq A or id eq B …: results by
  // their own ids (what change notifications name).
  virtual Result<std::vector<ExecutionResult>> getExecutionResultsById(const std::vector<std::string>& resultIds) = 0;

  // GET /qrs/executionresult/full?filter=taskID eq {taskId} and createdDate ge '{since}':
  // the attempts of a task's executions created at or after `since`.
  virtual Result<std::vector<ExecutionResult>> findExecutionResultsOfTask(std::string_view taskId,
                                                                         WallTime since) = 0;

  // GET /qrs/reloadtask?filter=name eq '{name}'
  virtual Result<std::vector<ReloadTaskInfo>> findReloadTasksByName(std::string_view name) = 0;

  // POST /qrs/task/{taskId}/stop (204). kNotFound on 404.
  virtual Status stopTask(std::string_view taskId) = 0;

  // GET /qrs/reloadtask/{taskId}/scriptlogfile?executionResultId={id} → ticket.
  virtual Result<std::string> scriptLogTicket(std::string_view taskId, std::string_view executionResultId) = 0;
  // GET /qrs/reloadtask/{taskId}/scriptlog?fileReferenceId={id} → ticket (older QRS).
  virtual Result<std::string> legacyScriptLogTicket(std::string_view taskId, std::string_view fileReferenceId) = 0;
  // GET /qrs/download/reloadtask/{ticket}/scriptlog.txt → the last
  // `maxTailBytes` bytes of the log (the rest is read and dropped).
  virtual Result<std::string> downloadScriptLog(std::string_view ticket, size_t maxTailBytes) = 0;

  // POST /qrs/notification?name={typeName}&changetype=2&filter={filter} with
  // the callback URL as a JSON string → the subscription's handle. QRS then
  // POSTs [{"objectType":…,"objectID":…}, …] to the URL on each change.
  virtual Result<std::string> subscribeChanges(std::string_view typeName, std::string_view filter,
                                               std::string_view callbackUrl) = 0;
  // DELETE /qrs/notification?handle={handle}
  virtual Status unsubscribeChanges(std::string_view handle) = 0;

  // GET /qrs/about: a cheap health and identity check.
  virtual Result<AboutInfo> about() = 0;
};

}  // namespace qlik_reload::qrs
