"""The error taxonomy of the Python client: the same classes and exit codes as
the ``qlik-reload`` CLI, so that every engine integration can decide
"retry" versus "fail for good" the same way.

==================  =========  =========  ==========================================
class               exit code  retryable  when
==================  =========  =========  ==========================================
WorkerUnreachable   75         yes        connect/read failure, timeout, lost connection
QlikUnavailable     75 / 1     per Qlik   QRS unreachable or 429/5xx (retryable) or a
                                          permanent QRS error answer (not retryable)
InvalidRequest      64         no         the worker rejected the request (names the field)
UnknownSite         64         no         no such site in the worker's configuration
UnknownExecution    64         no         Qlik knows no such execution
AccessDenied        77         no         Qlik refused the worker's certificate or user
ConfigurationError  78         no         the worker's site configuration, or this client's
                                          TLS files / the worker's certificate
ReloadFailed        1          no         the reload finished FAILED, or ABORTED by someone
ReloadNotStarted    3          no         NOT_STARTED or SKIPPED
ReloadTimedOut      124        yes        our wait timeout passed (stopped or left running:
                                          the message says which)
==================  =========  =========  ==========================================

``ReloadFailed``, ``ReloadNotStarted`` and ``ReloadTimedOut`` are outcomes,
not transport errors: the client methods return a :class:`ReloadStatus` for
them, and :meth:`ReloadStatus.raise_for_outcome` turns it into one of these.
"""
from typing import Any, Dict, Optional

EXIT_SUCCEEDED = 0
EXIT_FAILED = 1
EXIT_NOT_STARTED = 3
EXIT_BAD_REQUEST = 64
EXIT_INTERNAL = 70
EXIT_TEMPORARY = 75
EXIT_ACCESS_DENIED = 77
EXIT_CONFIGURATION = 78
EXIT_TIMED_OUT = 124


class QlikReloadError(Exception):
    """Base class. ``retryable`` says whether the same call may simply be
    repeated later; ``exit_code`` is what ``qlik-reload`` would exit with."""

    error_type = "Error"
    default_retryable = False
    default_exit_code = EXIT_INTERNAL

    def __init__(self, message: str, *, retryable: Optional[bool] = None, execution_id: str = "",
                 status: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = self.default_retryable if retryable is None else bool(retryable)
        self.execution_id = execution_id or (getattr(status, "execution_id", "") if status is not None else "")
        #: The last known :class:`~qlik_reload.status.ReloadStatus`, when there is one.
        self.status = status

    @property
    def exit_code(self) -> int:
        return self.default_exit_code

    def to_dict(self) -> Dict[str, Any]:
        """The ``error`` object of the CLI's ``--json`` output."""
        return {"type": self.error_type, "message": self.message, "retryable": self.retryable}

    def __str__(self) -> str:
        return self.message


class WorkerUnreachable(QlikReloadError):
    """The worker could not be reached, or the connection broke or timed out."""

    error_type = "WorkerUnreachable"
    default_retryable = True
    default_exit_code = EXIT_TEMPORARY


class QlikUnavailable(QlikReloadError):
    """QRS could not be reached or answered with an error (the worker's
    ``retryable`` flag says whether repeating the call is safe)."""

    error_type = "QlikUnavailable"
    default_retryable = True

    @property
    def exit_code(self) -> int:
        return EXIT_TEMPORARY if self.retryable else EXIT_FAILED


class InvalidRequest(QlikReloadError):
    error_type = "InvalidRequest"
    default_exit_code = EXIT_BAD_REQUEST

    def __init__(self, message: str, *, field: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.field = field


class UnknownSite(QlikReloadError):
    error_type = "UnknownSite"
    default_exit_code = EXIT_BAD_REQUEST

    def __init__(self, message: str, *, site: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.site = site


class UnknownExecution(QlikReloadError):
    error_type = "UnknownExecution"
    default_exit_code = EXIT_BAD_REQUEST


class AccessDenied(QlikReloadError):
    error_type = "AccessDenied"
    default_exit_code = EXIT_ACCESS_DENIED


class ConfigurationError(QlikReloadError):
    error_type = "ConfigurationError"
    default_exit_code = EXIT_CONFIGURATION


class ReloadOutcomeError(QlikReloadError):
    """The reload has an outcome, and it is not success. ``status`` holds it."""

    error_type = "ReloadOutcome"


class ReloadFailed(ReloadOutcomeError):
    error_type = "ReloadFailed"
    default_exit_code = EXIT_FAILED


class ReloadNotStarted(ReloadOutcomeError):
    error_type = "ReloadNotStarted"
    default_exit_code = EXIT_NOT_STARTED


class ReloadTimedOut(ReloadOutcomeError):
    error_type = "ReloadTimedOut"
    default_retryable = True
    default_exit_code = EXIT_TIMED_OUT


__all__ = [
    "EXIT_SUCCEEDED", "EXIT_FAILED", "EXIT_NOT_STARTED", "EXIT_BAD_REQUEST", "EXIT_INTERNAL", "EXIT_TEMPORARY",
    "EXIT_ACCESS_DENIED", "EXIT_CONFIGURATION", "EXIT_TIMED_OUT",
    "QlikReloadError", "WorkerUnreachable", "QlikUnavailable", "InvalidRequest", "UnknownSite", "UnknownExecution",
    "AccessDenied", "ConfigurationError", "ReloadOutcomeError", "ReloadFailed", "ReloadNotStarted", "ReloadTimedOut",
]
