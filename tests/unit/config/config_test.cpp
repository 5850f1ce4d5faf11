#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/StringTokenizer.h>

#include "config/config.h"
#include "test_pki.h"

using namespace qlik_reload;
using namespace qlik_reload::testing;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

namespace {

const std::string kPassphrase = "pass-Phrase-9f8e7d";
// Stands for the test's folder in expected messages (a new folder for every run).
const std::string kDir = "{dir}";

const std::string kFullConfig = R"({
  "listen": {"host": "0.0.0.0", "port": 9091,
             "tls": {"cert_file": "server.pem", "key_file": "server_key.pem", "ca_file": "root.pem"},
             "max_connections": 500, "idle_timeout_ms": 60000, "read_timeout_ms": 5000,
             "max_frame_bytes": 65536, "max_string_bytes": 32768, "max_container_items": 100},
  "log_level": "debug",
  "sites": {
    "default": {
      "url": "https://qlikserver1:4242",
      "auth": {"type": "certificate", "client_cert": "client.pem", "client_key": "client_key.pem",
               "user_directory": "CORP", "user_id": "svc_reload"},
      "tls": {"ca_file": "certs/../root.pem", "verify": "full", "server_name": "qlikserver1.corp"},
      "timeouts": {"connect_ms": 5000, "read_ms": 30000},
      "poll": {"initial_ms": 500, "max_ms": 10000},
      "stop_wait_ms": 120000
    }
  }
})";

// A folder holding a copy of the site PKI's client and CA files, plus files
// the tests add; configurations refer to them by relative path.
struct ConfigDir {
  TempDir dir;
  ConfigDir() {
    for (const char* name : {"client.pem", "client_key.pem", "root.pem", "server.pem", "server_key.pem"}) {
      fs::copy_file(sitePki().file(name), dir.file(name));
    }
    fs::create_directory(dir.file("certs"));
    dir.write("garbage.pem", "-----BEGIN NOTHING-----\nxx\n");
    REQUIRE(runCommand("openssl pkey -in " + dir.file("client_key.pem") + " -aes256 -passout pass:" + kPassphrase +
                       " -out " + dir.file("encrypted_key.pem") + " 2>/dev/null"));
    REQUIRE(runCommand("openssl pkey -in " + dir.file("server_key.pem") + " -aes256 -passout pass:" + kPassphrase +
                       " -out " + dir.file("encrypted_server_key.pem") + " 2>/dev/null"));
  }
  Result<WorkerConfig> parse(const std::string& json) const {
    return parseWorkerConfig(json, dir.path(), "worker.json");
  }
};

// kFullConfig with one value replaced (a JSON text), added, or removed
// (nullopt). `path` is dot-separated.
std::string edited(const std::string& path, const std::optional<std::string>& jsonValue) {
  Poco::JSON::Parser parser;
  Poco::JSON::Object::Ptr root = parser.parse(kFullConfig).extract<Poco::JSON::Object::Ptr>();
  Poco::StringTokenizer parts(path, ".");
  Poco::JSON::Object::Ptr object = root;
  for (std::size_t i = 0; i + 1 < parts.count(); ++i) object = object->getObject(parts[i]);
  const std::string& last = parts[parts.count() - 1];
  if (!jsonValue) {
    object->remove(last);
  } else {
    Poco::JSON::Parser valueParser;
    Poco::Dynamic::Var value = valueParser.parse("[" + *jsonValue + "]").extract<Poco::JSON::Array::Ptr>()->get(0);
    object->set(last, value);
  }
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(root, out);
  return out.str();
}

void checkConfigFailure(const Result<WorkerConfig>& result, const std::string& fragment) {
  REQUIRE_FALSE(result.isOk());
  CAPTURE(result.status().toString());
  CHECK(result.status().code() == ErrorCode::kConfiguration);
  CHECK_THAT(result.status().message(), Catch::Contains(fragment));
  CHECK_THAT(result.status().message(), !Catch::Contains(kPassphrase));
}

}  // namespace

