#include "config/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdlib>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/IPAddress.h>

#include "qrs/client_identity.h"
#include "qrs/endpoint.h"
#include "qrs/json_util.h"

namespace qlik_reload {
namespace {

namespace fs = std::filesystem;
using Poco::Dynamic::Var;
using ObjectPtr = Poco::JSON::Object::Ptr;
using qrs::excerpt;
using qrs::jsonTypeName;

constexpr std::int64_t kMaxMilliseconds = 3'600'000;  // 1 h: the upper bound of every duration here
constexpr std::uintmax_t kMaxConfigBytes = 1u << 20;
constexpr std::uintmax_t kMaxPassphraseBytes = 4096;

// Poco's ParseHandler keeps the last of duplicate keys; a strict config
// refuses them instead, since one of the two values is surely a mistake.
class StrictParseHandler final : public Poco::JSON::ParseHandler {
 public:
  void reset() override {
    keys_.clear();
    ParseHandler::reset();
  }
  void startObject() override {
    ParseHandler::startObject();
    keys_.emplace_back();
  }
  void endObject() override {
    if (!keys_.empty()) keys_.pop_back();
    ParseHandler::endObject();
  }
  void key(const std::string& name) override {
    if (!keys_.empty() && !keys_.back().insert(name).second) {
      throw Poco::JSON::JSONException("duplicate key \"" + excerpt(name, 60) + "\"");
    }
    ParseHandler::key(name);
  }

 private:
  std::vector<std::set<std::string>> keys_;
};

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

bool isObject(const Var& v) {
  return !v.isEmpty() && v.type() == typeid(ObjectPtr) && !v.extract<ObjectPtr>().isNull();
}

// Walks the parsed document. The first failure is kept and every later read
// is skipped, so callers read everything and check status() once.
class Reader {
 public:
  Reader(std::string origin, std::string baseDir) : origin_(std::move(origin)), baseDir_(std::move(baseDir)) {}

  const Status& status() const { return status_; }
  bool ok() const { return status_.isOk(); }

  void fail(const std::string& path, const std::string& problem) {
    if (status_.isOk()) status_ = Status::configuration(origin_ + ": " + (path.empty() ? "" : path + ": ") + problem);
  }

  // Refuses keys not in `allowed`, naming the first unknown one.
  void onlyKeys(const ObjectPtr& object, const std::string& path, std::initializer_list<const char*> allowed) {
    if (!ok()) return;
    for (const auto& [key, value] : *object) {
      bool known = false;
      for (const char* name : allowed) known = known || key == name;
      if (known) continue;
      std::string expected;
      for (const char* name : allowed) expected += (expected.empty() ? "" : ", ") + std::string(name);
      fail(join(path, excerpt(key, 60)), "unknown key (expected one of " + expected + ")");
      return;
    }
  }

  // nullopt when missing (after recording an error when required).
  std::optional<Var> value(const ObjectPtr& object, const std::string& path, const char* key, bool required) {
    if (!ok()) return std::nullopt;
    if (!object->has(key)) {
      if (required) fail(join(path, key), "required");
      return std::nullopt;
    }
    return object->get(key);
  }

  ObjectPtr object(const ObjectPtr& parent, const std::string& path, const char* key, bool required) {
    std::optional<Var> v = value(parent, path, key, required);
    if (!v) return nullptr;
    if (!isObject(*v)) {
      fail(join(path, key), std::string("expected an object, got ") + jsonTypeName(*v));
      return nullptr;
    }
    return v->extract<ObjectPtr>();
  }

  // Leaves `out` unchanged when the key is missing and optional.
  void string(const ObjectPtr& parent, const std::string& path, const char* key, bool required, std::string& out) {
    std::optional<Var> v = value(parent, path, key, required);
    if (!v) return;
    if (v->isEmpty() || !v->isString()) {
      fail(join(path, key), std::string("expected a string, got ") + jsonTypeName(*v));
      return;
    }
    std::string text = v->extract<std::string>();
    if (text.empty()) {
      fail(join(path, key), "must not be empty");
      return;
    }
    out = std::move(text);
  }

