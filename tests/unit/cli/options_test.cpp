#include <catch2/catch.hpp>

#include <sstream>

#include "options.h"

using namespace qlik_reload;
using namespace qlik_reload::cli;

namespace {

constexpr const char* kGuid = "7f3c0d2e-1b4a-4c5d-8e9f-0a1b2c3d4e5f";
constexpr const char* kExec = "2a8e1c4e-3f11-4b8a-9a57-0c1d2e3f4a5b";

std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

ParsedArguments parse(const std::string& line, const std::map<std::string, std::string>& environment = {}) {
  return parseArguments(split(line), environment);
}

}  // namespace

TEST_CASE("Options are accepted before and after the subcommand, with = or a separate value", "[cli][options]") {
  auto line = GENERATE(as<std::string>{},
                       std::string("run --task-id ") + kGuid + " --site emea --timeout 15m",
                       std::string("--task-id ") + kGuid + " --site emea run --timeout 15m",
                       std::string("--site=emea --timeout=15m run --task-id=") + kGuid,
                       std::string("--timeout 15m --site=emea --task-id ") + kGuid + " run");
  CAPTURE(line);
  ParsedArguments parsed = parse(line);
  REQUIRE_FALSE(parsed.error);
  CHECK(parsed.options.command == Command::kRun);
  CHECK(parsed.options.taskId == std::string(kGuid));
  CHECK(parsed.options.site == "emea");
  CHECK(parsed.options.timeout == Duration(15 * 60 * 1000));
}

TEST_CASE("Every option lands in its field", "[cli][options]") {
  ParsedArguments parsed = parse(
      "run --worker [::1]:9191 --site emea --task-name Sales --timeout 1h30m --no-stop-on-timeout "
      "--idempotency-key dag/run/1 --if-running wait --label dag=sales --label=run=r1 --reconnect-for 2m "
      "--json --quiet --tls-ca ca.pem --tls-cert client.pem --tls-key client.key");
  REQUIRE_FALSE(parsed.error);
  const CliOptions& o = parsed.options;
  CHECK(o.command == Command::kRun);
  CHECK(o.worker.host == "::1");
  CHECK(o.worker.port == 9191);
  CHECK(o.worker.toString() == "[::1]:9191");
  CHECK(o.site == "emea");
  CHECK(o.taskName == std::string("Sales"));
  CHECK_FALSE(o.taskId);
  CHECK(o.timeout == Duration(90 * 60 * 1000));
  CHECK_FALSE(o.stopOnTimeout);
  CHECK(o.idempotencyKey == std::string("dag/run/1"));
  CHECK(o.ifRunning == IfRunning::kWait);
  CHECK(o.labels == std::map<std::string, std::string>{{"dag", "sales"}, {"run", "r1"}});
  CHECK(o.reconnectFor == Duration(120000));
  CHECK(o.json);
  CHECK(o.quiet);
  CHECK(o.tls.caFile == "ca.pem");
  CHECK(o.tls.certFile == "client.pem");
  CHECK(o.tls.keyFile == "client.key");
  CHECK(o.tls.enabled());
}

TEST_CASE("Defaults when nothing is given", "[cli][options]") {
  ParsedArguments parsed = parse(std::string("start --task-id ") + kGuid);
  REQUIRE_FALSE(parsed.error);
  const CliOptions& o = parsed.options;
  CHECK(o.command == Command::kStart);
  CHECK(o.worker.toString() == "127.0.0.1:9090");
  CHECK(o.site == "default");
  CHECK_FALSE(o.timeout);
  CHECK(o.stopOnTimeout);
  CHECK_FALSE(o.ifRunning);
  CHECK(o.labels.empty());
  CHECK(o.reconnectFor == Duration(10 * 60 * 1000));
  CHECK_FALSE(o.json);
  CHECK_FALSE(o.quiet);
  CHECK_FALSE(o.tls.enabled());
}

