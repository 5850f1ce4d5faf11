#include "sim/pki.h"

#include <sys/stat.h>

#include <fstream>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>

namespace qlik_reload::sim {
namespace {

Status runOpenssl(const PkiOptions& options, const std::string& step, const std::vector<std::string>& args) {
  try {
    Poco::Pipe errPipe;
    Poco::Pipe outPipe;
    Poco::ProcessHandle handle = Poco::Process::launch(options.opensslPath, args, nullptr, &outPipe, &errPipe);
    Poco::PipeInputStream out(outPipe);
    Poco::PipeInputStream err(errPipe);
    std::string ignored;
    std::string errors;
    Poco::StreamCopier::copyToString(out, ignored);
    Poco::StreamCopier::copyToString(err, errors);
    int rc = handle.wait();
    if (rc != 0) {
      if (errors.size() > 400) errors = errors.substr(0, 400) + "…";
      return Status::internal("openssl " + step + " failed (exit " + std::to_string(rc) + "): " + errors);
    }
  } catch (const Poco::Exception& e) {
    return Status::internal("cannot run " + options.opensslPath + " for " + step + ": " + e.displayText());
  }
  return Status::ok();
}

Status writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) return Status::internal("cannot write " + path);
  return Status::ok();
}

}  // namespace

Status makePki(const std::string& dir, const PkiOptions& options) {
  try {
    Poco::File(dir).createDirectories();
  } catch (const Poco::Exception& e) {
    return Status::internal("cannot create " + dir + ": " + e.displayText());
  }
  auto path = [&](const std::string& name) { return Poco::Path(dir, name).toString(); };
  const std::string& host = options.hostName;

  Status s = writeFile(path("server_ext.cnf"),
                       "basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth\n"
                       "subjectAltName=DNS:" + host + "\n");
  if (!s.isOk()) return s;
  s = writeFile(path("client_ext.cnf"),
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=clientAuth\n");
  if (!s.isOk()) return s;

  s = runOpenssl(options, "root CA",
                 {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("root_key.pem"), "-out",
                  path("root.pem"), "-days", "3650", "-subj", "/CN=" + host + "-CA", "-addext",
                  "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  if (!s.isOk()) return s;

  struct Leaf {
    const char* name;
    std::string subject;
    const char* ext;
  };
  for (const Leaf& leaf : {Leaf{"server", "/CN=" + host, "server_ext.cnf"},
                           Leaf{"client", "/CN=QlikClient", "client_ext.cnf"}}) {
    std::string base = leaf.name;
    s = runOpenssl(options, base + " key",
                   {"req", "-newkey", "rsa:2048", "-nodes", "-keyout", path(base + "_key.pem"), "-out",
                    path(base + ".csr"), "-subj", leaf.subject});
    if (!s.isOk()) return s;
    s = runOpenssl(options, base + " certificate",
                   {"x509", "-req", "-in", path(base + ".csr"), "-CA", path("root.pem"), "-CAkey",
                    path("root_key.pem"), "-CAcreateserial", "-out", path(base + ".pem"), "-days", "825",
                    "-sha256", "-extfile", path(leaf.ext)});
    if (!s.isOk()) return s;
    Poco::File(path(base + ".csr")).remove();
  }
  for (const char* key : {"root_key.pem", "server_key.pem", "client_key.pem"}) {
    ::chmod(path(key).c_str(), 0600);
  }
  for (const char* extra : {"server_ext.cnf", "client_ext.cnf", "root.srl"}) {
    Poco::File f(path(extra));
    if (f.exists()) f.remove();
  }
  return Status::ok();
}

}  // namespace qlik_reload::sim
