import csv, h5py, numpy as np, sys
from collections import Counter
h=h5py.File(sys.argv[1]); lab=h['labels'][:]
rows=list(csv.DictReader(open(sys.argv[2])))
cl=np.array([int(r['cluster']) if r['cluster']!='' else -1 for r in rows]); role=np.array([r['role'] for r in rows])
sim=np.array([float(r['similarity']) if r['similarity'] not in ('','nan') else np.nan for r in rows]); mar=np.array([float(r['margin']) if r['margin'] not in ('','nan') else np.nan for r in rows])
q=np.array([float(r['quality']) for r in rows])
maj={}
for c in set(cl[cl>=0]): maj[c]=Counter(lab[(cl==c)&(role=='core')]).most_common(1)[0][0] if ((cl==c)&(role=='core')).any() else Counter(lab[cl==c]).most_common(1)[0][0]
for r in ('core','border'):
    m=role==r; ok=np.array([maj[c]==l for c,l in zip(cl[m],lab[m])])
    print(r,m.sum(),'correct',ok.mean())
    if r=='border':
        s=sim[m]
        for lo,hi in [(0,.5),(.5,.6),(.6,.7),(.7,.8),(.8,1.1)]:
            mm=(s>=lo)&(s<hi); print(f'  sim [{lo},{hi}) n={mm.sum()} acc={ok[mm].mean() if mm.any() else 0:.2f}')
        mg=mar[m]
        for lo,hi in [(0,.02),(.02,.05),(.05,.1),(.1,.2),(.2,2)]:
            mm=(mg>=lo)&(mg<hi); print(f'  margin [{lo},{hi}) n={mm.sum()} acc={ok[mm].mean() if mm.any() else 0:.2f}')
