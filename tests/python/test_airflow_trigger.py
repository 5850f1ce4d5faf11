"""QlikSenseReloadTrigger under asyncio against the real worker + qrs-sim:
every event kind, serialisation to its own import path, a free event loop
during long polls, cancellation that propagates, and on_kill stopping the
reload (Airflow 3.3+ calls it after cancelling run() on a user's action)."""
import asyncio
import importlib
import json
import time

import pytest

import airflow_standin

TASK_FAIL = "22222222-2222-4222-8222-222222222222"


@pytest.fixture
def airflow(stack):
    standin = airflow_standin.install("3")
    standin.add_connection(host="127.0.0.1", port=stack.worker_port)
    yield standin
    airflow_standin.uninstall()


def trigger(execution_id, **kwargs):
    from qlik_reload.airflow import QlikSenseReloadTrigger

    kwargs.setdefault("poll_interval", 5)
    return QlikSenseReloadTrigger(execution_id=execution_id, **kwargs)


async def first_event(t):
    async for event in t.run():
        return event.payload
    raise AssertionError("run() ended without an event")


def test_serialize_round_trips_through_its_own_import_path(airflow):
    original = trigger("abc", site="emea", qlik_reload_conn_id="qlik_prod", end_time=1234.5, stop_on_timeout=False,
                       poll_interval=12, reconnect_for=60, cancel_on_kill=False)
    classpath, kwargs = original.serialize()
    assert classpath == "qlik_reload.airflow.triggers.QlikSenseReloadTrigger"
    kwargs = json.loads(json.dumps(kwargs))  # JSON-able, as the metastore stores it
    module, name = classpath.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == original.serialize()
    assert isinstance(rebuilt, airflow.BaseTrigger)


def test_success_event(airflow, stack):
    task = stack.add_task(run_ms=500)
    started = stack.client().start(task_id=task.id)
    event = asyncio.run(first_event(trigger(started.execution_id)))
    assert event["status"] == "success" and event["execution_id"] == started.execution_id
    assert event["reload"]["state"] == "SUCCEEDED" and event["reload"]["exit_code"] == 0


def test_failed_event_carries_status_and_log_tail(airflow, stack):
    started = stack.client().start(task_id=TASK_FAIL)
    event = asyncio.run(first_event(trigger(started.execution_id)))
    assert event["status"] == "failed" and not event["retryable"]
    assert "FinishedFail" in event["message"] and "Field 'Amount' not found" in event["message"]


def test_cancelled_event_when_someone_else_stops_it(airflow, stack):
    task = stack.add_long_task()
    client = stack.client()
    started = client.start(task_id=task.id)

    async def scenario():
        waiting = asyncio.ensure_future(first_event(trigger(started.execution_id)))
        await asyncio.to_thread(client.cancel, started.execution_id)  # "someone in the QMC"
        return await asyncio.wait_for(waiting, 30)

    event = asyncio.run(scenario())
    assert event["status"] == "cancelled" and "ABORTED" in event["message"]


def test_timeout_event_stops_the_reload(airflow, stack):
    task = stack.add_long_task()
    started = stack.client().start(task_id=task.id)
    event = asyncio.run(first_event(trigger(started.execution_id, end_time=time.time() + 1.0)))
    assert event["status"] == "timeout" and event["retryable"]
    assert "stopped" in event["message"]
    assert len(stack.stops(task.id)) == 1
    assert stack.wait_final(started.execution_id) == "Aborted"


def test_timeout_event_can_leave_it_running(airflow, stack):
    task = stack.add_long_task()
    client = stack.client()
    started = client.start(task_id=task.id)
    event = asyncio.run(first_event(trigger(started.execution_id, end_time=time.time() + 0.5,
                                            stop_on_timeout=False)))
    assert event["status"] == "timeout" and "keeps running" in event["message"]
    assert stack.stops(task.id) == []
    client.cancel(started.execution_id)


def test_error_events(airflow, stack, dead_worker_address):
    permanent = asyncio.run(first_event(trigger("abcdefab-0000-4000-8000-000000000000")))
    assert permanent["status"] == "error" and permanent["error_type"] == "UnknownExecution"
    assert not permanent["retryable"]

    host, port = dead_worker_address.split(":")
    airflow.add_connection("down", host=host, port=int(port), connect_timeout=1)
    begin = time.monotonic()
    retryable = asyncio.run(first_event(trigger("abcdefab-0000-4000-8000-000000000000",
                                                qlik_reload_conn_id="down", reconnect_for=1.0)))
    assert retryable["status"] == "error" and retryable["error_type"] == "WorkerUnreachable"
    assert retryable["retryable"]
    assert time.monotonic() - begin >= 1.0  # it kept trying for reconnect_for


def test_long_polls_do_not_block_the_event_loop(airflow, stack):
    task = stack.add_task(run_ms=3000, queue_ms=0)
    started = stack.client().start(task_id=task.id)

    async def scenario():
        gaps = []
        done = asyncio.Event()

        async def ticker():
            last = time.monotonic()
            while not done.is_set():
                await asyncio.sleep(0.02)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        ticking = asyncio.ensure_future(ticker())
        event = await first_event(trigger(started.execution_id, poll_interval=30))
        done.set()
        await ticking
        return event, gaps

    event, gaps = asyncio.run(scenario())
    assert event["status"] == "success"
    # the loop kept running during the 3 s long poll (a blocking call would leave one ~3 s gap)
    assert len(gaps) > 30 and max(gaps) < 1.0


class _Probe:
    """Wraps the trigger's client so the test knows when a long poll is in flight."""

    def __init__(self, inner, in_flight):
        self.inner = inner
        self.in_flight = in_flight

    async def wait_once(self, *args, **kwargs):
        self.in_flight.set()
        return await self.inner.wait_once(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def run_until_cancelled(t):
    async def scenario():
        in_flight = asyncio.Event()
        real_client = t._client

        async def probed():
            return _Probe(await real_client(), in_flight)

        t._client = probed
        running = asyncio.ensure_future(first_event(t))
        await asyncio.wait_for(in_flight.wait(), 30)
        running.cancel()
        try:
            await running
        except asyncio.CancelledError:
            t._client = real_client
            return "cancelled"
        return "not cancelled"

    return asyncio.run(scenario())


def test_cancellation_propagates_and_on_kill_stops_the_reload(airflow, stack):
    task = stack.add_long_task()
    started = stack.client().start(task_id=task.id)
    t = trigger(started.execution_id)
    assert run_until_cancelled(t) == "cancelled"
    assert stack.stops(task.id) == []  # a cancelled run() alone stops nothing (triggerer restart)
    asyncio.run(t.on_kill())  # what Airflow 3.3+ does after a user's action
    stops = stack.stops(task.id)
    assert len(stops) == 1 and stops[0]["had_session"]
    assert stack.wait_final(started.execution_id) == "Aborted"


def test_on_kill_respects_cancel_on_kill_and_finished_runs(airflow, stack):
    task = stack.add_long_task()
    client = stack.client()
    started = client.start(task_id=task.id)
    t = trigger(started.execution_id, cancel_on_kill=False)
    assert run_until_cancelled(t) == "cancelled"
    asyncio.run(t.on_kill())
    assert stack.stops(task.id) == []
    client.cancel(started.execution_id)

    done = stack.add_task(run_ms=200)
    finished = client.start(task_id=done.id)
    t = trigger(finished.execution_id)
    assert asyncio.run(first_event(t))["status"] == "success"
    asyncio.run(t.on_kill())  # after its event, a trigger stops nothing
    assert stack.stops(done.id) == []
