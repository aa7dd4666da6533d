from common import *
import sys
tol = float(sys.argv[1]) if len(sys.argv) > 1 else 0.03
for g in ['on', 'off']:
  for a in ALGOS:
    print(f"== {a} gate {g}: acceptable t within {tol} of best, as frac of (nn_med-m) and as z of mad")
    for s in SETS:
        st = stats(s); c = load_sweep(s, g)[a]; j = np.argmax(c['F']); ok = c['eps'][c['F'] >= c['F'][j] - tol]
        lo, hi, tb = 1 - ok.max(), 1 - ok.min(), 1 - c['eps'][j]
        fr = lambda t: (t - st['m']) / (st['nn_med'] - st['m']); zz = lambda t: (t - st['m']) / st['mad']
        print(f"  {s:11s} t[{lo:.2f},{hi:.2f}] best {tb:.2f} F {c['F'][j]:.3f} | frac [{fr(lo):.2f},{fr(hi):.2f}] | z [{zz(lo):.1f},{zz(hi):.1f}] | nn_med {st['nn_med']:.2f} mad {st['mad']:.3f}")
