// ThriftEndpoint: what every connection to the worker's Thrift port goes
// through, whatever server model runs the connections: the listening socket
// (plain TCP, or TLS that requires a client certificate), the framed
// transport with its deadlines and frame limit, and the binary protocol with
// its string and container limits. server.h puts these into a
// TThreadedServer. Another blocking server model (a pool, a bounded
// acceptor) can reuse all of it; an event-driven one (TNonblockingServer)
// does its own framing, so it would keep the TLS setup, the protocol limits
// and guardProcessor() and enforce the frame limit and deadlines itself.
//
// What a client that breaks a limit experiences, and what the worker logs
// (one line each, naming the peer and the configuration key):
//   - a frame header announcing more than max_frame_bytes (or a negative
//     size): the connection is closed at once, before anything is allocated;
//   - a string or binary field longer than max_string_bytes, a container
//     with more than max_container_items, or any request that does not fit
//     in its own frame: the connection is closed once the field is read;
//   - no request started within idle_timeout_ms (counted from the
//     connection's start or the end of the previous answer, TLS handshake
//     included): closed (logged at info: clients may keep idle connections);
//   - a request whose first byte arrived but whose frame is not complete
//     within read_timeout_ms (slowloris, truncated frame): closed;
//   - an answer the client does not take within read_timeout_ms: closed;
//   - a TLS handshake that fails (no client certificate, one from another
//     CA, plain TCP to a TLS port): closed, logged with OpenSSL's reason.
// Deadlines are enforced by one watchdog thread that shuts the socket down
// when a deadline passes, so they hold however slowly bytes trickle in
// (a per-read timeout alone restarts with every byte).
//
// Nothing here logs or returns key material or passphrases.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <thrift/TProcessor.h>
#include <thrift/protocol/TProtocol.h>
#include <thrift/transport/TServerSocket.h>
#include <thrift/transport/TTransport.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/status.h"

namespace qlik_reload::worker {

// The per-connection limits, as configured in "listen".
struct EndpointLimits {
  Duration idleTimeout{300'000};
  Duration readTimeout{30'000};
  std::int32_t maxFrameBytes = 1 << 20;
  std::int32_t maxStringBytes = 1 << 20;
  std::int32_t maxContainerItems = 10'000;

  static EndpointLimits fromConfig(const ListenConfig& listen);
};

struct ThriftEndpoint {
  // Bound to listen.host:listen.port once listen() is called; getPort()
  // then tells the port (useful with port 0). Plain TCP, or TLS requiring a
  // client certificate issued by listen.tls.ca_file. A failing accept()
  // (too many open files and the like) is logged and retried; it never ends
  // the server.
  std::shared_ptr<apache::thrift::transport::TServerSocket> socket;
  // TFramedTransport with the frame limit and the idle and read deadlines.
  std::shared_ptr<apache::thrift::transport::TTransportFactory> inputTransports;
  // TFramedTransport whose flush (the answer) has the read_timeout_ms deadline.
  std::shared_ptr<apache::thrift::transport::TTransportFactory> outputTransports;
  // TBinaryProtocol, strict, with the string and container limits.
  std::shared_ptr<apache::thrift::protocol::TProtocolFactory> protocols;
  EndpointLimits limits;
};

// Builds the endpoint for `listen`. With listen.tls it loads the
// certificate, the private key (decrypted with the passphrase, never
// prompting) and the client CAs now; a file that cannot be loaded fails with
// kConfiguration naming the key (the configuration loader has checked them
// already, so this is rare). Does not listen yet.
Result<ThriftEndpoint> makeThriftEndpoint(const ListenConfig& listen);

// Wraps the service's processor so that a request breaking the protocol
// limits (or otherwise malformed) closes its connection with one log line
// instead of an anonymous library message. Transport errors pass through.
std::shared_ptr<apache::thrift::TProcessor> guardProcessor(std::shared_ptr<apache::thrift::TProcessor> processor,
                                                           const EndpointLimits& limits);

// "203.0.113.7:51234" for a connection's input protocol, "a client" when the
// transport is not one of ours.
std::string peerOf(const std::shared_ptr<apache::thrift::protocol::TProtocol>& input);

}  // namespace qlik_reload::worker
