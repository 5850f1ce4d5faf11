// Test certificates, generated once per test program with sim::makePki into
// a temporary folder that is removed at exit. Never committed.
#pragma once

#include <string>

namespace qlik_reload::testing {

// A temporary folder, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `text` to file(name) and returns that path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

struct TestPki {
  std::string dir;
  std::string file(const std::string& name) const { return dir + "/" + name; }
  std::string rootCert() const { return file("root.pem"); }
  std::string serverCert() const { return file("server.pem"); }
  std::string serverKey() const { return file("server_key.pem"); }
  std::string clientCert() const { return file("client.pem"); }
  std::string clientKey() const { return file("client_key.pem"); }
};

// The site's PKI: server certificate for "qlikserver1" only (no IP SAN).
const TestPki& sitePki();
// An unrelated PKI (its own CA, same host name): the wrong CA for the site.
const TestPki& otherPki();

// Runs a shell command; true when it exits 0.
bool runCommand(const std::string& command);

}  // namespace qlik_reload::testing
