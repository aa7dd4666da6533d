"""Two-level map equation + Louvain-style optimiser (prototype, research only).

Graph given as flow: node flow p[a], directed link flows f[a->b] (a != b).
Undirected flow: f symmetric, p[a] = sum_b f[a->b].
Codelength  L = plogp(sum enter) - sum plogp(enter_i) - sum plogp(exit_i)
               - sum_a plogp(p_a) + sum plogp(exit_i + p_i)
"""
import numpy as np
import random
from collections import defaultdict


def plogp(x):
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    m = x > 0
    out[m] = x[m] * np.log2(x[m])
    return out


def _pl(x):
    return x * np.log2(x) if x > 0 else 0.0


# ---------------------------------------------------------------- flow models
def flow_undirected(n, src, dst, w):
    """src,dst,w: directed weighted edges (any multiplicity); symmetrised by
    summing w_ab + w_ba. Returns p (n,), and a dict-of-dicts-free edge list
    (a, b, f) with both directions, f_ab = f_ba = W_ab / (2 W)."""
    a = np.concatenate([src, dst]); b = np.concatenate([dst, src]); ww = np.concatenate([w, w])
    keep = a != b
    a, b, ww = a[keep], b[keep], ww[keep]
    # merge duplicates
    key = a.astype(np.int64) * n + b
    uk, inv = np.unique(key, return_inverse=True)
    wsum = np.bincount(inv, weights=ww)
    a = (uk // n).astype(np.int64); b = (uk % n).astype(np.int64)
    tot = wsum.sum()
    f = wsum / tot
    p = np.bincount(a, weights=f, minlength=n)
    return p, a, b, f


def flow_directed(n, src, dst, w, tau=0.15, node_tele=None, iters=200):
    """PageRank with teleportation tau (to nodes, prop. to node_tele or uniform),
    unrecorded teleportation as in Infomap: link flow f_ab = p_a T_ab, then
    node flow = incoming link flow, both normalised."""
    keep = src != dst
    src, dst, w = src[keep], dst[keep], w[keep]
    key = src.astype(np.int64) * n + dst
    uk, inv = np.unique(key, return_inverse=True)
    wsum = np.bincount(inv, weights=w)
    a = (uk // n).astype(np.int64); b = (uk % n).astype(np.int64)
    sout = np.bincount(a, weights=wsum, minlength=n)
    T = wsum / sout[a]
    dangling = sout == 0
    tele = np.ones(n) / n if node_tele is None else node_tele / node_tele.sum()
    p = np.ones(n) / n
    for _ in range(iters):
        pn = np.bincount(b, weights=p[a] * T, minlength=n)
        pn = (1 - tau) * pn + (tau * (1 - p[dangling].sum()) + p[dangling].sum()) * tele
        # (dangling mass teleports fully)
        pn /= pn.sum()
        if np.abs(pn - p).sum() < 1e-12:
            p = pn; break
        p = pn
    f = p[a] * T
    s = f.sum()
    f = f / s
    pnode = np.bincount(b, weights=f, minlength=n)
    # nodes with no in-links get zero flow -> give them a tiny flow so they exist
    return pnode, a, b, f


# ---------------------------------------------------------------- codelength
def codelength(p, a, b, f, mod):
    mod = np.asarray(mod)
    k = mod.max() + 1
    cross = mod[a] != mod[b]
    exit_ = np.bincount(mod[a][cross], weights=f[cross], minlength=k)
    enter = np.bincount(mod[b][cross], weights=f[cross], minlength=k)
    pm = np.bincount(mod, weights=p, minlength=k)
    return (_pl(enter.sum()) - plogp(enter).sum() - plogp(exit_).sum()
            - plogp(p).sum() + plogp(exit_ + pm).sum())


def codelength_entropy(p, a, b, f, mod):
    """Independent definition: q H(Q) + sum_i p_i^o H(P_i)."""
    mod = np.asarray(mod)
    k = mod.max() + 1
    cross = mod[a] != mod[b]
    exit_ = np.bincount(mod[a][cross], weights=f[cross], minlength=k)
    enter = np.bincount(mod[b][cross], weights=f[cross], minlength=k)
    q = enter.sum()
    L = 0.0
    if q > 0:
        Q = enter[enter > 0] / q
        L += q * -(Q * np.log2(Q)).sum()
    for i in range(k):
        nodes = np.where(mod == i)[0]
        if len(nodes) == 0:
            continue
        po = exit_[i] + p[nodes].sum()
        probs = np.concatenate([[exit_[i]], p[nodes]]) / po
        probs = probs[probs > 0]
        L += po * -(probs * np.log2(probs)).sum()
    return L


# ---------------------------------------------------------------- optimiser
class Level:
    """Graph at one aggregation level (adjacency lists of out and in flows)."""

    def __init__(self, n, p, a, b, f):
        self.n = n
        self.p = np.asarray(p, dtype=float)
        out = [dict() for _ in range(n)]
        inn = [dict() for _ in range(n)]
        for x, y, w in zip(a.tolist(), b.tolist(), f.tolist()):
            if x == y:
                continue
            out[x][y] = out[x].get(y, 0.0) + w
            inn[y][x] = inn[y].get(x, 0.0) + w
        self.out = [list(d.items()) for d in out]
        self.inn = [list(d.items()) for d in inn]
        self.outsum = np.array([sum(w for _, w in l) for l in self.out])
        self.insum = np.array([sum(w for _, w in l) for l in self.inn])


def move_nodes(G, mod, rng, max_pass=100, allow_new=True):
    """Greedy moves on level G starting from partition mod (list of ints).
    Returns (mod, improved)."""
    n = G.n
    p, outsum, insum = G.p, G.outsum, G.insum
    # module stats
    K = max(mod) + 1 + n
    exit_ = [0.0] * K; enter = [0.0] * K; pm = [0.0] * K; size = [0] * K
    for x in range(n):
        m = mod[x]
        pm[m] += p[x]; size[m] += 1
        for y, w in G.out[x]:
            if mod[y] != m:
                exit_[m] += w; enter[mod[y]] += w
    sum_enter = sum(enter)
    free = [m for m in range(K) if size[m] == 0]
    # running sums of the terms
    S_enter = sum(_pl(e) for e in enter)
    S_exit = sum(_pl(e) for e in exit_)
    S_tot = sum(_pl(exit_[m] + pm[m]) for m in range(K))
    improved_any = False
    order = list(range(n))
    for _pass in range(max_pass):
        rng.shuffle(order)
        moved = 0
        for x in order:
            old = mod[x]
            fo = defaultdict(float)  # flow x -> module
            fi = defaultdict(float)  # flow module -> x
            for y, w in G.out[x]:
                fo[mod[y]] += w
            for y, w in G.inn[x]:
                fi[mod[y]] += w
            px, ox, ix = p[x], outsum[x], insum[x]
            # old module after removal
            fo_old, fi_old = fo.get(old, 0.0), fi.get(old, 0.0)
            ex_o2 = exit_[old] - ox + fo_old + fi_old
            en_o2 = enter[old] - ix + fi_old + fo_old
            pm_o2 = pm[old] - px
            if size[old] == 1:
                ex_o2 = en_o2 = pm_o2 = 0.0
            d_old_enter = _pl(en_o2) - _pl(enter[old])
            d_old_exit = _pl(ex_o2) - _pl(exit_[old])
            d_old_tot = _pl(ex_o2 + pm_o2) - _pl(exit_[old] + pm[old])
            se_base = sum_enter - enter[old] + en_o2
            best = 0.0; best_m = old; best_vals = None
            cands = set(fo.keys()) | set(fi.keys())
            cands.discard(old)
            if allow_new and size[old] > 1 and free:
                cands.add(-1)
            for m in cands:
                if m == -1:
                    ex_n, en_n, pm_n = 0.0, 0.0, 0.0
                else:
                    ex_n, en_n, pm_n = exit_[m], enter[m], pm[m]
                a_o, a_i = fo.get(m, 0.0), fi.get(m, 0.0)
                ex_n2 = ex_n + ox - a_o - a_i
                en_n2 = en_n + ix - a_i - a_o
                pm_n2 = pm_n + px
                se = se_base - en_n + en_n2
                dL = (_pl(se) - _pl(sum_enter)
                      - (d_old_enter + _pl(en_n2) - _pl(en_n))
                      - (d_old_exit + _pl(ex_n2) - _pl(ex_n))
                      + (d_old_tot + _pl(ex_n2 + pm_n2) - _pl(ex_n + pm_n)))
                if dL < best - 1e-12:
                    best = dL; best_m = m; best_vals = (ex_n2, en_n2, pm_n2, se)
            if best_m != old:
                if best_m == -1:
                    best_m = free.pop()
                ex_n2, en_n2, pm_n2, se = best_vals
                exit_[old], enter[old], pm[old] = ex_o2, en_o2, pm_o2
                size[old] -= 1
                if size[old] == 0:
                    free.append(old)
                exit_[best_m], enter[best_m], pm[best_m] = ex_n2, en_n2, pm_n2
                size[best_m] += 1
                sum_enter = se
                mod[x] = best_m
                moved += 1
        if moved == 0:
            break
        improved_any = True
    return mod, improved_any


def relabel(mod):
    u, inv = np.unique(np.asarray(mod), return_inverse=True)
    return inv


def aggregate(G, mod):
    mod = relabel(mod)
    k = mod.max() + 1
    p = np.bincount(mod, weights=G.p, minlength=k)
    a, b, f = [], [], []
    for x in range(G.n):
        for y, w in G.out[x]:
            if mod[x] != mod[y]:
                a.append(mod[x]); b.append(mod[y]); f.append(w)
    return Level(k, p, np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), np.array(f)), mod


def infomap(p, a, b, f, seed=1, max_outer=10, verbose=False):
    n = len(p)
    rng = random.Random(seed)
    G0 = Level(n, p, a, b, f)
    node_mod = list(range(n))
    bestL = codelength(p, a, b, f, np.array(node_mod))
    for outer in range(max_outer):
        # --- coarse: aggregate current partition, then Louvain levels
        G = G0
        cur = list(relabel(node_mod)) if outer > 0 else node_mod
        # first level: move nodes from current partition
        cur, _ = move_nodes(G, cur, rng, allow_new=(outer > 0))
        node_mod = list(relabel(cur))
        while True:
            G2, m = aggregate(G0, node_mod)
            if G2.n == 1:
                break
            sup = list(range(G2.n))
            sup, imp = move_nodes(G2, sup, rng, allow_new=False)
            sup = relabel(sup)
            if sup.max() + 1 == G2.n:
                break
            node_mod = list(sup[np.asarray(node_mod)])
            # continue aggregating
        L = codelength(p, a, b, f, np.array(node_mod))
        if verbose:
            print(f"outer {outer}: L={L:.6f} modules={len(set(node_mod))}")
        if L > bestL - 1e-10 and outer > 0:
            break
        bestL = min(bestL, L)
    return relabel(node_mod), codelength(p, a, b, f, relabel(node_mod))
