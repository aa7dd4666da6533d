import h5py, numpy as np, shutil, subprocess, json, sys
MC='/work/main/build/magclust'
src, G, frac = sys.argv[1], sys.argv[2], float(sys.argv[3]); K=60
f=h5py.File(src,'r'); X=f['embeddings'][:].astype(np.float32); f.close()
n=np.linalg.norm(X,axis=1); U=X/n[:,None]
q=n>=np.median(n); mu=U[q].mean(0); U=U-mu; U/=np.linalg.norm(U,axis=1)[:,None]; U=U.astype(np.float32)
N=len(U)
db=np.where(n>=np.quantile(n,1-frac))[0]
D=U[db]
ids=np.zeros((N,K),np.int64); sims=np.zeros((N,K),np.float32)
for s in range(0,N,2048):
    S=U[s:s+2048]@D.T
    r=np.arange(s,min(N,s+2048))
    pos=np.searchsorted(db,r); hit=(pos<len(db))&(db[np.minimum(pos,len(db)-1)]==r)
    S[np.where(hit)[0],pos[hit]]=-9
    c=np.argpartition(-S,K,1)[:,:K]; v=np.take_along_axis(S,c,1); o=np.argsort(-v,1)
    ids[s:s+2048]=db[np.take_along_axis(c,o,1)]; sims[s:s+2048]=np.take_along_axis(v,o,1)
out=G.replace('.h5',f'_core{frac}.h5'); shutil.copy(G,out)
with h5py.File(out,'r+') as h: h['knn/ids'][...]=ids; h['knn/sims'][...]=sims
def F(graph, algo):
    r=subprocess.run([MC,'cluster',src,'--graph',graph,'--algo',algo,'--json','-q'],capture_output=True,text=True)
    return json.loads(r.stdout)['metrics']['bcubed_f']
print(src, 'db frac',frac,'exact map %.3f linkage %.3f'%(F(G,'map'),F(G,'linkage')),' core-db map %.3f linkage %.3f'%(F(out,'map'),F(out,'linkage')))
