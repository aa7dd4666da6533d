import csv, h5py, numpy as np, sys
from collections import Counter
h=h5py.File(sys.argv[1]); lab=h['labels'][:]
rows=list(csv.DictReader(open(sys.argv[2])))
cl=np.array([int(r['cluster']) if r['cluster']!='' else -1 for r in rows]); role=np.array([r['role'] for r in rows])
f=lambda v: float(v) if v not in ('','nan') else np.nan
sim=np.array([f(r['similarity']) for r in rows]); mar=np.array([f(r['margin']) for r in rows])
def bc(cl):
    c=cl.copy(); m=c<0; c[m]=np.arange(m.sum())+10**6
    n=len(lab); P=R=0; pairs=Counter(zip(c,lab)); cs=Counter(c); ls=Counter(lab)
    for (ci,li),v in pairs.items(): P+=v*v/cs[ci]; R+=v*v/ls[li]
    P/=n;R/=n; return 2*P*R/(P+R)
bord=role=='border'
out=[]
for m in [0,0.02,0.04,0.06,0.08,0.1,0.15,0.2]:
    c2=cl.copy(); c2[bord&(mar<m)]=-1; out.append(f'{m}:{bc(c2):.4f}')
print(sys.argv[2], 'border',bord.sum(),'noise',(cl<0).sum(),' '.join(out))
