#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <chrono>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include "core/guid.h"
#include "core/log.h"
#include "qrs/filter.h"
#include "qrs/http_client.h"
#include "qrs/xrfkey.h"
#include "test_https_server.h"
#include "test_pki.h"

using namespace qlik_reload;
using namespace qlik_reload::qrs;
using namespace qlik_reload::testing;
using std::chrono::milliseconds;

namespace {

const std::string kTask = "7f3c0000-1111-4222-8333-444455556666";
const std::string kExecution = "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b";
const std::string kResult = "9b1f0a2c-0000-4000-8000-000000000001";
const std::string kAboutBody = R"({"buildVersion":"30.4.0.0","nodeType":1,"schemaPath":"About"})";

TestHttpsServer::Options siteServer() {
  return {sitePki().serverCert(), sitePki().serverKey(), sitePki().rootCert()};
}

struct Fixture {
  TestHttpsServer server{siteServer()};

  ConnectionOptions options() const {
    ConnectionOptions o;
    o.url = server.url();
    o.clientCertFile = sitePki().clientCert();
    o.clientKeyFile = sitePki().clientKey();
    o.caFile = sitePki().rootCert();
    o.verify = TlsVerify::kFull;
    o.serverName = "qlikserver1";  // the certificate names qlikserver1; we connect to 127.0.0.1
    o.connectTimeout = milliseconds(5000);
    o.readTimeout = milliseconds(5000);
    return o;
  }

  static std::unique_ptr<HttpQrsClient> make(const ConnectionOptions& o) {
    Result<std::unique_ptr<HttpQrsClient>> client = HttpQrsClient::create(o);
    CAPTURE(client.status().toString());
    REQUIRE(client.isOk());
    return std::move(client).value();
  }

  std::unique_ptr<HttpQrsClient> client() const { return make(options()); }
};

// Captures log lines while alive.
class LogCapture {
 public:
  LogCapture() {
    setLogSink([this](LogLevel, const std::string& line) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.push_back(line);
    });
  }
  ~LogCapture() { setLogSink(nullptr); }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

std::string resultJson(const std::string& executionId) {
  return R"({"id":")" + newGuid() + R"(","executionID":")" + executionId + R"(","status":7})";
}

}  // namespace

TEST_CASE_METHOD(Fixture, "Every request carries a fresh xrfkey in header and query, and X-Qlik-User",
                 "[http][headers]") {
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  auto qrs = client();
  REQUIRE(qrs->about().isOk());
  Result<AboutInfo> about = qrs->about();
  REQUIRE(about.isOk());
  CHECK(about->buildVersion == "30.4.0.0");

  std::vector<RecordedRequest> requests = server.requests();
  REQUIRE(requests.size() == 2);
  for (const RecordedRequest& request : requests) {
    CAPTURE(request.rawUri);
    CHECK(request.method == "GET");
    CHECK(request.path == "/qrs/about");
    CHECK(isXrfKey(request.header("X-Qlik-Xrfkey")));
    CHECK(request.header("X-Qlik-Xrfkey") == request.queryValue("xrfkey"));
    CHECK(request.header("X-Qlik-User") == "UserDirectory=INTERNAL; UserId=sa_scheduler");
    CHECK(request.header("Content-Type") == "application/json");
    CHECK(request.header("Accept") == "application/json");
  }
  CHECK(requests[0].header("X-Qlik-Xrfkey") != requests[1].header("X-Qlik-Xrfkey"));
}

TEST_CASE_METHOD(Fixture, "startTask POSTs an empty body and accepts both reply shapes", "[http][start]") {
  const std::string path = "/qrs/task/" + kTask + "/start/synchronous";
  server.script("POST", path, jsonAnswer(201, R"({"value":")" + kExecution + R"("})"));
  server.script("POST", path, jsonAnswer(201, "\"" + kExecution + "\""));
  auto o = options();
  o.userDirectory = "CORP";
  o.userId = "svc_reload";
  auto qrs = make(o);

  for (int i = 0; i < 2; ++i) {
    Result<StartReply> reply = qrs->startTask(kTask);
    CAPTURE(i, reply.status().toString());
    REQUIRE(reply.isOk());
    CHECK(reply->executionId == kExecution);
  }
  std::vector<RecordedRequest> requests = server.requests();
  REQUIRE(requests.size() == 2);
  for (const RecordedRequest& request : requests) {
    CHECK(request.method == "POST");
    CHECK(request.path == path);
    CHECK(request.header("Content-Length") == "0");
    CHECK(request.body.empty());
    CHECK(request.header("X-Qlik-User") == "UserDirectory=CORP; UserId=svc_reload");
    CHECK(request.header("X-Qlik-Xrfkey") == request.queryValue("xrfkey"));
  }
}

