#include "test_pki.h"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <Poco/File.h>

#include "sim/pki.h"

namespace qlik_reload::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/qlik-reload-test-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = buffer.data();
}

TempDir::~TempDir() {
  try {
    Poco::File(path_).remove(true);
  } catch (...) {
    // Leaving a temp folder behind is not worth failing a test run over.
  }
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
  std::string target = file(name);
  std::ofstream out(target, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + target);
  return target;
}

namespace {

struct GeneratedPki {
  TempDir dir;
  TestPki pki;
  explicit GeneratedPki(const std::string& hostName) {
    pki.dir = dir.path();
    Status made = sim::makePki(pki.dir, sim::PkiOptions{hostName, "openssl"});
    if (!made.isOk()) throw std::runtime_error("makePki: " + made.toString());
  }
};

}  // namespace

const TestPki& sitePki() {
  static GeneratedPki generated("qlikserver1");
  return generated.pki;
}

const TestPki& otherPki() {
  static GeneratedPki generated("qlikserver1");
  return generated.pki;
}

bool runCommand(const std::string& command) { return std::system(command.c_str()) == 0; }

}  // namespace qlik_reload::testing
