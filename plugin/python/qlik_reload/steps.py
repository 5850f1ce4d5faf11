"""One reload as one engine step, without any engine: start (publishing the
execution id at once), wait, and stop the reload if the step is interrupted
while it waits. The Dagster and Prefect integrations are thin layers on this.
"""
import logging
from typing import Any, Callable, Mapping, Optional

from .client import ReloadClient, Seconds
from .errors import QlikReloadError
from .status import ReloadStatus

log = logging.getLogger(__name__)


def run_reload_step(client: ReloadClient, *, task_id: Optional[str] = None, task_name: Optional[str] = None,
                    site: Optional[str] = None, timeout: Optional[Seconds] = None, stop_on_timeout: bool = True,
                    idempotency_key: Optional[str] = None, if_running: Optional[str] = None,
                    labels: Optional[Mapping[str, Any]] = None, poll_interval: Seconds = 30.0,
                    on_start: Optional[Callable[[ReloadStatus], None]] = None,
                    logger: Optional[Any] = None) -> ReloadStatus:
    """Runs the reload and returns its final status (not raising for FAILED or
    NOT_STARTED: see :meth:`ReloadStatus.raise_for_outcome`). Errors without an
    answer raise :class:`~qlik_reload.errors.QlikReloadError`.

    If the step is interrupted while it waits (KeyboardInterrupt, an engine's
    termination exception, or any other exception raised into it), the reload
    is stopped in Qlik first (best effort), then the exception propagates.
    """
    logger = logger or log
    started: Optional[ReloadStatus] = None

    def announce(status: ReloadStatus) -> None:
        nonlocal started
        started = status
        if status.execution_id:
            logger.info("Qlik Sense execution %s of task %s %s (%s)", status.execution_id,
                        status.task_name or status.task_id or task_name or task_id,
                        "attached" if status.attached else "started", status.state)
        if on_start is not None:
            on_start(status)

    try:
        return client.run(task_id, task_name, site=site, idempotency_key=idempotency_key, if_running=if_running,
                          labels=labels, timeout=timeout, stop_on_timeout=stop_on_timeout,
                          max_wait_per_call=poll_interval,
                          on_start=announce,
                          on_status=lambda s: logger.info("Qlik Sense execution %s is %s", s.execution_id, s.state))
    except QlikReloadError:
        raise
    except BaseException:
        if started is not None and started.execution_id and not started.terminal:
            try:
                stopped = client.cancel(started.execution_id, site=started.site or site)
                logger.warning("Interrupted: Qlik Sense execution %s: %s (%s)", started.execution_id,
                               stopped.message, stopped.state)
            except QlikReloadError as exc:
                logger.error("Interrupted: could not stop Qlik Sense execution %s: %s", started.execution_id, exc)
        raise


def outcome_metadata(status: Optional[ReloadStatus]) -> dict:
    """Flat, JSON-able facts for an engine's run metadata."""
    if status is None:
        return {}
    return {"execution_id": status.execution_id, "state": status.state, "qlik_status": status.qlik_status,
            "task_id": status.task_id, "task_name": status.task_name, "duration_ms": status.duration_ms,
            "attached": status.attached, "message": status.message}


__all__ = ["run_reload_step", "outcome_metadata"]
