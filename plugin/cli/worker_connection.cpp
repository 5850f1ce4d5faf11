#include "worker_connection.h"

#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSSLSocket.h>
#include <thrift/transport/TSocket.h>
#include <thrift/transport/TTransportUtils.h>

#include <algorithm>
#include <cctype>
#include <limits>

namespace qlik_reload::cli {
namespace {

using apache::thrift::TException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TSSLException;
using apache::thrift::transport::TSSLSocketFactory;
using apache::thrift::transport::TTransport;

int toMilliseconds(Duration d) {
  return static_cast<int>(std::clamp<Duration::rep>(d.count(), 0, std::numeric_limits<int>::max()));
}

class ThriftWorkerConnection final : public WorkerConnection {
 public:
  ThriftWorkerConnection(std::shared_ptr<TSocket> socket, std::shared_ptr<TTransport> transport)
      : socket_(std::move(socket)),
        transport_(std::move(transport)),
        client_(std::make_shared<TBinaryProtocol>(transport_)) {}

  ~ThriftWorkerConnection() override {
    try {
      transport_->close();
    } catch (const TException&) {
      // Closing a broken connection may fail; there is nothing left to do.
    }
  }

  rpc::ReloadWorkerIf& worker() override { return client_; }
  void setReceiveTimeout(Duration timeout) override { socket_->setRecvTimeout(toMilliseconds(timeout)); }

 private:
  std::shared_ptr<TSocket> socket_;
  std::shared_ptr<TTransport> transport_;
  rpc::ReloadWorkerClient client_;
};

bool mentionsCertificateTrouble(const std::string& text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* word : {"certificate", "verify", "authorize", "alert", "unknown ca", "wrong version",
                           "no shared cipher", "handshake failure"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::optional<CliError> invokeWorker(const std::function<void()>& call) {
  try {
    call();
    return std::nullopt;
  } catch (const rpc::InvalidRequest& e) {
    std::string message = e.message;
    if (!e.field.empty()) message += " (field " + e.field + ")";
    return CliError{ErrorType::kInvalidRequest, message, false};
  } catch (const rpc::UnknownSite& e) {
    return CliError{ErrorType::kUnknownSite, e.message, false};
  } catch (const rpc::UnknownExecution& e) {
    return CliError{ErrorType::kUnknownExecution, e.message, false};
  } catch (const rpc::QlikUnavailable& e) {
    return CliError{ErrorType::kQlikUnavailable, e.message, e.retryable};
  } catch (const rpc::AccessDenied& e) {
    return CliError{ErrorType::kAccessDenied, e.message, false};
  } catch (const rpc::ConfigurationError& e) {
    return CliError{ErrorType::kConfigurationError, e.message, false};
  } catch (const LocalConfigurationError& e) {
    return CliError{ErrorType::kConfigurationError, e.what(), false};
  } catch (const TSSLException& e) {
    // A certificate that does not verify, or a peer that refuses ours, will
    // not get better by retrying; anything else during TLS is a transport fault.
    if (mentionsCertificateTrouble(e.what())) {
      return CliError{ErrorType::kConfigurationError, std::string("TLS with the worker failed: ") + e.what(), false};
    }
    return CliError{ErrorType::kWorkerUnreachable, std::string("TLS connection to the worker failed: ") + e.what(),
                    true};
  } catch (const apache::thrift::TApplicationException& e) {
    return CliError{ErrorType::kWorkerUnreachable, std::string("the worker failed the call: ") + e.what(), true};
  } catch (const TException& e) {
    return CliError{ErrorType::kWorkerUnreachable, e.what(), true};
  }
}

ThriftWorkerConnector::ThriftWorkerConnector(WorkerEndpoint endpoint, TlsOptions tls, Duration connectTimeout)
    : endpoint_(std::move(endpoint)), tls_(std::move(tls)), connectTimeout_(connectTimeout) {}

ThriftWorkerConnector::~ThriftWorkerConnector() = default;

std::shared_ptr<TSSLSocketFactory> ThriftWorkerConnector::sslFactory() {
  std::lock_guard<std::mutex> guard(mutex_);
  if (sslFactory_) return sslFactory_;
  auto factory = std::make_shared<TSSLSocketFactory>(apache::thrift::transport::SSLProtocol::TLSv1_2);
  auto load = [](const char* option, const std::string& path, auto&& loader) {
    try {
      loader(path.c_str());
    } catch (const TException& e) {
      throw LocalConfigurationError(std::string(option) + " '" + path + "': " + e.what());
    }
  };
  load("--tls-ca", tls_.caFile, [&](const char* p) { factory->loadTrustedCertificates(p); });
  if (!tls_.certFile.empty()) {
    load("--tls-cert", tls_.certFile, [&](const char* p) { factory->loadCertificate(p); });
    load("--tls-key", tls_.keyFile, [&](const char* p) { factory->loadPrivateKey(p); });
  }
  factory->authenticate(true);
  sslFactory_ = factory;
  return sslFactory_;
}

std::unique_ptr<WorkerConnection> ThriftWorkerConnector::connect() {
  std::shared_ptr<TSocket> socket;
  if (tls_.enabled()) {
    socket = sslFactory()->createSocket(endpoint_.host, endpoint_.port);
  } else {
    socket = std::make_shared<TSocket>(endpoint_.host, endpoint_.port);
  }
  socket->setConnTimeout(toMilliseconds(connectTimeout_));
  socket->setRecvTimeout(toMilliseconds(kDefaultCallTimeout));
  socket->setSendTimeout(toMilliseconds(kDefaultCallTimeout));
  auto transport = std::make_shared<TFramedTransport>(socket);
  transport->open();
  return std::make_unique<ThriftWorkerConnection>(std::move(socket), std::move(transport));
}

}  // namespace qlik_reload::cli
