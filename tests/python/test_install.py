"""`pip install plugin/python` works offline with Debian's packages only, the
build generates the Thrift bindings from the IDL (nothing generated is in the
source tree), and the installed package, alone on its path, talks to the real
worker."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import PLUGIN_PYTHON, SOURCE_DIR

PYTHON = "/usr/bin/python3"

SMOKE = r"""
import json, sys
import qlik_reload, qlik_reload_thrift
from qlik_reload import ReloadClient
client = ReloadClient.from_env()
info = client.ping()
status = client.run(task_id=sys.argv[1], poll_interval=0.1)
print(json.dumps({"qlik_reload": qlik_reload.__file__, "bindings": qlik_reload_thrift.__file__,
                  "engines_imported": sorted(m for m in sys.modules if m.split(".")[0] in ("airflow", "dagster",
                                                                                             "prefect")),
                  "sites": info.sites, "reload": status.to_dict()}))
"""


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory):
    """The package and the IDL where a fresh clone has them, in a scratch folder
    (an in-tree build would write build/ and *.egg-info into the repository)."""
    root = tmp_path_factory.mktemp("clone")
    shutil.copytree(PLUGIN_PYTHON, root / "plugin" / "python",
                    ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "qlik_reload_thrift"))
    os.makedirs(root / "idl")
    shutil.copy2(os.path.join(SOURCE_DIR, "idl", "reload_worker.thrift"), root / "idl")
    return root


def pip(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")}
    env.update(PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([PYTHON, "-m", "pip", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=180)


def smoke(python, stack, task, extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPATH", "QLIK_RELOAD_"))}
    env.update(extra_env, QLIK_RELOAD_WORKER=stack.worker_address, PYTHONDONTWRITEBYTECODE="1")
    completed = subprocess.run([python, "-s", "-c", SMOKE, task.id], cwd="/", env=env, capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_pip_install_target_generates_bindings_and_works(stack, source_copy, tmp_path):
    site = tmp_path / "site"
    done = pip("install", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(site),
               str(source_copy / "plugin" / "python"), cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (site / "qlik_reload_thrift" / "ReloadWorker.py").is_file()
    assert (site / "qlik_reload_thrift" / "ttypes.py").is_file()
    assert not (site / "qlik_reload_thrift" / "ReloadWorker-remote").exists()
    assert (site / "qlik_reload" / "airflow" / "operators.py").is_file()
    # generated at build time, never in the sources
    assert not (source_copy / "plugin" / "python" / "qlik_reload_thrift").exists()

    task = stack.add_task(run_ms=300)
    out = smoke(PYTHON, stack, task, {"PYTHONPATH": str(site)})
    assert out["qlik_reload"].startswith(str(site)) and out["bindings"].startswith(str(site))
    assert out["engines_imported"] == []
    assert out["sites"] == ["default"]
    assert out["reload"]["state"] == "SUCCEEDED" and out["reload"]["exit_code"] == 0
    assert [s["execution_id"] for s in stack.starts(task.id)] == [out["reload"]["execution_id"]]


def test_pip_install_in_a_venv_resolves_thrift_from_debian(stack, source_copy, tmp_path):
    """Without --no-deps: the one dependency, thrift, is Debian's python3-thrift."""
    venv = tmp_path / "venv"
    made = subprocess.run([PYTHON, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    done = pip("--python", python, "install", "--no-build-isolation", "--no-index",
               str(source_copy / "plugin" / "python"), cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "thrift" in (done.stdout + done.stderr).lower()  # the requirement was checked, and satisfied
    task = stack.add_task(run_ms=300)
    out = smoke(python, stack, task, {})
    assert out["qlik_reload"].startswith(str(venv))
    assert out["reload"]["state"] == "SUCCEEDED"
    shown = subprocess.run([python, "-m", "pip", "show", "qlik-reload"], capture_output=True, text=True,
                           env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}, timeout=60)
    assert "Requires: thrift" in shown.stdout, shown.stdout + shown.stderr


def test_build_without_the_compiler_says_so(source_copy, tmp_path):
    env_path = "/nonexistent"
    done = subprocess.run([PYTHON, "setup.py", "-q", "build", "--build-base", str(tmp_path / "b")],
                          cwd=str(source_copy / "plugin" / "python"), capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PATH": env_path, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode != 0
    assert "thrift-compiler" in done.stderr + done.stdout
    shutil.rmtree(source_copy / "plugin" / "python" / "qlik_reload.egg-info", ignore_errors=True)