TEST_CASE("A full configuration loads with every value and absolute paths", "[config]") {
  ConfigDir files;
  std::string path = files.dir.write("worker.json", kFullConfig);
  Result<WorkerConfig> config = loadWorkerConfig(path);
  CAPTURE(config.status().toString());
  REQUIRE(config.isOk());
  CHECK(config->path == path);
  CHECK(config->listen.host == "0.0.0.0");
  CHECK(config->listen.port == 9091);
  REQUIRE(config->listen.tls.has_value());
  CHECK(config->listen.tls->certFile == files.dir.file("server.pem"));
  CHECK(config->listen.tls->keyFile == files.dir.file("server_key.pem"));
  CHECK(config->listen.tls->caFile == files.dir.file("root.pem"));
  CHECK(config->listen.tls->keyPassphrase.empty());
  CHECK_FALSE(config->listen.insecure);
  CHECK(config->listen.maxConnections == 500);
  CHECK(config->listen.idleTimeout == milliseconds(60000));
  CHECK(config->listen.readTimeout == milliseconds(5000));
  CHECK(config->listen.maxFrameBytes == 65536);
  CHECK(config->listen.maxStringBytes == 32768);
  CHECK(config->listen.maxContainerItems == 100);
  CHECK(config->logLevel == LogLevel::kDebug);
  REQUIRE(config->sites.size() == 1);
  const SiteConfig& site = config->sites.at("default");
  CHECK(site.name == "default");
  CHECK(site.qrs.url == "https://qlikserver1:4242");
  CHECK(site.qrs.clientCertFile == files.dir.file("client.pem"));
  CHECK(site.qrs.clientKeyFile == files.dir.file("client_key.pem"));
  CHECK(site.qrs.caFile == files.dir.file("root.pem"));
  CHECK(site.qrs.clientKeyPassphrase.empty());
  CHECK(site.qrs.userDirectory == "CORP");
  CHECK(site.qrs.userId == "svc_reload");
  CHECK(site.qrs.verify == qrs::TlsVerify::kFull);
  CHECK(site.qrs.serverName == "qlikserver1.corp");
  CHECK(site.qrs.connectTimeout == milliseconds(5000));
  CHECK(site.qrs.readTimeout == milliseconds(30000));
  CHECK(site.poll.initial == milliseconds(500));
  CHECK(site.poll.max == milliseconds(10000));
  CHECK(site.stopWait == milliseconds(120000));
}

TEST_CASE("A minimal configuration takes the documented defaults", "[config]") {
  ConfigDir files;
  Result<WorkerConfig> config = files.parse(R"({"sites":{"prod-1.eu":{
      "url":"https://10.0.0.5/reload",
      "auth":{"type":"certificate","client_cert":"client.pem","client_key":"client_key.pem"},
      "tls":{"ca_file":"root.pem"}}}})");
  CAPTURE(config.status().toString());
  REQUIRE(config.isOk());
  CHECK(config->listen.host == "127.0.0.1");
  CHECK(config->listen.port == 9090);
  CHECK_FALSE(config->listen.tls.has_value());
  CHECK_FALSE(config->listen.insecure);
  CHECK(config->listen.maxConnections == 2000);
  CHECK(config->listen.idleTimeout == milliseconds(300000));
  CHECK(config->listen.readTimeout == milliseconds(30000));
  CHECK(config->listen.maxFrameBytes == 1048576);
  CHECK(config->listen.maxStringBytes == 1048576);
  CHECK(config->listen.maxContainerItems == 10000);
  CHECK(config->logLevel == LogLevel::kInfo);
  const SiteConfig& site = config->sites.at("prod-1.eu");
  CHECK(site.qrs.userDirectory == "INTERNAL");
  CHECK(site.qrs.userId == "sa_scheduler");
  CHECK(site.qrs.verify == qrs::TlsVerify::kFull);
  CHECK(site.qrs.serverName.empty());
  CHECK(site.qrs.connectTimeout == milliseconds(10000));
  CHECK(site.qrs.readTimeout == milliseconds(60000));
  CHECK(site.poll.initial == milliseconds(250));
  CHECK(site.poll.max == milliseconds(5000));
  CHECK(site.stopWait == milliseconds(60000));
}

