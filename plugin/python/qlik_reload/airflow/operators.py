"""QlikSenseReloadOperator: start a Qlik Sense reload task through
qlik-reload-worker, publish the execution, wait for Qlik's real outcome.

    QlikSenseReloadOperator(
        task_id="reload_sales",
        task_name="Reload Sales",             # or task_id_qlik="<task GUID>"; both templated
        timeout=timedelta(hours=2),           # wait limit, counted from the start; stops the reload
        retries=2,                            # a retry re-attaches to the running reload
    )

Failure semantics (the CLI's taxonomy):

- permanent -> ``AirflowFailException`` (no retry): the reload FAILED or was
  ABORTED by someone, NOT_STARTED or SKIPPED, a bad request (unknown task,
  site or execution), access denied, configuration error;
- retryable -> ``AirflowException``: the worker unreachable, Qlik temporarily
  unavailable, the operator's own ``timeout``.

The message carries the state, Qlik's status, the worker's message, Qlik's
last detail message and the script log's tail.

Idempotency: every try of one task instance (dag_id, run_id, task_id,
map_index) sends the same key, so a retry re-attaches to the execution the
first try started while it is still running (one reload in Qlik). When that
execution has already ended, the retry (or a cleared task) starts a new
reload.
"""
import datetime as _dt
import time
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from ..client import ReloadClient, seconds
from ..errors import QlikReloadError
from ..keys import make_idempotency_key
from ..status import ReloadState, ReloadStatus
from ._compat import AirflowException, AirflowFailException, BaseOperator, default_deferrable
from .hooks import QlikReloadHook, qmc_link
from .triggers import CANCELLED, ERROR, FAILED, SUCCESS, TIMEOUT, QlikSenseReloadTrigger

XCOM_EXECUTION_ID = "execution_id"
XCOM_QMC_LINK = "qmc_link"
IF_RUNNING_CHOICES = ("attach", "fail", "wait")


def airflow_idempotency_key(context: Mapping[str, Any]) -> str:
    """``airflow:<dag_id>:<run_id>:<task_id>:<map_index>``: the same for every
    try of one task instance, different for every other."""
    ti = context["ti"]
    run_id = getattr(ti, "run_id", None) or context.get("run_id")
    map_index = getattr(ti, "map_index", -1)
    return make_idempotency_key("airflow", ti.dag_id, run_id, ti.task_id, -1 if map_index is None else map_index)