  void integer(const ObjectPtr& parent, const std::string& path, const char* key, std::int64_t min, std::int64_t max,
               const char* unit, std::int64_t& out) {
    std::optional<Var> v = value(parent, path, key, false);
    if (!v) return;
    std::string expected = "expected an integer " + std::to_string(min) + ".." + std::to_string(max) + unit;
    if (v->isEmpty() || v->isBoolean() || !v->isInteger()) {
      fail(join(path, key), expected + ", got " + jsonTypeName(*v));
      return;
    }
    std::int64_t number = 0;
    try {
      if (v->isSigned()) {
        number = v->convert<std::int64_t>();
      } else {
        auto wide = v->convert<std::uint64_t>();
        number = wide > static_cast<std::uint64_t>(max) ? max + 1 : static_cast<std::int64_t>(wide);
      }
    } catch (...) {
      fail(join(path, key), expected + ", got " + excerpt(v->toString(), 30));
      return;
    }
    if (number < min || number > max) {
      fail(join(path, key), expected + ", got " + excerpt(v->toString(), 30));
      return;
    }
    out = number;
  }

  // Leaves `out` unchanged when the key is missing.
  void boolean(const ObjectPtr& parent, const std::string& path, const char* key, bool& out) {
    std::optional<Var> v = value(parent, path, key, false);
    if (!v) return;
    if (v->isEmpty() || !v->isBoolean()) {
      fail(join(path, key), std::string("expected true or false, got ") + jsonTypeName(*v));
      return;
    }
    out = v->extract<bool>();
  }

  void milliseconds(const ObjectPtr& parent, const std::string& path, const char* key, Duration& out) {
    std::int64_t ms = out.count();
    integer(parent, path, key, 1, kMaxMilliseconds, " (milliseconds)", ms);
    out = Duration(ms);
  }

  // A file the worker will read: resolved against the config's folder,
  // checked to exist, to be a regular file and to be readable.
  std::string file(const ObjectPtr& parent, const std::string& path, const char* key, bool required) {
    std::string raw;
    string(parent, path, key, required, raw);
    if (!ok() || raw.empty()) return "";
    std::string resolved = resolve(raw);
    std::error_code error;
    fs::file_status status = fs::status(resolved, error);
    if (error || !fs::exists(status)) {
      fail(join(path, key), "file " + resolved + " does not exist");
    } else if (!fs::is_regular_file(status)) {
      fail(join(path, key), resolved + " is not a regular file");
    } else if (!std::ifstream(resolved, std::ios::binary).is_open()) {
      fail(join(path, key), "file " + resolved + " cannot be read (" + std::generic_category().message(errno) + ")");
    }
    return resolved;
  }

 // A path against the configuration's folder, not checked.
  std::string resolvePath(const std::string& raw) const { return resolve(raw); }

 private:
  std::string resolve(const std::string& raw) const {
    fs::path path(raw);
    if (path.is_relative()) path = fs::path(baseDir_) / path;
    std::error_code error;
    fs::path absolute = fs::absolute(path, error);
    return (error ? path : absolute).lexically_normal().string();
  }

  std::string origin_;
  std::string baseDir_;
  Status status_;
};

bool isSiteName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-';
    if (!ok) return false;
  }
  return true;
}

bool isHeaderSafe(const std::string& value) {
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == ';' || c == '=') return false;
  }
  return true;
}

bool isServerName(const std::string& name) {
  Poco::Net::IPAddress address;
  if (Poco::Net::IPAddress::tryParse(name, address)) return true;
  if (name.size() > 253) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// An IPv4 or IPv6 address in numeric form (as getaddrinfo takes it for
// binding: "0.0.0.0", "::"), or a host name.
bool isListenHost(const std::string& host) {
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return true;
  return isServerName(host);
}

// The passphrase file's content without trailing line breaks. Never echoed.
std::string readPassphrase(Reader& reader, const std::string& keyPath, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > kMaxPassphraseBytes) {
    reader.fail(keyPath, "file " + file + " is larger than " + std::to_string(kMaxPassphraseBytes) + " bytes");
    return "";
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) reader.fail(keyPath, "file " + file + " is empty");
  return text;
}