TEST_CASE("Several sites, verify chain and verify none load", "[config]") {
  ConfigDir files;
  Result<WorkerConfig> config = files.parse(R"({"sites":{
      "a":{"url":"https://a:4242","auth":{"type":"certificate","client_cert":"client.pem","client_key":"client_key.pem"},
           "tls":{"ca_file":"root.pem","verify":"chain"}},
      "b":{"url":"https://b:4242","auth":{"type":"certificate","client_cert":"client.pem","client_key":"client_key.pem"},
           "tls":{"verify":"none"}}}})");
  CAPTURE(config.status().toString());
  REQUIRE(config.isOk());
  CHECK(config->sites.at("a").qrs.verify == qrs::TlsVerify::kChain);
  CHECK(config->sites.at("b").qrs.verify == qrs::TlsVerify::kNone);
  CHECK(config->sites.at("b").qrs.caFile.empty());
}

TEST_CASE("Every documented error names the key", "[config]") {
  ConfigDir files;
  auto [path, value, fragment] = GENERATE(table<std::string, std::optional<std::string>, std::string>({
      {"verbose", "true", "worker.json: verbose: unknown key (expected one of listen, log_level, sites, state, push, worker_id)"},
      {"listen.address", "\"x\"",
       "listen.address: unknown key (expected one of host, port, tls, insecure, max_connections, idle_timeout_ms, "
       "read_timeout_ms, max_frame_bytes, max_string_bytes, max_container_items)"},
      {"sites.default.urls", "\"x\"",
       "sites.default.urls: unknown key (expected one of url, auth, tls, timeouts, poll, stop_wait_ms, limits)"},
      {"sites.default.auth.password", "\"x\"",
       "sites.default.auth.password: unknown key (expected one of type, client_cert, client_key, "
       "client_key_passphrase_file, user_directory, user_id)"},
      {"sites.default.tls.verfy", "\"full\"",
       "sites.default.tls.verfy: unknown key (expected one of ca_file, verify, server_name)"},
      {"sites.default.timeouts.write_ms", "5", "sites.default.timeouts.write_ms: unknown key"},
      {"sites.default.poll.factor", "2", "sites.default.poll.factor: unknown key (expected one of initial_ms, max_ms)"},
      {"listen.port", "\"9090\"", "listen.port: expected an integer 0..65535, got string"},
      {"listen.port", "70000", "listen.port: expected an integer 0..65535, got 70000"},
      {"listen.port", "-1", "listen.port: expected an integer 0..65535, got -1"},
      {"listen.port", "90.5", "listen.port: expected an integer 0..65535, got number"},
      {"listen.host", "5", "listen.host: expected a string, got number"},
      {"listen.host", "null", "listen.host: expected a string, got null"},
      {"listen", "[]", "listen: expected an object, got array"},
      {"listen.host", "\"bad host!\"", "listen.host: 'bad host!' is not a host name or IP address"},
      {"listen.tls", std::nullopt,
       "listen.host: '0.0.0.0' is not a loopback address, so the Thrift port would accept reload requests from the "
       "network: set listen.tls"},
      {"listen.tls", "true", "listen.tls: expected an object, got boolean"},
      {"listen.tls.verify", "\"full\"",
       "listen.tls.verify: unknown key (expected one of cert_file, key_file, key_passphrase_file, ca_file)"},
      {"listen.tls.cert_file", std::nullopt, "listen.tls.cert_file: required"},
      {"listen.tls.key_file", std::nullopt, "listen.tls.key_file: required"},
      {"listen.tls.ca_file", std::nullopt,
       "listen.tls.ca_file: required: the CA that issued the callers' client certificates"},
      {"listen.tls.cert_file", "\"missing.pem\"", "listen.tls.cert_file: file " + kDir + "/missing.pem does not exist"},
      {"listen.tls.cert_file", "\"garbage.pem\"",
       "listen.tls.cert_file: cert_file " + kDir + "/garbage.pem holds no usable PEM certificate"},
      {"listen.tls.key_file", "\"garbage.pem\"",
       "listen.tls.key_file: key_file " + kDir + "/garbage.pem holds no PEM private key"},
      {"listen.tls.key_file", "\"" + otherPki().serverKey() + "\"",
       "listen.tls.key_file: key_file does not match cert_file"},
      {"listen.tls.key_file", "\"encrypted_server_key.pem\"",
       "listen.tls.key_file: key_file " + kDir +
           "/encrypted_server_key.pem is encrypted and no passphrase was given (key_passphrase_file)"},
      {"listen.tls.key_passphrase_file", "\"nope.pass\"",
       "listen.tls.key_passphrase_file: file " + kDir + "/nope.pass does not exist"},
      {"listen.tls.ca_file", "\"garbage.pem\"",
       "listen.tls.ca_file: ca_file " + kDir + "/garbage.pem holds no usable PEM certificate"},
      {"listen.insecure", "true", "listen.insecure: only applies without listen.tls"},
      {"listen.insecure", "\"yes\"", "listen.insecure: expected true or false, got string"},
      {"listen.max_connections", "0", "listen.max_connections: expected an integer 1..100000 (connections), got 0"},
      {"listen.idle_timeout_ms", "0",
       "listen.idle_timeout_ms: expected an integer 1..3600000 (milliseconds), got 0"},
      {"listen.read_timeout_ms", "\"30s\"",
       "listen.read_timeout_ms: expected an integer 1..3600000 (milliseconds), got string"},
      {"listen.max_frame_bytes", "1024",
       "listen.max_frame_bytes: expected an integer 4096..268435456 (bytes), got 1024"},
      {"listen.max_string_bytes", "268435457",
       "listen.max_string_bytes: expected an integer 1024..268435456 (bytes), got 268435457"},
      {"listen.max_container_items", "10",
       "listen.max_container_items: expected an integer 64..10000000 (items), got 10"},
      {"log_level", "\"verbose\"", "log_level: expected one of debug, info, warn, error, got \"verbose\""},
      {"sites", std::nullopt, "sites: required"},
      {"sites", "{}", "sites: at least one site is required"},
      {"sites.default", "5", "sites.default: expected an object, got number"},
      {"sites.default.url", std::nullopt, "sites.default.url: required"},
      {"sites.default.url", "42", "sites.default.url: expected a string, got number"},
      {"sites.default.url", "\"http://qlikserver1:4242\"",
       "sites.default.url: 'http://qlikserver1:4242': only https is supported"},
      {"sites.default.url", "\"https://:4242\"", "sites.default.url:"},
      {"sites.default.auth", std::nullopt, "sites.default.auth: required"},
      {"sites.default.auth.type", std::nullopt, "sites.default.auth.type: required"},
      {"sites.default.auth.type", "\"jwt\"",
       "sites.default.auth.type: expected \"certificate\" (the only supported type), got \"jwt\""},
      {"sites.default.auth.client_cert", std::nullopt, "sites.default.auth.client_cert: required"},
      {"sites.default.auth.client_cert", "\"missing.pem\"",
       "sites.default.auth.client_cert: file " + kDir + "/missing.pem does not exist"},
      {"sites.default.auth.client_cert", "\"garbage.pem\"",
       "sites.default.auth.client_cert: client_cert " + kDir + "/garbage.pem holds no usable PEM certificate"},
      {"sites.default.auth.client_key", "\"certs\"",
       "sites.default.auth.client_key: " + kDir + "/certs is not a regular file"},
      {"sites.default.auth.client_key", "\"garbage.pem\"",
       "sites.default.auth.client_key: client_key " + kDir + "/garbage.pem holds no PEM private key"},
      {"sites.default.auth.client_key", "\"" + otherPki().clientKey() + "\"",
       "sites.default.auth.client_key: client_key does not match client_cert"},
      {"sites.default.auth.client_key", "\"encrypted_key.pem\"",
       "sites.default.auth.client_key: client_key " + kDir +
           "/encrypted_key.pem is encrypted and no passphrase was given"},
      {"sites.default.auth.client_key_passphrase_file", "\"nope.pass\"",
       "sites.default.auth.client_key_passphrase_file: file " + kDir + "/nope.pass does not exist"},
      {"sites.default.auth.user_id", "\"\"", "sites.default.auth.user_id: must not be empty"},
      {"sites.default.auth.user_id", "\"a; UserId=sa_repository\"", "sites.default.auth.user_id: may only hold"},
      {"sites.default.auth.user_directory", "7", "sites.default.auth.user_directory: expected a string, got number"},
      {"sites.default.tls", std::nullopt, "sites.default.tls: required"},
      {"sites.default.tls.verify", "\"strict\"",
       "sites.default.tls.verify: expected one of full, chain, none, got \"strict\""},
      {"sites.default.tls.ca_file", std::nullopt, "sites.default.tls.ca_file: required"},
      {"sites.default.tls.ca_file", "\"garbage.pem\"",
       "sites.default.tls.ca_file: ca_file " + kDir + "/garbage.pem holds no usable PEM certificate"},
      {"sites.default.tls.verify", "\"chain\"",
       "sites.default.tls.server_name: only applies when verify is full (verify is chain)"},
      {"sites.default.tls.verify", "\"none\"",
       "sites.default.tls.server_name: only applies when verify is full (verify is none)"},
      {"sites.default.tls.server_name", "\"bad name!\"",
       "sites.default.tls.server_name: 'bad name!' is not a host name or IP address"},
      {"sites.default.timeouts.connect_ms", "0",
       "sites.default.timeouts.connect_ms: expected an integer 1..3600000 (milliseconds), got 0"},
      {"sites.default.timeouts.read_ms", "3600001",
       "sites.default.timeouts.read_ms: expected an integer 1..3600000 (milliseconds), got 3600001"},
      {"sites.default.timeouts", "\"fast\"", "sites.default.timeouts: expected an object, got string"},
      {"sites.default.poll.initial_ms", "0", "sites.default.poll.initial_ms: expected an integer 1..3600000"},
      {"sites.default.poll.max_ms", "100",
       "sites.default.poll.max_ms: must be at least poll.initial_ms (500), got 100"},
      {"sites.default.stop_wait_ms", "\"60s\"",
       "sites.default.stop_wait_ms: expected an integer 1..3600000 (milliseconds), got string"},
  }));
  CAPTURE(path, value);
  std::string expected = fragment;
  for (std::size_t at = expected.find(kDir); at != std::string::npos; at = expected.find(kDir)) {
    expected.replace(at, kDir.size(), files.dir.path());
  }
  checkConfigFailure(files.parse(edited(path, value)), expected);
}