TEST_CASE_METHOD(Fixture, "startTaskByName sends the name as a query parameter", "[http][start]") {
  server.script("POST", "/qrs/task/start/synchronous", jsonAnswer(201, R"({"value":")" + kExecution + R"("})"));
  auto qrs = client();
  Result<StartReply> reply = qrs->startTaskByName("Reload Sales & Co #1");
  REQUIRE(reply.isOk());
  RecordedRequest request = server.requests().at(0);
  CHECK(request.queryValue("name") == "Reload Sales & Co #1");
  CHECK_THAT(request.rawUri, Catch::Contains("name=Reload%20Sales%20%26%20Co%20%231"));
}

TEST_CASE_METHOD(Fixture, "Query strings are built percent-encoded", "[http][query]") {
  server.script("GET", "/qrs/reloadtask",
                jsonAnswer(200, R"([{"id":")" + kTask + R"(","name":"Q1'25 & more #1","enabled":true}])"));
  auto qrs = client();
  Result<std::vector<ReloadTaskInfo>> tasks = qrs->findReloadTasksByName("Q1'25 & more #1");
  REQUIRE(tasks.isOk());
  REQUIRE(tasks->size() == 1);
  CHECK((*tasks)[0].id == kTask);

  RecordedRequest request = server.requests().at(0);
  CAPTURE(request.rawUri);
  CHECK(request.queryValue("filter") == "name eq 'Q1\\'25 & more #1'");
  CHECK_THAT(request.rawUri,
             Catch::StartsWith("/qrs/reloadtask?filter=name%20eq%20%27Q1%5C%2725%20%26%20more%20%231%27&xrfkey="));
}

TEST_CASE_METHOD(Fixture, "startTask maps 404 to kNotFound quoting QRS", "[http][start]") {
  auto qrs = client();
  Result<StartReply> reply = qrs->startTask(kTask);
  REQUIRE_FALSE(reply.isOk());
  CHECK(reply.status().code() == ErrorCode::kNotFound);
  CHECK(reply.status().httpStatus() == 404);
  CHECK(reply.status().message() == "start task " + kTask + ": QRS 404 No matching endpoint found");
}

TEST_CASE_METHOD(Fixture, "Ids that are not GUIDs never reach QRS", "[http][validation]") {
  auto qrs = client();
  std::vector<Status> failures = {
      qrs->startTask("abc").status(),
      qrs->startTask(kTask + "/../../about").status(),
      qrs->stopTask("1 or 1"),
      qrs->getExecutionSession("").status(),
      qrs->findExecutionSessionsOfTask("x").status(),
      qrs->getExecutionResults({kExecution, "bad"}).status(),
      qrs->scriptLogTicket(kTask, "x").status(),
      qrs->legacyScriptLogTicket("x", kResult).status(),
      qrs->downloadScriptLog("../../etc/passwd", 100).status(),
      qrs->downloadScriptLog("", 100).status(),
      qrs->startTaskByName("").status(),
      qrs->findReloadTasksByName("").status(),
      qrs->findReloadTasksByName(std::string(5000, 'n')).status(),
  };
  for (const Status& failure : failures) {
    CAPTURE(failure.toString());
    CHECK(failure.code() == ErrorCode::kInvalidArgument);
  }
  CHECK(server.requestCount() == 0);
}

TEST_CASE_METHOD(Fixture, "getExecutionSession: 404 means gone, 200 decodes", "[http][session]") {
  const std::string path = "/qrs/executionsession/" + kExecution;
  server.script("GET", path,
                jsonAnswer(200, R"({"id":")" + kExecution + R"(","reloadTask":{"id":")" + kTask +
                                    R"(","name":"Sales"},"executionResult":{"id":")" + kResult + R"(","status":2}})"));
  server.script("GET", path, textAnswer(404, "Not found"));
  auto qrs = client();
  Result<std::optional<ExecutionSession>> running = qrs->getExecutionSession(kExecution);
  REQUIRE(running.isOk());
  REQUIRE(running->has_value());
  CHECK((*running)->taskId == kTask);
  CHECK((*running)->executionResult->status == kStarted);

  Result<std::optional<ExecutionSession>> gone = qrs->getExecutionSession(kExecution);
  REQUIRE(gone.isOk());
  CHECK_FALSE(gone->has_value());
}

