// Fault rules: how qrs-sim misbehaves on purpose so clients can be tested
// against a flaky QRS. Rules come from the scenario ("faults") or at run time
// from POST /sim/faults. Faults never apply to the /sim/ hooks.
//
// Rule (JSON object):
//   "route":  glob on the request path, default "**". "*" matches within one
//             path segment, "**" across segments, "?" one character.
//             Case-sensitive, the query string is not part of the path.
//   "method": "GET", "POST", ... (case-insensitive); absent = any method.
//   "count":  apply to the next N matching requests (or connections), then
//             the rule is spent. Absent = no limit.
//   "probability": 0..1, chance that a matching request is hit, drawn from a
//             generator seeded by the scenario's "seed" (so a run is
//             reproducible). Absent = 1. With "count", only hits count.
//   "action": one of
//     "status:N"        answer status N (400..599) with a plain-text body and
//                       do nothing else; "retry_after_s" adds a Retry-After
//                       header (always sent with 429, default 1 s)
//     "reset_before"    drop the connection before the request is processed
//     "reset_after"     process the request (e.g. really start the reload),
//                       then drop the connection without answering
//     "delay:MS"        wait MS milliseconds (on the simulator's clock), then
//                       answer normally
//     "malformed_json"  200 application/json with a broken JSON body
//     "truncated"       process, announce the full Content-Length, send half
//                       the body, drop the connection
//     "tls_fail"        drop the next matching *connections* right after
//                       accept, before the TLS handshake (route and method
//                       are ignored)
//     "down:MS"         triggered by a matching request: that request and
//                       every connection and request for the next MS
//                       milliseconds are dropped, then the server recovers
//   "retry_after_s": integer seconds for the Retry-After header.
//
// Fault durations are real (clock) milliseconds: --time-scale does not
// shrink them, because they are measured against client timeouts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>

#include "core/status.h"

namespace qlik_reload::sim {

enum class FaultAction {
  kStatus,
  kResetBefore,
  kResetAfter,
  kDelay,
  kMalformedJson,
  kTruncated,
  kTlsFail,
  kDown,
};

struct FaultRule {
  std::string route = "**";
  std::string method;  // upper case; empty = any
  std::optional<std::int64_t> count;
  std::optional<double> probability;
  FaultAction action = FaultAction::kStatus;
  std::string actionText;         // as written, e.g. "status:503"
  int status = 0;                 // kStatus
  std::int64_t durationMs = 0;    // kDelay, kDown
  std::optional<std::int64_t> retryAfterSeconds;
};

// Parses one rule; errors are kConfiguration naming the key under `where`.
Result<FaultRule> parseFaultRule(const Poco::JSON::Object& object, const std::string& where);
// Parses an array of rules (the "faults" value or a POST /sim/faults body).
Result<std::vector<FaultRule>> parseFaultRules(const Poco::Dynamic::Var& value, const std::string& where);

// The rule as JSON (for GET /sim/faults), with its remaining count.
Poco::JSON::Object::Ptr faultRuleToJson(const FaultRule& rule);

// Glob match of a path, see "route" above.
bool globMatch(std::string_view pattern, std::string_view path);

}  // namespace qlik_reload::sim
