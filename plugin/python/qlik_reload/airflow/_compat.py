"""Airflow names, from the Airflow 3 Task SDK (``airflow.sdk``) when present,
else from their Airflow 2 homes. Only this module knows where they live."""
# BaseOperator: airflow.sdk (3.x) / airflow.models.baseoperator (2.x)
try:
    from airflow.sdk import BaseOperator
except ImportError:
    from airflow.models.baseoperator import BaseOperator  # type: ignore[no-redef]

# BaseHook: airflow.sdk (3.1+) / airflow.hooks.base (2.x, 3.0)
try:
    from airflow.sdk import BaseHook
except ImportError:
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]

# Triggers: airflow.sdk when it exports them, else airflow.triggers.base (2.x, 3.x)
try:
    from airflow.sdk import BaseTrigger, TriggerEvent
except ImportError:
    from airflow.triggers.base import BaseTrigger, TriggerEvent  # type: ignore[no-redef]

# Exceptions: both from the same module, so that the subclass relation holds.
try:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:
    from airflow.exceptions import AirflowException, AirflowFailException  # type: ignore[no-redef]

# Configuration ([operators] default_deferrable)
try:
    from airflow.sdk.configuration import conf
except ImportError:
    from airflow.configuration import conf  # type: ignore[no-redef]


def default_deferrable() -> bool:
    """Airflow's ``[operators] default_deferrable`` (False when unset)."""
    try:
        return bool(conf.getboolean("operators", "default_deferrable", fallback=False))
    except Exception:  # noqa: BLE001 - a broken config must not break DAG parsing
        return False


__all__ = ["BaseOperator", "BaseHook", "BaseTrigger", "TriggerEvent", "AirflowException", "AirflowFailException",
           "conf", "default_deferrable"]