TEST_CASE("Site names are checked", "[config]") {
  ConfigDir files;
  const std::string site =
      R"({"url":"https://a","auth":{"type":"certificate","client_cert":"client.pem","client_key":"client_key.pem"},
          "tls":{"ca_file":"root.pem"}})";
  for (const std::string& name : std::vector<std::string>{"bad name", "", "a/b", "ümlaut", std::string(65, 'a')}) {
    CAPTURE(name);
    checkConfigFailure(files.parse(R"({"sites":{")" + name + R"(":)" + site + "}}"),
                       "a site name must be 1-64 characters of [A-Za-z0-9_.-]");
  }
  CHECK(files.parse(R"({"sites":{")" + std::string(64, 'a') + R"(":)" + site + "}}").isOk());
}

TEST_CASE("Broken JSON is reported with the file name and the parser's reason", "[config]") {
  ConfigDir files;
  checkConfigFailure(files.parse("{"), "worker.json: invalid JSON: ");
  checkConfigFailure(files.parse(""), "worker.json: invalid JSON: ");
  checkConfigFailure(files.parse("{\"sites\": {}} extra"), "worker.json: invalid JSON: ");
  checkConfigFailure(files.parse("{'sites': {}}"), "worker.json: invalid JSON: ");
  checkConfigFailure(files.parse("{\"sites\": {} /* comment */}"), "worker.json: invalid JSON: ");
  checkConfigFailure(files.parse(R"({"log_level":"info","log_level":"debug","sites":{}})"),
                     "worker.json: invalid JSON: duplicate key \"log_level\"");
  checkConfigFailure(files.parse("[]"), "worker.json: expected a JSON object at the top level, got array");

  std::string path = files.dir.write("broken.json", "{\"sites\": ");
  checkConfigFailure(loadWorkerConfig(path), path + ": invalid JSON: ");
}

