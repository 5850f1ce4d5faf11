// Push: QRS change notifications as wake-ups.
//
// The worker subscribes, per site, to updates of ExecutionResult entities
// whose status became final:
//   POST /qrs/notification?name=ExecutionResult&changetype=2&filter=status eq FinishedSuccess or …
// with its callback URL, and QRS then POSTs [{"objectType":"ExecutionResult",
// "objectID":"<result id>"}, …] to that URL. A callback is only a signal: the
// worker reads the named results from QRS itself (batched), so a forged or
// repeated callback costs one read and changes nothing. A slow fallback read
// of every active execution covers a lost callback.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace qlik_reload {

// The subscription filter: results whose status is final, and Retry (an
// attempt that failed and will be followed by another, so the attempt list
// stays whole without extra reads).
inline constexpr const char* kPushFilter =
    "status eq FinishedSuccess or status eq FinishedFail or status eq Aborted or status eq Skipped or "
    "status eq Error or status eq Reset or status eq Retry";

// The ExecutionResult ids a callback body names (other object types are
// skipped). Fails with kInvalidArgument on anything that is not such an
// array. Never throws.
Result<std::vector<std::string>> parseChangeNotification(std::string_view body);

struct PushOptions {
  std::string host = "127.0.0.1";   // where the callback endpoint listens
  int port = 0;                     // 0 = any free port
  // What QRS must call, without the path: "http://worker1.corp:9091". Empty:
  // http://<host>:<bound port>.
  std::string publicUrl;
  // HTTPS for the callback endpoint when both are set.
  std::string certFile;
  std::string keyFile;
  std::size_t maxBodyBytes = 1u << 20;
};

// The HTTP(S) endpoint QRS calls: POST /qrs-notify/<site>. Thread-safe.
class PushReceiver {
 public:
  using Sink = std::function<void(const std::string& site, std::vector<std::string> resultIds)>;

  // Listens now; `sink` is called from the server's threads for every valid
  // callback of a known site.
  static Result<std::unique_ptr<PushReceiver>> start(const PushOptions& options, std::vector<std::string> sites,
                                                     Sink sink);
  virtual ~PushReceiver() = default;

  virtual int port() const = 0;
  // The URL to register with QRS for `site`.
  virtual std::string callbackUrl(const std::string& site) const = 0;
  virtual std::uint64_t received() const = 0;   // valid callbacks
  virtual std::uint64_t rejected() const = 0;   // malformed, oversized, unknown site
  virtual void stop() = 0;
};

}  // namespace qlik_reload
