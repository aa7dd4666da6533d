"""examples/python/cluster_sample.py runs, prints the BCubed F of the default
clustering and writes a PNG."""
import re
import subprocess
import sys

import pytest

import magclust

from conftest import SAMPLE, SRC


def test_example(work):
    pytest.importorskip("matplotlib", reason="Debian: python3-matplotlib")
    png = work / "mag.png"
    p = subprocess.run([sys.executable, str(SRC / "examples" / "python" / "cluster_sample.py"),
                        str(SAMPLE), "-o", str(png)], capture_output=True, text=True,
                       env={"MAGCLUST_LIBRARY": magclust.library_path, "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    f = magclust.read(SAMPLE)
    want = magclust.metrics.bcubed(f.labels, magclust.MagClust().fit(f.X).labels_)[2]
    got = float(re.search(r"BCubed precision \S+ recall \S+ F (\S+)", p.stdout).group(1))
    assert got == pytest.approx(want, abs=5e-5)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
