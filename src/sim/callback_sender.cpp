#include "sim/callback_sender.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/NullStream.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "sim/json_util.h"

namespace qlik_reload::sim {

struct CallbackSender::TlsContext {
  Poco::Net::Context::Ptr context;
};

class CallbackSender::Destination {
 public:
  std::string scheme;  // "http" or "https"
  std::string host;
  std::uint16_t port = 0;
  std::deque<CallbackDelivery> queue;
  bool busy = false;   // a thread is sending for it
  bool ready = false;  // in ready_
  // Kept alive between POSTs; used only by the thread that holds `busy`.
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
};

namespace {

Poco::Timespan timespan(std::chrono::milliseconds duration) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(duration.count()) * 1000);
}

// A POST whose outcome is known.
enum class PostOutcome { kDelivered, kFailed, kStaleConnection };

}  // namespace

CallbackSender::CallbackSender(CallbackSenderOptions options, Report report)
    : options_(std::move(options)), report_(std::move(report)) {}

CallbackSender::~CallbackSender() { stop(); }

Status CallbackSender::start() {
  if (options_.threads < 1) return Status::invalidArgument("callback sender: threads must be at least 1");
  if (options_.connectTimeout.count() <= 0 || options_.ioTimeout.count() <= 0) {
    return Status::invalidArgument("callback sender: timeouts must be positive");
  }
  if (!options_.caFile.empty()) {
    try {
      if (!Poco::File(options_.caFile).exists()) {
        return Status::configuration("callback CA file " + options_.caFile + " does not exist");
      }
      Poco::Net::Context::Params params;
      params.caLocation = options_.caFile;
      params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
      params.verificationDepth = 9;
      params.loadDefaultCAs = false;
      params.cipherList = "HIGH:!aNULL:!MD5";
      tls_ = std::make_unique<TlsContext>();
      tls_->context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
      tls_->context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    } catch (const Poco::Exception& e) {
      tls_.reset();
      return Status::configuration("callback CA file " + options_.caFile + " is not usable: " + e.displayText());
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (running_ || stopping_) return Status::internal("callback sender: start() called twice");
  running_ = true;
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { work(); });
  return Status::ok();
}

void CallbackSender::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    running_ = false;
    ready_.clear();
    for (auto& [key, destination] : destinations_) destination->queue.clear();
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (std::thread& thread : threads) thread.join();
}

std::size_t CallbackSender::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t total = 0;
  for (const auto& [key, destination] : destinations_) total += destination->queue.size();
  return total;
}

void CallbackSender::enqueue(std::vector<CallbackDelivery> deliveries) {
  std::vector<std::string> dropped;  // handles, reported after the lock is released
  std::vector<std::string> unusable;
  bool woke = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!running_) return;
    for (CallbackDelivery& delivery : deliveries) {
      std::string scheme;
      std::string host;
      std::uint16_t port = 0;
      try {
        Poco::URI uri(delivery.url);
        scheme = toLower(uri.getScheme());
        host = uri.getHost();
        port = uri.getPort();
      } catch (const Poco::Exception&) {
      }
      if (host.empty() || (scheme != "http" && scheme != "https")) {
        unusable.push_back(delivery.handle);  // subscribe() checks URLs; kept as a safeguard
        continue;
      }
      const std::string key = scheme + "://" + host + ":" + std::to_string(port);
      std::unique_ptr<Destination>& slot = destinations_[key];
      if (!slot) {
        slot = std::make_unique<Destination>();
        slot->scheme = scheme;
        slot->host = host;
        slot->port = port;
      }
      Destination& destination = *slot;
      destination.queue.push_back(std::move(delivery));
      while (destination.queue.size() > options_.maxQueuedPerDestination) {
        dropped.push_back(destination.queue.front().handle);
        destination.queue.pop_front();
      }
      if (!destination.busy && !destination.ready) {
        destination.ready = true;
        ready_.push_back(&destination);
        woke = true;
      }
    }
  }
  if (woke) wake_.notify_all();
  for (const std::string& handle : dropped) report_(handle, false);
  for (const std::string& handle : unusable) report_(handle, false);
}

namespace {

// One POST over `session`; the outcome, never an exception.
PostOutcome postOnce(Poco::Net::HTTPClientSession& session, const std::string& target, const std::string& body,
                 bool reused) {
  try {
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, target, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentType("application/json; charset=utf-8");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    request.setKeepAlive(true);
    std::ostream& out = session.sendRequest(request);
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    out.flush();
    if (!out.good()) throw Poco::IOException("writing the callback body failed");
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Poco::NullOutputStream discard;
    Poco::StreamCopier::copyStream(in, discard);  // read to the end, so the connection can be kept
    const int status = response.getStatus();
    return status >= 200 && status < 300 ? PostOutcome::kDelivered : PostOutcome::kFailed;
  } catch (const Poco::TimeoutException&) {
    return PostOutcome::kFailed;
  } catch (const Poco::Exception&) {
    return reused ? PostOutcome::kStaleConnection : PostOutcome::kFailed;
  } catch (const std::exception&) {
    return PostOutcome::kFailed;
  }
}

}  // namespace

void CallbackSender::work() {
  pthread_setname_np(pthread_self(), "qrs-sim-callbk");
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
    if (stopping_) return;
    Destination& destination = *ready_.front();
    ready_.pop_front();
    destination.ready = false;
    destination.busy = true;
    std::deque<CallbackDelivery> taken;
    taken.swap(destination.queue);
    lock.unlock();

    // One POST per subscription and URL, in the order they were first queued.
    std::vector<CallbackDelivery> posts;
    for (CallbackDelivery& delivery : taken) {
      auto same = std::find_if(posts.begin(), posts.end(), [&](const CallbackDelivery& post) {
        return post.handle == delivery.handle && post.url == delivery.url;
      });
      if (same == posts.end()) {
        posts.push_back(std::move(delivery));
      } else {
        for (std::string& record : delivery.records) same->records.push_back(std::move(record));
      }
    }
    for (const CallbackDelivery& post : posts) {
      {
        std::lock_guard<std::mutex> check(mutex_);
        if (stopping_) break;
      }
      std::string target = "/";
      try {
        target = Poco::URI(post.url).getPathEtc();
        if (target.empty()) target = "/";
      } catch (const Poco::Exception&) {
      }
      const std::string body = post.body();
      PostOutcome outcome = PostOutcome::kFailed;
      for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = destination.session != nullptr;
        if (!reused) {
          try {
            if (destination.scheme == "https") {
              if (!tls_) break;  // no CA to verify against: fails
              destination.session =
                  std::make_unique<Poco::Net::HTTPSClientSession>(destination.host, destination.port, tls_->context);
            } else {
              destination.session = std::make_unique<Poco::Net::HTTPClientSession>(destination.host, destination.port);
            }
            destination.session->setTimeout(timespan(options_.connectTimeout), timespan(options_.ioTimeout),
                                             timespan(options_.ioTimeout));
            destination.session->setKeepAlive(true);
          } catch (const Poco::Exception&) {
            destination.session.reset();
            break;
          }
        }
        outcome = postOnce(*destination.session, target, body, reused);
        if (outcome != PostOutcome::kDelivered) destination.session.reset();
        if (outcome != PostOutcome::kStaleConnection) break;
      }
      report_(post.handle, outcome == PostOutcome::kDelivered);
    }

    lock.lock();
    destination.busy = false;
    if (!destination.queue.empty() && !stopping_) {
      destination.ready = true;
      ready_.push_back(&destination);
      wake_.notify_one();
    }
  }
}

}  // namespace qlik_reload::sim
