"""A minimal, test-only stand-in for the handful of Airflow names that
qlik_reload.airflow uses. It lives in the tests and is never shipped.

It models only what the provider relies on, with Airflow's documented
behaviour:

- ``BaseOperator``: keyword-only ``task_id`` and friends (unknown arguments are
  an error, as in Airflow), ``log``, ``execution_timeout``, ``template_fields``
  rendering (``{{ name }}`` / ``{{ a.b }}`` from the context), ``defer()``
  raising ``TaskDeferred``, a no-op ``on_kill``;
- ``BaseHook.get_connection`` over a registry of ``Connection`` objects
  (``extra`` JSON, ``extra_dejson``);
- ``BaseTrigger`` (``serialize``/``run``/``cleanup``, and the async ``on_kill``
  of Airflow 3.3+) and ``TriggerEvent``;
- ``AirflowException``, ``AirflowFailException`` (a subclass), ``TaskDeferred``
  (a BaseException, so ``except Exception`` does not swallow it);
- ``conf.getboolean`` for ``[operators] default_deferrable``.

Two layouts: "3" puts BaseOperator/BaseHook in ``airflow.sdk`` (Airflow 3);
"2" has no ``airflow.sdk`` and keeps them in ``airflow.models.baseoperator``
and ``airflow.hooks.base`` (Airflow 2). Triggers, exceptions and conf are where
both versions have them.

It cannot prove what only real Airflow can (scheduling, serialization to the
metastore, the triggerer process): tests/python/test_airflow_dag.py runs a
``dag.test()`` where Airflow is installed.
"""
import abc
import json
import logging
import re
import sys
import time
import types
import uuid

_MODULES = ("airflow", "airflow.sdk", "airflow.exceptions", "airflow.models", "airflow.models.baseoperator",
            "airflow.hooks", "airflow.hooks.base", "airflow.triggers", "airflow.triggers.base",
            "airflow.configuration")


class AirflowException(Exception):
    pass


class AirflowFailException(AirflowException):
    pass


class AirflowNotFoundException(AirflowException):
    pass


class TaskDeferred(BaseException):
    def __init__(self, *, trigger, method_name, kwargs=None, timeout=None):
        super().__init__()
        self.trigger = trigger
        self.method_name = method_name
        self.kwargs = kwargs
        self.timeout = timeout


class Connection:
    def __init__(self, conn_id, conn_type=None, host=None, port=None, login=None, password=None, extra=None):
        self.conn_id = conn_id
        self.conn_type = conn_type
        self.host = host
        self.port = port
        self.login = login
        self.password = password
        self.extra = extra if extra is None or isinstance(extra, str) else json.dumps(extra)

    @property
    def extra_dejson(self):
        return json.loads(self.extra) if self.extra else {}


CONNECTIONS = {}
CONNECTION_LOOKUPS = []


class BaseHook:
    def __init__(self, logger_name=None):
        self.log = logging.getLogger(logger_name or "airflow.hooks.%s" % type(self).__name__)

    @classmethod
    def get_connection(cls, conn_id):
        CONNECTION_LOOKUPS.append(conn_id)
        try:
            return CONNECTIONS[conn_id]
        except KeyError:
            raise AirflowNotFoundException("The conn_id `%s` isn't defined" % conn_id) from None


_TEMPLATE = re.compile(r"{{\s*([A-Za-z_][\w.]*)\s*}}")


def _render(value, context):
    if isinstance(value, str):
        def lookup(match):
            current = context
            for part in match.group(1).split("."):
                current = current[part] if isinstance(current, dict) else getattr(current, part)
            return str(current)
        return _TEMPLATE.sub(lookup, value)
    if isinstance(value, dict):
        return {k: _render(v, context) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_render(v, context) for v in value)
    return value


class BaseOperator:
    template_fields = ()
    _ACCEPTED = {"task_id", "retries", "execution_timeout", "do_xcom_push", "retry_delay", "dag"}

    def __init__(self, **kwargs):
        unknown = set(kwargs) - self._ACCEPTED
        if unknown:
            raise TypeError("Invalid arguments were passed to %s: %s" % (type(self).__name__, sorted(unknown)))
        if "task_id" not in kwargs:
            raise TypeError("task_id is required")
        self.task_id = kwargs["task_id"]
        self.retries = kwargs.get("retries", 0)
        self.execution_timeout = kwargs.get("execution_timeout")
        self.do_xcom_push = kwargs.get("do_xcom_push", True)
        self.log = logging.getLogger("airflow.task.operators.%s" % type(self).__name__)

    def render_template_fields(self, context):
        for name in self.template_fields:
            setattr(self, name, _render(getattr(self, name), context))

    def defer(self, *, trigger, method_name, kwargs=None, timeout=None):
        raise TaskDeferred(trigger=trigger, method_name=method_name, kwargs=kwargs, timeout=timeout)

    def on_kill(self):
        pass


