#include "sim/simulator.h"

#include <pthread.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Path.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include "core/log.h"
#include "sim/callback_sender.h"
#include "sim/router.h"

namespace qlik_reload::sim {
namespace {

constexpr std::streamsize kMaxBodyBytes = 1 << 20;

CallbackSenderOptions senderOptions(const SimulatorOptions& options) {
  CallbackSenderOptions sender;
  sender.connectTimeout = options.callbackConnectTimeout;
  sender.ioTimeout = options.callbackIoTimeout;
  sender.threads = options.callbackThreads;
  if (!options.pkiDir.empty()) sender.caFile = Poco::Path(options.pkiDir, "root.pem").toString();
  return sender;
}

void writeReply(Poco::Net::HTTPServerResponse& response, const SimReply& reply) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
  for (const auto& [name, value] : reply.headers) response.set(name, value);
  if (reply.status == 204) {
    response.setContentLength(0);
    response.send();
    return;
  }
  response.setContentType(reply.contentType);
  response.setContentLength(static_cast<std::streamsize>(reply.body.size()));
  std::ostream& out = response.send();
  out.write(reply.body.data(), static_cast<std::streamsize>(reply.body.size()));
  out.flush();
}

// Drops the connection without an answer: no orderly TLS shutdown, and
// SO_LINGER 0 so the close sends a TCP reset.
void dropConnection(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  response.setKeepAlive(false);
  Poco::Net::StreamSocket& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
  try {
    socket.setLinger(true, 0);
  } catch (const Poco::Exception&) {
  }
  try {
    Poco::Net::SecureStreamSocket secure(socket);
    secure.abort();
  } catch (const Poco::Exception&) {
  }
  try {
    socket.close();
  } catch (const Poco::Exception&) {
  }
}

}  // namespace

class QrsSimulator::Impl {
 public:
  Impl(Scenario scenario, SimulatorOptions options, Clock& clock)
      : options_(std::move(options)),
        clock_(clock),
        engine_(scenario, clock, EngineOptions{options_.timeScale}),
        faults_(std::move(scenario.faults), scenario.seed, engine_),
        notifications_(engine_),
        router_(engine_, &faults_, &notifications_),
        sender_(senderOptions(options_), [this](const std::string& handle, bool delivered) {
          notifications_.noteDelivery(handle, delivered);
          engine_.countNotification(delivered);
        }) {}

  ~Impl() { stop(); }

  Status start();
  void stop();
  // The ticker (see simulator.h).
  void tick();
  // Wakes the ticker: a change was recorded or a subscription added.
  void poke();
  void stopTicker();
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);
  bool admitConnection() { return !faults_.onConnection(); }
  // Waits on the clock for a delay fault; stop() cuts the wait short.
  void delay(std::chrono::milliseconds duration);

  SimulatorOptions options_;
  Clock& clock_;
  SimEngine engine_;
  FaultInjector faults_;
  NotificationHub notifications_;
  Router router_;
  CallbackSender sender_;
  std::thread ticker_;
  std::mutex tickerMutex_;
  std::condition_variable tickerWake_;
  bool tickerPoked_ = false;
  bool tickerStopping_ = false;
  std::uint16_t port_ = 0;
  bool started_ = false;
  std::mutex delayMutex_;
  std::condition_variable delayWake_;
  bool stopping_ = false;
  Poco::Net::Context::Ptr context_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

namespace {

class RequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit RequestHandler(QrsSimulator::Impl& impl) : impl_(impl) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override;

 private:
  QrsSimulator::Impl& impl_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(QrsSimulator::Impl& impl) : impl_(impl) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new RequestHandler(impl_);
  }

 private:
  QrsSimulator::Impl& impl_;
};

// Runs on the accepting thread, before the TLS handshake (tls_fail, down).
class ConnectionGate : public Poco::Net::TCPServerConnectionFilter {
 public:
  explicit ConnectionGate(QrsSimulator::Impl& impl) : impl_(impl) {}
  bool accept(const Poco::Net::StreamSocket& socket) override {
    if (impl_.admitConnection()) return true;
    try {
      Poco::Net::StreamSocket copy(socket);
      copy.setLinger(true, 0);
    } catch (const Poco::Exception&) {
    }
    return false;
  }

 private:
  QrsSimulator::Impl& impl_;
};

}  // namespace

void RequestHandler::handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  impl_.serve(request, response);
}

