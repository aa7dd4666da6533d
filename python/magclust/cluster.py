"""The clustering estimator: ``mc_cluster_run`` behind scikit-learn's conventions."""
import ctypes
import inspect
import math
import numbers
import time

import numpy as np

from . import _lib
from ._faces import Embeddings, c_array
from ._lib import check, cstr, lib, text
from ._progress import Progress

#: Role codes of ``roles_`` (``mc_role``): ``ROLES[code]`` is the name.
ROLES = ("core", "border", "noise", "unassigned")
CORE, BORDER, NOISE, UNASSIGNED = 0, 1, 2, 3

_ALGOS = ("dbscan", "linkage", "cw", "map")
_DOUBTS = {1: "few_faces", 2: "nn_not_closer"}


def _gate(value, name):
    """A quality gate: "off", "pNN" or a number, as ``--core-quality`` takes it."""
    t = _lib.Threshold()
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError("%s must be finite, got %r" % (name, value))
        t.kind, t.value = _lib.MC_THRESH_ABSOLUTE, float(value)
        return t
    if not isinstance(value, str):
        raise ValueError("%s must be 'off', 'pNN' or a number, got %r" % (name, value))
    try:
        check(lib.mc_threshold_parse(cstr(value), ctypes.byref(t)))
    except ValueError as exc:
        raise _lib.InvalidInputError("%s: %s" % (name, exc)) from None
    return t


def _gate_text(t):
    buf = ctypes.create_string_buffer(32)
    lib.mc_threshold_format(ctypes.byref(t), buf, 32)
    return buf.value.decode()


