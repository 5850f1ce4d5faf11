// The secrets scan can fail: secrets planted in files are found and named by
// file and line, without the scan ever printing them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "secret_scan.h"
#include "sim/pki.h"
#include "test_pki.h"

using namespace qlik_reload;
using namespace qlik_reload::testing;
namespace fs = std::filesystem;

namespace {

// A value no source file holds, so nothing but this test can produce it.
std::string randomWord(const std::string& prefix) {
  std::random_device device;
  return prefix + std::to_string(device()) + std::to_string(device());
}

// A folder with a fresh test PKI (pki/) and empty logs/ and src/ folders.
struct Planted {
  TempDir dir;
  std::string pki = dir.file("pki");
  std::string logs = dir.file("logs");
  std::string sources = dir.file("src");

  Planted() {
    REQUIRE(sim::makePki(pki).isOk());
    fs::create_directories(logs);
    fs::create_directories(sources);
  }

  // A source line that assigns `value` to a passphrase variable. Put together
  // here so that this test's own source holds no such assignment.
  void plantSourceWithPassphrase(const std::string& value) const {
    const std::string name = std::string("kClientKeyPass") + "phrase";
    dir.write("src/sample_test.cpp", "// sample\n#include <string>\nconst std::string " + name + " = \"" + value +
                                         "\";\nconst std::string other = " + name + " + \"-wrong\";\n");
  }

  ScanOptions options() const {
    ScanOptions scan;
    scan.roots = {logs};
    scan.keyFolder = pki;
    scan.sourceFolder = sources;
    scan.minPassphrases = 1;
    return scan;
  }
};

std::string lines(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) text += part + "\n";
  return text;
}

