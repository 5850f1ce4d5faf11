#include "qrs/http_reply.h"

#include <algorithm>

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/Exception.h>
#include <Poco/Timestamp.h>

#include "qrs/json_util.h"

namespace qlik_reload::qrs {
namespace {

std::string quoteAnswer(const HttpReply& reply) {
  std::string text = excerpt(reply.body, 200);
  if (text.empty()) text = excerpt(reply.reason, 100);
  std::string message = "QRS " + std::to_string(reply.status);
  if (!text.empty()) message += " " + text;
  return message;
}

}  // namespace

Status classifyReply(const HttpReply& reply, std::string_view operation) {
  const int code = reply.status;
  if (code >= 200 && code <= 299) return Status::ok();
  const std::string prefix = std::string(operation) + ": ";
  const std::string answer = quoteAnswer(reply);
  Status status;
  if (code == 401) {
    status = Status::accessDenied(prefix + answer);
  } else if (code == 403 && reply.body.find(kXsrfRejectionText) != std::string::npos) {
    status = Status::protocol(prefix + "QRS rejected the xrfkey — a bug in this client (" + answer + ")");
  } else if (code == 403) {
    status = Status::accessDenied(prefix + answer);
  } else if (code == 404) {
    status = Status::notFound(prefix + answer);
  } else if (code == 408 || code == 429 || (code >= 500 && code <= 599)) {
    status = Status::unavailable(prefix + answer);
    if (reply.retryAfter) status.setRetryAfter(*reply.retryAfter);
  } else {
    status = Status::rejected(prefix + answer);
  }
  status.setHttpStatus(code);
  return status;
}

std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value, Clock::WallTime now) {
  std::size_t begin = 0;
  std::size_t end = value.size();
  while (begin < end && (value[begin] == ' ' || value[begin] == '\t')) ++begin;
  while (end > begin && (value[end - 1] == ' ' || value[end - 1] == '\t')) --end;
  value = value.substr(begin, end - begin);
  if (value.empty()) return std::nullopt;

  bool digits = true;
  for (char c : value) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    // More than a day is no useful hint; it also keeps the arithmetic small.
    constexpr long long kMaxSeconds = 86400;
    long long seconds = 0;
    for (char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > kMaxSeconds) {
        seconds = kMaxSeconds;
        break;
      }
    }
    return std::chrono::milliseconds(seconds * 1000);
  }

  try {
    int timeZone = 0;
    Poco::DateTime when;
    if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::HTTP_FORMAT, std::string(value), when, timeZone)) {
      return std::nullopt;
    }
    when.makeUTC(timeZone);
    // Poco's parser is lenient ("soon" parses); only a date that formats back
    // to the same text (RFC 9110's IMF-fixdate) counts.
    if (Poco::DateTimeFormatter::format(when, Poco::DateTimeFormat::HTTP_FORMAT) != value) return std::nullopt;
    auto whenMs = std::chrono::milliseconds(when.timestamp().epochMicroseconds() / 1000);
    auto nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
    if (whenMs <= nowMs) return std::chrono::milliseconds(0);
    return std::min(whenMs - nowMs, std::chrono::milliseconds(86400 * 1000LL));
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

}  // namespace qlik_reload::qrs
