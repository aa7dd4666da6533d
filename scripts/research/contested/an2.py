import csv, h5py, numpy as np, sys
from collections import Counter
h=h5py.File(sys.argv[1]); lab=h['labels'][:]; e=h['embeddings'][:].astype(np.float64)
qk=sys.argv[3] if len(sys.argv)>3 else None
q=h[qk][:] if qk else np.linalg.norm(e,axis=1)
x=e/np.linalg.norm(e,axis=1,keepdims=True)
good=q>=np.median(q); mu=x[good].mean(0); x=x-mu; x/=np.linalg.norm(x,axis=1,keepdims=True)
rows=list(csv.DictReader(open(sys.argv[2])))
cl=np.array([int(r['cluster']) if r['cluster']!='' else -1 for r in rows])
maj={}
for c in set(cl[cl>=0]): maj[c]=Counter(lab[cl==c]).most_common(1)[0][0]
S=x@x.T
noise=np.where(cl<0)[0]; clus=np.where(cl>=0)[0]
best=[];ok=[];mar=[]
for i in noise:
    s=S[i,clus]; 
    # per-cluster max
    cm={}
    for j,v in zip(clus,s):
        c=cl[j]; 
        if v>cm.get(c,-9): cm[c]=v
    it=sorted(cm.items(),key=lambda t:-t[1])
    c,v=it[0]; v2=it[1][1] if len(it)>1 else -1
    best.append(v); ok.append(maj[c]==lab[i]); mar.append(v-v2)
best=np.array(best); ok=np.array(ok); mar=np.array(mar); qq=q[noise]
print('noise',len(noise),'NN-cluster correct',ok.mean())
for lo,hi in [(-1,.2),(.2,.3),(.3,.4),(.4,.5),(.5,.6),(.6,1.1)]:
    m=(best>=lo)&(best<hi); print(f'sim [{lo},{hi}) n={m.sum()} acc={ok[m].mean() if m.any() else 0:.2f}')
for lo,hi in [(0,.02),(.02,.05),(.05,.1),(.1,1)]:
    m=(mar>=lo)&(mar<hi); print(f'margin [{lo},{hi}) n={m.sum()} acc={ok[m].mean() if m.any() else 0:.2f}')