void readAuth(Reader& reader, const ObjectPtr& site, const std::string& sitePath, qrs::ConnectionOptions& qrs) {
  const std::string path = join(sitePath, "auth");
  ObjectPtr auth = reader.object(site, sitePath, "auth", true);
  if (!reader.ok()) return;
  reader.onlyKeys(auth, path,
                  {"type", "client_cert", "client_key", "client_key_passphrase_file", "user_directory", "user_id"});
  std::string type;
  reader.string(auth, path, "type", true, type);
  if (reader.ok() && type != "certificate") {
    reader.fail(join(path, "type"),
                "expected \"certificate\" (the only supported type), got \"" + excerpt(type, 40) + "\"");
  }
  qrs.clientCertFile = reader.file(auth, path, "client_cert", true);
  qrs.clientKeyFile = reader.file(auth, path, "client_key", true);
  std::string passphraseFile = reader.file(auth, path, "client_key_passphrase_file", false);
  if (reader.ok() && !passphraseFile.empty()) {
    qrs.clientKeyPassphrase = readPassphrase(reader, join(path, "client_key_passphrase_file"), passphraseFile);
  }
  reader.string(auth, path, "user_directory", false, qrs.userDirectory);
  if (reader.ok() && !isHeaderSafe(qrs.userDirectory)) {
    reader.fail(join(path, "user_directory"), "may only hold printable ASCII without ';' and '='");
  }
  reader.string(auth, path, "user_id", false, qrs.userId);
  if (reader.ok() && !isHeaderSafe(qrs.userId)) {
    reader.fail(join(path, "user_id"), "may only hold printable ASCII without ';' and '='");
  }
  if (!reader.ok()) return;

  qrs::ClientIdentityPart part = qrs::ClientIdentityPart::kKey;
  Status identity = qrs::checkClientIdentity(qrs.clientCertFile, qrs.clientKeyFile, qrs.clientKeyPassphrase, &part);
  if (!identity.isOk()) {
    std::string key = "client_key";
    if (part == qrs::ClientIdentityPart::kCertificate) key = "client_cert";
    if (part == qrs::ClientIdentityPart::kPassphrase && !passphraseFile.empty()) key = "client_key_passphrase_file";
    reader.fail(join(path, key), identity.message());
  }
}

void readTls(Reader& reader, const ObjectPtr& site, const std::string& sitePath, qrs::ConnectionOptions& qrs) {
  const std::string path = join(sitePath, "tls");
  ObjectPtr tls = reader.object(site, sitePath, "tls", true);
  if (!reader.ok()) return;
  reader.onlyKeys(tls, path, {"ca_file", "verify", "server_name"});
  std::string verify = "full";
  reader.string(tls, path, "verify", false, verify);
  if (!reader.ok()) return;
  if (verify == "full") {
    qrs.verify = qrs::TlsVerify::kFull;
  } else if (verify == "chain") {
    qrs.verify = qrs::TlsVerify::kChain;
  } else if (verify == "none") {
    qrs.verify = qrs::TlsVerify::kNone;
  } else {
    reader.fail(join(path, "verify"), "expected one of full, chain, none, got \"" + excerpt(verify, 40) + "\"");
    return;
  }
  qrs.caFile = reader.file(tls, path, "ca_file", qrs.verify != qrs::TlsVerify::kNone);
  if (reader.ok() && !qrs.caFile.empty()) {
    if (Status ca = qrs::checkCaFile(qrs.caFile); !ca.isOk()) reader.fail(join(path, "ca_file"), ca.message());
  }
  reader.string(tls, path, "server_name", false, qrs.serverName);
  if (!reader.ok() || qrs.serverName.empty()) return;
  if (qrs.verify != qrs::TlsVerify::kFull) {
    reader.fail(join(path, "server_name"), "only applies when verify is full (verify is " + verify + ")");
  } else if (!isServerName(qrs.serverName)) {
    reader.fail(join(path, "server_name"), "'" + excerpt(qrs.serverName, 60) + "' is not a host name or IP address");
  }
}

// checkClientIdentity names the QRS client's keys in its messages; for the
// listen section the same checks are about the worker's own certificate.
std::string withListenKeyNames(std::string message) {
  const std::pair<std::string, std::string> renames[] = {
      {"(client_key_passphrase_file)", "(key_passphrase_file)"},
      {"client_key ", "key_file "},
      {"client_cert ", "cert_file "},
      {"client_cert)", "cert_file)"},
  };
  for (const auto& [from, to] : renames) {
    for (std::size_t at = message.find(from); at != std::string::npos; at = message.find(from, at + to.size())) {
      message.replace(at, from.size(), to);
    }
  }
  return message;
}

