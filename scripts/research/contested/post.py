import csv, h5py, numpy as np, sys, glob, os
from collections import Counter
D='/work/shared/datasets'
paths={'mfn':D+'/real-mfn128-dev.h5','mob':D+'/real-mobileface256-dev.h5','mobdet':D+'/real-mobileface256-dev.h5','fapidet':D+'/celeba-faceapi128-dev.h5','fapin':D+'/celeba-faceapi128-dev.h5','sample':'/work/main/datasets/sample.h5','s128x4':'s128_x4_d20.h5','s512x4':'s512_x4_d20.h5','s128x1':'s128_x1_d5.h5','s22k':'s512_22k.h5','real5k':'real5k.h5','shuf128':'shuf128.h5','shuf128x1':'shuf128x1.h5'}
labs={}
def bc(lab,cl):
    c=cl.copy(); m=c<0; c[m]=np.arange(m.sum())+10**6
    n=len(lab); P=R=0; pairs=Counter(zip(c,lab)); cs=Counter(c); ls=Counter(lab)
    for (ci,li),v in pairs.items(): P+=v*v/cs[ci]; R+=v*v/ls[li]
    P/=n;R/=n; return 2*P*R/(P+R)
tag=sys.argv[1]; ms=[float(v) for v in sys.argv[2].split(',')]
for algo in ['map','linkage','cw','dbscan']:
    line=[algo]
    for name,p in paths.items():
        fn=f'out/{tag}-{algo}-{name}.csv'
        if not os.path.exists(fn): continue
        if p not in labs:
            l=h5py.File(p)["labels"][:].copy(); m=l<0; l[m]=-(np.arange(m.sum())+1)-10**7; labs[p]=l
        lab=labs[p]
        rows=list(csv.DictReader(open(fn)))
        cl=np.array([int(r['cluster']) if r['cluster']!='' else -1 for r in rows]); role=np.array([r['role'] for r in rows])
        mar=np.array([float(r['margin']) if r['margin'] not in ('','nan') else np.nan for r in rows])
        b=bc(lab,cl); s=[f'{b:.3f}']
        for m in ms:
            c2=cl.copy(); c2[(role=='border')&(mar<m)]=-1; s.append(f'{bc(lab,c2)-b:+.3f}')
        line.append(name+'='+'/'.join(s))
    print(' '.join(line))
