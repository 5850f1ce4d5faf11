"""QlikReloadHook: an Airflow Connection -> a client of qlik-reload-worker.

Connection ``qlik_reload_default`` (type ``qlik_reload``):

- host, port: the worker (default 127.0.0.1:9090)
- extra (JSON, all optional):

  ==================  ===========================================================
  ``tls_ca``          CA file that signed the worker's certificate: enables TLS
  ``tls_cert``        client certificate file (mutual TLS), with ``tls_key``
  ``tls_key``         its private key file
  ``tls_server_name`` name on the worker's certificate (default: host)
  ``connect_timeout`` seconds (default 10)
  ``read_timeout``    seconds for short calls (default 60)
  ``site``            default worker site (default ``default``)
  ``qmc_url``         the QMC's address, e.g. ``https://qlik.example.com/qmc``:
                      a link is published with every execution
  ==================  ===========================================================

For example, as an environment variable::

    AIRFLOW_CONN_QLIK_RELOAD_DEFAULT='{"conn_type": "qlik_reload", "host": "qlik-reload-worker", "port": 9090,
        "extra": {"tls_ca": "/etc/qlik-reload/ca.pem", "tls_cert": "/etc/qlik-reload/client.pem",
                  "tls_key": "/etc/qlik-reload/client_key.pem", "qmc_url": "https://qlik.example.com/qmc"}}'
"""
import json
from typing import Any, Dict, Mapping, Optional, Tuple

from ..aio import AsyncReloadClient
from ..client import DEFAULT_HOST, DEFAULT_PORT, ReloadClient, TlsConfig
from ..errors import ConfigurationError, QlikReloadError
from ._compat import BaseHook

EXTRA_KEYS = ("tls_ca", "tls_cert", "tls_key", "tls_server_name", "connect_timeout", "read_timeout", "site",
              "qmc_url")


def _number(extra: Mapping[str, Any], key: str, default: float) -> float:
    value = extra.get(key)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError("connection extra %r must be a number of seconds, got %r" % (key, value)) from None
    if number <= 0:
        raise ConfigurationError("connection extra %r must be positive, got %r" % (key, value))
    return number


def settings_from_connection(host: Optional[str], port: Optional[Any], extra: Optional[Mapping[str, Any]]
                             ) -> Dict[str, Any]:
    """Client settings (see :meth:`ReloadClient.settings`) from a connection's
    fields; ConfigurationError naming the field when one is wrong."""
    extra = dict(extra or {})
    unknown = sorted(set(extra) - set(EXTRA_KEYS))
    if unknown:
        raise ConfigurationError("unknown connection extra %s; known: %s" % (", ".join(unknown), ", ".join(EXTRA_KEYS)))
    try:
        port_number = int(port) if port not in (None, "") else DEFAULT_PORT
    except (TypeError, ValueError):
        raise ConfigurationError("connection port must be a number, got %r" % (port,)) from None
    tls = None
    if extra.get("tls_ca"):
        tls = TlsConfig(extra["tls_ca"], extra.get("tls_cert"), extra.get("tls_key"), extra.get("tls_server_name"))
    elif extra.get("tls_cert") or extra.get("tls_key"):
        raise ConfigurationError("connection extra tls_cert/tls_key need tls_ca (the worker's CA)")
    return {
        "host": host or DEFAULT_HOST,
        "port": port_number,
        "tls": tls.to_dict() if tls else None,
        "connect_timeout": _number(extra, "connect_timeout", 10.0),
        "read_timeout": _number(extra, "read_timeout", 60.0),
        "site": extra.get("site") or "default",
    }


def qmc_link(qmc_url: Optional[str]) -> Optional[str]:
    """The QMC page where a task's executions and script logs are (the QMC has
    no page per execution): ``<qmc_url>/tasks``."""
    if not qmc_url:
        return None
    return qmc_url.rstrip("/") + "/tasks"


class QlikReloadHook(BaseHook):
    """Builds :class:`~qlik_reload.client.ReloadClient` objects from an Airflow Connection."""

    conn_name_attr = "qlik_reload_conn_id"
    default_conn_name = "qlik_reload_default"
    conn_type = "qlik_reload"
    hook_name = "Qlik Sense reload worker"

    def __init__(self, qlik_reload_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.qlik_reload_conn_id = qlik_reload_conn_id
        self._connection_fields: Optional[Tuple[Dict[str, Any], Optional[str]]] = None

    def _fields(self) -> Tuple[Dict[str, Any], Optional[str]]:
        if self._connection_fields is None:
            conn = self.get_connection(self.qlik_reload_conn_id)
            extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else json.loads(conn.extra or "{}")
            self._connection_fields = (settings_from_connection(conn.host, conn.port, extra), extra.get("qmc_url"))
        return self._connection_fields

    def get_settings(self) -> Dict[str, Any]:
        """JSON-able client settings (host, port, tls files, timeouts, site)."""
        return dict(self._fields()[0])

    @property
    def qmc_url(self) -> Optional[str]:
        return self._fields()[1]

    def get_conn(self) -> ReloadClient:
        return ReloadClient.from_settings(self.get_settings())

    def get_async_conn(self) -> AsyncReloadClient:
        return AsyncReloadClient.from_settings(self.get_settings())

    def test_connection(self) -> Tuple[bool, str]:
        try:
            with self.get_conn() as client:
                info = client.ping()
        except QlikReloadError as exc:
            return False, str(exc)
        return True, "qlik-reload-worker %s; sites: %s" % (info.version, ", ".join(info.sites))

    @classmethod
    def get_ui_field_behaviour(cls) -> Dict[str, Any]:
        return {
            "hidden_fields": ["schema", "login", "password"],
            "relabeling": {"host": "Worker host", "port": "Worker port"},
            "placeholders": {
                "host": "qlik-reload-worker.example.internal",
                "port": str(DEFAULT_PORT),
                "extra": json.dumps({"tls_ca": "/etc/qlik-reload/ca.pem", "tls_cert": "/etc/qlik-reload/client.pem",
                                     "tls_key": "/etc/qlik-reload/client_key.pem",
                                     "qmc_url": "https://qlik.example.com/qmc"}),
            },
        }


__all__ = ["QlikReloadHook", "settings_from_connection", "qmc_link", "EXTRA_KEYS"]
