"""dag.test() smoke test with a real Airflow: skipped where Airflow is not
installed (as on the project's build machine: Debian has no Airflow package
and PyPI is unreachable).

Whoever has Airflow (2.x or 3.x) runs it like this, from a build tree:

    python -m pip install apache-airflow   # into the environment that has python3-thrift or thrift
    cd build && ctest -R py-airflow-dag --output-on-failure

It makes a scratch AIRFLOW_HOME, runs `airflow db migrate`, points the
connection qlik_reload_default at the worker started for the test (in front of
qrs-sim), and runs two DAGs with dag.test(): a successful reload (plain and
deferrable) and a failed one, which must fail without using its retries
(AirflowFailException).
"""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from conftest import HERE

pytestmark = pytest.mark.skipif(importlib.util.find_spec("airflow") is None,
                                reason="Airflow is not installed (see this file's docstring to run it)")


def test_dag_test_smoke(stack, tmp_path):
    ok = stack.add_task(run_ms=500, name="Reload DAG OK")
    ok2 = stack.add_task(run_ms=500, name="Reload DAG OK deferred")
    fail = stack.add_task(outcome="fail", run_ms=300, name="Reload DAG Fail")
    env = {**os.environ,
           "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path / "dags"),
           "AIRFLOW_CONN_QLIK_RELOAD_DEFAULT": json.dumps({"conn_type": "qlik_reload", "host": "127.0.0.1",
                                                           "port": stack.worker_port}),
           "QLIK_SMOKE_OK": ok.name, "QLIK_SMOKE_OK2": ok2.name, "QLIK_SMOKE_FAIL": fail.name,
           "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, os.path.join(HERE, "airflow_dag_smoke.py")], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] == {"reload": "success", "reload_deferred": "success"}
    assert result["fail"] == {"reload": "failed"}
    assert len(stack.starts(ok.id)) == len(stack.starts(ok2.id)) == 1
    assert len(stack.starts(fail.id)) == 1  # AirflowFailException: no retry
