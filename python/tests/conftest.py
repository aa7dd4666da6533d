"""Where the suite finds the build: the environment tests/python_test.sh sets
(ctest), else the source tree's build/ (``pytest python/tests`` after a build)."""
import os
import pathlib
import subprocess
import sys

import pytest

SRC = pathlib.Path(__file__).resolve().parents[2]
BUILD = SRC / "build"
sys.path.insert(0, str(SRC / "python"))  # the package these tests are for


def _path(var, default):
    return pathlib.Path(os.environ.get(var) or default)


CLI = _path("MAGCLUST_CLI", BUILD / "magclust")
FIXTURES = _path("MAGCLUST_FIXTURES", BUILD / "tests" / "fixtures")
LAYOUT = _path("MAGCLUST_LAYOUT", BUILD / "tests" / "python_layout")
SAMPLE = SRC / "datasets" / "sample.h5"


@pytest.fixture
def work(tmp_path):
    return tmp_path


@pytest.fixture(scope="session")
def cli():
    if not CLI.exists():
        pytest.skip("no magclust CLI at %s (build it, or set MAGCLUST_CLI)" % CLI)

    def run(*args):
        p = subprocess.run([str(CLI)] + [str(a) for a in args], capture_output=True, text=True)
        assert p.returncode == 0, "magclust %s: %s%s" % (" ".join(map(str, args)), p.stdout, p.stderr)
        return p.stdout
    return run


@pytest.fixture(scope="session")
def fx():
    if not (FIXTURES / "tiny.h5").exists():
        pytest.skip("no fixtures at %s (ctest's 'fixtures' test writes them)" % FIXTURES)
    return FIXTURES


def read_csv(path):
    """cluster and role columns of a magclust CSV."""
    import csv
    import numpy as np
    import magclust
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    labels = np.array([int(r["cluster"]) for r in rows], dtype=np.int64)
    roles = np.array([magclust.ROLES.index(r["role"]) for r in rows], dtype=np.uint8)
    return labels, roles


