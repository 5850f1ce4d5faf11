// End to end: the CLI as a process → the worker over a real Thrift socket →
// qrs-sim over real mutual TLS. Every exit code and every reload state of
// the contract is produced here, and checked against the simulator's own
// record of what happened.
#include <catch2/catch.hpp>

#include <signal.h>

#include <functional>
#include <regex>
#include <sstream>

#include <Poco/JSON/Array.h>

#include "env.h"

using namespace qlik_reload::testing;
using namespace std::chrono_literals;

namespace {

std::string str(const Poco::JSON::Object::Ptr& json, const std::string& key) {
  if (!json || !json->has(key) || json->isNull(key)) return "<null>";
  return json->get(key).convert<std::string>();
}

bool isIsoMillis(const std::string& text) {
  static const std::regex iso(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  return std::regex_match(text, iso);
}

EnvOptions noWorker() {
  EnvOptions o;
  o.startWorker = false;
  return o;
}

EnvOptions withConfig(std::function<void(Poco::JSON::Object::Ptr)> edit) {
  EnvOptions o;
  o.editWorkerConfig = std::move(edit);
  return o;
}

EnvOptions withScenario(const std::string& file) {
  EnvOptions o;
  o.scenarioFile = file;
  return o;
}

Poco::JSON::Object::Ptr site(Poco::JSON::Object::Ptr config) {
  return config->getObject("sites")->getObject("default");
}

bool isGuidText(const std::string& text) {
  static const std::regex guid(R"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
  return std::regex_match(text, guid);
}

}  // namespace

TEST_CASE("run: a reload that succeeds exits 0 with the full JSON report", "[e2e]") {
  IntegrationEnv env("run-success");
  CliResult r = env.cli({"run", "--task-id", kTaskOk, "--json", "--label", "dag=sales"});
  INFO(r.describe());
  REQUIRE(r.exitCode == 0);
  REQUIRE(r.json);
  CHECK(str(r.json, "state") == "SUCCEEDED");
  CHECK(str(r.json, "qlik_status") == "FinishedSuccess");
  CHECK(str(r.json, "qlik_status_code") == "7");
  CHECK(str(r.json, "site") == "default");
  CHECK(str(r.json, "task_id") == kTaskOk);
  CHECK(str(r.json, "timed_out") == "false");
  CHECK(isGuidText(str(r.json, "execution_id")));
  CHECK(isIsoMillis(str(r.json, "started_at")));
  CHECK(isIsoMillis(str(r.json, "finished_at")));
  CHECK(r.json->getValue<long>("duration_ms") >= 500);
  auto attempts = r.json->getArray("attempts");
  REQUIRE(attempts->size() == 1);
  CHECK(attempts->getObject(0)->getValue<std::string>("qlik_status") == "FinishedSuccess");
  // Progress went to stderr, the one JSON object is the last stdout line.
  CHECK_THAT(r.err, Catch::Contains("RUNNING") || Catch::Contains("SUCCEEDED"));
  // The simulator agrees: one start, and it is the execution reported.
  CHECK(env.realStarts(kTaskOk) == 1);
  auto starts = env.simRecord()->getArray("starts");
  CHECK(starts->getObject(0)->getValue<std::string>("execution_id") == str(r.json, "execution_id"));
}

TEST_CASE("run: a reload that fails exits 1 with Qlik's status and the script-log tail", "[e2e]") {
  IntegrationEnv env("run-fail");
  CliResult r = env.cli({"run", "--json", "--task-id", kTaskFail});
  INFO(r.describe());
  REQUIRE(r.exitCode == 1);
  REQUIRE(r.json);
  CHECK(str(r.json, "state") == "FAILED");
  CHECK(str(r.json, "qlik_status") == "FinishedFail");
  CHECK_THAT(str(r.json, "script_log_tail"), Catch::Contains("Field 'Amount' not found") &&
                                                 Catch::EndsWith("Execution failed."));
  CHECK_THAT(str(r.json, "message"), Catch::Contains("FinishedFail"));
  // Without --json a person sees the outcome and the log tail on stderr.
  CliResult human = env.cli({"run", "--task-name", "Reload Finance"});
  CHECK(human.exitCode == 1);
  CHECK_THAT(human.err, Catch::Contains("FAILED") && Catch::Contains("Field 'Amount' not found"));
}

TEST_CASE("run: retries inside Qlik end with the last attempt's outcome", "[e2e]") {
  IntegrationEnv env("run-retry");
  CliResult r = env.cli({"run", "--task-id", kTaskRetry, "--json"});
  INFO(r.describe());
  REQUIRE(r.exitCode == 0);
  CHECK(str(r.json, "state") == "SUCCEEDED");
  CHECK(r.json->getArray("attempts")->size() == 2);
}

TEST_CASE("run: not started (disabled, unknown, skipped) exits 3", "[e2e]") {
  IntegrationEnv env("run-not-started");
  SECTION("disabled task: the all-zero GUID") {
    CliResult r = env.cli({"run", "--task-id", kTaskDisabled, "--json"});
    INFO(r.describe());
    CHECK(r.exitCode == 3);
    CHECK(str(r.json, "state") == "NOT_STARTED");
    CHECK(str(r.json, "execution_id") == "<null>");
    CHECK_THAT(str(r.json, "message"), Catch::Contains("disabled"));
  }
  SECTION("unknown task") {
    CliResult r = env.cli({"run", "--task-id", kTaskUnknown, "--json"});
    INFO(r.describe());
    CHECK(r.exitCode == 3);
    CHECK(str(r.json, "state") == "NOT_STARTED");
    CHECK_THAT(str(r.json, "message"), Catch::Contains("there is no task"));
  }
  SECTION("skipped by Qlik") {
    CliResult r = env.cli({"run", "--task-id", kTaskSkip, "--json"});
    INFO(r.describe());
    CHECK(r.exitCode == 3);
    CHECK(str(r.json, "state") == "SKIPPED");
  }
  CHECK(env.realStarts(kTaskDisabled) == 0);
}

TEST_CASE("Bad arguments and invalid requests exit 64 without reaching Qlik", "[e2e]") {
  IntegrationEnv env("bad-args");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"run", "--task-id", "not-a-guid", "--json"},
           {"run", "--json"},
           {"run", "--task-id", kTaskOk, "--timeout", "soon", "--json"},
           {"frobnicate", "--json"},
           {"run", "--task-id", kTaskOk, "--site", "emea", "--json"},
       }) {
    CliResult r = env.cli(args);
    INFO(r.describe());
    CHECK(r.exitCode == 64);
    REQUIRE(r.json);
    CHECK(str(r.json, "state") == "<null>");
    CHECK(r.json->has("error"));
  }
  auto requests = env.simRecord()->getObject("requests");
  CHECK(requests->getValue<int>("total") == 0);
}

