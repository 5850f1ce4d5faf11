"""QlikSenseReloadTrigger: follows one Qlik Sense execution in Airflow's
triggerer, with long polls (``waitReload``) over asyncio streams, so the event
loop is never blocked.

It yields exactly one event, a dict::

    {"status": "success" | "failed" | "cancelled" | "timeout" | "error",
     "execution_id": "...", "message": "...", "retryable": bool,
     "error_type": "WorkerUnreachable" | ... | None,
     "reload": {... the CLI's --json object ...} | None}

- success: SUCCEEDED; failed: FAILED, SKIPPED or NOT_STARTED; cancelled:
  ABORTED by someone else (QMC, another caller); timeout: ``end_time`` passed
  (the reload was stopped when ``stop_on_timeout``; the message says what
  happened); error: the worker could not answer (``retryable`` says whether an
  Airflow retry can help; the reload may still be running).
- Cancellation (``asyncio.CancelledError``) is never swallowed. Airflow 3.3+
  then calls :meth:`on_kill` when a user acted on the task (mark failed /
  success, clear): with ``cancel_on_kill`` it stops the reload. A triggerer
  restart cancels ``run()`` without ``on_kill`` and the reload keeps running;
  the next triggerer resumes following it. Airflow before 3.3 never calls a
  trigger's ``on_kill``: there, killing a deferred task leaves the reload running.
"""
import asyncio
import random
import time
from typing import Any, AsyncIterator, Dict, Optional, Tuple

from ..aio import AsyncReloadClient
from ..errors import QlikReloadError
from ..status import ReloadState, ReloadStatus
from ._compat import BaseTrigger, TriggerEvent

SUCCESS, FAILED, CANCELLED, TIMEOUT, ERROR = "success", "failed", "cancelled", "timeout", "error"


def event_for_status(status: ReloadStatus) -> Dict[str, Any]:
    if status.timed_out:
        kind = TIMEOUT
    elif status.state == ReloadState.SUCCEEDED:
        kind = SUCCESS
    elif status.state == ReloadState.ABORTED:
        kind = CANCELLED
    else:
        kind = FAILED
    return {"status": kind, "execution_id": status.execution_id, "message": status.describe(),
            "retryable": kind == TIMEOUT, "error_type": None, "reload": status.to_dict()}


def event_for_error(exc: QlikReloadError, execution_id: str) -> Dict[str, Any]:
    message = exc.message
    if exc.retryable:
        message += " (execution %s may still be running)" % execution_id
    return {"status": ERROR, "execution_id": execution_id, "message": message, "retryable": exc.retryable,
            "error_type": exc.error_type, "reload": exc.status.to_dict() if exc.status is not None else None}


