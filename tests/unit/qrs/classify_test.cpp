#include <catch2/catch.hpp>

#include <functional>
#include <stdexcept>
#include <vector>

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Timespan.h>

#include "qrs/http_reply.h"
#include "qrs/tls.h"
#include "qrs/transport_error.h"

using namespace qlik_reload;
using namespace qlik_reload::qrs;
using std::chrono::milliseconds;

TEST_CASE("classifyReply maps every status class once", "[classify]") {
  auto [status, body, code] = GENERATE(table<int, std::string, ErrorCode>({
      {200, "{}", ErrorCode::kOk},
      {201, "{}", ErrorCode::kOk},
      {204, "", ErrorCode::kOk},
      {400, "Cannot parse the expression: x", ErrorCode::kRejected},
      {401, "", ErrorCode::kAccessDenied},
      {403, "XSRF prevention check failed. Possible XSRF discovered.", ErrorCode::kProtocol},
      {403, "Access denied", ErrorCode::kAccessDenied},
      {404, "No matching endpoint found", ErrorCode::kNotFound},
      {405, "", ErrorCode::kRejected},
      {408, "", ErrorCode::kUnavailable},
      {409, "Conflict", ErrorCode::kRejected},
      {429, "", ErrorCode::kUnavailable},
      {500, "boom", ErrorCode::kUnavailable},
      {502, "<html>bad gateway</html>", ErrorCode::kUnavailable},
      {503, "", ErrorCode::kUnavailable},
      {599, "", ErrorCode::kUnavailable},
      {302, "", ErrorCode::kRejected},
      {100, "", ErrorCode::kRejected},
  }));
  CAPTURE(status, body);
  HttpReply reply;
  reply.status = status;
  reply.body = body;
  reply.reason = "Reason";
  Status result = classifyReply(reply, "start task 7f3c");
  CHECK(result.code() == code);
  if (code != ErrorCode::kOk) {
    CHECK(result.httpStatus() == status);
    CHECK_THAT(result.message(), Catch::StartsWith("start task 7f3c: "));
    CHECK_THAT(result.message(), Catch::Contains("QRS " + std::to_string(status)));
    CHECK_FALSE(result.retryAfter().has_value());
  }
}

TEST_CASE("classifyReply quotes QRS's plain-text answer", "[classify]") {
  HttpReply reply;
  reply.status = 404;
  reply.reason = "Not Found";
  reply.body = "  No matching endpoint found\r\n";
  CHECK(classifyReply(reply, "start task 7f3c").message() == "start task 7f3c: QRS 404 No matching endpoint found");

  reply.body.clear();
  CHECK(classifyReply(reply, "about").message() == "about: QRS 404 Not Found");

  reply.status = 500;
  reply.body = std::string(1000, 'e');
  std::string message = classifyReply(reply, "about").message();
  CHECK(message.size() < 260);
  CHECK_THAT(message, Catch::EndsWith("…"));
}

TEST_CASE("classifyReply calls the xrfkey 403 a client bug and keeps the text", "[classify]") {
  HttpReply reply;
  reply.status = 403;
  reply.body = "XSRF prevention check failed. Possible XSRF discovered.";
  Status status = classifyReply(reply, "about");
  CHECK(status.code() == ErrorCode::kProtocol);
  CHECK_THAT(status.message(), Catch::Contains("QRS rejected the xrfkey — a bug in this client"));
  CHECK_THAT(status.message(), Catch::Contains("XSRF prevention check failed"));
  CHECK_FALSE(status.retryable());
}

TEST_CASE("classifyReply keeps Retry-After on retryable answers", "[classify]") {
  const int status = GENERATE(429, 503);
  HttpReply reply;
  reply.status = status;
  reply.retryAfter = milliseconds(7000);
  Status result = classifyReply(reply, "about");
  CHECK(result.code() == ErrorCode::kUnavailable);
  CHECK(result.retryable());
  REQUIRE(result.retryAfter().has_value());
  CHECK(*result.retryAfter() == milliseconds(7000));
}

TEST_CASE("parseRetryAfter reads seconds and HTTP dates", "[classify]") {
  const auto now = std::chrono::system_clock::now();
  CHECK(parseRetryAfter("7", now) == milliseconds(7000));
  CHECK(parseRetryAfter(" 120 ", now) == milliseconds(120000));
  CHECK(parseRetryAfter("0", now) == milliseconds(0));
  CHECK(parseRetryAfter("99999999999999999999999", now) == milliseconds(86400000));
  CHECK_FALSE(parseRetryAfter("", now).has_value());
  CHECK_FALSE(parseRetryAfter("-5", now).has_value());
  CHECK_FALSE(parseRetryAfter("soon", now).has_value());
  CHECK_FALSE(parseRetryAfter("1.5", now).has_value());

  Poco::DateTime later;
  later += Poco::Timespan(90, 0);
  const auto nowSeconds = std::chrono::system_clock::time_point(
      std::chrono::seconds(later.timestamp().epochTime() - 90));
  std::string date = Poco::DateTimeFormatter::format(later, Poco::DateTimeFormat::HTTP_FORMAT);
  CAPTURE(date);
  std::optional<milliseconds> delay = parseRetryAfter(date, nowSeconds);
  REQUIRE(delay.has_value());
  CHECK(*delay == milliseconds(90000));
  CHECK(parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now) == milliseconds(0));
}

