"""The generated Thrift bindings (package ``qlik_reload_thrift``, made from
idl/reload_worker.thrift at build time) and the translation of their
exceptions into :mod:`qlik_reload.errors`."""
import socket
import ssl
from typing import Any, Optional

try:
    from qlik_reload_thrift import ReloadWorker, ttypes  # noqa: F401  (generated at build time)
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "qlik_reload: the Thrift bindings (package qlik_reload_thrift) are missing. They are generated "
        "from idl/reload_worker.thrift when the package is built: install it with "
        "'/usr/bin/python3 -m pip install --no-build-isolation plugin/python', or put the build tree's "
        "gen-py folder on PYTHONPATH. (%s)" % exc) from exc

from thrift.Thrift import TApplicationException
from thrift.transport.TTransport import TTransportException

from . import errors

_IF_RUNNING = {
    "attach": ttypes.IfRunning.ATTACH,
    "fail": ttypes.IfRunning.FAIL,
    "wait": ttypes.IfRunning.WAIT,
}


def state_name(value: Optional[int]) -> str:
    if value is None:
        return ""
    return ttypes.ReloadState._VALUES_TO_NAMES.get(value, "UNKNOWN(%d)" % value)


def if_running_value(choice: Optional[str]) -> Optional[int]:
    if choice is None:
        return None
    try:
        return _IF_RUNNING[str(choice).lower()]
    except KeyError:
        raise errors.InvalidRequest("if_running must be one of attach, fail, wait; got %r" % (choice,),
                                    field="ifRunning") from None


def _ssl_error_in(exc: BaseException) -> Optional[ssl.SSLError]:
    seen = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current
        current = getattr(current, "inner", None) or current.__cause__ or current.__context__
    return None


_CERTIFICATE_WORDS = ("certificate", "verify", "alert", "unknown ca", "wrong version", "no shared cipher",
                      "handshake failure")


def _closed_without_answer(exc: BaseException) -> bool:
    current: Optional[BaseException] = exc
    for _ in range(4):
        if current is None:
            return False
        if isinstance(current, (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError, EOFError)):
            return True
        if isinstance(current, TTransportException) and current.type == TTransportException.END_OF_FILE:
            return True
        current = getattr(current, "inner", None) or current.__cause__ or current.__context__
    return False


def translate(exc: BaseException, address: str, first_tls_call: bool = False) -> errors.QlikReloadError:
    """One of our errors for anything a worker call can raise.

    ``first_tls_call``: the call was the first on a new TLS connection. A
    worker that closes such a connection before any answer has most likely
    refused our client certificate (TLS 1.3 delivers that refusal after the
    handshake, often as a reset rather than an alert): a configuration error,
    like the CLI's reading of the same situation."""
    if isinstance(exc, errors.QlikReloadError):
        return exc
    if isinstance(exc, ttypes.InvalidRequest):
        return errors.InvalidRequest(exc.message or "invalid request", field=exc.field or "")
    if isinstance(exc, ttypes.UnknownSite):
        return errors.UnknownSite(exc.message or "unknown site", site=exc.site or "")
    if isinstance(exc, ttypes.UnknownExecution):
        return errors.UnknownExecution(exc.message or "unknown execution", execution_id=exc.executionId or "")
    if isinstance(exc, ttypes.QlikUnavailable):
        return errors.QlikUnavailable(exc.message or "Qlik is unavailable", retryable=bool(exc.retryable))
    if isinstance(exc, ttypes.AccessDenied):
        return errors.AccessDenied(exc.message or "access denied")
    if isinstance(exc, ttypes.ConfigurationError):
        return errors.ConfigurationError(exc.message or "configuration error")
    ssl_error = _ssl_error_in(exc)
    if ssl_error is not None:
        # The worker's certificate does not verify, or the worker refused ours
        # (a TLS alert): retrying will not help, the TLS setup must change.
        text = ("%s %s" % (getattr(ssl_error, "reason", None) or "", ssl_error)).lower()
        if isinstance(ssl_error, ssl.SSLCertVerificationError) or any(w in text for w in _CERTIFICATE_WORDS):
            return errors.ConfigurationError("TLS to the worker at %s failed: %s" % (address, ssl_error))
        if not (first_tls_call and _closed_without_answer(exc)):
            return errors.WorkerUnreachable("TLS connection to the worker at %s failed: %s" % (address, ssl_error))
    if first_tls_call and _closed_without_answer(exc):
        return errors.ConfigurationError(
            "the worker at %s closed the new TLS connection without answering: it most likely refused this "
            "client's certificate (check the TLS client certificate and key, and the CA the worker trusts for "
            "clients)" % address)
    if isinstance(exc, TApplicationException):
        # The worker could not answer (an internal error on its side): like
        # the CLI, a transport-level problem that is worth retrying.
        return errors.WorkerUnreachable("the worker at %s failed to answer: %s" % (address, exc.message or exc))
    if isinstance(exc, (TTransportException, socket.timeout, OSError, EOFError)):
        detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        inner = getattr(exc, "inner", None)
        if inner is not None and str(inner) and str(inner) not in detail:
            detail += " (%s)" % inner
        return errors.WorkerUnreachable("cannot reach the worker at %s: %s" % (address, detail))
    return errors.QlikReloadError("unexpected error talking to the worker at %s: %r" % (address, exc))


def raise_result(result: Any, method: str) -> Any:
    """The value of a decoded ``<method>_result``, or its declared exception raised."""
    if result.success is not None:
        return result.success
    for name, _ in _exception_fields(result):
        value = getattr(result, name, None)
        if value is not None:
            raise value
    raise TApplicationException(TApplicationException.MISSING_RESULT, "%s failed: unknown result" % method)


def _exception_fields(result: Any):
    for spec in result.thrift_spec or ():
        if spec is not None and spec[2] != "success":
            yield spec[2], spec


__all__ = ["ReloadWorker", "ttypes", "state_name", "if_running_value", "translate", "raise_result"]
