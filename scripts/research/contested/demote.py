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
base=bc(cl)
core=role=='core'; other=sim[core]-mar[core]
cs=sim[core]
A=np.nanpercentile(other,99); A2=np.nanpercentile(other,95)
med=np.nanmedian(cs); mad=1.4826*np.nanmedian(np.abs(cs-med))
bord=role=='border'
res=[]
for t in np.arange(0.2,0.75,0.025):
    c2=cl.copy(); c2[bord&(sim<t)]=-1; res.append((round(t,3),round(bc(c2),4)))
best=max(res,key=lambda r:r[1])
def at(t):
    c2=cl.copy(); c2[bord&(sim<t)]=-1; return round(bc(c2),4)
print(sys.argv[2], 'base',round(base,4),'best',best, '| other p99',round(A,3),at(A),' p95',round(A2,3),at(A2),' core med-3mad',round(med-3*mad,3),at(med-3*mad), ' med-4mad',round(med-4*mad,3),at(med-4*mad))
