"""Two-statistic one-constant rules: t = S1 + f * (S2 - S1), f on a grid; minimax over sets, then LOSO.
usage: search2.py ALGO GATE [SKIPSETS]   GATE in on, off, rho"""
import sys, numpy as np
from search import *
a, g = sys.argv[1], sys.argv[2]; skip = set(sys.argv[3].split(',')) if len(sys.argv) > 3 else set()
sets = [s for s in SETS if s not in skip]
TG = np.round(np.arange(0.05, 0.951, 0.01), 2)
L = np.array([[CURVES[(s, geff(s, g))][a]['F'].max() - F_at(CURVES[(s, geff(s, g))][a], 1 - t) for t in TG] for s in sets])
def loss_at(T):  # T: sets x R -> losses
    idx = np.clip(np.round((T - 0.05) / 0.01).astype(int), 0, len(TG) - 1)
    return np.take_along_axis(L, idx, 1)
V = {s: statvec(s, level(a, g), a, g) for s in sets}
keys = [k for k in V[sets[0]] if k.startswith('own.') and all(np.isfinite(V[s][k]) for s in sets)
        and not any(x in k for x in ['.slo', '.shi', '.whi', 'recip1', 'gap12', 'mad'])]
M = np.array([[V[s][k] for k in keys] for s in sets])  # sets x keys
F = np.round(np.arange(-1.0, 2.001, 0.025), 3)
res = []
for i in range(len(keys)):
    for j in range(i + 1, len(keys)):
        d = M[:, j] - M[:, i]
        if np.all(np.abs(d) < 0.02): continue
        T = M[:, i][:, None] + F[None, :] * d[:, None]
        Lf = loss_at(T); sc = Lf.max(0) + 0.1 * Lf.mean(0); b = np.argmin(sc)
        res.append((Lf[:, b].max(), Lf[:, b].mean(), keys[i], keys[j], F[b], i, j))
res.sort()
print(f'== {a} gate {g}: t = S1 + f (S2 - S1), {len(sets)} sets; worst / mean; LOSO')
for r in res[:15]:
    i, j = r[5], r[6]; d = M[:, j] - M[:, i]; lo = []
    for h in range(len(sets)):
        keep = np.arange(len(sets)) != h
        T = M[keep, i][:, None] + F[None, :] * d[keep][:, None]; Lf = loss_at(T) if False else None
        idx = np.clip(np.round((T - 0.05) / 0.01).astype(int), 0, len(TG) - 1); Lk = np.take_along_axis(L[keep], idx, 1)
        b = np.argmin(Lk.max(0) + 0.1 * Lk.mean(0)); t = M[h, i] + F[b] * d[h]
        lo.append(L[h, int(np.clip(round((t - 0.05) / 0.01), 0, len(TG) - 1))])
    lo = np.array(lo)
    print(f'  {r[2]:22s} -> {r[3]:22s} f {r[4]:+.3f}: worst {r[0]:.3f} mean {r[1]:.3f} | LOSO worst {lo.max():.3f} ({sets[int(np.argmax(lo))]}) mean {lo.mean():.3f}')
