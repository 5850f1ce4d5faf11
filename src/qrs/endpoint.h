// Where a site's QRS listens, parsed from ConnectionOptions::url.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace qlik_reload::qrs {

inline constexpr int kDefaultQrsPort = 4242;

struct QrsEndpoint {
  std::string host;        // DNS name or IP literal (IPv6 without brackets)
  int port = kDefaultQrsPort;
  std::string pathPrefix;  // "" or a virtual-proxy prefix like "/reload", no trailing slash
  bool hostIsIpAddress = false;
  std::string origin;      // "https://host:port/prefix", for messages and logs
};

// Accepts https://host[:port][/prefix[/more]] (port 4242 when not given).
// Refuses other schemes, a missing host, user info, a query, a fragment, a
// path that is not plain segments of [A-Za-z0-9._~-], and a path ending in
// /qrs (the client adds /qrs itself). Fails with kConfiguration, message
// "url '<url>': <reason>".
Result<QrsEndpoint> parseQrsUrl(std::string_view url);

}  // namespace qlik_reload::qrs