namespace {

TransportTarget target() {
  TransportTarget t;
  t.origin = "https://qlikserver1:4242";
  t.verify = TlsVerify::kFull;
  t.caFile = "/etc/qlik/root.pem";
  t.expectedName = "qlikserver1";
  t.connectTimeout = milliseconds(1500);
  t.readTimeout = milliseconds(2500);
  return t;
}

template <typename Throw>
Status classifyThrown(Throw thrower, TransportPhase phase = TransportPhase::kWaiting) {
  clearLastVerifyFailure();  // earlier TLS tests on this thread may have left a reason behind
  try {
    thrower();
  } catch (...) {
    return statusFromCurrentException(target(), phase);
  }
  FAIL("nothing was thrown");
  return Status();
}

}  // namespace

TEST_CASE("Exceptions become one Status each, most specific first", "[classify]") {
  using namespace Poco::Net;
  struct Case {
    const char* name;
    std::function<void()> thrower;
    ErrorCode code;
    const char* fragment;
  };
  std::vector<Case> cases = {
      {"certificate validation", [] { throw CertificateValidationException("Unacceptable certificate from 10.0.0.5"); },
       ErrorCode::kServerUntrusted, "did not verify against ca_file /etc/qlik/root.pem / name qlikserver1"},
      {"verify failed", [] { throw SSLException("error:0A000086:SSL routines::certificate verify failed"); },
       ErrorCode::kServerUntrusted, "certificate verify failed"},
      {"certificate required",
       [] { throw SSLException("error:0A00045C:SSL routines::tlsv13 alert certificate required"); },
       ErrorCode::kAccessDenied, "refused our client certificate"},
      {"unknown ca", [] { throw SSLException("error:0A000418:SSL routines::tlsv1 alert unknown ca"); },
       ErrorCode::kAccessDenied, "tlsv1 alert unknown ca"},
      {"bad certificate", [] { throw SSLException("sslv3 alert bad certificate"); }, ErrorCode::kAccessDenied, ""},
      {"certificate unknown", [] { throw SSLException("sslv3 alert certificate unknown"); }, ErrorCode::kAccessDenied,
       ""},
      {"access denied", [] { throw SSLException("tlsv1 alert access denied"); }, ErrorCode::kAccessDenied, ""},
      {"handshake failure", [] { throw SSLException("sslv3 alert handshake failure"); }, ErrorCode::kAccessDenied, ""},
      {"other TLS", [] { throw SSLException("unexpected eof while reading"); }, ErrorCode::kUnavailable, "TLS failure"},
      {"TLS closed", [] { throw SSLConnectionUnexpectedlyClosedException(); }, ErrorCode::kUnavailable, "TLS failure"},
      {"timeout", [] { throw Poco::TimeoutException(); }, ErrorCode::kUnavailable,
       "timed out after 2500 ms waiting for the answer from QRS at https://qlikserver1:4242 (read timeout)"},
      {"refused", [] { throw ConnectionRefusedException("127.0.0.1:4242"); }, ErrorCode::kUnavailable,
       "connection refused"},
      {"reset", [] { throw ConnectionResetException(); }, ErrorCode::kUnavailable, "network error"},
      {"no message", [] { throw NoMessageException(); }, ErrorCode::kUnavailable,
       "closed the connection without answering"},
      {"host not found", [] { throw HostNotFoundException("qlikserver1"); }, ErrorCode::kUnavailable, "network error"},
      {"io", [] { throw Poco::IOException("disk"); }, ErrorCode::kUnavailable, "I/O error"},
      {"poco other", [] { throw Poco::NullPointerException(); }, ErrorCode::kUnavailable, "error waiting"},
      {"std", [] { throw std::runtime_error("odd"); }, ErrorCode::kUnavailable, "odd"},
      {"int", [] { throw 42; }, ErrorCode::kUnavailable, "unknown error"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Status status = classifyThrown(c.thrower);
    CAPTURE(status.toString());
    CHECK(status.code() == c.code);
    CHECK_THAT(status.message(), Catch::Contains(c.fragment));
    CHECK(status.httpStatus() == 0);
  }
}

TEST_CASE("A certificate failure quotes the reason OpenSSL gave during this handshake", "[classify]") {
  clearLastVerifyFailure();
  Status withoutReason = classifyThrown([] { throw Poco::Net::SSLException("certificate verify failed"); });
  CHECK_THAT(withoutReason.message(), Catch::EndsWith("/ name qlikserver1: SSL Exception: certificate verify failed"));
}

TEST_CASE("A timeout while connecting names the connect timeout", "[classify]") {
  Status status = classifyThrown([] { throw Poco::TimeoutException(); }, TransportPhase::kConnecting);
  CHECK(status.code() == ErrorCode::kUnavailable);
  CHECK_THAT(status.message(), Catch::Contains("timed out after 1500 ms connecting to QRS"));
  CHECK_THAT(status.message(), Catch::Contains("connect timeout"));
}
