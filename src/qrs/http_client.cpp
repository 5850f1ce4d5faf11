#include "qrs/http_client.h"

#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <istream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include "core/guid.h"
#include "core/log.h"
#include "qlik_reload_version.h"
#include "qrs/decode.h"
#include "qrs/endpoint.h"
#include "qrs/filter.h"
#include "qrs/http_reply.h"
#include "qrs/json_util.h"
#include "qrs/session_pool.h"
#include "qrs/tls.h"
#include "qrs/transport_error.h"
#include "qrs/xrfkey.h"

namespace qlik_reload::qrs {
namespace {

// Kept below the idle timeouts of common servers and proxies (QRS's HTTP
// stack and IIS-style proxies close idle connections after a few seconds to
// two minutes), so a pooled connection is rarely found closed.
constexpr std::chrono::milliseconds kPoolIdleLimit{4000};
constexpr long kSessionKeepAliveSeconds = 5;
// downloadScriptLog reads and drops everything but the tail; past this much a
// "log" is no log.
constexpr std::uint64_t kMaxScriptLogBytes = 1ULL << 30;
constexpr std::size_t kMaxTicketLength = 256;
constexpr std::size_t kMaxErrorBodyBytes = 64 * 1024;

const std::string kGet = "GET";
const std::string kPost = "POST";
const std::string kDelete = "DELETE";

void ignoreSigpipeIfDefault() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      sigaction(SIGPIPE, &ignore, nullptr);
    }
  });
}

Status checkHeaderValue(const std::string& value, const char* what) {
  if (value.empty()) return Status::configuration(std::string(what) + " is empty");
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == ';' || c == '=') {
      return Status::configuration(std::string(what) + " '" + excerpt(value, 60) +
                                   "' may only hold printable ASCII without ';' and '='");
    }
  }
  return Status::ok();
}

bool isTicketChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

std::string quotedName(std::string_view name) { return "'" + excerpt(name, 80) + "'"; }

enum class BodyMode { kWhole, kTail };

struct Request {
  const std::string* method = &kGet;
  std::string path;  // below the prefix, starting with /qrs/
  std::vector<std::pair<std::string, std::string>> query;
  std::string operation;
  BodyMode mode = BodyMode::kWhole;
  std::size_t tailBytes = 0;
  const char* accept = "application/json";
  std::string body;  // POST only
};

// Caps the requests in flight to one QRS; callers beyond it wait their turn.
class RequestGate {
 public:
  explicit RequestGate(int slots) : free_(std::max(1, slots)) {}
  void enter() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return free_ > 0; });
    --free_;
  }
  void leave() {
    std::lock_guard<std::mutex> guard(mutex_);
    ++free_;
    changed_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int free_;
};

}  // namespace

struct HttpQrsClient::Impl {
  ConnectionOptions options_;
  QrsEndpoint endpoint_;
  Poco::Net::Context::Ptr context_;
  TransportTarget target_;
  std::string userHeader_;
  SessionPool pool_;
  RequestGate gate_;

  Impl(ConnectionOptions opts, QrsEndpoint ep, Poco::Net::Context::Ptr ctx)
      : options_(std::move(opts)),
        endpoint_(std::move(ep)),
        context_(std::move(ctx)),
        userHeader_("UserDirectory=" + options_.userDirectory + "; UserId=" + options_.userId),
        pool_(static_cast<std::size_t>(options_.maxConnections), kPoolIdleLimit),
        gate_(options_.maxConcurrentRequests) {
    target_.origin = endpoint_.origin;
    target_.verify = options_.verify;
    target_.caFile = options_.caFile;
    target_.expectedName = expectedServerName(options_, endpoint_);
    target_.connectTimeout = options_.connectTimeout;
    target_.readTimeout = options_.readTimeout;
  }

