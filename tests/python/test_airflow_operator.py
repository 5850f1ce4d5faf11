"""QlikSenseReloadOperator and QlikReloadHook against the Airflow stand-in
(tests/python/airflow_standin.py) and the real worker + qrs-sim.

Every "stopped" or "one start" below is read from qrs-sim's own record."""
import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import airflow_standin
from conftest import HERE, engine_env, wait_until

TASK_FAIL = "22222222-2222-4222-8222-222222222222"
TASK_DISABLED = "33333333-3333-4333-8333-333333333333"


@pytest.fixture(params=["3"])
def airflow(request, stack):
    standin = airflow_standin.install(request.param)
    standin.add_connection(host="127.0.0.1", port=stack.worker_port, qmc_url="https://qlik.example.com/qmc/")
    yield standin
    airflow_standin.uninstall()


def operator(**kwargs):
    from qlik_reload.airflow import QlikSenseReloadOperator

    kwargs.setdefault("task_id", "reload")
    kwargs.setdefault("poll_interval", 5)
    kwargs.setdefault("deferrable", False)
    return QlikSenseReloadOperator(**kwargs)


def run_try(op, ti):
    """What Airflow does for one try: render the templated fields, then execute."""
    context = ti.context()
    op.render_template_fields(context)
    return op.execute(context)


# ---- imports and construction


@pytest.mark.parametrize("airflow", ["3", "2"], indirect=True)
def test_imports_from_airflow_sdk_first_then_airflow_2_paths(airflow):
    from qlik_reload.airflow import _compat

    if airflow.sys.modules.get("airflow.sdk") is not None:
        assert _compat.BaseOperator is sys.modules["airflow.sdk"].BaseOperator
        assert _compat.BaseHook is sys.modules["airflow.sdk"].BaseHook
    else:
        assert _compat.BaseOperator is sys.modules["airflow.models.baseoperator"].BaseOperator
        assert _compat.BaseHook is sys.modules["airflow.hooks.base"].BaseHook
    assert _compat.AirflowFailException is airflow.AirflowFailException
    assert issubclass(_compat.AirflowFailException, _compat.AirflowException)
    import qlik_reload.airflow as provider

    assert provider.QlikSenseReloadOperator.__module__ == "qlik_reload.airflow.operators"
    assert issubclass(provider.QlikSenseReloadOperator, _compat.BaseOperator)
    assert issubclass(provider.QlikSenseReloadTrigger, _compat.BaseTrigger)
    assert issubclass(provider.QlikReloadHook, _compat.BaseHook)


def test_provider_info_and_client_do_not_import_airflow():
    airflow_standin.uninstall()
    code = ("import sys; import qlik_reload; from qlik_reload.airflow import get_provider_info; "
            "info = get_provider_info(); "
            "assert not [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')], sys.modules; "
            "print(info['connection-types'][0]['hook-class-name'])")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "qlik_reload.airflow.hooks.QlikReloadHook"


def test_construction_is_cheap_and_checks_arguments(airflow):
    op = operator(task_name="{{ params.task }}", labels={"team": "{{ params.team }}"})
    assert airflow.CONNECTION_LOOKUPS == []  # no connection lookup at parse time
    assert set(op.template_fields) >= {"task_id_qlik", "task_name", "site", "idempotency_key"}
    with pytest.raises(ValueError):
        operator()
    with pytest.raises(ValueError):
        operator(task_id_qlik="x", task_name="y")
    with pytest.raises(ValueError):
        operator(task_name="x", if_running="sometimes")
    with pytest.raises(TypeError):  # like Airflow: unknown arguments are an error
        operator(task_name="x", no_such_argument=1)


def test_default_deferrable_comes_from_airflow_config(airflow):
    assert operator(task_name="x", deferrable=None).deferrable is False
    airflow.conf.values[("operators", "default_deferrable")] = "True"
    assert operator(task_name="x", deferrable=None).deferrable is True
    assert operator(task_name="x", deferrable=False).deferrable is False


def test_hook_reads_connection_fields_and_extras(airflow, stack):
    from qlik_reload.airflow.hooks import QlikReloadHook, settings_from_connection
    from qlik_reload.errors import ConfigurationError

    airflow.add_connection("mtls", host="worker.internal", port="9443", tls_ca="/ca.pem", tls_cert="/c.pem",
                           tls_key="/k.pem", tls_server_name="qlik-reload-worker", connect_timeout="3",
                           site="emea")
    settings = QlikReloadHook("mtls").get_settings()
    assert settings == {"host": "worker.internal", "port": 9443, "connect_timeout": 3.0, "read_timeout": 60.0,
                        "site": "emea", "tls": {"ca_file": "/ca.pem", "cert_file": "/c.pem", "key_file": "/k.pem",
                                                "server_name": "qlik-reload-worker"}}
    client = QlikReloadHook("mtls").get_conn()
    assert (client.host, client.port, client.site, client.tls.cert_file) == ("worker.internal", 9443, "emea", "/c.pem")
    for bad in ({"tls_cert": "/c.pem"}, {"connect_timeout": "soon"}, {"tls_ca_file": "/ca.pem"}):
        with pytest.raises(ConfigurationError):
            settings_from_connection("h", 1, bad)
    ok, text = QlikReloadHook().test_connection()
    assert ok and "default" in text


