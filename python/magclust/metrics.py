"""External clustering metrics (``mc_metrics_compute``): BCubed, pairwise F, NMI.

A negative label, in the truth (unknown identity) or the prediction
(noise), is a singleton: a class or cluster of its own.
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import check, lib


def compute(labels_true, labels_pred):
    """Every metric of one prediction.

    Parameters
    ----------
    labels_true, labels_pred : array_like of int, shape (n,)
        True identities and predicted clusters (negative: singleton).

    Returns
    -------
    dict
        ``bcubed_precision``, ``bcubed_recall``, ``bcubed_f``,
        ``pairwise_precision``, ``pairwise_recall``, ``pairwise_f``, ``nmi``,
        ``n``, ``n_classes``, ``n_clusters``.

    Raises
    ------
    ValueError
        The arrays differ in length, are empty, or are not integers.
    """
    t = np.asarray(labels_true)
    p = np.asarray(labels_pred)
    for name, a in (("labels_true", t), ("labels_pred", p)):
        if a.ndim != 1:
            raise ValueError("%s must be 1-D, got shape %s" % (name, a.shape))
        if a.size and a.dtype.kind not in "iub":
            raise ValueError("%s must hold integers, not %s" % (name, a.dtype))
    if t.shape != p.shape:
        raise ValueError("labels_true has %d items, labels_pred %d" % (t.size, p.size))
    t = np.ascontiguousarray(t, dtype=np.int64)
    p = np.ascontiguousarray(p, dtype=np.int64)
    m = _lib.Metrics()
    check(lib.mc_metrics_compute(t.ctypes.data, p.ctypes.data, t.size, ctypes.byref(m)))
    return {name: getattr(m, name) for name, _ in _lib.Metrics._fields_}


def bcubed(labels_true, labels_pred):
    """BCubed (Amigo et al. 2009): ``(precision, recall, f)``."""
    m = compute(labels_true, labels_pred)
    return m["bcubed_precision"], m["bcubed_recall"], m["bcubed_f"]


def pairwise(labels_true, labels_pred):
    """Pairwise precision, recall and F over same-cluster pairs: ``(precision, recall, f)``."""
    m = compute(labels_true, labels_pred)
    return m["pairwise_precision"], m["pairwise_recall"], m["pairwise_f"]


def nmi(labels_true, labels_pred):
    """Normalised mutual information (arithmetic mean of the entropies)."""
    return compute(labels_true, labels_pred)["nmi"]
