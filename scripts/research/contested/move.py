import csv, h5py, numpy as np, sys
from collections import Counter
exec(open('post.py').read().split("tag=sys.argv[1]")[0])  # paths, bc
def load(name):
    p=paths[name]; h=h5py.File(p); e=h['embeddings'][:].astype(np.float64)
    qk='det_score' if name in ('mobdet','fapidet') else None
    q=h[qk][:] if qk else np.linalg.norm(e,axis=1)
    x=e/np.linalg.norm(e,axis=1,keepdims=True); good=q>=np.median(q); mu=x[good].mean(0)
    if np.linalg.norm(mu)>0: x=x-mu; x/=np.linalg.norm(x,axis=1,keepdims=True)
    l=h['labels'][:].copy(); m=l<0; l[m]=-(np.arange(m.sum())+1)-10**7
    return x,l
for name in sys.argv[2:]:
    x,lab=load(name); S=x@x.T; np.fill_diagonal(S,-9); nb=np.argsort(-S,axis=1)[:,:60]
    for algo in ('map','cw','linkage','dbscan'):
        rows=list(csv.DictReader(open(f'out/{sys.argv[1]}-{algo}-{name}.csv')))
        cl=np.array([int(r['cluster']) if r['cluster']!='' else -1 for r in rows]); role=np.array([r['role'] for r in rows])
        nc=cl.max()+1; cen=np.zeros((nc,x.shape[1]))
        for c in range(nc):
            m=(cl==c)&(role=='core'); m = m if m.any() else (cl==c); v=x[m].sum(0); cen[c]=v/np.linalg.norm(v)
        dem=cl.copy(); mov=cl.copy(); nd=0
        for i in np.where(role=='border')[0]:
            own=x[i]@cen[cl[i]]; best=-9; bc_=-1
            for j in nb[i]:
                c=cl[j]
                if c<0 or c==cl[i]: continue
                s=x[i]@cen[c]
                if s>best: best=s; bc_=c
            if bc_>=0 and own<best: dem[i]=-1; mov[i]=bc_; nd+=1
        print(name,algo,'base %.4f demote %+.4f move %+.4f (n=%d)'%(bc(lab,cl),bc(lab,dem)-bc(lab,cl),bc(lab,mov)-bc(lab,cl),nd))
