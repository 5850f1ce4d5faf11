#include "options.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include "core/duration.h"
#include "core/guid.h"

namespace qlik_reload::cli {
namespace {

constexpr const char* kCommandList = "run, start, wait, status, cancel, ping, help";

// Which subcommands an option belongs to. kAll: every subcommand.
enum Scope : unsigned {
  kRunScope = 1u << 0,
  kStartScope = 1u << 1,
  kWaitScope = 1u << 2,
  kStatusScope = 1u << 3,
  kCancelScope = 1u << 4,
  kPingScope = 1u << 5,
  kAllScope = 0xffu,
};

unsigned scopeOf(Command command) {
  switch (command) {
    case Command::kRun: return kRunScope;
    case Command::kStart: return kStartScope;
    case Command::kWait: return kWaitScope;
    case Command::kStatus: return kStatusScope;
    case Command::kCancel: return kCancelScope;
    case Command::kPing: return kPingScope;
    default: return kAllScope;
  }
}

std::string scopeText(unsigned scope) {
  std::string out;
  const std::pair<unsigned, const char*> names[] = {{kRunScope, "run"},       {kStartScope, "start"},
                                                    {kWaitScope, "wait"},     {kStatusScope, "status"},
                                                    {kCancelScope, "cancel"}, {kPingScope, "ping"}};
  for (const auto& [bit, name] : names) {
    if ((scope & bit) == 0) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

struct Parser;
using Handler = std::function<std::optional<std::string>(Parser&, const std::string& value)>;

struct OptionSpec {
  const char* name;  // with the leading "--"
  bool takesValue;
  unsigned scope;
  bool repeatable;
  Handler handle;  // returns an error sentence, or nullopt
};

struct Parser {
  CliOptions options;
  bool workerGiven = false;
  bool tlsCaGiven = false, tlsCertGiven = false, tlsKeyGiven = false;
};

std::string quote(const std::string& text) {
  constexpr size_t kMax = 64;
  if (text.size() <= kMax) return "'" + text + "'";
  return "'" + text.substr(0, kMax) + "…'";
}

std::optional<std::string> parseDurationOption(const char* name, const std::string& value, bool allowZero,
                                               Duration& out) {
  Result<Duration> parsed = parseDuration(value);
  if (!parsed.isOk()) return std::string(name) + ": " + parsed.status().message();
  if (!allowZero && parsed->count() == 0) return std::string(name) + " must be longer than 0";
  out = *parsed;
  return std::nullopt;
}

const std::vector<OptionSpec>& optionTable() {
  static const std::vector<OptionSpec> kTable = {
      {"--worker", true, kAllScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         auto endpoint = parseWorkerEndpoint(v);
         if (!endpoint) return "--worker: " + quote(v) + " is not HOST:PORT (IPv6 as [::1]:9090)";
         p.options.worker = *endpoint;
         p.workerGiven = true;
         return std::nullopt;
       }},
      {"--site", true, kAllScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return std::string("--site: the site name is empty");
         p.options.site = v;
         return std::nullopt;
       }},
      {"--task-id", true, kRunScope | kStartScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         if (!isGuid(v)) return "--task-id: " + quote(v) + " is not a GUID (8-4-4-4-12 hex digits)";
         p.options.taskId = normalizeGuid(v);
         return std::nullopt;
       }},
      {"--task-name", true, kRunScope | kStartScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return std::string("--task-name: the task name is empty");
         p.options.taskName = v;
         return std::nullopt;
       }},
      {"--timeout", true, kRunScope | kWaitScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         Duration d{};
         if (auto error = parseDurationOption("--timeout", v, false, d)) return error;
         p.options.timeout = d;
         return std::nullopt;
       }},
      {"--no-stop-on-timeout", false, kRunScope, false,
       [](Parser& p, const std::string&) -> std::optional<std::string> {
         p.options.stopOnTimeout = false;
         return std::nullopt;
       }},
      {"--idempotency-key", true, kRunScope | kStartScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return std::string("--idempotency-key: the key is empty");
         p.options.idempotencyKey = v;
         return std::nullopt;
       }},
      {"--if-running", true, kRunScope | kStartScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         std::string lower = v;
         std::transform(lower.begin(), lower.end(), lower.begin(),
                        [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
         if (lower == "attach") {
           p.options.ifRunning = IfRunning::kAttach;
         } else if (lower == "fail") {
           p.options.ifRunning = IfRunning::kFail;
         } else if (lower == "wait") {
           p.options.ifRunning = IfRunning::kWait;
         } else {
           return "--if-running: " + quote(v) + " is not one of attach, fail, wait";
         }
         return std::nullopt;
       }},
      {"--label", true, kRunScope | kStartScope, true,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         const size_t eq = v.find('=');
         if (eq == std::string::npos || eq == 0) return "--label: " + quote(v) + " is not KEY=VALUE";
         std::string key = v.substr(0, eq);
         if (p.options.labels.count(key) != 0) return "--label: key " + quote(key) + " given twice";
         p.options.labels.emplace(std::move(key), v.substr(eq + 1));
         return std::nullopt;
       }},
      {"--reconnect-for", true, kRunScope | kWaitScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         return parseDurationOption("--reconnect-for", v, true, p.options.reconnectFor);
       }},
      {"--json", false, kAllScope, false,
       [](Parser& p, const std::string&) -> std::optional<std::string> {
         p.options.json = true;
         return std::nullopt;
       }},
      {"--quiet", false, kAllScope, false,
       [](Parser& p, const std::string&) -> std::optional<std::string> {
         p.options.quiet = true;
         return std::nullopt;
       }},
      {"--tls-ca", true, kAllScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return std::string("--tls-ca: the path is empty");
         p.options.tls.caFile = v;
         p.tlsCaGiven = true;
         return std::nullopt;
       }},
      {"--tls-cert", true, kAllScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return std::string("--tls-cert: the path is empty");
         p.options.tls.certFile = v;
         p.tlsCertGiven = true;
         return std::nullopt;
       }},
      {"--tls-key", true, kAllScope, false,
       [](Parser& p, const std::string& v) -> std::optional<std::string> {
         if (v.empty()) return std::string("--tls-key: the path is empty");
         p.options.tls.keyFile = v;
         p.tlsKeyGiven = true;
         return std::nullopt;
       }},
  };
  return kTable;
}

