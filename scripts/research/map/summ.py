import json, sys, collections
from exp import baseline_info
f = sys.argv[1] if len(sys.argv) > 1 else 'grid.jsonl'
rows = [json.loads(l) for l in open(f)]
sets = ['mfn','fapi','mob','mobdet','s128_x4_d20','s512_x4_d20','s128_x1_d05','s128_shuf','s512_22k']
T = collections.defaultdict(dict)
for r in rows: T[r['variant']][r['set']] = r
sets = [s for s in sets if any(s in T[v] for v in T)]
bi = baseline_info()
print('| variant | ' + ' | '.join(sets) + ' | mean |')
print('|---|' + '---|' * (len(sets) + 1))
for a in ['cw', 'linkage']:
    vals = [bi[s][a]['F'] for s in sets]
    print(f'| magclust {a} | ' + ' | '.join(f"{bi[s][a]['F']:.3f} ({bi[s][a]['P']:.2f}/{bi[s][a]['R']:.2f}, {bi[s][a]['clusters']})" for s in sets) + f' | {sum(vals)/len(vals):.3f} |')
for v in sorted(T):
    cells = []; vals = []
    for s in sets:
        r = T[v].get(s)
        if r is None: cells.append('-'); continue
        if 'err' in r: cells.append('ERR'); continue
        cells.append(f"{r['F']:.3f} ({r['P']:.2f}/{r['R']:.2f}, {r['clusters']})"); vals.append(r['F'])
    mean = f'{sum(vals)/len(vals):.3f}' if len(vals) == len(sets) else '-'
    print(f'| {v} | ' + ' | '.join(cells) + f' | {mean} |')