TEST_CASE("A missing or unreadable configuration file is a configuration error", "[config]") {
  ConfigDir files;
  checkConfigFailure(loadWorkerConfig(files.dir.file("absent.json")),
                     files.dir.file("absent.json") + ": configuration file does not exist");
  checkConfigFailure(loadWorkerConfig(files.dir.path()), "not a regular file");
}

TEST_CASE("A byte-order mark at the start of the file is accepted", "[config]") {
  ConfigDir files;
  std::string path = files.dir.write("worker.json", "\xEF\xBB\xBF" + kFullConfig);
  Result<WorkerConfig> config = loadWorkerConfig(path);
  CAPTURE(config.status().toString());
  CHECK(config.isOk());
}

TEST_CASE("Relative paths resolve against the configuration file's folder", "[config]") {
  ConfigDir files;
  fs::create_directories(files.dir.file("etc/qlik"));
  for (const char* name : {"client.pem", "client_key.pem", "root.pem"}) {
    fs::copy_file(files.dir.file(name), files.dir.file(std::string("etc/qlik/") + name));
  }
  std::string path = files.dir.write("etc/worker.json", edited("sites.default.tls.ca_file", "\"qlik/root.pem\""));
  // Paths in kFullConfig are relative to etc/ now; only the site's ca_file
  // was moved to match, so the first file read (the worker's own
  // certificate) must be reported as missing from etc/.
  Result<WorkerConfig> config = loadWorkerConfig(path);
  checkConfigFailure(config, "listen.tls.cert_file: file " + files.dir.file("etc/server.pem") + " does not exist");
}