  std::unique_ptr<PooledSession> newSession() const {
    auto session =
        std::make_unique<PooledSession>(endpoint_.host, static_cast<Poco::UInt16>(endpoint_.port), context_);
    const auto micros = [](Duration d) {
      return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(d.count()) * 1000);
    };
    session->setTimeout(micros(options_.connectTimeout), micros(options_.readTimeout), micros(options_.readTimeout));
    session->setKeepAlive(true);
    session->setKeepAliveTimeout(Poco::Timespan(kSessionKeepAliveSeconds, 0));
    return session;
  }

  // One try on one connection: `session` is a pooled one, or null for a new
  // connection. `staleSymptom` tells whether the failure looks like a
  // keep-alive connection QRS had already closed.
  Result<HttpReply> attempt(const Request& request, const std::string& pathAndQuery, const std::string& xrfKey,
                            std::unique_ptr<PooledSession> session, bool& staleSymptom) {
    staleSymptom = false;
    const bool reused = session != nullptr;
    TransportPhase phase = reused ? TransportPhase::kSending : TransportPhase::kConnecting;
    clearLastVerifyFailure();
    try {
      if (!reused) {
        session = newSession();
        session->connect();
      }
      phase = TransportPhase::kSending;
      Poco::Net::HTTPRequest httpRequest(*request.method, pathAndQuery, Poco::Net::HTTPMessage::HTTP_1_1);
      httpRequest.setKeepAlive(true);
      httpRequest.set("X-Qlik-Xrfkey", xrfKey);
      httpRequest.set("X-Qlik-User", userHeader_);
      httpRequest.setContentType("application/json");
      httpRequest.set("Accept", request.accept);
      httpRequest.set("User-Agent", "qlik-reload/" QLIK_RELOAD_VERSION);
      if (request.method == &kPost) {
        httpRequest.setContentLength(static_cast<std::streamsize>(request.body.size()));
        session->sendRequest(httpRequest) << request.body << std::flush;
      } else {
        session->sendRequest(httpRequest).flush();
      }

      phase = TransportPhase::kWaiting;
      Poco::Net::HTTPResponse response;
      std::istream& in = session->receiveResponse(response);
      phase = TransportPhase::kReading;
      // Poco's stream buffers report network errors by setting badbit;
      // this turns them back into the exception they were.
      in.exceptions(std::ios::badbit);

      HttpReply reply;
      reply.status = static_cast<int>(response.getStatus());
      reply.reason = response.getReason();
      reply.contentType = response.getContentType();
      if (response.has("Retry-After")) {
        reply.retryAfter = parseRetryAfter(response.get("Retry-After"), std::chrono::system_clock::now());
      }
      const bool success = reply.status >= 200 && reply.status <= 299;
      const bool tail = request.mode == BodyMode::kTail && success;
      // Of an error answer only the start is quoted, so a long one is cut
      // rather than failed: a 503 must stay a (retryable) 503.
      const std::size_t limit = tail      ? request.tailBytes
                                : success ? options_.maxResponseBytes
                                          : std::min(options_.maxResponseBytes, kMaxErrorBodyBytes);

      // On the heap: every thread that ever calls QRS would otherwise keep
      // 16 KiB of touched stack, and the worker runs a thread per caller.
      std::vector<char> buffer(16384);
      std::uint64_t total = 0;
      bool tooLarge = false;
      while (true) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto count = static_cast<std::size_t>(in.gcount());
        if (count > 0) {
          total += count;
          if (tail) {
            reply.body.append(buffer.data(), count);
            // Trim in batches so dropping the head stays linear overall.
            if (reply.body.size() > limit && reply.body.size() - limit > std::max(limit, buffer.size())) {
              reply.body.erase(0, reply.body.size() - limit);
            }
            if (total > kMaxScriptLogBytes) tooLarge = true;
          } else if (reply.body.size() + count > limit) {
            reply.body.append(buffer.data(), limit - reply.body.size());
            tooLarge = true;
          } else {
            reply.body.append(buffer.data(), count);
          }
        }
        if (tooLarge || !in) break;
      }
      // When tooLarge, the rest of the answer is unread and the connection
      // cannot be reused: `session` is dropped with this scope.
      if (tooLarge && success) {
        std::uint64_t shown = tail ? kMaxScriptLogBytes : limit;
        Status status = Status::protocol(request.operation + ": answer larger than " + std::to_string(shown) +
                                         " bytes (HTTP " + std::to_string(reply.status) + ")");
        status.setHttpStatus(reply.status);
        return status;
      }
      if (tooLarge) return reply;
      if (tail && reply.body.size() > limit) reply.body.erase(0, reply.body.size() - limit);
      if (response.hasContentLength() && response.getContentLength64() >= 0 &&
          total != static_cast<std::uint64_t>(response.getContentLength64()) && reply.status != 204 &&
          reply.status != 304) {
        return Status::unavailable(request.operation + ": QRS at " + endpoint_.origin +
                                   " closed the connection after " + std::to_string(total) + " of " +
                                   std::to_string(response.getContentLength64()) + " bytes");
      }
      if (response.getKeepAlive()) pool_.giveBack(std::move(session));
      return reply;
    } catch (const Poco::TimeoutException&) {
      // A slow QRS is not a closed connection: never a reason to re-send.
      Status status = statusFromCurrentException(target_, phase);
      if (phase == TransportPhase::kConnecting) status.setNotSent();
      return status.withContext(request.operation);
    } catch (...) {
      Status status = statusFromCurrentException(target_, phase);
      if (phase == TransportPhase::kConnecting) status.setNotSent();
      staleSymptom = reused && status.code() == ErrorCode::kUnavailable &&
                     (phase == TransportPhase::kSending || phase == TransportPhase::kWaiting);
      if (!reused && phase == TransportPhase::kWaiting && status.code() == ErrorCode::kUnavailable) {
        // TLS 1.3 servers check our certificate after the handshake; a refusal
        // can then arrive as a reset or a silent close instead of an alert.
        // Not certain enough to reclassify, worth saying.
        status = Status(status.code(), status.message() +
                                           " (right after the TLS handshake: QRS may have refused our client "
                                           "certificate)");
      }
      return status.withContext(request.operation);
    }
  }

  // The transport step: an HTTP answer of any status, or a transport failure
  // (already carrying the operation). At most one extra try, see the header.
  Result<HttpReply> exchange(const Request& request) {
    Poco::URI uri;
    std::string xrfKey = newXrfKey();
    std::string pathAndQuery;
    try {
      uri.setPath(endpoint_.pathPrefix + request.path);
      for (const auto& [name, value] : request.query) uri.addQueryParameter(name, value);
      uri.addQueryParameter("xrfkey", xrfKey);
      pathAndQuery = uri.getPathAndQuery();
    } catch (const Poco::Exception& e) {
      return Status::invalidArgument(request.operation + ": cannot build the request URL: " + excerpt(e.displayText()));
    }
    if (pathAndQuery.size() > options_.maxUrlLength) {
      return Status::invalidArgument(request.operation + ": the request URL would be " +
                                     std::to_string(pathAndQuery.size()) + " characters (limit " +
                                     std::to_string(options_.maxUrlLength) + ")");
    }

    gate_.enter();
    const auto started = std::chrono::steady_clock::now();
    bool stale = false;
    Result<HttpReply> reply = attempt(request, pathAndQuery, xrfKey, pool_.takeIdle(), stale);
    if (!reply.isOk() && stale && request.method == &kGet) {
      logDebug("QRS GET " + request.path + " failed on a reused connection (" + reply.status().message() +
               "); sending it once more on a new connection");
      reply = attempt(request, pathAndQuery, xrfKey, nullptr, stale);
    }
    gate_.leave();
    if (logLevel() <= LogLevel::kDebug) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      std::string outcome = reply.isOk() ? "HTTP " + std::to_string(reply->status) : reply.status().toString();
      logDebug("QRS " + *request.method + " " + endpoint_.pathPrefix + request.path + " → " + outcome + " in " +
               std::to_string(ms.count()) + " ms");
    }
    return reply;
  }

  // exchange + classifyReply: a 2xx answer or the classified failure.
  Result<HttpReply> call(const Request& request) {
    Result<HttpReply> reply = exchange(request);
    if (!reply.isOk()) return reply;
    if (Status status = classifyReply(*reply, request.operation); !status.isOk()) return status;
    return reply;
  }

  template <typename T>
  Result<T> decoded(const Request& request, const HttpReply& reply, Result<T> value) {
    if (value.isOk()) return value;
    Status status = value.status().withContext(request.operation);
    status.setHttpStatus(reply.status);
    return status;
  }

  template <typename T>
  Result<T> callAndDecode(const Request& request, Result<T> (*decode)(std::string_view)) {
    Result<HttpReply> reply = call(request);
    if (!reply.isOk()) return reply.status();
    return decoded(request, *reply, decode(reply->body));
  }
};

