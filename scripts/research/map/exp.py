import numpy as np, h5py, json, re, sys, os, time
from mapeq import flow_undirected, flow_directed, infomap

D = '/work/shared/datasets/'
SETS = {
    'mfn': (D + 'real-mfn128-dev.h5', None),
    'fapi': (D + 'celeba-faceapi128-dev.h5', 'det_score'),
    'mob': (D + 'real-mobileface256-dev.h5', None),
    'mobdet': (D + 'real-mobileface256-dev.h5', 'det_score'),
    's128_x4_d20': ('/tmp/mapres/s128_x4_d20.h5', None),
    's512_x4_d20': ('/tmp/mapres/s512_x4_d20.h5', None),
    's128_x1_d05': ('/tmp/mapres/s128_x1_d05.h5', None),
    's128_shuf': ('/tmp/mapres/s128_shuf.h5', None),
    's512_22k': ('/tmp/mapres/s512_22k.h5', None),
}


def baseline_info():
    """threshold + informative flag from magclust's own JSON (base.log)."""
    txt = open('/tmp/mapres/base.log').read().split('\n')
    info = {}
    name = None
    for line in txt:
        m = re.match(r'== (\S+) (\S+)', line)
        if m:
            name, algo = m.groups(); continue
        if line.startswith('{') and name:
            try:
                j = json.loads(line)
            except Exception:
                continue
            info.setdefault(name, {})[algo] = dict(
                thr=j['params']['threshold'], informative=j['quality_check']['informative'], rho=j['quality_check']['rho'],
                core_p30=None, F=j['metrics']['bcubed_f'], P=j['metrics']['bcubed_precision'],
                R=j['metrics']['bcubed_recall'], clusters=j['clusters'], noise=j['noise'])
    return info


_cache = {}


def load(name, K=30):
    key = (name, K)
    if key in _cache:
        return _cache[key]
    path, qkey = SETS[name]
    with h5py.File(path) as h:
        X = h['embeddings'][:].astype(np.float64)
        y = h['labels'][:]
        q = h[qkey][:].astype(np.float64) if qkey else np.linalg.norm(X, axis=1)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    good = q >= np.median(q)
    c = U[good].mean(0)
    U = U - c
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    n = len(U)
    ids = np.zeros((n, K), np.int64); sims = np.zeros((n, K))
    for s in range(0, n, 2048):
        S = U[s:s + 2048] @ U.T
        for r in range(S.shape[0]):
            S[r, s + r] = -np.inf
        part = np.argpartition(-S, K, axis=1)[:, :K]
        ps = np.take_along_axis(S, part, 1)
        o = np.argsort(-ps, axis=1)
        ids[s:s + 2048] = np.take_along_axis(part, o, 1)
        sims[s:s + 2048] = np.take_along_axis(ps, o, 1)
    out = dict(U=U, y=y, q=q, ids=ids, sims=sims, n=n)
    _cache[key] = out
    return out


def bcubed(y, pred):
    y = np.asarray(y).copy(); pred = np.asarray(pred).copy()
    n = len(y)
    # negatives -> unique singletons
    neg = y < 0; y[neg] = -(np.arange(neg.sum()) + 10)
    y = np.unique(y, return_inverse=True)[1]
    negp = pred < 0; pred[negp] = pred.max() + 1 + np.arange(negp.sum())
    pred = np.unique(pred, return_inverse=True)[1]
    # contingency
    key = pred.astype(np.int64) * (y.max() + 1) + y
    uk, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    nij = cnt[inv]
    csize = np.bincount(pred)[pred]; lsize = np.bincount(y)[y]
    P = (nij / csize).mean(); R = (nij / lsize).mean()
    return 2 * P * R / (P + R), P, R


# --------------------------------------------------------------- edges
def facemap_cut(P, omega):
    """P: n x K row-normalised ranked probabilities. returns q* (index, keep 0..q*)."""
    d = P[:, :-1] - P[:, 1:]
    n, m = d.shape  # m = K-1
    z = np.zeros((n, m + 1))
    for j in range(m - omega, -1, -1):
        mu_t = d[:, j:j + omega].mean(1)
        mu_r = d[:, j:].mean(1)
        sd = d[:, j:].std(1)
        qq = j + (omega + 1) // 2
        with np.errstate(invalid='ignore', divide='ignore'):
            z[:, qq] = np.where(sd > 0, np.abs(mu_t - mu_r) / sd, 0)
    return z.argmax(1)


