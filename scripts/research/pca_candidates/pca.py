import h5py, numpy as np, shutil, subprocess, json, sys
MC='/work/main/build/magclust'
src='r22k.h5'; G='gr22k.h5'; K=60
f=h5py.File(src,'r'); X=f['embeddings'][:].astype(np.float32); f.close()
n=np.linalg.norm(X,axis=1); U=X/n[:,None]
q=n>=np.median(n); mu=U[q].mean(0); U=U-mu; U/=np.linalg.norm(U,axis=1)[:,None]; U=U.astype(np.float32)
g=h5py.File(G,'r'); eid=g['knn/ids'][:]; g.close()
N=len(U)
def F(graph, algo):
    r=subprocess.run([MC,'cluster',src,'--graph',graph,'--algo',algo,'--json','-q'],capture_output=True,text=True)
    return json.loads(r.stdout)['metrics']['bcubed_f']
print('exact: map %.3f linkage %.3f'%(F(G,'map'),F(G,'linkage')), 'no-row', N-len(np.unique(eid)))
C=U.T@U/N; w,V=np.linalg.eigh(C); V=V[:,::-1].copy()
for d,kp in [(64,240),(128,120),(128,240),(256,120)]:
    P=(U@V[:,:d]).astype(np.float32)
    ids=np.zeros((N,K),np.int64); sims=np.zeros((N,K),np.float32)
    for s in range(0,N,2048):
        Sp=P[s:s+2048]@P.T
        r=np.arange(s,min(N,s+2048)); Sp[r-s,r]=-9
        cand=np.argpartition(-Sp,kp,1)[:,:kp]
        full=np.einsum('ij,ikj->ik',U[s:s+2048],U[cand])
        o=np.argsort(-full,1)[:,:K]
        ids[s:s+2048]=np.take_along_axis(cand,o,1); sims[s:s+2048]=np.take_along_axis(full,o,1)
    out=f'gp_{d}_{kp}.h5'; shutil.copy(G,out)
    with h5py.File(out,'r+') as h: h['knn/ids'][...]=ids; h['knn/sims'][...]=sims
    rec=np.mean([len(set(a)&set(b))/K for a,b in zip(ids[::20],eid[::20])])
    print(f'pca {d} cand {kp}: recall@60 {rec:.3f} no-row {N-len(np.unique(ids))} map {F(out,"map"):.3f} linkage {F(out,"linkage"):.3f}',flush=True)
