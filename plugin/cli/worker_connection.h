// How the CLI reaches qlik-reload-worker: one abstract connection, one real
// implementation (Thrift: TSocket or TSSLSocket → TFramedTransport →
// TBinaryProtocol), and one function that turns every exception a call can
// throw into a CliError. Tests implement WorkerConnector/WorkerConnection with
// a hand-written fake rpc::ReloadWorkerIf.
//
// A connection does not retry and does not reconnect; the command logic
// (session.h) owns reconnects, backoff and deadlines.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "ReloadWorker.h"
#include "core/clock.h"
#include "exit_codes.h"
#include "options.h"

namespace apache::thrift::transport {
class TSSLSocketFactory;
}

namespace qlik_reload::cli {

// One open connection to the worker. Not thread-safe: one thread at a time.
// After a call threw a transport error the connection is unusable; drop it.
class WorkerConnection {
 public:
  virtual ~WorkerConnection() = default;

  // The worker's interface. Calls throw the IDL exceptions for the worker's
  // answers and apache::thrift::TException for transport faults.
  virtual rpc::ReloadWorkerIf& worker() = 0;

  // How long the next calls may wait for the answer before failing with a
  // transport error (TIMED_OUT).
  virtual void setReceiveTimeout(Duration timeout) = 0;
};

// Opens connections. connect() may be called from several threads at once
// (the signal thread opens its own connection to cancel).
class WorkerConnector {
 public:
  virtual ~WorkerConnector() = default;

  // Opens a new connection. Throws apache::thrift::TException when the worker
  // cannot be reached, LocalConfigurationError when our TLS files are unusable.
  virtual std::unique_ptr<WorkerConnection> connect() = 0;

  // Where the worker is, for messages: "127.0.0.1:9090".
  virtual std::string address() const = 0;
};

// Our own configuration cannot work (unreadable TLS files). Thrown by
// connectors; invokeWorker() classifies it as kConfigurationError.
class LocalConfigurationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Per-call receive timeouts and the connect timeout.
inline constexpr Duration kConnectTimeout = std::chrono::seconds(5);
inline constexpr Duration kWaitCallMargin = std::chrono::seconds(15);  // added to waitReload's maxWaitMs
inline constexpr Duration kCancelCallTimeout = std::chrono::seconds(120);
inline constexpr Duration kDefaultCallTimeout = std::chrono::seconds(60);

// Runs `call` (which talks to the worker) and classifies whatever it throws —
// the only place that does:
//   IDL exceptions           → their ErrorType (QlikUnavailable keeps retryable)
//   LocalConfigurationError  → kConfigurationError
//   TSSLException about certificates/verification/alerts → kConfigurationError
//   any other TException (transport, protocol, the worker's internal error)
//                            → kWorkerUnreachable, retryable
// Returns nullopt when the call returned normally. Other exceptions propagate.
std::optional<CliError> invokeWorker(const std::function<void()>& call);

// The real connector: plain TCP, or TLS when tls.enabled() (TLS 1.2 or newer,
// the worker's certificate verified against tls.caFile including its host
// name, our client certificate presented when tls.certFile is set). The TLS
// context is built on the first connect() and shared by later connections.
class ThriftWorkerConnector final : public WorkerConnector {
 public:
  ThriftWorkerConnector(WorkerEndpoint endpoint, TlsOptions tls, Duration connectTimeout = kConnectTimeout);
  ~ThriftWorkerConnector() override;

  std::unique_ptr<WorkerConnection> connect() override;
  std::string address() const override { return endpoint_.toString(); }

 private:
  std::shared_ptr<apache::thrift::transport::TSSLSocketFactory> sslFactory();

  const WorkerEndpoint endpoint_;
  const TlsOptions tls_;
  const Duration connectTimeout_;
  std::mutex mutex_;  // guards sslFactory_
  std::shared_ptr<apache::thrift::transport::TSSLSocketFactory> sslFactory_;
};

}  // namespace qlik_reload::cli
