"""What the worker says about a reload, as plain Python values.

:class:`ReloadStatus` mirrors the IDL's ``ReloadStatus``; ``to_dict()`` gives
exactly the object ``qlik-reload --json`` prints, so a Python step and a CLI
step publish the same shape (XCom, Dagster metadata, Prefect results).
"""
import dataclasses
import datetime as _dt
from typing import Any, Dict, List, Optional, Tuple

from . import errors


class ReloadState:
    """The worker's states (the IDL's ``ReloadState``), as strings."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"
    SKIPPED = "SKIPPED"
    NOT_STARTED = "NOT_STARTED"

    TERMINAL = frozenset({SUCCEEDED, FAILED, ABORTED, SKIPPED, NOT_STARTED})


SCRIPT_LOG_TAIL_LINES = 40


def exit_code_for_state(state: Optional[str]) -> int:
    """The CLI's exit code for a final state (run/wait): SUCCEEDED 0,
    FAILED/ABORTED 1, SKIPPED/NOT_STARTED 3, anything not final 75."""
    if state == ReloadState.SUCCEEDED:
        return errors.EXIT_SUCCEEDED
    if state in (ReloadState.FAILED, ReloadState.ABORTED):
        return errors.EXIT_FAILED
    if state in (ReloadState.SKIPPED, ReloadState.NOT_STARTED):
        return errors.EXIT_NOT_STARTED
    return errors.EXIT_TEMPORARY


def _from_epoch_ms(value: Optional[int]) -> Optional[_dt.datetime]:
    if value is None:
        return None
    return _dt.datetime.fromtimestamp(value / 1000.0, tz=_dt.timezone.utc)


def iso8601(value: Optional[_dt.datetime]) -> Optional[str]:
    """UTC with milliseconds, like the CLI: 2026-01-02T03:04:05.678Z."""
    if value is None:
        return None
    value = value.astimezone(_dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)


def last_lines(text: str, max_lines: int = SCRIPT_LOG_TAIL_LINES) -> str:
    """The last ``max_lines`` lines of ``text`` (a final newline ends the last line)."""
    if not text or max_lines <= 0:
        return ""
    body = text[:-1] if text.endswith("\n") else text
    lines = body.split("\n")
    return "\n".join(lines[-max_lines:]) + ("\n" if text.endswith("\n") else "")


@dataclasses.dataclass(frozen=True)
class Attempt:
    """One attempt of an execution (Qlik's task retries add attempts)."""

    qlik_status: str
    qlik_status_code: int
    started_at: Optional[_dt.datetime]
    finished_at: Optional[_dt.datetime]
    duration_ms: int
    node: str
    messages: Tuple[str, ...]

    def to_dict(self) -> Dict[str, Any]:
        return {
            "qlik_status": self.qlik_status or None,
            "qlik_status_code": self.qlik_status_code,
            "started_at": iso8601(self.started_at),
            "finished_at": iso8601(self.finished_at),
            "duration_ms": self.duration_ms,
            "node": self.node or None,
            "messages": list(self.messages),
        }


@dataclasses.dataclass(frozen=True)
class ReloadStatus:
    """One answer of the worker about one execution."""

    execution_id: str
    site: str
    task_id: str
    task_name: str
    state: str
    qlik_status: str
    qlik_status_code: int
    terminal: bool
    timed_out: bool
    attempts: Tuple[Attempt, ...]
    message: str
    script_log_tail: str
    started_at: Optional[_dt.datetime]
    finished_at: Optional[_dt.datetime]
    attached: bool

    # ---- derived facts

    @property
    def succeeded(self) -> bool:
        return self.state == ReloadState.SUCCEEDED

    @property
    def started(self) -> bool:
        """True when an execution exists (it may already have ended)."""
        return bool(self.execution_id)

    @property
    def duration_ms(self) -> Optional[int]:
        if self.started_at is None or self.finished_at is None:
            return None
        return int(round((self.finished_at - self.started_at).total_seconds() * 1000))

    @property
    def last_detail(self) -> str:
        """Qlik's last non-empty detail message of the last attempt, or ""."""
        if not self.attempts:
            return ""
        for text in reversed(self.attempts[-1].messages):
            if text:
                return text
        return ""

    @property
    def exit_code(self) -> int:
        """What ``qlik-reload run``/``wait`` would exit with for this status."""
        if self.timed_out:
            return errors.EXIT_TIMED_OUT
        return exit_code_for_state(self.state)

    def describe(self) -> str:
        """A multi-line account for logs and exception messages: the state,
        Qlik's status, the worker's message, Qlik's last detail message (when it
        adds something) and the tail of the script log."""
        head = self.state or "no state"
        if self.qlik_status:
            head += " (Qlik status %s)" % self.qlik_status
        if self.timed_out:
            head += ", timed out"
        if self.execution_id:
            head += ", execution %s" % self.execution_id
        lines = [head + (": " + self.message if self.message else "")]
        detail = self.last_detail
        if detail and detail not in self.message:
            lines.append("Qlik: " + detail)
        tail = last_lines(self.script_log_tail).rstrip("\n")
        if tail:
            lines.append("Script log (last lines):")
            lines.extend("  " + line.rstrip("\r") for line in tail.split("\n"))
        return "\n".join(lines)

    def raise_for_outcome(self) -> "ReloadStatus":
        """Returns self when the reload succeeded (or has not finished and did
        not time out); raises ReloadFailed / ReloadNotStarted / ReloadTimedOut
        otherwise, with :meth:`describe` as the message."""
        if self.timed_out:
            raise errors.ReloadTimedOut(self.describe(), status=self)
        if self.state in (ReloadState.FAILED, ReloadState.ABORTED):
            raise errors.ReloadFailed(self.describe(), status=self)
        if self.state in (ReloadState.NOT_STARTED, ReloadState.SKIPPED):
            raise errors.ReloadNotStarted(self.describe(), status=self)
        return self

    def to_dict(self) -> Dict[str, Any]:
        """The object ``qlik-reload run --json`` prints (same keys, same values)."""
        return {
            "execution_id": self.execution_id or None,
            "site": self.site or None,
            "task_id": self.task_id or None,
            "task_name": self.task_name or None,
            "state": self.state or None,
            "qlik_status": self.qlik_status or None,
            "qlik_status_code": self.qlik_status_code if self.qlik_status and self.qlik_status_code >= 0 else None,
            "attempts": [a.to_dict() for a in self.attempts],
            "started_at": iso8601(self.started_at),
            "finished_at": iso8601(self.finished_at),
            "duration_ms": self.duration_ms,
            "timed_out": self.timed_out,
            "attached": self.attached,
            "message": self.message,
            "script_log_tail": last_lines(self.script_log_tail),
            "exit_code": self.exit_code,
            "error": None,
        }

    # ---- construction

    @classmethod
    def from_thrift(cls, value: Any) -> "ReloadStatus":
        from ._thrift import state_name

        return cls(
            execution_id=value.executionId or "",
            site=value.site or "",
            task_id=value.taskId or "",
            task_name=value.taskName or "",
            state=state_name(value.state),
            qlik_status=value.qlikStatus or "",
            qlik_status_code=value.qlikStatusCode if value.qlikStatusCode is not None else -1,
            terminal=bool(value.terminal),
            timed_out=bool(value.timedOut),
            attempts=tuple(
                Attempt(
                    qlik_status=a.qlikStatus or "",
                    qlik_status_code=a.qlikStatusCode if a.qlikStatusCode is not None else -1,
                    started_at=_from_epoch_ms(a.startedAtMs),
                    finished_at=_from_epoch_ms(a.finishedAtMs),
                    duration_ms=a.durationMs or 0,
                    node=a.node or "",
                    messages=tuple(a.messages or ()),
                )
                for a in (value.attempts or [])
            ),
            message=value.message or "",
            script_log_tail=value.scriptLogTail or "",
            started_at=_from_epoch_ms(value.startedAtMs),
            finished_at=_from_epoch_ms(value.finishedAtMs),
            attached=bool(value.attached),
        )

    def replace(self, **changes: Any) -> "ReloadStatus":
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    version: str
    sites: List[str]

    def to_dict(self) -> Dict[str, Any]:
        return {"version": self.version, "sites": list(self.sites)}


__all__ = ["ReloadState", "ReloadStatus", "Attempt", "WorkerInfo", "exit_code_for_state", "iso8601", "last_lines"]