void readListenTls(Reader& reader, const ObjectPtr& listen, ListenConfig& config) {
  const std::string path = "listen.tls";
  ObjectPtr tls = reader.object(listen, "listen", "tls", false);
  if (tls.isNull() || !reader.ok()) return;
  reader.onlyKeys(tls, path, {"cert_file", "key_file", "key_passphrase_file", "ca_file"});
  ListenTlsConfig out;
  out.certFile = reader.file(tls, path, "cert_file", true);
  out.keyFile = reader.file(tls, path, "key_file", true);
  std::string passphraseFile = reader.file(tls, path, "key_passphrase_file", false);
  if (reader.ok() && !passphraseFile.empty()) {
    out.keyPassphrase = readPassphrase(reader, join(path, "key_passphrase_file"), passphraseFile);
  }
  if (reader.ok() && !tls->has("ca_file")) {
    reader.fail(join(path, "ca_file"),
                "required: the CA that issued the callers' client certificates (the worker accepts only callers "
                "that present one)");
  }
  out.caFile = reader.file(tls, path, "ca_file", true);
  if (!reader.ok()) return;

  qrs::ClientIdentityPart part = qrs::ClientIdentityPart::kKey;
  Status identity = qrs::checkClientIdentity(out.certFile, out.keyFile, out.keyPassphrase, &part);
  if (!identity.isOk()) {
    std::string key = "key_file";
    if (part == qrs::ClientIdentityPart::kCertificate) key = "cert_file";
    if (part == qrs::ClientIdentityPart::kPassphrase && !passphraseFile.empty()) key = "key_passphrase_file";
    reader.fail(join(path, key), withListenKeyNames(identity.message()));
    return;
  }
  if (Status ca = qrs::checkCaFile(out.caFile); !ca.isOk()) {
    reader.fail(join(path, "ca_file"), ca.message());
    return;
  }
  config.tls = std::move(out);
}

