#!/usr/bin/env python3
"""Pair statistics of a labelled embeddings file (magclust HDF5 schema).

Usage: scripts/pair_stats.py FILE.h5 [FILE.h5 ...]

For pairs of faces both in the top (or both in the bottom) magnitude quartile,
prints the cosine similarity of same-identity and different-identity pairs,
and, per face, the similarity of its most similar same- and other-identity
face. Used to fit the `magclust synth` model to real data (README, "The
synthetic model"). Needs numpy and h5py (Debian: python3-numpy python3-h5py).
O(N^2) memory: meant for files of up to about 10,000 faces.
"""
import sys

import h5py
import numpy as np


def describe(a):
    q = np.quantile(a, [0.05, 0.5, 0.99, 0.999])
    return f"mean {a.mean():.3f}  p5 {q[0]:.3f}  p50 {q[1]:.3f}  p99 {q[2]:.3f}  p99.9 {q[3]:.3f}"


def main(paths):
    for path in paths:
        with h5py.File(path, "r") as h:
            x = h["embeddings"][:].astype(np.float64)
            y = h["labels"][:]
        mag = np.linalg.norm(x, axis=1)
        u = x / mag[:, None]
        s = u @ u.T
        n = len(y)
        q25, q75 = np.quantile(mag, [0.25, 0.75])
        top, bot = mag >= q75, mag <= q25
        same = (y[:, None] == y[None, :]) & (y[:, None] >= 0)
        iu = np.triu_indices(n, 1)
        sv, same_v = s[iu], same[iu]
        tt = (top[:, None] & top[None, :])[iu]
        bb = (bot[:, None] & bot[None, :])[iu]
        print(f"{path}: {n} faces")
        for name, mask in (("same identity, top quartile   ", same_v & tt),
                           ("same identity, bottom quartile", same_v & bb),
                           ("diff identity, top quartile   ", ~same_v & tt),
                           ("diff identity, bottom quartile", ~same_v & bb)):
            print(f"  {name}  {describe(sv[mask])}")
        np.fill_diagonal(s, -np.inf)
        other = np.where(same, -np.inf, s).max(axis=1)
        mate = np.where(same, s, -np.inf).max(axis=1)
        mate = mate[np.isfinite(mate)]
        print("  most similar other-identity face  p10/p50/p90", np.quantile(other, [0.1, 0.5, 0.9]).round(3))
        print("  most similar same-identity face   p10/p50/p90", np.quantile(mate, [0.1, 0.5, 0.9]).round(3))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
