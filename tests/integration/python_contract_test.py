#!/usr/bin/python3
"""The worker's contract is language-neutral: a Python client, generated from
idl/reload_worker.thrift with Debian's python3-thrift, drives the real worker
(in front of qrs-sim over mutual TLS) through every method and exception.

Run by CTest with /usr/bin/python3 (the pyenv python3 on PATH cannot see
Debian's python3-thrift).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

ARGS = None

TASK_OK = "11111111-1111-4111-8111-111111111111"
TASK_FAIL = "22222222-2222-4222-8222-222222222222"
TASK_DISABLED = "33333333-3333-4333-8333-333333333333"
TASK_LONG = "44444444-4444-4444-8444-444444444444"


def wait_for_file(path, process, timeout=30.0):
    """Readiness: the program writes its port file once it listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return int(f.read().strip())
        if process.poll() is not None:
            raise RuntimeError("process exited early with %s" % process.returncode)
        time.sleep(0.02)
    raise RuntimeError("timed out waiting for %s" % path)


class WorkerContractTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, ARGS.gen_py)
        global rpc, ttypes, TSocket, TTransport, TBinaryProtocol
        from qlik_reload_thrift import ReloadWorker as rpc
        from qlik_reload_thrift import ttypes
        from thrift.transport import TSocket, TTransport
        from thrift.protocol import TBinaryProtocol

        cls.dir = os.path.join(ARGS.tmp, "python-contract-%d" % os.getpid())
        shutil.rmtree(cls.dir, ignore_errors=True)
        os.makedirs(cls.dir)
        sim_port_file = os.path.join(cls.dir, "sim.port")
        cls.sim = subprocess.Popen(
            [ARGS.qrs_sim, "--scenario", ARGS.scenario, "--pki", ARGS.pki, "--host-name", "qlikserver1",
             "--port", "0", "--port-file", sim_port_file],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(cls.dir, "sim.err"), "w"))
        sim_port = wait_for_file(sim_port_file, cls.sim)
        config = {
            "listen": {"host": "127.0.0.1", "port": 0},
            "state": {"path": os.path.join(cls.dir, "journal.db")},
            "sites": {"default": {
                "url": "https://127.0.0.1:%d" % sim_port,
                "auth": {"type": "certificate", "client_cert": os.path.join(ARGS.pki, "client.pem"),
                         "client_key": os.path.join(ARGS.pki, "client_key.pem"),
                         "user_directory": "INTERNAL", "user_id": "sa_scheduler"},
                "tls": {"ca_file": os.path.join(ARGS.pki, "root.pem"), "verify": "full",
                        "server_name": "qlikserver1"},
                "poll": {"initial_ms": 50, "max_ms": 250},
            }},
        }
        config_path = os.path.join(cls.dir, "worker.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        worker_port_file = os.path.join(cls.dir, "worker.port")
        cls.worker = subprocess.Popen(
            [ARGS.worker, "--config", config_path, "--port-file", worker_port_file],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(cls.dir, "worker.err"), "w"))
        cls.port = wait_for_file(worker_port_file, cls.worker)

    @classmethod
    def tearDownClass(cls):
        for p in (cls.worker, cls.sim):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()

    def client(self):
        socket = TSocket.TSocket("127.0.0.1", self.port)
        socket.setTimeout(120000)
        transport = TTransport.TFramedTransport(socket)
        transport.open()
        self.addCleanup(transport.close)
        return rpc.Client(TBinaryProtocol.TBinaryProtocol(transport))

    def test_ping(self):
        info = self.client().ping()
        self.assertEqual(info.sites, ["default"])
        self.assertTrue(info.version)

    def test_run_success(self):
        status = self.client().runReload(ttypes.ReloadRequest(taskId=TASK_OK, labels={"dag": "py"}))
        self.assertEqual(status.state, ttypes.ReloadState.SUCCEEDED)
        self.assertTrue(status.terminal)
        self.assertEqual(status.qlikStatus, "FinishedSuccess")
        self.assertEqual(len(status.attempts), 1)
        self.assertGreater(status.finishedAtMs, status.startedAtMs)

    def test_run_failure_has_log_tail(self):
        status = self.client().runReload(ttypes.ReloadRequest(taskName="Reload Finance"))
        self.assertEqual(status.state, ttypes.ReloadState.FAILED)
        self.assertIn("Field 'Amount' not found", status.scriptLogTail)

    def test_not_started_is_an_answer(self):
        status = self.client().startReload(ttypes.ReloadRequest(taskId=TASK_DISABLED))
        self.assertEqual(status.state, ttypes.ReloadState.NOT_STARTED)
        self.assertEqual(status.executionId, "")

    def test_start_wait_cancel(self):
        c = self.client()
        started = c.startReload(ttypes.ReloadRequest(taskId=TASK_LONG))
        ref = ttypes.ExecutionRef(site="default", executionId=started.executionId)
        waited = c.waitReload(ref, 300)
        self.assertFalse(waited.terminal)
        self.assertEqual(c.getReload(ref).executionId, started.executionId)
        cancelled = c.cancelReload(ref)
        self.assertEqual(cancelled.state, ttypes.ReloadState.ABORTED)

    def test_typed_exceptions(self):
        c = self.client()
        with self.assertRaises(ttypes.InvalidRequest) as e:
            c.startReload(ttypes.ReloadRequest(taskId="not-a-guid"))
        self.assertEqual(e.exception.field, "taskId")
        with self.assertRaises(ttypes.UnknownSite):
            c.getReload(ttypes.ExecutionRef(site="emea", executionId=TASK_OK))
        with self.assertRaises(ttypes.UnknownExecution):
            c.getReload(ttypes.ExecutionRef(site="default", executionId="abcdefab-0000-4000-8000-000000000000"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--gen-py", required=True)
    parser.add_argument("--qrs-sim", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--pki", required=True)
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--tmp", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
