// QrsSimulator over real sockets: mutual TLS, the QRS checks on the wire and
// the fault actions that need a connection. The PKI is generated once per
// run into a temporary directory and removed at exit.
#include "sim/simulator.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include <catch2/catch.hpp>
#include <openssl/x509v3.h>

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Path.h>
#include <Poco/StreamCopier.h>

#include "core/guid.h"
#include "manual_clock.h"
#include "sim/pki.h"
#include "sim_test_util.h"

namespace qlik_reload::sim {
namespace {

using namespace std::chrono_literals;
using qlik_reload::testing::ManualClock;
using testing::kXrfkey;
using testing::parseArray;
using testing::parseObject;
using testing::scenarioFrom;

constexpr const char* kTask = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr const char* kScenario = R"({"tasks":[{"id":"aaaaaaaa-0000-4000-8000-000000000001","name":"Reload Sales",
                                      "queue_ms":0,"run_ms":1000,"log_delay_ms":0}]})";

// PKIs made with makePki: "main" (the server's) and "rogue" (a client
// certificate from another CA). Made once into the build tree and reused by
// later runs; parallel test processes race safely through an atomic rename.
class TestPki {
 public:
  static const TestPki& instance() {
    static TestPki pki;
    return pki;
  }
  std::string main() const { return root_ + "/main"; }
  std::string rogue() const { return root_ + "/rogue"; }
  bool ok() const { return status_.isOk(); }
  const Status& status() const { return status_; }

 private:
  TestPki() : root_(QLIK_SIM_TEST_PKI_DIR) {
    if (Poco::File(main() + "/root.pem").exists() && Poco::File(rogue() + "/client_key.pem").exists()) return;
    const std::string scratch = root_ + ".tmp-" + std::to_string(::getpid());
    status_ = makePki(scratch + "/main");
    if (status_.isOk()) status_ = makePki(scratch + "/rogue");
    if (status_.isOk() && std::rename(scratch.c_str(), root_.c_str()) != 0) {
      // Another process got there first; its PKI is as good as ours.
      Poco::File(scratch).remove(true);
    }
  }
  std::string root_;
  Status status_;
};

const std::string& pkiDir() {
  const TestPki& pki = TestPki::instance();
  INFO(pki.status().toString());
  REQUIRE(pki.ok());
  static const std::string dir = pki.main();
  return dir;
}

struct Reply {
  int status = 0;
  std::string body;
  std::string contentType;
  std::string retryAfter;
  std::streamsize contentLength = 0;
};

struct ClientOptions {
  std::string certificateDir = "";  // "" = the main PKI; "-" = present no certificate
  bool xrfkey = true;
};

Poco::Net::Context::Ptr clientContext(const ClientOptions& options) {
  Poco::Net::Context::Params params;
  if (options.certificateDir != "-") {
    std::string dir = options.certificateDir.empty() ? pkiDir() : options.certificateDir;
    params.certificateFile = dir + "/client.pem";
    params.privateKeyFile = dir + "/client_key.pem";
  }
  params.caLocation = pkiDir() + "/root.pem";
  params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
  params.loadDefaultCAs = false;
  Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
  // Verify the chain and the certificate's name, whatever address we dial.
  context->enableExtendedCertificateVerification(false);
  X509_VERIFY_PARAM* verify = SSL_CTX_get0_param(context->sslContext());
  X509_VERIFY_PARAM_set1_host(verify, "qlikserver1", 0);
  return context;
}

// One request on its own connection. Transport failures throw Poco exceptions.
Reply call(std::uint16_t port, const std::string& method, std::string target, const std::string& body = "",
           ClientOptions options = {}) {
  Poco::Net::HTTPSClientSession session("127.0.0.1", port, clientContext(options));
  session.setTimeout(Poco::Timespan(10, 0));
  Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
  if (options.xrfkey) {
    request.setURI(target + (target.find('?') == std::string::npos ? "?" : "&") + "xrfkey=" + kXrfkey);
    request.set("X-Qlik-Xrfkey", kXrfkey);
  }
  request.set("X-Qlik-User", "UserDirectory=INTERNAL; UserId=sa_scheduler");
  request.setContentType("application/json");
  request.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply reply;
  reply.status = response.getStatus();
  reply.contentType = response.getContentType();
  reply.retryAfter = response.get("Retry-After", "");
  reply.contentLength = response.getContentLength();
  Poco::StreamCopier::copyToString(in, reply.body);
  return reply;
}