namespace {

Status requireGuid(std::string_view value, const char* what, const std::string& operation) {
  if (isGuid(value)) return Status::ok();
  return Status::invalidArgument(operation + ": " + what + " '" + excerpt(value, 60) + "' is not a GUID");
}

}  // namespace

Result<std::unique_ptr<HttpQrsClient>> HttpQrsClient::create(ConnectionOptions options) {
  ignoreSigpipeIfDefault();
  Result<QrsEndpoint> endpoint = parseQrsUrl(options.url);
  if (!endpoint.isOk()) return endpoint.status();
  if (Status s = checkHeaderValue(options.userDirectory, "user_directory"); !s.isOk()) return s;
  if (Status s = checkHeaderValue(options.userId, "user_id"); !s.isOk()) return s;
  if (options.connectTimeout.count() <= 0 || options.readTimeout.count() <= 0) {
    return Status::configuration("connect and read timeouts must be positive");
  }
  if (options.maxResponseBytes == 0) return Status::configuration("maxResponseBytes must be positive");
  if (options.maxConnections < 1) return Status::configuration("maxConnections must be at least 1");

  Result<Poco::Net::Context::Ptr> context = makeClientContext(options, *endpoint);
  // The key is decrypted inside OpenSSL now; drop our copy of the secret.
  std::fill(options.clientKeyPassphrase.begin(), options.clientKeyPassphrase.end(), '\0');
  options.clientKeyPassphrase.clear();
  if (!context.isOk()) return context.status();

  auto impl = std::make_unique<Impl>(std::move(options), std::move(endpoint).value(), std::move(context).value());
  return std::unique_ptr<HttpQrsClient>(new HttpQrsClient(std::move(impl)));
}

