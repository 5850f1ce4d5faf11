#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "qrs/client_identity.h"
#include "qrs/tls.h"
#include "test_pki.h"

using namespace qlik_reload;
using namespace qlik_reload::qrs;
using namespace qlik_reload::testing;

namespace {

const std::string kPassphrase = "Corr3ct-Horse-Battery";

// client_key.pem of the site PKI, encrypted with kPassphrase.
const std::string& encryptedKey() {
  static TempDir dir;
  static std::string path = [] {
    std::string out = dir.file("client_key_encrypted.pem");
    REQUIRE(runCommand("openssl pkey -in " + sitePki().clientKey() + " -aes256 -passout pass:" + kPassphrase +
                       " -out " + out + " 2>/dev/null"));
    return out;
  }();
  return path;
}

}  // namespace

TEST_CASE("A matching certificate and key pass the identity check", "[tls]") {
  CHECK(checkClientIdentity(sitePki().clientCert(), sitePki().clientKey(), "").isOk());
  CHECK(checkClientIdentity(sitePki().clientCert(), encryptedKey(), kPassphrase).isOk());
  CHECK(checkCaFile(sitePki().rootCert()).isOk());
}

TEST_CASE("Identity check failures name the part at fault and never the passphrase", "[tls]") {
  TempDir dir;
  std::string garbage = dir.write("garbage.pem", "not a pem file\n");
  struct Case {
    const char* name;
    std::string cert;
    std::string key;
    std::string passphrase;
    ClientIdentityPart part;
    const char* fragment;
  };
  std::vector<Case> cases = {
      {"missing cert", dir.file("nope.pem"), sitePki().clientKey(), "", ClientIdentityPart::kCertificate,
       "cannot read client_cert"},
      {"garbage cert", garbage, sitePki().clientKey(), "", ClientIdentityPart::kCertificate,
       "holds no usable PEM certificate"},
      {"missing key", sitePki().clientCert(), dir.file("nope.pem"), "", ClientIdentityPart::kKey,
       "cannot read client_key"},
      {"garbage key", sitePki().clientCert(), garbage, "", ClientIdentityPart::kKey, "holds no PEM private key"},
      {"cert as key", sitePki().clientCert(), sitePki().clientCert(), "", ClientIdentityPart::kKey,
       "holds no PEM private key"},
      {"foreign key", sitePki().clientCert(), otherPki().clientKey(), "", ClientIdentityPart::kPair,
       "client_key does not match client_cert"},
      {"encrypted, no passphrase", sitePki().clientCert(), encryptedKey(), "", ClientIdentityPart::kPassphrase,
       "is encrypted and no passphrase was given"},
      {"encrypted, wrong passphrase", sitePki().clientCert(), encryptedKey(), kPassphrase + "x",
       ClientIdentityPart::kPassphrase, "could not be decrypted with the given passphrase"},
      {"wrong pair, with passphrase", otherPki().clientCert(), encryptedKey(), kPassphrase, ClientIdentityPart::kPair,
       "does not match"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    ClientIdentityPart part = ClientIdentityPart::kCertificate;
    Status status = checkClientIdentity(c.cert, c.key, c.passphrase, &part);
    CAPTURE(status.toString());
    REQUIRE_FALSE(status.isOk());
    CHECK(status.code() == ErrorCode::kConfiguration);
    CHECK(part == c.part);
    CHECK_THAT(status.message(), Catch::Contains(c.fragment));
    CHECK_THAT(status.message(), !Catch::Contains(kPassphrase));
  }
  CHECK(checkCaFile(garbage).code() == ErrorCode::kConfiguration);
  CHECK(checkCaFile(dir.file("nope.pem")).code() == ErrorCode::kConfiguration);
}

TEST_CASE("The client context refuses contradicting verification options", "[tls]") {
  ConnectionOptions options;
  options.clientCertFile = sitePki().clientCert();
  options.clientKeyFile = sitePki().clientKey();
  QrsEndpoint endpoint;
  endpoint.host = "qlikserver1";
  endpoint.origin = "https://qlikserver1:4242";

  options.caFile = "";
  CHECK_THAT(makeClientContext(options, endpoint).status().message(), Catch::Contains("ca_file is required"));

  options.caFile = sitePki().rootCert();
  options.verify = TlsVerify::kChain;
  options.serverName = "qlikserver1";
  CHECK_THAT(makeClientContext(options, endpoint).status().message(),
             Catch::Contains("server_name only applies when verify is full"));

  options.verify = TlsVerify::kFull;
  CHECK(makeClientContext(options, endpoint).isOk());
  CHECK(expectedServerName(options, endpoint) == "qlikserver1");
  options.serverName = "";
  CHECK(expectedServerName(options, endpoint) == "qlikserver1");
  options.verify = TlsVerify::kChain;
  CHECK(expectedServerName(options, endpoint).empty());
}
