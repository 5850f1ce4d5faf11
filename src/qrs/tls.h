// Internal to src/qrs: the TLS client Context for one site, built explicitly
// from ConnectionOptions (never from SSLManager defaults).
//
//  * TLS 1.2 or newer; no default CA store (loadDefaultCAs off).
//  * Client certificate chain and key loaded with OpenSSL directly, the key
//    decrypted through a callback, so an encrypted key without passphrase
//    fails with a message instead of prompting on a terminal.
//  * kFull: chain to ca_file AND the expected name pinned inside OpenSSL's
//    handshake (X509_VERIFY_PARAM_set1_host with server_name, or the URL host;
//    set1_ip_asc for an IP literal). Poco's own ("extended") host check is off,
//    because it skips loopback addresses and checks the connect address
//    rather than the configured name (toolchain.md P2).
//  * kChain: chain to ca_file, no name check.
//  * kNone: VERIFY_NONE, and a warning naming the site is logged.
//  * Every context gets a rejecting InvalidCertificateHandler of its own.
//    Poco's AcceptCertificateHandler is never used: every Poco certificate
//    handler also subscribes to the process-wide SSLManager event that Poco
//    fires for all client contexts, so one "accept" handler would silently
//    accept bad certificates for every other site in the process. kNone
//    works through VERIFY_NONE alone.
#pragma once

#include <string>

#include <Poco/Net/Context.h>

#include "core/status.h"
#include "qrs/connection_options.h"
#include "qrs/endpoint.h"

namespace qlik_reload::qrs {

// Fails with kConfiguration naming the file at fault (ca_file, client_cert,
// client_key) and never the passphrase. Calls Poco::Net::initializeSSL once.
Result<Poco::Net::Context::Ptr> makeClientContext(const ConnectionOptions& options, const QrsEndpoint& endpoint);

// The name kFull verification expects on QRS's certificate: server_name when
// set, else the URL host. Empty for kChain and kNone.
std::string expectedServerName(const ConnectionOptions& options, const QrsEndpoint& endpoint);

// The last certificate verification failure OpenSSL reported on this thread
// through a context made here ("hostname mismatch (certificate CN=…)"), or
// empty. Cleared by clearLastVerifyFailure(); the HTTP client clears it before
// each connection so the text belongs to that handshake.
std::string lastVerifyFailure();
void clearLastVerifyFailure();

}  // namespace qlik_reload::qrs
