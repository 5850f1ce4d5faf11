"""Mutual TLS from the Python clients (blocking and asyncio).

Two peers, both on the shared test PKI: the real worker with `listen.tls`
(mutual TLS) in front of qrs-sim, and a small Thrift server in this test (the
generated processor over TSSLServerSocket + TFramedTransport) that can be held
to TLS 1.2 or 1.3, to see both ways a refused client certificate shows up.
"""
import asyncio
import os
import ssl
import threading

import pytest

from conftest import PKI

from qlik_reload import ConfigurationError, ReloadClient, TlsConfig, UnknownExecution
from qlik_reload.aio import AsyncReloadClient
from qlik_reload_thrift import ReloadWorker, ttypes
from thrift.protocol import TBinaryProtocol
from thrift.transport import TSSLSocket, TTransport

ROGUE = os.path.join(os.path.dirname(PKI), "rogue")


class Handler(ReloadWorker.Iface):
    def ping(self):
        return ttypes.WorkerInfo(version="tls-stub", sites=["default"])

    def getReload(self, ref):
        raise ttypes.UnknownExecution(message="no such execution: %s" % ref.executionId,
                                      executionId=ref.executionId)


class TlsStubWorker:
    def __init__(self, max_version=ssl.TLSVersion.MAXIMUM_SUPPORTED):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.maximum_version = max_version
        context.load_cert_chain(os.path.join(PKI, "server.pem"), os.path.join(PKI, "server_key.pem"))
        context.load_verify_locations(os.path.join(PKI, "root.pem"))
        context.verify_mode = ssl.CERT_REQUIRED
        self.transport = TSSLSocket.TSSLServerSocket("127.0.0.1", 0, ssl_context=context,
                                                     validate_callback=lambda cert, host: None)
        self.transport.listen()
        self.port = self.transport.handle.getsockname()[1]
        self.processor = ReloadWorker.Processor(Handler())
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client = self.transport.accept()
            except OSError:
                return
            if client is not None:  # None: the handshake failed (refused client)
                threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client):
        transport = TTransport.TFramedTransport(client)
        protocol = TBinaryProtocol.TBinaryProtocol(transport)
        try:
            while True:
                self.processor.process(protocol, protocol)
        except Exception:  # noqa: BLE001 - the client went away
            pass
        finally:
            transport.close()

    def close(self):
        self.transport.close()


@pytest.fixture(scope="module", params=["TLSv1_3", "TLSv1_2"])
def tls_worker(request):
    # TLS 1.2 refuses a client certificate with an alert in the handshake; TLS 1.3
    # after it (the client often sees only a closed connection): both must read
    # as a configuration error.
    worker = TlsStubWorker(getattr(ssl.TLSVersion, request.param))
    yield worker
    worker.close()


def mutual(**overrides):
    values = {"ca_file": os.path.join(PKI, "root.pem"), "cert_file": os.path.join(PKI, "client.pem"),
              "key_file": os.path.join(PKI, "client_key.pem"), "server_name": "qlikserver1"}
    values.update(overrides)
    return TlsConfig(**values)


def test_mutual_tls_call_and_idl_exception(tls_worker):
    with ReloadClient("127.0.0.1", tls_worker.port, tls=mutual(), connect_timeout=5, read_timeout=5) as client:
        assert client.ping().version == "tls-stub"
        with pytest.raises(UnknownExecution):
            client.get("abcdefab-0000-4000-8000-000000000000")
        assert client.ping().sites == ["default"]  # the connection survived the IDL exception


def test_mutual_tls_asyncio(tls_worker):
    client = AsyncReloadClient("127.0.0.1", tls_worker.port, tls=mutual(), connect_timeout=5, read_timeout=5)
    assert asyncio.run(client.ping()).version == "tls-stub"
    with pytest.raises(UnknownExecution):
        asyncio.run(client.get("abcdefab-0000-4000-8000-000000000000"))


@pytest.mark.parametrize("tls, why", [
    (lambda: mutual(ca_file=os.path.join(ROGUE, "root.pem")), "the worker's certificate is not from our CA"),
    (lambda: mutual(server_name="someone-else"), "the worker's certificate names another host"),
    (lambda: mutual(cert_file=os.path.join(ROGUE, "client.pem"), key_file=os.path.join(ROGUE, "client_key.pem")),
     "the worker refuses our certificate"),
    (lambda: TlsConfig(os.path.join(PKI, "root.pem"), server_name="qlikserver1"), "we send no certificate"),
])
def test_tls_trouble_is_a_configuration_error(tls_worker, tls, why):
    client = ReloadClient("127.0.0.1", tls_worker.port, tls=tls(), connect_timeout=5, read_timeout=5)
    with pytest.raises(ConfigurationError) as e:
        client.ping()
    assert e.value.exit_code == 78 and not e.value.retryable, why
    aio = AsyncReloadClient("127.0.0.1", tls_worker.port, tls=tls(), connect_timeout=5, read_timeout=5)
    with pytest.raises(ConfigurationError):
        asyncio.run(aio.ping())


