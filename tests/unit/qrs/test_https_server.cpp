#include "test_https_server.h"

#include <signal.h>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

namespace qlik_reload::testing {
namespace {

class ScriptedHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit ScriptedHandler(TestHttpsServer& server) : server_(server) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    RecordedRequest recorded;
    recorded.method = request.getMethod();
    recorded.rawUri = request.getURI();
    try {
      Poco::URI uri(request.getURI());
      recorded.path = uri.getPath();
      for (const auto& parameter : uri.getQueryParameters()) recorded.query.push_back(parameter);
    } catch (const Poco::Exception&) {
      recorded.path = request.getURI();
    }
    for (const auto& header : request) recorded.headers.emplace_back(header.first, header.second);
    recorded.connection = request.clientAddress().toString();
    Poco::StreamCopier::copyToString(request.stream(), recorded.body);

    Poco::Net::StreamSocket& socket = static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
    server_.handle(std::move(recorded), [&](const ScriptedAnswer& answer) {
      // close(), not shutdown(): a shut-down TLS socket still reads, and the
      // server would go on serving requests on a connection it "closed".
      if (answer.delay.count() > 0 && !server_.waitUnlessStopping(answer.delay)) {
        socket.close();
        return;
      }
      if (answer.closeWithoutAnswer) {
        socket.close();
        return;
      }
      response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
      response.setContentType(answer.contentType);
      for (const auto& [name, value] : answer.headers) response.set(name, value);
      response.setContentLength(static_cast<std::streamsize>(answer.body.size()));
      std::ostream& out = response.send();
      out << answer.body;
      out.flush();
      if (answer.closeAfterAnswer) socket.close();
    });
  }

 private:
  TestHttpsServer& server_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(TestHttpsServer& server) : server_(server) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new ScriptedHandler(server_);
  }

 private:
  TestHttpsServer& server_;
};

std::string key(const std::string& method, const std::string& path) { return method + " " + path; }

}  // namespace

std::string RecordedRequest::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (Poco::icompare(key, name) == 0) return value;
  }
  return "";
}

bool RecordedRequest::hasHeader(const std::string& name) const {
  for (const auto& entry : headers) {
    if (Poco::icompare(entry.first, name) == 0) return true;
  }
  return false;
}

std::string RecordedRequest::queryValue(const std::string& name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return "";
}

ScriptedAnswer jsonAnswer(int status, std::string body) {
  ScriptedAnswer answer;
  answer.status = status;
  answer.body = std::move(body);
  return answer;
}

ScriptedAnswer textAnswer(int status, std::string body) {
  ScriptedAnswer answer;
  answer.status = status;
  answer.body = std::move(body);
  answer.contentType = "text/plain; charset=utf-8";
  return answer;
}

TestHttpsServer::TestHttpsServer(Options options) {
  // A client hanging up mid-answer must not end the test program.
  ::signal(SIGPIPE, SIG_IGN);
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, options.keyFile, options.certFile,
                             options.clientCaFile, Poco::Net::Context::VERIFY_STRICT, 9, false,
                             "HIGH:!aNULL:!MD5");
  // Without this, Poco checks the client certificate against the client's
  // IP address and rejects every client (toolchain.md P1).
  context->enableExtendedCertificateVerification(false);
  context->setInvalidCertificateHandler(new Poco::Net::RejectCertificateHandler(true));
  if (options.tls12Only) context->disableProtocols(Poco::Net::Context::PROTO_TLSV1_3);

  Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, context);
  port_ = socket.address().port();
  auto* params = new Poco::Net::HTTPServerParams;
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(1000);
  params->setKeepAliveTimeout(Poco::Timespan(30, 0));
  threads_ = std::make_unique<Poco::ThreadPool>(2, 32);
  server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), *threads_, socket, params);
  server_->start();
}

TestHttpsServer::~TestHttpsServer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  stopping_.notify_all();
  server_->stopAll(true);
  threads_->joinAll();
}

std::string TestHttpsServer::url() const { return "https://127.0.0.1:" + std::to_string(port_); }

void TestHttpsServer::script(const std::string& method, const std::string& path, ScriptedAnswer answer) {
  std::lock_guard<std::mutex> lock(mutex_);
  routes_[key(method, path)].answers.push_back(std::move(answer));
}

void TestHttpsServer::respond(const std::string& method, const std::string& path, Responder responder) {
  std::lock_guard<std::mutex> lock(mutex_);
  routes_[key(method, path)].responder = std::move(responder);
}

std::vector<RecordedRequest> TestHttpsServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

std::size_t TestHttpsServer::requestCount() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_.size();
}

ScriptedAnswer TestHttpsServer::pick(const RecordedRequest& request) {
  auto it = routes_.find(key(request.method, request.path));
  if (it == routes_.end()) return textAnswer(404, "No matching endpoint found");
  Route& route = it->second;
  if (route.responder) return route.responder(request);
  if (route.answers.empty()) return textAnswer(404, "No matching endpoint found");
  ScriptedAnswer answer = route.answers.front();
  if (route.answers.size() > 1) route.answers.pop_front();
  return answer;
}

void TestHttpsServer::handle(RecordedRequest request, const std::function<void(const ScriptedAnswer&)>& send) {
  ScriptedAnswer answer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    answer = pick(request);
    requests_.push_back(std::move(request));
  }
  send(answer);
}

bool TestHttpsServer::waitUnlessStopping(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !stopping_.wait_for(lock, delay, [&] { return stopped_; });
}

}  // namespace qlik_reload::testing