def test_mutual_tls_from_connection_extras(airflow, stack):
    """The hook's TLS extras reach the real worker's mutual-TLS port, from the operator and the trigger."""
    from conftest import PKI

    port = stack.start_tls_worker()
    airflow.add_connection(host="127.0.0.1", port=port, tls_ca=os.path.join(PKI, "root.pem"),
                           tls_cert=os.path.join(PKI, "client.pem"), tls_key=os.path.join(PKI, "client_key.pem"),
                           tls_server_name="qlikserver1")
    task = stack.add_task(run_ms=300)
    assert run_try(operator(task_id_qlik=task.id), airflow.TaskInstance())["state"] == "SUCCEEDED"
    deferred_task = stack.add_task(run_ms=300)
    with pytest.raises(airflow.TaskDeferred) as deferred:
        run_try(operator(task_id_qlik=deferred_task.id, deferrable=True), airflow.TaskInstance())

    async def first_event(trigger):
        async for event in trigger.run():
            return event.payload

    assert asyncio.run(first_event(deferred.value.trigger))["status"] == "success"


# ---- outcomes


def test_success_publishes_execution_before_waiting(airflow, stack, caplog):
    task = stack.add_task(run_ms=2000, name="Reload Airflow OK")
    live_at_push = {}

    def on_push(key, value):
        if key == "execution_id":
            live_at_push["live"] = (stack.execution(value) or {}).get("live")

    ti = airflow.TaskInstance(on_xcom_push=on_push)
    op = operator(task_name="{{ params.name }}")
    ti_context_params = {"name": task.name}
    context = ti.context()
    context["params"] = ti_context_params
    op.render_template_fields(context)
    assert op.task_name == task.name
    with caplog.at_level("INFO"):
        result = op.execute(context)
    assert result["state"] == "SUCCEEDED" and result["exit_code"] == 0
    execution_id = ti.xcom["execution_id"]
    assert result["execution_id"] == execution_id
    assert live_at_push["live"] is True  # pushed while Qlik was still running it
    assert ti.xcom["qmc_link"] == "https://qlik.example.com/qmc/tasks"
    assert [k for _, k, _ in ti.xcom_log] == ["execution_id", "qmc_link"]
    assert execution_id in caplog.text and "https://qlik.example.com/qmc/tasks" in caplog.text
    starts = stack.starts(task.id)
    assert len(starts) == 1 and starts[0]["execution_id"] == execution_id


def test_reload_failure_is_permanent_with_status_detail_and_log_tail(airflow, stack):
    ti = airflow.TaskInstance()
    with pytest.raises(airflow.AirflowFailException) as failure:
        run_try(operator(task_id_qlik=TASK_FAIL), ti)
    text = str(failure.value)
    status = stack.client().get(ti.xcom["execution_id"])
    assert "FAILED" in text and "FinishedFail" in text          # our state and Qlik's status
    assert status.last_detail and status.last_detail in text     # Qlik's last detail message
    assert "Field 'Amount' not found" in text                    # the script log's tail
    assert "Script log (last lines)" in text


def test_not_started_is_permanent(airflow, stack):
    before = len(stack.starts(TASK_DISABLED))
    with pytest.raises(airflow.AirflowFailException) as failure:
        run_try(operator(task_id_qlik=TASK_DISABLED), airflow.TaskInstance())
    assert "not started" in str(failure.value) and "NOT_STARTED" in str(failure.value)
    assert len(stack.starts(TASK_DISABLED)) == before


def test_bad_request_is_permanent(airflow):
    with pytest.raises(airflow.AirflowFailException) as failure:
        run_try(operator(task_id_qlik="not-a-guid"), airflow.TaskInstance())
    assert "InvalidRequest" in str(failure.value)


def test_unreachable_worker_is_retryable(airflow, dead_worker_address):
    host, port = dead_worker_address.split(":")
    airflow.add_connection(host=host, port=int(port), connect_timeout=2)
    with pytest.raises(airflow.AirflowException) as failure:
        run_try(operator(task_name="Reload Sales"), airflow.TaskInstance())
    assert not isinstance(failure.value, airflow.AirflowFailException)
    assert "WorkerUnreachable" in str(failure.value)


