#!/usr/bin/env python3
"""The cost of the Python call beside the CLI, in one run.

    /usr/bin/python3 scripts/bench/python_overhead.py FACES.h5 [--magclust build/magclust]
        [--threads N] [--repeat R]

Times `magclust cluster FACES.h5 -q -o OUT.csv` (a process: load, recipe,
CSV write) and, in this process, `magclust.read()` then `MagClust().fit(X)`,
R times each alternately (the best of each is reported), and checks the two
give the same labels. The overhead of the Python call is fit()'s wall time
minus the library's work in it: mc_embeddings_new splitting the rows into
directions and norms (calibration_["t_load"], which the CLI's HDF5 reader
does too) and the mc_cluster_run call (calibration_["t_run"]). What is left
is Python's own: the parameters, the ctypes calls, the results copied back.
Make a 20k-face file with:
    build/magclust synth --ids 2000 --min-size 9 -o faces20k.h5   # 19,601 faces
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

import numpy as np  # noqa: E402

import magclust  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("--magclust", default=os.path.join(ROOT, "build", "magclust"))
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    out = os.path.join(tmp, "cli.csv")
    cli, read, fit, lib, split = [], [], [], [], []
    for _ in range(a.repeat):
        if os.path.exists(out):
            os.remove(out)
        t0 = time.perf_counter()
        subprocess.run([a.magclust, "cluster", a.input, "-q", "-o", out,
                        "--threads", str(a.threads)], check=True)
        cli.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        faces = magclust.read(a.input)
        t1 = time.perf_counter()
        mc = magclust.MagClust(threads=a.threads, progress=False).fit(faces.X)
        t2 = time.perf_counter()
        read.append(t1 - t0)
        fit.append(t2 - t1)
        lib.append(mc.calibration_["t_run"])
        split.append(mc.calibration_["t_load"])
    with open(out, newline="") as f:
        want = np.array([int(r["cluster"]) for r in csv.DictReader(f)])
    same = np.array_equal(want, mc.labels_)
    over = [f - l - s for f, l, s in zip(fit, lib, split)]
    n, d = faces.X.shape
    print("faces %d x %d, threads %s, best of %d" % (n, d, a.threads or "all", a.repeat))
    print("  magclust cluster (process, CSV written)  %.3f s" % min(cli))
    print("  python read()                            %.3f s" % min(read))
    print("  python fit()                             %.3f s" % min(fit))
    print("  python read() + fit()                    %.3f s" % min(r + f for r, f in zip(read, fit)))
    print("  mc_embeddings_new inside fit()           %.3f s" % min(split))
    print("  mc_cluster_run inside fit()              %.3f s" % min(lib))
    print("  overhead of the Python call              %.4f s (%.3f%% of fit)" % (
        min(over), 100 * min(over) / min(fit)))
    print("  labels identical to the CLI's            %s" % ("yes" if same else "NO"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
