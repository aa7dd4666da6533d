#!/usr/bin/env python3
"""Cluster the bundled sample from Python, score it, and plot the embedding
magnitude of each role (core, border, noise) into a PNG.

    python3 examples/python/cluster_sample.py [IN.h5] [-o magnitudes.png]

Needs the package (python/magclust: from the source tree after a build, or
pip-installed), NumPy and matplotlib (Debian: python3-matplotlib).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))  # the in-tree package, if not installed

import numpy as np  # noqa: E402

import magclust  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default=os.path.join(ROOT, "datasets", "sample.h5"))
    ap.add_argument("-o", "--output", default="magnitudes.png")
    args = ap.parse_args()

    faces = magclust.read(args.input)
    mc = magclust.MagClust().fit(faces.X)  # the defaults of `magclust cluster`
    roles = np.array(magclust.ROLES)[mc.roles_]
    print("%d faces, %d clusters, threshold %.4f (%s), %d noise" % (
        len(faces), mc.n_clusters_, mc.threshold_, mc.calibration_["threshold_mode"],
        (mc.labels_ < 0).sum()))
    if faces.labels is not None:
        p, r, f = magclust.metrics.bcubed(faces.labels, mc.labels_)
        print("BCubed precision %.4f recall %.4f F %.4f" % (p, r, f))

    import matplotlib
    matplotlib.use("Agg")  # a file, no display
    import matplotlib.pyplot as plt

    mag = np.linalg.norm(faces.X, axis=1)
    bins = np.linspace(mag.min(), mag.max(), 40)
    fig, ax = plt.subplots(figsize=(7, 4))
    for role, colour in (("core", "tab:blue"), ("border", "tab:orange"), ("noise", "tab:red")):
        sel = roles == role
        if sel.any():
            ax.hist(mag[sel], bins=bins, alpha=0.6, color=colour,
                    label="%s (%d)" % (role, sel.sum()))
    if np.isfinite(mc.calibration_["core_q"]):
        ax.axvline(mc.calibration_["core_q"], color="k", ls="--", lw=1,
                   label="core gate %s" % mc.calibration_["core_quality"])
    ax.set_xlabel("embedding magnitude (the quality)")
    ax.set_ylabel("faces")
    ax.set_title("%s: magnitude by role" % os.path.basename(args.input))
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print("wrote %s" % args.output)


if __name__ == "__main__":
    main()
