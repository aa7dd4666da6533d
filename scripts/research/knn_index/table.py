#!/usr/bin/env python3
"""The table of run.sh results: python3 table.py "OUT/*.json"."""
import json, glob, os, re
rows = []
import sys
for f in sorted(glob.glob(sys.argv[1] if len(sys.argv) > 1 else '/tmp/h-hnsw/bench/*.json')):
    base = f[:-5]
    try:
        j = json.load(open(f))
    except Exception:
        continue
    t = open(base + '.time').read()
    rss = int(re.search(r'Maximum resident set size \(kbytes\): (\d+)', t).group(1)) / 1024 / 1024
    wall = re.search(r'Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)', t).group(1)
    parts = [float(x) for x in wall.split(':')]
    w = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
    cpu = float(re.search(r'User time \(seconds\): (\S+)', t).group(1)) + float(re.search(r'System time \(seconds\): (\S+)', t).group(1))
    k = j['knn']; r = k['recall']
    def find(d, key):
        if isinstance(d, dict):
            for a, b in d.items():
                if a == key: return b
                v = find(b, key)
                if v is not None: return v
        return None
    bf = find(j, 'bcubed_f'); n = find(j, 'faces') or find(j, 'n')
    knn_s = k['train_seconds'] + k['add_seconds'] + k['search_seconds']
    rows.append((os.path.basename(base), k['index'], knn_s, k['add_seconds'], k['search_seconds'],
                 r['overall'], r['better_half'], bf, w, cpu, rss))
print('| run | index | knn s | build(add) s | search s | recall@30 | better half | BCubed F | wall s | CPU s | peak RSS GiB |')
print('|---|---|---|---|---|---|---|---|---|---|---|')
for x in rows:
    print('| %s | %s | %.1f | %.1f | %.1f | %.4f | %.4f | %.4f | %.0f | %.0f | %.2f |' % x)
