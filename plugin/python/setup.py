"""Build step of the qlik-reload Python package.

The Thrift bindings (package ``qlik_reload_thrift``) are generated from the
worker's IDL at build time and are never committed. ``build_py`` runs the
``thrift`` compiler (Debian: thrift-compiler) on idl/reload_worker.thrift and
puts the result next to ``qlik_reload`` in the build tree, so that wheels and
``pip install`` carry it.

Where the IDL is looked for, first match wins:
  1. $QLIK_RELOAD_IDL
  2. idl/reload_worker.thrift next to this file (inside an sdist)
  3. ../../idl/reload_worker.thrift (this file's place in the repository)
The compiler is $THRIFT, else ``thrift`` on PATH.

Offline install with Debian's packages only:
  /usr/bin/python3 -m pip install --no-build-isolation plugin/python
"""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))
IDL_NAME = "reload_worker.thrift"
GENERATED_PACKAGE = "qlik_reload_thrift"


def find_idl():
    candidates = []
    if os.environ.get("QLIK_RELOAD_IDL"):
        candidates.append(os.environ["QLIK_RELOAD_IDL"])
    candidates.append(os.path.join(HERE, "idl", IDL_NAME))
    candidates.append(os.path.join(HERE, os.pardir, os.pardir, "idl", IDL_NAME))
    for path in candidates:
        if os.path.isfile(path):
            return os.path.abspath(path)
    raise SystemExit("qlik-reload: cannot find the worker's IDL (%s); looked at: %s. "
                     "Set QLIK_RELOAD_IDL to its path." % (IDL_NAME, ", ".join(candidates)))


def find_thrift():
    compiler = os.environ.get("THRIFT") or shutil.which("thrift")
    if not compiler:
        raise SystemExit("qlik-reload: the Thrift compiler is needed to build this package "
                         "(Debian: apt-get install thrift-compiler), or set THRIFT to its path.")
    return compiler


class BuildWithThrift(build_py):
    """build_py, then generate the Thrift bindings into the build tree."""

    def run(self):
        super().run()
        if self.dry_run:
            return
        idl = find_idl()
        out = os.path.abspath(self.build_lib)
        target = os.path.join(out, GENERATED_PACKAGE)
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(out, exist_ok=True)
        self.announce("generating %s from %s" % (GENERATED_PACKAGE, idl), level=2)
        subprocess.run([find_thrift(), "--gen", "py", "-out", out, idl], check=True)
        # The generator also writes a command-line sample; it is not part of the API.
        remote = os.path.join(target, "ReloadWorker-remote")
        if os.path.exists(remote):
            os.remove(remote)

    def get_outputs(self, include_bytecode=True):
        outputs = list(super().get_outputs(include_bytecode))
        target = os.path.join(self.build_lib, GENERATED_PACKAGE)
        for name in ("__init__.py", "constants.py", "ttypes.py", "ReloadWorker.py"):
            outputs.append(os.path.join(target, name))
        return outputs


class SdistWithIdl(sdist):
    """An sdist carries the IDL, so that it builds away from the repository."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        os.makedirs(os.path.join(base_dir, "idl"), exist_ok=True)
        shutil.copy2(find_idl(), os.path.join(base_dir, "idl", IDL_NAME))


setup(cmdclass={"build_py": BuildWithThrift, "sdist": SdistWithIdl})