SimulatorOptions withPki(SimulatorOptions options) {
  if (options.pkiDir.empty()) options.pkiDir = pkiDir();
  return options;
}

struct RunningSim {
  explicit RunningSim(const std::string& scenario = kScenario, Clock& clock = SystemClock::instance(),
                      SimulatorOptions options = {})
      : sim(scenarioFrom(scenario), withPki(std::move(options)), clock) {
    Status started = sim.start();
    INFO(started.toString());
    REQUIRE(started.isOk());
    REQUIRE(sim.port() != 0);
  }
  Poco::JSON::Object::Ptr record() { return parseObject(call(sim.port(), "GET", "/sim/record", "", {"", false}).body); }
  void setFaults(const std::string& rules) {
    Reply reply = call(sim.port(), "POST", "/sim/faults", rules, {"", false});
    INFO(reply.body);
    REQUIRE(reply.status == 200);
  }
  QrsSimulator sim;
};

TEST_CASE("over mutual TLS: /qrs/about answers, the xrfkey is enforced, a client certificate is required",
          "[simulator][socket]") {
  RunningSim running;
  const std::uint16_t port = running.sim.port();

  Reply about = call(port, "GET", "/qrs/about");
  CHECK(about.status == 200);
  CHECK_THAT(about.contentType, Catch::StartsWith("application/json"));
  CHECK(parseObject(about.body)->getValue<std::string>("schemaPath") == "About");

  Reply noKey = call(port, "GET", "/qrs/about", "", {"", false});
  CHECK(noKey.status == 403);
  CHECK_THAT(noKey.contentType, Catch::StartsWith("text/plain"));
  CHECK(noKey.body == "XSRF prevention check failed. Possible XSRF discovered.");

  CHECK_THROWS_AS(call(port, "GET", "/qrs/about", "", {"-", true}), Poco::Exception);
  CHECK_THROWS_AS(call(port, "GET", "/qrs/about", "", {TestPki::instance().rogue(), true}), Poco::Exception);
}

TEST_CASE("a reload over the wire, on one keep-alive connection, driven by a manual clock", "[simulator][socket]") {
  ManualClock clock;
  RunningSim running(kScenario, clock);
  Poco::Net::HTTPSClientSession session("127.0.0.1", running.sim.port(), clientContext({}));
  session.setKeepAlive(true);
  session.setTimeout(Poco::Timespan(10, 0));
  auto exchange = [&](const std::string& method, const std::string& path) {
    Poco::Net::HTTPRequest request(method, path + (path.find('?') == std::string::npos ? "?" : "&") +
                                               "xrfkey=" + kXrfkey,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    request.setKeepAlive(true);
    request.set("X-Qlik-Xrfkey", kXrfkey);
    request.setContentLength(0);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    CHECK(response.getKeepAlive());
    return std::make_pair(static_cast<int>(response.getStatus()), body);
  };
  auto [startStatus, startBody] = exchange("POST", std::string("/qrs/task/") + kTask + "/start/synchronous");
  REQUIRE(startStatus == 201);
  const std::string id = parseObject(startBody)->getValue<std::string>("value");
  CHECK(exchange("GET", "/qrs/executionsession/" + id).first == 200);
  clock.advance(1000ms);
  CHECK(exchange("GET", "/qrs/executionsession/" + id).first == 404);
  auto [listStatus, listBody] = exchange("GET", "/qrs/executionresult?filter=executionID%20eq%20" + id);
  REQUIRE(listStatus == 200);
  CHECK(parseArray(listBody)->getObject(0)->getValue<int>("status") == 7);
  CHECK(exchange("POST", std::string("/qrs/task/") + kTask + "/stop").first == 204);
  CHECK(exchange("GET", "/qrs/about").first == 200);  // still usable after a 204
}

TEST_CASE("fault status:N answers N, with Retry-After for 429 and when asked", "[simulator][socket][faults]") {
  RunningSim running;
  running.setFaults(R"([{"route":"/qrs/about","count":1,"action":"status:503","retry_after_s":7},
                        {"route":"/qrs/reloadtask","count":1,"action":"status:429"}])");
  Reply unavailable = call(running.sim.port(), "GET", "/qrs/about");
  CHECK(unavailable.status == 503);
  CHECK(unavailable.retryAfter == "7");
  Reply limited = call(running.sim.port(), "GET", "/qrs/reloadtask");
  CHECK(limited.status == 429);
  CHECK(limited.retryAfter == "1");
  CHECK(call(running.sim.port(), "GET", "/qrs/about").status == 200);  // count spent
  auto applied = running.record()->getArray("faults_applied");
  REQUIRE(applied->size() == 2);
  CHECK(applied->getObject(0)->getValue<std::string>("action") == "status:503");
}

