// The worker's configuration file (JSON). Relative paths resolve against the
// folder of the file. Unknown keys, wrong types, missing or unreadable files
// fail with ErrorCode::kConfiguration and a message naming the key (as a
// path: sites.default.tls.ca_file) or the file.
//
// Strict: no comments, no duplicate keys, integers only where a number is
// expected, null is never a value. A UTF-8 byte-order mark is skipped. Rules
// beyond the shape below: auth.type is "certificate"; tls.verify is full
// (default), chain or none; ca_file is required unless verify is none;
// server_name only with verify full; site names are 1-64 characters of
// [A-Za-z0-9_.-]; every *_ms value is 1..3600000 and poll.max_ms >=
// poll.initial_ms; listen.port is 0..65535; log_level is debug, info, warn or
// error. listen.host is a host name or IP address; one that is not loopback
// (isLoopbackHost) needs listen.tls or listen.insecure: true; insecure is
// refused together with tls. listen.tls needs cert_file, key_file and ca_file
// (client certificates are always required); the key must match the
// certificate and open with key_passphrase_file when encrypted. Passphrase
// files' trailing line breaks are dropped; their content never appears in a
// message.
//
// {
//   "listen": {"host": "127.0.0.1", "port": 9090,
//              "tls": {"cert_file": "worker.pem", "key_file": "worker_key.pem",     (optional)
//                      "key_passphrase_file": "worker_key.pass",                   (optional)
//                      "ca_file": "clients_ca.pem"},
//              "insecure": false, "max_connections": 2000,                         (optional)
//              "idle_timeout_ms": 300000, "read_timeout_ms": 30000,                (optional)
//              "max_frame_bytes": 1048576, "max_string_bytes": 1048576,            (optional)
//              "max_container_items": 10000},                                      (optional)
//   "log_level": "info",
//   "sites": {
//     "default": {
//       "url": "https://qlikserver1:4242",
//       "auth": {"type": "certificate", "client_cert": "client.pem", "client_key": "client_key.pem",
//                "client_key_passphrase_file": "key.pass",            (optional)
//                "user_directory": "INTERNAL", "user_id": "sa_scheduler"},
//       "tls": {"ca_file": "root.pem", "verify": "full", "server_name": "qlikserver1"},
//       "timeouts": {"connect_ms": 10000, "read_ms": 60000},                (optional)
//       "poll": {"initial_ms": 250, "max_ms": 5000},                        (optional)
//       "stop_wait_ms": 60000                                              (optional)
//     }
//   }
// }
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/backoff.h"
#include "core/log.h"
#include "core/status.h"
#include "qrs/connection_options.h"

