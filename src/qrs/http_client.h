// HttpQrsClient: QrsClient over HTTPS with a client certificate (QRS port
// 4242, or a virtual-proxy prefix). See client.h for the contract every
// QrsClient keeps; this header adds what is particular to HTTP.
//
// Requests. Each call is one HTTP request (getExecutionResults: one per chunk
// of ids, see below) carrying
//   * a fresh 16-character xrfkey, in the X-Qlik-Xrfkey header and the
//     `xrfkey` query parameter;
//   * X-Qlik-User: UserDirectory=<dir>; UserId=<id>;
//   * Content-Type: application/json and Accept: application/json (the log
//     download accepts */*: QRS serves it as application/unknown);
//   * POSTs: an empty body with Content-Length: 0.
// Query strings are built with Poco::URI only; ids that go into a path or a
// filter are checked to be GUIDs first, so a bad id never reaches QRS
// (kInvalidArgument).
//
// Limits. connectTimeout bounds the TCP connect plus TLS handshake;
// readTimeout bounds every wait for data while sending and reading. Success
// answers larger than maxResponseBytes fail with kProtocol ("answer larger
// than N bytes"); of error answers only the first 64 KiB are kept (they are
// quoted, not decoded); downloadScriptLog keeps the last maxTailBytes while
// it streams (and gives up past 1 GiB). getExecutionResults splits long id lists so each URL stays under
// ConnectionOptions::maxUrlLength, sends the parts side by side (at most
// maxConcurrentRequests in flight) and concatenates the answers in order.
//
// Connections. Up to maxConnections idle keep-alive connections are kept and
// reused (each for at most 4 s idle, below common server idle timeouts); more
// concurrent calls open more connections, none waits for another. A
// connection that failed, or whose answer was not read completely, is closed.
//
// No retries — with one exception, and never for POST. A GET that fails on a
// REUSED keep-alive connection before any byte of the answer arrived (QRS
// may have closed the idle connection just as we sent) is sent once more on
// a new connection; a timeout is not such a failure. A POST is never re-sent:
// a start that may have reached QRS must not be repeated blindly (the
// operator looks for the running execution instead). (Poco itself opens a new
// connection when writing a request fails outright; such a request never
// reached QRS whole, so that is no repeat.)
//
// SIGPIPE: a write to a connection QRS has closed raises SIGPIPE inside
// OpenSSL, which by default ends the process. create() therefore sets
// SIGPIPE to "ignore" when (and only when) it still has the default action.
//
// Thread-safe. The key passphrase is used to load the key and then held only
// inside OpenSSL; it never appears in logs or messages.
#pragma once

#include <memory>
#include <string>

#include "qrs/client.h"
#include "qrs/connection_options.h"

namespace qlik_reload::qrs {

class HttpQrsClient final : public QrsClient {
 public:
  // Checks the options (URL: https, host, port 4242 when not given, optional
  // prefix; user directory and id; files) and builds the TLS context once.
  // Fails with kConfiguration naming what is wrong. Logs a warning when TLS
  // verification is off.
  static Result<std::unique_ptr<HttpQrsClient>> create(ConnectionOptions options);

  ~HttpQrsClient() override;
  HttpQrsClient(const HttpQrsClient&) = delete;
  HttpQrsClient& operator=(const HttpQrsClient&) = delete;

  Result<StartReply> startTask(std::string_view taskId) override;
  Result<StartReply> startTaskByName(std::string_view name) override;
  Result<std::optional<ExecutionSession>> getExecutionSession(std::string_view id) override;
  Result<std::vector<ExecutionSession>> findExecutionSessionsOfTask(std::string_view taskId) override;
  Result<std::vector<ExecutionResult>> findExecutionResultsOfTask(std::string_view taskId, WallTime since) override;
  Result<std::vector<ExecutionResult>> getExecutionResults(const std::vector<std::string>& executionIds) override;
  Result<std::vector<ExecutionResult>> getExecutionResultsById(const std::vector<std::string>& resultIds) override;
  Result<std::vector<ReloadTaskInfo>> findReloadTasksByName(std::string_view name) override;
  Status stopTask(std::string_view taskId) override;
  Result<std::string> subscribeChanges(std::string_view typeName, std::string_view filter,
                                       std::string_view callbackUrl) override;
  Status unsubscribeChanges(std::string_view handle) override;
  Result<std::string> scriptLogTicket(std::string_view taskId, std::string_view executionResultId) override;
  Result<std::string> legacyScriptLogTicket(std::string_view taskId, std::string_view fileReferenceId) override;
  Result<std::string> downloadScriptLog(std::string_view ticket, size_t maxTailBytes) override;
  Result<AboutInfo> about() override;

  // "https://host:port/prefix": the site this client talks to.
  const std::string& origin() const;

 private:
  // Every result whose `property` equals one of `ids` (GUIDs), in URL-sized chunks.
  Result<std::vector<ExecutionResult>> resultsMatching(const char* property, const std::vector<std::string>& ids,
                                                       const std::string& operation);

  struct Impl;
  explicit HttpQrsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace qlik_reload::qrs
