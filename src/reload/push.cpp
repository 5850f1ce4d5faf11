#include "reload/push.h"

#include <atomic>
#include <istream>
#include <set>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>

#include "core/guid.h"
#include "core/log.h"

namespace qlik_reload {
namespace {

constexpr const char* kPathPrefix = "/qrs-notify/";

}  // namespace

Result<std::vector<std::string>> parseChangeNotification(std::string_view body) {
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var document = parser.parse(std::string(body));
    if (document.type() != typeid(Poco::JSON::Array::Ptr)) {
      return Status::invalidArgument("a change notification is a JSON array of change records");
    }
    auto records = document.extract<Poco::JSON::Array::Ptr>();
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < records->size(); ++i) {
      Poco::JSON::Object::Ptr record = records->getObject(static_cast<unsigned>(i));
      if (record.isNull()) return Status::invalidArgument("change record " + std::to_string(i) + " is not an object");
      if (!record->has("objectType") || !record->has("objectID")) {
        return Status::invalidArgument("change record " + std::to_string(i) + " lacks objectType or objectID");
      }
      const Poco::Dynamic::Var type = record->get("objectType");
      const Poco::Dynamic::Var id = record->get("objectID");
      if (!type.isString() || !id.isString()) {
        return Status::invalidArgument("change record " + std::to_string(i) + ": objectType and objectID are strings");
      }
      if (type.extract<std::string>() != "ExecutionResult") continue;
      const std::string text = id.extract<std::string>();
      if (!isGuid(text)) return Status::invalidArgument("change record " + std::to_string(i) + ": objectID is not a GUID");
      ids.push_back(normalizeGuid(text));
    }
    return ids;
  } catch (const Poco::Exception& e) {
    return Status::invalidArgument("a change notification is not JSON: " + e.message().substr(0, 120));
  } catch (const std::exception& e) {
    return Status::invalidArgument(std::string("a change notification is not JSON: ") + e.what());
  }
}

namespace {

struct Shared {
  std::set<std::string> sites;
  PushReceiver::Sink sink;
  std::size_t maxBodyBytes;
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> rejected{0};
};

class CallbackHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit CallbackHandler(Shared& shared) : shared_(shared) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    using Poco::Net::HTTPResponse;
    const std::string& uri = request.getURI();
    std::string site = uri.rfind(kPathPrefix, 0) == 0 ? uri.substr(std::char_traits<char>::length(kPathPrefix)) : "";
    if (request.getMethod() != "POST" || shared_.sites.count(site) == 0) {
      ++shared_.rejected;
      reply(response, HTTPResponse::HTTP_NOT_FOUND, "not a notification endpoint of this worker");
      return;
    }
    std::string body;
    std::istream& in = request.stream();
    char buffer[8192];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      body.append(buffer, static_cast<std::size_t>(in.gcount()));
      if (body.size() > shared_.maxBodyBytes) {
        ++shared_.rejected;
        reply(response, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "notification too large");
        return;
      }
    }
    auto ids = parseChangeNotification(body);
    if (!ids.isOk()) {
      ++shared_.rejected;
      logWarn("push: ignored a malformed change notification for site " + site + ": " + ids.status().message());
      reply(response, HTTPResponse::HTTP_BAD_REQUEST, ids.status().message());
      return;
    }
    ++shared_.received;
    if (!ids.value().empty()) shared_.sink(site, std::move(ids).value());
    response.setStatus(HTTPResponse::HTTP_NO_CONTENT);
    response.send();
  }

 private:
  static void reply(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
                    const std::string& text) {
    response.setStatus(status);
    response.setContentType("text/plain");
    response.setContentLength(static_cast<std::streamsize>(text.size()));
    response.send() << text;
  }

  Shared& shared_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(Shared& shared) : shared_(shared) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new CallbackHandler(shared_);
  }

 private:
  Shared& shared_;
};

class PocoPushReceiver final : public PushReceiver {
 public:
  PocoPushReceiver(std::unique_ptr<Shared> shared, Poco::Net::ServerSocket socket, std::string base)
      : shared_(std::move(shared)), port_(socket.address().port()), base_(std::move(base)) {
    auto* params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(true);
    params->setMaxThreads(4);
    params->setMaxQueued(256);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*shared_), socket, params);
    server_->start();
    if (base_.empty()) base_ = "http://127.0.0.1:" + std::to_string(port_);
  }
  ~PocoPushReceiver() override { stop(); }

  int port() const override { return port_; }
  std::string callbackUrl(const std::string& site) const override { return base_ + kPathPrefix + site; }
  std::uint64_t received() const override { return shared_->received.load(); }
  std::uint64_t rejected() const override { return shared_->rejected.load(); }
  void stop() override {
    if (server_) {
      server_->stopAll(true);
      server_.reset();
    }
  }

 private:
  std::unique_ptr<Shared> shared_;
  int port_;
  std::string base_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace

Result<std::unique_ptr<PushReceiver>> PushReceiver::start(const PushOptions& options, std::vector<std::string> sites,
                                                          Sink sink) {
  auto shared = std::make_unique<Shared>();
  shared->sites = std::set<std::string>(sites.begin(), sites.end());
  shared->sink = std::move(sink);
  shared->maxBodyBytes = options.maxBodyBytes;
  try {
    const Poco::Net::SocketAddress address(options.host, static_cast<Poco::UInt16>(options.port));
    Poco::Net::ServerSocket socket;
    std::string scheme = "http";
    if (!options.certFile.empty() && !options.keyFile.empty()) {
      Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, options.keyFile,
                                                               options.certFile, "", Poco::Net::Context::VERIFY_NONE);
      socket = Poco::Net::SecureServerSocket(address, 64, context);
      scheme = "https";
    } else {
      socket = Poco::Net::ServerSocket(address, 64);
    }
    std::string base = options.publicUrl;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.empty()) base = scheme + "://" + options.host + ":" + std::to_string(socket.address().port());
    return std::unique_ptr<PushReceiver>(std::make_unique<PocoPushReceiver>(std::move(shared), socket, base));
  } catch (const Poco::Exception& e) {
    return Status::configuration("push.listen: cannot listen on " + options.host + ":" + std::to_string(options.port) +
                                 ": " + e.displayText());
  }
}

}  // namespace qlik_reload