namespace qlik_reload {

struct SiteConfig {
  std::string name;
  qrs::ConnectionOptions qrs;  // "limits": {"max_connections", "max_concurrent_requests"} land here too
  int maxConcurrentStarts = 8;  // "limits.max_concurrent_starts": start requests in flight at once
  BackoffOptions poll{Duration(250), Duration(5000), 2.0, 0.1};  // status polling while a reload runs
  Duration stopWait{60'000};  // after a stop, how long to wait for Qlik to report Aborted
};

// "listen.tls": TLS on the Thrift port, always with client certificates
// (mutual TLS). Paths are absolute once loaded.
struct ListenTlsConfig {
  std::string certFile;       // "cert_file": the worker's certificate (chain), PEM
  std::string keyFile;        // "key_file": its private key, PEM
  std::string keyPassphrase;  // the content of "key_passphrase_file" (optional); never logged
  std::string caFile;         // "ca_file": the CAs whose client certificates are accepted, PEM
};

// The worker's Thrift endpoint: where it listens, who may connect, and the
// limits that keep a broken or hostile client from exhausting the worker
// while others are served. See docs/worker-endpoint.md.
struct ListenConfig {
  std::string host = "127.0.0.1";  // loopback by default
  int port = 9090;                 // 0 = any free port (printed when ready)
  std::optional<ListenTlsConfig> tls;
  // Plain TCP on a host that is not loopback. Without it (and without tls),
  // such a host is a configuration error. Warned about at every start.
  bool insecure = false;
  // Connections served at once, each with its own thread; waiting callers
  // (runReload, long polls) hold one each. Further connections wait in the
  // listen backlog until one closes.
  int maxConnections = 2000;
  // A connection with no request in progress is closed after this long. The
  // connection is idle only between calls (a long poll runs in the worker).
  Duration idleTimeout{300'000};
  // Once the first byte of a request has arrived, the whole request must
  // arrive within this time; an answer must be taken by the client within it too.
  Duration readTimeout{30'000};
  std::int32_t maxFrameBytes = 1 << 20;    // a request frame announcing more is refused
  std::int32_t maxStringBytes = 1 << 20;   // a string or binary field announcing more is refused
  std::int32_t maxContainerItems = 10'000; // a list, set or map announcing more is refused
};

// True for 127.0.0.0/8, ::1 and "localhost" (any case): the hosts a plain
// Thrift port may listen on without listen.insecure.
bool isLoopbackHost(const std::string& host);

// The execution journal: what the worker started, so that it survives
// restarts and idempotency keys are never forgotten. SQLite by default (one
// worker); PostgreSQL for several workers sharing it (docs/deployment.md).
//   "state": {"path": "/var/lib/qlik-reload/journal.db", "retention_days": 14}
//   "state": {"postgresql": "host=db.corp port=5432 dbname=qlik_reload user=qlik_reload",
//             "password_file": "/etc/qlik-reload/pg.pass", "retention_days": 14}
// path and postgresql are mutually exclusive. postgresql is libpq
// keyword=value pairs separated by spaces (no value may hold a space: Poco's
// connector splits there; no URI form) and must not hold the password: that
// comes from password_file (its trailing line breaks dropped; no white space
// inside), or from libpq's own means (the passfile keyword, PGPASSFILE,
// ~/.pgpass), or is not needed (certificates). password_file only with
// postgresql.
struct StateConfig {
  // "path": the SQLite file. Default (without postgresql):
  // $STATE_DIRECTORY/journal.db (systemd's StateDirectory=), else
  // /var/lib/qlik-reload/journal.db as root, else $XDG_STATE_HOME (or
  // ~/.local/state)/qlik-reload/journal.db. Empty with postgresql.
  std::string path;
  std::string postgresql;          // "postgresql": the connection string; empty: SQLite
  std::string postgresqlPassword;  // the content of "password_file"; never logged
  Duration retention{14LL * 24 * 3600 * 1000};  // "retention_days": finished executions kept this long
};

// The string to open the PostgreSQL journal with: `postgresql` plus the
// password from password_file (escaped for libpq), when there is one. Holds
// the password: pass it to openPostgresJournal only, never to a log.
std::string postgresConnectionString(const StateConfig& state);

// Push: QRS change notifications. Absent: polling alone.
//   "push": {"listen": {"host": "0.0.0.0", "port": 9091},
//            "public_url": "http://worker1.corp:9091",      (optional: what QRS calls)
//            "tls": {"cert_file": "...", "key_file": "..."},  (optional: HTTPS callbacks)
//            "fallback_poll_ms": 60000}                       (optional)
struct PushConfig {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string publicUrl;
  std::string certFile;
  std::string keyFile;
  Duration fallbackPoll{60'000};
};

struct WorkerConfig {
  std::string path;  // the file it came from
  // "worker_id": this worker's name in a journal shared by several workers
  // (PostgreSQL). Default: the host name.
  std::string workerId;
  ListenConfig listen;
  StateConfig state;
  std::optional<PushConfig> push;
  LogLevel logLevel = LogLevel::kInfo;
  std::map<std::string, SiteConfig> sites;  // at least one
};

// Reads, parses and validates the file, including that every referenced
// file exists and is readable and that the client key matches the client
// certificate (and opens with its passphrase).
Result<WorkerConfig> loadWorkerConfig(const std::string& path);

// Same, from text; `baseDir` resolves relative paths; `origin` names the
// source in messages.
Result<WorkerConfig> parseWorkerConfig(const std::string& json, const std::string& baseDir,
                                       const std::string& origin);

}  // namespace qlik_reload
