"""Dagster and Prefect integrations where the engines are not installable:
the modules import without them (and say what is missing when used), and
everything that does not need the engine runs against the real worker +
qrs-sim: the step (publish, wait, stop when interrupted), the failure mapping,
the idempotency keys, the retry condition."""
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import types

import pytest

from qlik_reload import ReloadClient, ReloadFailed, ReloadNotStarted, WorkerUnreachable
from qlik_reload.dagster import dagster_idempotency_key, failure_arguments
from qlik_reload.prefect import prefect_idempotency_key, retry_only_temporary, run_qlik_reload
from qlik_reload.steps import run_reload_step

TASK_FAIL = "22222222-2222-4222-8222-222222222222"
TASK_DISABLED = "33333333-3333-4333-8333-333333333333"
HAVE_DAGSTER = importlib.util.find_spec("dagster") is not None
HAVE_PREFECT = importlib.util.find_spec("prefect") is not None


def test_modules_import_without_their_engines():
    code = """
import sys
import qlik_reload.dagster as d, qlik_reload.prefect as p
assert not [m for m in sys.modules if m.split('.')[0] in ('dagster', 'prefect')], 'an engine was imported'
for use in (lambda: d.QlikReloadResource, lambda: d.qlik_reload_op('x', task_name='y'),
            lambda: p.qlik_reload_task):
    try:
        use()
    except ImportError as e:
        print('ImportError:', e)
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    if not HAVE_DAGSTER:
        assert sum("needs Dagster" in line for line in lines) == 2, done.stdout
    if not HAVE_PREFECT:
        assert sum("needs Prefect" in line for line in lines) == 1, done.stdout


def test_step_publishes_then_waits(stack):
    task = stack.add_task(run_ms=500)
    seen = []
    with stack.client() as client:
        status = run_reload_step(client, task_id=task.id, on_start=seen.append, poll_interval=5)
    assert status.state == "SUCCEEDED"
    assert seen[0].execution_id == status.execution_id and not seen[0].terminal


def test_interrupted_step_stops_the_reload(stack):
    """Ctrl-C (or an engine's termination exception) while the step waits: the reload is stopped first."""
    task = stack.add_long_task()
    started = threading.Event()
    main = threading.main_thread().ident
    # a real SIGINT to the main thread, blocked in the long poll (as Ctrl-C would be)
    timer = threading.Thread(target=lambda: started.wait(30) and signal.pthread_kill(main, signal.SIGINT))
    timer.start()
    with stack.client() as client:
        with pytest.raises(KeyboardInterrupt):
            run_reload_step(client, task_id=task.id, on_start=lambda s: started.set(), poll_interval=5)
        timer.join()
        # the interrupted call's connection was dropped: the client answers correctly afterwards
        assert client.get(stack.starts(task.id)[0]["execution_id"]).task_id == task.id
    (start,) = stack.starts(task.id)
    stops = stack.stops(task.id)
    assert len(stops) == 1 and stops[0]["had_session"]
    assert stack.wait_final(start["execution_id"]) == "Aborted"


# ---- Dagster, without Dagster


def test_dagster_failure_arguments():
    failed = pytest.raises(ReloadFailed, _failed_status().raise_for_outcome).value
    args = failure_arguments(failed)
    assert args["allow_retries"] is False
    assert args["metadata"]["execution_id"] == "e1" and args["metadata"]["exit_code"] == 1
    assert "Field 'Amount' not found" in args["metadata"]["script_log_tail"]
    assert "FinishedFail" in args["description"]
    down = failure_arguments(WorkerUnreachable("cannot reach the worker"))
    assert down["allow_retries"] is True and down["metadata"]["exit_code"] == 75


def test_dagster_idempotency_key():
    def context(retry_number, mapping_key=None, run_id="run-1"):
        return types.SimpleNamespace(run_id=run_id, op_handle="reload_sales", retry_number=retry_number,
                                     get_mapping_key=lambda: mapping_key)

    assert dagster_idempotency_key(context(0)) == dagster_idempotency_key(context(2)) == "dagster:run-1:reload_sales"
    assert dagster_idempotency_key(context(0, "emea")) == "dagster:run-1:reload_sales:emea"
    assert dagster_idempotency_key(context(0, run_id="run-2")) != dagster_idempotency_key(context(0))


# ---- Prefect, without Prefect


def test_prefect_run_outcomes(stack, dead_worker_address):
    task = stack.add_task(run_ms=300)
    result = run_qlik_reload(task_id=task.id, worker=stack.worker_address, idempotency_key="prefect:t1")
    assert result["state"] == "SUCCEEDED" and result["exit_code"] == 0
    again = run_qlik_reload(task_id=task.id, worker=stack.worker_address, idempotency_key="prefect:t1")
    assert again["execution_id"] == result["execution_id"]  # a retry re-attaches
    assert len(stack.starts(task.id)) == 1
    with pytest.raises(ReloadFailed) as failed:
        run_qlik_reload(task_id=TASK_FAIL, worker=stack.worker_address)
    assert not failed.value.retryable
    with pytest.raises(ReloadNotStarted):
        run_qlik_reload(task_id=TASK_DISABLED, worker=stack.worker_address)
    with pytest.raises(WorkerUnreachable) as down:
        run_qlik_reload(task_id=task.id, client=ReloadClient.from_address(dead_worker_address))
    assert down.value.retryable
    if not HAVE_PREFECT:
        assert prefect_idempotency_key() is None


class _State:
    """The two ways a Prefect state hands out a failed task's exception."""

    def __init__(self, error, keyword=True):
        self.error = error
        self.keyword = keyword

    def result(self, **kwargs):
        if self.keyword:
            assert kwargs == {"raise_on_failure": False}
            return self.error
        if kwargs:
            raise TypeError("unexpected keyword")
        raise self.error


@pytest.mark.parametrize("keyword", [True, False])
def test_prefect_retries_only_temporary_failures(keyword):
    assert retry_only_temporary(None, None, _State(WorkerUnreachable("down"), keyword)) is True
    assert retry_only_temporary(None, None, _State(pytest.raises(ReloadFailed, _failed_status().raise_for_outcome)
                                                   .value, keyword)) is False
    assert retry_only_temporary(None, None, _State(ValueError("a bug"), keyword)) is False


def _failed_status():
    from qlik_reload.status import Attempt, ReloadStatus

    return ReloadStatus(execution_id="e1", site="default", task_id="t", task_name="Reload Finance", state="FAILED",
                        qlik_status="FinishedFail", qlik_status_code=8, terminal=True, timed_out=False,
                        attempts=(Attempt("FinishedFail", 8, None, None, 100, "node", ("Script error",)),),
                        message="Reload failed in Qlik (FinishedFail).",
                        script_log_tail="Execution started.\nField 'Amount' not found\n", started_at=None,
                        finished_at=None, attached=False)
