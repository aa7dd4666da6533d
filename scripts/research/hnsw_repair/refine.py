import h5py, numpy as np, shutil, sys, time
src, out = sys.argv[1], sys.argv[2]
passes = int(sys.argv[3]) if len(sys.argv) > 3 else 1
kc = int(sys.argv[4]) if len(sys.argv) > 4 else 60   # neighbours whose rows are read
f = h5py.File('r20k.h5'); x = f['embeddings'][:].astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
q = np.linalg.norm(f['embeddings'][:], axis=1)
# centre as magclust does: better half's mean, renormalise
good = q >= np.median(q); mu = x[good].astype(np.float64).mean(0)
x = (x - mu).astype(np.float32); x /= np.linalg.norm(x, axis=1, keepdims=True)
g = h5py.File(src)['knn']; ids = g['ids'][:]; sims = g['sims'][:]
n, k = ids.shape
t = time.time()
for p in range(passes):
    # reverse lists
    rev = [[] for _ in range(n)]
    for i in range(n):
        for j in ids[i, :kc]: rev[j].append(i)
    nid = np.empty_like(ids); nsm = np.empty_like(sims)
    for a in range(n):
        nb = list(ids[a, :kc]) + rev[a][:kc]
        c = np.unique(np.concatenate([ids[a], ids[nb, :kc].ravel(), np.array(nb), np.concatenate([np.array(rev[b][:kc], dtype=np.int64) for b in nb]) if nb else np.array([],dtype=np.int64)]))
        c = c[c != a]
        s = x[c] @ x[a]
        top = np.argsort(-s, kind='stable')[:k]
        nid[a] = c[top]; nsm[a] = s[top]
    ids, sims = nid, nsm
    print('pass', p + 1, 'done', round(time.time() - t, 1), 's', flush=True)
shutil.copy(src, out)
with h5py.File(out, 'r+') as h:
    h['knn']['ids'][...] = ids; h['knn']['sims'][...] = sims
