// QrsSimulator: qrs-sim in-process. Serves the simulated QRS (SimEngine via
// Router) over HTTPS with a mandatory client certificate, like QRS on port
// 4242, and carries out fault rules (fault_rule.h).
//
//   QrsSimulator sim(scenario, {.pkiDir = dir});
//   if (Status s = sim.start(); !s.isOk()) ...;
//   connect to https://<host name on server.pem>:sim.port() ...
//   sim.stop();
//
// TLS: DIR/server.pem + DIR/server_key.pem as server certificate, DIR/root.pem
// as the only CA for client certificates; a client certificate is required
// and verified (chain only: the client's address is not compared with it).
// HTTP: keep-alive on; one thread per open connection up to maxThreads,
// further connections wait in a queue of maxQueued.
//
// Change notifications (notifications.h): POST /qrs/notification
// subscriptions get callbacks from a CallbackSender (callback_sender.h; https
// callbacks verified against DIR/root.pem). While a subscription for a type
// the engine reports exists, a ticker thread plays the simulation forward on
// its own: it sleeps on the clock until the engine's next scheduled
// transition (SimEngine::nextTransitionAt) or until a request records a
// change, collects the changes and hands their callbacks to the sender. So a
// run that finishes while no client is calling is still reported, within
// the thread wake-up time of its simulated end. Without subscriptions the
// ticker sleeps without a deadline (and is not a sleeper of a manual clock).
//
// start() returns once the socket is bound and the server accepts
// connections, so callers never sleep for readiness. stop() ends pending
// fault delays, closes open connections and joins the threads; the
// destructor calls it. A stopped simulator cannot be started again. start/stop
// are not meant to race with each other; everything else is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "sim/engine.h"
#include "sim/faults.h"
#include "sim/notifications.h"
#include "sim/scenario.h"

namespace qlik_reload::sim {

struct SimulatorOptions {
  std::string pkiDir;                     // required: server.pem, server_key.pem, root.pem
  std::string bindAddress = "127.0.0.1";  // numeric address to listen on
  std::uint16_t port = 0;                 // 0: any free port (see port())
  double timeScale = 1.0;                 // simulated durations are divided by this (> 0)
  int maxThreads = 64;                    // connections served at once
  int maxQueued = 1024;                   // accepted connections waiting for a thread
  bool logRequests = false;               // one info line per request through core/log.h
  std::chrono::milliseconds callbackConnectTimeout{2000};  // per callback POST (> 0)
  std::chrono::milliseconds callbackIoTimeout{2000};       // each send and receive of a callback POST (> 0)
  int callbackThreads = 4;                                 // callback destinations served at once (>= 1)
};

class QrsSimulator {
 public:
  // `clock` must outlive the simulator. Fault delays and down windows wait on
  // it too, so a manual clock drives them in tests.
  QrsSimulator(Scenario scenario, SimulatorOptions options, Clock& clock = SystemClock::instance());
  ~QrsSimulator();

  QrsSimulator(const QrsSimulator&) = delete;
  QrsSimulator& operator=(const QrsSimulator&) = delete;

  // kConfiguration: a PKI file is missing, unreadable or invalid (the
  // message names it). kUnavailable: the address cannot be bound.
  // kInvalidArgument: bad options. Calling start() twice is kInternal.
  Status start();
  // The bound port; 0 before start().
  std::uint16_t port() const;
  // Idempotent.
  void stop();

  SimEngine& engine();
  FaultInjector& faults();
  NotificationHub& notifications();

  class Impl;  // implementation detail (simulator.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace qlik_reload::sim
