// Internal to src/qrs: the one adapter where an exception from Poco or
// OpenSSL (a request that got no HTTP answer) becomes a Status. Nothing
// above the QRS client ever sees a Poco type.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "qrs/connection_options.h"

namespace qlik_reload::qrs {

// How far a request had come when it failed; it decides which timeout
// expired and whether the request may have reached QRS.
enum class TransportPhase {
  kConnecting,  // TCP connect and TLS handshake
  kSending,     // writing the request
  kWaiting,     // request sent, no answer byte yet
  kReading,     // status line seen, reading the body
};

// What the request was talking to, for messages.
struct TransportTarget {
  std::string origin;        // https://host:port/prefix
  TlsVerify verify = TlsVerify::kFull;
  std::string caFile;
  std::string expectedName;  // the pinned certificate name; empty when no name is checked
  Duration connectTimeout{0};
  Duration readTimeout{0};
};

// Call only inside a catch block: classifies the exception in flight, most
// specific first:
//   CertificateValidationException, or SSLException saying
//     "certificate verify failed"                       → kServerUntrusted
//   SSLException reporting a TLS alert from QRS about our certificate
//     (certificate required, unknown ca, bad certificate, certificate
//     unknown/expired/revoked/unsupported, access denied, handshake failure)
//                                                       → kAccessDenied
//   any other SSLException                              → kUnavailable
//   Poco::TimeoutException (not a NetException)         → kUnavailable, naming the timeout
//   NetException (refused, reset, no message, DNS, …)   → kUnavailable
//   IOException, any other exception                    → kUnavailable with its text
// The message names the phase and target, never a secret; the operation is
// put in front by the caller. For certificate failures it quotes the reason
// OpenSSL recorded on this thread (tls.h lastVerifyFailure: "hostname
// mismatch …"), so callers clear that before each connection.
Status statusFromCurrentException(const TransportTarget& target, TransportPhase phase);

}  // namespace qlik_reload::qrs