void readListen(Reader& reader, const ObjectPtr& root, ListenConfig& config) {
  const std::string path = "listen";
  ObjectPtr listen = reader.object(root, "", "listen", false);
  if (listen.isNull() || !reader.ok()) return;
  reader.onlyKeys(listen, path,
                  {"host", "port", "tls", "insecure", "max_connections", "idle_timeout_ms", "read_timeout_ms",
                   "max_frame_bytes", "max_string_bytes", "max_container_items"});
  reader.string(listen, path, "host", false, config.host);
  if (reader.ok() && !isListenHost(config.host)) {
    reader.fail(join(path, "host"), "'" + excerpt(config.host, 60) + "' is not a host name or IP address");
  }
  std::int64_t number = config.port;
  reader.integer(listen, path, "port", 0, 65535, "", number);
  config.port = static_cast<int>(number);

  readListenTls(reader, listen, config);
  reader.boolean(listen, path, "insecure", config.insecure);
  if (reader.ok() && config.insecure && config.tls) {
    reader.fail(join(path, "insecure"), "only applies without listen.tls (with tls the port is not insecure)");
  }

  number = config.maxConnections;
  reader.integer(listen, path, "max_connections", 1, 100'000, " (connections)", number);
  config.maxConnections = static_cast<int>(number);
  reader.milliseconds(listen, path, "idle_timeout_ms", config.idleTimeout);
  reader.milliseconds(listen, path, "read_timeout_ms", config.readTimeout);
  number = config.maxFrameBytes;
  reader.integer(listen, path, "max_frame_bytes", 4096, 256 << 20, " (bytes)", number);
  config.maxFrameBytes = static_cast<std::int32_t>(number);
  number = config.maxStringBytes;
  reader.integer(listen, path, "max_string_bytes", 1024, 256 << 20, " (bytes)", number);
  config.maxStringBytes = static_cast<std::int32_t>(number);
  number = config.maxContainerItems;
  reader.integer(listen, path, "max_container_items", 64, 10'000'000, " (items)", number);
  config.maxContainerItems = static_cast<std::int32_t>(number);

  if (reader.ok() && !config.tls && !config.insecure && !isLoopbackHost(config.host)) {
    reader.fail(join(path, "host"),
                "'" + excerpt(config.host, 60) +
                    "' is not a loopback address, so the Thrift port would accept reload requests from the "
                    "network: set listen.tls (cert_file, key_file, and ca_file for the callers' client "
                    "certificates), or listen on 127.0.0.1, or set listen.insecure to true on a network you trust "
                    "(warned about at every start)");
  }
}

SiteConfig readSite(Reader& reader, const std::string& name, const Var& value) {
  const std::string path = "sites." + excerpt(name, 64);
  SiteConfig site;
  site.name = name;
  if (!isSiteName(name)) {
    reader.fail(path, "a site name must be 1-64 characters of [A-Za-z0-9_.-]");
    return site;
  }
  if (!isObject(value)) {
    reader.fail(path, std::string("expected an object, got ") + jsonTypeName(value));
    return site;
  }
  ObjectPtr object = value.extract<ObjectPtr>();
  reader.onlyKeys(object, path, {"url", "auth", "tls", "timeouts", "poll", "stop_wait_ms", "limits"});

  reader.string(object, path, "url", true, site.qrs.url);
  if (reader.ok()) {
    Result<qrs::QrsEndpoint> endpoint = qrs::parseQrsUrl(site.qrs.url);
    if (!endpoint.isOk()) {
      std::string message = endpoint.status().message();
      if (message.rfind("url ", 0) == 0) message.erase(0, 4);
      reader.fail(join(path, "url"), message);
    }
  }
  readAuth(reader, object, path, site.qrs);
  readTls(reader, object, path, site.qrs);

  if (ObjectPtr timeouts = reader.object(object, path, "timeouts", false); !timeouts.isNull()) {
    const std::string timeoutsPath = join(path, "timeouts");
    reader.onlyKeys(timeouts, timeoutsPath, {"connect_ms", "read_ms"});
    reader.milliseconds(timeouts, timeoutsPath, "connect_ms", site.qrs.connectTimeout);
    reader.milliseconds(timeouts, timeoutsPath, "read_ms", site.qrs.readTimeout);
  }
  if (ObjectPtr poll = reader.object(object, path, "poll", false); !poll.isNull()) {
    const std::string pollPath = join(path, "poll");
    reader.onlyKeys(poll, pollPath, {"initial_ms", "max_ms"});
    reader.milliseconds(poll, pollPath, "initial_ms", site.poll.initial);
    reader.milliseconds(poll, pollPath, "max_ms", site.poll.max);
  }
  if (reader.ok() && site.poll.max < site.poll.initial) {
    reader.fail(join(path, "poll.max_ms"), "must be at least poll.initial_ms (" +
                                               std::to_string(site.poll.initial.count()) + "), got " +
                                               std::to_string(site.poll.max.count()));
  }
  reader.milliseconds(object, path, "stop_wait_ms", site.stopWait);
  if (ObjectPtr limits = reader.object(object, path, "limits", false); !limits.isNull()) {
    const std::string limitsPath = join(path, "limits");
    reader.onlyKeys(limits, limitsPath, {"max_connections", "max_concurrent_requests", "max_concurrent_starts"});
    std::int64_t connections = site.qrs.maxConnections;
    std::int64_t requests = site.qrs.maxConcurrentRequests;
    std::int64_t starts = site.maxConcurrentStarts;
    reader.integer(limits, limitsPath, "max_connections", 1, 1024, "", connections);
    reader.integer(limits, limitsPath, "max_concurrent_requests", 1, 1024, "", requests);
    reader.integer(limits, limitsPath, "max_concurrent_starts", 1, 1024, "", starts);
    site.qrs.maxConnections = static_cast<int>(connections);
    site.qrs.maxConcurrentRequests = static_cast<int>(requests);
    site.maxConcurrentStarts = static_cast<int>(starts);
  }
  return site;
}

PushConfig readPush(Reader& reader, const ObjectPtr& push) {
  PushConfig config;
  reader.onlyKeys(push, "push", {"listen", "public_url", "tls", "fallback_poll_ms"});
  if (ObjectPtr listen = reader.object(push, "push", "listen", false); !listen.isNull()) {
    reader.onlyKeys(listen, "push.listen", {"host", "port"});
    reader.string(listen, "push.listen", "host", false, config.host);
    std::int64_t port = config.port;
    reader.integer(listen, "push.listen", "port", 0, 65535, "", port);
    config.port = static_cast<int>(port);
  }
  reader.string(push, "push", "public_url", false, config.publicUrl);
  if (reader.ok() && !config.publicUrl.empty() && config.publicUrl.rfind("http://", 0) != 0 &&
      config.publicUrl.rfind("https://", 0) != 0) {
    reader.fail("push.public_url", "must start with http:// or https://");
  }
  if (ObjectPtr tls = reader.object(push, "push", "tls", false); !tls.isNull()) {
    reader.onlyKeys(tls, "push.tls", {"cert_file", "key_file"});
    config.certFile = reader.file(tls, "push.tls", "cert_file", true);
    config.keyFile = reader.file(tls, "push.tls", "key_file", true);
  }
  reader.milliseconds(push, "push", "fallback_poll_ms", config.fallbackPoll);
  return config;
}

std::string defaultStatePath() {
  if (const char* dir = std::getenv("STATE_DIRECTORY"); dir != nullptr && *dir != '\0') {
    // systemd may list several folders separated by ':'; the first is ours.
    std::string first(dir);
    return (fs::path(first.substr(0, first.find(':'))) / "journal.db").string();
  }
  if (::geteuid() == 0) return "/var/lib/qlik-reload/journal.db";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg != '\0') {
    return (fs::path(xdg) / "qlik-reload" / "journal.db").string();
  }
  const char* home = std::getenv("HOME");
  return (fs::path(home != nullptr ? home : ".") / ".local" / "state" / "qlik-reload" / "journal.db").string();
}