class MagClust:
    """Quality-aware clustering of face embeddings (``magclust cluster``).

    Every parameter left at None takes the library's default for the chosen
    algorithm, ``mc_cluster_params_default(algo)``, which is also what
    ``magclust cluster --algo ALGO`` runs with; so ``MagClust().fit(X)``
    gives the labels ``magclust cluster`` gives for the same faces. (The
    defaults sketched in the issue that asked for this package, linkage with
    ``k=30`` and ``core_quality="p50"``, are not the library's: the library's
    default algorithm is the map equation, with 60 neighbours and a core gate
    that follows the quality check. This class follows the library.)

    Parameters
    ----------
    algo : {"map", "linkage", "dbscan", "cw"}, default "map"
        The algorithm (``--algo``).
    threshold : float, optional
        A fixed cosine-similarity threshold in [-1, 1]. Default: chosen from
        the data (label-free calibration). Give this or ``eps``, not both.
    eps : float, optional
        The threshold as a cosine distance, ``1 - threshold``, in [0, 2]
        (``--eps``; computed exactly as the CLI computes it).
    calib_frac, calib_z : float, optional
        The calibration constants (``--calib-frac``, ``--calib-z``); default
        per algorithm (linkage 0.45 / 2.5, map and cw 0.55 / 3.0, dbscan
        0.60 / 3.5).
    core_quality, noise_quality : str or float, optional
        Quality gates: ``"off"``, a percentile such as ``"p30"``, or an
        absolute value (``--core-quality``, ``--noise-quality``). Giving one
        gates whatever the quality check says, as on the command line.
        Default core gate: p50 for linkage and map, p30 for dbscan and cw;
        noise gate off.
    trust_quality : bool, default False
        Gate even when the quality check finds the quality uninformative.
    core_slope : float, optional
        map: the core gate is the percentile ``core_slope x rho`` of an
        informative quality (default 85; 0 uses ``core_quality``).
    k : int, optional
        Neighbours per face in the k-NN graph (default 60 for map, else 30).
    center : bool, default True
        Remove the better half's mean direction first.
    index : str, default "auto"
        The k-NN index: ``"Flat"``, ``"Int8"``, ``"PCA<d>,Int8"``, ``"Cells<nlist>"``, ``"HNSW<M>"``,
        a FAISS index_factory string, or ``"auto"``.
    nprobe, ef_search : int, optional
        Cells/IVF cells visited; HNSW search depth (default: automatic).
    min_cluster_size : int, optional
        Clusters smaller than this become noise (default 1: all kept).
    contested : {"noise", "keep"}, default "noise"
        A border face nearer the centre of another cluster (among its
        neighbours') than its own cluster's: noise, or kept where the
        algorithm put it (``--contested``).
    linkage : {"average", "single", "complete"}, optional
        linkage: the linkage (default average).
    min_samples : int, optional
        dbscan: faces within eps, self included, for a core face.
    seed : int, optional
        cw and map: seed of the visiting order (default 1).
    iterations : int, optional
        cw: rounds at most (default 100).
    flow : {"undirected", "directed"}, optional
    teleport, temperature : float, optional
    cut : {"outlier", "none"}, optional
    window, trials : int, optional
        map: the network and the search (``--flow`` ... ``--trials``).
    threads : int, optional
        Threads for every phase; None or 0: all cores. The result does not
        depend on it.
    progress : bool or callable, optional
        None (default) prints the search's progress on stderr when it is a
        terminal; True / False force it; a callable gets
        ``(phase, done, total)`` and may cancel the fit by returning a true
        value (``fit`` then raises :class:`CancelledError`); an exception it
        raises cancels the fit too, and ``fit`` raises it. Ctrl-C during a
        fit stops the library at its next progress report and raises
        ``KeyboardInterrupt`` (whatever ``progress`` is).

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n_faces,)
        Cluster of each face, 0.. by decreasing size; -1 is noise.
    roles_ : ndarray of uint8, shape (n_faces,)
        Role codes: ``ROLES[code]`` is "core", "border" or "noise".
    quality_ : ndarray of float32
        The quality the gates judged (the magnitudes unless given).
    similarities_, margins_ : ndarray of float32
        Each face's cosine to its cluster's centre, and its margin over the
        next-best cluster (NaN where undefined).
    threshold_ : float
        The similarity threshold in effect (DBSCAN's eps is 1 minus it).
    calibration_ : dict
        What the run measured and resolved: the calibration's statistics,
        the quality check, the gates as values, the index, seconds per phase
        (``t_prepare``, ``t_cluster``: the library's; ``t_load``: the
        library building its embeddings from X, rows split into directions
        and norms as the CLI's reader does; ``t_run``: the whole
        ``mc_cluster_run`` call, scoring included, as timed from Python).
    n_clusters_ : int
    n_features_in_ : int
    center_ : ndarray of float32 or None
        The mean direction removed (None when not centred).
    """

    def __init__(self, algo="map", threshold=None, eps=None, calib_frac=None, calib_z=None,
                 core_quality=None, noise_quality=None, trust_quality=False, core_slope=None,
                 k=None, center=True, index="auto", nprobe=None, ef_search=None,
                 min_cluster_size=None, contested="noise", linkage=None, min_samples=None, seed=None,
                 iterations=None, flow=None, teleport=None, temperature=None, cut=None,
                 window=None, trials=None, threads=None, progress=None):
        self.algo = algo
        self.threshold = threshold
        self.eps = eps
        self.calib_frac = calib_frac
        self.calib_z = calib_z
        self.core_quality = core_quality
        self.noise_quality = noise_quality
        self.trust_quality = trust_quality
        self.core_slope = core_slope
        self.k = k
        self.center = center
        self.index = index
        self.nprobe = nprobe
        self.ef_search = ef_search
        self.min_cluster_size = min_cluster_size
        self.contested = contested
        self.linkage = linkage
        self.min_samples = min_samples
        self.seed = seed
        self.iterations = iterations
        self.flow = flow
        self.teleport = teleport
        self.temperature = temperature
        self.cut = cut
        self.window = window
        self.trials = trials
        self.threads = threads
        self.progress = progress

    # ---- scikit-learn's estimator protocol ---------------------------------------

    @classmethod
    def _get_param_names(cls):
        sig = inspect.signature(cls.__init__)
        return sorted(p for p in sig.parameters if p != "self")

    def get_params(self, deep=True):
        """The constructor's parameters as a dict (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor parameters; unknown names raise ValueError."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError("invalid parameter %r for MagClust; valid: %s"
                                 % (name, ", ".join(valid)))
            setattr(self, name, value)
        return self

    def __repr__(self):
        defaults = inspect.signature(type(self).__init__).parameters
        changed = ["%s=%r" % (n, v) for n, v in self.get_params().items()
                   if defaults[n].default is not v and defaults[n].default != v]
        return "MagClust(%s)" % ", ".join(changed)

    # ---- parameters -----------------------------------------------------------------

    def _params(self):
        """The library's mc_cluster_params, as the CLI builds them from options."""
        if self.algo not in _ALGOS:
            raise ValueError("algo must be one of %s, got %r" % (", ".join(_ALGOS), self.algo))
        a = ctypes.c_int()
        check(lib.mc_algo_parse(cstr(self.algo), ctypes.byref(a)))
        p = lib.mc_cluster_params_default(a.value)
        p.center = 1 if self.center else 0
        if self.k is not None:
            p.knn.k = int(self.k)
            if p.knn.k < 1:
                raise ValueError("k must be at least 1, got %r" % self.k)
        if self.index is not None and self.index != "auto":
            p.knn.index = cstr(self.index)
        if self.nprobe is not None:
            p.knn.nprobe = int(self.nprobe)
        if self.ef_search is not None:
            p.knn.ef_search = int(self.ef_search)
        if self.threshold is not None and self.eps is not None:
            raise ValueError("give threshold or eps, not both")
        fixed = self.threshold is not None or self.eps is not None
        if fixed and (self.calib_frac is not None or self.calib_z is not None):
            raise ValueError("threshold/eps fixes the threshold, calib_frac/calib_z calibrate it: "
                             "give one")
        if self.eps is not None:
            if not 0.0 <= float(self.eps) <= 2.0:
                raise ValueError("eps must be in [0, 2], got %r" % self.eps)
            p.threshold.mode = _lib.MC_THRESHOLD_FIXED
            p.threshold.similarity = 1.0 - float(self.eps)  # as `--eps` does
        elif self.threshold is not None:
            p.threshold.mode = _lib.MC_THRESHOLD_FIXED
            p.threshold.similarity = float(self.threshold)
        if self.calib_frac is not None:
            p.threshold.frac = float(self.calib_frac)
            p.threshold.ungated_frac = math.nan  # the caller's, gate or none
        if self.calib_z is not None:
            p.threshold.z = float(self.calib_z)
        if self.core_quality is not None:
            p.core_quality = _gate(self.core_quality, "core_quality")
        if self.noise_quality is not None:
            p.noise_quality = _gate(self.noise_quality, "noise_quality")
        if self.trust_quality or self.core_quality is not None or self.noise_quality is not None:
            p.quality_use = _lib.MC_QUALITY_GATE
        if self.core_slope is not None:
            p.core_slope = float(self.core_slope)
        if self.min_cluster_size is not None:
            p.min_cluster_size = int(self.min_cluster_size)
        if self.contested not in ("noise", "keep"):
            raise ValueError(f"contested: {self.contested!r} is not 'noise' or 'keep'")
        p.contested = 1 if self.contested == "noise" else 0
        if self.linkage is not None:
            kind = ctypes.c_int()
            check(lib.mc_linkage_parse(cstr(self.linkage), ctypes.byref(kind)))
            p.linkage = kind.value
        if self.min_samples is not None:
            p.min_samples = int(self.min_samples)
        if self.seed is not None:
            p.seed = int(self.seed)
        if self.iterations is not None:
            p.iterations = int(self.iterations)
        if self.flow is not None:
            flows = {"undirected": 0, "directed": 1}
            if self.flow not in flows:
                raise ValueError("flow must be 'undirected' or 'directed', got %r" % self.flow)
            p.map.flow = flows[self.flow]
        if self.cut is not None:
            cuts = {"none": 0, "outlier": 1}
            if self.cut not in cuts:
                raise ValueError("cut must be 'none' or 'outlier', got %r" % self.cut)
            p.map.cut = cuts[self.cut]
        if self.teleport is not None:
            p.map.teleport = float(self.teleport)
        if self.temperature is not None:
            p.map.temperature = float(self.temperature)
        if self.window is not None:
            p.map.window = int(self.window)
        if self.trials is not None:
            p.map.trials = int(self.trials)
        p.n_threads = 0 if self.threads is None else int(self.threads)
        return p

    # ---- fitting ----------------------------------------------------------------------

    def fit(self, X, y=None, quality=None, photo=None, paths=None, corrections=None,
            previous=None, quality_name=None):
        """Cluster the faces of X.

        Parameters
        ----------
        X : array_like, shape (n_faces, n_dims)
            Raw embeddings (their norms are the default quality). A float32
            C-contiguous array is read in place, without a copy; anything
            else is converted to one once.
        y : ignored
            Present for scikit-learn's API.
        quality : array_like of float, shape (n_faces,), optional
            Another quality signal (a detector score, ...): the gates judge it
            instead of the magnitudes.
        photo : array_like, shape (n_faces,), optional
            The photo each face comes from (integers, negative = none, or
            strings, "" = none): faces of one photo never share a cluster.
        paths : sequence of str, optional
            One path per face; needed by ``corrections``, kept in the model.
        corrections : str or path-like, optional
            A corrections CSV (``--corrections``): names and same/different
            pairs, enforced.
        previous : str or path-like, optional
            A previous result (CSV or HDF5): its cluster ids carry over.
        quality_name : str, optional
            What ``quality`` is called (recorded in a saved model).

        Returns
        -------
        self : MagClust

        Raises
        ------
        ValueError
            Bad parameters or unusable data (NaN rows, zero rows, ...), with
            the library's message.
        MemoryError
            The library ran out of memory.
        OSError
            A corrections or previous file could not be read.
        KeyboardInterrupt
            Ctrl-C (SIGINT) during the fit: the library stopped at its next
            progress report; nothing is fitted.
        CancelledError
            The ``progress`` callable returned a true value.
        """
        params = self._params()
        t0 = time.perf_counter()
        emb = Embeddings(X, quality=quality, quality_name=quality_name, photo=photo, paths=paths)
        t_load = time.perf_counter() - t0
        params.corrections = cstr(corrections)
        params.previous = cstr(previous)
        result = ctypes.c_void_p()
        with Progress(self.progress) as prog:
            params.progress = prog.c_fn
            t0 = time.perf_counter()
            status = lib.mc_cluster_run(emb.handle, None, ctypes.byref(params),
                                        ctypes.byref(result))
            t_run = time.perf_counter() - t0
        run = _Run(emb, result)  # owns both from here on
        prog.done(status)
        self._set_results(run)
        self.calibration_["t_load"] = t_load
        self.calibration_["t_run"] = t_run
        return self

    def fit_predict(self, X, y=None, **fit_params):
        """``fit(X, **fit_params).labels_``."""
        return self.fit(X, y, **fit_params).labels_

    def _set_results(self, run):
        r, e = run.result, run.emb
        n = e.n
        cl = lib.mc_cluster_result_clustering(r)
        info = lib.mc_cluster_result_info(r).contents
        self._run = run
        self.labels_ = c_array(lib.mc_clustering_labels(cl), n, np.int64)
        self.roles_ = c_array(lib.mc_clustering_roles(cl), n, np.uint8)
        self.quality_ = c_array(lib.mc_embeddings_quality(e.handle), n, np.float32)
        self.similarities_ = c_array(lib.mc_clustering_similarities(cl), n, np.float32)
        self.margins_ = c_array(lib.mc_clustering_margins(cl), n, np.float32)
        self.n_clusters_ = int(lib.mc_clustering_n_clusters(cl))
        self.threshold_ = float(info.threshold)
        self.n_features_in_ = e.d
        center = lib.mc_cluster_result_center(r)
        self.center_ = c_array(center, e.d, np.float32) if center else None
        cal = info.calibration
        self.calibration_ = {
            "threshold": info.threshold,
            "threshold_mode": "fixed" if info.threshold_mode == _lib.MC_THRESHOLD_FIXED else "auto",
            "attach_threshold": info.attach_threshold,
            "frac": info.frac, "z": info.z, "frac_ungated": bool(info.frac_ungated),
            "random_mean": cal.mean, "random_sd": cal.sd, "random_median": cal.median,
            "random_mad": cal.mad, "nn_median": cal.nn_median, "n_nn": cal.n_nn,
            "n_faces": cal.n_faces, "n_pairs": cal.n_pairs, "quality_gate": cal.quality_gate,
            "doubts": [name for bit, name in _DOUBTS.items() if info.calibration_doubts & bit],
            "quality_name": text(lib.mc_embeddings_quality_name(e.handle)),
            "quality_checked": bool(info.quality_checked),
            "quality_rho": info.quality_check.rho if info.quality_checked else math.nan,
            "quality_informative": bool(info.quality_check.informative) if info.quality_checked else None,
            "gates_dropped": bool(info.gates_dropped),
            "core_quality": _gate_text(info.core_quality),
            "noise_quality": _gate_text(info.noise_quality),
            "core_q": info.core_q, "noise_q": info.noise_q,
            "centered": bool(info.centered), "center_shift": info.center_shift,
            "k": info.k, "index": info.knn.index.decode(), "exact": bool(info.knn.exact),
            "photo_pairs": info.photo_pairs, "small_clusters": info.small_clusters,
            "contested": info.contested,
            "t_prepare": info.t_prepare, "t_cluster": info.t_cluster,
        }

    # ---- the model ------------------------------------------------------------------

    def to_model(self, source=None):
        """A :class:`magclust.Model` of this clustering (``--save-model``).

        Parameters
        ----------
        source : str, optional
            The embeddings file recorded in the model.
        """
        from .model import Model
        run = self._fitted_run()
        mp = lib.mc_cluster_result_model_params(run.result, run.emb.handle, cstr(source))
        h = ctypes.c_void_p()
        check(lib.mc_model_build(run.emb.handle, lib.mc_cluster_result_clustering(run.result),
                                 ctypes.byref(mp), ctypes.byref(h)))
        return Model(h)

    def save_model(self, path, source=None):
        """Write the model of this clustering to ``path`` (HDF5; what
        ``magclust cluster --save-model`` writes, read by ``magclust assign``)."""
        self.to_model(source).save(path)

    def _fitted_run(self):
        run = getattr(self, "_run", None)
        if run is None:
            raise _lib.NotFittedError("this MagClust holds no clustering of the library (not fitted yet, "
                                     "or unpickled: the library's objects do not pickle): call fit()")
        return run

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_run", None)  # C handles do not pickle; the arrays do
        return state


class _Run:
    """The embeddings and the result of one fit; frees both."""

    def __init__(self, emb, result):
        self.emb, self.result = emb, result

    def __del__(self):
        if lib is not None and self.result:
            lib.mc_cluster_result_free(self.result)
            self.result = None
