"""A float32 C-contiguous array reaches the library without a copy; anything
else is converted once."""
import tracemalloc

import numpy as np
import pytest

import magclust
from magclust import _faces, _lib

from conftest import SAMPLE


def test_float32_c_contiguous_is_read_in_place():
    X = magclust.read(SAMPLE).X
    assert X.dtype == np.float32 and X.flags.c_contiguous
    e = _faces.Embeddings(X)
    assert e.rows is X and np.shares_memory(e.rows, X)
    # and the library's directions are X's rows normalised (it did read X)
    d = _lib.lib.mc_embeddings_directions(e.handle)
    dirs = _faces.c_array(d, X.size, np.float32).reshape(X.shape)
    np.testing.assert_allclose(dirs, X / np.linalg.norm(X, axis=1, keepdims=True), atol=1e-6)


@pytest.mark.parametrize("make", [lambda X: X.astype(np.float64), lambda X: np.asfortranarray(X),
                                  lambda X: X[:, ::2]])
def test_other_arrays_are_converted_once(make):
    X = make(magclust.read(SAMPLE).X)
    e = _faces.Embeddings(X)
    assert not np.shares_memory(e.rows, X)
    assert e.rows.dtype == np.float32 and e.rows.flags.c_contiguous
    np.testing.assert_array_equal(e.rows, X.astype(np.float32))


def traced_peak(fn):
    """Peak of the Python-side allocations (NumPy's are traced) during fn()."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fit_allocates_no_copy_of_X():
    """Memory measurement: fitting a float32 array allocates (on the Python
    side) far less than one copy of it; a float64 array costs one float32
    copy, the conversion."""
    X = magclust.read(SAMPLE).X
    copy = X.size * 4
    mc = magclust.MagClust(algo="linkage", progress=False)
    mc.fit(X)  # warm up imports and caches
    peak32 = traced_peak(lambda: mc.fit(X))
    X64 = X.astype(np.float64)
    peak64 = traced_peak(lambda: mc.fit(X64))
    assert peak32 < copy / 4, (peak32, copy)
    assert peak64 >= copy, (peak64, copy)


def test_knn_graph_is_a_view_of_the_librarys():
    X = magclust.read(SAMPLE).X
    ids, sims = magclust.knn_graph(X, k=5, index="Flat")
    assert ids.shape == sims.shape == (X.shape[0], 5)
    assert ids.dtype == np.int64 and sims.dtype == np.float32
    assert not ids.flags.owndata and not ids.flags.writeable
    base = ids.base
    assert base.__array_interface__["data"][0] == ids.__array_interface__["data"][0]
    # exact: the brute-force neighbours, by decreasing cosine
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = U[:50] @ U.T
    S[np.arange(50), np.arange(50)] = -np.inf
    best = -np.sort(-S, axis=1)[:, :5]
    np.testing.assert_allclose(sims[:50], best, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(S, ids[:50], axis=1), sims[:50], atol=1e-5)
    del ids, base
    assert float(sims.sum()) != 0.0  # the graph lives while a view does
