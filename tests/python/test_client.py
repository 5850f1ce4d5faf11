"""The Python client against the real worker in front of qrs-sim: every
method, the outcome and error taxonomy (the CLI's exit codes), timeouts,
reconnection, and the --json shape shared with the CLI."""
import json
import socket
import subprocess
import threading
import time

import pytest

from conftest import CLI, DownThenUpGate, engine_env, wait_until

from qlik_reload import (InvalidRequest, ReloadClient, ReloadFailed, ReloadNotStarted, ReloadState, ReloadTimedOut,
                         UnknownExecution, UnknownSite, WorkerUnreachable, exit_code_for_state, parse_address)
from qlik_reload.errors import QlikUnavailable

TASK_OK = "11111111-1111-4111-8111-111111111111"
TASK_FAIL = "22222222-2222-4222-8222-222222222222"
TASK_DISABLED = "33333333-3333-4333-8333-333333333333"


@pytest.fixture
def client(stack):
    with stack.client(read_timeout=30) as c:
        yield c


def test_ping(client):
    info = client.ping()
    assert info.sites == ["default"]
    assert info.version


def test_run_success(stack, client):
    task = stack.add_task(run_ms=400)
    seen = []
    status = client.run(task_id=task.id, on_start=seen.append, poll_interval=0.1)
    assert status.state == ReloadState.SUCCEEDED and status.terminal and status.succeeded
    assert status.qlik_status == "FinishedSuccess"
    assert status.exit_code == 0
    assert status.raise_for_outcome() is status
    assert len(status.attempts) == 1 and status.duration_ms > 0
    # on_start saw the execution before it ended
    assert seen and seen[0].execution_id == status.execution_id and not seen[0].terminal
    assert [s["execution_id"] for s in stack.starts(task.id)] == [status.execution_id]


def test_run_by_name_failure_carries_qlik_status_detail_and_log_tail(client):
    status = client.run(task_name="Reload Finance", poll_interval=0.1)
    assert status.state == ReloadState.FAILED
    assert status.exit_code == 1
    assert "Field 'Amount' not found" in status.script_log_tail
    with pytest.raises(ReloadFailed) as failure:
        status.raise_for_outcome()
    text = str(failure.value)
    assert "FAILED" in text and "FinishedFail" in text
    assert "Field 'Amount' not found" in text
    assert failure.value.exit_code == 1 and not failure.value.retryable
    assert failure.value.status is status


def test_not_started_is_an_answer(stack, client):
    before = len(stack.starts(TASK_DISABLED))
    status = client.start(task_id=TASK_DISABLED)
    assert status.state == ReloadState.NOT_STARTED and status.execution_id == ""
    assert status.exit_code == 3
    with pytest.raises(ReloadNotStarted) as e:
        status.raise_for_outcome()
    assert e.value.exit_code == 3
    assert len(stack.starts(TASK_DISABLED)) == before  # Qlik started nothing


def test_start_get_wait_once_cancel(stack, client):
    task = stack.add_long_task()
    started = client.start(task_id=task.id, labels={"engine": "pytest"})
    assert started.execution_id and not started.terminal
    assert client.get(started.execution_id).execution_id == started.execution_id
    waited = client.wait_once(started.execution_id, max_wait=0.3)
    assert not waited.terminal
    cancelled = client.cancel(started.execution_id)
    assert cancelled.state == ReloadState.ABORTED
    stops = stack.stops(task.id)
    assert len(stops) == 1 and stops[0]["had_session"]
    assert stack.wait_final(started.execution_id) == "Aborted"


def test_timeout_stops_the_reload(stack, client):
    task = stack.add_long_task()
    status = client.run(task_id=task.id, timeout=1.0, poll_interval=0.1)
    assert status.timed_out and status.state == ReloadState.ABORTED
    assert status.exit_code == 124
    assert "stopped" in status.message
    with pytest.raises(ReloadTimedOut) as e:
        status.raise_for_outcome()
    assert e.value.retryable and e.value.exit_code == 124
    assert len(stack.stops(task.id)) == 1
    assert stack.wait_final(status.execution_id) == "Aborted"


def test_timeout_can_leave_the_reload_running(stack, client):
    task = stack.add_long_task()
    started = client.start(task_id=task.id)
    status = client.wait(started.execution_id, timeout=0.5, stop_on_timeout=False, poll_interval=0.1)
    assert status.timed_out and not status.terminal
    assert "keeps running" in status.message
    assert stack.stops(task.id) == []
    assert (stack.execution(started.execution_id) or {}).get("live")
    client.cancel(started.execution_id)


def test_idempotency_key_returns_the_same_execution(stack, client):
    task = stack.add_long_task()
    first = client.start(task_id=task.id, idempotency_key="pytest:%s" % task.id)
    second = client.start(task_id=task.id, idempotency_key="pytest:%s" % task.id)
    assert second.execution_id == first.execution_id
    assert len(stack.starts(task.id)) == 1
    client.cancel(first.execution_id)


