// CallbackSender: delivers change-notification callbacks (notifications.h)
// on its own threads, so that a slow or dead subscriber never holds up the
// simulator: enqueue() only queues and returns.
//
// Deliveries are queued per destination (scheme, host and port). A
// destination is served by one thread at a time, in order; `threads`
// destinations are served at once. When a thread takes a destination it
// takes everything queued for it and sends one POST per subscription and URL
// (arrays joined), so a subscriber that answers slowly gets fewer, larger
// POSTs rather than a growing backlog.
//
// Each POST: Content-Type application/json; charset=utf-8; connect timeout
// connectTimeout, then ioTimeout for each send and receive. A 2xx answer is
// "delivered"; any other status, a refused connection, a timeout or a TLS
// failure is "failed". Failed POSTs are not retried. The one exception is a
// transport: a POST that fails on a connection kept alive from an earlier
// POST, other than by a timeout, is sent once more on a new connection,
// because the peer may have closed the idle connection. Connections are kept
// alive per destination.
//
// https:// callbacks are verified against caFile (the simulator's PKI
// root.pem), chain and host name; no client certificate is presented.
//
// A destination's queue holds at most maxQueuedPerDestination deliveries;
// beyond that the oldest is dropped and reported as failed.
//
// Thread-safe. stop() drops what is queued (unreported), lets POSTs in flight
// finish (bounded by the timeouts) and joins the threads; the destructor
// calls it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "sim/notifications.h"

namespace qlik_reload::sim {

struct CallbackSenderOptions {
  std::chrono::milliseconds connectTimeout{2000};
  std::chrono::milliseconds ioTimeout{2000};  // each send and each receive
  int threads = 4;                            // destinations served at once (>= 1)
  std::size_t maxQueuedPerDestination = 10000;
  std::string caFile;  // PEM CA for https callbacks; empty: https callbacks fail
};

class CallbackSender {
 public:
  // Called once per POST (and per dropped delivery), on a sender thread,
  // without the sender's lock: `handle` of the subscription, and whether it
  // was delivered.
  using Report = std::function<void(const std::string& handle, bool delivered)>;

  CallbackSender(CallbackSenderOptions options, Report report);
  ~CallbackSender();

  CallbackSender(const CallbackSender&) = delete;
  CallbackSender& operator=(const CallbackSender&) = delete;

  // Starts the threads. kInvalidArgument for bad options; kConfiguration
  // when caFile is set but unusable.
  Status start();
  // Queues the deliveries; never blocks on the network. Before start() and
  // after stop() they are dropped unreported.
  void enqueue(std::vector<CallbackDelivery> deliveries);
  // Idempotent.
  void stop();

  // Deliveries waiting (not in flight), for tests and the record.
  std::size_t queued() const;

  class Destination;  // implementation detail (callback_sender.cpp)

 private:
  void work();

  const CallbackSenderOptions options_;
  const Report report_;
  struct TlsContext;
  std::unique_ptr<TlsContext> tls_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::unique_ptr<Destination>> destinations_;
  std::deque<Destination*> ready_;  // destinations with work and no thread on them
  std::vector<std::thread> threads_;
  bool running_ = false;
  bool stopping_ = false;
};

}  // namespace qlik_reload::sim