// A libpq keyword: lower-case letters and '_'.
bool isConnectionKeyword(const std::string& word) {
  if (word.empty()) return false;
  for (char c : word) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

void readPostgresql(Reader& reader, const ObjectPtr& state, StateConfig& config) {
  const std::string key = "state.postgresql";
  reader.string(state, "state", "postgresql", false, config.postgresql);
  if (!reader.ok() || config.postgresql.empty()) return;
  std::istringstream words(config.postgresql);
  std::string word, normalized;
  while (words >> word) {
    normalized += (normalized.empty() ? "" : " ") + word;
    const std::size_t equals = word.find('=');
    const std::string keyword = word.substr(0, equals);
    if (equals == std::string::npos || equals + 1 == word.size() || !isConnectionKeyword(keyword)) {
      reader.fail(key, "expected libpq keyword=value pairs separated by spaces, such as \"host=db.corp port=5432 "
                       "dbname=qlik_reload user=qlik_reload\" (no URI, no spaces around '=' or inside a value), "
                       "got \"" + excerpt(keyword, 40) + "…\"");
      return;
    }
    if (keyword == "password") {
      reader.fail(key, "must not hold the password (the configuration is no place for it): put it in a file "
                       "named by state.password_file, or use libpq's passfile keyword or PGPASSFILE");
      return;
    }
    if (keyword == "sslpassword") {
      reader.fail(key, "must not hold sslpassword (the configuration is no place for it): use a client key "
                       "without a passphrase, readable by the worker only");
      return;
    }
  }
  // Poco's connector splits at single spaces: two in a row, or a tab, would
  // break it.
  config.postgresql = normalized;
}

void readState(Reader& reader, const ObjectPtr& root, StateConfig& config) {
  ObjectPtr state = reader.object(root, "", "state", false);
  if (state.isNull() || !reader.ok()) {
    config.path = defaultStatePath();
    return;
  }
  reader.onlyKeys(state, "state", {"path", "postgresql", "password_file", "retention_days"});
  if (reader.ok() && state->has("path") && state->has("postgresql")) {
    reader.fail("state", "path and postgresql are mutually exclusive: path is the SQLite file of one worker, "
                         "postgresql the database several workers share; keep one of them");
    return;
  }
  readPostgresql(reader, state, config);
  if (config.postgresql.empty()) {
    if (reader.ok() && state->has("password_file")) {
      reader.fail("state.password_file", "only applies with state.postgresql");
      return;
    }
    std::string raw;
    reader.string(state, "state", "path", false, raw);
    config.path = raw.empty() ? defaultStatePath() : reader.resolvePath(raw);
  } else {
    const std::string passwordFile = reader.file(state, "state", "password_file", false);
    if (reader.ok() && !passwordFile.empty()) {
      config.postgresqlPassword = readPassphrase(reader, "state.password_file", passwordFile);
      if (reader.ok() && config.postgresqlPassword.find_first_of(" \t\r\n\v\f") != std::string::npos) {
        reader.fail("state.password_file",
                    "the password in " + passwordFile + " holds white space, which the connection string "
                    "cannot carry (Poco's connector splits it at spaces); use libpq's passfile instead");
      }
    }
  }
  std::int64_t days = 14;
  reader.integer(state, "state", "retention_days", 1, 3650, " (days)", days);
  config.retention = Duration(days * 24 * 3600 * 1000);
}

}  // namespace

