// The client key's passphrase never leaves the worker: not in ping answers,
// not in the CLI's output, not in the worker's log (at debug level), not in
// the message of a configuration error. The real programs, over real sockets
// (IntegrationEnv); what they write also stays under test-tmp for the scan
// that runs last (secret_scan.h).
//
// ping's answer is built from the version and the site names only, so no
// unit test of the handler could catch a leak there; this drives the whole
// path instead. Configuration messages are covered at unit level by
// tests/unit/config (every failure is checked not to contain the passphrase).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include <Poco/JSON/Object.h>

#include "env.h"
#include "process.h"

using namespace qlik_reload::testing;
using namespace std::chrono_literals;

namespace {

const std::string kWorkerPassphrase = "Worker-Key-Passphrase-5d1c0a";

// The site PKI's client key encrypted with `passphrase` into `folder`, and a
// passphrase file holding `filePassphrase`. Through files only: a passphrase
// on a command line would show in process lists.
struct EncryptedKey {
  std::string key;
  std::string passphraseFile;

  EncryptedKey(const std::string& folder, const std::string& passphrase, const std::string& filePassphrase) {
    key = folder + "/client_key.encrypted.pem";
    passphraseFile = folder + "/key.pass";
    const std::string encryptWith = folder + "/encrypt-with.pass";
    writeFile(encryptWith, passphrase + "\n");
    const std::string command = "openssl pkey -in " + IntegrationEnv::pkiDir() + "/client_key.pem -aes256 -passout file:" +
                                encryptWith + " -out " + key + " 2>/dev/null";
    REQUIRE(std::system(command.c_str()) == 0);
    writeFile(passphraseFile, filePassphrase + "\n");
  }
};

std::function<void(Poco::JSON::Object::Ptr)> useKey(std::shared_ptr<EncryptedKey>* files) {
  return [files](Poco::JSON::Object::Ptr config) {
    auto auth = config->getObject("sites")->getObject("default")->getObject("auth");
    auth->set("client_key", (*files)->key);
    auth->set("client_key_passphrase_file", (*files)->passphraseFile);
  };
}

void checkNoSecret(const std::string& what, const std::string& text) {
  INFO(what);
  CHECK(text.find(kWorkerPassphrase) == std::string::npos);
  CHECK(text.find("PRIVATE KEY-----") == std::string::npos);
}

std::string jsonText(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

}  // namespace

TEST_CASE("A worker with an encrypted key never shows its passphrase: ping, run, log", "[secrets]") {
  std::shared_ptr<EncryptedKey> files;
  EnvOptions options;
  options.startWorker = false;
  options.editWorkerConfig = useKey(&files);
  IntegrationEnv env("secrets-passphrase", options);
  files = std::make_shared<EncryptedKey>(env.dir(), kWorkerPassphrase, kWorkerPassphrase);
  env.startWorker();

  CliResult ping = env.cli({"ping", "--json"});
  INFO(ping.describe());
  REQUIRE(ping.exitCode == 0);
  checkNoSecret("ping --json", ping.out + ping.err);
  CliResult pingText = env.cli({"ping"});
  CHECK(pingText.exitCode == 0);
  checkNoSecret("ping", pingText.out + pingText.err);

  // The key really opened with the passphrase: a reload runs over mutual TLS.
  CliResult run = env.cli({"run", "--task-id", kTaskOk, "--json"});
  INFO(run.describe());
  CHECK(run.exitCode == 0);
  checkNoSecret("run", run.out + run.err);

  CHECK(env.stopWorker(SIGTERM) == 0);
  checkNoSecret("the worker's log", env.worker().stderrText() + env.worker().stdoutText());
}

TEST_CASE("A wrong or missing passphrase exits 78 naming the file, never a passphrase", "[secrets]") {
  EnvOptions options;
  options.startWorker = false;
  IntegrationEnv env("secrets-wrong-passphrase", options);
  auto wrong = std::make_shared<EncryptedKey>(env.dir(), kWorkerPassphrase, kWorkerPassphrase + "-wrong");

  Poco::JSON::Object::Ptr config = env.workerConfig();
  useKey(&wrong)(config);
  writeFile(env.workerConfigPath(), jsonText(config));
  ChildProcess check({IntegrationEnv::binary("qlik-reload-worker"), "--config", env.workerConfigPath(),
                      "--check-config"},
                     env.dir() + "/check-wrong.out", env.dir() + "/check-wrong.err");
  CHECK(check.wait(30s) == 78);
  INFO(check.stderrText());
  CHECK_THAT(check.stderrText(), Catch::Contains("client_key_passphrase_file"));
  checkNoSecret("--check-config, wrong passphrase", check.stdoutText() + check.stderrText());

  // Without the passphrase file the worker says the key is encrypted.
  config->getObject("sites")->getObject("default")->getObject("auth")->remove("client_key_passphrase_file");
  writeFile(env.workerConfigPath(), jsonText(config));
  ChildProcess none({IntegrationEnv::binary("qlik-reload-worker"), "--config", env.workerConfigPath()},
                    env.dir() + "/start-none.out", env.dir() + "/start-none.err");
  CHECK(none.wait(30s) == 78);
  INFO(none.stderrText());
  CHECK_THAT(none.stderrText(), Catch::Contains("encrypted"));
  checkNoSecret("start without a passphrase", none.stdoutText() + none.stderrText());
}
