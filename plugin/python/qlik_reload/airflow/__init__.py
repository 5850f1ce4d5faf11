"""Airflow provider for Qlik Sense reloads through qlik-reload-worker.

    from qlik_reload.airflow import QlikSenseReloadOperator

Works with Airflow 2.x and 3.x (the Task SDK's ``airflow.sdk`` first, the
Airflow 2 modules otherwise). The classes are loaded on first use, so that
Airflow's provider discovery can read :func:`get_provider_info` without
importing Airflow through this package.
"""
from typing import Any, Dict

_LAZY = {
    "QlikReloadHook": ".hooks",
    "QlikSenseReloadOperator": ".operators",
    "QlikSenseReloadTrigger": ".triggers",
    "airflow_idempotency_key": ".operators",
}

__all__ = sorted(_LAZY) + ["get_provider_info"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def get_provider_info() -> Dict[str, Any]:
    """What Airflow's providers manager reads (entry point ``apache_airflow_provider``)."""
    return {
        "package-name": "qlik-reload",
        "name": "Qlik Sense reload (qlik-reload-worker)",
        "description": "Start Qlik Sense reload tasks through qlik-reload-worker and wait for Qlik's real outcome.",
        "versions": ["0.1.0"],
        "connection-types": [
            {"connection-type": "qlik_reload", "hook-class-name": "qlik_reload.airflow.hooks.QlikReloadHook"},
        ],
    }
