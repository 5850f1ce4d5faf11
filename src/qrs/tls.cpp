#include "qrs/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>

#include <Poco/Exception.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/InvalidCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/VerificationErrorArgs.h>

#include "core/log.h"
#include "qrs/client_identity.h"
#include "qrs/json_util.h"

namespace qlik_reload::qrs {
namespace {

thread_local std::string tLastVerifyFailure;

// Rejects every certificate OpenSSL could not verify, and remembers why, so
// the error the caller sees says "hostname mismatch" instead of only
// "certificate verify failed".
class RejectAndRecordHandler final : public Poco::Net::InvalidCertificateHandler {
 public:
  RejectAndRecordHandler() : InvalidCertificateHandler(false) {}

  void onInvalidCertificate(const void* /*sender*/, Poco::Net::VerificationErrorArgs& args) override {
    args.setIgnoreError(false);
    std::string text = args.errorMessage();
    try {
      std::string subject = args.certificate().commonName();
      if (!subject.empty()) text += " (certificate CN=" + excerpt(subject, 80) + ")";
    } catch (...) {
      // The subject is a nicety; the verdict stands without it.
    }
    tLastVerifyFailure = std::move(text);
  }
};

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// Drains this thread's OpenSSL error queue into one short line, so a later
// Poco call on the thread does not report our stale errors as its own.
std::string takeOpenSslErrors() {
  std::string text;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    const char* reason = ERR_reason_error_string(code);
    std::string item = reason != nullptr ? reason : "OpenSSL error " + std::to_string(code);
    if (text.find(item) != std::string::npos) continue;
    if (!text.empty()) text += "; ";
    text += item;
  }
  return excerpt(text, 200);
}

std::string withDetail(const std::string& message, const std::string& detail) {
  return detail.empty() ? message : message + " (" + detail + ")";
}

Status checkReadable(const std::string& path, const char* key) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    int error = errno;
    return Status::configuration(std::string("cannot read ") + key + " " + path + ": " +
                                 std::generic_category().message(error));
  }
  std::fclose(file);
  return Status::ok();
}

struct PassphraseState {
  const std::string* passphrase = nullptr;
  bool asked = false;
};

// OpenSSL asks for the passphrase only when the key is encrypted. Answering
// with an error when there is none makes decryption fail instead of OpenSSL
// falling back to a terminal prompt.
int passphraseCallback(char* buffer, int size, int /*writing*/, void* userData) {
  auto* state = static_cast<PassphraseState*>(userData);
  state->asked = true;
  const std::string& passphrase = *state->passphrase;
  if (passphrase.empty() || size <= 0 || passphrase.size() > static_cast<std::size_t>(size)) return -1;
  std::memcpy(buffer, passphrase.data(), passphrase.size());
  return static_cast<int>(passphrase.size());
}

void setPart(ClientIdentityPart* out, ClientIdentityPart part) {
  if (out != nullptr) *out = part;
}

Result<KeyPtr> readPrivateKey(const std::string& keyFile, const std::string& passphrase,
                              ClientIdentityPart* failedPart) {
  if (Status s = checkReadable(keyFile, "client_key"); !s.isOk()) {
    setPart(failedPart, ClientIdentityPart::kKey);
    return s;
  }
  BioPtr bio(BIO_new_file(keyFile.c_str(), "r"));
  if (!bio) {
    setPart(failedPart, ClientIdentityPart::kKey);
    return Status::configuration(withDetail("cannot read client_key " + keyFile, takeOpenSslErrors()));
  }
  PassphraseState state{&passphrase, false};
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, &passphraseCallback, &state));
  std::string errors = takeOpenSslErrors();
  if (key) return key;
  if (state.asked && passphrase.empty()) {
    setPart(failedPart, ClientIdentityPart::kPassphrase);
    return Status::configuration("client_key " + keyFile +
                                 " is encrypted and no passphrase was given (client_key_passphrase_file)");
  }
  if (state.asked) {
    setPart(failedPart, ClientIdentityPart::kPassphrase);
    return Status::configuration("client_key " + keyFile + " could not be decrypted with the given passphrase");
  }
  setPart(failedPart, ClientIdentityPart::kKey);
  return Status::configuration(withDetail("client_key " + keyFile + " holds no PEM private key", errors));
}