void QrsSimulator::Impl::serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  SimRequest sim;
  try {
    sim.method = request.getMethod();
    Poco::URI uri(request.getURI());
    sim.path = uri.getPath();
    for (auto& parameter : uri.getQueryParameters()) sim.query.push_back(std::move(parameter));
    for (const auto& [name, value] : request) sim.headers.emplace_back(name, value);
    std::string body;
    Poco::StreamCopier::copyToString(request.stream(), body);
    if (static_cast<std::streamsize>(body.size()) > kMaxBodyBytes) {
      writeReply(response, SimReply::text(413, "Request body too large"));
      return;
    }
    sim.body = std::move(body);
    Poco::Net::SecureStreamSocket secure(static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket());
    if (secure.havePeerCertificate()) sim.clientCommonName = secure.peerCertificate().commonName();
  } catch (const Poco::Exception& e) {
    writeReply(response, SimReply::text(400, "Bad request: " + e.displayText()));
    return;
  }

  const bool hook = sim.path.rfind("/sim/", 0) == 0;
  std::optional<FaultRule> fault;
  if (!hook) fault = faults_.onRequest(sim.method, sim.path);
  if (options_.logRequests) {
    logInfo(sim.method + " " + sim.path + (fault ? " fault " + fault->actionText : std::string()));
  }
  if (!fault) {
    writeReply(response, router_.handle(sim));
    return;
  }
  switch (fault->action) {
    case FaultAction::kStatus: {
      router_.countOnly(sim);
      SimReply reply = SimReply::text(fault->status, Poco::Net::HTTPResponse::getReasonForStatus(
                                                         static_cast<Poco::Net::HTTPResponse::HTTPStatus>(fault->status)));
      if (fault->retryAfterSeconds || fault->status == 429) {
        reply.headers.emplace_back("Retry-After", std::to_string(fault->retryAfterSeconds.value_or(1)));
      }
      writeReply(response, reply);
      return;
    }
    case FaultAction::kResetBefore:
    case FaultAction::kDown:
    case FaultAction::kTlsFail:
      router_.countOnly(sim);
      dropConnection(request, response);
      return;
    case FaultAction::kResetAfter:
      (void)router_.handle(sim);
      dropConnection(request, response);
      return;
    case FaultAction::kDelay: {
      SimReply reply = router_.handle(sim);
      delay(std::chrono::milliseconds(fault->durationMs));
      writeReply(response, reply);
      return;
    }
    case FaultAction::kMalformedJson: {
      SimReply reply = router_.handle(sim);
      std::string broken = reply.body.substr(0, reply.body.size() / 2);
      if (broken.empty()) broken = "{\"value\":";
      writeReply(response, SimReply::json(200, broken));
      return;
    }
    case FaultAction::kTruncated: {
      SimReply reply = router_.handle(sim);
      if (reply.body.empty()) reply = SimReply::json(200, "{\"value\":null}");
      response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
      response.setContentType(reply.contentType);
      response.setContentLength(static_cast<std::streamsize>(reply.body.size()));
      try {
        std::ostream& out = response.send();
        out.write(reply.body.data(), static_cast<std::streamsize>(reply.body.size() / 2));
        out.flush();
      } catch (const Poco::Exception&) {
      }
      dropConnection(request, response);
      return;
    }
  }
}

void QrsSimulator::Impl::poke() {
  std::lock_guard<std::mutex> lock(tickerMutex_);
  tickerPoked_ = true;
  clock_.notifyAll(tickerWake_);
}

void QrsSimulator::Impl::tick() {
  pthread_setname_np(pthread_self(), "qrs-sim-ticker");
  std::unique_lock<std::mutex> lock(tickerMutex_);
  while (!tickerStopping_) {
    tickerPoked_ = false;
    lock.unlock();
    std::optional<Clock::TimePoint> next;
    if (notifications_.active()) {
      std::vector<EntityChange> changes = engine_.collectChanges();
      if (!changes.empty()) sender_.enqueue(notifications_.route(changes));
      next = engine_.nextTransitionAt();
    }
    lock.lock();
    if (tickerStopping_ || tickerPoked_) continue;
    if (next) {
      clock_.waitUntil(lock, tickerWake_, *next);
    } else {
      tickerWake_.wait(lock);
    }
  }
}

void QrsSimulator::Impl::stopTicker() {
  {
    std::lock_guard<std::mutex> lock(tickerMutex_);
    tickerStopping_ = true;
    clock_.notifyAll(tickerWake_);
  }
  if (ticker_.joinable()) ticker_.join();
}

void QrsSimulator::Impl::delay(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(delayMutex_);
  const Clock::TimePoint deadline = clock_.now() + duration;
  while (!stopping_ && clock_.now() < deadline) clock_.waitUntil(lock, delayWake_, deadline);
}