def test_unreadable_tls_files_name_the_file(tmp_path):
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(ConfigurationError) as e:
        ReloadClient("127.0.0.1", 1, tls=TlsConfig(missing)).ping()
    assert missing in str(e.value)
    with pytest.raises(ConfigurationError):
        TlsConfig(os.path.join(PKI, "root.pem"), cert_file=os.path.join(PKI, "client.pem"))


def test_tls_from_the_cli_environment_variables():
    env = {"QLIK_RELOAD_WORKER": "worker.example:9443", "QLIK_RELOAD_TLS_CA": "/ca.pem",
           "QLIK_RELOAD_TLS_CERT": "/c.pem", "QLIK_RELOAD_TLS_KEY": "/k.pem"}
    client = ReloadClient.from_env(env=env)
    assert (client.host, client.port) == ("worker.example", 9443)
    assert client.tls.to_dict() == {"ca_file": "/ca.pem", "cert_file": "/c.pem", "key_file": "/k.pem",
                                    "server_name": None}
    assert ReloadClient.from_env(env={}).tls is None
    assert ReloadClient.from_env(env={}).address == "127.0.0.1:9090"


# ---- the real worker's mutual-TLS endpoint


@pytest.fixture(scope="module")
def tls_worker_port(stack):
    return stack.start_tls_worker()


def test_real_worker_over_mutual_tls(stack, tls_worker_port):
    task = stack.add_task(run_ms=300)
    with ReloadClient("127.0.0.1", tls_worker_port, tls=mutual(), read_timeout=30) as client:
        assert client.ping().sites == ["default"]
        status = client.run(task_id=task.id, poll_interval=0.1)
        assert status.state == "SUCCEEDED"
    aio = AsyncReloadClient("127.0.0.1", tls_worker_port, tls=mutual())
    assert asyncio.run(aio.get(status.execution_id)).state == "SUCCEEDED"
    assert [s["execution_id"] for s in stack.starts(task.id)] == [status.execution_id]


@pytest.mark.parametrize("tls, why", [
    (lambda: TlsConfig(os.path.join(PKI, "root.pem"), server_name="qlikserver1"), "no client certificate"),
    (lambda: mutual(cert_file=os.path.join(ROGUE, "client.pem"), key_file=os.path.join(ROGUE, "client_key.pem")),
     "a client certificate from another CA"),
    (lambda: mutual(ca_file=os.path.join(ROGUE, "root.pem")), "a worker certificate we do not trust"),
])
def test_real_worker_refusals_are_configuration_errors(tls_worker_port, tls, why):
    with pytest.raises(ConfigurationError) as e:
        ReloadClient("127.0.0.1", tls_worker_port, tls=tls(), connect_timeout=5, read_timeout=5).ping()
    assert e.value.exit_code == 78, why
    with pytest.raises(ConfigurationError):
        asyncio.run(AsyncReloadClient("127.0.0.1", tls_worker_port, tls=tls(), connect_timeout=5,
                                      read_timeout=5).ping())


def test_plain_client_against_the_tls_worker_is_not_silently_accepted(tls_worker_port):
    from qlik_reload import QlikReloadError

    with pytest.raises(QlikReloadError):
        ReloadClient("127.0.0.1", tls_worker_port, connect_timeout=5, read_timeout=5).ping()


@pytest.mark.parametrize("closed", [BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset"),
                                    ssl.SSLEOFError(8, "EOF occurred in violation of protocol")])
def test_a_new_tls_connection_closed_before_any_answer_is_a_refused_certificate(closed):
    # TLS 1.3 delivers the worker's refusal after the handshake: the first call
    # meets a reset, an EOF or, when it was still writing, a broken pipe.
    from qlik_reload._thrift import translate
    from qlik_reload.errors import WorkerUnreachable

    assert isinstance(translate(closed, "127.0.0.1:1", first_tls_call=True), ConfigurationError)
    # The same on a connection that already answered is a worker gone away.
    assert isinstance(translate(closed, "127.0.0.1:1", first_tls_call=False), WorkerUnreachable)