TEST_CASE("Encrypted keys open with the passphrase file, which is never echoed", "[config]") {
  ConfigDir files;
  auto withPassphraseFile = [&](const std::string& content) {
    files.dir.write("key.pass", content);
    std::string json = edited("sites.default.auth.client_key", "\"encrypted_key.pem\"");
    Poco::JSON::Parser parser;
    auto root = parser.parse(json).extract<Poco::JSON::Object::Ptr>();
    root->getObject("sites")->getObject("default")->getObject("auth")->set("client_key_passphrase_file", "key.pass");
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(root, out);
    return files.parse(out.str());
  };

  Result<WorkerConfig> right = withPassphraseFile(kPassphrase + "\r\n");
  CAPTURE(right.status().toString());
  REQUIRE(right.isOk());
  CHECK(right->sites.at("default").qrs.clientKeyPassphrase == kPassphrase);

  checkConfigFailure(withPassphraseFile(kPassphrase + "-wrong\n"),
                     "sites.default.auth.client_key_passphrase_file: client_key " +
                         files.dir.file("encrypted_key.pem") + " could not be decrypted with the given passphrase");
  checkConfigFailure(withPassphraseFile("\n"), "sites.default.auth.client_key_passphrase_file: file " +
                                                   files.dir.file("key.pass") + " is empty");
  // A wrong passphrase that contains the right one must not leak either.
  checkConfigFailure(withPassphraseFile("x" + kPassphrase), "could not be decrypted");
}

TEST_CASE("An unreadable key file is named", "[config]") {
  if (::geteuid() == 0) {
    WARN("running as root: file permissions cannot make a file unreadable; covered by the directory case");
    return;
  }
  ConfigDir files;
  ::chmod(files.dir.file("client_key.pem").c_str(), 0);
  checkConfigFailure(files.parse(kFullConfig), "sites.default.auth.client_key: file " +
                                                   files.dir.file("client_key.pem") + " cannot be read");
}

TEST_CASE("The journal's path resolves against the configuration's folder; retention is in days", "[config]") {
  ConfigDir files;
  auto config = files.parse(edited("state", std::string(R"({"path": "state/journal.db", "retention_days": 30})")));
  CAPTURE(config.status().toString());
  REQUIRE(config.isOk());
  CHECK(config->state.path == files.dir.file("state/journal.db"));
  CHECK(config->state.retention == std::chrono::hours(24 * 30));
  checkConfigFailure(files.parse(edited("state", std::string(R"({"retention_days": 0})"))), "state.retention_days");
  checkConfigFailure(files.parse(edited("state", std::string(R"({"dir": "x"})"))), "state.dir: unknown key");
  auto defaults = files.parse(kFullConfig);
  REQUIRE(defaults.isOk());
  CHECK_THAT(defaults->state.path, Catch::EndsWith("journal.db"));
}

