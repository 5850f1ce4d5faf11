"""Prefect integration: a task that runs a Qlik Sense reload and retries
only what is worth retrying.

    from prefect import flow
    from qlik_reload.prefect import qlik_reload_task

    @flow
    def nightly():
        qlik_reload_task(task_name="Reload Sales", timeout=7200)

- ``qlik_reload_task`` is ``run_qlik_reload`` as a Prefect task with
  ``retries=3``, delays of 30/60/120 s and ``retry_condition_fn=retry_only_temporary``:
  a worker or Qlik temporarily unavailable, or the task's own timeout, are
  retried; a failed reload, NOT_STARTED, a bad request, access denied or a
  configuration error are not. Make your own with
  ``prefect.task(retries=..., retry_condition_fn=retry_only_temporary)(run_qlik_reload)``.
- The idempotency key is the Prefect task run's id, which stays the same across
  its retries: a retry re-attaches to the reload the first attempt started.
- The worker address comes from ``worker`` or $QLIK_RELOAD_WORKER, TLS from
  $QLIK_RELOAD_TLS_CA/_CERT/_KEY (as for the CLI).
- Bound the wait with ``timeout`` (the reload is stopped when it passes) rather
  than only Prefect's ``timeout_seconds``: a blocked call in a task thread cannot
  be interrupted, and a cancelled flow run's process may be killed before it can
  stop the reload. A KeyboardInterrupt in the task stops the reload.

Prefect is imported only when ``qlik_reload_task`` is used or a run id is
looked up; ``run_qlik_reload`` and ``retry_only_temporary`` work without it.
"""
import logging
from typing import Any, Dict, Optional

from .client import ReloadClient, Seconds
from .errors import QlikReloadError
from .keys import make_idempotency_key
from .steps import run_reload_step

__all__ = ["qlik_reload_task", "run_qlik_reload", "retry_only_temporary", "prefect_idempotency_key"]

RETRY_DELAYS = [30, 60, 120]


def prefect_idempotency_key() -> Optional[str]:
    """``prefect:<flow run id>:<task run id>`` inside a Prefect task run, else None."""
    try:
        from prefect.runtime import flow_run, task_run
    except ImportError:
        return None
    task_run_id = getattr(task_run, "id", None)
    if not task_run_id:
        return None
    return make_idempotency_key("prefect", getattr(flow_run, "id", None), task_run_id)


def _logger() -> Any:
    try:
        from prefect import get_run_logger

        return get_run_logger()
    except Exception:  # noqa: BLE001 - outside a run, or without Prefect
        return logging.getLogger("qlik_reload.prefect")


def run_qlik_reload(task_name: Optional[str] = None, task_id: Optional[str] = None, *,
                    worker: Optional[str] = None, site: Optional[str] = None, timeout: Optional[Seconds] = None,
                    idempotency_key: Optional[str] = None, if_running: Optional[str] = None,
                    poll_interval: Seconds = 30.0, client: Optional[ReloadClient] = None) -> Dict[str, Any]:
    """Runs the reload; returns the outcome (the CLI's --json object) or raises
    a :class:`~qlik_reload.errors.QlikReloadError` whose ``retryable`` says
    whether a retry can help."""
    key = idempotency_key or prefect_idempotency_key()
    own = client is None
    client = client or ReloadClient.from_env(worker)
    try:
        status = run_reload_step(client, task_id=task_id, task_name=task_name, site=site, timeout=timeout,
                                 idempotency_key=key, if_running=if_running, poll_interval=poll_interval,
                                 labels={"engine": "prefect"}, logger=_logger())
    finally:
        if own:
            client.close()
    status.raise_for_outcome()
    return status.to_dict()


def retry_only_temporary(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry only retryable QlikReloadErrors."""
    try:
        error = state.result(raise_on_failure=False)
    except TypeError:  # a state object without that keyword
        try:
            state.result()
            return False
        except BaseException as exc:  # noqa: BLE001 - the task's own exception
            error = exc
    return isinstance(error, QlikReloadError) and error.retryable


def _build_task() -> Any:
    try:
        import prefect
    except ImportError as exc:
        raise ImportError("qlik_reload.prefect.qlik_reload_task needs Prefect (pip install prefect); "
                          "run_qlik_reload works without it") from exc
    return prefect.task(name="qlik-reload", retries=len(RETRY_DELAYS), retry_delay_seconds=RETRY_DELAYS,
                        retry_condition_fn=retry_only_temporary)(run_qlik_reload)


def __getattr__(name: str) -> Any:
    if name == "qlik_reload_task":
        value = _build_task()
        globals()[name] = value
        return value
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