const OptionSpec* findOption(const std::string& name) {
  for (const OptionSpec& spec : optionTable()) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

std::optional<Command> commandFromName(const std::string& name) {
  if (name == "run") return Command::kRun;
  if (name == "start") return Command::kStart;
  if (name == "wait") return Command::kWait;
  if (name == "status") return Command::kStatus;
  if (name == "cancel") return Command::kCancel;
  if (name == "ping") return Command::kPing;
  if (name == "help") return Command::kHelp;
  return std::nullopt;
}

std::optional<std::string> lookup(const std::map<std::string, std::string>& environment, const char* name) {
  auto it = environment.find(name);
  if (it == environment.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

}  // namespace

std::string WorkerEndpoint::toString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<WorkerEndpoint> parseWorkerEndpoint(const std::string& text) {
  WorkerEndpoint endpoint;
  std::string portText;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close == 1) return std::nullopt;
    endpoint.host = text.substr(1, close - 1);
    const std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      portText = rest.substr(1);
      if (portText.empty()) return std::nullopt;
    }
  } else {
    const size_t colon = text.find(':');
    if (colon != std::string::npos && text.find(':', colon + 1) != std::string::npos) {
      return std::nullopt;  // a bare IPv6 address is ambiguous; it needs brackets
    }
    endpoint.host = text.substr(0, colon);
    if (colon != std::string::npos) {
      portText = text.substr(colon + 1);
      if (portText.empty()) return std::nullopt;
    }
  }
  if (endpoint.host.empty()) return std::nullopt;
  for (char c : endpoint.host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '[' || c == ']') return std::nullopt;
  }
  if (!portText.empty()) {
    if (portText.size() > 5) return std::nullopt;
    int port = 0;
    for (char c : portText) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return std::nullopt;
    endpoint.port = port;
  }
  return endpoint;
}

