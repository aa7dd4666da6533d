import numpy as np, itertools
from mapeq import *
def partitions(n):
    # set partitions as restricted growth strings
    def rec(i, cur, mx):
        if i == n: yield list(cur); return
        for v in range(mx + 2):
            cur.append(v); yield from rec(i + 1, cur, max(mx, v)); cur.pop()
    yield from rec(1, [0], 0)
rng = np.random.default_rng(0)
for trial in range(12):
    n = 8
    # two/three planted groups + noise edges
    g = rng.integers(0, 3, n)
    src, dst, w = [], [], []
    for i in range(n):
        for j in range(n):
            if i != j and (g[i] == g[j] and rng.random() < .8 or rng.random() < .15):
                src.append(i); dst.append(j); w.append(rng.random() + .1)
    src, dst, w = map(np.array, (src, dst, w))
    for kind in ['und', 'dir']:
        if kind == 'und': p, a, b, f = flow_undirected(n, src, dst, w)
        else: p, a, b, f = flow_directed(n, src, dst, w)
        best = None
        for part in partitions(n):
            m = np.array(part)
            L1 = codelength(p, a, b, f, m); L2 = codelength_entropy(p, a, b, f, m)
            assert abs(L1 - L2) < 1e-9, (L1, L2)
            if best is None or L1 < best[0]: best = (L1, part)
        mod, L = infomap(p, a, b, f, seed=trial)
        print(kind, trial, 'brute %.6f' % best[0], 'opt %.6f' % L, 'OK' if L <= best[0] + 1e-9 else 'SUBOPT', best[1], list(mod))