TEST_CASE("reset_before drops the request unprocessed, reset_after after processing it", "[simulator][socket][faults]") {
  RunningSim running;
  const std::string start = std::string("/qrs/task/") + kTask + "/start/synchronous";
  running.setFaults(R"([{"route":"/qrs/task/*/start/synchronous","count":1,"action":"reset_before"}])");
  CHECK_THROWS_AS(call(running.sim.port(), "POST", start), Poco::Exception);
  auto record = running.record();
  CHECK(record->getArray("starts")->size() == 0);
  CHECK(record->getObject("requests")->getObject("by_route")->getValue<int>("POST /qrs/task/{id}/start/synchronous") == 1);

  running.setFaults(R"([{"route":"/qrs/task/*/start/synchronous","count":1,"action":"reset_after"}])");
  CHECK_THROWS_AS(call(running.sim.port(), "POST", start), Poco::Exception);
  record = running.record();
  REQUIRE(record->getArray("starts")->size() == 1);
  CHECK(record->getArray("executions")->size() == 1);  // the reload really started
  CHECK(call(running.sim.port(), "GET", "/qrs/executionsession").status == 200);
}

TEST_CASE("malformed_json and truncated answers", "[simulator][socket][faults]") {
  RunningSim running;
  running.setFaults(R"([{"route":"/qrs/about","count":1,"action":"malformed_json"},
                        {"route":"/qrs/reloadtask","count":1,"action":"truncated"}])");
  Reply malformed = call(running.sim.port(), "GET", "/qrs/about");
  CHECK(malformed.status == 200);
  CHECK_THAT(malformed.contentType, Catch::StartsWith("application/json"));
  Poco::JSON::Parser parser;
  CHECK_THROWS(parser.parse(malformed.body));

  bool cutShort = false;
  try {
    Reply truncated = call(running.sim.port(), "GET", "/qrs/reloadtask");
    cutShort = static_cast<std::streamsize>(truncated.body.size()) < truncated.contentLength;
  } catch (const Poco::Exception&) {
    cutShort = true;
  }
  CHECK(cutShort);
  CHECK(call(running.sim.port(), "GET", "/qrs/reloadtask").status == 200);
}

TEST_CASE("tls_fail drops the next connections before the handshake", "[simulator][socket][faults]") {
  RunningSim running;
  running.setFaults(R"([{"count":2,"action":"tls_fail"}])");
  CHECK_THROWS_AS(call(running.sim.port(), "GET", "/qrs/about"), Poco::Exception);
  CHECK_THROWS_AS(call(running.sim.port(), "GET", "/qrs/about"), Poco::Exception);
  CHECK(call(running.sim.port(), "GET", "/qrs/about").status == 200);
  CHECK(running.record()->getArray("faults_applied")->size() == 2);
}