ParsedArguments parseArguments(const std::vector<std::string>& arguments,
                               const std::map<std::string, std::string>& environment) {
  Parser parser;
  std::optional<std::string> firstError;
  auto fail = [&](std::string message) {
    if (!firstError) firstError = std::move(message);
  };
  bool help = false;
  bool version = false;
  std::string commandWord;
  std::vector<std::string> positionals;
  // Options seen, in order, for the scope check once the subcommand is known.
  std::vector<const OptionSpec*> seen;

  for (size_t i = 0; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    if (argument == "--help" || argument == "-h") {
      help = true;
      continue;
    }
    if (argument == "--version") {
      version = true;
      continue;
    }
    if (argument.size() > 2 && argument.compare(0, 2, "--") == 0) {
      const size_t eq = argument.find('=');
      const std::string name = argument.substr(0, eq);
      const OptionSpec* spec = findOption(name);
      if (spec == nullptr) {
        fail("unknown option " + name + " (see qlik-reload --help)");
        continue;
      }
      std::string value;
      if (spec->takesValue) {
        if (eq != std::string::npos) {
          value = argument.substr(eq + 1);
        } else if (i + 1 < arguments.size() && arguments[i + 1].compare(0, 2, "--") != 0) {
          value = arguments[++i];
        } else {
          fail("option " + name + " needs a value");
          continue;
        }
      } else if (eq != std::string::npos) {
        fail("option " + name + " takes no value");
        continue;
      }
      if (!spec->repeatable && std::find(seen.begin(), seen.end(), spec) != seen.end()) {
        fail("option " + name + " is given more than once");
        continue;
      }
      seen.push_back(spec);
      if (auto error = spec->handle(parser, value)) fail(*error);
      continue;
    }
    if (argument.size() > 1 && argument.front() == '-') {
      fail("unknown option " + argument + " (see qlik-reload --help)");
      continue;
    }
    if (commandWord.empty() && parser.options.command == Command::kNone) {
      commandWord = argument;
      auto command = commandFromName(argument);
      if (!command) {
        fail("unknown subcommand " + quote(argument) + " (one of " + kCommandList + ")");
      } else if (*command == Command::kHelp) {
        help = true;
      } else {
        parser.options.command = *command;
      }
      continue;
    }
    positionals.push_back(argument);
  }

  ParsedArguments result;
  if (help || version) {
    result.options = std::move(parser.options);
    result.options.command = help ? Command::kHelp : Command::kVersion;
    return result;
  }

  CliOptions& options = parser.options;
  const Command command = options.command;
  if (!firstError && command == Command::kNone && commandWord.empty()) {
    fail(std::string("missing subcommand (one of ") + kCommandList + ")");
  }
  if (!firstError && command != Command::kNone) {
    for (const OptionSpec* spec : seen) {
      if ((spec->scope & scopeOf(command)) == 0) {
        fail(std::string("option ") + spec->name + " does not apply to " + commandName(command) + " (only to " +
             scopeText(spec->scope) + ")");
        break;
      }
    }
  }
  const bool takesExecutionId =
      command == Command::kWait || command == Command::kStatus || command == Command::kCancel;
  if (!firstError && takesExecutionId) {
    if (positionals.empty()) {
      fail(std::string("EXECUTION_ID is missing: qlik-reload ") + commandName(command) + " EXECUTION_ID");
    } else if (!isGuid(positionals.front())) {
      fail("EXECUTION_ID " + quote(positionals.front()) + " is not a GUID (8-4-4-4-12 hex digits)");
    } else {
      options.executionId = normalizeGuid(positionals.front());
      positionals.erase(positionals.begin());
    }
  }
  if (!firstError && !positionals.empty()) fail("unexpected argument " + quote(positionals.front()));
  if (!firstError && (command == Command::kRun || command == Command::kStart)) {
    if (options.taskId && options.taskName) {
      fail("--task-id and --task-name exclude each other; give exactly one");
    } else if (!options.taskId && !options.taskName) {
      fail(std::string(commandName(command)) + " needs exactly one of --task-id GUID and --task-name NAME");
    }
  }
  if (!firstError && !parser.workerGiven) {
    if (auto fromEnvironment = lookup(environment, kEnvWorker)) {
      auto endpoint = parseWorkerEndpoint(*fromEnvironment);
      if (endpoint) {
        options.worker = *endpoint;
      } else {
        fail(std::string(kEnvWorker) + ": " + quote(*fromEnvironment) + " is not HOST:PORT (IPv6 as [::1]:9090)");
      }
    }
  }
  if (!firstError) {
    if (!parser.tlsCaGiven) options.tls.caFile = lookup(environment, kEnvTlsCa).value_or("");
    if (!parser.tlsCertGiven) options.tls.certFile = lookup(environment, kEnvTlsCert).value_or("");
    if (!parser.tlsKeyGiven) options.tls.keyFile = lookup(environment, kEnvTlsKey).value_or("");
    const TlsOptions& tls = options.tls;
    if (tls.certFile.empty() != tls.keyFile.empty()) {
      fail(tls.certFile.empty() ? "--tls-key needs --tls-cert (or QLIK_RELOAD_TLS_CERT)"
                                : "--tls-cert needs --tls-key (or QLIK_RELOAD_TLS_KEY)");
    } else if (!tls.certFile.empty() && tls.caFile.empty()) {
      fail("--tls-cert needs --tls-ca (or QLIK_RELOAD_TLS_CA) to verify the worker");
    }
  }
  result.options = std::move(options);
  result.error = std::move(firstError);
  return result;
}

