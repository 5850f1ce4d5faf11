// A throwaway PKI shaped like a Qlik Sense site's, for qrs-sim, the demo and
// the tests. Generated with the openssl command; never committed.
//
// Files written into `dir` (created if needed; keys are mode 0600):
//   root.pem,   root_key.pem    self-signed CA "CN=<hostName>-CA" (like Qlik's site CA)
//   server.pem, server_key.pem  "CN=<hostName>", SAN DNS:<hostName> only, serverAuth
//   client.pem, client_key.pem  "CN=QlikClient", clientAuth (what QMC exports)
#pragma once

#include <string>

#include "core/status.h"

namespace qlik_reload::sim {

struct PkiOptions {
  std::string hostName = "qlikserver1";  // the name on the server certificate
  std::string opensslPath = "openssl";
};

// Fails with kInternal naming the openssl step and quoting its error output.
Status makePki(const std::string& dir, const PkiOptions& options = {});

}  // namespace qlik_reload::sim