TEST_CASE("A worker that cannot be reached exits 75", "[e2e]") {
  IntegrationEnv env("no-worker", noWorker());
  CliResult r = env.cli({"run", "--task-id", kTaskOk, "--json", "--worker", "127.0.0.1:1"});
  INFO(r.describe());
  CHECK(r.exitCode == 75);
  CHECK(env.realStarts(kTaskOk) == 0);
}

TEST_CASE("QRS down: the worker answers QlikUnavailable and the CLI exits 75", "[e2e]") {
  IntegrationEnv env("qrs-down");
  env.stopSim();
  CliResult r = env.cli({"run", "--task-id", kTaskOk, "--json"});
  INFO(r.describe());
  CHECK(r.exitCode == 75);
  CHECK(str(r.json, "state") == "<null>");
  CHECK_THAT(r.json->getObject("error")->getValue<std::string>("message"), Catch::Contains("nothing was started") ||
                                                                                Catch::Contains("retry"));
}

TEST_CASE("TLS and identity failures: our configuration → 78, refused by QRS → 77", "[e2e]") {
  SECTION("QRS's certificate from an unexpected CA is our configuration: 78") {
    IntegrationEnv env("tls-wrong-ca", withConfig([](Poco::JSON::Object::Ptr c) {
      site(c)->getObject("tls")->set("ca_file", IntegrationEnv::roguePkiDir() + "/root.pem");
    }));
    CliResult r = env.cli({"run", "--task-id", kTaskOk, "--json"});
    INFO(r.describe());
    CHECK(r.exitCode == 78);
    CHECK(env.realStarts(kTaskOk) == 0);
  }
  SECTION("a name that is not on QRS's certificate is our configuration: 78") {
    IntegrationEnv env("tls-wrong-name", withConfig([](Poco::JSON::Object::Ptr c) {
      site(c)->getObject("tls")->remove("server_name");
    }));
    CliResult r = env.cli({"run", "--task-id", kTaskOk, "--json"});
    INFO(r.describe());
    CHECK(r.exitCode == 78);
  }
  SECTION("a client certificate QRS does not trust is refused: 77") {
    IntegrationEnv env("tls-rogue-client", withConfig([](Poco::JSON::Object::Ptr c) {
      auto auth = site(c)->getObject("auth");
      auth->set("client_cert", IntegrationEnv::roguePkiDir() + "/client.pem");
      auth->set("client_key", IntegrationEnv::roguePkiDir() + "/client_key.pem");
    }));
    CliResult r = env.cli({"run", "--task-id", kTaskOk, "--json"});
    INFO(r.describe());
    CHECK(r.exitCode == 77);
  }
}