Status QrsSimulator::Impl::start() {
  if (started_) return Status::internal("qrs-sim: start() called twice");
  if (!(options_.timeScale > 0)) return Status::invalidArgument("time scale must be greater than 0");
  if (options_.maxThreads < 1 || options_.maxQueued < 1) {
    return Status::invalidArgument("maxThreads and maxQueued must be at least 1");
  }
  if (options_.pkiDir.empty()) return Status::invalidArgument("no PKI directory given");
  if (options_.callbackConnectTimeout.count() <= 0 || options_.callbackIoTimeout.count() <= 0 ||
      options_.callbackThreads < 1) {
    return Status::invalidArgument("callback timeouts must be positive and callbackThreads at least 1");
  }
  auto pkiFile = [&](const char* name) { return Poco::Path(options_.pkiDir, name).toString(); };
  const std::string certificate = pkiFile("server.pem");
  const std::string key = pkiFile("server_key.pem");
  const std::string root = pkiFile("root.pem");
  for (const std::string& path : {certificate, key, root}) {
    bool readable = false;
    try {
      Poco::File file(path);
      readable = file.exists() && file.isFile() && file.canRead();
    } catch (const Poco::Exception&) {
    }
    if (!readable) return Status::configuration("PKI file " + path + " is missing or unreadable");
  }
  try {
    Poco::Net::Context::Params params;
    params.certificateFile = certificate;
    params.privateKeyFile = key;
    params.caLocation = root;
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = 9;
    params.loadDefaultCAs = false;
    params.cipherList = "HIGH:!aNULL:!MD5";
    context_ = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    // Otherwise Poco compares each client certificate with the client's
    // address and rejects every one of them (toolchain.md pitfall P1).
    context_->enableExtendedCertificateVerification(false);
    context_->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  } catch (const Poco::Exception& e) {
    return Status::configuration("PKI in " + options_.pkiDir + " is not usable: " + e.displayText());
  }

  Status senderStarted = sender_.start();
  if (!senderStarted.isOk()) return senderStarted;
  engine_.setChangeListener([this] { poke(); });
  notifications_.setSubscriptionListener([this] { poke(); });
  ticker_ = std::thread([this] { tick(); });

  try {
    Poco::Net::SocketAddress address(options_.bindAddress, options_.port);
    // No SO_REUSEPORT: a second simulator on the same port must fail, not
    // share the connections.
    Poco::Net::SecureServerSocket socket(context_);
    socket.bind(address, true, false);
    socket.listen(256);
    port_ = socket.address().port();

    auto* params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(0);  // unlimited
    params->setKeepAliveTimeout(Poco::Timespan(15, 0));
    params->setTimeout(Poco::Timespan(60, 0));
    params->setMaxThreads(options_.maxThreads);
    params->setMaxQueued(options_.maxQueued);
    params->setServerName("qrs-sim");
    pool_ = std::make_unique<Poco::ThreadPool>("qrs-sim", 2, options_.maxThreads + 2);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(*this), *pool_, socket, params);
    server_->setConnectionFilter(new ConnectionGate(*this));
    server_->start();
  } catch (const Poco::Exception& e) {
    server_.reset();
    pool_.reset();
    port_ = 0;
    stopTicker();
    sender_.stop();
    return Status::unavailable("cannot listen on " + options_.bindAddress + ":" + std::to_string(options_.port) +
                               ": " + e.displayText());
  }
  started_ = true;
  return Status::ok();
}

void QrsSimulator::Impl::stop() {
  {
    std::lock_guard<std::mutex> lock(delayMutex_);
    stopping_ = true;
  }
  delayWake_.notify_all();
  try {
    if (server_) {
      server_->stopAll(true);
      server_.reset();
    }
    if (pool_) {
      pool_->joinAll();
      pool_.reset();
    }
  } catch (const Poco::Exception&) {
    // Shutting down: nothing useful to do with a failure here.
  }
  stopTicker();
  sender_.stop();
}

QrsSimulator::QrsSimulator(Scenario scenario, SimulatorOptions options, Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(scenario), std::move(options), clock)) {}

QrsSimulator::~QrsSimulator() = default;

Status QrsSimulator::start() { return impl_->start(); }

std::uint16_t QrsSimulator::port() const { return impl_->port_; }

void QrsSimulator::stop() { impl_->stop(); }

SimEngine& QrsSimulator::engine() { return impl_->engine_; }

FaultInjector& QrsSimulator::faults() { return impl_->faults_; }

NotificationHub& QrsSimulator::notifications() { return impl_->notifications_; }

}  // namespace qlik_reload::sim