class QlikSenseReloadTrigger(BaseTrigger):
    """Waits for one execution to finish.

    :param execution_id: the execution to follow
    :param site: the worker's site
    :param qlik_reload_conn_id: the Airflow Connection of the worker (looked up in the triggerer)
    :param end_time: epoch seconds; after it the trigger emits "timeout" (None: no limit)
    :param stop_on_timeout: stop the reload in Qlik at ``end_time``
    :param poll_interval: seconds each long poll waits at most (the outcome is
        seen as soon as it happens either way)
    :param reconnect_for: seconds to keep retrying while the worker is
        unreachable or Qlik temporarily unavailable (per outage)
    :param cancel_on_kill: stop the reload when Airflow (3.3+) calls ``on_kill``
    """

    def __init__(self, execution_id: str, site: str = "default",
                 qlik_reload_conn_id: str = "qlik_reload_default", end_time: Optional[float] = None,
                 stop_on_timeout: bool = True, poll_interval: float = 30.0, reconnect_for: float = 600.0,
                 cancel_on_kill: bool = True) -> None:
        super().__init__()
        self.execution_id = execution_id
        self.site = site
        self.qlik_reload_conn_id = qlik_reload_conn_id
        self.end_time = end_time
        self.stop_on_timeout = stop_on_timeout
        self.poll_interval = float(poll_interval)
        self.reconnect_for = float(reconnect_for)
        self.cancel_on_kill = cancel_on_kill
        self._settings: Optional[Dict[str, Any]] = None
        self._finished = False

    def serialize(self) -> Tuple[str, Dict[str, Any]]:
        return (
            "%s.%s" % (type(self).__module__, type(self).__qualname__),
            {
                "execution_id": self.execution_id,
                "site": self.site,
                "qlik_reload_conn_id": self.qlik_reload_conn_id,
                "end_time": self.end_time,
                "stop_on_timeout": self.stop_on_timeout,
                "poll_interval": self.poll_interval,
                "reconnect_for": self.reconnect_for,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    async def _client(self) -> AsyncReloadClient:
        if self._settings is None:
            from .hooks import QlikReloadHook

            # Reading the Connection is blocking I/O (metastore, secrets backend,
            # or the supervisor in Airflow 3): never on the event loop.
            self._settings = await asyncio.to_thread(
                lambda: QlikReloadHook(qlik_reload_conn_id=self.qlik_reload_conn_id).get_settings())
        return AsyncReloadClient.from_settings(self._settings)

    async def run(self) -> AsyncIterator[Any]:
        try:
            event = await self._follow()
        except QlikReloadError as exc:
            event = event_for_error(exc, self.execution_id)
        except Exception as exc:  # noqa: BLE001 - any other failure becomes an error event
            event = {"status": ERROR, "execution_id": self.execution_id, "retryable": False,
                     "error_type": type(exc).__name__, "reload": None,
                     "message": "the trigger failed while following execution %s: %r" % (self.execution_id, exc)}
        # asyncio.CancelledError is a BaseException: it is not caught above and
        # propagates, as Airflow requires.
        self._finished = True
        yield TriggerEvent(event)

    async def _follow(self) -> Dict[str, Any]:
        client = await self._client()
        trouble_since: Optional[float] = None
        delay = 0.25
        last: Optional[ReloadStatus] = None
        while True:
            now = time.time()
            if self.end_time is not None and now >= self.end_time:
                return await self._on_timeout(client, last)
            max_wait = self.poll_interval
            if self.end_time is not None:
                max_wait = min(max_wait, self.end_time - now)
            try:
                status = await client.wait_once(self.execution_id, site=self.site, max_wait=max_wait)
            except QlikReloadError as exc:
                if not exc.retryable:
                    raise
                now = time.time()
                trouble_since = trouble_since if trouble_since is not None else now
                if now - trouble_since >= self.reconnect_for:
                    raise
                self.log.warning("execution %s: %s; trying again", self.execution_id, exc.message)
                pause = min(delay * random.uniform(0.8, 1.2), trouble_since + self.reconnect_for - now)
                if self.end_time is not None:
                    pause = min(pause, self.end_time - now)
                delay = min(delay * 2.0, 5.0)
                await asyncio.sleep(max(0.0, pause))
                continue
            trouble_since = None
            delay = 0.25
            if last is None or last.state != status.state:
                self.log.info("Qlik Sense execution %s is %s", self.execution_id, status.state)
            last = status
            if status.terminal:
                return event_for_status(status)

    async def _on_timeout(self, client: AsyncReloadClient, last: Optional[ReloadStatus]) -> Dict[str, Any]:
        if last is None:
            last = await client.get(self.execution_id, site=self.site)
        if not self.stop_on_timeout:
            return event_for_status(last.replace(
                timed_out=True, message="Timed out; the reload keeps running in Qlik (%s): execution %s."
                % (last.state, self.execution_id)))
        try:
            stopped = await client.cancel(self.execution_id, site=self.site)
        except QlikReloadError as exc:
            return event_for_status(last.replace(
                timed_out=True, message="Timed out; the stop could not be delivered (%s); the reload may still be "
                "running: execution %s." % (exc.message, self.execution_id)))
        if stopped.state in ReloadState.TERMINAL and stopped.state != ReloadState.ABORTED:
            return event_for_status(stopped.replace(
                message=stopped.message + " It finished as the timeout passed; nothing was stopped."))
        what = ("the reload was stopped in Qlik (ABORTED)" if stopped.state == ReloadState.ABORTED
                else "the stop was requested but Qlik has not confirmed it yet (%s)" % stopped.state)
        return event_for_status(stopped.replace(timed_out=True, message="Timed out; %s." % what))

    async def on_kill(self) -> None:
        """Airflow 3.3+: a user killed the deferred task; stop the reload (best effort)."""
        if not self.cancel_on_kill or self._finished or not self.execution_id:
            return
        try:
            client = await self._client()
            stopped = await client.cancel(self.execution_id, site=self.site)
            self.log.info("on_kill: execution %s: %s (%s)", self.execution_id, stopped.message, stopped.state)
        except Exception as exc:  # noqa: BLE001 - best effort, never raise from on_kill
            self.log.error("on_kill: could not stop execution %s: %s", self.execution_id, exc)


__all__ = ["QlikSenseReloadTrigger", "event_for_status", "event_for_error"]