TEST_CASE_METHOD(Fixture, "Answers are classified by status", "[http][classify]") {
  ScriptedAnswer tooMany = textAnswer(429, "Too many requests");
  tooMany.headers.emplace_back("Retry-After", "7");
  struct Case {
    const char* name;
    ScriptedAnswer answer;
    ErrorCode code;
    const char* fragment;
  };
  std::vector<Case> cases = {
      {"xsrf 403", textAnswer(403, "XSRF prevention check failed. Possible XSRF discovered."), ErrorCode::kProtocol,
       "QRS rejected the xrfkey"},
      {"other 403", textAnswer(403, "Forbidden for you"), ErrorCode::kAccessDenied, "QRS 403 Forbidden for you"},
      {"401", textAnswer(401, ""), ErrorCode::kAccessDenied, "QRS 401"},
      {"400", textAnswer(400, "Cannot parse the expression: x"), ErrorCode::kRejected, "Cannot parse the expression"},
      {"429", tooMany, ErrorCode::kUnavailable, "QRS 429 Too many requests"},
      {"503", textAnswer(503, "Service Unavailable"), ErrorCode::kUnavailable, "QRS 503"},
      {"garbage json", jsonAnswer(200, "{\"buildVersion\":"), ErrorCode::kProtocol, "about: about: invalid JSON"},
      {"wrong shape", jsonAnswer(200, "[]"), ErrorCode::kProtocol, "about: expected an object, got array"},
  };
  for (Case& c : cases) {
    CAPTURE(c.name);
    TestHttpsServer fresh(siteServer());
    fresh.script("GET", "/qrs/about", c.answer);
    auto o = options();
    o.url = fresh.url();
    auto qrs = make(o);
    Result<AboutInfo> about = qrs->about();
    REQUIRE_FALSE(about.isOk());
    CAPTURE(about.status().toString());
    CHECK(about.status().code() == c.code);
    CHECK(about.status().httpStatus() == c.answer.status);
    CHECK_THAT(about.status().message(), Catch::Contains(c.fragment));
    if (c.answer.status == 429) {
      REQUIRE(about.status().retryAfter().has_value());
      CHECK(*about.status().retryAfter() == milliseconds(7000));
    }
  }
}

TEST_CASE_METHOD(Fixture, "An oversized answer is a protocol error and its connection is dropped", "[http][limits]") {
  server.script("GET", "/qrs/about", jsonAnswer(200, std::string(50000, ' ') + kAboutBody));
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  auto o = options();
  o.maxResponseBytes = 1000;
  auto qrs = make(o);
  Result<AboutInfo> big = qrs->about();
  REQUIRE_FALSE(big.isOk());
  CHECK(big.status().code() == ErrorCode::kProtocol);
  CHECK_THAT(big.status().message(), Catch::Contains("about: answer larger than 1000 bytes"));

  REQUIRE(qrs->about().isOk());
  std::vector<RecordedRequest> requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].connection != requests[1].connection);
}

TEST_CASE_METHOD(Fixture, "A long error answer is cut, not turned into a protocol error", "[http][limits]") {
  server.script("GET", "/qrs/about", textAnswer(503, "Busy " + std::string(200000, '.')));
  auto o = options();
  o.maxResponseBytes = 1000;
  auto qrs = make(o);
  Result<AboutInfo> busy = qrs->about();
  REQUIRE_FALSE(busy.isOk());
  CHECK(busy.status().code() == ErrorCode::kUnavailable);
  CHECK(busy.status().httpStatus() == 503);
  CHECK_THAT(busy.status().message(), Catch::StartsWith("about: QRS 503 Busy ...."));
}

