"""examples/snakemake/Snakefile run by the real Snakemake (Debian's) against
the real worker + qrs-sim: success, a failed reload failing the workflow, a
retry after a worker that was down (exit 75), and Ctrl-C stopping the reload."""
import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import SOURCE_DIR, engine_env

SNAKEFILE = os.path.join(SOURCE_DIR, "examples", "snakemake", "Snakefile")
SNAKEMAKE = shutil.which("snakemake") or "/usr/bin/snakemake"


@pytest.fixture(scope="module", autouse=True)
def snakemake_installed():
    if not os.path.exists(SNAKEMAKE):
        pytest.fail("snakemake is not installed: `make test` installs it (Debian package snakemake)")


def snakemake_args(workdir, **config):
    args = [SNAKEMAKE, "-s", SNAKEFILE, "-d", str(workdir), "--cores", "1", "--nocolor", "--config"]
    args += ["%s=%s" % (k, v) for k, v in config.items()]
    return args


def exit_codes(workdir):
    """qlik-reload's exit code of every attempt (the rule keeps one line per attempt)."""
    text = (workdir / "logs" / "qlik-reload.attempts").read_text()
    return [int(m) for m in re.findall(r"qlik-reload exited (\d+)", text)]


def run_snakemake(workdir, **config):
    return subprocess.run(snakemake_args(workdir, **config), capture_output=True, text=True, timeout=180,
                          env=engine_env())


def test_success(stack, tmp_path):
    task = stack.add_task(run_ms=500, name="Reload Snakemake OK")
    done = run_snakemake(tmp_path, task_name=task.name, worker=stack.worker_address, run_id="ok1", retries=0)
    assert done.returncode == 0, done.stderr
    outcome = json.loads((tmp_path / "results" / "reload.json").read_text())
    assert outcome["state"] == "SUCCEEDED" and outcome["exit_code"] == 0
    assert (tmp_path / "results" / "report.txt").read_text().split()[:2] == ["SUCCEEDED", outcome["execution_id"]]
    assert [s["execution_id"] for s in stack.starts(task.id)] == [outcome["execution_id"]]


def test_failed_reload_fails_the_workflow_without_reloading_again(stack, tmp_path):
    task = stack.add_task(outcome="fail", run_ms=300, log_delay_ms=0, name="Reload Snakemake Fail",
                          script_log="Execution started.\nField 'Amount' not found\nExecution failed.")
    done = run_snakemake(tmp_path, task_name=task.name, worker=stack.worker_address, run_id="fail1", retries=1)
    assert done.returncode != 0
    assert not (tmp_path / "results" / "report.txt").exists()  # the downstream step never ran
    log = (tmp_path / "logs" / "qlik-reload.log").read_text()
    assert "FAILED" in log and "Field 'Amount' not found" in log
    # Snakemake retried the job; the retry re-attached (same key) instead of reloading twice.
    assert exit_codes(tmp_path) == [1, 1]
    assert done.stderr.count("Error in rule qlik_reload") == 2
    assert len(stack.starts(task.id)) == 1


def test_retry_after_the_worker_was_down(stack, tmp_path, gate_factory):
    task = stack.add_task(run_ms=300, name="Reload Snakemake Retry")
    gate = gate_factory(down_for=1)  # the first connection finds the worker down
    done = run_snakemake(tmp_path, task_name=task.name, worker=gate.address, run_id="retry1", retries=2)
    assert done.returncode == 0, done.stderr
    assert exit_codes(tmp_path) == [75, 0]  # attempt 1: temporary failure; attempt 2: success
    assert done.stderr.count("Error in rule qlik_reload") == 1
    outcome = json.loads((tmp_path / "results" / "reload.json").read_text())
    assert outcome["state"] == "SUCCEEDED"
    assert gate.connections >= 2
    assert len(stack.starts(task.id)) == 1


def test_ctrl_c_stops_the_reload_in_qlik(stack, tmp_path):
    task = stack.add_long_task(name="Reload Snakemake Interrupted")
    process = subprocess.Popen(snakemake_args(tmp_path, task_name=task.name, worker=stack.worker_address,
                                              run_id="sigint1", retries=0),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=engine_env(),
                               start_new_session=True)
    try:
        started = stack.wait_started(task.id, timeout=60)
        # Ctrl-C in a terminal: SIGINT to the foreground process group (Snakemake and its jobs).
        # Snakemake 7 itself only stops scheduling and waits for running jobs; the job's
        # qlik-reload receives the SIGINT and stops the reload.
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode != 0
    stops = stack.stops(task.id)
    assert len(stops) == 1 and stops[0]["had_session"], err
    assert stack.wait_final(started[0]["execution_id"]) == "Aborted"
    log = (tmp_path / "logs" / "qlik-reload.log").read_text()
    assert "SIGINT" in log and exit_codes(tmp_path) == [130]