TEST_CASE("delay answers late, on the simulator's clock", "[simulator][socket][faults]") {
  ManualClock clock;
  RunningSim running(kScenario, clock);
  running.setFaults(R"([{"route":"/qrs/task/*/start/synchronous","count":1,"action":"delay:5000"}])");
  const std::uint16_t port = running.sim.port();
  auto answer = std::async(std::launch::async, [port] {
    return call(port, "POST", std::string("/qrs/task/") + kTask + "/start/synchronous");
  });
  REQUIRE(clock.waitForSleepers(1));
  CHECK(answer.wait_for(0s) == std::future_status::timeout);
  CHECK(running.record()->getArray("starts")->size() == 1);  // processed before the delay
  clock.advance(5000ms);
  Reply reply = answer.get();
  CHECK(reply.status == 201);
}

TEST_CASE("stop() ends a pending delay instead of waiting it out", "[simulator][socket][faults]") {
  ManualClock clock;
  RunningSim running(kScenario, clock);
  running.setFaults(R"([{"route":"/qrs/about","action":"delay:3600000"}])");
  const std::uint16_t port = running.sim.port();
  auto answer = std::async(std::launch::async, [port] {
    try {
      return call(port, "GET", "/qrs/about").status;
    } catch (const Poco::Exception&) {
      return -1;
    }
  });
  REQUIRE(clock.waitForSleepers(1));
  running.sim.stop();  // the clock never moves: only stop() can end the delay
  CHECK(answer.wait_for(10s) == std::future_status::ready);
}

TEST_CASE("down drops every connection for its duration, then the server recovers", "[simulator][socket][faults]") {
  ManualClock clock;
  RunningSim running(kScenario, clock);
  running.setFaults(R"([{"route":"/qrs/about","count":1,"action":"down:1000"}])");
  CHECK_THROWS_AS(call(running.sim.port(), "GET", "/qrs/about"), Poco::Exception);
  CHECK_THROWS_AS(call(running.sim.port(), "GET", "/qrs/reloadtask"), Poco::Exception);
  clock.advance(1000ms);
  CHECK(call(running.sim.port(), "GET", "/qrs/reloadtask").status == 200);
  CHECK(running.record()->getArray("faults_applied")->size() == 1);
}

TEST_CASE("start() names a missing PKI file and a port it cannot bind", "[simulator]") {
  QrsSimulator missing(scenarioFrom("{}"), SimulatorOptions{"/nonexistent-pki"});
  Status status = missing.start();
  CHECK(status.code() == ErrorCode::kConfiguration);
  CHECK_THAT(status.message(), Catch::Contains("/nonexistent-pki/server.pem"));

  Poco::Net::ServerSocket taken;
  taken.bind(Poco::Net::SocketAddress("127.0.0.1", 0), false, false);
  taken.listen();
  SimulatorOptions options{pkiDir()};
  options.port = taken.address().port();
  QrsSimulator clash(scenarioFrom("{}"), options);
  Status bound = clash.start();
  CHECK(bound.code() == ErrorCode::kUnavailable);
  CHECK(clash.port() == 0);
}

// ---- Change notifications over real sockets

// A subscriber's callback endpoint: plain HTTP on an ephemeral port. Records
// every POST and lets a test wait for what it expects.
class CallbackReceiver {
 public:
  struct Received {
    std::string path;
    std::string contentType;
    Poco::JSON::Array::Ptr records;  // null when the body was not a JSON array
    std::chrono::system_clock::time_point at;
  };

  CallbackReceiver()
      : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)),
        server_(new Factory(*this), socket_, new Poco::Net::HTTPServerParams) {
    server_.start();
  }
  ~CallbackReceiver() { server_.stopAll(true); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(socket_.address().port()) + "/qrs-callback"; }

  // Waits in real time, at most `timeout`, until `done` holds for what was received.
  bool waitFor(const std::function<bool(const std::vector<Received>&)>& done,
               std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return wake_.wait_for(lock, timeout, [&] { return done(received_); });
  }

  std::vector<Received> received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }

  // Records naming `objectId` in `received`.
  static size_t recordsFor(const std::vector<Received>& received, const std::string& objectId) {
    size_t n = 0;
    for (const Received& post : received) {
      for (unsigned i = 0; post.records && i < post.records->size(); ++i) {
        if (post.records->getObject(i)->optValue<std::string>("objectID", "") == objectId) ++n;
      }
    }
    return n;
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(CallbackReceiver& receiver) : receiver_(receiver) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
      Received post;
      post.path = request.getURI();
      post.contentType = request.getContentType();
      std::string body;
      Poco::StreamCopier::copyToString(request.stream(), body);
      try {
        Poco::JSON::Parser parser;
        Poco::Dynamic::Var parsed = parser.parse(body);
        if (parsed.type() == typeid(Poco::JSON::Array::Ptr)) post.records = parsed.extract<Poco::JSON::Array::Ptr>();
      } catch (const Poco::Exception&) {
      }
      post.at = std::chrono::system_clock::now();
      response.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
      response.setContentLength(0);
      response.send();
      std::lock_guard<std::mutex> lock(receiver_.mutex_);
      receiver_.received_.push_back(std::move(post));
      receiver_.wake_.notify_all();
    }

   private:
    CallbackReceiver& receiver_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(CallbackReceiver& receiver) : receiver_(receiver) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handler(receiver_);
    }

   private:
    CallbackReceiver& receiver_;
  };

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Received> received_;
  Poco::Net::ServerSocket socket_;
  Poco::Net::HTTPServer server_;
};

constexpr const char* kFinalStates = "status%20eq%20FinishedSuccess%20or%20status%20eq%20FinishedFail";

// POST /qrs/notification?<query> with the URL as a JSON string; the handle.
std::string subscribeOver(std::uint16_t port, const std::string& query, const std::string& url) {
  Reply reply = call(port, "POST", "/qrs/notification?" + query, "\"" + url + "\"");
  INFO(reply.body);
  REQUIRE(reply.status == 201);
  return parseObject(reply.body)->getValue<std::string>("value");
}

std::string startOver(std::uint16_t port, const std::string& task) {
  Reply reply = call(port, "POST", "/qrs/task/" + task + "/start/synchronous");
  REQUIRE(reply.status == 201);
  return parseObject(reply.body)->getValue<std::string>("value");
}

Poco::JSON::Object::Ptr subscriptionOf(QrsSimulator& sim, const std::string& handle) {
  auto list = parseObject(sim.notifications().describe().body)->getArray("subscriptions");
  for (unsigned i = 0; i < list->size(); ++i) {
    if (list->getObject(i)->getValue<std::string>("handle") == handle) return list->getObject(i);
  }
  FAIL("no subscription " << handle);
  return nullptr;
}

TEST_CASE("a subscriber is called back with the finished result's id, and the record counts the POST",
          "[simulator][socket][notifications]") {
  CallbackReceiver receiver;
  RunningSim running(R"({"tasks":[{"id":"aaaaaaaa-0000-4000-8000-000000000001","name":"Reload Sales",
                                    "queue_ms":0,"run_ms":300}]})");
  const std::uint16_t port = running.sim.port();
  const std::string handle =
      subscribeOver(port, std::string("name=ExecutionResult&changetype=Update&filter=") + kFinalStates, receiver.url());
  const std::string execution = startOver(port, kTask);
  Reply rows = call(port, "GET", "/qrs/executionresult?filter=executionID%20eq%20" + execution);
  REQUIRE(rows.status == 200);
  const std::string result = parseArray(rows.body)->getObject(0)->getValue<std::string>("id");

  REQUIRE(receiver.waitFor([&](const auto& received) { return CallbackReceiver::recordsFor(received, result) > 0; }));
  auto received = receiver.received();
  REQUIRE(received.size() == 1);
  CHECK(received[0].path == "/qrs-callback");
  CHECK_THAT(received[0].contentType, Catch::StartsWith("application/json"));
  REQUIRE(received[0].records);
  REQUIRE(received[0].records->size() == 1);
  auto record = received[0].records->getObject(0);
  CHECK(record->getValue<std::string>("objectType") == "ExecutionResult");
  CHECK(record->getValue<std::string>("changeType") == "Update");
  Reply final = call(port, "GET", "/qrs/executionresult/" + result);
  CHECK(parseObject(final.body)->getValue<int>("status") == 7);

  running.sim.stop();  // joins the sender: every POST has been counted
  auto counted = running.sim.engine().recordJson();
  CHECK(counted->getObject("notifications")->getValue<int>("sent") == 1);
  CHECK(counted->getObject("notifications")->getValue<int>("failed") == 0);
  auto finished = counted->getArray("executions")->getObject(0);
  CHECK(finished->getValue<std::string>("finished_at") == parseObject(final.body)->getValue<std::string>("stopTime"));
  CHECK(finished->getValue<std::int64_t>("finished_at_ms") > 0);
  auto subscription = subscriptionOf(running.sim, handle);
  CHECK(subscription->getObject("deliveries")->getValue<int>("delivered") == 1);
  CHECK(subscription->getObject("deliveries")->getValue<int>("failed") == 0);
}

TEST_CASE("on a manual clock the ticker reports each transition as time moves, with no client calls",
          "[simulator][socket][notifications]") {
  ManualClock clock;
  CallbackReceiver receiver;
  RunningSim running(kScenario, clock);  // queue_ms 0, run_ms 1000
  const std::uint16_t port = running.sim.port();
  subscribeOver(port, "name=ExecutionResult", receiver.url());
  startOver(port, kTask);
  // Triggered and Started happen at the start; both show as one Add record.
  REQUIRE(receiver.waitFor([](const auto& received) { return !received.empty(); }));
  auto first = receiver.received();
  REQUIRE(first.size() == 1);
  REQUIRE(first[0].records);
  REQUIRE(first[0].records->size() == 1);
  CHECK(first[0].records->getObject(0)->getValue<std::string>("changeType") == "Add");
  const std::string result = first[0].records->getObject(0)->getValue<std::string>("objectID");
  const int requests = running.record()->getObject("requests")->getValue<int>("total");

  REQUIRE(clock.waitForSleepers(1));  // the ticker, asleep until the run's end
  clock.advance(1000ms);
  REQUIRE(receiver.waitFor([](const auto& received) { return received.size() == 2; }));
  auto second = receiver.received()[1];
  REQUIRE(second.records);
  REQUIRE(second.records->size() == 1);
  CHECK(second.records->getObject(0)->getValue<std::string>("objectID") == result);
  CHECK(second.records->getObject(0)->getValue<std::string>("changeType") == "Update");
  CHECK(running.record()->getObject("requests")->getValue<int>("total") == requests);  // nobody asked
  CHECK(parseObject(call(port, "GET", "/qrs/executionresult/" + result).body)->getValue<int>("status") == 7);
}

TEST_CASE("a callback that never answers holds up neither the simulator nor other subscribers",
          "[simulator][socket][notifications]") {
  // Accepts connections in the kernel and never reads or answers them.
  Poco::Net::ServerSocket dead(Poco::Net::SocketAddress("127.0.0.1", 0));
  const std::string deadUrl = "http://127.0.0.1:" + std::to_string(dead.address().port()) + "/never";
  CallbackReceiver receiver;
  SimulatorOptions options;
  options.callbackIoTimeout = 3000ms;
  RunningSim running(R"({"tasks":[{"id":"aaaaaaaa-0000-4000-8000-000000000001","name":"Reload Sales",
                                    "queue_ms":0,"run_ms":50}]})",
                     SystemClock::instance(), options);
  const std::uint16_t port = running.sim.port();
  const std::string query = std::string("name=ExecutionResult&changetype=Update&filter=") + kFinalStates;
  const std::string deadHandle = subscribeOver(port, query, deadUrl);
  const std::string liveHandle = subscribeOver(port, query, receiver.url());
  startOver(port, kTask);

  REQUIRE(receiver.waitFor([](const auto& received) { return !received.empty(); }));
  const auto before = std::chrono::steady_clock::now();
  Reply about = call(port, "GET", "/qrs/about");
  const auto took = std::chrono::steady_clock::now() - before;
  CHECK(about.status == 200);
  CHECK(took < 1500ms);
  // The dead POST is still waiting for its answer.
  CHECK(subscriptionOf(running.sim, deadHandle)->getObject("deliveries")->getValue<int>("attempted") == 0);

  running.sim.stop();  // waits out the dead POST's read timeout
  auto deadCount = subscriptionOf(running.sim, deadHandle)->getObject("deliveries");
  CHECK(deadCount->getValue<int>("attempted") == 1);
  CHECK(deadCount->getValue<int>("failed") == 1);
  CHECK(subscriptionOf(running.sim, liveHandle)->getObject("deliveries")->getValue<int>("delivered") == 1);
  auto notifications = running.sim.engine().recordJson()->getObject("notifications");
  CHECK(notifications->getValue<int>("sent") == 1);
  CHECK(notifications->getValue<int>("failed") == 1);
}

}  // namespace
}  // namespace qlik_reload::sim