// The scan's output must never hold any secret it searched for.
void checkOutputHoldsNoSecret(const std::string& output, const std::vector<Secret>& secrets) {
  for (const Secret& secret : secrets) {
    INFO(secret.label);
    CHECK(output.find(secret.text) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("The body lines of every private key in the PKI are secrets, certificates are not", "[secrets]") {
  Planted planted;
  std::size_t keyFiles = 0;
  std::vector<Secret> keyLines = privateKeyLinesIn(planted.pki, keyFiles);
  CHECK(keyFiles == 3);  // root, server and client keys
  REQUIRE(keyLines.size() >= 3 * 20);
  for (const Secret& line : keyLines) {
    CHECK(line.text.size() >= kMinKeyLineLength);
    CHECK(line.text.find("-----") == std::string::npos);
    CHECK(line.label.find(line.text) == std::string::npos);
    CHECK_THAT(line.label, Catch::Contains("pki/") && Catch::Contains("_key.pem"));
  }
}

TEST_CASE("Passphrases are found where tests assign them, in any quoting", "[secrets]") {
  TempDir dir;
  const std::string word = "passphrase";
  dir.write("a_test.cpp", "const std::string kPass" + word.substr(4) + " = \"first-Phrase-1\";\n");
  dir.write("b.py", "CLIENT_PASS" + std::string("PHRASE") + " = 'second-phrase-2'\nshort_" + word + " = \"abc\"\n");
  dir.write("c.h", "std::string " + word + "{\"third-phrase-3\"};\nstd::string x = " + word + " + \"-wrong\";\n");
  dir.write("d.txt", word + " = \"not-a-source-file\"\n");
  std::vector<Secret> found = passphrasesInSources(dir.path());
  std::vector<std::string> texts;
  for (const Secret& secret : found) texts.push_back(secret.text);
  std::sort(texts.begin(), texts.end());
  CHECK(texts == std::vector<std::string>{"first-Phrase-1", "second-phrase-2", "third-phrase-3"});
  for (const Secret& secret : found) CHECK(secret.label.find(secret.text) == std::string::npos);
}

TEST_CASE("The suite's own test passphrases are found in its sources", "[secrets]") {
  std::vector<Secret> found = passphrasesInSources(QLIK_TEST_SOURCE_DIR "/tests");
  CHECK(found.size() >= 3);
  // The configuration tests' passphrase is one of them (its variable is
  // named like one); if this fails, the pattern no longer fits the sources.
  CHECK(std::any_of(found.begin(), found.end(),
                    [](const Secret& s) { return s.label.find("unit/config/config_test.cpp") != std::string::npos; }));
}

TEST_CASE("Logs and journals are scanned, key material and passphrase files are not", "[secrets]") {
  TempDir dir;
  for (const char* name : {"a.pem", "b.pass", "c.err", "d.db", "e.KEY", "f.out", "sub/g.log", "sub/h"}) {
    fs::create_directories(fs::path(dir.file(name)).parent_path());
    dir.write(name, "x");
  }
  std::vector<std::string> files = filesToScan(dir.path());
  std::vector<std::string> expected;
  for (const char* name : {"c.err", "d.db", "f.out", "sub/g.log", "sub/h"}) expected.push_back(dir.file(name));
  CHECK(files == expected);
}

TEST_CASE("A planted key line, key marker or passphrase fails the scan, named by file and line only", "[secrets]") {
  Planted planted;
  const std::string passphrase = randomWord("Planted-");
  planted.plantSourceWithPassphrase(passphrase);
  std::size_t keyFiles = 0;
  std::vector<Secret> keyLines = privateKeyLinesIn(planted.pki, keyFiles);
  REQUIRE(keyLines.size() > 5);

  fs::create_directories(planted.logs + "/env-1");
  planted.dir.write("logs/clean.err", lines({"2026-01-02T03:04:05.678Z info listening on 127.0.0.1:9090"}));
  planted.dir.write("logs/env-1/worker0.err",
                    lines({"start", "debug: loaded key", "error: bad key " + keyLines[5].text + " (truncated)"}));
  planted.dir.write("logs/cli3.out", lines({"{\"error\":\"-----BEGIN ENCRYPTED PRIVATE KEY-----\"}"}));
  planted.dir.write("logs/journal.db", std::string("SQLite format 3\0\x01", 17) + "passphrase=" + passphrase);

  std::ostringstream out;
  CHECK(runSecretScan(planted.options(), out) == 1);
  const std::string report = out.str();
  INFO(report);
  CHECK_THAT(report, Catch::Contains(planted.logs + "/env-1/worker0.err:3: " + keyLines[5].label));
  CHECK_THAT(report, Catch::Contains(planted.logs + "/cli3.out:1: a PEM private-key marker"));
  CHECK_THAT(report, Catch::Contains(planted.logs + "/journal.db:1: the test passphrase of src/sample_test.cpp:3"));
  CHECK_THAT(report, !Catch::Contains("clean.err"));
  CHECK_THAT(report, Catch::Contains("3 found"));
  checkOutputHoldsNoSecret(report, keyLines);
  CHECK(report.find(passphrase) == std::string::npos);
}

TEST_CASE("A clean tree passes the scan", "[secrets]") {
  Planted planted;
  planted.plantSourceWithPassphrase(randomWord("Unused-"));
  planted.dir.write("logs/worker0.err", lines({"info listening", "warn tls.verify is none", "info stopped"}));
  std::ostringstream out;
  CHECK(runSecretScan(planted.options(), out) == 0);
  INFO(out.str());
  CHECK_THAT(out.str(), Catch::Contains("none found"));
}

TEST_CASE("The scan refuses to pass when it cannot do its job", "[secrets]") {
  Planted planted;
  std::ostringstream noPassphrases;
  CHECK(runSecretScan(planted.options(), noPassphrases) == 2);  // src/ holds none
  CHECK_THAT(noPassphrases.str(), Catch::Contains("found 0 test passphrases"));

  planted.plantSourceWithPassphrase(randomWord("Unused-"));
  ScanOptions options = planted.options();
  options.keyFolder = planted.logs;  // a folder without keys
  std::ostringstream noKeys;
  CHECK(runSecretScan(options, noKeys) == 2);
  CHECK_THAT(noKeys.str(), Catch::Contains("holds no PEM private key"));
}