TEST_CASE_METHOD(Fixture, "A server that closes without answering is unavailable, and not asked twice",
                 "[http][transport]") {
  ScriptedAnswer hangUp;
  hangUp.closeWithoutAnswer = true;
  server.script("GET", "/qrs/about", hangUp);
  auto qrs = client();
  Result<AboutInfo> about = qrs->about();
  REQUIRE_FALSE(about.isOk());
  CAPTURE(about.status().toString());
  CHECK(about.status().code() == ErrorCode::kUnavailable);
  CHECK(about.status().httpStatus() == 0);
  CHECK_THAT(about.status().message(), Catch::StartsWith("about: "));
  CHECK_FALSE(about.status().notSent());  // it reached the server
  CHECK(server.requestCount() == 1);
}

TEST_CASE_METHOD(Fixture, "A read timeout is unavailable and comes on time", "[http][transport]") {
  ScriptedAnswer slow = jsonAnswer(200, kAboutBody);
  slow.delay = milliseconds(10000);
  server.script("GET", "/qrs/about", slow);
  auto o = options();
  o.readTimeout = milliseconds(300);
  auto qrs = make(o);
  const auto started = std::chrono::steady_clock::now();
  Result<AboutInfo> about = qrs->about();
  const auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(about.isOk());
  CAPTURE(about.status().toString());
  CHECK(about.status().code() == ErrorCode::kUnavailable);
  CHECK_THAT(about.status().message(), Catch::Contains("read timeout"));
  CHECK(elapsed >= milliseconds(250));
  CHECK(elapsed < milliseconds(3000));
  CHECK(server.requestCount() == 1);
}

TEST_CASE_METHOD(Fixture, "Keep-alive: consecutive calls share one connection", "[http][pool]") {
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  auto qrs = client();
  for (int i = 0; i < 5; ++i) REQUIRE(qrs->about().isOk());
  std::set<std::string> connections;
  for (const RecordedRequest& request : server.requests()) connections.insert(request.connection);
  CHECK(server.requestCount() == 5);
  CHECK(connections.size() == 1);
}

TEST_CASE_METHOD(Fixture, "A GET that gets no answer on a reused connection is sent once more on a new one",
                 "[http][pool]") {
  ScriptedAnswer hangUp;
  hangUp.closeWithoutAnswer = true;
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  server.script("GET", "/qrs/about", hangUp);
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  auto qrs = client();
  REQUIRE(qrs->about().isOk());
  Result<AboutInfo> second = qrs->about();
  CAPTURE(second.status().toString());
  REQUIRE(second.isOk());
  std::vector<RecordedRequest> requests = server.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[1].connection == requests[0].connection);  // the pooled connection, which got no answer
  CHECK(requests[2].connection != requests[0].connection);  // the one re-send, on a new connection
}

TEST_CASE_METHOD(Fixture, "A GET is re-sent at most once", "[http][pool]") {
  ScriptedAnswer hangUp;
  hangUp.closeWithoutAnswer = true;
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  server.script("GET", "/qrs/about", hangUp);
  auto qrs = client();
  REQUIRE(qrs->about().isOk());
  Result<AboutInfo> second = qrs->about();
  REQUIRE_FALSE(second.isOk());
  CHECK(second.status().code() == ErrorCode::kUnavailable);
  CHECK(server.requestCount() == 3);
}

TEST_CASE_METHOD(Fixture, "A POST that gets no answer on a reused connection is never re-sent", "[http][pool]") {
  ScriptedAnswer hangUp;
  hangUp.closeWithoutAnswer = true;
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  server.script("POST", "/qrs/task/" + kTask + "/start/synchronous", hangUp);
  auto qrs = client();
  REQUIRE(qrs->about().isOk());
  Result<StartReply> start = qrs->startTask(kTask);
  REQUIRE_FALSE(start.isOk());
  CAPTURE(start.status().toString());
  CHECK(start.status().code() == ErrorCode::kUnavailable);
  CHECK_THAT(start.status().message(), Catch::StartsWith("start task " + kTask + ": "));
  std::vector<RecordedRequest> requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].method == "POST");
  CHECK(requests[1].connection == requests[0].connection);
}

