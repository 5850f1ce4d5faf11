// An HTTP answer from QRS, kept apart from transport failures: a request
// either failed to get an answer (a Status from transport_error.h) or got
// one, and classifyReply alone decides what the answer means.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace qlik_reload::qrs {

struct HttpReply {
  int status = 0;
  std::string reason;       // the status line's text, e.g. "Not Found"
  std::string body;         // capped by the client before it gets here
  std::string contentType;
  std::optional<std::chrono::milliseconds> retryAfter;  // from a Retry-After header
};

// QRS's plain-text answer when the xrfkey is missing or does not match.
inline constexpr std::string_view kXsrfRejectionText = "XSRF prevention check failed";

// The one place an HTTP answer becomes a Status:
//   2xx                       → OK
//   401                       → kAccessDenied
//   403 with the XSRF text    → kProtocol ("QRS rejected the xrfkey — a bug in this client")
//   other 403                 → kAccessDenied
//   404                       → kNotFound
//   408, 429, 5xx             → kUnavailable (Retry-After kept via setRetryAfter)
//   anything else             → kRejected
// A failure carries setHttpStatus(status) and the message
// "<operation>: QRS <status> <body, trimmed and cut to ~200 chars>" (the
// reason phrase when the body is empty).
Status classifyReply(const HttpReply& reply, std::string_view operation);

// Retry-After as delta-seconds ("120", capped at a day) or an IMF-fixdate
// ("Wed, 21 Oct 2015 07:28:00 GMT", relative to `now`;
// a date in the past gives 0). nullopt for anything else.
std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value, Clock::WallTime now);

}  // namespace qlik_reload::qrs
