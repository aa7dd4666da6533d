"""Candidate rules -> F per set and algorithm, read off the sweep curves (t = 1 - eps, linear interpolation).
Columns: F(rule) / best F under the same gate (gap); '*' marks gap > 0.03. usage: final.py [RULE...]"""
import sys, numpy as np
from search import *
INFORM = lambda s: S2[s]['rho'] >= 0.2
def st(s, lv, k): return statvec(s, lv)['own.' + k]
def R_current(a, s):      # shipped: gate as now, t from the sweep's auto row
    return 'on', None
def R_current_rho(a, s):  # shipped threshold, core gate off when rho < 0.2 (auto t does not depend on the core gate)
    return ('on' if INFORM(s) else 'off'), None
def mk_shared(key, f):
    def R(a, s):
        g = 'on' if INFORM(s) else 'off'; lv = level(a, g); m = st(s, lv, 'm')
        return g, m + f[a] * (st(s, lv, key) - m)
    return R
def R_best(a, s):
    g = 'on' if INFORM(s) else 'off'; lv = level(a, g); m = st(s, lv, 'm')
    if a == 'linkage':
        if g == 'on': lo = st(s, lv, 'rp_q[0]'); return g, lo + 0.375 * (st(s, lv, 'nn2[4]') - lo)
        return g, m + 0.45 * (st(s, lv, 'nn2[0]') - m)
    if a == 'cw': return g, m + 0.625 * (st(s, lv, 'nn2[3]') - m)
    if g == 'on': return g, st(s, lv, 'mad') + 0.48
    return g, st(s, lv, 'rp_q[1]') + 0.18
def R_rec(a, s):
    g = 'on' if INFORM(s) else 'off'; lv = level(a, g); m = st(s, lv, 'm')
    if g == 'on':
        if a == 'linkage': lo = st(s, lv, 'rp_q[0]'); return g, lo + 0.375 * (st(s, lv, 'nn2[4]') - lo)
        if a == 'cw': return g, m + 0.60 * (st(s, lv, 'nn2[4]') - m)
        return g, st(s, lv, 'mad') + 0.48
    if a == 'linkage': return g, m + 0.45 * (st(s, lv, 'nn2[0]') - m)
    if a == 'cw': return g, m + 1.075 * (st(s, lv, 'nn2[0]') - m)
    return g, st(s, lv, 'rp_q[1]') + 0.18
RULES = {'recommended': R_rec, 'current': R_current, 'current+rho': R_current_rho,
         'nn2q75': mk_shared('nn2[3]', {'linkage': 0.375, 'cw': 0.625, 'dbscan': 0.80}),
         'nn2q90': mk_shared('nn2[4]', {'linkage': 0.35, 'cw': 0.575, 'dbscan': 0.75}),
         'best-per-algo': R_best}
for name in (sys.argv[1:] or RULES):
    R = RULES[name]; print(f'\n### rule {name}\n\n| set | rho | ' + ' | '.join(f'{a}: rule / best (gap)' for a in ALGOS) + ' |\n|---|---|---|---|---|')
    gaps = {a: [] for a in ALGOS}
    for s in SETS:
        row = f'| {s} | {S2[s]["rho"]:+.2f} |'
        for a in ALGOS:
            g, t = R(a, s); c = CURVES[(s, g)][a]
            F = c['auto'][1] if t is None else F_at(c, 1 - t); tt = 1 - c['auto'][0] if t is None else t
            best = c['F'].max(); gap = best - F
            if not (a == 'linkage' and s in ('big', 'big2', 'bigshuf')): gaps[a].append(gap)
            row += f" {F:.3f} / {best:.3f} ({gap:.3f}{'*' if gap > 0.03 else ''}) t={tt:.2f} g={g} |"
        print(row)
    print('\nworst gap (linkage without big/big2/bigshuf): ' + ', '.join(f'{a} {max(gaps[a]):.3f} (mean {np.mean(gaps[a]):.3f})' for a in ALGOS))
