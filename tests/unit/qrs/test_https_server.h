// An in-process HTTPS server for HttpQrsClient tests: Poco's HTTPServer on a
// SecureServerSocket bound to 127.0.0.1, port 0 (the kernel picks one), ready
// when the constructor returns. It requires a client certificate signed by
// the given CA (like QRS on 4242), answers each method+path from a script,
// and records every request with the connection it came on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace Poco {
class ThreadPool;
namespace Net {
class HTTPServer;
}
}  // namespace Poco

namespace qlik_reload::testing {

struct RecordedRequest {
  std::string method;
  std::string rawUri;  // path and query exactly as received (percent-encoded)
  std::string path;    // decoded
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;
  std::string connection;  // the client's address:port, one per TCP connection
  std::string body;

  // First header with this name (case-insensitive), or "" when absent.
  std::string header(const std::string& name) const;
  bool hasHeader(const std::string& name) const;
  // First query parameter with this exact name, or "" when absent.
  std::string queryValue(const std::string& name) const;
};

struct ScriptedAnswer {
  int status = 200;
  std::string body;
  std::string contentType = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // wait this long before answering (cut short when the server stops)
  bool closeWithoutAnswer = false;     // read the request, then close the connection
  bool closeAfterAnswer = false;       // answer (announcing keep-alive), then close the connection
};

// Plain-text answers in QRS's style.
ScriptedAnswer jsonAnswer(int status, std::string body);
ScriptedAnswer textAnswer(int status, std::string body);

class TestHttpsServer {
 public:
  struct Options {
    std::string certFile;
    std::string keyFile;
    std::string clientCaFile;  // client certificates must chain to this
    // TLS 1.2 checks the client certificate inside the handshake; TLS 1.3
    // only after it, so a refusal can reach the client as a reset instead of
    // an alert.
    bool tls12Only = false;
  };
  using Responder = std::function<ScriptedAnswer(const RecordedRequest&)>;

  explicit TestHttpsServer(Options options);
  ~TestHttpsServer();
  TestHttpsServer(const TestHttpsServer&) = delete;
  TestHttpsServer& operator=(const TestHttpsServer&) = delete;

  int port() const { return port_; }
  // "https://127.0.0.1:<port>"
  std::string url() const;

  // Answers for `method` `path` (decoded, no query), used in order; the last
  // one repeats. Unscripted paths get 404 "No matching endpoint found".
  void script(const std::string& method, const std::string& path, ScriptedAnswer answer);
  // A function computes the answer for every request to method+path.
  void respond(const std::string& method, const std::string& path, Responder responder);

  std::vector<RecordedRequest> requests() const;
  std::size_t requestCount() const;

  // Internal: called by the request handler.
  void handle(RecordedRequest request, const std::function<void(const ScriptedAnswer&)>& send);
  bool waitUnlessStopping(std::chrono::milliseconds delay);

 private:
  struct Route {
    std::deque<ScriptedAnswer> answers;
    Responder responder;
  };
  ScriptedAnswer pick(const RecordedRequest& request);

  mutable std::mutex mutex_;
  std::condition_variable stopping_;
  bool stopped_ = false;
  std::map<std::string, Route> routes_;
  std::vector<RecordedRequest> requests_;
  std::unique_ptr<Poco::ThreadPool> threads_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  int port_ = 0;
};

}  // namespace qlik_reload::testing
