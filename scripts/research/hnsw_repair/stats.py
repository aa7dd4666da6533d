import h5py, numpy as np, sys
a=h5py.File('ge.h5')['knn']; ia=a['ids'][:]; sa=a['sims'][:]; n=len(ia)
for g in sys.argv[1:]:
    b=h5py.File(g)['knn']; ib=b['ids'][:]; sb=b['sims'][:]; indb=np.bincount(ib.ravel(),minlength=n)
    r10=np.mean([len(set(ia[i,:10])&set(ib[i,:10]))/10 for i in range(n)])
    r60=np.mean([len(set(ia[i])&set(ib[i]))/60 for i in range(n)])
    print(g,'recall@10',round(r10,4),'@60',round(r60,4),'faces in no row',(indb==0).sum(), 'row sims >= exact?', bool((sb[:,-1] <= sa[:,-1]+1e-5).all()))
