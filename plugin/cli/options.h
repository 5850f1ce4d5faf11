// The command line of qlik-reload, parsed into one CliOptions value.
//
//   qlik-reload SUBCOMMAND [options]      (options before or after SUBCOMMAND)
//
// parseArguments() is pure: it reads only its arguments and the environment
// map it is given, so every rule is testable. Every error names the option (or
// EXECUTION_ID / the environment variable) that is wrong; the caller exits 64.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "exit_codes.h"

namespace qlik_reload::cli {

// Where the worker listens. host is a name or an address; IPv6 without
// brackets ("::1"), as the socket layer wants it.
struct WorkerEndpoint {
  std::string host = "127.0.0.1";
  int port = 9090;

  // "127.0.0.1:9090", "[::1]:9090".
  std::string toString() const;
};

// Parses "HOST:PORT", "[V6]:PORT" or "HOST" (port 9090). Port 1..65535.
// Returns nullopt when the text is not one of these.
std::optional<WorkerEndpoint> parseWorkerEndpoint(const std::string& text);

// Client-side TLS to the worker (mutual TLS). All paths are PEM files. Empty
// caFile means plain TCP.
struct TlsOptions {
  std::string caFile;    // --tls-ca / QLIK_RELOAD_TLS_CA: CA that signed the worker's certificate
  std::string certFile;  // --tls-cert / QLIK_RELOAD_TLS_CERT: our client certificate
  std::string keyFile;   // --tls-key / QLIK_RELOAD_TLS_KEY: its private key (never printed)

  bool enabled() const { return !caFile.empty(); }
};

// --if-running; maps one to one to the IDL's IfRunning.
enum class IfRunning { kAttach, kFail, kWait };

struct CliOptions {
  Command command = Command::kNone;
  WorkerEndpoint worker;                    // --worker, else QLIK_RELOAD_WORKER, else 127.0.0.1:9090
  std::string site = "default";             // --site
  std::optional<std::string> taskId;        // --task-id (a GUID, lower-cased); run/start
  std::optional<std::string> taskName;      // --task-name; run/start
  std::optional<std::string> executionId;   // EXECUTION_ID (a GUID, lower-cased); wait/status/cancel
  std::optional<Duration> timeout;          // --timeout; run/wait. Unset: wait until Qlik finishes
  bool stopOnTimeout = true;                // --no-stop-on-timeout sets false; run
  std::optional<std::string> idempotencyKey;  // --idempotency-key; run/start
  std::optional<IfRunning> ifRunning;       // --if-running; run/start. Unset: the worker's default (attach)
  std::map<std::string, std::string> labels;  // --label KEY=VALUE, repeatable; run/start
  Duration reconnectFor = std::chrono::minutes(10);  // --reconnect-for; run/wait
  bool json = false;                        // --json: exactly one JSON object on stdout
  bool quiet = false;                       // --quiet: no progress on stderr
  TlsOptions tls;                           // --tls-ca/--tls-cert/--tls-key or QLIK_RELOAD_TLS_*
};

struct ParsedArguments {
  CliOptions options;
  // Set when the command line is wrong: one sentence naming the option. The
  // options above are then as far as parsing got; json is always right (so a
  // bad command line with --json still gets the JSON error object).
  std::optional<std::string> error;
};

// The variables parseArguments reads from `environment`.
inline constexpr const char* kEnvWorker = "QLIK_RELOAD_WORKER";
inline constexpr const char* kEnvTlsCa = "QLIK_RELOAD_TLS_CA";
inline constexpr const char* kEnvTlsCert = "QLIK_RELOAD_TLS_CERT";
inline constexpr const char* kEnvTlsKey = "QLIK_RELOAD_TLS_KEY";

// Parses the arguments after the program name. `--help`, `-h` or `help`
// anywhere gives Command::kHelp, `--version` gives kVersion (both win over
// errors elsewhere on the line). `--opt=value` and `--opt value` are both
// accepted; a value that starts with "--" must use the `=` form.
ParsedArguments parseArguments(const std::vector<std::string>& arguments,
                               const std::map<std::string, std::string>& environment);

// The --help text: grammar, every option, the exit codes.
std::string usageText();

}  // namespace qlik_reload::cli
