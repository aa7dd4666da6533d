"""External clustering metrics (``mc_metrics_compute``): BCubed, pairwise F, NMI.

A negative label, in the truth (unknown identity) or the prediction
(noise), is a singleton: a class or cluster of its own.
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import check, lib


def _labels(labels_true, labels_pred):
    t = np.asarray(labels_true)
    p = np.asarray(labels_pred)
    for name, a in (("labels_true", t), ("labels_pred", p)):
        if a.ndim != 1:
            raise ValueError("%s must be 1-D, got shape %s" % (name, a.shape))
        if a.size and a.dtype.kind not in "iub":
            raise ValueError("%s must hold integers, not %s" % (name, a.dtype))
    if t.shape != p.shape:
        raise ValueError("labels_true has %d items, labels_pred %d" % (t.size, p.size))
    return np.ascontiguousarray(t, dtype=np.int64), np.ascontiguousarray(p, dtype=np.int64)


def _as_dict(m):
    return {name: getattr(m, name) for name, _ in _lib.Metrics._fields_}


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
    t, p = _labels(labels_true, labels_pred)
    m = _lib.Metrics()
    check(lib.mc_metrics_compute(t.ctypes.data, p.ctypes.data, t.size, ctypes.byref(m)))
    return _as_dict(m)


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


def reject_curve(labels_true, labels_pred, quality, step=5.0, max_pct=50.0):
    """Error versus reject: the metrics of the faces left when the
    lowest-quality 0, step, ... max_pct percent are set aside (ties by
    index), as ``magclust eval --reject-curve`` computes them.

    Parameters
    ----------
    labels_true, labels_pred : array_like of int, shape (n,)
    quality : array_like of float, shape (n,)
        E.g. ``MagClust.quality_`` or the magnitudes.
    step : float, default 5
        Percent between points (> 0).
    max_pct : float, default 50
        The last point, in [0, 100).

    Returns
    -------
    list of dict
        One per point: ``reject_pct``, ``quality_below`` (the first kept
        face's quality; NaN at 0 %), ``faces`` and every key of
        :func:`compute`.

    Raises
    ------
    ValueError
        Bad arguments, or so few faces that the last point keeps none.
    """
    t, p = _labels(labels_true, labels_pred)
    q = np.ascontiguousarray(quality, dtype=np.float32)
    if q.shape != t.shape:
        raise ValueError("quality has %d values for %d faces" % (q.size, t.size))
    npts = lib.mc_reject_curve_points(float(step), float(max_pct))
    pts = (_lib.RejectPoint * max(npts, 1))()
    check(lib.mc_reject_curve(t.ctypes.data, p.ctypes.data, q.ctypes.data, t.size, float(step),
                              float(max_pct), pts))
    out = []
    for pt in pts[:npts]:
        d = {"reject_pct": pt.reject_pct, "quality_below": pt.quality_below, "faces": pt.faces}
        d.update(_as_dict(pt.m))
        out.append(d)
    return out
