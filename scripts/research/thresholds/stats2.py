"""Label-free statistics per core level (faces with quality >= pC; C in 50, 30, 0=all), from the cached 100-NN.
usage: stats2.py NAME FILE [QKEY] -> stats/NAME.s2.json"""
import sys, json, numpy as np, h5py
from scipy.stats import spearmanr
name, path = sys.argv[1], sys.argv[2]; qkey = sys.argv[3] if len(sys.argv) > 3 else None
f = h5py.File(path, 'r'); X = f['embeddings'][:].astype(np.float64)
nrm = np.linalg.norm(X, axis=1); q = f[qkey][:].astype(np.float64) if qkey else nrm
U = X / nrm[:, None]; good = q >= np.percentile(q, 50); mu = U[good].mean(0)
U = U - mu; U /= np.linalg.norm(U, axis=1)[:, None]; U = U.astype(np.float32); n = len(U)
z = np.load(f'/tmp/h19/stats/{name}_knn.npz'); I, S = z['I'], z['S']
rng = np.random.default_rng(1)
def otsu(v, bins=200):
    h, e = np.histogram(v, bins); c = 0.5 * (e[1:] + e[:-1]); w = h / h.sum()
    w0 = np.cumsum(w); m0 = np.cumsum(w * c); mt = m0[-1]
    sb = (mt * w0 - m0) ** 2 / np.maximum(w0 * (1 - w0), 1e-12)
    return float(c[np.nanargmax(sb)])
def gmm(v):
    from sklearn.mixture import GaussianMixture
    v = v.reshape(-1, 1)
    if len(v) > 60000: v = v[rng.choice(len(v), 60000, replace=False)]
    g = GaussianMixture(2, random_state=0).fit(v); lo, hi = np.argsort(g.means_.ravel())
    xs = np.linspace(g.means_[lo, 0], g.means_[hi, 0], 2001).reshape(-1, 1)
    p = g.predict_proba(xs)[:, hi]; j = int(np.argmax(p >= 0.5))
    return dict(cut=float(xs[j, 0]), mlo=float(g.means_[lo, 0]), mhi=float(g.means_[hi, 0]), whi=float(g.weights_[hi]),
                slo=float(np.sqrt(g.covariances_.ravel()[lo])), shi=float(np.sqrt(g.covariances_.ravel()[hi])))
def fm_cut(Sr, omega):
    p = Sr / np.maximum(Sr.sum(1, keepdims=True), 1e-9); dp = p[:, :-1] - p[:, 1:]; zz = np.zeros_like(dp)
    for j in range(dp.shape[1] - omega, -1, -1):
        zz[:, j + (omega + 1) // 2] = np.abs(dp[:, j:j+omega].mean(1) - dp[:, j:].mean(1)) / (dp[:, j:].std(1) + 1e-12)
    return Sr[np.arange(len(Sr)), np.argmax(zz, 1)]
out = {}
nn1_all = S[:, 0]
out['rho'] = float(spearmanr(q, nn1_all).correlation)
for pc in [50, 30, 0]:
    C = q >= np.percentile(q, pc) if pc else np.ones(n, bool); ci = np.flatnonzero(C)
    a = rng.choice(ci, 200000); b = rng.choice(ci, 200000); k_ = a != b
    rp = np.einsum('ij,ij->i', U[a[k_]], U[b[k_]]); m = float(np.median(rp)); mad = float(1.4826 * np.median(np.abs(rp - m)))
    # C-restricted neighbour lists (from 100-NN): keep first 30 neighbours in C
    Ic, Sc = I[ci], S[ci]; inC = C[Ic]
    rows = []
    for r in range(len(ci)):
        s = Sc[r][inC[r]][:30]
        rows.append(np.pad(s, (0, 30 - len(s)), constant_values=np.nan))
    R = np.array(rows)
    nn1, nn2, nn5, nn10, nn30 = R[:, 0], R[:, 1], R[:, 4], R[:, 9], R[:, 29]
    edges = R[~np.isnan(R)]
    qs = lambda v, p: [float(x) for x in np.nanpercentile(v, p)]
    d = dict(m=m, mad=mad, rp_q=qs(rp, [90, 99, 99.9]),
             nn1=qs(nn1, [10, 25, 50, 75, 90]), nn2=qs(nn2, [10, 25, 50, 75, 90]), nn5_med=float(np.nanmedian(nn5)),
             nn10_med=float(np.nanmedian(nn10)), nn30_med=float(np.nanmedian(nn30)),
             edges_q=qs(edges, [10, 25, 50, 75, 90]), otsu_edges=otsu(edges), otsu_nn1=otsu(nn1[~np.isnan(nn1)]),
             gmm_edges=gmm(edges), gmm_nn1=gmm(nn1[~np.isnan(nn1)]),
             fm_med=float(np.nanmedian(fm_cut(np.nan_to_num(R, nan=0.0), 5))),
             recip1=float(np.mean([I[I[i, 0], 0] == i for i in ci])),
             gap12=float(np.nanmedian(nn1 - nn2)))
    out[pc] = d
json.dump(out, open(f'/tmp/h19/stats/{name}.s2.json', 'w'), indent=1)
print(name, 'done')
