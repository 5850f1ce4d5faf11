"""examples/argo without Kubernetes (Argo cannot run here): the manifests are
well formed and consistent, and the step's container command, run here with
the environment the template gives it, behaves as the template promises —
against the real worker + qrs-sim: success with the outcome file, exit 75
exactly when the retry expression retries, and SIGTERM (pod deletion) stopping
the reload because the shell execs qlik-reload."""
import json
import os
import re
import signal
import subprocess

import pytest
import yaml

from conftest import SOURCE_DIR, engine_env

ARGO_DIR = os.path.join(SOURCE_DIR, "examples", "argo")


def load(name):
    with open(os.path.join(ARGO_DIR, name)) as f:
        return list(yaml.safe_load_all(f))


@pytest.fixture(scope="module")
def template():
    (doc,) = load("qlik-reload-template.yaml")
    assert doc["kind"] == "WorkflowTemplate" and doc["metadata"]["name"] == "qlik-reload"
    (reload,) = [t for t in doc["spec"]["templates"] if t["name"] == "reload"]
    return reload


def retried(template, exit_code):
    """The template's retry decision for an attempt's exit code. Only the one
    expression form the template uses is understood; anything else fails."""
    strategy = template["retryStrategy"]
    assert strategy["retryPolicy"] == "OnFailure"
    match = re.fullmatch(r"asInt\(lastRetry\.exitCode\) == (\d+)", strategy["expression"])
    assert match, strategy["expression"]
    return exit_code != 0 and exit_code == int(match.group(1))


def pod_environment(template, stack, outcome_file, **parameters):
    """The container's environment as Argo would build it, with the ConfigMap's worker address."""
    values = {"inputs.parameters.%s" % p["name"]: p.get("value") for p in template["inputs"]["parameters"]}
    values.update({"inputs.parameters.%s" % k.replace("_", "-"): v for k, v in parameters.items()})
    values.update({"workflow.uid": "0b1d2c3e-uid", "workflow.name": "reload-sales-abcde"})
    env = engine_env()
    for item in template["container"]["env"]:
        if "value" in item:
            env[item["name"]] = re.sub(r"{{([^}]+)}}", lambda m: str(values[m.group(1)]), item["value"])
        elif item["valueFrom"]["configMapKeyRef"]["key"] == "worker":
            env[item["name"]] = stack.worker_address
    env["OUTCOME_FILE"] = outcome_file
    return env


def container_command(template):
    return template["container"]["command"] + template["container"]["args"]


def test_manifests_are_consistent(template):
    (config_map,) = load("worker-address.yaml")
    assert config_map["kind"] == "ConfigMap" and re.fullmatch(r"[\w.-]+:\d+", config_map["data"]["worker"])
    names = {e["name"] for e in template["container"]["env"]}
    assert {"QLIK_RELOAD_WORKER", "QLIK_RELOAD_TLS_CA", "QLIK_RELOAD_TLS_CERT", "QLIK_RELOAD_TLS_KEY"} <= names
    refs = [e["valueFrom"]["configMapKeyRef"] for e in template["container"]["env"] if "valueFrom" in e]
    assert all(r["name"] == config_map["metadata"]["name"] for r in refs)
    script = template["container"]["args"][0]
    assert script.startswith("exec qlik-reload run ")  # signals reach qlik-reload itself
    out_env = [e["value"] for e in template["container"]["env"] if e["name"] == "OUTCOME_FILE"]
    assert template["outputs"]["parameters"][0]["valueFrom"]["path"] == out_env[0]
    (workflow,) = load("reload-workflow.yaml")
    step = workflow["spec"]["templates"][0]["steps"][1][0]
    assert step["templateRef"] == {"name": "qlik-reload", "template": "reload"}
    assert [c for c in (0, 1, 3, 64, 75, 77, 78, 124) if retried(template, c)] == [75]


def test_step_succeeds_and_writes_the_outcome(template, stack, tmp_path):
    task = stack.add_task(run_ms=300, name="Reload \"Argo\" O'Sales")  # quotes cannot break the command
    out = str(tmp_path / "outcome.json")
    done = subprocess.run(container_command(template), env=pod_environment(template, stack, out, task_name=task.name),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(open(out).read())
    assert outcome["state"] == "SUCCEEDED" and outcome["task_name"] == task.name
    assert len(stack.starts(task.id)) == 1


def test_retry_expression_matches_the_exit_codes(template, stack, tmp_path, dead_worker_address):
    failing = stack.add_task(outcome="fail", run_ms=200, name="Reload Argo Fail")
    out = str(tmp_path / "outcome.json")
    env = pod_environment(template, stack, out, task_name=failing.name)
    done = subprocess.run(container_command(template), env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and not retried(template, done.returncode)
    env["QLIK_RELOAD_WORKER"] = dead_worker_address
    done = subprocess.run(container_command(template), env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 75 and retried(template, done.returncode)


def test_pod_deletion_stops_the_reload(template, stack, tmp_path):
    task = stack.add_long_task(name="Reload Argo Deleted")
    out = str(tmp_path / "outcome.json")
    process = subprocess.Popen(container_command(template), env=pod_environment(template, stack, out,
                                                                                 task_name=task.name),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = stack.wait_started(task.id)
        process.send_signal(signal.SIGTERM)  # to the container's main process, as the kubelet does
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, err
    assert len(stack.stops(task.id)) == 1
    assert stack.wait_final(started[0]["execution_id"]) == "Aborted"