TEST_CASE("A user QRS refuses gets 77", "[e2e]") {
  IntegrationEnv env("denied-user", withScenario(QLIK_TEST_SOURCE_DIR "/tests/integration/scenario_denied.json"));
  CliResult r = env.cli({"run", "--task-id", kTaskOk, "--json"});
  INFO(r.describe());
  CHECK(r.exitCode == 77);
  CHECK(env.realStarts(kTaskOk) == 0);
}

TEST_CASE("run with a timeout stops the reload in Qlik and exits 124", "[e2e]") {
  IntegrationEnv env("timeout-stop");
  CliResult r = env.cli({"run", "--task-id", kTaskLong, "--timeout", "2s", "--json"});
  INFO(r.describe());
  CHECK(r.exitCode == 124);
  CHECK(str(r.json, "timed_out") == "true");
  CHECK(str(r.json, "state") == "ABORTED");
  CHECK_THAT(str(r.json, "message"), Catch::Contains("Timed out"));
  CHECK(env.stops(kTaskLong) == 1);
}

TEST_CASE("run with no-stop-on-timeout returns at the timeout and leaves the reload running", "[e2e]") {
  IntegrationEnv env("timeout-nostop");
  CliResult r = env.cli({"run", "--task-id", kTaskLong, "--timeout", "1500ms", "--no-stop-on-timeout", "--json"});
  INFO(r.describe());
  CHECK(r.exitCode == 124);
  CHECK(str(r.json, "timed_out") == "true");
  CHECK(str(r.json, "state") == "RUNNING");
  CHECK(env.stops(kTaskLong) == 0);
  CliResult status = env.cli({"status", str(r.json, "execution_id"), "--json"});
  CHECK(status.exitCode == 0);
  CHECK(str(status.json, "state") == "RUNNING");
}

TEST_CASE("SIGINT and SIGTERM during run stop the reload and exit 130 / 143", "[e2e]") {
  auto [sig, code, tag] = GENERATE(table<int, int, const char*>({{SIGINT, 130, "sigint"}, {SIGTERM, 143, "sigterm"}}));
  IntegrationEnv env(std::string("signal-") + tag);
  auto cli = env.cliAsync({"run", "--task-id", kTaskLong, "--json"}, "run");
  // Readiness: the CLI reports the execution it started before we interrupt.
  REQUIRE(cli->waitForStderr("started execution", 30s));
  cli->signal(sig);
  CliResult r = env.finish(*cli);
  INFO(r.describe());
  CHECK(r.exitCode == code);
  CHECK(env.stops(kTaskLong) == 1);
  REQUIRE(r.json);
  CHECK(str(r.json, "state") == "ABORTED");
}

TEST_CASE("start, status, wait and cancel walk QUEUED → RUNNING → STOPPING → ABORTED", "[e2e]") {
  IntegrationEnv env("lifecycle", withConfig([](Poco::JSON::Object::Ptr c) { site(c)->set("stop_wait_ms", 500); }));
  CliResult started = env.cli({"start", "--task-id", kTaskQueued, "--json"});
  INFO(started.describe());
  REQUIRE(started.exitCode == 0);
  CHECK(str(started.json, "state") == "QUEUED");
  const std::string id = str(started.json, "execution_id");

  CliResult running = env.cli({"wait", id, "--timeout", "20s", "--json"});
  CHECK(running.exitCode == 0);
  CHECK(str(running.json, "state") == "SUCCEEDED");

  CliResult slow = env.cli({"start", "--task-id", kTaskSlowAbort, "--json"});
  REQUIRE(slow.exitCode == 0);
  const std::string slowId = str(slow.json, "execution_id");
  // Wait (bounded) until Qlik reports it running.
  CliResult seen = env.cli({"wait", slowId, "--timeout", "1s", "--json"});
  CHECK(seen.exitCode == 124);
  CHECK(str(seen.json, "state") == "RUNNING");

  // The slow task takes 20 s to abort; the worker waits 0.5 s for it.
  CliResult cancelled = env.cli({"cancel", slowId, "--json"});
  INFO(cancelled.describe());
  CHECK(cancelled.exitCode == 0);
  CHECK(str(cancelled.json, "state") == "STOPPING");
  CHECK_THAT(str(cancelled.json, "message"), Catch::Contains("not confirmed"));
  CHECK(env.stops(kTaskSlowAbort) == 1);

  CliResult fast = env.cli({"start", "--task-id", kTaskLong, "--json"});
  REQUIRE(fast.exitCode == 0);
  CliResult aborted = env.cli({"cancel", str(fast.json, "execution_id"), "--json"});
  INFO(aborted.describe());
  CHECK(aborted.exitCode == 0);
  CHECK(str(aborted.json, "state") == "ABORTED");

  CliResult again = env.cli({"cancel", str(fast.json, "execution_id"), "--json"});
  CHECK(again.exitCode == 0);
  CHECK_THAT(str(again.json, "message"), Catch::Contains("already finished"));
  CHECK(env.stops(kTaskLong) == 1);
}

