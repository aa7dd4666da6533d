#!/usr/bin/python3
"""Structure statistics of a labelled magclust HDF5 set (real or synthetic).

    /usr/bin/python3 measure.py FILE.h5 [FILE.h5 ...] [--max-faces 9000] [--json OUT]

For each file (rows with label -1 count as faces for the k-means locality and
the neighbours, not for the identity statistics):
  centre_cos_std   std of the pairwise cosines of the identity centres
                   (normalised mean of each identity's unit vectors; identities
                   with >= 3 faces); centre_cos_mean their mean
  centre_top10/32  fraction of the centres' variance in their top 10 / 32 PCs
  within_top10/32  fraction of the pooled within-identity deviations (unit
                   vector minus its identity's mean) in their top 10 / 32 PCs
  locality         30 k-means cells on the unit vectors (sklearn KMeans, seed
                   0); each face's 4 nearest cells (by centroid cosine) keep
                   what fraction of its exact 10 cosine nearest neighbours
  locality_other   the same for each identity face's 10 nearest faces of
                   other labels (less dependent on the identity sizes)
  pos_*, neg_*     cosines of same-identity / different-identity pairs
                   (mean, 5/50/95 % quantiles; negatives also 99 %)
  nn1_same         share of faces whose nearest neighbour has their label
  nn10_same        mean share of the 10 nearest neighbours with the face's label
  top_pos/bot_pos  mean positive cosine among faces of the top / bottom
                   quartile of the norm (the magnitude-quality relation)
The unit vectors are centred first (mean direction removed, renormalised), as
magclust's recipe does; --no-centre keeps them as they are. Sets above --max-faces are subsampled (fixed seed) before everything.
"""
import argparse
import json
import sys

import h5py
import numpy as np
from sklearn.cluster import KMeans


def load(path, max_faces, seed=0):
    with h5py.File(path, "r") as f:
        x = np.asarray(f["embeddings"], dtype=np.float64)
        lab = np.asarray(f["labels"], dtype=np.int64)
    if len(x) > max_faces:
        keep = np.sort(np.random.default_rng(seed).choice(len(x), max_faces, replace=False))
        x, lab = x[keep], lab[keep]
    return x, lab


def top_frac(m, ks):
    """Fraction of the (centred) variance of rows m in the top k PCs."""
    m = m - m.mean(axis=0)
    ev = np.linalg.svd(m, compute_uv=False) ** 2
    return [float(ev[:k].sum() / ev.sum()) for k in ks]


def qs(v, ps):
    return [round(float(x), 4) for x in np.quantile(v, ps)]


def measure(path, max_faces, centre=True, ncells=30, nprobe=4, knn=10):
    x, lab = load(path, max_faces)
    norm = np.linalg.norm(x, axis=1)
    u = x / norm[:, None]
    if centre:  # as magclust's recipe does: remove the mean direction
        u = u - u.mean(axis=0)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
    n, d = u.shape
    r = {"file": path, "n": int(n), "dim": int(d), "centred": centre}

    ids, counts = np.unique(lab[lab >= 0], return_counts=True)
    ids = ids[counts >= 3]
    r["n_ids"] = int(len(ids))
    cent = np.stack([u[lab == i].mean(axis=0) for i in ids])
    dev = np.concatenate([u[lab == i] - cent[k] for k, i in enumerate(ids)])
    cn = cent / np.linalg.norm(cent, axis=1, keepdims=True)
    cc = (cn @ cn.T)[np.triu_indices(len(ids), 1)]
    r["centre_cos_mean"], r["centre_cos_std"] = float(cc.mean()), float(cc.std())
    r["centre_top10"], r["centre_top32"] = top_frac(cn, [10, 32])
    r["within_top10"], r["within_top32"] = top_frac(dev, [10, 32])

    uf = u.astype(np.float32)  # float32 halves the N x N matrices
    s = uf @ uf.T
    np.fill_diagonal(s, -np.inf)
    nn = np.argpartition(-s, knn, axis=1)[:, :knn]
    km = KMeans(n_clusters=ncells, n_init=1, random_state=0).fit(u)
    cells = km.labels_
    cen = km.cluster_centers_ / np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True)
    probe = np.argsort(-(u @ cen.T), axis=1)[:, :nprobe]
    kept = (cells[nn][:, :, None] == probe[:, None, :]).any(axis=2)
    r["locality"] = float(kept.mean())
    r["locality_1cell"] = float((cells[nn] == cells[:, None]).mean())
    # The same for each identity face's 10 nearest faces of *other* labels:
    # the part that depends on how identities sit among each other rather
    # than on how many faces each has (see the README).
    so = np.where(lab[:, None] == lab[None, :], -np.inf, s)[lab >= 0]
    nno = np.argpartition(-so, knn, axis=1)[:, :knn]
    pr = probe[lab >= 0]
    r["locality_other"] = float((cells[nno][:, :, None] == pr[:, None, :]).any(axis=2).mean())

    lab_ok = lab >= 0
    same = (lab[:, None] == lab[None, :]) & lab_ok[:, None] & lab_ok[None, :]
    iu = np.triu_indices(n, 1)
    pos, neg = s[iu][same[iu]], s[iu][~same[iu] & lab_ok[iu[0]] & lab_ok[iu[1]]]
    r["pos_mean"], r["pos_q05_50_95"] = float(pos.mean()), qs(pos, [0.05, 0.5, 0.95])
    r["neg_mean"], r["neg_std"] = float(neg.mean()), float(neg.std())
    r["neg_q05_50_95_99"] = qs(neg, [0.05, 0.5, 0.95, 0.99])

    top1 = np.argmax(s, axis=1)
    r["nn1_same"] = float((lab[top1] == lab)[lab_ok].mean())
    r["nn10_same"] = float((lab[nn] == lab[:, None])[lab_ok].mean())

    q1, q3 = np.quantile(norm, [0.25, 0.75])
    for name, sel in (("top_pos", norm >= q3), ("bot_pos", norm <= q1)):
        m = sel & lab_ok
        ss = s[np.ix_(m, m)]
        sl = same[np.ix_(m, m)]
        np.fill_diagonal(sl, False)
        r[name] = float(ss[sl].mean())
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--max-faces", type=int, default=9000)
    ap.add_argument("--no-centre", action="store_true",
                    help="keep the mean direction (default: remove it and renormalise, as magclust does)")
    ap.add_argument("--json", help="write the results (a list) here")
    a = ap.parse_args()
    out = []
    for path in a.files:
        r = measure(path, a.max_faces, centre=not a.no_centre)
        out.append(r)
        print(json.dumps(r), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
