"""qlik_reload: a Python client of qlik-reload-worker, and the engine
integrations built on it.

- :class:`ReloadClient` (blocking) and :class:`~qlik_reload.aio.AsyncReloadClient`
  (asyncio) speak the worker's Thrift contract (idl/reload_worker.thrift).
- :mod:`qlik_reload.errors`: the CLI's error taxonomy and exit codes.
- :mod:`qlik_reload.airflow`: hook, operator and deferrable trigger (imports Airflow).
- :mod:`qlik_reload.dagster`, :mod:`qlik_reload.prefect`: import their engine
  only when used.

Importing this package never imports Airflow, Dagster or Prefect.
"""
from .client import DEFAULT_PORT, ENV_WORKER, ReloadClient, TlsConfig, parse_address
from .errors import (AccessDenied, ConfigurationError, InvalidRequest, QlikReloadError, QlikUnavailable,
                     ReloadFailed, ReloadNotStarted, ReloadOutcomeError, ReloadTimedOut, UnknownExecution,
                     UnknownSite, WorkerUnreachable)
from .keys import make_idempotency_key
from .status import Attempt, ReloadState, ReloadStatus, WorkerInfo, exit_code_for_state

__version__ = "0.1.0"

__all__ = [
    "ReloadClient", "TlsConfig", "parse_address", "DEFAULT_PORT", "ENV_WORKER",
    "ReloadState", "ReloadStatus", "Attempt", "WorkerInfo", "exit_code_for_state", "make_idempotency_key",
    "QlikReloadError", "WorkerUnreachable", "QlikUnavailable", "InvalidRequest", "UnknownSite",
    "UnknownExecution", "AccessDenied", "ConfigurationError", "ReloadOutcomeError", "ReloadFailed",
    "ReloadNotStarted", "ReloadTimedOut", "__version__",
]
