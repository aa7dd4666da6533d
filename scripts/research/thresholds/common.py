import csv, json, numpy as np
SETS = [l.split('|')[0] for l in open('/tmp/h19/sets.txt').read().split('\n') if l.strip()]
ALGOS = ['linkage', 'cw', 'dbscan']
def load_sweep(name, gate):
    fn = f'/tmp/h19/sw/{name}{"_off" if gate == "off" else ""}.csv'
    cur = {}
    for r in csv.DictReader(open(fn)):
        a = r['algo']; cur.setdefault(a, {'eps': [], 'F': [], 'auto': None})
        if r['setting'] == 'auto': cur[a]['auto'] = (float(r['eps']), float(r['bcubed_f']))
        else: cur[a]['eps'].append(float(r['eps'])); cur[a]['F'].append(float(r['bcubed_f']))
    for a in cur: cur[a]['eps'] = np.array(cur[a]['eps']); cur[a]['F'] = np.array(cur[a]['F'])
    return cur
def F_at(c, eps):
    """F read off the sweep curve at eps (linear interpolation between 0.01 steps)."""
    e, F = c['eps'], c['F']; eps = min(max(eps, e[0]), e[-1])
    return float(np.interp(eps, e, F))
def stats(name): return json.load(open(f'/tmp/h19/stats/{name}.json'))
