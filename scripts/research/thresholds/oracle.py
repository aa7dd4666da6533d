from common import *
print(f"{'set':11s} {'m':>6s} {'mad':>5s} {'nnmed':>5s} {'rho':>5s} |" + ''.join(f" {a[:4]+'/'+g:>22s}" for g in ['on','off'] for a in ALGOS))
for s in SETS:
    st = stats(s); row = f"{s:11s} {st['m']:6.3f} {st['mad']:5.3f} {st['nn_med']:5.3f} {st['rho']:5.2f} |"
    for g in ['on', 'off']:
        sw = load_sweep(s, g)
        for a in ALGOS:
            c = sw[a]; j = np.argmax(c['F']); ok = c['eps'][c['F'] >= c['F'][j] - 0.03]
            row += f" {c['auto'][1]:.3f}/{c['F'][j]:.3f}@{1-c['eps'][j]:.2f}[{1-ok.max():.2f},{1-ok.min():.2f}]"
    print(row)
