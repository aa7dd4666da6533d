# copies of a set whose norm is meaningless (shuffled) or weak (mixed with noise)
import sys, numpy as np, h5py
src, out, mode = sys.argv[1:4]
f=h5py.File(src,'r'); X=f['embeddings'][:].astype(np.float64); lab=f['labels'][:]; paths=f['paths'][:] if 'paths' in f else None
n=np.linalg.norm(X,axis=1); U=X/n[:,None]; rng=np.random.default_rng(7)
if mode=='shuffle': n2=rng.permutation(n)
else:  # weak: rank-mix with noise, corr ~0.3
    r=np.argsort(np.argsort(n))/len(n); z=0.3*r+0.7*rng.random(len(n)); n2=np.sort(n)[np.argsort(np.argsort(z))]
g=h5py.File(out,'w'); g['embeddings']=(U*n2[:,None]).astype(np.float32); g['labels']=lab
if paths is not None: g['paths']=paths
g['true_norm']=n.astype(np.float32)