TEST_CASE_METHOD(Fixture, "A pooled connection the server closed while idle is replaced", "[http][pool]") {
  ScriptedAnswer thenClose = jsonAnswer(200, kAboutBody);
  thenClose.closeAfterAnswer = true;
  server.script("GET", "/qrs/about", thenClose);
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  auto qrs = client();
  REQUIRE(qrs->about().isOk());
  Result<AboutInfo> second = qrs->about();
  CAPTURE(second.status().toString());
  REQUIRE(second.isOk());
  std::vector<RecordedRequest> requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].connection != requests[1].connection);
}

TEST_CASE_METHOD(Fixture, "A POST on a pooled connection the server closed while idle reaches QRS at most once",
                 "[http][pool]") {
  // It either fails (sent on the dead connection) or went out once on a new
  // connection (Poco reconnects when the write itself fails, before QRS could
  // read anything); it never reaches QRS twice.
  ScriptedAnswer thenClose = jsonAnswer(200, kAboutBody);
  thenClose.closeAfterAnswer = true;
  server.script("GET", "/qrs/about", thenClose);
  server.script("POST", "/qrs/task/" + kTask + "/start/synchronous",
                jsonAnswer(201, R"({"value":")" + kExecution + R"("})"));
  auto qrs = client();
  REQUIRE(qrs->about().isOk());
  Result<StartReply> start = qrs->startTask(kTask);
  CAPTURE(start.status().toString());
  std::size_t posts = 0;
  for (const RecordedRequest& request : server.requests()) posts += request.method == "POST" ? 1 : 0;
  if (start.isOk()) {
    CHECK(posts == 1);
  } else {
    CHECK(start.status().code() == ErrorCode::kUnavailable);
    CHECK(posts == 0);
  }
}

TEST_CASE("A refused connection is unavailable", "[http][transport]") {
  int port = 0;
  {
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    port = probe.address().port();
  }
  ConnectionOptions o;
  o.url = "https://127.0.0.1:" + std::to_string(port);
  o.clientCertFile = sitePki().clientCert();
  o.clientKeyFile = sitePki().clientKey();
  o.caFile = sitePki().rootCert();
  o.serverName = "qlikserver1";
  o.connectTimeout = milliseconds(2000);
  auto qrs = Fixture::make(o);
  Result<AboutInfo> about = qrs->about();
  REQUIRE_FALSE(about.isOk());
  CAPTURE(about.status().toString());
  CHECK(about.status().code() == ErrorCode::kUnavailable);
  CHECK_THAT(about.status().message(), Catch::Contains("connection refused"));
  CHECK(about.status().notSent());
}