HttpQrsClient::HttpQrsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpQrsClient::~HttpQrsClient() = default;

const std::string& HttpQrsClient::origin() const { return impl_->endpoint_.origin; }

Result<StartReply> HttpQrsClient::startTask(std::string_view taskId) {
  if (Status s = requireGuid(taskId, "task id", "start task"); !s.isOk()) return s;
  Request request;
  request.method = &kPost;
  request.path = "/qrs/task/" + normalizeGuid(taskId) + "/start/synchronous";
  request.operation = "start task " + normalizeGuid(taskId);
  return impl_->callAndDecode<StartReply>(request, &decodeStartReply);
}

Result<StartReply> HttpQrsClient::startTaskByName(std::string_view name) {
  if (name.empty()) return Status::invalidArgument("start task by name: the name is empty");
  Request request;
  request.method = &kPost;
  request.path = "/qrs/task/start/synchronous";
  request.query.emplace_back("name", std::string(name));
  request.operation = "start task named " + quotedName(name);
  return impl_->callAndDecode<StartReply>(request, &decodeStartReply);
}

Result<std::optional<ExecutionSession>> HttpQrsClient::getExecutionSession(std::string_view id) {
  if (Status s = requireGuid(id, "execution session id", "get execution session"); !s.isOk()) return s;
  Request request;
  request.path = "/qrs/executionsession/" + normalizeGuid(id);
  request.operation = "get execution session " + normalizeGuid(id);
  Result<HttpReply> reply = impl_->exchange(request);
  if (!reply.isOk()) return reply.status();
  if (reply->status == 404) return std::optional<ExecutionSession>();
  if (Status s = classifyReply(*reply, request.operation); !s.isOk()) return s;
  Result<ExecutionSession> session = impl_->decoded(request, *reply, decodeExecutionSession(reply->body));
  if (!session.isOk()) return session.status();
  return std::optional<ExecutionSession>(std::move(session).value());
}

Result<std::vector<ExecutionSession>> HttpQrsClient::findExecutionSessionsOfTask(std::string_view taskId) {
  const std::string operation = "find execution sessions of task";
  if (Status s = requireGuid(taskId, "task id", operation); !s.isOk()) return s;
  Result<std::string> filter = filterGuidEquals("reloadTask.id", taskId);
  if (!filter.isOk()) return filter.status().withContext(operation);
  Request request;
  request.path = "/qrs/executionsession/full";
  request.query.emplace_back("filter", *filter);
  request.operation = operation + " " + normalizeGuid(taskId);
  return impl_->callAndDecode<std::vector<ExecutionSession>>(request, &decodeExecutionSessionList);
}

Result<std::vector<ExecutionResult>> HttpQrsClient::findExecutionResultsOfTask(std::string_view taskId,
                                                                              WallTime since) {
  const std::string operation = "find execution results of task";
  if (Status s = requireGuid(taskId, "task id", operation); !s.isOk()) return s;
  Result<std::string> byTask = filterGuidEquals("taskID", taskId);
  if (!byTask.isOk()) return byTask.status().withContext(operation);
  Request request;
  request.path = "/qrs/executionresult/full";
  request.query.emplace_back("filter", *byTask + " and createdDate ge " + quoteFilterString(formatIso8601(since)));
  request.operation = operation + " " + normalizeGuid(taskId);
  return impl_->callAndDecode<std::vector<ExecutionResult>>(request, &decodeExecutionResultList);
}