def test_bad_requests_are_permanent(client):
    with pytest.raises(InvalidRequest) as e:
        client.start(task_id="not-a-guid")
    assert e.value.field == "taskId" and e.value.exit_code == 64 and not e.value.retryable
    with pytest.raises(InvalidRequest):
        client.start(task_id=TASK_OK, task_name="Reload Sales")
    with pytest.raises(InvalidRequest):
        client.start(task_id=TASK_OK, if_running="sometimes")
    with pytest.raises(UnknownSite) as e:
        client.get(TASK_OK, site="emea")
    assert e.value.exit_code == 64
    with pytest.raises(UnknownExecution) as e:
        client.get("abcdefab-0000-4000-8000-000000000000")
    assert e.value.exit_code == 64 and not e.value.retryable


def test_unreachable_worker_is_retryable(dead_worker_address):
    client = ReloadClient.from_address(dead_worker_address, connect_timeout=2)
    with pytest.raises(WorkerUnreachable) as e:
        client.ping()
    assert e.value.retryable and e.value.exit_code == 75
    with pytest.raises(WorkerUnreachable) as e:
        client.start(task_id=TASK_OK, idempotency_key="k")
    assert "nothing was confirmed started" in str(e.value)
    with pytest.raises(WorkerUnreachable) as e:
        client.cancel(TASK_OK)
    assert "stop could not be delivered" in str(e.value) and e.value.retryable


def test_read_timeout_of_a_silent_worker():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections (kernel backlog) and never answers
    try:
        client = ReloadClient("127.0.0.1", silent.getsockname()[1], connect_timeout=2, read_timeout=0.5)
        begin = time.monotonic()
        with pytest.raises(WorkerUnreachable) as e:
            client.ping()
        assert time.monotonic() - begin < 5
        assert e.value.retryable
    finally:
        silent.close()


def test_wait_survives_a_lost_connection(stack):
    """The connection breaks in the middle of a long poll: wait reconnects and
    follows the same execution to its end."""
    task = stack.add_task(run_ms=2500)
    gate = DownThenUpGate(stack.worker_port, down_for=0)
    try:
        client = ReloadClient("127.0.0.1", gate.port, read_timeout=30)
        started = client.start(task_id=task.id)
        sent_for_start = gate.bytes_to_worker
        changes = []
        result = {}
        thread = threading.Thread(target=lambda: result.update(
            status=client.wait(started.execution_id, on_status=changes.append, poll_interval=0.05,
                               max_wait_per_call=10)))
        thread.start()
        # once the long poll is in flight, cut every live connection
        wait_until(lambda: gate.bytes_to_worker > sent_for_start, 10, "the first long poll to be sent")
        gate.reset_live()
        thread.join(30)
        assert result["status"].state == ReloadState.SUCCEEDED, result
        assert gate.connections >= 2  # it really reconnected
        assert len(stack.starts(task.id)) == 1
    finally:
        gate.close()


def test_wait_on_an_unreachable_worker_fails_at_once(stack):
    task = stack.add_long_task()
    client = stack.client()
    started = client.start(task_id=task.id)
    gate = DownThenUpGate(stack.worker_port, down_for=10 ** 6)  # down for good
    try:
        follower = ReloadClient("127.0.0.1", gate.port, connect_timeout=1)
        with pytest.raises(WorkerUnreachable) as e:
            # contacted=False for a plain wait: the first failure is final, like the CLI's wait
            follower.wait(started.execution_id)
        assert e.value.execution_id == started.execution_id
        assert e.value.retryable
    finally:
        gate.close()
        client.cancel(started.execution_id)


def test_exit_code_table_matches_the_cli():
    assert [exit_code_for_state(s) for s in ("SUCCEEDED", "FAILED", "ABORTED", "SKIPPED", "NOT_STARTED",
                                             "RUNNING", "QUEUED", "STOPPING")] == [0, 1, 1, 3, 3, 75, 75, 75]
    assert QlikUnavailable("x", retryable=True).exit_code == 75
    assert QlikUnavailable("x", retryable=False).exit_code == 1


def test_parse_address():
    assert parse_address("worker:9091") == ("worker", 9091)
    assert parse_address("worker") == ("worker", 9090)
    assert parse_address("[::1]:9092") == ("::1", 9092)
    for bad in ("", "host:0", "host:x", "[::1"):
        with pytest.raises(InvalidRequest):
            parse_address(bad)


def test_to_dict_has_the_cli_json_shape(stack, client):
    """The same reload through the CLI and through the client: the same keys, the same values where they
    do not depend on the run."""
    completed = subprocess.run([CLI, "run", "--task-id", TASK_FAIL, "--worker", stack.worker_address, "--json"],
                               capture_output=True, text=True, timeout=60, env=engine_env())
    assert completed.returncode == 1, completed.stderr
    cli = json.loads(completed.stdout.strip().splitlines()[-1])
    mine = client.run(task_id=TASK_FAIL, poll_interval=0.1).to_dict()
    assert list(mine) == list(cli)
    assert list(mine["attempts"][0]) == list(cli["attempts"][0])
    for key in ("site", "task_id", "task_name", "state", "qlik_status", "qlik_status_code", "timed_out", "attached",
                "exit_code", "error", "script_log_tail"):
        assert mine[key] == cli[key], key
