"""A small typed client of qlik-reload-worker (Thrift, TFramedTransport +
TBinaryProtocol, optional mutual TLS).

    from qlik_reload import ReloadClient

    with ReloadClient.from_env() as client:          # $QLIK_RELOAD_WORKER, else 127.0.0.1:9090
        status = client.run(task_name="Reload Sales", timeout=7200, idempotency_key=run_id)
        status.raise_for_outcome()                    # ReloadFailed / ReloadNotStarted / ReloadTimedOut

Methods return :class:`~qlik_reload.status.ReloadStatus` for every answer the
worker gives, including NOT_STARTED and FAILED (outcomes, not errors), and raise
:mod:`qlik_reload.errors` classes when there is no answer (worker unreachable,
Qlik unavailable, bad request, access denied, configuration). Every call has a
connect timeout and a read timeout.

Thread-safety: one connection, one call at a time (a lock). :meth:`cancel`
always uses a connection of its own, so it may be called from another thread
or a signal handler while :meth:`wait` is blocked (Airflow's ``on_kill``).
"""
import datetime as _dt
import os
import random
import socket
import ssl
import threading
import time
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

from thrift.protocol import TBinaryProtocol
from thrift.Thrift import TException
from thrift.transport import TSocket, TTransport

from . import errors
from ._thrift import ReloadWorker, if_running_value, translate, ttypes
from .status import ReloadState, ReloadStatus, WorkerInfo

Seconds = Union[int, float, _dt.timedelta]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9090
ENV_WORKER = "QLIK_RELOAD_WORKER"
ENV_TLS_CA = "QLIK_RELOAD_TLS_CA"
ENV_TLS_CERT = "QLIK_RELOAD_TLS_CERT"
ENV_TLS_KEY = "QLIK_RELOAD_TLS_KEY"
ENV_TLS_SERVER_NAME = "QLIK_RELOAD_TLS_SERVER_NAME"

#: The worker bounds one waitReload to this (IDL: maxWaitMs <= 1 h); we ask far less.
MAX_WAIT_PER_CALL = 30.0
#: Added to a long poll's own wait to get its read timeout.
WAIT_CALL_MARGIN = 15.0
#: cancelReload waits (worker-side, stop_wait_ms, default 60 s) for Aborted.
CANCEL_READ_TIMEOUT = 90.0


def seconds(value: Optional[Seconds]) -> Optional[float]:
    """Seconds as a float from a number or a timedelta (None stays None)."""
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    return float(value)


def parse_address(address: str, default_port: int = DEFAULT_PORT) -> Tuple[str, int]:
    """``HOST:PORT``, ``HOST``, ``[::1]:9090`` -> (host, port)."""
    text = (address or "").strip()
    if not text:
        raise errors.InvalidRequest("empty worker address", field="worker")
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise errors.InvalidRequest("bad worker address %r" % address, field="worker")
        host, rest = text[1:end], text[end + 1:]
        port_text = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            raise errors.InvalidRequest("bad worker address %r" % address, field="worker")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not port_text:
        return host, default_port
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise errors.InvalidRequest("bad port in worker address %r" % address, field="worker")
    return host, port


