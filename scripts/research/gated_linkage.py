#!/usr/bin/env python3
"""Research prototype (not part of the tool or its tests): quality-gated average
linkage on dense similarities, for the experiments in docs/experiments.md.

Usage: scripts/research/gated_linkage.py FILE.h5 [QUALITY_KEY|-]
Needs Debian's python3-h5py python3-numpy python3-scipy. Prints, for cosine
and for neighbourhood-refined similarity, the best BCubed F over a grid of
core fractions and thresholds (an oracle search, for research only).
"""
import h5py, numpy as np, sys
from scipy.cluster.hierarchy import linkage, fcluster
from scipy.spatial.distance import squareform

def load(f, qkey=None):
    h = h5py.File(f, 'r'); X = h['embeddings'][:].astype(np.float64); y = h['labels'][:]
    m = np.linalg.norm(X, axis=1); U = X / m[:, None]
    q = h[qkey][:].astype(np.float64) if qkey else m
    return U, y, q

def bcubed(pred, lab):
    n = len(pred); pred = pred.copy(); lab = lab.copy()
    pred = np.where(pred < 0, 10**9 + np.arange(n), pred); lab = np.where(lab < 0, 2 * 10**9 + np.arange(n), lab)
    _, pi = np.unique(pred, return_inverse=True); _, li = np.unique(lab, return_inverse=True)
    import scipy.sparse as sp
    C = sp.coo_matrix((np.ones(n), (li, pi))).tocsr()
    cs = np.asarray(C.sum(0)).ravel(); ls = np.asarray(C.sum(1)).ravel()
    Cc = C.tocoo(); v = Cc.data
    P = (v**2 / cs[Cc.col]).sum() / n; R = (v**2 / ls[Cc.row]).sum() / n
    return 2 * P * R / (P + R), P, R

def knn(S, k):
    S2 = S.copy(); np.fill_diagonal(S2, -np.inf)
    idx = np.argsort(-S2, axis=1)[:, :k]
    return idx

def refined(S, k, alpha):
    # Jaccard of k-NN sets (self included), mixed with cosine
    n = len(S); idx = knn(S, k)
    A = np.zeros((n, n), bool); A[np.arange(n)[:, None], idx] = True; np.fill_diagonal(A, True)
    Af = A.astype(np.float32)
    inter = Af @ Af.T; J = inter / (2 * (k + 1) - inter)
    return alpha * S + (1 - alpha) * J

def gated_linkage(S, q, frac_core, thr, method='average', attach_thr=None):
    n = len(S); order = np.argsort(-q, kind='stable'); nc = int(round(frac_core * n))
    core = np.zeros(n, bool); core[order[:nc]] = True
    ci = np.where(core)[0]
    D = 1 - S[np.ix_(ci, ci)]; np.fill_diagonal(D, 0); D = np.clip((D + D.T) / 2, 0, None)
    Z = linkage(squareform(D, checks=False), method=method)
    lab_c = fcluster(Z, t=1 - thr, criterion='distance')
    pred = -np.ones(n, int); pred[ci] = lab_c
    ri = np.where(~core)[0]
    if len(ri):
        Sr = S[np.ix_(ri, ci)]; j = Sr.argmax(1); best = Sr[np.arange(len(ri)), j]
        at = thr if attach_thr is None else attach_thr
        pred[ri] = np.where(best >= at, lab_c[j], -1)
    return pred

if __name__ == '__main__':
    f, qkey = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != '-' else None)
    U, y, q = load(f, qkey); S = U @ U.T
    for sim_name, SS in [('cos', S), ('ref0.5', refined(S, 30, 0.5)), ('ref0.3', refined(S, 30, 0.3))]:
        best = (0,)
        for frac in (1.0, 0.8, 0.7, 0.6):
            for thr in np.arange(0.05, 0.8, 0.025):
                pred = gated_linkage(SS, q, frac, thr)
                fb = bcubed(pred, y)
                if fb[0] > best[0]: best = (round(fb[0], 4), frac, round(thr, 3), round(fb[1], 3), round(fb[2], 3))
        print(f, sim_name, 'best', best, flush=True)
