#!/usr/bin/python3
"""dag.test() of QlikSenseReloadOperator with a real Airflow (2.x or 3.x).

Run by test_airflow_dag.py where Airflow is installed; prints one JSON line:
{"task_id": state, ...} per DAG. Needs, in the environment: AIRFLOW_HOME (a
scratch folder), AIRFLOW_CONN_QLIK_RELOAD_DEFAULT (the worker), and the task
names QLIK_SMOKE_OK, QLIK_SMOKE_OK2, QLIK_SMOKE_FAIL.

usage: airflow_dag_smoke.py
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("QLIK_TEST_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.environ.get("QLIK_TEST_GEN_PY") or os.path.join(SOURCE_DIR, "build", "gen-py"),
                os.path.join(SOURCE_DIR, "plugin", "python")]


def migrate():
    for command in (["db", "migrate"], ["db", "init"]):  # migrate since 2.7; init before
        done = subprocess.run([sys.executable, "-m", "airflow", *command], capture_output=True, text=True)
        if done.returncode == 0:
            return
    raise SystemExit("airflow db migrate failed:\n" + done.stdout + done.stderr)


def states(dag_run):
    return {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dag_run.get_task_instances()}


def main():
    migrate()
    import pendulum

    try:
        from airflow.sdk import DAG
    except ImportError:
        from airflow import DAG
    from qlik_reload.airflow import QlikSenseReloadOperator

    start = pendulum.datetime(2026, 1, 1, tz="UTC")
    with DAG(dag_id="qlik_reload_smoke_ok", schedule=None, start_date=start, catchup=False) as ok_dag:
        QlikSenseReloadOperator(task_id="reload", task_name=os.environ["QLIK_SMOKE_OK"], poll_interval=1,
                                deferrable=False)
        QlikSenseReloadOperator(task_id="reload_deferred", task_name=os.environ["QLIK_SMOKE_OK2"], poll_interval=1,
                                deferrable=True)
    with DAG(dag_id="qlik_reload_smoke_fail", schedule=None, start_date=start, catchup=False) as fail_dag:
        QlikSenseReloadOperator(task_id="reload", task_name=os.environ["QLIK_SMOKE_FAIL"], poll_interval=1,
                                retries=2, deferrable=False)
    print(json.dumps({"ok": states(ok_dag.test()), "fail": states(fail_dag.test())}))


if __name__ == "__main__":
    main()
