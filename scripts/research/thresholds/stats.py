"""Label-free statistics of one set, computed as magclust sees it (centred directions, exact cosine k-NN).
usage: stats.py NAME FILE [QUALITY_KEY]   -> /tmp/h19/stats/NAME.json (+ NAME_knn.npz cache)"""
import sys, json, os, numpy as np, h5py
from scipy.stats import spearmanr
name, path = sys.argv[1], sys.argv[2]; qkey = sys.argv[3] if len(sys.argv) > 3 else None
f = h5py.File(path, 'r'); X = f['embeddings'][:].astype(np.float64)
nrm = np.linalg.norm(X, axis=1); q = f[qkey][:].astype(np.float64) if qkey else nrm
U = X / nrm[:, None]
gate50 = np.percentile(q, 50); good = q >= gate50
mu = U[good].mean(0)
if 0 < np.linalg.norm(mu) < 0.9999:
    U = U - mu; U /= np.linalg.norm(U, axis=1)[:, None]
U = U.astype(np.float32); n = len(U)
K = 100
cache = f'/tmp/h19/stats/{name}_knn.npz'
if os.path.exists(cache):
    z = np.load(cache); I, S = z['I'], z['S']
else:
    I = np.zeros((n, K), np.int32); S = np.zeros((n, K), np.float32)
    for a in range(0, n, 2048):
        s = U[a:a+2048] @ U.T
        for r in range(s.shape[0]): s[r, a + r] = -9
        idx = np.argpartition(-s, K, axis=1)[:, :K]
        ss = np.take_along_axis(s, idx, 1); o = np.argsort(-ss, 1)
        I[a:a+2048] = np.take_along_axis(idx, o, 1); S[a:a+2048] = np.take_along_axis(ss, o, 1)
    np.savez(cache, I=I, S=S)
k = 30; I30, S30 = I[:, :k], S[:, :k]
rng = np.random.default_rng(1)
gi = np.flatnonzero(good)
a = rng.choice(gi, 200000); b = rng.choice(gi, 200000); keep = a != b; a, b = a[keep], b[keep]
rp = np.einsum('ij,ij->i', U[a], U[b])
m = float(np.median(rp)); mad = float(1.4826 * np.median(np.abs(rp - m)))
# all-face random pairs
a2 = rng.integers(0, n, 200000); b2 = rng.integers(0, n, 200000); keep = a2 != b2
rpa = np.einsum('ij,ij->i', U[a2[keep]], U[b2[keep]])
# nearest good neighbour of good faces (within 30-NN)
nng = []
for i in gi:
    for t in range(k):
        if good[I30[i, t]]: nng.append(S30[i, t]); break
nng = np.array(nng)
nn1 = S[:, 0]
def otsu(v, bins=200):
    h, e = np.histogram(v, bins); c = 0.5 * (e[1:] + e[:-1]); w = h / h.sum()
    w0 = np.cumsum(w); m0 = np.cumsum(w * c); mt = m0[-1]
    sb = (mt * w0 - m0) ** 2 / np.maximum(w0 * (1 - w0), 1e-12)
    return float(c[np.nanargmax(sb)])
def gmm_cut(v):
    from sklearn.mixture import GaussianMixture
    v = v.reshape(-1, 1)
    if len(v) > 100000: v = v[rng.choice(len(v), 100000, replace=False)]
    g = GaussianMixture(2, random_state=0).fit(v)
    lo, hi = np.argsort(g.means_.ravel())
    xs = np.linspace(g.means_[lo, 0], g.means_[hi, 0], 2001).reshape(-1, 1)
    p = g.predict_proba(xs)[:, hi]
    j = np.argmax(p >= 0.5)
    return float(xs[j, 0]), float(g.means_[lo, 0]), float(g.means_[hi, 0]), float(g.weights_[hi])
def facemap_cut(Sr, omega):
    p = Sr / Sr.sum(1, keepdims=True); dp = p[:, :-1] - p[:, 1:]
    z = np.zeros_like(dp)
    for j in range(dp.shape[1] - omega, -1, -1):
        mt = dp[:, j:j+omega].mean(1); mr = dp[:, j:].mean(1); sr = dp[:, j:].std(1) + 1e-12
        z[:, j + (omega + 1) // 2] = np.abs(mt - mr) / sr
    qs = np.argmax(z, 1)
    return Sr[np.arange(len(Sr)), qs]   # similarity of the last kept neighbour
# reciprocal nearest-neighbour rate (1-NN) and mutual 30-NN edge rate
recip1 = float(np.mean(I[I[:, 0], 0] == np.arange(n)))
E = set(zip(np.repeat(np.arange(n), k), I30.ravel()))
mutual = float(np.mean([(j, i) in E for (i, j) in list(E)[:200000]]))
rho = float(spearmanr(q, nn1).correlation)
rho_g = float(spearmanr(q[good], nn1[good]).correlation)
edges_g = S30[good][good[I30[good]]]   # 30-NN edges between good faces
st = dict(name=name, n=n, d=X.shape[1], m=m, mad=mad, nn_med=float(np.median(nng)),
    nn_q=[float(x) for x in np.percentile(nng, [10, 25, 50, 75, 90])],
    nn1_all_q=[float(x) for x in np.percentile(nn1, [10, 25, 50, 75, 90])],
    rp_q=[float(x) for x in np.percentile(rp, [50, 90, 99, 99.9, 99.99])],
    rpa_med=float(np.median(rpa)),
    s10_med=float(np.median(S[:, 9])), s30_med=float(np.median(S[:, 29])), s100_med=float(np.median(S[:, 99])),
    s30_good_med=float(np.median(S[good, 29])), s10_good_med=float(np.median(S[good, 9])),
    otsu_all=otsu(S30.ravel()), otsu_good=otsu(edges_g), otsu_nn1=otsu(nn1),
    gmm_good=gmm_cut(edges_g), gmm_all=gmm_cut(S30.ravel()), gmm_nn1=gmm_cut(nn1),
    fm30_med=float(np.median(facemap_cut(S30, 5))), fm100_med=float(np.median(facemap_cut(S, 20))),
    fm100_good_med=float(np.median(facemap_cut(S[good], 20))),
    recip1=recip1, mutual30=mutual, rho=rho, rho_good=rho_g)
json.dump(st, open(f'/tmp/h19/stats/{name}.json', 'w'), indent=1)
print(json.dumps({k2: (round(v, 3) if isinstance(v, float) else v) for k2, v in st.items()}))
