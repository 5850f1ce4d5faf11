#include "core/status.h"

#include <cstdio>
#include <cstdlib>

namespace qlik_reload {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kAccessDenied: return "access denied";
    case ErrorCode::kServerUntrusted: return "server untrusted";
    case ErrorCode::kConfiguration: return "configuration";
    case ErrorCode::kProtocol: return "protocol";
    case ErrorCode::kRejected: return "rejected";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

Status Status::withContext(std::string_view context) const {
  if (isOk()) return *this;
  Status copy = *this;
  copy.message_ = std::string(context) + ": " + message_;
  return copy;
}

std::string Status::toString() const {
  if (isOk()) return "ok";
  return std::string(errorCodeName(code_)) + ": " + message_;
}

void abortOnOkStatusInResult() {
  std::fputs("internal error: a Result was built from an OK Status\n", stderr);
  std::abort();
}

}  // namespace qlik_reload
