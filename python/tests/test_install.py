"""The package installs offline with pip and finds the library it is told of."""
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

import magclust

from conftest import SAMPLE

PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_pip_install_offline(work):
    for m in ("pip", "setuptools"):  # found, not imported (setuptools patches distutils)
        if importlib.util.find_spec(m) is None:
            pytest.skip("no %s (Debian: python3-%s)" % (m, m))
    src = work / "src"
    shutil.copytree(PKG, src, ignore=shutil.ignore_patterns("tests", "__pycache__", "build",
                                                            "*.egg-info"))
    target = work / "site"
    p = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation",
                        "--no-index", "--no-deps", "--target", str(target), str(src)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    env = dict(os.environ, PYTHONPATH=str(target), MAGCLUST_LIBRARY=magclust.library_path)
    code = ("import magclust, sys; f = magclust.read(sys.argv[1]); "
            "m = magclust.MagClust(algo='linkage').fit(f.X); "
            "print(magclust.__file__, m.n_clusters_)")
    p = subprocess.run([sys.executable, "-c", code, str(SAMPLE)], capture_output=True, text=True,
                       env=env, cwd=str(work))
    assert p.returncode == 0, p.stderr
    where, n = p.stdout.split()
    assert where.startswith(str(target)) and int(n) > 10
    # a wrong MAGCLUST_LIBRARY is reported, not replaced by another library
    env["MAGCLUST_LIBRARY"] = str(work / "nosuch.so")
    p = subprocess.run([sys.executable, "-c", "import magclust"], capture_output=True, text=True,
                       env=env, cwd=str(work))
    assert p.returncode != 0 and "MAGCLUST_LIBRARY" in p.stderr and "nosuch.so" in p.stderr
