"""NumPy arrays to the library's embeddings object (private)."""
import ctypes
import sys

import numpy as np


from ._lib import check, cstr, lib


def as_rows(X, name="X"):
    """The N x D float32 C-contiguous array the library reads.

    ``X`` itself when it is one already (no copy: the library reads its
    memory), else ``X`` converted once.
    """
    a = np.asarray(X)
    if a.ndim != 2:
        raise ValueError("%s must be 2-D (faces x dimensions), got shape %s" % (name, a.shape))
    if a.dtype != np.float32 or not a.flags.c_contiguous:
        a = np.ascontiguousarray(a, dtype=np.float32)
    return a


def per_face(values, n, dtype, name):
    """A length-n C-contiguous array of dtype (a view when it is one already)."""
    a = np.ascontiguousarray(values, dtype=dtype)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.shape != (n,):
        raise ValueError("%s must have one value per face (%d), got shape %s" % (name, n, a.shape))
    return a


def photo_ids(photo, n):
    """Photo groups as int64 (negative: no photo): integers as they are,
    anything else (strings, uint64 hashes) numbered by first appearance,
    with None and "" meaning no photo."""
    a = np.asarray(photo)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.shape != (n,):
        raise ValueError("photo must have one value per face (%d), got shape %s" % (n, a.shape))
    if a.dtype.kind == "i" or (a.dtype.kind == "u" and (n == 0 or a.max() <= np.iinfo(np.int64).max)):
        return np.ascontiguousarray(a, dtype=np.int64)
    if a.dtype.kind == "f":
        raise ValueError("photo must hold integers or strings, not %s" % a.dtype)
    ids = np.empty(n, dtype=np.int64)
    seen = {}
    for i, v in enumerate(a.tolist()):
        if v is None or v == "" or v == b"":
            ids[i] = -1
        else:
            ids[i] = seen.setdefault(v, len(seen))
    return ids


class Embeddings:
    """An ``mc_embeddings_t`` built from arrays; freed with the object.

    ``rows`` is the array whose memory the library read (``X`` itself for a
    float32 C-contiguous ``X``).
    """

    def __init__(self, X, quality=None, quality_name=None, photo=None, paths=None, labels=None):
        self.handle = None
        rows = as_rows(X)
        n, d = rows.shape
        self.rows = rows
        h = ctypes.c_void_p()
        check(lib.mc_embeddings_new(rows.ctypes.data if rows.size else None, n, d, ctypes.byref(h)))
        self.handle = h
        self.n, self.d = n, d
        if quality is not None:
            q = per_face(quality, n, np.float32, "quality")
            check(lib.mc_embeddings_set_quality(h, q.ctypes.data, cstr(quality_name)))
        if photo is not None:
            g = photo_ids(photo, n)
            check(lib.mc_embeddings_set_groups(h, g.ctypes.data, b"photo"))
        if paths is not None:
            paths = list(paths)
            if len(paths) != n:
                raise ValueError("paths must have one entry per face (%d), got %d" % (n, len(paths)))
            arr = (ctypes.c_char_p * n)(*[cstr(p) for p in paths])
            check(lib.mc_embeddings_set_paths(h, arr))
        if labels is not None:
            lab = per_face(labels, n, np.int64, "labels")
            check(lib.mc_embeddings_set_labels(h, lab.ctypes.data))

    def close(self):
        if self.handle:
            lib.mc_embeddings_free(self.handle)
            self.handle = None

    def __del__(self):
        if sys is not None and lib is not None:  # not at interpreter shutdown
            self.close()


def c_array(ptr, n, dtype):
    """A copy of n values of dtype at a library-owned address (empty for NULL)."""
    if not ptr or n == 0:
        return np.zeros(0 if not ptr else n, dtype=dtype)
    buf = (ctypes.c_char * (n * np.dtype(dtype).itemsize)).from_address(ptr)
    return np.frombuffer(buf, dtype=dtype).copy()


