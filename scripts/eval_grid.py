#!/usr/bin/env python3
"""Run `magclust cluster` over a parameter grid on a labelled file and report
the BCubed F of the defaults, of the best setting, and of plain DBSCAN (both
quality gates off) over the same eps/min-samples grid.

Usage:
  scripts/eval_grid.py FILE.h5 [--magclust build/magclust] [--eps 0.4,0.45,...]
                       [--min-samples 2,3,4,5,6] [--core p10,p20,...]
                       [--noise off,p5,p10] [--jobs 2] [--cluster-args "--quality-key det_score"]

The best setting is chosen with the labels (an oracle), exactly as the peers'
figures it is compared with; the defaults are not. Plain Python 3, no packages.
"""
import argparse
import itertools
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

F_RE = re.compile(r"BCubed\s+P ([\d.]+)\s+R ([\d.]+)\s+F ([\d.]+)")


def run(mc, path, extra, params):
    args = [mc, "cluster", path, "--threads", "1", *extra]
    for k, v in params.items():
        args += [f"--{k}", str(v)]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"eval_grid: {' '.join(args)} failed: {out.stderr.strip()}")
    m = F_RE.search(out.stdout)
    if not m:
        sys.exit(f"eval_grid: {path} has no labels (no BCubed in the summary)")
    return float(m.group(3))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--magclust", default="build/magclust")
    ap.add_argument("--eps", default="0.3,0.35,0.4,0.45,0.5,0.55,0.6")
    ap.add_argument("--min-samples", default="2,3,4,5,6")
    ap.add_argument("--core", default="off,p10,p20,p30,p40,p50")
    ap.add_argument("--noise", default="off,p5,p10")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cluster-args", default="", help="extra arguments for every magclust cluster run")
    a = ap.parse_args()
    extra = a.cluster_args.split()
    grid = [dict(zip(("eps", "min-samples", "core-quality", "noise-quality"), g))
            for g in itertools.product(a.eps.split(","), a.min_samples.split(","),
                                       a.core.split(","), a.noise.split(","))]
    with ThreadPoolExecutor(a.jobs) as ex:
        scores = list(ex.map(lambda p: run(a.magclust, a.file, extra, p), grid))
    default = run(a.magclust, a.file, extra, {})
    best = max(range(len(grid)), key=lambda i: scores[i])
    plain = [i for i, p in enumerate(grid) if p["core-quality"] == "off" and p["noise-quality"] == "off"]
    pbest = max(plain, key=lambda i: scores[i]) if plain else None
    fmt = lambda p: " ".join(f"--{k} {v}" for k, v in p.items())
    print(f"command: {' '.join(sys.argv)}")
    print(f"grid: {len(grid)} settings")
    print(f"defaults:            F {default:.4f}")
    print(f"best (oracle):       F {scores[best]:.4f}  {fmt(grid[best])}")
    if pbest is not None:
        print(f"plain DBSCAN best:   F {scores[pbest]:.4f}  {fmt(grid[pbest])}")


if __name__ == "__main__":
    main()
