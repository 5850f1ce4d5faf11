#!/usr/bin/python3
"""One try of QlikSenseReloadOperator in a process of its own, the way an
Airflow worker runs it (against the test stand-in): a SIGTERM handler that
calls the task's ``on_kill`` and then fails the try, as Airflow's task runner
does. Used by the tests that kill a try (SIGTERM -> on_kill) or lose it
(SIGKILL -> the next try must re-attach).

Prints one JSON line per XCom push ({"xcom": key, "value": ...}), then
{"result": ...} or {"exception": name, "message": ...}.

usage: airflow_task_process.py WORKER_ADDRESS QLIK_TASK_ID DAG_ID RUN_ID TRY_NUMBER [--timeout S]
"""
import json
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("QLIK_TEST_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
GEN_PY = os.environ.get("QLIK_TEST_GEN_PY") or os.path.join(SOURCE_DIR, "build", "gen-py")
sys.path[:0] = [GEN_PY, os.path.join(SOURCE_DIR, "plugin", "python"), HERE]

import airflow_standin  # noqa: E402


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    worker, qlik_task, dag_id, run_id, try_number = sys.argv[1:6]
    timeout = float(sys.argv[sys.argv.index("--timeout") + 1]) if "--timeout" in sys.argv else None
    standin = airflow_standin.install("3")
    host, port = worker.rsplit(":", 1)
    standin.add_connection(host=host, port=int(port))
    from qlik_reload.airflow import QlikSenseReloadOperator

    operator = QlikSenseReloadOperator(task_id="reload", task_id_qlik=qlik_task, timeout=timeout, poll_interval=5,
                                       deferrable=False)
    ti = standin.TaskInstance(dag_id=dag_id, task_id="reload", run_id=run_id, try_number=int(try_number),
                              on_xcom_push=lambda key, value: emit({"xcom": key, "value": value}))

    def on_sigterm(signum, frame):
        # What Airflow's task runner does on SIGTERM: the task's on_kill, then fail the try.
        operator.on_kill()
        raise standin.AirflowException("Task received SIGTERM signal")

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        result = operator.execute(ti.context())
    except Exception as exc:  # noqa: BLE001 - reported to the test
        emit({"exception": type(exc).__name__, "message": str(exc)})
        return 1
    emit({"result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