std::string postgresConnectionString(const StateConfig& state) {
  if (state.postgresqlPassword.empty()) return state.postgresql;
  // libpq reads a backslash in an unquoted value as escaping the next
  // character, and a value that starts with a quote as quoted.
  std::string escaped;
  for (char c : state.postgresqlPassword) {
    if (c == '\\' || c == '\'') escaped += '\\';
    escaped += c;
  }
  return state.postgresql + " password=" + escaped;
}

bool isLoopbackHost(const std::string& host) {
  std::string lower(host);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

Result<WorkerConfig> parseWorkerConfig(const std::string& json, const std::string& baseDir, const std::string& origin) {
  Reader reader(origin, baseDir);
  Var document;
  try {
    Poco::JSON::Parser parser(new StrictParseHandler);
    parser.setAllowComments(false);
    parser.setAllowNullByte(false);
    document = parser.parse(json);
  } catch (const Poco::Exception& e) {
    return Status::configuration(origin + ": invalid JSON: " + excerpt(e.message(), 200));
  } catch (const std::exception& e) {
    return Status::configuration(origin + ": invalid JSON: " + excerpt(e.what(), 200));
  }
  if (!isObject(document)) {
    return Status::configuration(origin + ": expected a JSON object at the top level, got " + jsonTypeName(document));
  }
  ObjectPtr root = document.extract<ObjectPtr>();

  WorkerConfig config;
  config.path = origin;
  try {
    reader.onlyKeys(root, "", {"listen", "log_level", "sites", "state", "push", "worker_id"});
    {
      char host[256] = {};
      config.workerId = ::gethostname(host, sizeof host - 1) == 0 && host[0] != '\0' ? host : "worker";
      reader.string(root, "", "worker_id", false, config.workerId);
      if (reader.ok() && (config.workerId.size() > 128 || !isHeaderSafe(config.workerId))) {
        reader.fail("worker_id", "must be at most 128 printable characters");
      }
    }
    if (ObjectPtr push = reader.object(root, "", "push", false); !push.isNull()) config.push = readPush(reader, push);
    readState(reader, root, config.state);
    readListen(reader, root, config.listen);
    std::string level = "info";
    reader.string(root, "", "log_level", false, level);
    if (reader.ok()) {
      if (level == "debug") config.logLevel = LogLevel::kDebug;
      else if (level == "info") config.logLevel = LogLevel::kInfo;
      else if (level == "warn") config.logLevel = LogLevel::kWarn;
      else if (level == "error") config.logLevel = LogLevel::kError;
      else reader.fail("log_level", "expected one of debug, info, warn, error, got \"" + excerpt(level, 40) + "\"");
    }
    ObjectPtr sites = reader.object(root, "", "sites", true);
    if (reader.ok() && sites->size() == 0) reader.fail("sites", "at least one site is required");
    if (reader.ok()) {
      for (const auto& [name, value] : *sites) {
        SiteConfig site = readSite(reader, name, value);
        if (!reader.ok()) break;
        config.sites.emplace(name, std::move(site));
      }
    }
  } catch (const std::exception& e) {
    // Poco's accessors are not expected to throw after the checks above; if
    // one does, it is still a configuration problem, not a crash.
    reader.fail("", excerpt(e.what(), 200));
  }
  if (!reader.ok()) return reader.status();
  return config;
}

Result<WorkerConfig> loadWorkerConfig(const std::string& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(fs::path(path), error);
  if (error) absolute = fs::path(path);
  absolute = absolute.lexically_normal();
  const std::string shown = absolute.string();

  fs::file_status status = fs::status(absolute, error);
  if (error || !fs::exists(status)) {
    return Status::configuration(shown + ": configuration file does not exist");
  }
  if (!fs::is_regular_file(status)) return Status::configuration(shown + ": not a regular file");
  std::uintmax_t size = fs::file_size(absolute, error);
  if (!error && size > kMaxConfigBytes) {
    return Status::configuration(shown + ": larger than " + std::to_string(kMaxConfigBytes) + " bytes");
  }
  std::ifstream in(absolute, std::ios::binary);
  if (!in.is_open()) {
    return Status::configuration(shown + ": cannot be read (" + std::generic_category().message(errno) + ")");
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string json = text.str();
  // Editors on Windows like to start UTF-8 files with a byte-order mark.
  if (json.rfind("\xEF\xBB\xBF", 0) == 0) json.erase(0, 3);
  return parseWorkerConfig(json, absolute.parent_path().string(), shown);
}

}  // namespace qlik_reload
