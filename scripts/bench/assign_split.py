#!/usr/bin/python3
"""Incremental assignment against clustering everything at once.

For each labelled file and seed: split the faces 80/20 BY PHOTO (a path and
its '#deg' copy stay on the same side, so no photo is seen twice), run
`magclust cluster A --save-model`, then `magclust assign MODEL B --update`,
and score the union of the two results (BCubed, unlabelled faces and
unclustered faces as singletons, as magclust does) against `magclust
cluster` of the whole file. Prints one line per run with the commands, then
the mean difference.

usage: scripts/bench/assign_split.py [--magclust BIN] [--seeds 1,2,3,4,5]
                                     [--work DIR] FILE[:QUALITY_KEY] ...
Needs h5py and numpy (scripts/install-deps.sh --bench).
"""
import argparse
import csv
import os
import shlex
import subprocess
import sys
from collections import Counter

import h5py
import numpy as np


def run(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (res.returncode, " ".join(map(shlex.quote, cmd)), res.stderr))
    return res.stdout


def read_clusters(path):
    with open(path, newline="") as f:
        return np.array([int(r["cluster"]) for r in csv.DictReader(f)], dtype=np.int64)


def bcubed_f(truth, pred):
    n = len(truth)
    t = truth.astype(np.int64).copy()
    p = pred.astype(np.int64).copy()
    t[t < 0] = -(10 ** 12) - np.arange((t < 0).sum())
    p[p < 0] = -(10 ** 12) - np.arange((p < 0).sum())
    pair, ct, cp = Counter(zip(t.tolist(), p.tolist())), Counter(t.tolist()), Counter(p.tolist())
    prec = sum(c * c / cp[b] for (a, b), c in pair.items()) / n
    rec = sum(c * c / ct[a] for (a, b), c in pair.items()) / n
    return 2 * prec * rec / (prec + rec)


def split(src, a_out, b_out, seed):
    """80/20 by photo: the photo of a path is the part before any '#'."""
    with h5py.File(src, "r") as f:
        n = f["embeddings"].shape[0]
        if "paths" in f:
            paths = [p.decode() if isinstance(p, bytes) else str(p) for p in f["paths"][:]]
        else:
            paths = [str(i) for i in range(n)]
        photo = [p.split("#")[0] for p in paths]
        ids = {p: i for i, p in enumerate(sorted(set(photo)))}
        rng = np.random.default_rng(seed)
        test = set(rng.choice(len(ids), size=len(ids) // 5, replace=False).tolist())
        in_b = np.array([ids[p] in test for p in photo])
        for out, mask in ((a_out, ~in_b), (b_out, in_b)):
            idx = np.nonzero(mask)[0]
            with h5py.File(out, "w") as g:
                for k in f.keys():
                    d = f[k]
                    if isinstance(d, h5py.Dataset) and d.shape and d.shape[0] == n:
                        g[k] = d[:][idx]
        return int((~in_b).sum()), int(in_b.sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", help="labelled HDF5 files, optionally FILE:QUALITY_KEY")
    ap.add_argument("--magclust", default=os.path.join(os.path.dirname(__file__), "..", "..", "build", "magclust"))
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--work", default="/tmp/magclust-assign-split")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    mc = os.path.abspath(a.magclust)
    print("command: %s" % " ".join(map(shlex.quote, sys.argv)))
    for spec in a.files:
        path, _, qkey = spec.partition(":")
        qopt = ["--quality-key", qkey] if qkey else []
        name = os.path.splitext(os.path.basename(path))[0] + (":" + qkey if qkey else "")
        with h5py.File(path, "r") as f:
            truth_all = f["labels"][:]
        all_csv = os.path.join(a.work, "all.csv")
        cmd_all = [mc, "cluster", path, "-o", all_csv, "-q"] + qopt
        run(cmd_all)
        f_all = bcubed_f(truth_all, read_clusters(all_csv))
        print("\n%s: all at once F %.4f  (`%s`)" % (name, f_all, " ".join(map(shlex.quote, cmd_all))))
        diffs = []
        for seed in [int(s) for s in a.seeds.split(",")]:
            fa, fb = os.path.join(a.work, "a.h5"), os.path.join(a.work, "b.h5")
            na, nb = split(path, fa, fb, seed)
            model, model2 = os.path.join(a.work, "a.model.h5"), os.path.join(a.work, "a2.model.h5")
            ca, cb = os.path.join(a.work, "a.csv"), os.path.join(a.work, "b.csv")
            for p in (model, model2):
                if os.path.exists(p):
                    os.remove(p)
            c1 = [mc, "cluster", fa, "-o", ca, "--save-model", model, "-q"] + qopt
            c2 = [mc, "assign", model, fb, "-o", cb, "--update", "--model-out", model2, "-q"]
            run(c1)
            run(c2)
            with h5py.File(fa, "r") as f:
                ta = f["labels"][:]
            with h5py.File(fb, "r") as f:
                tb = f["labels"][:]
            pa, pb = read_clusters(ca), read_clusters(cb)
            f_a = bcubed_f(ta, pa)
            f_ab = bcubed_f(np.concatenate([ta, tb]), np.concatenate([pa, pb]))
            diffs.append(f_ab - f_all)
            print("  seed %d: %d + %d faces; F of the 80%% alone %.4f; 80%% + assigned 20%% %.4f; "
                  "difference %+.4f" % (seed, na, nb, f_a, f_ab, f_ab - f_all))
        print("  mean difference %+.4f, worst %+.4f over %d splits" % (np.mean(diffs), min(diffs), len(diffs)))
        print("  per split: `%s` then `%s`" % (" ".join(c1[:2] + ["A.h5"] + c1[3:]).replace(mc, "magclust"),
                                              " ".join(c2).replace(mc, "magclust")))


if __name__ == "__main__":
    main()