TEST_CASE("A host that is not loopback needs TLS or an explicit insecure: true", "[config]") {
  ConfigDir files;
  auto [host, loopback] = GENERATE(table<std::string, bool>({
      {"127.0.0.1", true},
      {"127.8.9.10", true},
      {"::1", true},
      {"localhost", true},
      {"LocalHost", true},
      {"0.0.0.0", false},
      {"::", false},
      {"10.0.0.5", false},
      {"128.0.0.1", false},
      {"::ffff:127.0.0.1", false},
      {"worker.example.com", false},
      {"localhost.example.com", false},
  }));
  CAPTURE(host, loopback);
  CHECK(isLoopbackHost(host) == loopback);

  const std::string site =
      R"("sites":{"a":{"url":"https://a","auth":{"type":"certificate","client_cert":"client.pem",)"
      R"("client_key":"client_key.pem"},"tls":{"ca_file":"root.pem"}}})";
  Result<WorkerConfig> plain = files.parse(R"({"listen":{"host":")" + host + R"("},)" + site + "}");
  if (loopback) {
    CAPTURE(plain.status().toString());
    CHECK(plain.isOk());
  } else {
    checkConfigFailure(plain, "listen.host: '" + host + "' is not a loopback address");
    checkConfigFailure(plain, "or set listen.insecure to true");
  }

  Result<WorkerConfig> insecure = files.parse(R"({"listen":{"host":")" + host + R"(","insecure":true},)" + site + "}");
  CAPTURE(insecure.status().toString());
  REQUIRE(insecure.isOk());
  CHECK(insecure->listen.insecure);
  CHECK_FALSE(insecure->listen.tls.has_value());

  Result<WorkerConfig> tls = files.parse(
      R"({"listen":{"host":")" + host +
      R"(","tls":{"cert_file":"server.pem","key_file":"server_key.pem","ca_file":"root.pem"}},)" + site + "}");
  CAPTURE(tls.status().toString());
  REQUIRE(tls.isOk());
  CHECK(tls->listen.tls.has_value());
}

TEST_CASE("The worker's own key opens with its passphrase file, which is never echoed", "[config]") {
  ConfigDir files;
  auto withPassphraseFile = [&](const std::string& content) {
    files.dir.write("worker_key.pass", content);
    Poco::JSON::Parser parser;
    auto root = parser.parse(kFullConfig).extract<Poco::JSON::Object::Ptr>();
    auto tls = root->getObject("listen")->getObject("tls");
    tls->set("key_file", "encrypted_server_key.pem");
    tls->set("key_passphrase_file", "worker_key.pass");
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(root, out);
    return files.parse(out.str());
  };

  Result<WorkerConfig> right = withPassphraseFile(kPassphrase + "\n");
  CAPTURE(right.status().toString());
  REQUIRE(right.isOk());
  CHECK(right->listen.tls->keyPassphrase == kPassphrase);
  CHECK(right->listen.tls->keyFile == files.dir.file("encrypted_server_key.pem"));

  checkConfigFailure(withPassphraseFile(kPassphrase + "-wrong\n"),
                     "listen.tls.key_passphrase_file: key_file " + files.dir.file("encrypted_server_key.pem") +
                         " could not be decrypted with the given passphrase");
  checkConfigFailure(withPassphraseFile("\r\n"), "listen.tls.key_passphrase_file: file " +
                                                      files.dir.file("worker_key.pass") + " is empty");
  checkConfigFailure(withPassphraseFile("x" + kPassphrase), "could not be decrypted");
}

