import sys
from search import *
a = sys.argv[1]; key = sys.argv[2]
for g in ['on', 'off']:
    lv = level(a, g); print(f'== {a} {g}: {key} at level {lv} vs acceptable t window (0.03)')
    for s in SETS:
        v = statvec(s, lv)[key]; c = CURVES[(s, g)][a]; j = np.argmax(c['F']); ok = c['eps'][c['F'] >= c['F'][j] - 0.03]
        lo, hi = 1 - ok.max(), 1 - ok.min()
        print(f'  {s:11s} S {v:.3f}  t[{lo:.2f},{hi:.2f}] best {1-c["eps"][j]:.2f}  => offset window [{lo - v:+.2f},{hi - v:+.2f}]  rho {S2[s]["rho"]:+.2f}')