TEST_CASE_METHOD(Fixture, "TLS verification outcomes against a certificate for qlikserver1 on 127.0.0.1",
                 "[http][tls]") {
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  struct Case {
    const char* name;
    TlsVerify verify;
    std::string serverName;
    std::string caFile;
    ErrorCode code;
    std::string fragment;
  };
  std::vector<Case> cases = {
      {"full, server_name matches", TlsVerify::kFull, "qlikserver1", sitePki().rootCert(), ErrorCode::kOk, ""},
      {"full, no server_name", TlsVerify::kFull, "", sitePki().rootCert(), ErrorCode::kServerUntrusted,
       "IP address mismatch"},
      {"full, wrong server_name", TlsVerify::kFull, "qlikserver2", sitePki().rootCert(), ErrorCode::kServerUntrusted,
       "hostname mismatch"},
      {"full, other CA", TlsVerify::kFull, "qlikserver1", otherPki().rootCert(), ErrorCode::kServerUntrusted,
       "did not verify against ca_file " + otherPki().rootCert() + " / name qlikserver1"},
      {"chain", TlsVerify::kChain, "", sitePki().rootCert(), ErrorCode::kOk, ""},
      {"chain, other CA", TlsVerify::kChain, "", otherPki().rootCert(), ErrorCode::kServerUntrusted,
       "did not verify against ca_file"},
      {"none, other CA", TlsVerify::kNone, "", otherPki().rootCert(), ErrorCode::kOk, ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    auto o = options();
    o.verify = c.verify;
    o.serverName = c.serverName;
    o.caFile = c.caFile;
    auto qrs = make(o);
    Result<AboutInfo> about = qrs->about();
    CAPTURE(about.status().toString());
    CHECK(about.status().code() == c.code);
    CHECK_THAT(about.status().message(), Catch::Contains(c.fragment));
  }
}

TEST_CASE_METHOD(Fixture, "verify none warns loudly, naming the site", "[http][tls]") {
  LogCapture log;
  auto o = options();
  o.verify = TlsVerify::kNone;
  o.serverName = "";
  auto qrs = make(o);
  bool warned = false;
  for (const std::string& line : log.lines()) {
    warned = warned || (line.find("WARN") != std::string::npos &&
                        line.find("TLS verification is OFF for " + server.url()) != std::string::npos);
  }
  CHECK(warned);
}

TEST_CASE_METHOD(Fixture, "A verify-none client does not weaken another client's verification", "[http][tls]") {
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  auto lax = options();
  lax.verify = TlsVerify::kNone;
  lax.serverName = "";
  lax.caFile = otherPki().rootCert();
  auto laxClient = make(lax);
  REQUIRE(laxClient->about().isOk());

  auto strict = options();
  strict.caFile = otherPki().rootCert();
  auto strictClient = make(strict);
  CHECK(strictClient->about().status().code() == ErrorCode::kServerUntrusted);
  REQUIRE(laxClient->about().isOk());
}

TEST_CASE_METHOD(Fixture, "A client certificate from another CA is refused by QRS: access denied", "[http][tls]") {
  // TLS 1.2, as on Windows QRS hosts: the refusal is an alert inside the handshake.
  TestHttpsServer::Options tls12 = siteServer();
  tls12.tls12Only = true;
  TestHttpsServer qrsServer(tls12);
  qrsServer.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  auto o = options();
  o.url = qrsServer.url();
  o.clientCertFile = otherPki().clientCert();
  o.clientKeyFile = otherPki().clientKey();
  auto qrs = make(o);
  for (int i = 0; i < 3; ++i) {
    Result<AboutInfo> about = qrs->about();
    REQUIRE_FALSE(about.isOk());
    CAPTURE(about.status().toString());
    CHECK(about.status().code() == ErrorCode::kAccessDenied);
    CHECK_THAT(about.status().message(), Catch::Contains("refused our client certificate"));
  }
  CHECK(qrsServer.requestCount() == 0);
}

TEST_CASE_METHOD(Fixture, "Over TLS 1.3 a refused client certificate is access denied or a hinted reset",
                 "[http][tls]") {
  // TLS 1.3 servers check the client certificate after the handshake; when
  // they close on a request they did not read, the reset can overtake the
  // alert. Either way the call fails, is never OK, and the message says why.
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  auto o = options();
  o.clientCertFile = otherPki().clientCert();
  o.clientKeyFile = otherPki().clientKey();
  auto qrs = make(o);
  for (int i = 0; i < 5; ++i) {
    Result<AboutInfo> about = qrs->about();
    REQUIRE_FALSE(about.isOk());
    CAPTURE(about.status().toString());
    if (about.status().code() == ErrorCode::kAccessDenied) {
      CHECK_THAT(about.status().message(), Catch::Contains("refused our client certificate"));
    } else {
      CHECK(about.status().code() == ErrorCode::kUnavailable);
      CHECK_THAT(about.status().message(), Catch::Contains("QRS may have refused our client certificate"));
    }
  }
  CHECK(server.requestCount() == 0);
}

TEST_CASE_METHOD(Fixture, "create() refuses broken options with kConfiguration", "[http][create]") {
  TempDir dir;
  const std::string passphrase = "Sup3r-Secret-Phrase";
  std::string encrypted = dir.file("enc_key.pem");
  REQUIRE(runCommand("openssl pkey -in " + sitePki().clientKey() + " -aes256 -passout pass:" + passphrase + " -out " +
                     encrypted + " 2>/dev/null"));
  struct Case {
    const char* name;
    std::function<void(ConnectionOptions&)> change;
    const char* fragment;
  };
  std::vector<Case> cases = {
      {"key of another certificate", [](ConnectionOptions& o) { o.clientKeyFile = otherPki().clientKey(); },
       "client_key does not match client_cert"},
      {"plain http", [](ConnectionOptions& o) { o.url = "http://127.0.0.1:4242"; }, "only https"},
      {"no host", [](ConnectionOptions& o) { o.url = "https://"; }, "no host"},
      {"user id with ;", [](ConnectionOptions& o) { o.userId = "a; UserId=sa_repository"; }, "user_id"},
      {"user directory with newline", [](ConnectionOptions& o) { o.userDirectory = "A\r\nX-Evil: 1"; },
       "user_directory"},
      {"no CA with verify full", [](ConnectionOptions& o) { o.caFile = ""; }, "ca_file is required"},
      {"missing CA file", [&](ConnectionOptions& o) { o.caFile = dir.file("missing.pem"); }, "cannot read ca_file"},
      {"server_name with chain", [](ConnectionOptions& o) { o.verify = TlsVerify::kChain; }, "server_name"},
      {"encrypted key, wrong passphrase",
       [&](ConnectionOptions& o) {
         o.clientKeyFile = encrypted;
         o.clientKeyPassphrase = passphrase + "-wrong";
       },
       "could not be decrypted"},
      {"encrypted key, no passphrase", [&](ConnectionOptions& o) { o.clientKeyFile = encrypted; },
       "is encrypted and no passphrase was given"},
      {"zero timeout", [](ConnectionOptions& o) { o.readTimeout = milliseconds(0); }, "timeouts"},
      {"no connections", [](ConnectionOptions& o) { o.maxConnections = 0; }, "maxConnections"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    ConnectionOptions o = options();
    c.change(o);
    Result<std::unique_ptr<HttpQrsClient>> client = HttpQrsClient::create(o);
    REQUIRE_FALSE(client.isOk());
    CAPTURE(client.status().toString());
    CHECK(client.status().code() == ErrorCode::kConfiguration);
    CHECK_THAT(client.status().message(), Catch::Contains(c.fragment));
    CHECK_THAT(client.status().message(), !Catch::Contains(passphrase));
  }

  ConnectionOptions good = options();
  good.clientKeyFile = encrypted;
  good.clientKeyPassphrase = passphrase;
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  auto qrs = make(good);
  CHECK(qrs->about().isOk());
}

TEST_CASE_METHOD(Fixture, "getExecutionResults chunks long id lists and keeps the order", "[http][results]") {
  server.respond("GET", "/qrs/executionresult/full", [](const RecordedRequest& request) {
    static const std::regex kGuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    std::string filter = request.queryValue("filter");
    std::string body = "[";
    for (auto it = std::sregex_iterator(filter.begin(), filter.end(), kGuid); it != std::sregex_iterator(); ++it) {
      if (body.size() > 1) body += ",";
      body += resultJson(it->str());
    }
    return jsonAnswer(200, body + "]");
  });
  std::vector<std::string> ids;
  for (int i = 0; i < 150; ++i) ids.push_back(newGuid());
  std::vector<std::string> asked = ids;
  asked.push_back(ids[3]);  // duplicates are asked for once
  asked[5] = normalizeGuid(ids[5]);

  auto qrs = client();
  Result<std::vector<ExecutionResult>> results = qrs->getExecutionResults(asked);
  CAPTURE(results.status().toString());
  REQUIRE(results.isOk());
  std::vector<std::string> got;
  for (const ExecutionResult& result : *results) got.push_back(result.executionId);
  CHECK(got == ids);

  std::vector<RecordedRequest> requests = server.requests();
  CHECK(requests.size() > 1);
  for (const RecordedRequest& request : requests) {
    CAPTURE(request.rawUri.size());
    CHECK(request.rawUri.size() <= ConnectionOptions().maxUrlLength);
    CHECK_THAT(request.queryValue("filter"), Catch::StartsWith("(ExecutionId eq "));
  }

  Result<std::vector<ExecutionResult>> none = qrs->getExecutionResults({});
  REQUIRE(none.isOk());
  CHECK(none->empty());
  CHECK(server.requestCount() == requests.size());
}

TEST_CASE_METHOD(Fixture, "Script log: tickets, and a download that keeps only the tail", "[http][log]") {
  const std::string ticket = "5f1e7a10-0000-4000-8000-00000000000a";
  server.script("GET", "/qrs/reloadtask/" + kTask + "/scriptlogfile",
                jsonAnswer(200, R"({"value":")" + ticket + R"("})"));
  server.script("GET", "/qrs/reloadtask/" + kTask + "/scriptlog", jsonAnswer(200, R"({"value":"legacy-ticket"})"));
  std::string log;
  for (int i = 0; log.size() < 200000; ++i) log += "line " + std::to_string(i) + "\r\n";
  ScriptedAnswer download = textAnswer(200, log);
  download.contentType = "application/unknown";
  server.script("GET", "/qrs/download/reloadtask/" + ticket + "/scriptlog.txt", download);

  auto o = options();
  o.maxResponseBytes = 4096;  // the log download is not bound by it
  auto qrs = make(o);
  Result<std::string> fresh = qrs->scriptLogTicket(kTask, kResult);
  REQUIRE(fresh.isOk());
  CHECK(*fresh == ticket);
  Result<std::string> legacy = qrs->legacyScriptLogTicket(kTask, kResult);
  REQUIRE(legacy.isOk());
  CHECK(*legacy == "legacy-ticket");
  Result<std::string> tail = qrs->downloadScriptLog(*fresh, 1000);
  CAPTURE(tail.status().toString());
  REQUIRE(tail.isOk());
  CHECK(*tail == log.substr(log.size() - 1000));
  Result<std::string> whole = qrs->downloadScriptLog(*fresh, 1 << 20);
  REQUIRE(whole.isOk());
  CHECK(*whole == log);

  std::vector<RecordedRequest> requests = server.requests();
  REQUIRE(requests.size() == 4);
  CHECK(requests[0].queryValue("executionResultId") == kResult);
  CHECK(requests[1].queryValue("fileReferenceId") == kResult);
  CHECK(requests[2].header("Accept") == "*/*");

  Result<std::string> missing = qrs->downloadScriptLog("0000", 100);
  CHECK(missing.status().code() == ErrorCode::kNotFound);
}

TEST_CASE_METHOD(Fixture, "stopTask and findExecutionSessionsOfTask use QRS's paths", "[http][paths]") {
  server.script("POST", "/qrs/task/" + kTask + "/stop", textAnswer(204, ""));
  server.script("GET", "/qrs/executionsession/full", jsonAnswer(200, R"([{"id":")" + kExecution + R"("}])"));
  auto qrs = client();
  CHECK(qrs->stopTask(kTask).isOk());
  Result<std::vector<ExecutionSession>> sessions = qrs->findExecutionSessionsOfTask(kTask);
  REQUIRE(sessions.isOk());
  REQUIRE(sessions->size() == 1);
  CHECK((*sessions)[0].id == kExecution);
  std::vector<RecordedRequest> requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].header("Content-Length") == "0");
  CHECK(requests[1].queryValue("filter") == "reloadTask.id eq " + kTask);

  Status stopUnknown = qrs->stopTask("00000000-0000-4000-8000-000000000000");
  CHECK(stopUnknown.code() == ErrorCode::kNotFound);
}

TEST_CASE_METHOD(Fixture, "A virtual-proxy prefix goes before /qrs", "[http][paths]") {
  server.script("GET", "/reload/qrs/about", jsonAnswer(200, kAboutBody));
  auto o = options();
  o.url = server.url() + "/reload/";
  auto qrs = make(o);
  CHECK(qrs->origin() == server.url() + "/reload");
  REQUIRE(qrs->about().isOk());
  CHECK(server.requests().at(0).path == "/reload/qrs/about");
}

TEST_CASE_METHOD(Fixture, "One client serves many threads at once", "[http][threads]") {
  server.script("GET", "/qrs/about", jsonAnswer(200, kAboutBody));
  auto o = options();
  o.maxConnections = 2;
  auto qrs = make(o);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (!qrs->about().isOk()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures.load() == 0);
  CHECK(server.requestCount() == 40);
}