class BaseTrigger(abc.ABC):
    def __init__(self, **kwargs):
        self.task_instance = None
        self.trigger_id = None
        self.log = logging.getLogger("airflow.triggers.%s" % type(self).__name__)

    @abc.abstractmethod
    def serialize(self):
        raise NotImplementedError

    @abc.abstractmethod
    async def run(self):
        raise NotImplementedError
        yield  # pragma: no cover

    async def cleanup(self):
        pass

    async def on_kill(self):
        """Airflow 3.3+: called after run() was cancelled because a user acted on the task."""


class TriggerEvent:
    def __init__(self, payload):
        self.payload = payload

    def __eq__(self, other):
        return isinstance(other, TriggerEvent) and other.payload == self.payload

    def __repr__(self):
        return "TriggerEvent<%r>" % (self.payload,)


class _Conf:
    def __init__(self):
        self.values = {}

    def getboolean(self, section, key, fallback=False):
        value = self.values.get((section, key))
        if value is None:
            return fallback
        return str(value).lower() in ("true", "1", "t", "yes")


conf = _Conf()


class TaskInstance:
    """What the operator reads from ``context["ti"]``; records XCom pushes in order."""

    def __init__(self, dag_id="qlik_dag", task_id="reload", run_id=None, try_number=1, map_index=-1,
                 on_xcom_push=None):
        self.dag_id = dag_id
        self.task_id = task_id
        self.run_id = run_id or "manual__%s" % uuid.uuid4().hex  # a DAG run of its own unless told
        self.try_number = try_number
        self.map_index = map_index
        self.xcom = {}
        self.xcom_log = []
        self.on_xcom_push = on_xcom_push

    def xcom_push(self, key, value):
        self.xcom[key] = value
        self.xcom_log.append((time.monotonic(), key, value))
        if self.on_xcom_push is not None:
            self.on_xcom_push(key, value)

    def context(self):
        return {"ti": self, "task_instance": self, "run_id": self.run_id, "params": {}}


def _module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    module.__file__ = __file__
    if "." not in name or name in ("airflow.models", "airflow.hooks", "airflow.triggers"):
        module.__path__ = []  # a package
    return module


def install(flavour="3"):
    """Puts the stand-in into sys.modules (and drops any loaded qlik_reload.airflow
    modules, so they import against it). Returns this module."""
    uninstall()
    exceptions = _module("airflow.exceptions", AirflowException=AirflowException,
                         AirflowFailException=AirflowFailException, AirflowNotFoundException=AirflowNotFoundException,
                         TaskDeferred=TaskDeferred)
    triggers_base = _module("airflow.triggers.base", BaseTrigger=BaseTrigger, TriggerEvent=TriggerEvent)
    modules = {
        "airflow": _module("airflow", __version__="stand-in-%s" % flavour),
        "airflow.exceptions": exceptions,
        "airflow.triggers": _module("airflow.triggers", base=triggers_base),
        "airflow.triggers.base": triggers_base,
        "airflow.configuration": _module("airflow.configuration", conf=conf),
    }
    if flavour == "3":
        modules["airflow.sdk"] = _module("airflow.sdk", BaseOperator=BaseOperator, BaseHook=BaseHook,
                                         Connection=Connection)
        modules["airflow.sdk"].__path__ = []
    elif flavour == "2":
        baseoperator = _module("airflow.models.baseoperator", BaseOperator=BaseOperator)
        hooks_base = _module("airflow.hooks.base", BaseHook=BaseHook)
        modules.update({
            "airflow.models": _module("airflow.models", BaseOperator=BaseOperator, Connection=Connection,
                                      baseoperator=baseoperator),
            "airflow.models.baseoperator": baseoperator,
            "airflow.hooks": _module("airflow.hooks", base=hooks_base),
            "airflow.hooks.base": hooks_base,
        })
    else:
        raise ValueError("flavour must be '2' or '3'")
    sys.modules.update(modules)
    return sys.modules[__name__]


def uninstall():
    for name in list(sys.modules):
        if name in _MODULES or name.startswith("airflow.") or name.startswith("qlik_reload.airflow"):
            del sys.modules[name]
    CONNECTIONS.clear()
    del CONNECTION_LOOKUPS[:]
    conf.values.clear()


def add_connection(conn_id="qlik_reload_default", host="127.0.0.1", port=9090, **extra):
    CONNECTIONS[conn_id] = Connection(conn_id, conn_type="qlik_reload", host=host, port=port, extra=extra or None)
