// Status and Result<T>: how every fallible call in the core library reports
// failure. No exception crosses a layer boundary inside the core; Poco and
// Thrift exceptions are converted to a Status in exactly one adapter each.
//
// Every failure is classified once, where it happens, into an ErrorCode.
// Whether a failure may be retried follows from the code alone (retryable()),
// so callers never re-derive it from messages.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace qlik_reload {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,   // the caller's input is wrong; retrying unchanged never helps
  kNotFound,          // the named entity does not exist (QRS 404 and the like)
  kUnavailable,       // transport fault, timeout, 408/429/5xx: retryable
  kAccessDenied,      // QRS refused our identity: TLS alert, 401, 403
  kServerUntrusted,   // QRS's certificate failed verification: our configuration
  kConfiguration,     // broken configuration (file, key, value)
  kProtocol,          // QRS answered something we cannot interpret
  kRejected,          // QRS answered with another non-success HTTP status
  kCancelled,         // the operation was abandoned (shutdown)
  kInternal,          // a bug: an invariant did not hold
};

// Stable lower-case name of a code, e.g. "unavailable".
const char* errorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK

  static Status ok() { return Status(); }
  static Status invalidArgument(std::string message) { return Status(ErrorCode::kInvalidArgument, std::move(message)); }
  static Status notFound(std::string message) { return Status(ErrorCode::kNotFound, std::move(message)); }
  static Status unavailable(std::string message) { return Status(ErrorCode::kUnavailable, std::move(message)); }
  static Status accessDenied(std::string message) { return Status(ErrorCode::kAccessDenied, std::move(message)); }
  static Status serverUntrusted(std::string message) { return Status(ErrorCode::kServerUntrusted, std::move(message)); }
  static Status configuration(std::string message) { return Status(ErrorCode::kConfiguration, std::move(message)); }
  static Status protocol(std::string message) { return Status(ErrorCode::kProtocol, std::move(message)); }
  static Status rejected(std::string message) { return Status(ErrorCode::kRejected, std::move(message)); }
  static Status cancelled(std::string message) { return Status(ErrorCode::kCancelled, std::move(message)); }
  static Status internal(std::string message) { return Status(ErrorCode::kInternal, std::move(message)); }

  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool isOk() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // True when the same call may be repeated later without harm.
  bool retryable() const { return code_ == ErrorCode::kUnavailable; }

  // The HTTP status this failure came from, 0 when it did not come from an answer.
  int httpStatus() const { return httpStatus_; }
  Status& setHttpStatus(int status) {
    httpStatus_ = status;
    return *this;
  }

  // True when the request certainly never left this process (no connection
  // could be made): the other side cannot have acted on it.
  bool notSent() const { return notSent_; }
  Status& setNotSent() {
    notSent_ = true;
    return *this;
  }

  // A server's Retry-After hint (429/503), when it gave one.
  std::optional<std::chrono::milliseconds> retryAfter() const { return retryAfter_; }
  Status& setRetryAfter(std::chrono::milliseconds delay) {
    retryAfter_ = delay;
    return *this;
  }

  // The same failure with "context: " put in front of the message, so errors
  // say what was being done as they travel up ("start task 7f3c…: QRS 404 …").
  Status withContext(std::string_view context) const;

  // "unavailable: start task …: connection refused"
  std::string toString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  int httpStatus_ = 0;
  bool notSent_ = false;
  std::optional<std::chrono::milliseconds> retryAfter_;
};

// Either a value or a failed Status. Accessing value() of a failed Result is a
// bug and aborts.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}                      // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) { checkFailed(); }  // NOLINT: implicit by design

  bool isOk() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOkStatus;
    return isOk() ? kOkStatus : std::get<Status>(data_);
  }
  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  // By value, so that `for (auto& x : call().value())` cannot dangle.
  T value() && { return std::get<T>(std::move(data_)); }
  const T* operator->() const { return &std::get<T>(data_); }
  T* operator->() { return &std::get<T>(data_); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }

 private:
  void checkFailed();
  std::variant<T, Status> data_;
};

[[noreturn]] void abortOnOkStatusInResult();

template <typename T>
void Result<T>::checkFailed() {
  if (std::get<Status>(data_).isOk()) abortOnOkStatusInResult();
}

}  // namespace qlik_reload
