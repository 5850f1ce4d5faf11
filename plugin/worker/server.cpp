#include "server.h"

#include <sys/resource.h>

#include <chrono>
#include <mutex>
#include <string>
#include <utility>

#include <thrift/TOutput.h>
#include <thrift/server/TServer.h>
#include <thrift/server/TThreadedServer.h>

#include "core/log.h"
#include "endpoint.h"

namespace qlik_reload::worker {
namespace {

using apache::thrift::server::TThreadedServer;

// Descriptors beyond the connections: QRS sessions, the journal, logs.
constexpr rlim_t kSpareDescriptors = 256;

// Thrift's own diagnostics ("TConnectedClient died: ...", "SSL_shutdown:
// Broken pipe") come after the worker's own line about the same event, so
// they are details: debug level, in the worker's log format.
void thriftOutput(const char* message) { logDebug(std::string("thrift: ") + message); }

void raiseOpenFileLimit(int maxConnections) {
  const rlim_t wanted = static_cast<rlim_t>(maxConnections) + kSpareDescriptors;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    rlimit raised = limit;
    raised.rlim_cur = (limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= wanted) ? wanted : limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    logWarn("the open-file limit (" + std::to_string(limit.rlim_cur) + ") is below listen.max_connections + " +
            std::to_string(kSpareDescriptors) + " (" + std::to_string(wanted) +
            "): connections beyond it wait until descriptors free up. Raise it (systemd: LimitNOFILE=)");
  }
}

std::string describeSecurity(const ListenConfig& listen) {
  if (listen.tls) {
    return "TLS, client certificates required (issued by " + listen.tls->caFile + ")";
  }
  return isLoopbackHost(listen.host) ? "plain TCP on loopback" : "plain TCP";
}

}  // namespace

// Reports readiness and counts connections, to say once when the limit is
// reached (further connections then wait in the listen backlog).
class WorkerServer::Events final : public apache::thrift::server::TServerEventHandler {
 public:
  Events(std::shared_ptr<apache::thrift::transport::TServerSocket> socket, int limit, ListeningCallback onListening)
      : socket_(std::move(socket)), limit_(limit), onListening_(std::move(onListening)) {}

  void preServe() override {
    if (onListening_) onListening_(socket_->getPort());
  }

  void* createContext(std::shared_ptr<apache::thrift::protocol::TProtocol> input,
                      std::shared_ptr<apache::thrift::protocol::TProtocol> /*output*/) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++open_;
    if (open_ >= limit_) {
      auto now = std::chrono::steady_clock::now();
      if (!warned_ || now - lastWarning_ >= std::chrono::seconds(10)) {
        warned_ = true;
        lastWarning_ = now;
        logWarn("connection limit reached: " + std::to_string(open_) +
                " connections open (listen.max_connections); new connections wait until one closes (latest: " +
                peerOf(input) + ")");
      }
    }
    return nullptr;
  }

  void deleteContext(void* /*context*/, std::shared_ptr<apache::thrift::protocol::TProtocol> /*input*/,
                     std::shared_ptr<apache::thrift::protocol::TProtocol> /*output*/) override {
    std::lock_guard<std::mutex> lock(mutex_);
    --open_;
  }

 private:
  std::shared_ptr<apache::thrift::transport::TServerSocket> socket_;
  const int limit_;
  ListeningCallback onListening_;
  std::mutex mutex_;
  int open_ = 0;
  bool warned_ = false;
  std::chrono::steady_clock::time_point lastWarning_{};
};

Result<std::unique_ptr<WorkerServer>> WorkerServer::create(const ListenConfig& listen,
                                                           std::shared_ptr<apache::thrift::TProcessor> processor,
                                                           ListeningCallback onListening) {
  apache::thrift::GlobalOutput.setOutputFunction(&thriftOutput);
  Result<ThriftEndpoint> endpoint = makeThriftEndpoint(listen);
  if (!endpoint.isOk()) return endpoint.status();

  std::unique_ptr<WorkerServer> server(new WorkerServer());
  server->address_ = listen.host + ":" + std::to_string(listen.port);
  server->server_ = std::make_unique<TThreadedServer>(
      guardProcessor(std::move(processor), endpoint->limits), endpoint->socket, endpoint->inputTransports,
      endpoint->outputTransports, endpoint->protocols, endpoint->protocols);
  server->server_->setConcurrentClientLimit(listen.maxConnections);
  server->events_ = std::make_shared<Events>(endpoint->socket, listen.maxConnections, std::move(onListening));
  server->server_->setServerEventHandler(server->events_);

  raiseOpenFileLimit(listen.maxConnections);
  logInfo("Thrift port " + listen.host + ":" + std::to_string(listen.port) + ": " + describeSecurity(listen) +
          "; limits: " + std::to_string(listen.maxConnections) + " connections, idle " +
          std::to_string(listen.idleTimeout.count()) + " ms, read " + std::to_string(listen.readTimeout.count()) +
          " ms, frame " + std::to_string(listen.maxFrameBytes) + " bytes, string " +
          std::to_string(listen.maxStringBytes) + " bytes, container " + std::to_string(listen.maxContainerItems) +
          " items");
  if (listen.insecure) {
    logWarn("listen.insecure is true: the Thrift port " + listen.host + ":" + std::to_string(listen.port) +
            " takes reload requests over plain TCP from anyone who can reach it, without TLS or client "
            "certificates. Configure listen.tls instead");
  }
  return server;
}

WorkerServer::~WorkerServer() = default;

Status WorkerServer::serve() {
  try {
    server_->serve();
  } catch (const std::exception& e) {
    return Status::unavailable("cannot listen on " + address_ + ": " + e.what());
  }
  if (!stopping_) return Status::unavailable("the Thrift port " + address_ + " stopped accepting connections");
  return Status::ok();
}

void WorkerServer::stop() {
  stopping_ = true;
  server_->stop();
}

}  // namespace qlik_reload::worker
