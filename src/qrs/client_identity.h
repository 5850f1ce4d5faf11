// Checks a client certificate and key pair (QMC's client.pem and
// client_key.pem) the way the TLS layer will load them, without connecting.
// The configuration parser uses it to fail at start-up, naming the bad key.
#pragma once

#include <string>

#include "core/status.h"

namespace qlik_reload::qrs {

enum class ClientIdentityPart {
  kCertificate,  // client_cert: unreadable or no PEM certificate chain
  kKey,          // client_key: unreadable, no PEM private key
  kPassphrase,   // client_key is encrypted and the passphrase is missing or wrong
  kPair,         // the key does not belong to the certificate
};

// Loads the certificate chain and the private key (decrypting it with
// `passphrase` when it is encrypted; never prompting on a terminal) and
// checks that they belong together. Fails with kConfiguration; the message
// names the file but never the passphrase, and `failedPart` (when not null)
// says which input was at fault. Thread-safe.
Status checkClientIdentity(const std::string& certFile, const std::string& keyFile, const std::string& passphrase,
                           ClientIdentityPart* failedPart = nullptr);

// Checks that `caFile` can be read and holds at least one PEM certificate
// OpenSSL accepts as a trust anchor. Fails with kConfiguration naming the file.
Status checkCaFile(const std::string& caFile);

}  // namespace qlik_reload::qrs
