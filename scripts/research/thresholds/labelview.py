"""With labels (for understanding only): nearest impostor / nearest genuine similarity of core faces, vs oracle t."""
import sys, json, numpy as np, h5py
from common import *
def load(path, qkey):
    f = h5py.File(path, 'r'); X = f['embeddings'][:].astype(np.float64); lab = f['labels'][:]
    nrm = np.linalg.norm(X, axis=1); q = f[qkey][:].astype(np.float64) if qkey else nrm
    U = X / nrm[:, None]; good = q >= np.percentile(q, 50); mu = U[good].mean(0)
    U = U - mu; U /= np.linalg.norm(U, axis=1)[:, None]
    return U.astype(np.float32), q, lab
rows = [l.split('|') for l in open('/tmp/h19/sets.txt').read().split('\n') if l.strip()]
out = {}
for name, path, opt in rows:
    U, q, lab = load(path, opt.replace('--quality-key ', '') or None); n = len(U)
    if lab.min() < 0: lab = lab.copy(); lab[lab < 0] = -np.arange(1, (lab < 0).sum() + 1)  # distractors: own ids
    res = {}
    for pc in [0, 30, 50]:
        core = q >= np.percentile(q, pc) if pc else np.ones(n, bool); ci = np.flatnonzero(core)
        imp = np.empty(len(ci)); gen = np.full(len(ci), np.nan)
        for a in range(0, len(ci), 2048):
            s = U[ci[a:a+2048]] @ U[ci].T
            same = lab[ci[a:a+2048]][:, None] == lab[ci][None, :]
            for r in range(s.shape[0]): s[r, a + r] = -9; same[r, a + r] = False
            imp[a:a+2048] = np.where(same, -9, s).max(1)
            g = np.where(same, s, -9).max(1); g[g == -9] = np.nan; gen[a:a+2048] = g
        res[pc] = dict(imp=[float(x) for x in np.percentile(imp, [50, 90, 95, 99])],
                       gen=[float(x) for x in np.nanpercentile(gen, [10, 25, 50])])
    out[name] = res
    print(name, {pc: (np.round(v['imp'], 2).tolist(), np.round(v['gen'], 2).tolist()) for pc, v in res.items()}, flush=True)
json.dump(out, open('/tmp/h19/labelview.json', 'w'))