Result<std::vector<ExecutionResult>> HttpQrsClient::resultsMatching(const char* property,
                                                                   const std::vector<std::string>& executionIds,
                                                                   const std::string& operation) {
  std::vector<std::string> ids;
  std::unordered_set<std::string> seen;
  for (const std::string& id : executionIds) {
    if (Status s = requireGuid(id, "execution id", operation); !s.isOk()) return s;
    if (seen.insert(normalizeGuid(id)).second) ids.push_back(normalizeGuid(id));
  }
  if (ids.empty()) return std::vector<ExecutionResult>();

  const std::string path = "/qrs/executionresult/full";
  const std::size_t maxUrl = impl_->options_.maxUrlLength;
  // What the URL holds besides the filter's value, measured the same way the
  // request will be built.
  std::size_t fixed = maxUrl;
  try {
    Poco::URI skeleton;
    skeleton.setPath(impl_->endpoint_.pathPrefix + path);
    skeleton.addQueryParameter("filter", "");
    skeleton.addQueryParameter("xrfkey", std::string(kXrfKeyLength, 'x'));
    fixed = skeleton.getPathAndQuery().size();
  } catch (const Poco::Exception&) {
    // Left at the limit: reported just below.
  }
  if (fixed >= maxUrl) return Status::invalidArgument(operation + ": the URL prefix is too long");
  Result<std::vector<std::vector<std::string>>> chunks = chunkGuidsForFilter(property, ids, maxUrl - fixed);
  if (!chunks.isOk()) return chunks.status().withContext(operation);

  // The chunks go out side by side (the request gate caps how many), so a
  // tick over thousands of executions costs a few round trips, not hundreds.
  const std::size_t count = chunks->size();
  std::vector<Result<std::vector<ExecutionResult>>> parts(count, Status::internal("not sent"));
  auto fetch = [&](std::size_t i) {
    const std::vector<std::string>& chunk = (*chunks)[i];
    Result<std::string> filter = filterAnyGuidEquals(property, chunk);
    if (!filter.isOk()) {
      parts[i] = filter.status().withContext(operation);
      return;
    }
    Request request;
    request.path = path;
    request.query.emplace_back("filter", *filter);
    request.operation = operation + " for " + std::to_string(chunk.size()) + " execution(s)" +
                        (count > 1 ? " (part " + std::to_string(i + 1) + " of " + std::to_string(count) + ")" : "");
    parts[i] = impl_->callAndDecode<std::vector<ExecutionResult>>(request, &decodeExecutionResultList);
  };
  const std::size_t lanes =
      std::min<std::size_t>(count, static_cast<std::size_t>(std::max(1, impl_->options_.maxConcurrentRequests)));
  if (lanes <= 1) {
    for (std::size_t i = 0; i < count; ++i) fetch(i);
  } else {
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> threads;
    for (std::size_t lane = 0; lane < lanes; ++lane) {
      threads.emplace_back([&] {
        for (std::size_t i = next++; i < count; i = next++) fetch(i);
      });
    }
    for (std::thread& t : threads) t.join();
  }
  std::vector<ExecutionResult> all;
  for (auto& part : parts) {
    if (!part.isOk()) return part.status();
    for (ExecutionResult& result : part.value()) all.push_back(std::move(result));
  }
  return all;
}

Result<std::vector<ExecutionResult>> HttpQrsClient::getExecutionResults(const std::vector<std::string>& executionIds) {
  return resultsMatching("ExecutionId", executionIds, "get execution results");
}

Result<std::vector<ExecutionResult>> HttpQrsClient::getExecutionResultsById(const std::vector<std::string>& resultIds) {
  return resultsMatching("id", resultIds, "get execution results by id");
}

Result<std::vector<ReloadTaskInfo>> HttpQrsClient::findReloadTasksByName(std::string_view name) {
  if (name.empty()) return Status::invalidArgument("find reload tasks by name: the name is empty");
  Result<std::string> filter = filterStringEquals("name", name);
  if (!filter.isOk()) return filter.status().withContext("find reload tasks by name");
  Request request;
  request.path = "/qrs/reloadtask";
  request.query.emplace_back("filter", *filter);
  request.operation = "find reload tasks named " + quotedName(name);
  return impl_->callAndDecode<std::vector<ReloadTaskInfo>>(request, &decodeReloadTaskList);
}

