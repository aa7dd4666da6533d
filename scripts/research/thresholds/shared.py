"""One statistic S for all algorithms: t = m + f_algo (S - m), f per algorithm and gate mode; worst/LOSO per algo.
linkage is scored without the three large-identity sets (its sparse-graph splitting is not a threshold problem)."""
import numpy as np
from search import *
TG = np.round(np.arange(0.05, 0.951, 0.01), 2); FG = np.round(np.arange(0.0, 1.501, 0.025), 3)
BIG = {'big', 'big2', 'bigshuf'}
def table(a, g, sets):
    return np.array([[CURVES[(s, geff(s, g))][a]['F'].max() - F_at(CURVES[(s, geff(s, g))][a], 1 - t) for t in TG] for s in sets])
def li(L, T):
    idx = np.clip(np.round((T - 0.05) / 0.01).astype(int), 0, len(TG) - 1); return np.take_along_axis(L, idx, 1)
keys = ['nn1[0]', 'nn1[1]', 'nn1[2]', 'nn1[3]', 'nn1[4]', 'nn2[0]', 'nn2[1]', 'nn2[2]', 'nn2[3]', 'nn2[4]', 'edges_q[4]', 'rp_q[1]', 'gmm_nn1.cut', 'otsu_nn1']
for g in ['on', 'off', 'rho']:
    print(f'==== gate {g}')
    out = {}
    for a in ALGOS:
        sets = [s for s in SETS if not (a == 'linkage' and s in BIG)]
        L = table(a, g, sets)
        for k in keys:
            S = np.array([statvec(s, level(a, g), a, g)['own.' + k] for s in sets]); m = np.array([statvec(s, level(a, g), a, g)['own.m'] for s in sets])
            T = m[:, None] + FG[None, :] * (S - m)[:, None]; Lf = li(L, T); b = np.argmin(Lf.max(0) + 0.1 * Lf.mean(0))
            lo = []
            for h in range(len(sets)):
                kp = np.arange(len(sets)) != h; bb = np.argmin(Lf[kp].max(0) + 0.1 * Lf[kp].mean(0)); lo.append(Lf[h, bb])
            out.setdefault(k, []).append(f'{a[:4]} f {FG[b]:.3f} w {Lf[:, b].max():.3f} m {Lf[:, b].mean():.3f} L {max(lo):.3f}')
    for k in keys: print(f'  {k:12s} ' + ' | '.join(out[k]))
