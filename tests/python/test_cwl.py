"""examples/cwl run by the real cwltool (Debian's) against the real worker +
qrs-sim: the step's exit codes classified as success / temporaryFail (75) /
permanentFail (1), and the two-step workflow."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import SOURCE_DIR, engine_env

CWL_DIR = os.path.join(SOURCE_DIR, "examples", "cwl")
CWLTOOL = shutil.which("cwltool") or "/usr/bin/cwltool"


@pytest.fixture(scope="module", autouse=True)
def cwltool_installed():
    if not os.path.exists(CWLTOOL):
        pytest.fail("cwltool is not installed: `make test` installs it (Debian package cwltool)")


def cwltool(tmp_path, document, *inputs):
    done = subprocess.run([CWLTOOL, "--outdir", str(tmp_path / "out"), "--tmpdir-prefix", str(tmp_path / "tmp") + "/",
                           os.path.join(CWL_DIR, document), *inputs],
                          capture_output=True, text=True, timeout=180, env=engine_env(), cwd=str(tmp_path))
    match = re.search(r"Final process status is (\w+)", done.stderr)
    return done, match.group(1) if match else None


def outcome(tmp_path):
    return json.loads((tmp_path / "out" / "qlik-reload.json").read_text().strip().splitlines()[-1])


def test_success(stack, tmp_path):
    task = stack.add_task(run_ms=300, name="Reload CWL OK")
    done, status = cwltool(tmp_path, "qlik-reload.cwl", "--task_name", task.name, "--worker", stack.worker_address,
                           "--idempotency_key", "cwl:ok")
    assert (done.returncode, status) == (0, "success"), done.stderr
    result = outcome(tmp_path)
    assert result["state"] == "SUCCEEDED"
    assert [s["execution_id"] for s in stack.starts(task.id)] == [result["execution_id"]]


def test_failed_reload_is_a_permanent_failure(stack, tmp_path):
    task = stack.add_task(outcome="fail", run_ms=300, log_delay_ms=0, name="Reload CWL Fail",
                          script_log="Execution started.\nField 'Amount' not found\nExecution failed.")
    done, status = cwltool(tmp_path, "qlik-reload.cwl", "--task_name", task.name, "--worker", stack.worker_address)
    assert done.returncode != 0
    assert status == "permanentFail", done.stderr
    result = outcome(tmp_path)
    assert result["state"] == "FAILED" and result["exit_code"] == 1
    assert "Field 'Amount' not found" in (tmp_path / "out" / "qlik-reload.log").read_text()


def test_unreachable_worker_is_a_temporary_failure(stack, tmp_path, dead_worker_address):
    task = stack.add_task(run_ms=300)
    done, status = cwltool(tmp_path, "qlik-reload.cwl", "--task_name", task.name, "--worker", dead_worker_address)
    assert done.returncode != 0
    assert status == "temporaryFail", done.stderr
    assert outcome(tmp_path)["exit_code"] == 75
    assert stack.starts(task.id) == []


def test_workflow_reload_then_report(stack, tmp_path):
    task = stack.add_task(run_ms=300, name="Reload CWL Workflow")
    done, status = cwltool(tmp_path, "reload-then-report.cwl", "--task_name", task.name,
                           "--worker", stack.worker_address, "--timeout", "2m")
    assert (done.returncode, status) == (0, "success"), done.stderr
    assert (tmp_path / "out" / "report.txt").read_text().strip() == '"state":"SUCCEEDED"'
    assert len(stack.starts(task.id)) == 1