def shared_nep(ids, sims, sigma=0.5):
    """FC-ES neighbour-based edge probability: P_im = softmax(-d/sigma),
    d = 2-2cos, over N(i) U {i}; NEP(i,j) = 1/2 sum_{m in N(i)&N(j)} (P_im + P_jm)."""
    n, K = ids.shape
    ids2 = np.concatenate([np.arange(n)[:, None], ids], 1)
    s2 = np.concatenate([np.ones((n, 1)), sims], 1)
    P = np.exp(-(2 - 2 * s2) / sigma)
    P /= P.sum(1, keepdims=True)
    rows = [dict(zip(ids2[i].tolist(), P[i].tolist())) for i in range(n)]
    nep = np.zeros((n, K))
    for i in range(n):
        ri = rows[i]
        for c, j in enumerate(ids[i].tolist()):
            rj = rows[j]
            if len(ri) < len(rj):
                tot = sum(pi + rj[m] for m, pi in ri.items() if m in rj)
            else:
                tot = sum(pj + ri[m] for m, pj in rj.items() if m in ri)
            nep[i, c] = tot / 2
    return nep


def build_edges(d, weight='raw', T=0.1, pw=2, cut='none', thr=None, omega=5, Kuse=None, nep_theta=0.22):
    ids, sims = d['ids'], d['sims']
    if Kuse:
        ids, sims = ids[:, :Kuse], sims[:, :Kuse]
    n, K = ids.shape
    keep = np.ones((n, K), bool)
    if cut == 'global':
        keep = sims >= thr
    elif cut == 'facemap':
        Pr = np.clip(sims, 0, None)
        Pr = Pr / np.maximum(Pr.sum(1, keepdims=True), 1e-12)
        qs = facemap_cut(Pr, omega)
        keep = np.arange(K)[None, :] <= qs[:, None]
    elif cut == 'mutual':
        S = set(zip(np.repeat(np.arange(n), K).tolist(), ids.ravel().tolist()))
        keep = np.array([[(j, i) in S for j in ids[i]] for i in range(n)])
    elif cut == 'nep':  # FC-ES early stopping on NEP
        nep = d.setdefault('nep%d' % K, shared_nep(ids, sims))
        ok = nep >= nep_theta
        keep = np.cumprod(ok, axis=1).astype(bool)
    elif cut in ('facemap+global', 'facemap+mutual', 'facemap+global+mutual'):
        Pr = np.clip(sims, 0, None)
        Pr = Pr / np.maximum(Pr.sum(1, keepdims=True), 1e-12)
        qs = facemap_cut(Pr, omega)
        keep = np.arange(K)[None, :] <= qs[:, None]
        if 'global' in cut:
            keep &= sims >= thr
        if 'mutual' in cut:
            S = set(zip(np.repeat(np.arange(n), K).tolist(), ids.ravel().tolist()))
            keep &= np.array([[(j, i) in S for j in ids[i]] for i in range(n)])
    elif cut == 'global+mutual':
        S = set(zip(np.repeat(np.arange(n), K).tolist(), ids.ravel().tolist()))
        keep = np.array([[(j, i) in S for j in ids[i]] for i in range(n)]) & (sims >= thr)
    s = np.clip(sims, 0, None)
    if weight == 'raw':
        w = s
    elif weight == 'pow':
        w = s ** pw
    elif weight == 'softmax':
        w = np.exp((sims - sims[:, :1]) / T)
        w = np.where(keep, w, 0)
        w = w / np.maximum(w.sum(1, keepdims=True), 1e-300)
    elif weight == 'rownorm':  # FaceMap: p = s / sum s over the *full* list
        w = s / np.maximum(s.sum(1, keepdims=True), 1e-12)
    elif weight == 'nep':
        w = d.setdefault('nep%d' % K, shared_nep(ids, sims))
    elif weight == 'rowsoft_full':  # softmax over full list, then cut
        w = np.exp((sims - sims[:, :1]) / T)
        w = w / w.sum(1, keepdims=True)
    w = np.where(keep, w, 0)
    src = np.repeat(np.arange(n), K)
    m = (w.ravel() > 0)
    return src[m], ids.ravel()[m], w.ravel()[m]


