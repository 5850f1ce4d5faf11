#include "qrs/transport_error.h"

#include <array>
#include <string_view>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/String.h>

#include "qrs/json_util.h"
#include "qrs/tls.h"

namespace qlik_reload::qrs {
namespace {

const char* phaseText(TransportPhase phase) {
  switch (phase) {
    case TransportPhase::kConnecting: return "connecting to";
    case TransportPhase::kSending: return "sending the request to";
    case TransportPhase::kWaiting: return "waiting for the answer from";
    case TransportPhase::kReading: return "reading the answer from";
  }
  return "talking to";
}

std::string where(const TransportTarget& target, TransportPhase phase) {
  return std::string(phaseText(phase)) + " QRS at " + target.origin;
}

// OpenSSL's names for the alerts a server sends when it refuses the client
// certificate ("tlsv13 alert certificate required", "tlsv1 alert unknown ca").
constexpr std::array<std::string_view, 9> kClientCertificateAlerts = {
    "alert certificate required", "alert unknown ca",         "alert bad certificate",
    "alert certificate unknown",  "alert certificate expired", "alert certificate revoked",
    "alert unsupported certificate", "alert access denied",   "alert handshake failure"};

bool mentions(const std::string& lowerText, std::string_view needle) {
  return lowerText.find(needle) != std::string::npos;
}

Status untrusted(const TransportTarget& target, const std::string& detail) {
  std::string against = "ca_file " + (target.caFile.empty() ? std::string("(none)") : target.caFile);
  if (!target.expectedName.empty()) against += " / name " + target.expectedName;
  std::string reason = lastVerifyFailure();
  if (reason.empty()) reason = detail;
  std::string message = "QRS's certificate at " + target.origin + " did not verify against " + against + ": " + reason;
  if (mentions(Poco::toLower(reason), "mismatch")) {
    message += " (set tls.server_name to the name on QRS's certificate)";
  }
  return Status::serverUntrusted(message);
}

std::string durationText(Duration d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

Status statusFromCurrentException(const TransportTarget& target, TransportPhase phase) {
  try {
    throw;
  } catch (const Poco::Net::CertificateValidationException& e) {
    return untrusted(target, excerpt(e.displayText()));
  } catch (const Poco::Net::SSLException& e) {
    std::string text = excerpt(e.displayText());
    std::string lower = Poco::toLower(text);
    if (mentions(lower, "certificate verify failed")) return untrusted(target, text);
    for (std::string_view alert : kClientCertificateAlerts) {
      if (mentions(lower, alert)) {
        return Status::accessDenied("QRS at " + target.origin +
                                    " refused our client certificate during the TLS handshake: " + text);
      }
    }
    return Status::unavailable("TLS failure " + where(target, phase) + ": " + text);
  } catch (const Poco::TimeoutException&) {
    Duration limit = phase == TransportPhase::kConnecting ? target.connectTimeout : target.readTimeout;
    const char* which = phase == TransportPhase::kConnecting ? "connect timeout" : "read timeout";
    return Status::unavailable("timed out after " + durationText(limit) + " " + where(target, phase) + " (" +
                               which + ")");
  } catch (const Poco::Net::ConnectionRefusedException& e) {
    return Status::unavailable("connection refused " + where(target, phase) + ": " + excerpt(e.displayText()));
  } catch (const Poco::Net::NoMessageException&) {
    return Status::unavailable("QRS at " + target.origin + " closed the connection without answering");
  } catch (const Poco::Net::NetException& e) {
    return Status::unavailable("network error " + where(target, phase) + ": " + excerpt(e.displayText()));
  } catch (const Poco::IOException& e) {
    return Status::unavailable("I/O error " + where(target, phase) + ": " + excerpt(e.displayText()));
  } catch (const Poco::Exception& e) {
    return Status::unavailable("error " + where(target, phase) + ": " + excerpt(e.displayText()));
  } catch (const std::exception& e) {
    return Status::unavailable("error " + where(target, phase) + ": " + excerpt(e.what()));
  } catch (...) {
    return Status::unavailable("unknown error " + where(target, phase));
  }
}

}  // namespace qlik_reload::qrs