Result<std::string> HttpQrsClient::subscribeChanges(std::string_view typeName, std::string_view filter,
                                                    std::string_view callbackUrl) {
  const std::string operation = "subscribe to " + std::string(typeName) + " changes";
  Request request;
  request.method = &kPost;
  request.path = "/qrs/notification";
  request.query.emplace_back("name", std::string(typeName));
  request.query.emplace_back("changetype", "2");  // Update
  if (!filter.empty()) request.query.emplace_back("filter", std::string(filter));
  request.operation = operation;
  // The body is the callback URL as a JSON string.
  std::ostringstream body;
  Poco::JSON::Stringifier::stringify(Poco::Dynamic::Var(std::string(callbackUrl)), body);
  request.body = body.str();
  return impl_->callAndDecode<std::string>(request, &decodeTicket);
}

Status HttpQrsClient::unsubscribeChanges(std::string_view handle) {
  if (Status s = requireGuid(handle, "notification handle", "remove a change subscription"); !s.isOk()) return s;
  Request request;
  request.method = &kDelete;
  request.path = "/qrs/notification";
  request.query.emplace_back("handle", normalizeGuid(handle));
  request.operation = "remove change subscription " + normalizeGuid(handle);
  Result<HttpReply> reply = impl_->call(request);
  return reply.isOk() ? Status::ok() : reply.status();
}

Status HttpQrsClient::stopTask(std::string_view taskId) {
  if (Status s = requireGuid(taskId, "task id", "stop task"); !s.isOk()) return s;
  Request request;
  request.method = &kPost;
  request.path = "/qrs/task/" + normalizeGuid(taskId) + "/stop";
  request.operation = "stop task " + normalizeGuid(taskId);
  Result<HttpReply> reply = impl_->call(request);
  return reply.isOk() ? Status::ok() : reply.status();
}

Result<std::string> HttpQrsClient::scriptLogTicket(std::string_view taskId, std::string_view executionResultId) {
  const std::string operation = "get script log ticket";
  if (Status s = requireGuid(taskId, "task id", operation); !s.isOk()) return s;
  if (Status s = requireGuid(executionResultId, "execution result id", operation); !s.isOk()) return s;
  Request request;
  request.path = "/qrs/reloadtask/" + normalizeGuid(taskId) + "/scriptlogfile";
  request.query.emplace_back("executionResultId", normalizeGuid(executionResultId));
  request.operation = operation + " of execution result " + normalizeGuid(executionResultId);
  return impl_->callAndDecode<std::string>(request, &decodeTicket);
}

Result<std::string> HttpQrsClient::legacyScriptLogTicket(std::string_view taskId, std::string_view fileReferenceId) {
  const std::string operation = "get script log ticket (legacy)";
  if (Status s = requireGuid(taskId, "task id", operation); !s.isOk()) return s;
  if (Status s = requireGuid(fileReferenceId, "file reference id", operation); !s.isOk()) return s;
  Request request;
  request.path = "/qrs/reloadtask/" + normalizeGuid(taskId) + "/scriptlog";
  request.query.emplace_back("fileReferenceId", normalizeGuid(fileReferenceId));
  request.operation = operation + " of file reference " + normalizeGuid(fileReferenceId);
  return impl_->callAndDecode<std::string>(request, &decodeTicket);
}

Result<std::string> HttpQrsClient::downloadScriptLog(std::string_view ticket, size_t maxTailBytes) {
  const std::string operation = "download script log";
  bool valid = !ticket.empty() && ticket.size() <= kMaxTicketLength;
  for (char c : ticket) valid = valid && isTicketChar(c);
  if (!valid) {
    return Status::invalidArgument(operation + ": ticket '" + excerpt(ticket, 60) +
                                   "' is not 1-256 characters of [A-Za-z0-9._~-]");
  }
  Request request;
  request.path = "/qrs/download/reloadtask/" + std::string(ticket) + "/scriptlog.txt";
  request.operation = operation;
  request.mode = BodyMode::kTail;
  request.tailBytes = maxTailBytes;
  request.accept = "*/*";
  Result<HttpReply> reply = impl_->call(request);
  if (!reply.isOk()) return reply.status();
  return std::move(reply.value().body);
}

Result<AboutInfo> HttpQrsClient::about() {
  Request request;
  request.path = "/qrs/about";
  request.operation = "about";
  return impl_->callAndDecode<AboutInfo>(request, &decodeAbout);
}

}  // namespace qlik_reload::qrs