TEST_CASE("Push and per-site limits are read with their key paths", "[config]") {
  ConfigDir files;
  auto config = files.parse(edited("push", std::string(
      R"({"listen": {"host": "0.0.0.0", "port": 9091}, "public_url": "http://worker1.corp:9091", "fallback_poll_ms": 30000})")));
  CAPTURE(config.status().toString());
  REQUIRE(config.isOk());
  REQUIRE(config->push.has_value());
  CHECK(config->push->host == "0.0.0.0");
  CHECK(config->push->port == 9091);
  CHECK(config->push->publicUrl == "http://worker1.corp:9091");
  CHECK(config->push->fallbackPoll == milliseconds(30000));
  CHECK_FALSE(files.parse(kFullConfig)->push.has_value());
  checkConfigFailure(files.parse(edited("push", std::string(R"({"public_url": "ftp://x"})"))), "push.public_url");
  checkConfigFailure(files.parse(edited("push", std::string(R"({"listen": {"port": 70000}})"))), "push.listen.port");
  checkConfigFailure(files.parse(edited("push", std::string(R"({"tls": {"cert_file": "missing.pem", "key_file": "client_key.pem"}})"))),
                     "push.tls.cert_file");

  auto limited = files.parse(edited("sites.default.limits", std::string(
      R"({"max_connections": 16, "max_concurrent_requests": 4, "max_concurrent_starts": 2})")));
  REQUIRE(limited.isOk());
  CHECK(limited->sites.at("default").qrs.maxConnections == 16);
  CHECK(limited->sites.at("default").qrs.maxConcurrentRequests == 4);
  CHECK(limited->sites.at("default").maxConcurrentStarts == 2);
  checkConfigFailure(files.parse(edited("sites.default.limits", std::string(R"({"max_concurrent_starts": 0})"))),
                     "sites.default.limits.max_concurrent_starts");
}

TEST_CASE("state.postgresql: the connection string and the password file, which is never echoed", "[config]") {
  ConfigDir files;
  const std::string password = "s3cr'et\\=x-7d1c";
  files.dir.write("pg.pass", password + "\n");
  auto config = files.parse(edited("state", std::string(R"({"postgresql": "host=db.corp  port=5432\tdbname=qlik_reload user=qlik_reload", "password_file": "pg.pass", "retention_days": 7})")));
  CAPTURE(config.status().toString());
  REQUIRE(config.isOk());
  // Poco's connector splits at single spaces: the pairs are joined with one.
  CHECK(config->state.postgresql == "host=db.corp port=5432 dbname=qlik_reload user=qlik_reload");
  CHECK(config->state.postgresqlPassword == password);
  CHECK(config->state.path.empty());
  CHECK(config->state.retention == std::chrono::hours(24 * 7));
  // libpq reads a backslash as escaping the next character.
  CHECK(postgresConnectionString(config->state) ==
        "host=db.corp port=5432 dbname=qlik_reload user=qlik_reload password=s3cr\\'et\\\\=x-7d1c");

  // Without a password file libpq finds one itself (passfile, PGPASSFILE, ~/.pgpass) or needs none.
  auto passfile = files.parse(edited("state", std::string(R"({"postgresql": "host=db port=5432 passfile=/etc/qlik-reload/pgpass"})")));
  REQUIRE(passfile.isOk());
  CHECK(postgresConnectionString(passfile->state) == "host=db port=5432 passfile=/etc/qlik-reload/pgpass");
  CHECK(passfile->state.postgresqlPassword.empty());

  auto fails = [&](const std::string& state, const std::string& fragment) {
    CAPTURE(state);
    auto result = files.parse(edited("state", state));
    checkConfigFailure(result, fragment);
    if (!result.isOk()) CHECK_THAT(result.status().message(), !Catch::Contains("s3cr"));
  };
  fails(R"({"path": "journal.db", "postgresql": "host=db"})", "state: path and postgresql are mutually exclusive");
  fails(R"({"postgresql": "host=db password=s3cr3t"})",
        "state.postgresql: must not hold the password (the configuration is no place for it): put it in a file "
        "named by state.password_file");
  fails(R"({"postgresql": "host=db sslkey=pg.key sslpassword=s3cr3t"})", "state.postgresql: must not hold sslpassword");
  fails(R"({"postgresql": "postgresql://qlik@db/qlik_reload"})",
        "state.postgresql: expected libpq keyword=value pairs separated by spaces");
  fails(R"({"postgresql": "host = db"})", "state.postgresql: expected libpq keyword=value pairs");
  fails(R"({"postgresql": "host=db application_name='qlik reload'"})", "state.postgresql: expected libpq keyword");
  fails(R"({"postgresql": ""})", "state.postgresql: must not be empty");
  fails(R"({"postgresql": 5432})", "state.postgresql: expected a string");
  fails(R"({"path": "journal.db", "password_file": "pg.pass"})", "state.password_file: only applies with state.postgresql");
  fails(R"({"postgresql": "host=db", "password_file": "missing.pass"})",
        "state.password_file: file " + files.dir.file("missing.pass") + " does not exist");
  fails(R"({"dir": "x"})", "state.dir: unknown key (expected one of path, postgresql, password_file, retention_days)");

  files.dir.write("empty.pass", "\r\n");
  fails(R"({"postgresql": "host=db", "password_file": "empty.pass"})",
        "state.password_file: file " + files.dir.file("empty.pass") + " is empty");
  files.dir.write("spaced.pass", "s3cr et\n");
  fails(R"({"postgresql": "host=db", "password_file": "spaced.pass"})",
        "state.password_file: the password in " + files.dir.file("spaced.pass") + " holds white space");
}