TEST_CASE("status of an execution Qlik does not know exits 64", "[e2e]") {
  IntegrationEnv env("status-unknown");
  CliResult r = env.cli({"status", "abcdefab-0000-4000-8000-000000000000", "--json"});
  INFO(r.describe());
  CHECK(r.exitCode == 64);
  CHECK(r.json->getObject("error")->getValue<std::string>("type") == "UnknownExecution");
}

TEST_CASE("The same idempotency key never starts a second reload", "[e2e]") {
  IntegrationEnv env("idempotency");
  CliResult a = env.cli({"start", "--task-id", kTaskLong, "--idempotency-key", "dag/run-1/reload", "--json"});
  CliResult b = env.cli({"run", "--task-id", kTaskLong, "--idempotency-key", "dag/run-1/reload", "--timeout", "1s",
                         "--no-stop-on-timeout", "--json"});
  INFO(a.describe() << b.describe());
  CHECK(str(a.json, "execution_id") == str(b.json, "execution_id"));
  CHECK(env.realStarts(kTaskLong) == 1);
}

TEST_CASE("A task already running is attached to, not started twice", "[e2e]") {
  IntegrationEnv env("attach");
  CliResult first = env.cli({"start", "--task-id", kTaskLong, "--json"});
  CliResult second = env.cli({"start", "--task-id", kTaskLong, "--json"});
  INFO(first.describe() << second.describe());
  CHECK(str(second.json, "execution_id") == str(first.json, "execution_id"));
  CHECK(str(second.json, "attached") == "true");
  CHECK(env.realStarts(kTaskLong) == 1);
  CliResult refused = env.cli({"start", "--task-id", kTaskLong, "--if-running", "fail", "--json"});
  CHECK(refused.exitCode == 3);
  CHECK(str(refused.json, "state") == "NOT_STARTED");
}

TEST_CASE("run survives a worker restart and reports the real outcome", "[e2e]") {
  IntegrationEnv env("worker-restart");
  auto cli = env.cliAsync({"run", "--task-id", kTaskQueued, "--json"}, "run");
  REQUIRE(cli->waitForStderr("started execution", 30s));
  CHECK(env.stopWorker(SIGTERM) == 0);
  env.startWorker();  // same port, new process, nothing in memory
  CliResult r = env.finish(*cli);
  INFO(r.describe());
  CHECK(r.exitCode == 0);
  CHECK(str(r.json, "state") == "SUCCEEDED");
  CHECK(env.realStarts(kTaskQueued) == 1);
}

TEST_CASE("ping reports the worker's version and sites", "[e2e]") {
  IntegrationEnv env("ping");
  CliResult r = env.cli({"ping", "--json"});
  INFO(r.describe());
  CHECK(r.exitCode == 0);
  CHECK(r.json->getArray("sites")->getElement<std::string>(0) == "default");
  CHECK_FALSE(r.json->getValue<std::string>("version").empty());
}

TEST_CASE("The worker checks its configuration and exits 78 on a broken one", "[e2e]") {
  IntegrationEnv env("check-config", noWorker());
  writeFile(env.workerConfigPath(), [&] {
    std::ostringstream out;
    env.workerConfig()->stringify(out);
    return out.str();
  }());
  {
    ChildProcess ok({IntegrationEnv::binary("qlik-reload-worker"), "--config", env.workerConfigPath(), "--check-config"},
                    env.dir() + "/check.out", env.dir() + "/check.err");
    CHECK(ok.wait(30s) == 0);
    CHECK_THAT(ok.stdoutText(), Catch::Contains("configuration OK"));
  }
  writeFile(env.dir() + "/broken.json", R"({"sites": {"default": {"url": "https://x:4242", "tls": {"verfy": "full"}}}})");
  ChildProcess bad({IntegrationEnv::binary("qlik-reload-worker"), "--config", env.dir() + "/broken.json",
                    "--check-config"},
                   env.dir() + "/bad.out", env.dir() + "/bad.err");
  CHECK(bad.wait(30s) == 78);
  CHECK_THAT(bad.stderrText(), Catch::Contains("sites.default"));
}

TEST_CASE("SIGTERM stops the worker within 10 s, answering waiting callers, stopping no reload", "[e2e]") {
  IntegrationEnv env("worker-sigterm");
  auto waiting = env.cliAsync({"run", "--task-id", kTaskLong, "--json", "--reconnect-for", "1s"}, "run");
  REQUIRE(waiting->waitForStderr("started execution", 30s));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(env.stopWorker(SIGTERM) == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  CHECK_THAT(env.worker().stderrText(), Catch::Contains("stopped"));
  waiting->signal(SIGKILL);
  CHECK(env.stops(kTaskLong) == 0);
}
