#!/usr/bin/python3
"""How long `magclust assign` takes against a large model, and against what.

Generates a synthetic collection (`magclust synth`, default about one million
faces in 128-d), holds out --new faces at random, clusters the rest with
`magclust cluster --save-model` (the model: every face, its cluster and
role), then times `magclust assign MODEL NEW.h5` (without and with
--update). Peers measured in the same run:
  - re-clustering the whole collection with the new faces (what a user does
    without a model; the wall time of that `magclust cluster` run);
  - FAISS IndexFlatIP: the exact k-NN search of the new faces against the
    collection alone (the part of any assignment that grows with the model),
    the index built from the same unit vectors.
Prints every command and its wall time, the phases `assign` reports, and
the BCubed F of the new faces against their labels.

usage: scripts/bench/assign_scale.py [--magclust BIN] [--ids 189000]
                                     [--dim 128] [--new 1000] [--work DIR]
                                     [--nprobe 32]
Needs h5py, numpy and faiss (scripts/bench/install-bench-deps.sh).
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import bcubed_f  # noqa: E402


def run(cmd):
    print("$ " + " ".join(map(shlex.quote, cmd)), flush=True)
    t0 = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if res.returncode != 0:
        sys.exit("failed (%d): %s" % (res.returncode, res.stderr))
    return res.stdout, wall


def write_subset(src, rows, out):
    with h5py.File(src, "r") as f, h5py.File(out, "w") as g:
        for key in ("embeddings", "labels", "paths"):
            g.create_dataset(key, data=f[key][:][rows])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--magclust", default=os.path.join(here, "..", "..", "build", "magclust"))
    ap.add_argument("--ids", type=int, default=189000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--new", type=int, default=1000)
    ap.add_argument("--nprobe", type=int, default=32)
    ap.add_argument("--work", default="/tmp/magclust-assign-scale")
    a = ap.parse_args()
    mc = os.path.abspath(a.magclust)
    os.makedirs(a.work, exist_ok=True)
    w = lambda name: os.path.join(a.work, name)  # noqa: E731

    full = w("s%d_d%d.h5" % (a.ids, a.dim))
    if not os.path.exists(full):
        run([mc, "synth", "-o", full, "--ids", str(a.ids), "--dim", str(a.dim), "--seed", str(a.seed)])
    with h5py.File(full, "r") as f:
        n = f["embeddings"].shape[0]
    rng = np.random.default_rng(a.seed)
    new_rows = np.sort(rng.choice(n, a.new, replace=False))
    keep = np.ones(n, bool)
    keep[new_rows] = False
    base_rows = np.flatnonzero(keep)
    write_subset(full, base_rows, w("base.h5"))
    write_subset(full, new_rows, w("new.h5"))
    print("collection %d faces x %d; model from %d, %d new faces" % (n, a.dim, len(base_rows), a.new))

    _, t_model = run([mc, "cluster", w("base.h5"), "-q", "-o", w("base.csv"),
                      "--nprobe", str(a.nprobe), "--save-model", w("model.h5")])
    out, t_assign = run([mc, "assign", w("model.h5"), w("new.h5"), "-o", w("new.csv")])
    print(out, end="")
    m = re.search(r"load ([\d.]+) s\s+assign ([\d.]+) s", out)
    t_load, t_match = (float(m.group(1)), float(m.group(2))) if m else (float("nan"),) * 2
    out_u, t_update = run([mc, "assign", w("model.h5"), w("new.h5"), "-o", w("new_upd.csv"),
                           "--update", "--model-out", w("model_upd.h5")])
    print(out_u, end="")
    _, t_full = run([mc, "cluster", full, "-q", "-o", w("full.csv"), "--nprobe", str(a.nprobe)])

    # FAISS: exact search of the new faces against the collection alone
    import faiss
    with h5py.File(w("base.h5"), "r") as f:
        xb = f["embeddings"][:].astype(np.float32)
    with h5py.File(w("new.h5"), "r") as f:
        xq = f["embeddings"][:].astype(np.float32)
        labels = f["labels"][:]
    xb /= np.linalg.norm(xb, axis=1, keepdims=True)
    xq /= np.linalg.norm(xq, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(a.dim)
    index.add(xb)
    t0 = time.monotonic()
    index.search(xq, 30)
    t_faiss = time.monotonic() - t0

    import csv
    with open(w("new.csv"), newline="") as f:
        pred = np.array([int(r["cluster"]) for r in csv.DictReader(f)])
    print()
    print("assign %d new faces to a model of %d faces (%d-d), %d cores:" % (a.new, len(base_rows), a.dim,
                                                                          os.cpu_count()))
    print("  magclust assign            %.2f s wall (load %.2f s, assign %.2f s); BCubed F of the new faces %.3f"
          % (t_assign, t_load, t_match, bcubed_f(pred, labels)))
    print("  magclust assign --update   %.2f s wall (writes the %d-face model)" % (t_update, n))
    print("  peer: FAISS IndexFlatIP    %.2f s for the 30-NN search alone (index in memory)" % t_faiss)
    print("  peer: re-cluster all       %.2f s wall (magclust cluster of all %d faces)" % (t_full, n))
    print("  (building the model: magclust cluster --save-model of %d faces, %.2f s)" % (len(base_rows), t_model))
    print("command: " + " ".join(map(shlex.quote, [sys.argv[0]] + sys.argv[1:])))


if __name__ == "__main__":
    main()