std::string usageText() {
  return R"(qlik-reload: start a Qlik Sense reload task through qlik-reload-worker, follow it to the end,
report the outcome.

Usage: qlik-reload SUBCOMMAND [options]        (options may come before or after SUBCOMMAND)

Subcommands:
  run                  Start the task and wait until Qlik has finished it. Survives a dropped
                       connection or a restarted worker: it reconnects and keeps following the
                       same execution.
  start                Start the task and return at once with the execution id.
  wait EXECUTION_ID    Follow an execution until it finishes (never stops it).
  status EXECUTION_ID  Print the current state of an execution.
  cancel EXECUTION_ID  Stop an execution in Qlik (the worker waits a bounded time for Aborted).
  ping                 Check the worker; print its version and sites.
  help, --help, -h     This text.   --version: the version.

Options (--opt VALUE and --opt=VALUE are the same; a value starting with "--" needs the = form):
  --worker HOST:PORT       Worker address (IPv6 as [::1]:9090). Default: $QLIK_RELOAD_WORKER,
                           else 127.0.0.1:9090.
  --site NAME              Site in the worker's configuration. Default: default.
  --task-id GUID           Task to start (run, start). Exactly one of --task-id and --task-name.
  --task-name NAME         Task to start, by its name in Qlik (run, start).
  --timeout DURATION       run, wait: give up after this long (90s, 15m, 2h, 1h30m), counted
                           from the start request, queued time included. Unset: wait until Qlik
                           finishes. At the timeout, run stops the reload in Qlik and exits 124.
  --no-stop-on-timeout     run: at the timeout leave the reload running (exit 124 all the same).
  --idempotency-key KEY    run, start: the same site + key returns the execution already started
                           instead of starting a second reload. Use it when the engine retries.
  --if-running attach|fail|wait
                           run, start: when the task is already running, follow that execution
                           (attach, the worker's default), answer NOT_STARTED (fail), or wait for it
                           to finish and then start a new one (wait).
  --label KEY=VALUE        run, start: context echoed in the worker's logs (repeatable).
  --reconnect-for DURATION run, wait: how long to keep reconnecting to an unreachable worker (or
                           retrying while Qlik is temporarily unavailable) while following an
                           execution, per outage. Default 10m. Then exit 75; the reload may still
                           be running (follow it with: qlik-reload wait EXECUTION_ID).
  --json                   Print exactly one JSON object on stdout (the last line), nothing else.
  --quiet                  No progress on stderr (failures are still explained there).
  --tls-ca FILE            TLS to the worker: CA that signed the worker's certificate (PEM).
                           Default: $QLIK_RELOAD_TLS_CA. Without it the connection is plain TCP.
  --tls-cert FILE          Client certificate for mutual TLS (PEM). Default: $QLIK_RELOAD_TLS_CERT.
  --tls-key FILE           Its private key (PEM). Default: $QLIK_RELOAD_TLS_KEY.

Output:
  stderr   progress ("qlik-reload: RUNNING after 1.2s") and the final outcome; on failure Qlik's
           last message and the tail of the script log.
  stdout   without --json: one summary line (STATE EXECUTION_ID: message).
           with --json: one JSON object: execution_id, site, task_id, task_name, state,
           qlik_status, qlik_status_code, attempts[{qlik_status, qlik_status_code, started_at,
           finished_at, duration_ms, node, messages}], started_at, finished_at, duration_ms,
           timed_out, attached, message, script_log_tail, exit_code, error{type, message,
           retryable} (null when there was no error). Times are ISO 8601 UTC with milliseconds.
           ping --json: {"version", "sites", "exit_code", "error"}.

Exit codes:
    0  succeeded. start/status: the reload exists and has not failed (QUEUED, RUNNING, STOPPING
       or SUCCEEDED). cancel: the reload is stopped, the stop was requested but not yet
       confirmed, or it had already finished (the state says which).
    1  the reload finished without success (FAILED, or ABORTED other than by our timeout), or
       Qlik answered with a permanent error.
    3  the reload was not started (NOT_STARTED, SKIPPED).
   64  bad arguments, or the worker rejected the request (InvalidRequest, UnknownSite,
       UnknownExecution).
   75  temporary failure, safe to retry: the worker is unreachable or the connection was lost
       and not recovered, Qlik is temporarily unavailable, or (cancel) the stop could not be
       delivered. If run exits 75 after the start, the reload may still be running.
   77  access denied: Qlik refused the worker's identity.
   78  configuration error: the worker's site configuration, or this client's TLS setup (files
       that cannot be read, a worker certificate that does not verify, a client certificate the
       worker refuses).
  124  run, wait: --timeout passed. The message says whether the reload was stopped.
  130  run interrupted by SIGINT, 143 by SIGTERM. A stop is sent to the worker first; the message
       says whether it worked.
   70  internal error of qlik-reload.
  Never 99 (Airflow's BashOperator reads 99 as "skipped").

Examples:
  qlik-reload run --task-name "Sales reload" --timeout 2h --idempotency-key "$DAG_RUN_ID" --json
  qlik-reload start --task-id 7f3c0d2e-1b4a-4c5d-8e9f-0a1b2c3d4e5f --json > started.json
  qlik-reload wait 2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b --timeout 30m
)";
}

}  // namespace qlik_reload::cli