def test_timeout_stops_the_reload_and_is_retryable(airflow, stack):
    task = stack.add_long_task()
    ti = airflow.TaskInstance()
    with pytest.raises(airflow.AirflowException) as failure:
        run_try(operator(task_id_qlik=task.id, timeout=dt.timedelta(seconds=1)), ti)
    assert not isinstance(failure.value, airflow.AirflowFailException)
    assert "timed out" in str(failure.value) and "stopped" in str(failure.value)
    assert len(stack.stops(task.id)) == 1
    assert stack.wait_final(ti.xcom["execution_id"]) == "Aborted"


def test_fire_and_forget_returns_the_started_execution(airflow, stack):
    task = stack.add_long_task()
    ti = airflow.TaskInstance()
    result = run_try(operator(task_id_qlik=task.id, wait_for_termination=False), ti)
    assert result["execution_id"] == ti.xcom["execution_id"] and result["state"] in ("QUEUED", "RUNNING")
    assert (stack.execution(result["execution_id"]) or {}).get("live")
    stack.client().cancel(result["execution_id"])


def test_a_worker_outage_while_waiting_is_waited_out(airflow, stack, gate_factory):
    """The worker goes away for a moment after the start: the try waits the outage out and keeps
    following the same execution."""
    task = stack.add_task(run_ms=1500, queue_ms=0)
    gate = gate_factory(down_for=0)
    airflow.add_connection(host="127.0.0.1", port=gate.port)
    sent = {}

    def on_push(key, value):
        if key == "execution_id":
            sent["bytes"] = gate.bytes_to_worker

    ti = airflow.TaskInstance(on_xcom_push=on_push)
    def outage():
        wait_until(lambda: sent and gate.bytes_to_worker > sent["bytes"], 20, "the first long poll")
        gate.down_for = gate.connections + 2  # the next two connections find the worker down
        gate.reset_live()

    cut = threading.Thread(target=outage)
    cut.start()
    result = run_try(operator(task_id_qlik=task.id), ti)
    cut.join()
    assert result["state"] == "SUCCEEDED" and result["execution_id"] == ti.xcom["execution_id"]
    assert gate.connections >= 4 and len(stack.starts(task.id)) == 1


# ---- killing a try


def test_on_kill_stops_the_reload(airflow, stack):
    task = stack.add_long_task()
    pushed = threading.Event()
    ti = airflow.TaskInstance(on_xcom_push=lambda key, value: pushed.set())
    op = operator(task_id_qlik=task.id)
    outcome = {}

    def execute():
        try:
            run_try(op, ti)
        except BaseException as exc:  # noqa: BLE001
            outcome["exception"] = exc

    thread = threading.Thread(target=execute)
    thread.start()
    assert pushed.wait(30)
    op.on_kill()
    thread.join(60)
    execution_id = ti.xcom["execution_id"]
    stops = stack.stops(task.id)
    assert len(stops) == 1 and stops[0]["had_session"]
    assert stack.wait_final(execution_id) == "Aborted"
    assert "ABORTED" in str(outcome["exception"])


