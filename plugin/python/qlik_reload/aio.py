"""An asyncio client of qlik-reload-worker for event loops (Airflow's
triggerer): the same framed binary Thrift messages as :class:`ReloadClient`,
over ``asyncio`` streams, so that a long poll never blocks the loop and a
cancelled task simply closes its connection.

One connection per call: calls are few (one long poll every few seconds) and
a cancelled call leaves nothing half-read behind.
"""
import asyncio
import itertools
import struct
from typing import Any, Optional

from thrift.protocol import TBinaryProtocol
from thrift.Thrift import TApplicationException, TMessageType
from thrift.transport import TTransport

from . import errors
from ._thrift import ReloadWorker, raise_result, translate, ttypes
from .client import (CANCEL_READ_TIMEOUT, DEFAULT_PORT, MAX_WAIT_PER_CALL, WAIT_CALL_MARGIN, Seconds, TlsConfig,
                     seconds)
from .status import ReloadStatus, WorkerInfo

MAX_FRAME_BYTES = 16 * 1024 * 1024
_IDL_EXCEPTIONS = (ttypes.InvalidRequest, ttypes.UnknownSite, ttypes.UnknownExecution, ttypes.QlikUnavailable,
                   ttypes.AccessDenied, ttypes.ConfigurationError)


class AsyncReloadClient:
    """Same parameters as :class:`~qlik_reload.client.ReloadClient`."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, tls: Optional[TlsConfig] = None,
                 connect_timeout: Seconds = 10.0, read_timeout: Seconds = 60.0, site: str = "default") -> None:
        self.host = host
        self.port = int(port)
        self.tls = tls
        self.connect_timeout = seconds(connect_timeout) or 10.0
        self.read_timeout = seconds(read_timeout) or 60.0
        self.site = site or "default"
        self._seqids = itertools.count(1)

    @classmethod
    def from_settings(cls, settings: Any) -> "AsyncReloadClient":
        tls = settings.get("tls")
        return cls(settings["host"], settings["port"], tls=TlsConfig(**tls) if tls else None,
                   connect_timeout=settings.get("connect_timeout", 10.0),
                   read_timeout=settings.get("read_timeout", 60.0), site=settings.get("site", "default"))

    @property
    def address(self) -> str:
        return ("[%s]:%d" if ":" in self.host else "%s:%d") % (self.host, self.port)

    async def _call(self, method: str, read_timeout: float, **kwargs: Any) -> Any:
        out = TTransport.TMemoryBuffer()
        protocol = TBinaryProtocol.TBinaryProtocol(out)
        seqid = next(self._seqids) & 0x7FFFFFFF
        protocol.writeMessageBegin(method, TMessageType.CALL, seqid)
        getattr(ReloadWorker, method + "_args")(**kwargs).write(protocol)
        protocol.writeMessageEnd()
        payload = out.getvalue()

        writer = None
        try:
            try:
                context = self.tls.ssl_context() if self.tls else None
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port, ssl=context,
                                            server_hostname=(self.tls.server_name or self.host) if self.tls else None),
                    self.connect_timeout)
                writer.write(struct.pack("!i", len(payload)) + payload)
                await writer.drain()
                header = await asyncio.wait_for(reader.readexactly(4), read_timeout)
                (size,) = struct.unpack("!i", header)
                if size < 0 or size > MAX_FRAME_BYTES:
                    raise errors.WorkerUnreachable("the worker at %s sent a bad frame (%d bytes)"
                                                   % (self.address, size))
                body = await asyncio.wait_for(reader.readexactly(size), read_timeout)
            except asyncio.TimeoutError as exc:
                raise errors.WorkerUnreachable("the worker at %s did not answer %s in time"
                                               % (self.address, method)) from exc
            except asyncio.IncompleteReadError as exc:
                if self.tls is not None:  # every call is the first on its connection
                    raise translate(exc, self.address, first_tls_call=True) from exc
                raise errors.WorkerUnreachable("the worker at %s closed the connection during %s"
                                               % (self.address, method)) from exc
            except errors.QlikReloadError:
                raise
            except OSError as exc:  # connect, TLS, socket trouble (ssl.SSLError is an OSError)
                raise translate(exc, self.address, first_tls_call=self.tls is not None) from exc
        finally:
            if writer is not None:
                writer.close()

        protocol = TBinaryProtocol.TBinaryProtocol(TTransport.TMemoryBuffer(body))
        _, message_type, _ = protocol.readMessageBegin()
        try:
            if message_type == TMessageType.EXCEPTION:
                failure = TApplicationException()
                failure.read(protocol)
                raise failure
            result = getattr(ReloadWorker, method + "_result")()
            result.read(protocol)
            return raise_result(result, method)
        except _IDL_EXCEPTIONS as exc:
            raise translate(exc, self.address) from None
        except TApplicationException as exc:
            raise translate(exc, self.address) from exc

    def _ref(self, execution_id: str, site: Optional[str]) -> Any:
        if not execution_id:
            raise errors.InvalidRequest("execution_id is required", field="executionId")
        return ttypes.ExecutionRef(site=site or self.site, executionId=execution_id)

    async def ping(self) -> WorkerInfo:
        info = await self._call("ping", self.read_timeout)
        return WorkerInfo(version=info.version or "", sites=list(info.sites or []))

    async def get(self, execution_id: str, *, site: Optional[str] = None) -> ReloadStatus:
        answer = await self._call("getReload", self.read_timeout, ref=self._ref(execution_id, site))
        return ReloadStatus.from_thrift(answer)

    async def wait_once(self, execution_id: str, *, site: Optional[str] = None,
                        max_wait: Seconds = MAX_WAIT_PER_CALL) -> ReloadStatus:
        wait_s = max(0.0, min(seconds(max_wait) or 0.0, 3600.0))
        answer = await self._call("waitReload", wait_s + WAIT_CALL_MARGIN, ref=self._ref(execution_id, site),
                                  maxWaitMs=int(wait_s * 1000))
        return ReloadStatus.from_thrift(answer)

    async def cancel(self, execution_id: str, *, site: Optional[str] = None,
                     read_timeout: Seconds = CANCEL_READ_TIMEOUT) -> ReloadStatus:
        ref = self._ref(execution_id, site)
        timeout = seconds(read_timeout) or CANCEL_READ_TIMEOUT
        try:
            try:
                answer = await self._call("cancelReload", timeout, ref=ref)
            except errors.WorkerUnreachable:
                answer = await self._call("cancelReload", timeout, ref=ref)  # one fresh attempt
        except (errors.WorkerUnreachable, errors.QlikUnavailable) as exc:
            raise type(exc)("the stop could not be delivered: %s" % exc.message, retryable=True,
                            execution_id=execution_id) from exc
        return ReloadStatus.from_thrift(answer)


__all__ = ["AsyncReloadClient"]