class QlikSenseReloadOperator(BaseOperator):
    """Starts a Qlik Sense reload task and (by default) waits for its outcome.

    :param task_id_qlik: the Qlik task's GUID (templated); exactly one of this and ``task_name``
    :param task_name: the Qlik task's name (templated)
    :param site: the worker's site (templated); default: the connection's ``site`` extra, else "default"
    :param timeout: wait limit in seconds or a timedelta, counted from the start
        request (queue time included); then the reload is stopped (see
        ``stop_on_timeout``) and the try fails with a retryable AirflowException.
        None: wait until Qlik finishes (bound the try with ``execution_timeout``)
    :param stop_on_timeout: stop the reload in Qlik when ``timeout`` passes (default True)
    :param wait_for_termination: wait for the outcome (default); False: return
        once the execution is started
    :param poll_interval: seconds each long poll waits at most (default 30);
        the outcome is seen as soon as it happens either way
    :param if_running: when the task is already running: "attach" (follow that
        execution; default), "fail" (NOT_STARTED) or "wait" (then start anew)
    :param idempotency_key: default derived from dag_id/run_id/task_id/map_index
    :param labels: extra context echoed in the worker's log (templated)
    :param qlik_reload_conn_id: the worker's Airflow Connection
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``)
    :param cancel_on_kill: stop the reload when the task is killed (default True)
    """

    template_fields: Sequence[str] = ("task_id_qlik", "task_name", "site", "idempotency_key", "labels")
    ui_color = "#009845"

    def __init__(self, *, task_id_qlik: Optional[str] = None, task_name: Optional[str] = None,
                 site: Optional[str] = None, timeout: Union[None, float, _dt.timedelta] = None,
                 stop_on_timeout: bool = True, wait_for_termination: bool = True,
                 poll_interval: Union[float, _dt.timedelta] = 30.0, if_running: str = "attach",
                 idempotency_key: Optional[str] = None, labels: Optional[Dict[str, str]] = None,
                 qlik_reload_conn_id: str = QlikReloadHook.default_conn_name,
                 deferrable: Optional[bool] = None, cancel_on_kill: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if bool(task_id_qlik) == bool(task_name):
            raise ValueError("QlikSenseReloadOperator needs exactly one of task_id_qlik and task_name")
        if if_running not in IF_RUNNING_CHOICES:
            raise ValueError("if_running must be one of %s, got %r" % (", ".join(IF_RUNNING_CHOICES), if_running))
        poll = seconds(poll_interval)
        if poll is None or poll <= 0:
            raise ValueError("poll_interval must be positive")
        self.task_id_qlik = task_id_qlik
        self.task_name = task_name
        self.site = site
        self.timeout = seconds(timeout)
        self.stop_on_timeout = stop_on_timeout
        self.wait_for_termination = wait_for_termination
        self.poll_interval = poll
        self.if_running = if_running
        self.idempotency_key = idempotency_key
        self.labels = labels
        self.qlik_reload_conn_id = qlik_reload_conn_id
        self.deferrable = default_deferrable() if deferrable is None else bool(deferrable)
        self.cancel_on_kill = cancel_on_kill
        self._hook: Optional[QlikReloadHook] = None
        self._client: Optional[ReloadClient] = None
        self._execution_id = ""
        self._execution_site = ""
        self._done = False

    # ---- helpers

    @property
    def hook(self) -> QlikReloadHook:
        if self._hook is None:
            self._hook = QlikReloadHook(qlik_reload_conn_id=self.qlik_reload_conn_id)
        return self._hook

    def _describe_task(self) -> str:
        return ("task '%s'" % self.task_name) if self.task_name else ("task %s" % self.task_id_qlik)

    def _fail(self, text: str, retryable: bool) -> Exception:
        return (AirflowException if retryable else AirflowFailException)(text)

    def _error(self, exc: QlikReloadError, doing: str) -> Exception:
        text = "Qlik Sense reload of %s: %s failed (%s): %s" % (self._describe_task(), doing, exc.error_type,
                                                               exc.message)
        if exc.status is not None:
            text += "\nLast known status: " + exc.status.describe()
        if exc.retryable and self._execution_id:
            text += "\nExecution %s may still be running; a retry of this task re-attaches to it." % (
                self._execution_id)
        return self._fail(text, exc.retryable)

    def _labels(self, context: Mapping[str, Any]) -> Dict[str, str]:
        ti = context["ti"]
        labels = {"engine": "airflow", "dag_id": str(ti.dag_id), "task_id": str(ti.task_id),
                  "run_id": str(getattr(ti, "run_id", None) or context.get("run_id")),
                  "try_number": str(getattr(ti, "try_number", ""))}
        map_index = getattr(ti, "map_index", -1)
        if map_index is not None and map_index >= 0:
            labels["map_index"] = str(map_index)
        labels.update({str(k): str(v) for k, v in (self.labels or {}).items()})
        # The worker refuses label values over 256 bytes; ours are context, not worth failing for.
        return {k: v.encode("utf-8")[:256].decode("utf-8", "ignore") for k, v in labels.items()}

    # ---- execution

    def execute(self, context: Mapping[str, Any]) -> Dict[str, Any]:
        client = self._client = self.hook.get_conn()
        try:
            return self._execute(context, client)
        finally:
            client.close()  # on_kill's cancel uses a connection of its own

    def _execute(self, context: Mapping[str, Any], client: ReloadClient) -> Dict[str, Any]:
        ti = context["ti"]
        begin = time.monotonic()
        key = self.idempotency_key or airflow_idempotency_key(context)
        site = self.site or client.site
        labels = self._labels(context)
        status = self._start(client, site, key, labels)
        if status.state == ReloadState.NOT_STARTED or not status.execution_id:
            self._done = True
            raise AirflowFailException("Qlik Sense reload of %s was not started: %s" % (
                self._describe_task(), status.describe()))

        self._execution_id = status.execution_id
        self._execution_site = status.site or site
        ti.xcom_push(key=XCOM_EXECUTION_ID, value=status.execution_id)
        link = qmc_link(self.hook.qmc_url)
        if link:
            ti.xcom_push(key=XCOM_QMC_LINK, value=link)
        self.log.info("Qlik Sense execution %s of %s %s (%s)%s", status.execution_id, self._describe_task(),
                      "attached" if status.attached else "started", status.state,
                      "; QMC: %s" % link if link else "")

        if status.terminal:
            return self._finish(status)
        if not self.wait_for_termination:
            self.log.info("Not waiting for execution %s (wait_for_termination=False)", status.execution_id)
            return status.to_dict()

        remaining = None if self.timeout is None else max(0.0, self.timeout - (time.monotonic() - begin))
        if self.deferrable:
            self.defer(
                trigger=QlikSenseReloadTrigger(
                    execution_id=status.execution_id, site=self._execution_site,
                    qlik_reload_conn_id=self.qlik_reload_conn_id,
                    end_time=None if remaining is None else time.time() + remaining,
                    stop_on_timeout=self.stop_on_timeout, poll_interval=self.poll_interval,
                    cancel_on_kill=self.cancel_on_kill),
                method_name="execute_complete",
                timeout=self.execution_timeout,
            )
        try:
            final = client.wait(status.execution_id, site=self._execution_site, timeout=remaining,
                                stop_on_timeout=self.stop_on_timeout, max_wait_per_call=self.poll_interval,
                                last_status=status,
                                on_status=lambda s: self.log.info("Qlik Sense execution %s is %s",
                                                                  s.execution_id, s.state))
        except QlikReloadError as exc:
            raise self._error(exc, "following execution %s" % status.execution_id) from exc
        return self._finish(final)

    def _start(self, client: ReloadClient, site: str, key: str, labels: Dict[str, str]) -> ReloadStatus:
        def start(with_key: str) -> ReloadStatus:
            try:
                return client.start(self.task_id_qlik or None, self.task_name or None, site=site,
                                    idempotency_key=with_key, if_running=self.if_running, labels=labels)
            except QlikReloadError as exc:
                raise self._error(exc, "start") from exc

        status = start(key)
        if status.execution_id and status.terminal:
            # The key's execution ended before this try (an earlier try's reload,
            # or a cleared task): only a running execution is re-attached to.
            self.log.info("Execution %s of an earlier try has already ended (%s); starting a new reload",
                          status.execution_id, status.state)
            status = start(make_idempotency_key(key, "try", labels.get("try_number", "")))
        return status

    def _finish(self, status: ReloadStatus) -> Dict[str, Any]:
        self._done = True
        if status.succeeded and not status.timed_out:
            self.log.info("Qlik Sense execution %s succeeded: %s", status.execution_id, status.message)
            return status.to_dict()
        text = "Qlik Sense reload of %s did not succeed: %s" % (self._describe_task(), status.describe())
        raise self._fail(text, retryable=status.timed_out)

    def execute_complete(self, context: Mapping[str, Any], event: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Resumes after the trigger's event."""
        self._done = True
        if not event or "status" not in event:
            raise AirflowException("Qlik Sense reload of %s: the trigger sent no event" % self._describe_task())
        kind = event["status"]
        text = "Qlik Sense reload of %s, execution %s: %s" % (self._describe_task(), event.get("execution_id"),
                                                             event.get("message", ""))
        if kind == SUCCESS:
            self.log.info("%s", text)
            return event.get("reload") or {}
        if kind in (FAILED, CANCELLED):
            raise AirflowFailException(text)
        if kind == TIMEOUT:
            raise AirflowException(text)
        if kind == ERROR:
            raise self._fail("%s (%s)" % (text, event.get("error_type")), bool(event.get("retryable")))
        raise AirflowException("Qlik Sense reload of %s: unexpected trigger event %r" % (self._describe_task(), event))

    def on_kill(self) -> None:
        """Stops the execution this try started or attached to (best effort)."""
        if not self.cancel_on_kill or not self._execution_id or self._done:
            return
        client = self._client or self.hook.get_conn()
        try:
            stopped = client.cancel(self._execution_id, site=self._execution_site or None)
        except QlikReloadError as exc:
            self.log.error("on_kill: could not stop Qlik Sense execution %s: %s", self._execution_id, exc)
            return
        self.log.info("on_kill: Qlik Sense execution %s: %s (%s)", self._execution_id, stopped.message,
                      stopped.state)


__all__ = ["QlikSenseReloadOperator", "airflow_idempotency_key", "XCOM_EXECUTION_ID", "XCOM_QMC_LINK"]