def spawn_try(stack, task, run_id, try_number, *extra):
    return subprocess.Popen([sys.executable, os.path.join(HERE, "airflow_task_process.py"), stack.worker_address,
                             task.id, "qlik_dag", run_id, str(try_number), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=engine_env())


def read_until_xcom(process, key):
    for line in process.stdout:
        event = json.loads(line)
        if event.get("xcom") == key:
            return event["value"]
    raise AssertionError("the try ended without pushing %s: %s" % (key, process.stderr.read()))


def test_sigterm_to_the_task_process_runs_on_kill_and_stops_the_reload(stack):
    """The Airflow path: SIGTERM to the task's process -> on_kill from the signal
    handler while execute() is blocked in a long poll -> the stop reaches Qlik."""
    task = stack.add_long_task()
    process = spawn_try(stack, task, "sigterm_run", 1)
    execution_id = read_until_xcom(process, "execution_id")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    last = json.loads(out.strip().splitlines()[-1])
    # Airflow's own exception came through untouched (not turned into a worker error)
    assert last == {"exception": "AirflowException", "message": "Task received SIGTERM signal"}, out
    stops = stack.stops(task.id)
    assert len(stops) == 1 and stops[0]["had_session"]
    assert stack.wait_final(execution_id) == "Aborted"


def test_retry_reattaches_to_the_first_execution(airflow, stack):
    """Try 1 dies with its worker (SIGKILL: no on_kill); try 2 of the same
    dag/run/task follows the execution try 1 started: one start in qrs-sim."""
    task = stack.add_task(run_ms=5000, queue_ms=0)
    first = spawn_try(stack, task, "retry_run", 1)
    first_execution = read_until_xcom(first, "execution_id")
    first.kill()
    first.wait(30)
    assert (stack.execution(first_execution) or {}).get("live")  # still running in Qlik

    ti = airflow.TaskInstance(dag_id="qlik_dag", run_id="retry_run", try_number=2)
    result = run_try(operator(task_id_qlik=task.id), ti)
    assert ti.xcom["execution_id"] == first_execution
    assert result["execution_id"] == first_execution and result["state"] == "SUCCEEDED"
    assert len(stack.starts(task.id)) == 1
    assert stack.stops(task.id) == []


def test_a_retry_after_the_execution_ended_starts_a_new_reload(airflow, stack):
    """A cleared task (or a retry after the first reload ended) must reload again."""
    task = stack.add_task(run_ms=200)
    first = run_try(operator(task_id_qlik=task.id), airflow.TaskInstance(run_id="clear_run", try_number=1))
    second = run_try(operator(task_id_qlik=task.id), airflow.TaskInstance(run_id="clear_run", try_number=2))
    assert first["state"] == second["state"] == "SUCCEEDED"
    assert first["execution_id"] != second["execution_id"]
    assert len(stack.starts(task.id)) == 2


def test_idempotency_key_identifies_the_task_instance(airflow):
    from qlik_reload.airflow import airflow_idempotency_key

    def key(**kwargs):
        kwargs.setdefault("run_id", "scheduled__2026-01-01")
        return airflow_idempotency_key(airflow.TaskInstance(**kwargs).context())

    assert key(try_number=1) == key(try_number=2)
    assert len({key(), key(map_index=0), key(map_index=1), key(run_id="other"), key(task_id="other"),
                key(dag_id="other")}) == 6
    assert key(dag_id="d", run_id="r", task_id="t", map_index=3) == "airflow:d:r:t:3"


# ---- deferrable


def test_deferrable_defers_to_the_trigger_and_resumes(airflow, stack):
    task = stack.add_task(run_ms=800)
    ti = airflow.TaskInstance()
    op = operator(task_id_qlik=task.id, deferrable=True, timeout=600, poll_interval=7,
                  execution_timeout=dt.timedelta(minutes=30))
    begin = time.time()
    with pytest.raises(airflow.TaskDeferred) as deferred:
        run_try(op, ti)
    d = deferred.value
    assert d.method_name == "execute_complete"
    assert d.timeout == dt.timedelta(minutes=30)
    classpath, kwargs = d.trigger.serialize()
    assert classpath == "qlik_reload.airflow.triggers.QlikSenseReloadTrigger"
    assert kwargs["execution_id"] == ti.xcom["execution_id"]  # published before deferring
    assert kwargs["qlik_reload_conn_id"] == "qlik_reload_default" and kwargs["poll_interval"] == 7
    assert begin + 590 < kwargs["end_time"] <= time.time() + 600
    json.dumps(kwargs)  # what the metastore stores

    async def first_event(trigger):
        async for event in trigger.run():
            return event

    event = asyncio.run(first_event(d.trigger))
    result = getattr(op, d.method_name)(ti.context(), event=event.payload)
    assert result["state"] == "SUCCEEDED" and result["execution_id"] == ti.xcom["execution_id"]


@pytest.mark.parametrize("event, expected", [
    ({"status": "success", "execution_id": "e", "message": "ok", "reload": {"state": "SUCCEEDED"}}, None),
    ({"status": "failed", "execution_id": "e", "message": "FAILED (Qlik status FinishedFail)"}, "AirflowFailException"),
    ({"status": "cancelled", "execution_id": "e", "message": "ABORTED"}, "AirflowFailException"),
    ({"status": "timeout", "execution_id": "e", "message": "timed out"}, "AirflowException"),
    ({"status": "error", "execution_id": "e", "message": "down", "retryable": True}, "AirflowException"),
    ({"status": "error", "execution_id": "e", "message": "denied", "retryable": False}, "AirflowFailException"),
    (None, "AirflowException"),
])
def test_execute_complete_maps_every_event(airflow, event, expected):
    op = operator(task_name="Reload Sales")
    if expected is None:
        assert op.execute_complete({}, event=event) == {"state": "SUCCEEDED"}
        return
    with pytest.raises(airflow.AirflowException) as e:
        op.execute_complete({}, event=event)
    assert type(e.value).__name__ == expected
    if event:
        assert event["message"] in str(e.value)
