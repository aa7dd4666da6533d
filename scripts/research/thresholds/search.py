"""Search label-free threshold rules: t = a*S + b for every scalar statistic S; per algorithm and gate.
Loss per set = best F of the sweep (same gate) - F at the rule's t. Reports worst / mean loss on all sets and
leave-one-set-out (constants fitted on the other sets, minimax, applied to the left-out one)."""
import json, sys, itertools, numpy as np
from common import *
def flat(d, pre=''):
    o = {}
    for k, v in d.items():
        if isinstance(v, dict): o.update(flat(v, f'{pre}{k}.'))
        elif isinstance(v, list):
            for i, x in enumerate(v): o[f'{pre}{k}[{i}]'] = x
        else: o[pre + k] = v
    return o
S2 = {s: json.load(open(f'/tmp/h19/stats/{s}.s2.json')) for s in SETS}
def statvec(s, level, a=None, g=None):
    if g == 'rho': level = globals()['level'](a, geff(s, g))
    d = S2[s]; o = {f'own.{k}': v for k, v in flat(d[str(level)]).items()}
    o.update({f'p50.{k}': v for k, v in flat(d['50']).items()})
    return o
CURVES = {(s, g): load_sweep(s, g) for s in SETS for g in ['on', 'off']}
RHO_MIN = 0.2
def geff(s, g): return ('on' if S2[s]['rho'] >= RHO_MIN else 'off') if g == 'rho' else g
def level(a, g): return 0 if g == 'off' else (50 if a == 'linkage' else 30)
def losses(a, g, ts, sets=SETS):
    out = []
    for s, t in zip(sets, ts):
        c = CURVES[(s, geff(s, g))][a]; out.append(c['F'].max() - F_at(c, 1 - t))
    return np.array(out)
import os
A = np.array([1.0]) if os.environ.get('SLOPE1') else np.round(np.arange(0.0, 1.61, 0.05), 2); B = np.round(np.arange(-0.6, 0.61, 0.01), 2)
def fit(a, g, X, sets):
    """minimax (then mean) over a grid of (slope, offset) for t = slope*X + offset"""
    best = None
    for sl in A:
        T = sl * X[:, None] + B[None, :]          # sets x offsets
        L = np.array([CURVES[(s, geff(s, g))][a]['F'].max() - np.interp(np.clip(1 - T[i], 0.05, 0.95), CURVES[(s, geff(s, g))][a]['eps'], CURVES[(s, geff(s, g))][a]['F']) for i, s in enumerate(sets)])
        sc = L.max(0) + 0.1 * L.mean(0); j = np.argmin(sc)
        if best is None or sc[j] < best[0]: best = (sc[j], sl, B[j])
    return best[1], best[2]
if __name__ == '__main__':
    algos = sys.argv[1].split(',') if len(sys.argv) > 1 else ALGOS
    gates = sys.argv[2].split(',') if len(sys.argv) > 2 else ['on', 'off']
    skip = set(sys.argv[3].split(',')) if len(sys.argv) > 3 else set()
    sets = [s for s in SETS if s not in skip]
    for a in algos:
        for g in gates:
            lv = level(a, g); V = {s: statvec(s, lv, a, g) for s in sets}
            keys = [k for k in V[sets[0]] if all(np.isfinite(V[s][k]) for s in sets)]
            res = []
            # pass 1: slope fixed to 1 and 0 quickly? do full grid on slopes for all keys (cheap enough)
            for k in keys:
                X = np.array([V[s][k] for s in sets])
                sl, b = fit(a, g, X, sets); L = losses(a, g, sl * X + b, sets)
                res.append((L.max(), L.mean(), k, sl, b))
            res.sort()
            print(f'== {a} gate {g} (core level {lv}): top rules t = slope*S + offset, worst / mean loss over {len(sets)} sets')
            for r in res[:12]:
                # leave-one-out for the top rules
                X = np.array([V[s][r[2]] for s in sets]); lo = []
                for i in range(len(sets)):
                    tr = [s for j, s in enumerate(sets) if j != i]
                    sl, b = fit(a, g, np.delete(X, i), tr); lo.append(losses(a, g, [sl * X[i] + b], [sets[i]])[0])
                lo = np.array(lo); w = sets[int(np.argmax(lo))]
                print(f'  {r[2]:28s} slope {r[3]:.2f} off {r[4]:+.2f}: worst {r[0]:.3f} mean {r[1]:.3f} | LOSO worst {lo.max():.3f} ({w}) mean {lo.mean():.3f}')