TEST_CASE("The environment gives the worker address and TLS files unless options do", "[cli][options]") {
  const std::map<std::string, std::string> environment = {{"QLIK_RELOAD_WORKER", "worker.corp:7000"},
                                                           {"QLIK_RELOAD_TLS_CA", "/etc/ca.pem"},
                                                           {"QLIK_RELOAD_TLS_CERT", "/etc/c.pem"},
                                                           {"QLIK_RELOAD_TLS_KEY", "/etc/c.key"}};
  ParsedArguments fromEnvironment = parse("ping", environment);
  REQUIRE_FALSE(fromEnvironment.error);
  CHECK(fromEnvironment.options.worker.toString() == "worker.corp:7000");
  CHECK(fromEnvironment.options.tls.caFile == "/etc/ca.pem");
  CHECK(fromEnvironment.options.tls.certFile == "/etc/c.pem");
  CHECK(fromEnvironment.options.tls.keyFile == "/etc/c.key");

  ParsedArguments overridden = parse("ping --worker 10.0.0.1:9 --tls-ca mine.pem", environment);
  REQUIRE_FALSE(overridden.error);
  CHECK(overridden.options.worker.toString() == "10.0.0.1:9");
  CHECK(overridden.options.tls.caFile == "mine.pem");
  CHECK(overridden.options.tls.certFile == "/etc/c.pem");

  ParsedArguments bad = parse("ping", {{"QLIK_RELOAD_WORKER", "a:b:c"}});
  REQUIRE(bad.error);
  CHECK_THAT(*bad.error, Catch::Contains("QLIK_RELOAD_WORKER"));
}

TEST_CASE("Execution ids are positional, checked and lower-cased", "[cli][options]") {
  auto [command, expected] = GENERATE(table<std::string, Command>(
      {{"wait", Command::kWait}, {"status", Command::kStatus}, {"cancel", Command::kCancel}}));
  CAPTURE(command);
  ParsedArguments parsed = parse(command + " 2A8E1C4E-3F11-4B8A-9A57-0C1D2E3F4A5B --json");
  REQUIRE_FALSE(parsed.error);
  CHECK(parsed.options.command == expected);
  CHECK(parsed.options.executionId == std::string(kExec));
  CHECK(parsed.options.json);
}

TEST_CASE("Worker addresses", "[cli][options]") {
  auto [text, host, port] = GENERATE(table<std::string, std::string, int>({
      {"127.0.0.1:9090", "127.0.0.1", 9090},
      {"worker.corp:1", "worker.corp", 1},
      {"[::1]:9090", "::1", 9090},
      {"[fe80::1%eth0]:65535", "fe80::1%eth0", 65535},
      {"worker.corp", "worker.corp", 9090},
  }));
  CAPTURE(text);
  auto endpoint = parseWorkerEndpoint(text);
  REQUIRE(endpoint);
  CHECK(endpoint->host == host);
  CHECK(endpoint->port == port);
  for (std::string bad : {"", ":9090", "host:", "host:0", "host:65536", "host:x", "::1", "[::1", "[::1]x",
                          "[]:1", "a b:1", "host:123456"}) {
    CAPTURE(bad);
    CHECK_FALSE(parseWorkerEndpoint(bad));
  }
}