Status loadClientIdentity(SSL_CTX* ctx, const std::string& certFile, const std::string& keyFile,
                          const std::string& passphrase, ClientIdentityPart* failedPart) {
  ERR_clear_error();
  if (Status s = checkReadable(certFile, "client_cert"); !s.isOk()) {
    setPart(failedPart, ClientIdentityPart::kCertificate);
    return s;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, certFile.c_str()) != 1) {
    setPart(failedPart, ClientIdentityPart::kCertificate);
    return Status::configuration(
        withDetail("client_cert " + certFile + " holds no usable PEM certificate", takeOpenSslErrors()));
  }
  Result<KeyPtr> key = readPrivateKey(keyFile, passphrase, failedPart);
  if (!key.isOk()) return key.status();
  if (SSL_CTX_use_PrivateKey(ctx, key->get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    takeOpenSslErrors();
    setPart(failedPart, ClientIdentityPart::kPair);
    return Status::configuration("client_key does not match client_cert (" + keyFile + ", " + certFile + ")");
  }
  return Status::ok();
}

void initializeSslOnce() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

}  // namespace

Status checkClientIdentity(const std::string& certFile, const std::string& keyFile, const std::string& passphrase,
                           ClientIdentityPart* failedPart) {
  initializeSslOnce();
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Status::internal(withDetail("cannot create an OpenSSL context", takeOpenSslErrors()));
  return loadClientIdentity(ctx.get(), certFile, keyFile, passphrase, failedPart);
}

Status checkCaFile(const std::string& caFile) {
  initializeSslOnce();
  if (Status s = checkReadable(caFile, "ca_file"); !s.isOk()) return s;
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Status::internal(withDetail("cannot create an OpenSSL context", takeOpenSslErrors()));
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(ctx.get(), caFile.c_str(), nullptr) != 1) {
    return Status::configuration(
        withDetail("ca_file " + caFile + " holds no usable PEM certificate", takeOpenSslErrors()));
  }
  return Status::ok();
}

std::string expectedServerName(const ConnectionOptions& options, const QrsEndpoint& endpoint) {
  if (options.verify != TlsVerify::kFull) return "";
  return options.serverName.empty() ? endpoint.host : options.serverName;
}

Result<Poco::Net::Context::Ptr> makeClientContext(const ConnectionOptions& options, const QrsEndpoint& endpoint) {
  initializeSslOnce();
  if (options.verify != TlsVerify::kNone && options.caFile.empty()) {
    return Status::configuration("ca_file is required unless verify is none");
  }
  if (!options.serverName.empty() && options.verify != TlsVerify::kFull) {
    return Status::configuration("server_name only applies when verify is full");
  }
  try {
    Poco::Net::Context::Params params;
    params.verificationMode =
        options.verify == TlsVerify::kNone ? Poco::Net::Context::VERIFY_NONE : Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = 9;
    params.loadDefaultCAs = false;
    params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    context->enableExtendedCertificateVerification(false);
    context->setInvalidCertificateHandler(new RejectAndRecordHandler);
    SSL_CTX* ssl = context->sslContext();
    ERR_clear_error();

    if (options.verify != TlsVerify::kNone) {
      if (Status s = checkReadable(options.caFile, "ca_file"); !s.isOk()) return s;
      if (SSL_CTX_load_verify_locations(ssl, options.caFile.c_str(), nullptr) != 1) {
        return Status::configuration(
            withDetail("ca_file " + options.caFile + " holds no usable PEM certificate", takeOpenSslErrors()));
      }
    }
    if (options.verify == TlsVerify::kFull) {
      X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      std::string name = expectedServerName(options, endpoint);
      // An IP literal is matched against the certificate's IP SANs, a name
      // against its DNS SANs (and CN as a fallback, as OpenSSL does).
      Poco::Net::IPAddress ignored;
      const bool nameIsIp = options.serverName.empty() ? endpoint.hostIsIpAddress
                                                       : Poco::Net::IPAddress::tryParse(name, ignored);
      int pinned = nameIsIp ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                            : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
      if (pinned != 1) {
        return Status::configuration(withDetail("cannot use '" + excerpt(name, 80) + "' as the expected server name",
                                                takeOpenSslErrors()));
      }
    }
    if (Status s = loadClientIdentity(ssl, options.clientCertFile, options.clientKeyFile,
                                      options.clientKeyPassphrase, nullptr);
        !s.isOk()) {
      return s;
    }
    if (options.verify == TlsVerify::kNone) {
      logWarn("TLS verification is OFF for " + endpoint.origin +
              " (tls.verify = none): QRS's certificate is not checked, so anyone on the network path can pose "
              "as QRS and receive this worker's requests");
    }
    return context;
  } catch (const Poco::Exception& e) {
    takeOpenSslErrors();
    return Status::configuration("cannot set up TLS for " + endpoint.origin + ": " + excerpt(e.displayText()));
  } catch (const std::exception& e) {
    takeOpenSslErrors();
    return Status::configuration("cannot set up TLS for " + endpoint.origin + ": " + excerpt(e.what()));
  }
}

std::string lastVerifyFailure() { return tLastVerifyFailure; }

void clearLastVerifyFailure() { tLastVerifyFailure.clear(); }

}  // namespace qlik_reload::qrs
