"""The k-nearest-neighbour graph (``magclust knn``)."""
import ctypes

import numpy as np

from . import _lib
from ._faces import Embeddings
from ._lib import cstr, lib
from ._progress import Progress


class _GraphBuffer:
    """One array of a k-NN graph, exposed to NumPy without a copy; the
    graph is freed when the last array viewing it goes."""

    def __init__(self, graph, ptr, shape, typestr):
        self.graph = graph
        self.__array_interface__ = {"shape": shape, "typestr": typestr,
                                    "data": (ptr, True), "version": 3}  # read-only


class _Graph:
    def __init__(self, handle):
        self.handle = handle

    def __del__(self):
        if lib is not None and self.handle:
            lib.mc_knn_graph_free(self.handle)
            self.handle = None


def knn_graph(X, k=30, index="auto", nprobe=None, ef_search=None, threads=None, progress=None):
    """The k most similar faces of every face (cosine of the unit directions).

    Parameters
    ----------
    X : array_like, shape (n_faces, n_dims)
        Raw embeddings (only their directions count); float32 C-contiguous
        is read without a copy. They are not centred here.
    k : int, default 30
        Neighbours per face, self excluded; 1 <= k < n_faces.
    index : str, default "auto"
        ``"Flat"`` (exact), ``"Int8"`` (every pair on 8-bit directions,
        re-ranked), ``"PCA<d>,Int8"`` (the same on d principal axes), ``"Cells<nlist>"``, ``"HNSW<M>"``, a FAISS index_factory
        string, or ``"auto"`` (Flat up to 20,000 faces; Int8 up to 200,000
        where the CPU has AVX-512 VNNI, else Flat; then Cells).
    nprobe, ef_search : int, optional
        Cells/IVF cells visited, HNSW search depth (default: automatic).
    threads : int, optional
        None or 0: all cores. The exact graph does not depend on it.
    progress : bool or callable, optional
        As :class:`MagClust`'s: a callable returning a true value cancels
        the search (:class:`CancelledError`); Ctrl-C raises
        ``KeyboardInterrupt``.

    Returns
    -------
    ids : ndarray of int64, shape (n_faces, k)
        Neighbour ids by decreasing similarity (ties by id); -1 pads a row
        with fewer than k.
    sims : ndarray of float32, shape (n_faces, k)
        Their cosine similarities.

    Both arrays are read-only views of the library's graph (no copy).
    """
    emb = Embeddings(X)
    kp = lib.mc_knn_params_default()
    kp.k = int(k)
    if index is not None and index != "auto":
        kp.index = cstr(index)
    if nprobe is not None:
        kp.nprobe = int(nprobe)
    if ef_search is not None:
        kp.ef_search = int(ef_search)
    kp.n_threads = 0 if threads is None else int(threads)
    h = ctypes.c_void_p()
    info = _lib.KnnInfo()
    with Progress(progress) as prog:
        kp.progress = prog.c_fn
        status = lib.mc_knn_graph_build_ex(emb.handle, ctypes.byref(kp), ctypes.byref(h),
                                           ctypes.byref(info))
    graph = _Graph(h)
    prog.done(status)
    n, kk = int(lib.mc_knn_graph_n(h)), int(lib.mc_knn_graph_k(h))
    ids = np.asarray(_GraphBuffer(graph, lib.mc_knn_graph_ids(h), (n, kk), "<i8"))
    sims = np.asarray(_GraphBuffer(graph, lib.mc_knn_graph_sims(h), (n, kk), "<f4"))
    return ids, sims
