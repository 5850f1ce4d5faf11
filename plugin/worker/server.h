// WorkerServer: the worker's Thrift server, built from the "listen"
// configuration. main() builds it, calls serve() on its thread and stop()
// from the signal thread.
//
// Server model: thread per connection (TThreadedServer). A runReload, or a
// long poll (waitReload, up to an hour), holds its connection for as long as
// it waits, so a fixed pool would turn waiting callers away (a pool ties a
// thread to a connection, not to a call). The limits bound what this model
// can be made to spend (see endpoint.h for what a hostile client meets):
//   - max_connections bounds threads and descriptors: connection N+1 is not
//     accepted until one of the N closes; it waits in the kernel's listen
//     backlog (its connect succeeds, its first call is answered late) and the
//     worker logs once that the limit was reached;
//   - idle_timeout_ms and read_timeout_ms bound how long a connection that
//     makes no progress (idle, trickling bytes, not reading its answer) holds
//     its thread;
//   - max_frame_bytes, max_string_bytes and max_container_items bound the
//     memory one request can make the worker allocate.
// Cost: about 34 KiB per waiting caller (5,000 waiting measured at 197 MB
// peak, docs/benchmarks.md): a waiting thread gives back its idle stack
// (core/idle_stack.h) and the worker runs without glibc's per-thread malloc
// caches (main.cpp). An event loop with Thrift's asynchronous processor,
// parking long polls as callbacks, would cost a few KiB per caller; it is
// the next step if one worker must hold many more waiting callers.
// The endpoint part (socket, transports, protocol, limits) lives in
// endpoint.h so that another server model can reuse it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <thrift/TProcessor.h>

#include "config/config.h"
#include "core/status.h"

namespace apache::thrift::server {
class TThreadedServer;
}

namespace qlik_reload::worker {

class WorkerServer {
 public:
  // Called once the socket listens, with the bound port (useful with port 0).
  using ListeningCallback = std::function<void(int port)>;

  // Builds the server for `listen` around the service's `processor`; does not
  // listen yet. With listen.tls it loads the certificate, key and client CAs
  // now (kConfiguration when they cannot be loaded). Logs how the port is
  // secured, and the warning for listen.insecure, every time. Raises the
  // process's open-file limit towards what max_connections needs (warning
  // when the hard limit is lower). Call it after blocking the stop signals:
  // it starts a thread.
  static Result<std::unique_ptr<WorkerServer>> create(const ListenConfig& listen,
                                                      std::shared_ptr<apache::thrift::TProcessor> processor,
                                                      ListeningCallback onListening);
  ~WorkerServer();
  WorkerServer(const WorkerServer&) = delete;
  WorkerServer& operator=(const WorkerServer&) = delete;

  // Listens and serves until stop(). Returns kUnavailable naming the address
  // when it cannot listen (address in use, not an address of this host).
  // Returns after stop() once every connection has ended.
  Status serve();

  // Thread-safe: stops accepting and interrupts connections that wait for a
  // request; calls in progress finish first (they answer promptly once the
  // operators are shut down).
  void stop();

 private:
  class Events;
  WorkerServer() = default;

  std::string address_;  // "host:port" as configured, for messages
  std::atomic<bool> stopping_{false};
  std::shared_ptr<Events> events_;
  std::unique_ptr<apache::thrift::server::TThreadedServer> server_;
};

}  // namespace qlik_reload::worker