TEST_CASE("Bad command lines name the culprit", "[cli][options]") {
  const std::string id = std::string(" --task-id ") + kGuid;
  auto [line, named] = GENERATE_COPY(table<std::string, std::string>({
      {"run" + id + " --frobnicate", "--frobnicate"},
      {"run" + id + " -x", "-x"},
      {"run" + id + " --site", "--site"},
      {"run" + id + " --site --json", "--site"},
      {"run --task-id 7f3c", "--task-id"},
      {"run --task-id=" + std::string(kGuid) + "x", "--task-id"},
      {"run", "--task-id"},
      {"run" + id + " --task-name Sales", "--task-name"},
      {"run" + id + " --timeout 15x", "--timeout"},
      {"run" + id + " --timeout 0s", "--timeout"},
      {"run" + id + " --timeout=", "--timeout"},
      {"run" + id + " --reconnect-for soon", "--reconnect-for"},
      {"run" + id + " --worker nohost:", "--worker"},
      {"run" + id + " --worker ::1", "--worker"},
      {"run" + id + " --if-running maybe", "--if-running"},
      {"run" + id + " --label novalue", "--label"},
      {"run" + id + " --label =v", "--label"},
      {"run" + id + " --label a=1 --label a=2", "--label"},
      {"run" + id + " --site a --site b", "--site"},
      {"run" + id + " --json=yes", "--json"},
      {"run" + id + " --idempotency-key=", "--idempotency-key"},
      {"start" + id + " --timeout 5m", "--timeout"},
      {"start" + id + " --no-stop-on-timeout", "--no-stop-on-timeout"},
      {"status " + std::string(kExec) + id, "--task-id"},
      {"wait " + std::string(kExec) + " --label a=b", "--label"},
      {"status", "EXECUTION_ID"},
      {"wait 2a8e1c4e", "EXECUTION_ID"},
      {"cancel not-a-guid", "EXECUTION_ID"},
      {"status " + std::string(kExec) + " extra", "extra"},
      {"ping extra", "extra"},
      {"frobnicate", "frobnicate"},
      {"--json", "subcommand"},
      {"", "subcommand"},
      {"run" + id + " --tls-cert c.pem --tls-ca ca.pem", "--tls-key"},
      {"run" + id + " --tls-key c.key --tls-ca ca.pem", "--tls-cert"},
      {"run" + id + " --tls-cert c.pem --tls-key c.key", "--tls-ca"},
  }));
  CAPTURE(line);
  ParsedArguments parsed = parse(line);
  REQUIRE(parsed.error);
  CHECK_THAT(*parsed.error, Catch::Contains(named));
}

TEST_CASE("The --json flag is honoured even when the command line is wrong", "[cli][options]") {
  ParsedArguments parsed = parse("run --task-id nope --json");
  REQUIRE(parsed.error);
  CHECK(parsed.options.json);
  ParsedArguments before = parse("--json --bogus run");
  REQUIRE(before.error);
  CHECK(before.options.json);
}

TEST_CASE("help and version win over everything else", "[cli][options]") {
  for (std::string line : {"--help", "-h", "help", "run --help", "run --task-id nope -h", "--bogus help"}) {
    CAPTURE(line);
    ParsedArguments parsed = parse(line);
    CHECK_FALSE(parsed.error);
    CHECK(parsed.options.command == Command::kHelp);
  }
  ParsedArguments version = parse("--version");
  CHECK_FALSE(version.error);
  CHECK(version.options.command == Command::kVersion);
}

TEST_CASE("A value that looks like an option needs the = form", "[cli][options]") {
  ParsedArguments parsed = parse(std::string("run --task-name=--odd-- --task-id ") + kGuid);
  REQUIRE(parsed.error);  // both given
  ParsedArguments ok = parse("run --task-name=--odd--");
  REQUIRE_FALSE(ok.error);
  CHECK(ok.options.taskName == std::string("--odd--"));
}

TEST_CASE("The help text documents every option, subcommand and exit code", "[cli][options]") {
  const std::string help = usageText();
  for (const char* word :
       {"run", "start", "wait EXECUTION_ID", "status EXECUTION_ID", "cancel EXECUTION_ID", "ping", "--version",
        "--worker", "QLIK_RELOAD_WORKER", "--site", "--task-id", "--task-name", "--timeout", "--no-stop-on-timeout",
        "--idempotency-key", "--if-running", "attach|fail|wait", "--label", "--reconnect-for", "--json", "--quiet",
        "--tls-ca", "--tls-cert", "--tls-key", "QLIK_RELOAD_TLS_CA", "QLIK_RELOAD_TLS_CERT", "QLIK_RELOAD_TLS_KEY",
        "execution_id", "script_log_tail", "exit_code", "retryable", "Never 99"}) {
    CAPTURE(word);
    CHECK_THAT(help, Catch::Contains(word));
  }
  for (const char* code : {"    0  ", "    1  ", "    3  ", "   64  ", "   75  ", "   77  ", "   78  ", "  124  ",
                           "  130  ", "143"}) {
    CAPTURE(code);
    CHECK_THAT(help, Catch::Contains(code));
  }
}
