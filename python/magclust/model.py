"""A saved clustering that places new faces (``magclust assign``)."""
import ctypes
import os

import numpy as np

from . import _lib
from ._faces import Embeddings, c_array
from ._lib import check, cstr, lib, text


class Model:
    """A clustering's model: every face with its cluster and role, the
    threshold, the gates and the centring, to place new faces later.

    Made by :meth:`MagClust.to_model`, or read with :meth:`Model.load` from
    a file that ``MagClust.save_model`` or ``magclust cluster --save-model``
    wrote. Its files are those ``magclust assign`` reads and writes.
    """

    def __init__(self, handle):
        self._h = handle

    @classmethod
    def load(cls, path):
        """Read a model file (HDF5, format "magclust-model").

        Raises
        ------
        OSError
            The file is missing, unreadable or not a model.
        ValueError
            The file's contents are inconsistent.
        """
        h = ctypes.c_void_p()
        check(lib.mc_model_read_h5(cstr(os.fspath(path)), ctypes.byref(h)))
        return cls(h)

    def save(self, path):
        """Write the model to a new HDF5 file at ``path``, atomically."""
        check(lib.mc_model_write_h5(self._h, cstr(os.fspath(path))))

    def __del__(self):
        if lib is not None and getattr(self, "_h", None):
            lib.mc_model_free(self._h)
            self._h = None

    # ---- what it holds ------------------------------------------------------------

    @property
    def dim(self):
        """Embedding dimension D."""
        return int(lib.mc_model_dim(self._h))

    @property
    def n_clusters(self):
        """Number of clusters (ids 0 .. n_clusters - 1)."""
        return int(lib.mc_model_n_clusters(self._h))

    @property
    def n_exemplars(self):
        """Number of reference faces (every face the model has seen)."""
        return int(lib.mc_model_n_exemplars(self._h))

    @property
    def threshold(self):
        """The similarity threshold."""
        return float(lib.mc_model_threshold(self._h))

    @property
    def core_q(self):
        """The core gate as a quality value (-inf: off)."""
        return float(lib.mc_model_core_q(self._h))

    @property
    def noise_q(self):
        """The noise gate as a quality value (-inf: off)."""
        return float(lib.mc_model_noise_q(self._h))

    @property
    def algorithm(self):
        """The algorithm recorded."""
        return text(lib.mc_model_algorithm(self._h))

    @property
    def quality_name(self):
        """"magnitude", or the name of the quality the gates judge."""
        return text(lib.mc_model_quality_name(self._h))

    @property
    def exemplar_labels(self):
        """Cluster of every reference face (int64, -1 none), a copy."""
        return c_array(lib.mc_model_exemplar_clusters(self._h), self.n_exemplars, np.int64)

    def __repr__(self):
        return "<magclust.Model %d-d, %d clusters, %d faces, threshold %.4f, quality %s>" % (
            self.dim, self.n_clusters, self.n_exemplars, self.threshold, self.quality_name)

    # ---- placing new faces -------------------------------------------------------------

    def _place(self, update, X, quality, photo, paths, corrections, threads):
        if quality is None and self.quality_name != "magnitude":
            raise ValueError("the model judges quality by %r: give quality= for the new faces"
                             % self.quality_name)
        if quality is not None and self.quality_name == "magnitude":
            raise ValueError("the model judges quality by the embedding magnitude; quality= "
                             "would compare other numbers with its gates")
        emb = Embeddings(X, quality=quality,
                         quality_name=None if quality is None else self.quality_name,
                         photo=photo, paths=paths)
        if emb.d != self.dim:
            raise ValueError("the faces are %d-d, the model is %d-d" % (emb.d, self.dim))
        ap = lib.mc_assign_params_default()
        ap.n_threads = 0 if threads is None else int(threads)
        cs = ctypes.c_void_p()
        try:
            if corrections is not None or photo is not None:
                info = _lib.CorrectionsInfo()
                check(lib.mc_model_constraints_new(self._h, emb.handle, cstr(corrections),
                                                   ctypes.byref(cs), ctypes.byref(info)))
                ap.constraints = cs
            out = ctypes.c_void_p()
            stats = _lib.AssignStats()
            fn = lib.mc_model_update if update else lib.mc_model_assign
            check(fn(self._h, emb.handle, ctypes.byref(ap), ctypes.byref(out), ctypes.byref(stats)))
            try:
                labels = c_array(lib.mc_clustering_labels(out), emb.n, np.int64)
                roles = c_array(lib.mc_clustering_roles(out), emb.n, np.uint8)
            finally:
                lib.mc_clustering_free(out)
        finally:
            lib.mc_constraints_free(cs)
        return labels, roles

    def predict(self, X, quality=None, photo=None, paths=None, corrections=None, threads=None):
        """Place new faces in the model's clusters without changing it
        (``magclust assign``), like hdbscan's ``approximate_predict``.

        Parameters
        ----------
        X : array_like, shape (n_faces, dim)
            The new faces' raw embeddings (float32 C-contiguous: no copy).
        quality : array_like, optional
            Their quality, when the model's is not the magnitude (required then).
        photo, paths, corrections :
            Constraints, as in :meth:`MagClust.fit`.
        threads : int, optional
            None or 0: all cores; the result does not depend on it.

        Returns
        -------
        labels : ndarray of int64
            The model's cluster ids; -1 for faces no cluster takes.
        roles : ndarray of uint8
            ``magclust.ROLES`` codes: core, border, noise or unassigned.
        """
        return self._place(False, X, quality, photo, paths, corrections, threads)

    def update(self, X, quality=None, photo=None, paths=None, corrections=None, threads=None):
        """Place new faces as :meth:`predict` does, then fold them into the
        model: the faces no cluster takes are clustered among themselves
        into new clusters (ids from ``n_clusters`` on) and every new face
        becomes a reference face (``magclust assign --update``).

        Returns
        -------
        labels, roles : ndarray
            As :meth:`predict`.
        """
        return self._place(True, X, quality, photo, paths, corrections, threads)


