import csv, h5py, numpy as np, sys
from collections import Counter, defaultdict
h=h5py.File(sys.argv[1]); lab=h['labels'][:]
rows=list(csv.DictReader(open(sys.argv[2])))
cl=np.array([int(r['cluster']) if r['cluster']!='' else -1 for r in rows]); role=np.array([r['role'] for r in rows])
def bcubed(lab,cl):
    # noise -> singletons
    c=cl.copy(); m=c<0; c[m]=np.arange(m.sum())+10**6
    n=len(lab); P=R=0
    pairs=Counter(zip(c,lab)); cs=Counter(c); ls=Counter(lab)
    for (ci,li),v in pairs.items(): P+=v*v/cs[ci]; R+=v*v/ls[li]
    P/=n; R/=n; return P,R,2*P*R/(P+R)
print('all', bcubed(lab,cl))
# oracle: noise faces attached to majority cluster of their identity
c2=cl.copy()
maj={}
for l in set(lab):
    cc=Counter(cl[(lab==l)&(cl>=0)]); maj[l]=cc.most_common(1)[0][0] if cc else -1
for i in np.where(cl<0)[0]: c2[i]=maj[lab[i]]
print('noise attached by oracle', bcubed(lab,c2))
# oracle: merge fragments: every cluster relabelled to majority identity
c3=cl.copy(); 
for c in set(cl[cl>=0]):
    l=Counter(lab[cl==c]).most_common(1)[0][0]; c3[cl==c]=l+10**7
print('fragments merged by oracle', bcubed(lab,c3))
c4=c3.copy()
for i in np.where(cl<0)[0]: c4[i]=lab[i]+10**7
print('both', bcubed(lab,c4))
print('roles',Counter(role))
