// How to reach one Qlik Sense site's QRS: address, identity, TLS, timeouts.
// Filled from the worker's configuration (config/config.h); consumed by
// HttpQrsClient. Paths are absolute by the time they get here.
#pragma once

#include <cstddef>
#include <string>

#include "core/clock.h"

namespace qlik_reload::qrs {

enum class TlsVerify {
  kFull,   // chain to ca_file and host name (the URL host, or server_name when set). Default.
  kChain,  // chain to ca_file, any name: for sites whose certificate names no reachable host
  kNone,   // no verification at all; logged as a warning at every start
};

struct ConnectionOptions {
  // "https://qlikserver1:4242"; a path after the port is a prefix put before
  // /qrs (a virtual proxy). Only https is accepted.
  std::string url;

  // Certificate authentication (QMC export, PEM).
  std::string clientCertFile;           // client.pem
  std::string clientKeyFile;            // client_key.pem
  std::string clientKeyPassphrase;      // secret: never logged, never in messages
  std::string userDirectory = "INTERNAL";
  std::string userId = "sa_scheduler";  // sent as X-Qlik-User

  std::string caFile;                   // root.pem; required unless verify is kNone
  TlsVerify verify = TlsVerify::kFull;
  std::string serverName;               // name on QRS's certificate when it differs from the URL host

  Duration connectTimeout{10'000};
  Duration readTimeout{60'000};         // per request; the synchronous start can be slow on a busy site
  std::size_t maxResponseBytes = 16u << 20;  // larger answers are a protocol error (log downloads keep a tail)
  int maxConnections = 8;               // keep-alive sessions kept for reuse
  int maxConcurrentRequests = 8;        // requests in flight to this QRS at once; more wait their turn
  // Longest request URL (path and query). Batched reads are cut into URLs
  // this long: 4,000 characters hold about 60 execution ids and stay well
  // inside HTTP.sys's 16 KiB request-line limit in front of QRS.
  std::size_t maxUrlLength = 4000;
};

}  // namespace qlik_reload::qrs
