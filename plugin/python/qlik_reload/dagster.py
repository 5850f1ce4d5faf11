"""Dagster integration: a configurable resource and an op factory.

    import dagster as dg
    from qlik_reload.dagster import QlikReloadResource, qlik_reload_op

    reload_sales = qlik_reload_op("reload_sales", task_name="Reload Sales", timeout=7200,
                                  retry_policy=dg.RetryPolicy(max_retries=3, delay=30))

    @dg.job(resource_defs={"qlik_reload": QlikReloadResource(worker=dg.EnvVar("QLIK_RELOAD_WORKER"))})
    def nightly():
        reload_sales()

- A failed reload, NOT_STARTED, a bad request, access denied or a
  configuration error raise ``dagster.Failure(allow_retries=False)``: retry
  policies do not re-run them. A worker or Qlik temporarily unavailable, or
  the op's own timeout, raise ``Failure(allow_retries=True)``: the op's
  RetryPolicy applies.
- The idempotency key is the run id + the op's handle (+ mapping key), so an
  op retry (same run) re-attaches to the reload the first attempt started.
- The execution id is logged and attached as metadata as soon as the reload
  starts; the outcome is the op's output (the CLI's --json object).
- When the run is terminated while the op waits, the reload is stopped.

Dagster is imported only when these names are used (it is not a dependency
of this package); without it, using them raises ImportError.
"""
from typing import Any, Dict, Optional

from .errors import QlikReloadError
from .keys import make_idempotency_key
from .steps import outcome_metadata

__all__ = ["QlikReloadResource", "qlik_reload_op", "dagster_idempotency_key", "failure_arguments"]


def dagster_idempotency_key(context: Any) -> str:
    """``dagster:<run id>:<op handle>[:<mapping key>]``: the same for every retry
    of one op in one run."""
    handle = getattr(context, "op_handle", None) or getattr(getattr(context, "op", None), "name", None)
    parts = [context.run_id, str(handle)]
    get_mapping_key = getattr(context, "get_mapping_key", None)
    mapping_key = get_mapping_key() if callable(get_mapping_key) else None
    if mapping_key:
        parts.append(mapping_key)
    return make_idempotency_key("dagster", *parts)


def failure_arguments(error: QlikReloadError) -> Dict[str, Any]:
    """Keyword arguments of ``dagster.Failure`` for one of our errors (engine-free)."""
    metadata = outcome_metadata(error.status)
    metadata.update({"error_type": error.error_type, "exit_code": error.exit_code, "retryable": error.retryable})
    if error.status is not None and error.status.script_log_tail:
        metadata["script_log_tail"] = error.status.script_log_tail
    return {"description": str(error), "metadata": {k: v for k, v in metadata.items() if v is not None},
            "allow_retries": error.retryable}


def _dagster():
    try:
        import dagster
    except ImportError as exc:
        raise ImportError("qlik_reload.dagster needs Dagster (pip install dagster); the rest of qlik_reload "
                          "works without it") from exc
    return dagster


def _build_resource():
    dg = _dagster()
    from .client import ReloadClient, TlsConfig
    from .steps import run_reload_step

    class QlikReloadResource(dg.ConfigurableResource):
        """qlik-reload-worker for Dagster ops and assets."""

        worker: str = "127.0.0.1:9090"
        site: str = "default"
        tls_ca: Optional[str] = None
        tls_cert: Optional[str] = None
        tls_key: Optional[str] = None
        tls_server_name: Optional[str] = None
        connect_timeout: float = 10.0
        read_timeout: float = 60.0

        def get_client(self) -> ReloadClient:
            tls = TlsConfig(self.tls_ca, self.tls_cert, self.tls_key, self.tls_server_name) if self.tls_ca else None
            return ReloadClient.from_address(self.worker, tls=tls, connect_timeout=self.connect_timeout,
                                             read_timeout=self.read_timeout, site=self.site)

        def run_reload(self, context: Any, *, task_id: Optional[str] = None, task_name: Optional[str] = None,
                       timeout: Optional[float] = None, if_running: Optional[str] = None,
                       poll_interval: float = 30.0) -> Dict[str, Any]:
            """Runs the reload for an op/asset ``context``; returns the outcome dict
            or raises ``dagster.Failure``."""
            with self.get_client() as client:
                try:
                    status = run_reload_step(
                        client, task_id=task_id, task_name=task_name, timeout=timeout, if_running=if_running,
                        idempotency_key=dagster_idempotency_key(context), poll_interval=poll_interval,
                        labels={"engine": "dagster", "run_id": context.run_id}, logger=context.log)
                    status.raise_for_outcome()
                except QlikReloadError as exc:
                    raise dg.Failure(**failure_arguments(exc)) from exc
            if hasattr(context, "add_output_metadata"):
                context.add_output_metadata(outcome_metadata(status))
            return status.to_dict()

    return QlikReloadResource


def qlik_reload_op(name: str, *, task_id: Optional[str] = None, task_name: Optional[str] = None,
                   timeout: Optional[float] = None, resource_key: str = "qlik_reload", **op_kwargs: Any) -> Any:
    """An op that reloads one Qlik task with the resource under ``resource_key``.
    Extra keyword arguments go to ``dagster.op`` (retry_policy, tags, ...)."""
    dg = _dagster()
    if bool(task_id) == bool(task_name):
        raise ValueError("qlik_reload_op needs exactly one of task_id and task_name")

    @dg.op(name=name, required_resource_keys={resource_key}, **op_kwargs)
    def _reload(context):  # type: ignore[no-untyped-def]
        resource = getattr(context.resources, resource_key)
        return resource.run_reload(context, task_id=task_id, task_name=task_name, timeout=timeout)

    return _reload


def __getattr__(name: str) -> Any:
    if name == "QlikReloadResource":
        value = _build_resource()
        globals()[name] = value
        return value
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