def run_variant(name, weight='raw', T=0.1, pw=2, cut='none', flow='und', tau=0.15,
                gate=None, attach='thr', qtele=False, qoutonly=False, minsize=1,
                omega=5, K=30, Kuse=None, seed=1, thr_from='cw', force_gate=False, nep_theta=0.22, mt=1.0, reattach=False, symattach=False, seeds=False, rhoslope=70.0):
    info = baseline_info()[name]
    thr = info[thr_from]['thr']
    informative = info['cw']['informative'] or force_gate
    d = load(name, K)
    n, y, q = d['n'], d['y'], d['q']
    src, dst, w = build_edges(d, weight, T, pw, cut, thr, omega, Kuse, nep_theta)
    core = np.ones(n, bool)
    if gate == 'rho':
        gate = max(0.0, rhoslope * info['cw']['rho'])
    if gate and informative:
        core = q >= np.percentile(q, gate)
    if gate and informative:
        m = core[src] & core[dst]
        src, dst, w = src[m], dst[m], w[m]
    if qoutonly and informative:
        low = q < np.percentile(q, 30)
        m = ~low[dst]
        src, dst, w = src[m], dst[m], w[m]
    if flow == 'und':
        p, a, b, f = flow_undirected(n, src, dst, w)
    else:
        tele = None
        if qtele and informative:
            r = np.argsort(np.argsort(q)) / (n - 1)  # quality rank in [0,1]
            tele = 0.1 + r
        p, a, b, f = flow_directed(n, src, dst, w, tau=tau, node_tele=tele)
    t0 = time.time()
    mod, L = infomap(p, a, b, f * mt, seed=seed)
    mod = np.asarray(mod).copy()
    # nodes that took no part (no links / not core) -> own label
    active = np.zeros(n, bool); active[a] = True; active[b] = True
    if gate and informative:
        active &= core
    lab = np.where(active, mod, -1)
    thrA = thr if attach == 'thr' else (info['linkage']['thr'] if attach == 'thrL' else -np.inf)
    if reattach:
        # module-level singletons (and faces that took no part) -> try attaching too
        u, inv, cnt = np.unique(lab, return_inverse=True, return_counts=True)
        sing = (cnt[inv] == 1) | (lab < 0)
        lab = np.where(sing, -1, lab)
        ids, sims = d['ids'], d['sims']
        if seeds:
            # core singletons: try to join a real module (both directions), else stay a seed
            K_ = ids.shape[1]
            rr = np.repeat(np.arange(n), K_); cc = ids.ravel(); ss = sims.ravel()
            A = np.concatenate([rr, cc]); B = np.concatenate([cc, rr]); S_ = np.concatenate([ss, ss])
            cs = (lab < 0) & core
            m = cs[A] & (lab[B] >= 0) & core[B]
            A, B, S_ = A[m], B[m], S_[m]
            o = np.lexsort((-S_, A)); A, B, S_ = A[o], B[o], S_[o]
            first = np.r_[True, A[1:] != A[:-1]] if len(A) else np.zeros(0, bool)
            lab2 = lab.copy()
            for i, j, sv in zip(A[first], B[first], S_[first]):
                if sv >= thrA:
                    lab2[i] = lab[j]
            nxt = lab.max() + 1
            for i in np.where(cs & (lab2 < 0))[0]:
                lab2[i] = nxt; nxt += 1
            lab = lab2
        src_ok = (lab >= 0) & core
        newlab = lab.copy()
        if symattach:
            # candidates in both directions (magclust qgraph convention)
            K_ = ids.shape[1]
            rr = np.repeat(np.arange(n), K_); cc = ids.ravel(); ss = sims.ravel()
            A = np.concatenate([rr, cc]); B = np.concatenate([cc, rr]); S_ = np.concatenate([ss, ss])
            m = (lab[A] < 0) & src_ok[B]
            A, B, S_ = A[m], B[m], S_[m]
            o = np.lexsort((-S_, A))
            A, B, S_ = A[o], B[o], S_[o]
            first = np.r_[True, A[1:] != A[:-1]] if len(A) else np.zeros(0, bool)
            for i, j, sv in zip(A[first], B[first], S_[first]):
                if sv >= thrA:
                    newlab[i] = lab[j]
        else:
            for i in np.where(lab < 0)[0]:
                for c, j in enumerate(ids[i]):
                    if src_ok[j]:
                        if sims[i, c] >= thrA:
                            newlab[i] = lab[j]
                        break
        lab = newlab
    elif gate and informative:
        # attach non-core to the module of the most similar core neighbour
        ids, sims = d['ids'], d['sims']
        for i in np.where(~core)[0]:
            for c, j in enumerate(ids[i]):
                if core[j] and lab[j] >= 0:
                    if sims[i, c] >= thrA:
                        lab[i] = lab[j]
                    break
    if qoutonly and informative:
        pass
    # small modules -> noise
    if minsize > 1:
        u, inv, cnt = np.unique(lab, return_inverse=True, return_counts=True)
        small = (cnt[inv] < minsize) | (lab < 0)
        lab = np.where(small, -1, lab)
    F, P, R = bcubed(y, lab)
    ncl = len(np.unique(lab[lab >= 0]))
    return dict(F=F, P=P, R=R, clusters=ncl, noise=int((lab < 0).sum()), L=L, secs=time.time() - t0)