class TlsConfig:
    """TLS to the worker: ``ca_file`` verifies the worker's certificate (and its
    name: ``server_name``, default the host we connect to); ``cert_file`` +
    ``key_file`` are this client's certificate for mutual TLS."""

    def __init__(self, ca_file: str, cert_file: Optional[str] = None, key_file: Optional[str] = None,
                 server_name: Optional[str] = None) -> None:
        if not ca_file:
            raise errors.ConfigurationError("TLS to the worker needs a CA file (tls ca)")
        if bool(cert_file) != bool(key_file):
            raise errors.ConfigurationError("TLS client certificate and key must be given together")
        self.ca_file = ca_file
        self.cert_file = cert_file or None
        self.key_file = key_file or None
        self.server_name = server_name or None

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Optional["TlsConfig"]:
        """From $QLIK_RELOAD_TLS_CA/_CERT/_KEY (the CLI's variables); None without a CA."""
        env = os.environ if env is None else env
        if not env.get(ENV_TLS_CA):
            return None
        return cls(env[ENV_TLS_CA], env.get(ENV_TLS_CERT), env.get(ENV_TLS_KEY), env.get(ENV_TLS_SERVER_NAME))

    def ssl_context(self) -> ssl.SSLContext:
        """A client context (TLS >= 1.2, verify chain and name); ConfigurationError
        naming the file when one cannot be used."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_verify_locations(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise errors.ConfigurationError("cannot use the TLS CA file %s: %s" % (self.ca_file, exc)) from exc
        if self.cert_file:
            try:
                context.load_cert_chain(self.cert_file, self.key_file)
            except (OSError, ssl.SSLError) as exc:
                raise errors.ConfigurationError("cannot use the TLS client certificate %s / key %s: %s"
                                                % (self.cert_file, self.key_file, exc)) from exc
        return context

    def to_dict(self) -> Dict[str, Optional[str]]:
        return {"ca_file": self.ca_file, "cert_file": self.cert_file, "key_file": self.key_file,
                "server_name": self.server_name}

    def __repr__(self) -> str:
        return "TlsConfig(%r)" % self.to_dict()


class _Connection:
    """One open connection. The socket (and the TLS handshake) is made here
    rather than by Thrift's TSocket/TSSLSocket, which log and hide the reason
    of a failed connect or handshake."""

    def __init__(self, host: str, port: int, tls: Optional[TlsConfig], connect_timeout: float) -> None:
        context = tls.ssl_context() if tls is not None else None
        raw = socket.create_connection((host, port), timeout=connect_timeout)
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            handle = raw
            if context is not None:
                handle = context.wrap_socket(raw, server_hostname=tls.server_name or host)  # handshake, same timeout
        except BaseException:
            raw.close()
            raise
        sock = TSocket.TSocket(host, port)
        sock.setHandle(handle)
        self.socket = sock
        self.tls = tls is not None
        self.transport = TTransport.TFramedTransport(sock)
        self.client = ReloadWorker.Client(TBinaryProtocol.TBinaryProtocol(self.transport))
        self.calls = 0

    def set_read_timeout(self, timeout: float) -> None:
        self.socket.setTimeout(timeout * 1000.0)

    def close(self) -> None:
        try:
            self.transport.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


#: What a broken connection or a misbehaving peer raises (IDL exceptions are TExceptions too,
#: and are caught before these).
_TRANSPORT_ERRORS = (TException, OSError, EOFError)

_IDL_EXCEPTIONS = (ttypes.InvalidRequest, ttypes.UnknownSite, ttypes.UnknownExecution, ttypes.QlikUnavailable,
                   ttypes.AccessDenied, ttypes.ConfigurationError)


class ReloadClient:
    """A client of one qlik-reload-worker.

    :param host: worker host (default 127.0.0.1)
    :param port: worker port (default 9090)
    :param tls: :class:`TlsConfig` for TLS / mutual TLS; None for plain TCP
    :param connect_timeout: seconds to connect (and finish the TLS handshake)
    :param read_timeout: seconds to wait for an answer to a short call
        (long polls add their own wait to it)
    :param site: the worker's site used when a call names none
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, tls: Optional[TlsConfig] = None,
                 connect_timeout: Seconds = 10.0, read_timeout: Seconds = 60.0, site: str = "default") -> None:
        self.host = host
        self.port = int(port)
        self.tls = tls
        self.connect_timeout = seconds(connect_timeout) or 10.0
        self.read_timeout = seconds(read_timeout) or 60.0
        self.site = site or "default"
        self._lock = threading.Lock()
        self._connection: Optional[_Connection] = None

    @classmethod
    def from_address(cls, address: str, **kwargs: Any) -> "ReloadClient":
        host, port = parse_address(address)
        return cls(host, port, **kwargs)

    @classmethod
    def from_env(cls, address: Optional[str] = None, env: Optional[Mapping[str, str]] = None,
                 **kwargs: Any) -> "ReloadClient":
        """Like the CLI: ``address``, else $QLIK_RELOAD_WORKER, else
        127.0.0.1:9090; TLS from $QLIK_RELOAD_TLS_CA/_CERT/_KEY unless ``tls`` is given."""
        env = os.environ if env is None else env
        address = address or env.get(ENV_WORKER) or "%s:%d" % (DEFAULT_HOST, DEFAULT_PORT)
        if "tls" not in kwargs:
            kwargs["tls"] = TlsConfig.from_env(env)
        return cls.from_address(address, **kwargs)

    @property
    def address(self) -> str:
        return ("[%s]:%d" if ":" in self.host else "%s:%d") % (self.host, self.port)

    def settings(self) -> Dict[str, Any]:
        """What it takes to build the same client elsewhere (JSON-able)."""
        return {"host": self.host, "port": self.port, "tls": self.tls.to_dict() if self.tls else None,
                "connect_timeout": self.connect_timeout, "read_timeout": self.read_timeout, "site": self.site}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "ReloadClient":
        tls = settings.get("tls")
        return cls(settings["host"], settings["port"], tls=TlsConfig(**tls) if tls else None,
                   connect_timeout=settings.get("connect_timeout", 10.0),
                   read_timeout=settings.get("read_timeout", 60.0), site=settings.get("site", "default"))

    # ---- connection handling

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> "ReloadClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _open(self) -> _Connection:
        try:
            return _Connection(self.host, self.port, self.tls, self.connect_timeout)
        except _TRANSPORT_ERRORS as exc:
            raise translate(exc, self.address) from exc

    def _call(self, method: str, *args: Any, read_timeout: Optional[float] = None,
              may_resend: bool = True) -> Any:
        """One RPC on the shared connection. A call that fails on a reused
        connection (the worker may have closed it meanwhile) is sent once more on
        a fresh one when ``may_resend`` (reads; starts only with an idempotency key)."""
        with self._lock:
            for attempt in (1, 2):
                reused = self._connection is not None
                if self._connection is None:
                    self._connection = self._open()
                connection = self._connection
                try:
                    connection.set_read_timeout(read_timeout or self.read_timeout)
                    result = getattr(connection.client, method)(*args)
                    connection.calls += 1
                    return result
                except _IDL_EXCEPTIONS as exc:
                    raise translate(exc, self.address) from None
                except _TRANSPORT_ERRORS as exc:  # drop the connection; anything else (a signal
                    # handler's exception, KeyboardInterrupt) propagates untouched
                    connection.close()
                    self._connection = None
                    error = translate(exc, self.address, first_tls_call=connection.tls and connection.calls == 0)
                    if attempt == 1 and reused and may_resend and isinstance(error, errors.WorkerUnreachable):
                        continue
                    raise error from exc
                except BaseException:
                    # Interrupted in the middle of a call: its answer may still
                    # arrive on this connection, so it can never be reused.
                    connection.close()
                    self._connection = None
                    raise
        raise AssertionError("unreachable")

    def _call_on_own_connection(self, method: str, *args: Any, read_timeout: float) -> Any:
        last: Optional[errors.QlikReloadError] = None
        for _ in (1, 2):  # one fresh attempt more: the first may hit a worker restart
            connection = self._open()
            try:
                connection.set_read_timeout(read_timeout)
                return getattr(connection.client, method)(*args)
            except _IDL_EXCEPTIONS as exc:
                raise translate(exc, self.address) from None
            except _TRANSPORT_ERRORS as exc:
                last = translate(exc, self.address, first_tls_call=connection.tls)
                if not isinstance(last, errors.WorkerUnreachable):
                    raise last from exc
            finally:
                connection.close()
        assert last is not None
        raise last

    def _ref(self, execution_id: str, site: Optional[str]) -> Any:
        if not execution_id:
            raise errors.InvalidRequest("execution_id is required", field="executionId")
        return ttypes.ExecutionRef(site=site or self.site, executionId=execution_id)

    # ---- the worker's methods

    def ping(self) -> WorkerInfo:
        info = self._call("ping")
        return WorkerInfo(version=info.version or "", sites=list(info.sites or []))

    def start(self, task_id: Optional[str] = None, task_name: Optional[str] = None, *, site: Optional[str] = None,
              idempotency_key: Optional[str] = None, if_running: Optional[str] = None,
              labels: Optional[Mapping[str, Any]] = None) -> ReloadStatus:
        """Starts the task (exactly one of ``task_id`` and ``task_name``); returns
        as soon as Qlik answered, with the execution id. NOT_STARTED is an answer
        (empty execution id, the message says why)."""
        if bool(task_id) == bool(task_name):
            raise errors.InvalidRequest("exactly one of task_id and task_name is required",
                                        field="taskId" if task_id else "taskName")
        request = ttypes.ReloadRequest(site=site or self.site, taskId=task_id or None, taskName=task_name or None,
                                       idempotencyKey=idempotency_key or None,
                                       labels={str(k): str(v) for k, v in labels.items()} if labels else None,
                                       ifRunning=if_running_value(if_running))
        try:
            answer = self._call("startReload", request, may_resend=bool(idempotency_key))
        except errors.WorkerUnreachable as exc:
            raise errors.WorkerUnreachable(
                "%s; nothing was confirmed started; safe to retry%s" % (
                    exc.message, " with the same idempotency key" if idempotency_key else "")) from exc
        return ReloadStatus.from_thrift(answer)

    def get(self, execution_id: str, *, site: Optional[str] = None) -> ReloadStatus:
        """The current state; never blocks on the reload."""
        return ReloadStatus.from_thrift(self._call("getReload", self._ref(execution_id, site)))

    def wait_once(self, execution_id: str, *, site: Optional[str] = None,
                  max_wait: Seconds = MAX_WAIT_PER_CALL) -> ReloadStatus:
        """One long poll: returns at the terminal state or after ``max_wait``."""
        wait_s = max(0.0, min(seconds(max_wait) or 0.0, 3600.0))
        answer = self._call("waitReload", self._ref(execution_id, site), int(wait_s * 1000),
                            read_timeout=wait_s + WAIT_CALL_MARGIN)
        return ReloadStatus.from_thrift(answer)

    def cancel(self, execution_id: str, *, site: Optional[str] = None,
               read_timeout: Seconds = CANCEL_READ_TIMEOUT) -> ReloadStatus:
        """Stops the execution in Qlik; the worker waits a bounded time for
        Aborted. The answer's state says what happened: ABORTED (stopped),
        STOPPING (requested, not yet confirmed) or the final state it had
        already reached. Uses a connection of its own (safe from another thread)."""
        ref = self._ref(execution_id, site)
        try:
            answer = self._call_on_own_connection("cancelReload", ref, read_timeout=seconds(read_timeout) or 90.0)
        except (errors.WorkerUnreachable, errors.QlikUnavailable) as exc:
            # Like the CLI: a stop that could not be delivered is worth retrying.
            raise type(exc)("the stop could not be delivered: %s" % exc.message, retryable=True,
                            execution_id=execution_id) from exc
        return ReloadStatus.from_thrift(answer)

    def wait(self, execution_id: str, *, site: Optional[str] = None, timeout: Optional[Seconds] = None,
             stop_on_timeout: bool = False, poll_interval: Seconds = 1.0,
             max_wait_per_call: Seconds = MAX_WAIT_PER_CALL, reconnect_for: Seconds = 600.0,
             on_status: Optional[Callable[[ReloadStatus], None]] = None,
             last_status: Optional[ReloadStatus] = None) -> ReloadStatus:
        """Follows the execution with long polls until it is terminal.

        Returns the terminal status, or, when ``timeout`` passes first, a status
        with ``timed_out=True`` (stopped in Qlik when ``stop_on_timeout``; the
        message says what happened). While the worker is unreachable or Qlik
        temporarily unavailable it keeps trying for ``reconnect_for`` (per outage),
        then raises the retryable error with ``execution_id`` set: the reload may
        still be running. ``on_status`` is called at every change of state.

        Like ``qlik-reload wait``, a first poll that finds the worker unreachable
        fails at once (a wrong address should not take ``reconnect_for`` to
        notice) unless ``last_status`` is given: an answer already received
        (start's), after which every outage is waited out."""
        deadline = None if timeout is None else time.monotonic() + (seconds(timeout) or 0.0)
        return self._follow(execution_id, site, deadline, last_status, stop_on_timeout,
                            seconds(poll_interval) or 0.0,
                            seconds(max_wait_per_call) or MAX_WAIT_PER_CALL, seconds(reconnect_for) or 0.0,
                            on_status, timeout)

    def run(self, task_id: Optional[str] = None, task_name: Optional[str] = None, *, site: Optional[str] = None,
            idempotency_key: Optional[str] = None, if_running: Optional[str] = None,
            labels: Optional[Mapping[str, Any]] = None, timeout: Optional[Seconds] = None,
            stop_on_timeout: bool = True, poll_interval: Seconds = 1.0,
            max_wait_per_call: Seconds = MAX_WAIT_PER_CALL, reconnect_for: Seconds = 600.0,
            on_start: Optional[Callable[[ReloadStatus], None]] = None,
            on_status: Optional[Callable[[ReloadStatus], None]] = None) -> ReloadStatus:
        """:meth:`start`, then :meth:`wait`. ``timeout`` counts from the start
        request (queue time included) and by default stops the reload in Qlik.
        ``on_start`` gets the start's answer before any waiting (publish the
        execution id there). Returns the final status; see
        :meth:`ReloadStatus.raise_for_outcome`."""
        deadline = None if timeout is None else time.monotonic() + (seconds(timeout) or 0.0)
        started = self.start(task_id, task_name, site=site, idempotency_key=idempotency_key,
                             if_running=if_running, labels=labels)
        if on_start is not None:
            on_start(started)
        if not started.execution_id or started.terminal or started.state in ReloadState.TERMINAL:
            return started
        return self._follow(started.execution_id, started.site or site, deadline, started, stop_on_timeout,
                            seconds(poll_interval) or 0.0, seconds(max_wait_per_call) or MAX_WAIT_PER_CALL,
                            seconds(reconnect_for) or 0.0, on_status, timeout)

    # ---- following

    def _follow(self, execution_id: str, site: Optional[str], deadline: Optional[float],
                last: Optional[ReloadStatus], stop_on_timeout: bool, poll_interval: float,
                max_wait_per_call: float, reconnect_for: float,
                on_status: Optional[Callable[[ReloadStatus], None]], timeout: Any) -> ReloadStatus:
        contacted = last is not None
        trouble_since: Optional[float] = None
        delay = 0.25
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return self._on_timeout(execution_id, site, last, stop_on_timeout, timeout)
            max_wait = max_wait_per_call if deadline is None else min(max_wait_per_call, deadline - now)
            call_start = now
            try:
                status = self.wait_once(execution_id, site=site, max_wait=max_wait)
            except errors.QlikReloadError as exc:
                exc.execution_id = exc.execution_id or execution_id
                exc.status = exc.status or last
                if not exc.retryable or not contacted:
                    raise
                now = time.monotonic()
                trouble_since = trouble_since if trouble_since is not None else now
                if now - trouble_since >= reconnect_for:
                    raise type(exc)(
                        "%s (for %.0f s); execution %s may still be running; follow it with "
                        "qlik-reload wait %s" % (exc.message, now - trouble_since, execution_id, execution_id),
                        retryable=True, execution_id=execution_id, status=last) from exc
                pause = delay * random.uniform(0.8, 1.2)
                delay = min(delay * 2.0, 5.0)
                wake = min(now + pause, trouble_since + reconnect_for)
                if deadline is not None:
                    wake = min(wake, deadline)
                time.sleep(max(0.0, wake - now))
                continue
            contacted = True
            trouble_since = None
            delay = 0.25
            if on_status is not None and (last is None or last.state != status.state):
                on_status(status)
            last = status
            if status.terminal:
                return status
            wake = call_start + poll_interval
            if deadline is not None:
                wake = min(wake, deadline)
            pause = wake - time.monotonic()
            if pause > 0:
                time.sleep(pause)

    def _on_timeout(self, execution_id: str, site: Optional[str], last: Optional[ReloadStatus],
                    stop_on_timeout: bool, timeout: Any) -> ReloadStatus:
        after = "Timed out after %s" % _describe_seconds(seconds(timeout) or 0.0)
        base = last if last is not None else self.get(execution_id, site=site)
        if not stop_on_timeout:
            return base.replace(timed_out=True, message="%s; the reload keeps running in Qlik (%s): execution %s."
                                % (after, base.state, execution_id))
        try:
            stopped = self.cancel(execution_id, site=site)
        except errors.QlikReloadError as exc:
            return base.replace(timed_out=True, message="%s; the stop could not be delivered (%s); the reload may "
                                "still be running: execution %s." % (after, exc.message, execution_id))
        if stopped.state in ReloadState.TERMINAL and stopped.state != ReloadState.ABORTED:
            return stopped.replace(timed_out=False, message="%s It finished as the timeout of %s passed; nothing "
                                   "was stopped by the timeout." % (stopped.message,
                                                                    _describe_seconds(seconds(timeout) or 0.0)))
        what = ("the reload was stopped in Qlik (ABORTED)" if stopped.state == ReloadState.ABORTED
                else "the stop was requested but Qlik has not confirmed it yet (%s)" % stopped.state)
        return stopped.replace(timed_out=True, message="%s; %s." % (after, what))


def _describe_seconds(value: float) -> str:
    if value < 120:
        return "%gs" % round(value, 1)
    minutes, secs = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    return ("%dh%02dm" % (hours, minutes)) if hours else ("%dm%02ds" % (minutes, secs))


__all__ = ["ReloadClient", "TlsConfig", "parse_address", "seconds", "ENV_WORKER", "DEFAULT_PORT"]
